/*
 * test_adoption.c — mg_adoption_report: every cell's status, mode and
 * check result on tests/engine/compliance/mesh, decision counts read from
 * a product's audit log (made here through the engine), its errors, and
 * the policy test fields: run, failed, coverage and each cell's status on
 * the sample meshes and on a copy of samples/mesh with a failing test, an
 * uncovered policy and a malformed test file.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "meshgov.h"

#define MESH "tests/engine/compliance/mesh"
#define BEFORE 1793491200000000LL    /* 2026-11-01T00:00:00Z */
#define DEADLINE 1798675200000000LL  /* 2026-12-31T00:00:00Z */

static mg_adoption *report(const char *mesh, const char *const *uris, size_t n, int64_t now, const char *logs)
{
    mg_engine *e = NULL;
    mg_adoption *a = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    mg_status s = mg_adoption_report(e, mesh, uris, n, now, logs, &a, &err);
    cr_assert_eq(s, MG_OK, "%s", err.message ? err.message : "");
    mg_engine_free(e);
    return a;
}

/* One product's cells as "id:adopted/latest:mode:status:checks" joined by
 * spaces (mode "-" when not adopted). */
static const char *cells(const mg_adoption_product *p)
{
    static char buf[1024];
    size_t n = 0;
    for (size_t i = 0; i < p->ncells; i++) {
        const mg_adoption_cell *c = &p->cells[i];
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s:%lld/%lld:%s:%s:%s", i ? " " : "", c->policy,
                              (long long)c->adopted_version, (long long)c->latest_version, c->mode ? c->mode : "-",
                              mg_adoption_status_str(c->status), mg_check_result_str(c->checks));
    }
    return buf;
}

Test(adoption, every_status_before_the_grace_deadline)
{
    mg_adoption *a = report(MESH, NULL, 0, BEFORE, NULL);
    cr_assert_str_eq(a->mesh, "test");
    cr_assert_eq(a->npolicies, 4);
    cr_assert_eq(a->nproducts, 4);
    cr_expect_str_eq(a->products[0].uri, "dp://shop/bad");
    cr_expect_str_eq(cells(&a->products[0]), "enc:1/2:dry_run:outdated:fail ret:0/2:-:missing-in-grace:warn "
                                             "fgt:1/1:enforce:adopted:fail req:0/1:-:missing:fail");
    cr_expect_eq(a->products[0].errors, 7);
    cr_expect_eq(a->products[0].warnings, 1);
    cr_expect_eq(a->products[0].nfindings, 8);
    cr_expect_eq(a->products[0].checks, MG_CHECK_FAIL);
    cr_expect_str_eq(cells(&a->products[1]), "enc:2/2:enforce:adopted:pass ret:2/2:enforce:adopted:pass "
                                             "fgt:1/1:enforce:adopted:pass req:1/1:enforce:adopted:pass");
    cr_expect_eq(a->products[1].checks, MG_CHECK_PASS);
    cr_expect_str_eq(cells(&a->products[2]), "enc:2/2:enforce:adopted:pass ret:1/2:enforce:outdated:warn "
                                             "fgt:0/1:-:draft:pass req:1/1:enforce:adopted:pass");
    cr_expect_eq(a->products[2].checks, MG_CHECK_WARN);
    cr_expect_eq(a->products[3].checks, MG_CHECK_FAIL, "a retention error about no single policy");
    cr_expect_str_eq(cells(&a->products[3]), "enc:2/2:enforce:adopted:pass ret:2/2:enforce:adopted:pass "
                                             "fgt:0/1:-:draft:pass req:1/1:enforce:adopted:pass");
    cr_expect_eq(a->products[0].has_log, false);
    cr_expect_null(a->products[0].log, "the mesh declares no audit dir");
    mg_adoption_free(a);
}

Test(adoption, missing_grace_policy_is_missing_from_the_deadline)
{
    const char *const uris[] = { "dp://shop/bad" };
    mg_adoption *a = report(MESH, uris, 1, DEADLINE, NULL);
    cr_assert_eq(a->nproducts, 1);
    cr_expect_eq(a->products[0].cells[1].status, MG_MISSING);
    cr_expect_eq(a->products[0].cells[1].checks, MG_CHECK_FAIL);
    cr_expect_eq(a->products[0].cells[1].grace_until_us, DEADLINE);
    mg_adoption_free(a);
}

Test(adoption, unknown_product_and_bad_arguments)
{
    mg_engine *e = NULL;
    mg_adoption *a = (mg_adoption *)1;
    mg_error err = { 0 };
    const char *const uris[] = { "dp://shop/nope" };
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_expect_eq(mg_adoption_report(e, MESH, uris, 1, BEFORE, NULL, &a, &err), MG_ENOTFOUND);
    cr_expect_str_eq(err.message, "no product `dp://shop/nope` in mesh " MESH);
    cr_expect_null(a);
    cr_expect_eq(mg_adoption_report(e, NULL, NULL, 0, BEFORE, NULL, &a, &err), MG_EINVAL);
    cr_expect_eq(mg_adoption_report(e, "tests/engine/no-such-mesh", NULL, 0, BEFORE, NULL, &a, &err), MG_EIO);
    mg_error_clear(&err);
    mg_engine_free(e);
    mg_adoption_free(NULL);
}

