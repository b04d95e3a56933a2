/*
 * test_ptest.c — policy tests through the API (mg_test_product): each
 * test's outcome and differences, exactly; rule coverage; stopping early;
 * malformed test files located; misuse. The meshes are the ones the CLI
 * goldens use (tests/cli/data/ptest-mesh) and the sample mesh.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "meshgov.h"

#define MESH "tests/cli/data/ptest-mesh"
#define DIR MESH "/domains/shop/"

#define MAX_SEEN 16

typedef struct seen {
    char test[MAX_SEEN][1024];
    size_t ntests;
    char rule[MAX_SEEN][256];
    size_t nrules;
    size_t stop_after;      /* tests; 0: never stop */
    bool decision_has_trace[MAX_SEEN];
} seen;

/* "name (file:line:col): passed" or "...: failed: a | b". */
static int on_test(void *ud, const mg_test_result *r)
{
    seen *s = ud;
    cr_assert_lt(s->ntests, MAX_SEEN);
    char fail[700] = "";
    for (size_t i = 0; r->failure && r->failure[i] && i < sizeof fail - 1; i++)
        fail[i] = r->failure[i] == '\n' ? '|' : r->failure[i];
    cr_assert_eq(r->passed, r->failure == NULL);
    s->decision_has_trace[s->ntests] = r->decision && strstr(r->decision, "\"trace\"");
    snprintf(s->test[s->ntests++], sizeof s->test[0], "%s (%s:%d:%d): %s%s%s [%s]", r->name, r->file, r->line,
             r->column, r->passed ? "passed" : "failed", r->passed ? "" : ": ", fail, r->product);
    return s->stop_after && s->ntests >= s->stop_after;
}

/* "rule kind file:line:col covered|uncovered" */
static int on_rule(void *ud, const mg_rule_coverage *c)
{
    seen *s = ud;
    cr_assert_lt(s->nrules, MAX_SEEN);
    snprintf(s->rule[s->nrules++], sizeof s->rule[0], "%s %s %s:%d:%d %s", c->rule, c->kind, c->file, c->line,
             c->column, c->covered ? "covered" : "uncovered");
    return 0;
}

static mg_status run_tests(const char *mesh, const char *uri, seen *s, mg_error *err)
{
    mg_engine *e = NULL;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    mg_error lerr = { 0 };
    cr_assert_eq(mg_engine_load(e, mesh, uri, &lerr), MG_OK, "load %s: %s", uri, lerr.message ? lerr.message : "");
    mg_test_hooks hooks = { on_test, on_rule, s };
    mg_status st = mg_test_product(e, mesh, uri, &hooks, err);
    mg_engine_free(e);
    return st;
}

static void expect(char (*got)[1024], size_t n, const char *const *want, size_t nwant)
{
    for (size_t i = 0; i < n && i < nwant; i++)
        cr_expect_str_eq(got[i], want[i], "entry %zu", i);
    cr_assert_eq(n, nwant);
}

Test(ptest, outcomes_and_differences)
{
    static const char *const want[] = {
        "a shopper reads items, the email redacted (" DIR "carts/tests/carts.yaml:3:5): passed [dp://shop/carts]",
        "a shopper reads the token (" DIR "carts/tests/carts.yaml:14:5): failed: effect: expected allow, got "
        "partial|column token: expected allow, got deny (carts_access@1#3)|column token rule: expected "
        "carts_access@1#1, got carts_access@1#3|column price: not in the decision (not requested, or not a column "
        "of the port) [dp://shop/carts]",
        "a clerk writes to a port that does not exist (" DIR "carts/tests/carts.yaml:27:5): failed: the request "
        "was not decided: request: unknown port `basket` [dp://shop/carts]",
        "a clerk writes items (" DIR "carts/tests/carts.yaml:34:5): failed: dry-run effect: expected deny, got "
        "allow|deciding rule: expected none (default deny), got carts_access@1#2 [dp://shop/carts]",
    };
    seen s = { 0 };
    cr_assert_eq(run_tests(MESH, "dp://shop/carts", &s, NULL), MG_OK);
    expect(s.test, s.ntests, want, 4);
    cr_assert(s.decision_has_trace[0]);
    cr_assert(s.decision_has_trace[1]);
    cr_assert_not(s.decision_has_trace[2]);     /* not decided: no decision */
}

Test(ptest, coverage_counts_rules_a_test_evaluated)
{
    static const char *const want[] = {
        "wishlists_access@1#1 permit " DIR "wishlists/policies/access.policy:4:3 covered",
        "wishlists_access@1#2 permit " DIR "wishlists/policies/access.policy:5:3 uncovered",
        "wishlists_access@1#3 forbid " DIR "wishlists/policies/access.policy:6:3 uncovered",
        "wishlists_access@1#4 mask " DIR "wishlists/policies/access.policy:7:3 covered",
    };
    seen s = { 0 };
    cr_assert_eq(run_tests(MESH, "dp://shop/wishlists", &s, NULL), MG_OK);
    cr_assert_eq(s.ntests, 1);
    for (size_t i = 0; i < s.nrules && i < 4; i++)
        cr_expect_str_eq(s.rule[i], want[i]);
    cr_assert_eq(s.nrules, 4);
}

