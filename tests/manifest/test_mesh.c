/*
 * test_mesh.c — loading a mesh directory: the sample mesh with exact field
 * values, and the checks that need more than one file (dangling input
 * ports, missing policy files, products in the wrong place), unreadable and
 * oversized files.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine/manifest.h"

#define DATA "tests/manifest/data/"

static void expect_load_error(const char *dir, mg_status code, const char *msg, const char *file,
                              int line, int col)
{
    mg_error err = { 0 };
    mf_mesh *m = (mf_mesh *)1;
    mg_status s = mf_mesh_load(dir, &m, &err);
    cr_assert_null(m);
    cr_assert_eq(s, code, "status %d: %s", s, err.message ? err.message : "(none)");
    cr_assert_str_eq(err.message, msg);
    cr_assert_str_eq(err.file, file);
    cr_assert_eq(err.line, line, "line %d, expected %d", err.line, line);
    cr_assert_eq(err.column, col, "column %d, expected %d", err.column, col);
    mg_error_clear(&err);
}

Test(mesh, dangling_input_port_product)
{
    expect_load_error(DATA "dangling_product", MG_EMANIFEST,
                      "input port `upstream` reads from `dp://a/nope`, which is not a product of the mesh",
                      DATA "dangling_product/domains/a/x/product.yaml", 6, 11);
}

Test(mesh, dangling_input_port_port)
{
    expect_load_error(DATA "dangling_port", MG_EMANIFEST,
                      "input port `more` reads from `dp://a/x`, which has no output port `outt`",
                      DATA "dangling_port/domains/a/y/product.yaml", 8, 11);
}

Test(mesh, missing_local_policy_file)
{
    expect_load_error(DATA "missing_policy", MG_EMANIFEST,
                      "local policy file `" DATA "missing_policy/domains/a/x/policies/absent.policy` not found",
                      DATA "missing_policy/domains/a/x/product.yaml", 6, 5);
}

Test(mesh, missing_global_policy_file)
{
    expect_load_error(DATA "missing_global", MG_EMANIFEST,
                      "policy file `" DATA "missing_global/global/absent_v2.policy` of global policy `absent` not found",
                      DATA "missing_global/mesh.yaml", 7, 11);
}

Test(mesh, product_in_the_wrong_directory)
{
    expect_load_error(DATA "misplaced", MG_EMANIFEST,
                      "product `dp://a/x` must be in domains/a/x/, not in " DATA "misplaced/domains/a/y/",
                      DATA "misplaced/domains/a/y/product.yaml", 2, 6);
}

Test(mesh, adopting_a_policy_not_in_the_catalogue)
{
    expect_load_error(DATA "unknown_adopt", MG_EMANIFEST,
                      "adopted policy `maskin` is not in the mesh's catalogue (did you mean `masking`?)",
                      DATA "unknown_adopt/domains/a/x/product.yaml", 6, 5);
}

Test(mesh, adopting_an_unpublished_version)
{
    expect_load_error(DATA "newer_adopt", MG_EMANIFEST, "adopts version 3 of `masking`, but the latest is 2",
                      DATA "newer_adopt/domains/a/x/product.yaml", 5, 5);
}

Test(mesh, errors_inside_a_product_file_name_it)
{
    expect_load_error(DATA "bad_product", MG_EMANIFEST,
                      "invalid visibility `everyone`: expected public, domain or private",
                      DATA "bad_product/domains/a/x/product.yaml", 6, 17);
}

Test(mesh, unreadable_mesh_file)
{
    expect_load_error(DATA "no-such-mesh", MG_EIO,
                      "cannot read " DATA "no-such-mesh/mesh.yaml: No such file or directory",
                      DATA "no-such-mesh/mesh.yaml", 0, 0);
}

Test(mesh, unreadable_product_file)
{
    expect_load_error(DATA "product_is_dir", MG_EIO,
                      "cannot read " DATA "product_is_dir/domains/a/x/product.yaml: not a regular file",
                      DATA "product_is_dir/domains/a/x/product.yaml", 0, 0);
}

Test(mesh, file_too_large)
{
    char dir[] = "/tmp/mg-manifest-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/mesh.yaml", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("mesh: big\n", f);
    fclose(f);
    cr_assert_eq(truncate(path, MF_MAX_FILE + 1), 0);
    char msg[160];
    snprintf(msg, sizeof msg, "%s is 8388609 bytes; a manifest may be at most 8388608 bytes (8 MiB)", path);
    expect_load_error(dir, MG_ELIMIT, msg, path, 0, 0);
    cr_assert_eq(truncate(path, MF_MAX_FILE), 0);   /* at the limit: read, then rejected as YAML */
    mf_mesh *m;
    mg_error err = { 0 };
    cr_assert_eq(mf_mesh_load(dir, &m, &err), MG_EMANIFEST);
    cr_assert_str_eq(err.message, "invalid input: control characters are not allowed");
    mg_error_clear(&err);
    unlink(path);
    rmdir(dir);
}