/* A log with three decisions of dp://web/clicks in the sample mesh, one of
 * which its dry-run bot guard would deny. */
static void make_log(const char *dir)
{
    char db[256], ks[256], key[256], sub[256];
    snprintf(sub, sizeof sub, "%s/web", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    snprintf(db, sizeof db, "%s/web/clicks.db", dir);
    snprintf(ks, sizeof ks, "%s/keys.db", dir);
    snprintf(key, sizeof key, "%s/clicks.key", dir);
    char *vkey = NULL;
    cr_assert_eq(mg_audit_keygen("acme/web/clicks", key, &vkey, NULL), MG_OK);
    mg_free(vkey);
    mg_audit_config cfg = { .path = db, .keystore = ks, .origin = "acme/web/clicks", .signing_key = key };
    mg_audit_log *log = NULL;
    mg_engine *e = NULL;
    cr_assert_eq(mg_audit_open(&cfg, &log, NULL), MG_OK);
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(mg_engine_set_audit(e, log, MG_AUDIT_ALL), MG_OK);
    cr_assert_eq(mg_engine_load(e, "samples/mesh", "dp://web/clicks", NULL), MG_OK);
    static const char *const reqs[] = {
        "{\"subject\":{\"id\":\"w@corp.example\",\"roles\":[],\"domain\":\"web\"},\"action\":\"read\","
        "\"port\":\"clicks\",\"columns\":[\"url\"],\"context\":{\"purpose\":\"a\",\"region\":\"eu-west-1\"}}",
        "{\"subject\":{\"id\":\"bot-1\",\"roles\":[],\"domain\":\"web\"},\"action\":\"read\","
        "\"port\":\"clicks\",\"columns\":[\"url\"],\"context\":{\"purpose\":\"a\",\"region\":\"eu-west-1\"}}",
        "{\"subject\":{\"id\":\"s@corp.example\",\"roles\":[],\"domain\":\"sales\"},\"action\":\"read\","
        "\"port\":\"clicks\",\"columns\":[\"url\"],\"context\":{\"purpose\":\"a\",\"region\":\"eu-west-1\"}}",
    };
    mg_policy_set *set = mg_engine_acquire(e);
    mg_decision *d = NULL;
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(mg_decide_json(set, reqs[i], strlen(reqs[i]), 1780315200000000LL, d, NULL), MG_OK);
    mg_decision_free(d);
    mg_policy_set_release(set);
    cr_assert_eq(mg_audit_flush(log, NULL), MG_OK);
    mg_engine_free(e);
    mg_audit_close(log);
}

Test(adoption, decision_counts_from_the_products_log)
{
    char dir[] = "/tmp/mg-adoption-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    make_log(dir);
    const char *const uris[] = { "dp://web/clicks", "dp://sales/orders" };
    mg_adoption *a = report("samples/mesh", uris, 2, BEFORE, dir);
    cr_assert_eq(a->nproducts, 2);
    const mg_adoption_product *orders = &a->products[0], *clicks = &a->products[1];
    cr_expect_str_eq(clicks->uri, "dp://web/clicks");
    cr_expect(clicks->has_log);
    cr_expect_eq(clicks->decisions, 3);
    cr_expect_eq(clicks->allow, 2);
    cr_expect_eq(clicks->partial, 0);
    cr_expect_eq(clicks->deny, 1);
    cr_expect_eq(clicks->dry_run_changed, 1, "the bot would be denied");
    for (size_t i = 0; i < clicks->ncells; i++)
        cr_expect_eq(clicks->cells[i].dry_run_changed, 0, "a local policy changed it, not %s",
                     clicks->cells[i].policy);
    cr_expect_not(orders->has_log, "no log for dp://sales/orders");
    char want[300];
    snprintf(want, sizeof want, "%s/sales/orders.db", dir);
    cr_expect_str_eq(orders->log, want);
    mg_adoption_free(a);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* ==========================================================================
 * Policy tests
 * ========================================================================== */

/* One product's cells' test fields as "id:status:covered/total:failed"
 * joined by spaces. */
static const char *test_cells(const mg_adoption_product *p)
{
    static char buf[1024];
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < p->ncells; i++) {
        const mg_adoption_cell *c = &p->cells[i];
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s:%s:%zu/%zu:%zu", i ? " " : "", c->policy,
                              mg_test_status_str(c->tests), c->rules_covered, c->rules_total, c->tests_failed);
    }
    return buf;
}