Test(ptest, sample_mesh_covers_every_access_rule)
{
    static const char *const products[] = { "dp://crm/customer360", "dp://crm/customers", "dp://finance/reporting",
                                            "dp://marketing/attribution", "dp://payments/payments",
                                            "dp://sales/orders", "dp://sales/returns", "dp://web/clicks" };
    static const size_t ntests[] = { 5, 5, 5, 4, 5, 7, 5, 5 }, nrules[] = { 5, 8, 4, 3, 7, 6, 4, 4 };
    for (size_t p = 0; p < 8; p++) {
        seen s = { 0 };
        cr_assert_eq(run_tests("samples/mesh", products[p], &s, NULL), MG_OK);
        cr_assert_eq(s.ntests, ntests[p], "%s", products[p]);
        cr_assert_eq(s.nrules, nrules[p], "%s", products[p]);
        for (size_t i = 0; i < s.ntests; i++)
            cr_expect(strstr(s.test[i], "): passed [") != NULL, "%s", s.test[i]);
        for (size_t i = 0; i < s.nrules; i++)
            cr_expect(strstr(s.rule[i], " covered") != NULL, "%s", s.rule[i]);
    }
}

Test(ptest, a_callback_stops_the_run)
{
    seen s = { .stop_after = 2 };
    cr_assert_eq(run_tests(MESH, "dp://shop/carts", &s, NULL), MG_OK);
    cr_assert_eq(s.ntests, 2);
    cr_assert_eq(s.nrules, 0);      /* stopped before coverage */
}

/* Each malformed file: status, place and message; no test runs. */
static void expect_file_error(const char *product, int line, int col, const char *msg)
{
    char uri[128], file[256];
    snprintf(uri, sizeof uri, "dp://shop/%s", product);
    snprintf(file, sizeof file, DIR "%s/tests/%s.yaml", product, product);
    seen s = { 0 };
    mg_error err = { 0 };
    cr_assert_eq(run_tests(MESH, uri, &s, &err), MG_EMANIFEST, "%s", product);
    cr_assert_str_eq(err.file, file);
    cr_assert_eq(err.line, line, "%s: line %d", product, err.line);
    cr_assert_eq(err.column, col, "%s: column %d", product, err.column);
    cr_assert_str_eq(err.message, msg);
    cr_assert_not_null(err.detail);
    cr_assert_eq(s.ntests, 0, "%s: a test ran from a malformed file", product);
    mg_error_clear(&err);
}

Test(ptest, malformed_files_are_located)
{
    expect_file_error("bad-key", 8, 29,
                      "unknown key `rule` in `expect`; expected one of `effect`, `dry_run`, `deciding`, `columns`");
    expect_file_error("no-now", 2, 5, "test `no clock` has no `now`: pin the clock here or at the top of the file");
    expect_file_error("bad-effect", 8, 23, "expected `deny`, `allow` or `partial` for `effect`, found `maybe`");
    expect_file_error("dup-name", 6, 5, "a test named `a shopper reads` comes earlier in this file");
    expect_file_error("not-a-list", 2, 8, "expected a sequence of tests for `tests`");
    expect_file_error("bad-now", 7, 10,
                      "invalid `now`: timestamp has no time zone: add Z or an offset such as +01:00");
    expect_file_error("deny-mask", 8, 69, "a denied column has no mask");
    expect_file_error("bad-column-key", 8, 49,
                      "unknown key `efect` in a column's expectation; expected one of `effect`, `mask`, `rule`");
    expect_file_error("bad-yaml", 7, 12,
                      "YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line "
                      "6, column 11)");
}

Test(ptest, misuse)
{
    mg_engine *e = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(mg_test_product(NULL, MESH, "dp://shop/carts", NULL, NULL), MG_EINVAL);
    cr_assert_eq(mg_test_product(e, MESH, "dp://shop/carts", NULL, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "no policy set is loaded: load `dp://shop/carts` first");
    cr_assert_eq(mg_engine_load(e, MESH, "dp://shop/carts", NULL), MG_OK);
    cr_assert_eq(mg_test_product(e, MESH, "dp://shop/wishlists", NULL, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "the loaded policy set is not that of `dp://shop/wishlists`");
    /* No hooks: the tests still run. */
    cr_assert_eq(mg_test_product(e, MESH, "dp://shop/carts", NULL, &err), MG_OK);
    mg_error_clear(&err);
    mg_engine_free(e);
}