Test(mesh, text_too_large)
{
    size_t n = MF_MAX_FILE + 1;
    char *text = malloc(n);
    cr_assert_not_null(text);
    memset(text, ' ', n);
    mf_product *p;
    mg_error err = { 0 };
    cr_assert_eq(mf_product_parse("big.yaml", text, n, &p, &err), MG_ELIMIT);
    cr_assert_str_eq(err.message, "big.yaml is 8388609 bytes; a manifest may be at most 8388608 bytes (8 MiB)");
    mg_error_clear(&err);
    free(text);
}

/* ---- the sample mesh ----------------------------------------------------- */

static mf_mesh *sample;

static void load_sample(void)
{
    mg_error err = { 0 };
    mg_status s = mf_mesh_load("samples/mesh", &sample, &err);
    cr_assert_eq(s, MG_OK, "%s:%d:%d: %s", err.file, err.line, err.column, err.message);
}

static void free_sample(void)
{
    mf_mesh_free(sample);
}

TestSuite(sample, .init = load_sample, .fini = free_sample);

Test(sample, mesh_fields)
{
    cr_assert_str_eq(sample->name, "acme");
    cr_assert_str_eq(sample->dir, "samples/mesh");
    cr_assert_str_eq(sample->path, "samples/mesh/mesh.yaml");
    cr_assert_str_eq(sample->global_dir, "samples/mesh/policies/global");
    cr_assert_str_eq(sample->audit_dir, "samples/mesh/audit");
    cr_assert_eq(sample->checkpoint_every, 1000);
    cr_assert_eq(sample->checkpoint_ms, 1000);
    cr_assert_eq(sample->actions.n, 1);
    cr_assert_str_eq(sample->actions.v[0], "export");
}

Test(sample, schema)
{
    cr_assert(sample->has_schema);
    cr_assert_eq(sample->nschema, 6);
    static const char *const paths[] = { "subject.id", "subject.roles", "subject.domain",
                                         "subject.clearance", "context.purpose", "context.region" };
    static const uint8_t kinds[] = { SL_STRING, SL_SET, SL_STRING, SL_INT, SL_STRING, SL_STRING };
    for (size_t i = 0; i < 6; i++) {
        cr_assert_str_eq(sample->schema[i].path, paths[i]);
        cr_assert_eq(sample->schema[i].type.kind, kinds[i], "%s", paths[i]);
    }
    cr_assert_eq(sample->schema[1].type.elem, SL_STRING);
    cr_assert_eq(sample->schema[3].loc.line, 30);
    cr_assert_eq(sample->schema[3].loc.col, 73);
}

Test(sample, global_catalogue)
{
    cr_assert_eq(sample->nglobals, 6);
    const mf_global *g = mf_mesh_global(sample, "pii_purpose_limitation");
    cr_assert_not_null(g);
    cr_assert_eq(g->version, 3);
    cr_assert_eq(g->lifecycle, MF_REQUIRED);
    cr_assert_eq(g->grace_until_us, 0);
    cr_assert_str_eq(g->file, "samples/mesh/policies/global/pii_purpose_limitation.policy");
    g = mf_mesh_global(sample, "records_retention");
    cr_assert_not_null(g);
    cr_assert_eq(g->lifecycle, MF_GRACE);
    cr_assert_eq(g->grace_until_us, INT64_C(1798675200) * 1000000);   /* 2026-12-31T00:00:00Z */
    cr_assert_str_eq(g->file, "samples/mesh/policies/global/records_retention.policy");
    cr_assert_str_eq(g->loc.file, "samples/mesh/mesh.yaml");
    cr_assert_eq(g->loc.line, 18);
    cr_assert_eq(g->loc.col, 5);
    cr_assert_eq(mf_mesh_global(sample, "right_to_be_forgotten")->lifecycle, MF_DRAFT);
    cr_assert_null(mf_mesh_global(sample, "nope"));
}

