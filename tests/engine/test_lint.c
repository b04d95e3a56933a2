/*
 * test_lint.c — the lints mg_check_product reports after its compliance
 * checks, on the mesh in tests/engine/lint/mesh: each warning's check id,
 * message, policy and rule location, exactly, and rules that must not be
 * flagged.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "meshgov.h"

#define MESH "tests/engine/lint/mesh"
#define GUARD MESH "/policies/global/guard.policy"
#define STORE MESH "/domains/shop/store/policies/store.policy"
#define NOW 1780315200000000LL   /* 2026-06-01T12:00:00Z */
#define MAX_FINDINGS 16

typedef struct seen {
    char line[MAX_FINDINGS][512];
    size_t n;
} seen;

/* Each finding as "file:line:col: severity: message [check] policy". */
static int collect(void *ud, const mg_finding *f)
{
    seen *s = ud;
    cr_assert_lt(s->n, MAX_FINDINGS);
    snprintf(s->line[s->n++], sizeof s->line[0], "%s:%d:%d: %s: %s [%s] %s", f->file, f->line, f->column,
             f->severity == MG_SEV_WARNING ? "warning" : "not a warning", f->message, f->check,
             f->policy ? f->policy : "(none)");
    return 0;
}

static void check(const char *uri, seen *s)
{
    mg_engine *e = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(mg_engine_load(e, MESH, uri, &err), MG_OK, "%s", err.message ? err.message : "");
    cr_assert_eq(mg_check_product(e, MESH, uri, NOW, collect, s, &err), MG_OK, "%s",
                 err.message ? err.message : "");
    mg_error_clear(&err);
    mg_engine_free(e);
}

static void expect(const seen *s, const char *const *want, size_t n)
{
    for (size_t i = 0; i < s->n && i < n; i++)
        cr_expect_str_eq(s->line[i], want[i], "finding %zu", i);
    cr_assert_eq(s->n, n, "%zu findings, expected %zu", s->n, n);
}

Test(lint, every_lint_at_its_rule)
{
    static const char *const want[] = {
        GUARD ":9:3: warning: rule guard@1#3 can never apply: no column of the mesh is tagged `vault` "
              "[lint-never-applies] guard",
        STORE ":9:3: warning: permit store@1#2 is shadowed: the unconditional forbid guard@1#2 on port covers "
              "its target and actions [lint-shadowed-permit] store",
        STORE ":11:3: warning: local permit store@1#3 re-permits data tagged `restricted` that global forbid "
              "guard@1#1 forbids; the forbid wins [lint-local-repermit] store",
        STORE ":13:3: warning: rule store@1#4 can never apply: no port of the mesh is tagged `archive` "
              "[lint-never-applies] store",
    };
    seen s = { 0 };
    check("dp://shop/store", &s);
    expect(&s, want, sizeof want / sizeof *want);
}

/* A tag another product uses counts (guard@1#4 tests `ledger`, which only
 * dp://shop/clean carries); a product without local policies gets the
 * global lints only. */
Test(lint, tags_of_any_product_count)
{
    static const char *const want[] = {
        GUARD ":9:3: warning: rule guard@1#3 can never apply: no column of the mesh is tagged `vault` "
              "[lint-never-applies] guard",
    };
    seen s = { 0 };
    check("dp://shop/clean", &s);
    expect(&s, want, 1);
}

/* The sample mesh passes every compliance check; its one lint is the
 * masking rule for a `secret` tag that no column carries yet. */
Test(lint, the_sample_mesh_is_clean)
{
    mg_engine *e = NULL;
    seen s = { 0 };
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(mg_engine_load(e, "samples/mesh", "dp://sales/orders", NULL), MG_OK);
    cr_assert_eq(mg_check_product(e, "samples/mesh", "dp://sales/orders", NOW, collect, &s, NULL), MG_OK);
    mg_engine_free(e);
    cr_assert_eq(s.n, 0, "first: %s", s.n ? s.line[0] : "");
}