static void expect_tests(const mg_adoption_product *p, mg_tests_run state, size_t run, size_t failed, size_t covered,
                         size_t total, int percent)
{
    cr_expect_eq(p->tests, state, "%s: tests %s", p->uri, mg_tests_run_str(p->tests));
    cr_expect_eq(p->tests_run, run, "%s: %zu run", p->uri, p->tests_run);
    cr_expect_eq(p->tests_failed, failed, "%s: %zu failed", p->uri, p->tests_failed);
    cr_expect_eq(p->rules_covered, covered, "%s: %zu covered", p->uri, p->rules_covered);
    cr_expect_eq(p->rules_total, total, "%s: %zu rules", p->uri, p->rules_total);
    cr_expect_eq(p->coverage_percent, percent, "%s: %d%%", p->uri, p->coverage_percent);
}

Test(adoption_tests, names)
{
    cr_expect_str_eq(mg_test_status_str(MG_TESTS_PASS), "pass");
    cr_expect_str_eq(mg_test_status_str(MG_TESTS_FAIL), "fail");
    cr_expect_str_eq(mg_test_status_str(MG_TESTS_UNCOVERED), "uncovered");
    cr_expect_str_eq(mg_test_status_str(MG_TESTS_NONE), "none");
    cr_expect_str_eq(mg_tests_run_str(MG_TESTS_RAN), "ran");
    cr_expect_str_eq(mg_tests_run_str(MG_TESTS_NO_TESTS), "no tests");
    cr_expect_str_eq(mg_tests_run_str(MG_TESTS_MALFORMED), "malformed");
    cr_expect_str_eq(mg_tests_run_str(MG_TESTS_NOT_RUN), "not run");
}

/* The figures policy-check prints for every product of the sample mesh
 * (41 tests, every access rule covered). */
Test(adoption_tests, sample_mesh_as_policy_check_counts)
{
    mg_adoption *a = report("samples/mesh", NULL, 0, BEFORE, NULL);
    cr_assert_eq(a->nproducts, 8);
    static const size_t run[] = { 5, 5, 5, 4, 5, 7, 5, 5 }, rules[] = { 5, 8, 4, 3, 7, 6, 4, 4 };
    for (size_t i = 0; i < 8; i++)
        expect_tests(&a->products[i], MG_TESTS_RAN, run[i], 0, rules[i], rules[i], 100);
    cr_expect_str_eq(a->products[1].uri, "dp://crm/customers");
    cr_expect_str_eq(test_cells(&a->products[1]),
                     "pii_purpose_limitation:pass:2/2:0 masking:pass:2/2:0 data_locality:pass:1/1:0 "
                     "records_retention:none:0/0:0 personal_data_encryption:none:0/0:0 "
                     "right_to_be_forgotten:none:0/0:0");
    cr_expect_null(a->products[1].tests_error);
    mg_adoption_free(a);
}

/* samples/broken: dp://web/clicks has a failing test, decided by its own
 * permit while its dry-run bot guard applied; data_locality was evaluated
 * but did not apply, so the failure bears on no global policy. Its
 * returns product does not compile: no test runs. */
Test(adoption_tests, failing_test_in_the_broken_sample)
{
    const char *const uris[] = { "dp://web/clicks", "dp://sales/returns" };
    mg_adoption *a = report("samples/broken", uris, 2, BEFORE, NULL);
    cr_assert_eq(a->nproducts, 2);
    const mg_adoption_product *returns = &a->products[0], *clicks = &a->products[1];
    expect_tests(clicks, MG_TESTS_RAN, 5, 1, 4, 4, 100);
    cr_expect_str_eq(test_cells(clicks), "pii_purpose_limitation:pass:1/1:0 masking:none:0/0:0 "
                                         "data_locality:pass:1/1:0 records_retention:none:0/0:0 "
                                         "personal_data_encryption:none:0/0:0 right_to_be_forgotten:none:0/0:0");
    cr_expect_neq(returns->load_status, MG_OK);
    expect_tests(returns, MG_TESTS_NOT_RUN, 0, 0, 0, 0, 0);
    cr_expect_null(returns->tests_error);
    cr_expect_str_eq(test_cells(returns), "pii_purpose_limitation:none:0/0:0 masking:none:0/0:0 "
                                          "data_locality:none:0/0:0 records_retention:none:0/0:0 "
                                          "personal_data_encryption:none:0/0:0 right_to_be_forgotten:none:0/0:0");
    mg_adoption_free(a);
}

