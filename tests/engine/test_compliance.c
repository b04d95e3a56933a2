/*
 * test_compliance.c — the static compliance checks (mg_check_product) on
 * the small mesh in tests/engine/compliance/mesh: each finding's severity,
 * check, message and place, exactly.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "meshgov.h"

#define MESH "tests/engine/compliance/mesh"
#define DIR MESH "/domains/shop/"

/* 2026-11-01T00:00:00Z and 2026-12-31T00:00:00Z (the grace deadline). */
#define BEFORE 1793491200000000LL
#define DEADLINE 1798675200000000LL

#define MAX_FINDINGS 16

typedef struct seen {
    char line[MAX_FINDINGS][512];
    size_t n;
    size_t stop_after;   /* 0: never stop */
} seen;

static const char *sev_name(mg_severity s)
{
    return s == MG_SEV_ERROR ? "error" : s == MG_SEV_WARNING ? "warning" : "note";
}

/* Each finding as "file:line:col: severity: message [check] (product)". */
static int collect(void *ud, const mg_finding *f)
{
    seen *s = ud;
    cr_assert_lt(s->n, MAX_FINDINGS);
    snprintf(s->line[s->n++], sizeof s->line[0], "%s:%d:%d: %s: %s [%s] (%s)", f->file, f->line, f->column,
             sev_name(f->severity), f->message, f->check, f->product);
    return s->stop_after && s->n >= s->stop_after;
}

/* Loads the product and checks it at `now`; returns the status. */
static mg_status check(const char *uri, int64_t now, seen *s, mg_error *err)
{
    mg_engine *e = NULL;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    mg_error lerr = { 0 };
    mg_status st = mg_engine_load(e, MESH, uri, &lerr);
    cr_assert_eq(st, MG_OK, "load %s: %s", uri, lerr.message ? lerr.message : "");
    st = mg_check_product(e, MESH, uri, now, collect, s, err);
    mg_engine_free(e);
    return st;
}

static void expect(const seen *s, const char *const *want, size_t n)
{
    for (size_t i = 0; i < s->n && i < n; i++)
        cr_expect_str_eq(s->line[i], want[i], "finding %zu", i);
    cr_assert_eq(s->n, n, "%zu findings, expected %zu", s->n, n);
}

Test(compliance, clean_product_has_no_findings)
{
    seen s = { 0 };
    cr_assert_eq(check("dp://shop/good", BEFORE, &s, NULL), MG_OK);
    expect(&s, NULL, 0);
}

Test(compliance, every_check_of_a_bad_product)
{
    static const char *const want[] = {
        DIR "bad/product.yaml:9:5: error: output port `events` must declare `encryption: { in_transit: true }`: "
            "a `require encryption in_transit` rule applies [encryption] (dp://shop/bad)",
        DIR "bad/product.yaml:13:9: error: column `events.email` must declare `encryption: true`: a `require "
            "encryption at_rest` rule applies [encryption] (dp://shop/bad)",
        DIR "bad/product.yaml:9:5: error: output port `events` holds personal data but no retention rule applies "
            "to it or to its column `email` [retention] (dp://shop/bad)",
        DIR "bad/product.yaml:9:5: error: output port `events` must declare a `subject_key`: forget rule fgt@1#1 "
            "covers it [forget] (dp://shop/bad)",
        DIR "bad/product.yaml:6:5: error: required policy `enc` is adopted at version 1; the latest is 2 "
            "[adoption] (dp://shop/bad)",
        DIR "bad/product.yaml:6:5: error: required policy `enc` is adopted in dry_run; it must be enforced "
            "[adoption] (dp://shop/bad)",
        DIR "bad/product.yaml:2:6: warning: policy `ret` is not adopted (latest version 2); its grace period ends "
            "on 2026-12-31 [adoption] (dp://shop/bad)",
        DIR "bad/product.yaml:2:6: error: required policy `req` is not adopted (latest version 1) [adoption] "
            "(dp://shop/bad)",
    };
    seen s = { 0 };
    cr_assert_eq(check("dp://shop/bad", BEFORE, &s, NULL), MG_OK);
    expect(&s, want, sizeof want / sizeof *want);
}

Test(compliance, missing_grace_policy_is_an_error_from_the_deadline)
{
    seen s = { 0 };
    cr_assert_eq(check("dp://shop/bad", DEADLINE, &s, NULL), MG_OK);
    cr_assert_eq(s.n, 8);
    cr_expect_str_eq(s.line[6], DIR "bad/product.yaml:2:6: error: policy `ret` is not adopted (latest version 2); "
                                    "its grace period ended on 2026-12-31 [adoption] (dp://shop/bad)");
}

Test(compliance, older_grace_version_warns_until_the_deadline)
{
    static const char *const before[] = {
        DIR "late/product.yaml:7:5: warning: policy `ret` is adopted at version 1; the latest is 2; its grace "
            "period ends on 2026-12-31 [adoption] (dp://shop/late)",
    };
    static const char *const after[] = {
        DIR "late/product.yaml:7:5: error: policy `ret` is adopted at version 1; the latest is 2; its grace "
            "period ended on 2026-12-31 [adoption] (dp://shop/late)",
    };
    seen s = { 0 };
    cr_assert_eq(check("dp://shop/late", DEADLINE - 1, &s, NULL), MG_OK);
    expect(&s, before, 1);
    seen t = { 0 };
    cr_assert_eq(check("dp://shop/late", DEADLINE, &t, NULL), MG_OK);
    expect(&t, after, 1);
}