Test(sample, products_in_sorted_order)
{
    static const char *const uris[] = {
        "dp://crm/customer360", "dp://crm/customers", "dp://finance/reporting",
        "dp://marketing/attribution", "dp://payments/payments", "dp://sales/orders",
        "dp://sales/returns", "dp://web/clicks",
    };
    cr_assert_eq(sample->nproducts, 8);
    for (size_t i = 0; i < 8; i++)
        cr_assert_str_eq(sample->products[i].uri, uris[i]);
}

Test(sample, orders_product)
{
    const mf_product *p = mf_mesh_product(sample, "dp://sales/orders");
    cr_assert_not_null(p);
    cr_assert_str_eq(p->name, "orders");
    cr_assert_str_eq(p->domain, "sales");
    cr_assert_str_eq(p->owner, "orders-team@corp.example");
    cr_assert_str_eq(p->kind, "source-aligned");
    cr_assert_str_eq(p->lifecycle, "active");
    cr_assert_eq(p->allowed_regions.n, 2);
    cr_assert_str_eq(p->allowed_regions.v[1], "eu-central-1");
    cr_assert_not(p->legal_hold);
    cr_assert_null(p->database);
    cr_assert_str_eq(p->dir, "samples/mesh/domains/sales/orders");
    cr_assert_str_eq(p->path, "samples/mesh/domains/sales/orders/product.yaml");
    cr_assert_eq(p->nattrs, 2);
    cr_assert_str_eq(p->attrs[0].key, "cost_center");
    cr_assert_eq(p->attrs[0].kind, SL_STRING);
    cr_assert_str_eq(p->attrs[0].str, "CC-1042");
    cr_assert_str_eq(p->attrs[1].key, "tier");
    cr_assert_eq(p->attrs[1].kind, SL_INT);
    cr_assert_eq(p->attrs[1].i, 1);
    cr_assert_eq(p->nadopts, 5);
    cr_assert_str_eq(p->adopts[0].policy, "pii_purpose_limitation");
    cr_assert_eq(p->adopts[0].version, 3);
    cr_assert_eq(p->adopts[0].mode, 0);
    cr_assert_eq(p->adopts[1].mode, -1);
    cr_assert_eq(p->policies.n, 1);
    cr_assert_str_eq(p->policies.v[0], "samples/mesh/domains/sales/orders/policies/orders_access.policy");
    cr_assert_eq(p->policies.locs[0].line, 17);
    cr_assert_eq(p->policies.locs[0].col, 12);
    cr_assert_eq(p->tests.n, 1);
    cr_assert_str_eq(p->tests.v[0], "samples/mesh/domains/sales/orders/tests/orders_access.yaml");
    cr_assert_eq(p->tests.locs[0].line, 18);
    cr_assert_eq(p->tests.locs[0].col, 9);
}

Test(sample, orders_ports_and_columns)
{
    const mf_product *p = mf_mesh_product(sample, "dp://sales/orders");
    cr_assert_eq(p->nports, 2);
    const mf_port *pt = mf_product_port(p, "orders");
    cr_assert_eq(pt, &p->ports[0]);
    cr_assert_not(pt->is_input);
    cr_assert_str_eq(pt->visibility, "domain");
    cr_assert_eq(pt->tags.n, 2);
    cr_assert_str_eq(pt->tags.v[0], "financial");
    cr_assert_str_eq(pt->tags.v[1], "pii");
    cr_assert_str_eq(pt->subject_key, "customer_id");
    cr_assert(pt->enc_at_rest);
    cr_assert(pt->enc_in_transit);
    cr_assert_str_eq(pt->table, "orders");
    cr_assert_eq(pt->nslos, 2);
    cr_assert_str_eq(pt->slos[0].key, "freshness");
    cr_assert_str_eq(pt->slos[0].str, "1h");
    cr_assert_str_eq(pt->slos[1].str, "99.9");
    cr_assert_eq(pt->ncolumns, 7);
    const mf_column *email = &pt->columns[2];
    cr_assert_str_eq(email->name, "email");
    cr_assert_str_eq(email->type, "string");
    cr_assert_eq(email->tags.n, 2);
    cr_assert_str_eq(email->tags.v[1], "email");
    cr_assert(email->encrypted);
    cr_assert_not(pt->columns[0].encrypted);
    cr_assert_str_eq(email->loc.file, "samples/mesh/domains/sales/orders/product.yaml");
    cr_assert_eq(email->loc.line, 31);
    cr_assert_eq(email->loc.col, 9);
    const mf_port *daily = mf_product_port(p, "daily_sales");
    cr_assert_str_eq(daily->visibility, "public");
    cr_assert_str_eq(daily->subject_key, "");
    cr_assert_not(daily->enc_at_rest);
    cr_assert_null(mf_product_port(p, "nope"));
}