/* Products without test files: coverage counted, none covered. */
Test(adoption_tests, products_without_tests)
{
    const char *const uris[] = { "dp://shop/wishlists" };
    mg_adoption *a = report("tests/cli/data/broken-mesh", uris, 1, BEFORE, NULL);
    expect_tests(&a->products[0], MG_TESTS_NO_TESTS, 0, 0, 0, 1, 0);
    mg_adoption_free(a);
    a = report(MESH, NULL, 0, BEFORE, NULL);
    for (size_t i = 0; i < a->nproducts; i++) {
        expect_tests(&a->products[i], MG_TESTS_NO_TESTS, 0, 0, 0, 0, 100);
        for (size_t k = 0; k < a->products[i].ncells; k++)
            cr_expect_eq(a->products[i].cells[k].tests, MG_TESTS_NONE);
    }
    mg_adoption_free(a);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    cr_assert_eq(fputs(text, f) >= 0, true);
    cr_assert_eq(fclose(f), 0);
}

/* A copy of the sample mesh where dp://web/clicks has two tests: one
 * passes without touching personal data, the other expects allow where
 * data_locality's forbid applies; and dp://sales/orders' test file has a
 * misspelt key. */
static void make_mesh(const char *dir)
{
    char cmd[512], path[512];
    snprintf(cmd, sizeof cmd, "cp -r samples/mesh %s/m", dir);
    cr_assert_eq(system(cmd), 0);
    snprintf(path, sizeof path, "%s/m/domains/web/clicks/tests/clicks_access.yaml", dir);
    write_file(path, "now: 2026-06-01T12:00:00Z\n"
                     "tests:\n"
                     "  - name: marketing reads clicks from the US office\n"
                     "    request:\n"
                     "      subject: { id: max@corp.example, roles: [analyst], domain: marketing }\n"
                     "      action: read\n"
                     "      port: clicks\n"
                     "      columns: [click_id, url, referrer]\n"
                     "      context: { purpose: campaign-planning, region: us-east-1 }\n"
                     "    expect:\n"
                     "      effect: allow\n"
                     "  - name: clicks from Asia (wrongly expected)\n"
                     "    request:\n"
                     "      subject: { id: max@corp.example, roles: [analyst], domain: marketing }\n"
                     "      action: read\n"
                     "      port: clicks\n"
                     "      columns: [click_id]\n"
                     "      context: { purpose: campaign-planning, region: ap-south-1 }\n"
                     "    expect:\n"
                     "      effect: allow\n");
    snprintf(path, sizeof path, "%s/m/domains/sales/orders/tests/orders_access.yaml", dir);
    write_file(path, "now: 2026-06-01T12:00:00Z\n"
                     "tests:\n"
                     "  - name: one\n"
                     "    request: { action: read, port: orders }\n"
                     "    expects: { effect: deny }\n");
}

Test(adoption_tests, failed_uncovered_and_malformed)
{
    char dir[] = "/tmp/mg-adoption-XXXXXX", mesh[64];
    cr_assert_not_null(mkdtemp(dir));
    make_mesh(dir);
    snprintf(mesh, sizeof mesh, "%s/m", dir);
    const char *const uris[] = { "dp://web/clicks", "dp://sales/orders", "dp://crm/customers" };
    mg_adoption *a = report(mesh, uris, 3, BEFORE, NULL);
    cr_assert_eq(a->nproducts, 3);
    const mg_adoption_product *customers = &a->products[0], *orders = &a->products[1], *clicks = &a->products[2];

    expect_tests(clicks, MG_TESTS_RAN, 2, 1, 3, 4, 75);
    cr_expect_str_eq(test_cells(clicks), "pii_purpose_limitation:uncovered:0/1:0 masking:none:0/0:0 "
                                         "data_locality:fail:1/1:1 records_retention:none:0/0:0 "
                                         "personal_data_encryption:none:0/0:0 right_to_be_forgotten:none:0/0:0");
    cr_expect_null(clicks->tests_error);

    expect_tests(orders, MG_TESTS_MALFORMED, 0, 0, 0, 0, 0);
    cr_expect_str_eq(test_cells(orders), "pii_purpose_limitation:none:0/0:0 masking:none:0/0:0 "
                                         "data_locality:none:0/0:0 records_retention:none:0/0:0 "
                                         "personal_data_encryption:none:0/0:0 right_to_be_forgotten:none:0/0:0");
    cr_assert_not_null(orders->tests_error);
    char want[256];
    snprintf(want, sizeof want,
             "%s/domains/sales/orders/tests/orders_access.yaml:5:5: error: unknown key `expects` in a test; "
             "expected one of `name`, `now`, `request`, `expect`\n",
             mesh);
    cr_expect_eq(strncmp(orders->tests_error, want, strlen(want)), 0, "%s", orders->tests_error);
    cr_expect_eq(orders->load_status, MG_OK, "the policies compile");
    cr_expect_eq(orders->checks, MG_CHECK_PASS, "the checks ran");

    expect_tests(customers, MG_TESTS_RAN, 5, 0, 8, 8, 100);
    mg_adoption_free(a);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