Test(compliance, port_level_retention_covers_a_personal_port)
{
    static const char *const want[] = {
        DIR "tagged/product.yaml:17:5: error: output port `notes` holds personal data but no retention rule "
            "applies to it [retention] (dp://shop/tagged)",
    };
    seen s = { 0 };
    cr_assert_eq(check("dp://shop/tagged", BEFORE, &s, NULL), MG_OK);
    expect(&s, want, 1);
}

Test(compliance, callback_stops_the_checks)
{
    seen s = { .stop_after = 2 };
    cr_assert_eq(check("dp://shop/bad", BEFORE, &s, NULL), MG_OK);
    cr_assert_eq(s.n, 2);
    cr_expect(strstr(s.line[1], "column `events.email`") != NULL, "%s", s.line[1]);
}

Test(compliance, needs_the_products_own_set)
{
    mg_engine *e = NULL;
    mg_error err = { 0 };
    seen s = { 0 };
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(mg_check_product(e, MESH, "dp://shop/good", BEFORE, collect, &s, &err), MG_EINVAL);
    cr_expect_str_eq(err.message, "no policy set is loaded: load `dp://shop/good` first");
    cr_assert_eq(mg_engine_load(e, MESH, "dp://shop/good", NULL), MG_OK);
    cr_assert_eq(mg_check_product(e, MESH, "dp://shop/bad", BEFORE, collect, &s, &err), MG_EINVAL);
    cr_expect_str_eq(err.message, "the loaded policy set is not that of `dp://shop/bad`");
    cr_assert_eq(mg_check_product(e, MESH, "dp://shop/good", BEFORE, NULL, NULL, &err), MG_EINVAL);
    cr_expect_str_eq(err.message, "NULL argument");
    cr_assert_eq(s.n, 0);
    mg_error_clear(&err);
    mg_engine_free(e);
}

Test(compliance, unreadable_mesh_is_an_error)
{
    mg_engine *e = NULL;
    mg_error err = { 0 };
    seen s = { 0 };
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(mg_engine_load(e, MESH, "dp://shop/good", NULL), MG_OK);
    mg_status st = mg_check_product(e, "tests/engine/compliance/no-such-mesh", "dp://shop/good", BEFORE, collect,
                                    &s, &err);
    cr_expect_eq(st, MG_EIO, "status %d: %s", st, err.message ? err.message : "");
    cr_assert_eq(s.n, 0);
    mg_error_clear(&err);
    mg_engine_free(e);
}

Test(compliance, failing_condition_is_an_evaluation_error)
{
    static const char mesh[] = "tests/engine/compliance/eval-error";
    mg_engine *e = NULL;
    mg_error err = { 0 };
    seen s = { 0 };
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(mg_engine_load(e, mesh, "dp://shop/odd", NULL), MG_OK);
    cr_assert_eq(mg_check_product(e, mesh, "dp://shop/odd", BEFORE, collect, &s, &err), MG_EEVAL);
    cr_expect_str_eq(err.message, "rule odd@1#1: integer overflow");
    cr_expect_str_eq(err.file, "tests/engine/compliance/eval-error/domains/shop/odd/policies/odd.policy");
    cr_expect_eq(err.line, 9);
    cr_expect_eq(err.column, 43);
    cr_assert_eq(s.n, 0);
    mg_error_clear(&err);
    mg_engine_free(e);
}

/* An allocator that fails once `left` allocations have been made. */
typedef struct budget {
    long left;
} budget;

static void *budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    budget *b = ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (b->left <= 0)
        return NULL;
    b->left--;
    return realloc(ptr, nsize);
}

Test(compliance, out_of_memory_is_a_status)
{
    budget b = { 1L << 30 };
    mg_config cfg = { .alloc = budget_alloc, .alloc_ud = &b };
    mg_engine *e = NULL;
    cr_assert_eq(mg_engine_new(&cfg, &e, NULL), MG_OK);
    cr_assert_eq(mg_engine_load(e, MESH, "dp://shop/bad", NULL), MG_OK);
    size_t ooms = 0;
    mg_status st = MG_ENOMEM;
    for (long n = 0; st == MG_ENOMEM && n < 1000; n++) {
        seen s = { 0 };
        mg_error err = { 0 };
        b.left = n;
        st = mg_check_product(e, MESH, "dp://shop/bad", BEFORE, collect, &s, &err);
        ooms += st == MG_ENOMEM;
        if (st == MG_OK)
            cr_expect_eq(s.n, 8);
        else
            cr_expect_str_eq(err.message, "out of memory");
        mg_error_clear(&err);
    }
    cr_expect_eq(st, MG_OK);
    cr_expect_gt(ooms, 0);
    b.left = 1L << 30;
    mg_engine_free(e);
}