Test(sample, customer360_inputs)
{
    const mf_product *p = mf_mesh_product(sample, "dp://crm/customer360");
    cr_assert_not_null(p);
    cr_assert_str_eq(p->kind, "aggregate");
    cr_assert_eq(p->nports, 5);
    static const char *const from[][3] = {
        { "orders", "dp://sales/orders", "orders" },
        { "customers", "dp://crm/customers", "profiles" },
        { "payments", "dp://payments/payments", "payments" },
        { "clicks", "dp://web/clicks", "clicks" },
    };
    for (size_t i = 0; i < 4; i++) {
        const mf_port *pt = &p->ports[i];
        cr_assert(pt->is_input);
        cr_assert_str_eq(pt->name, from[i][0]);
        cr_assert_str_eq(pt->from_product, from[i][1]);
        cr_assert_str_eq(pt->from_port, from[i][2]);
        cr_assert_eq(pt->ncolumns, 0);
    }
    cr_assert_eq(p->ports[3].from_loc.line, 28);
    cr_assert_eq(p->ports[3].from_loc.col, 11);
    cr_assert_not(p->ports[4].is_input);
    cr_assert_str_eq(p->ports[4].name, "customer360");
}

Test(sample, other_products)
{
    const mf_product *pay = mf_mesh_product(sample, "dp://payments/payments");
    cr_assert(pay->legal_hold);
    cr_assert_eq(pay->attrs[2].kind, SL_BOOL);
    cr_assert(pay->attrs[2].b);
    const mf_product *fin = mf_mesh_product(sample, "dp://finance/reporting");
    cr_assert_str_eq(fin->kind, "consumer-aligned");
    cr_assert_eq(fin->attrs[2].kind, SL_SET);
    cr_assert_eq(fin->attrs[2].list.n, 2);
    cr_assert_str_eq(fin->attrs[2].list.v[1], "ecb");
    const mf_product *crm = mf_mesh_product(sample, "dp://crm/customers");
    cr_assert_eq(crm->adopts[5].mode, 1);
    const mf_product *clicks = mf_mesh_product(sample, "dp://web/clicks");
    cr_assert_eq(clicks->policies.n, 2);
    cr_assert_null(mf_mesh_product(sample, "dp://web/nope"));
}

Test(mesh, duplicate_product)
{
    expect_load_error(DATA "duplicate", MG_EMANIFEST,
                      "product `dp://a/x` is declared twice (also in " DATA "duplicate/domains/a/x/product.yaml)",
                      DATA "duplicate/domains/a/y/product.yaml", 2, 6);
}

Test(mesh, missing_policy_test_file)
{
    expect_load_error(DATA "missing_test", MG_EMANIFEST,
                      "policy test file `" DATA "missing_test/domains/a/x/tests/x.yaml` not found",
                      DATA "missing_test/domains/a/x/product.yaml", 4, 9);
}

Test(mesh, a_mesh_without_products)
{
    mf_mesh *m;
    mg_error err = { 0 };
    cr_assert_eq(mf_mesh_load(DATA "no_products/", &m, &err), MG_OK);
    cr_assert_str_eq(m->name, "empty");
    cr_assert_str_eq(m->path, DATA "no_products/mesh.yaml");
    cr_assert_str_eq(m->dir, DATA "no_products");
    cr_assert_eq(m->nproducts, 0);
    mf_mesh_free(m);
}
