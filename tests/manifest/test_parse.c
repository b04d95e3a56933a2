/*
 * test_parse.c — manifests parsed from memory: defaults, resolved paths,
 * scalar typing (YAML 1.2 core schema) and argument checks.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "engine/manifest.h"

static mf_product *product(const char *name, const char *text)
{
    mf_product *p = NULL;
    mg_error err = { 0 };
    mg_status s = mf_product_parse(name, text, strlen(text), &p, &err);
    cr_assert_eq(s, MG_OK, "%d:%d: %s", err.line, err.column, err.message);
    return p;
}

Test(parse, product_defaults)
{
    mf_product *p = product("product.yaml", "uri: dp://sales/orders\ndomain: sales\nowner: o@corp.example\n");
    cr_assert_str_eq(p->name, "orders");
    cr_assert_str_eq(p->lifecycle, "active");
    cr_assert_null(p->kind);
    cr_assert_not(p->legal_hold);
    cr_assert_eq(p->nports, 0);
    cr_assert_eq(p->nadopts, 0);
    cr_assert_eq(p->allowed_regions.n, 0);
    cr_assert_null(p->database);
    cr_assert_str_eq(p->dir, ".");
    cr_assert_str_eq(p->path, "product.yaml");
    cr_assert_str_eq(p->loc.file, "product.yaml");
    cr_assert_eq(p->loc.line, 1);
    cr_assert_eq(p->uri_loc.col, 6);
    mf_product_free(p);
}

Test(parse, paths_resolve_against_the_manifest_directory)
{
    mf_product *p = product("m/domains/s/o/product.yaml",
                            "uri: dp://s/o\ndomain: s\nowner: o@corp.example\n"
                            "database: data/o.db\n"
                            "policies: [policies/a.policy, /abs/b.policy]\n"
                            "tests: [tests/o.yaml]\n");
    cr_assert_str_eq(p->dir, "m/domains/s/o");
    cr_assert_str_eq(p->database, "m/domains/s/o/data/o.db");
    cr_assert_str_eq(p->policies.v[0], "m/domains/s/o/policies/a.policy");
    cr_assert_str_eq(p->policies.v[1], "/abs/b.policy");
    cr_assert_str_eq(p->tests.v[0], "m/domains/s/o/tests/o.yaml");
    mf_product_free(p);
    p = product("product.yaml", "uri: dp://s/o\ndomain: s\nowner: o\npolicies: [p.policy]\n");
    cr_assert_str_eq(p->policies.v[0], "p.policy");
    mf_product_free(p);
}

Test(parse, port_defaults_and_quoted_scalars)
{
    mf_product *p = product("product.yaml",
                            "uri: 'dp://s/o'\ndomain: \"s\"\nowner: o\n"
                            "attributes: { code: \"42\", flag: \"true\", n: -7, on: false }\n"
                            "output_ports:\n  - name: raw\n    schema: []\n");
    cr_assert_eq(p->nattrs, 4);
    cr_assert_eq(p->attrs[0].kind, SL_STRING);
    cr_assert_str_eq(p->attrs[0].str, "42");
    cr_assert_eq(p->attrs[1].kind, SL_STRING);
    cr_assert_eq(p->attrs[2].kind, SL_INT);
    cr_assert_eq(p->attrs[2].i, -7);
    cr_assert_eq(p->attrs[3].kind, SL_BOOL);
    cr_assert_not(p->attrs[3].b);
    const mf_port *pt = mf_product_port(p, "raw");
    cr_assert_str_eq(pt->visibility, "domain");
    cr_assert_str_eq(pt->subject_key, "");
    cr_assert_null(pt->table);
    cr_assert_not(pt->enc_at_rest);
    cr_assert_eq(pt->ncolumns, 0);
    cr_assert_eq(pt->loc.line, 6);
    cr_assert_eq(pt->loc.col, 5);
    mf_product_free(p);
}

Test(parse, mesh_defaults)
{
    const char *text = "mesh: m\n";
    mf_mesh *m;
    cr_assert_eq(mf_mesh_parse("mesh.yaml", text, strlen(text), &m, NULL), MG_OK);
    cr_assert_str_eq(m->name, "m");
    cr_assert_str_eq(m->dir, ".");
    cr_assert_str_eq(m->global_dir, "policies/global");
    cr_assert_null(m->audit_dir);
    cr_assert_eq(m->checkpoint_every, 1000);
    cr_assert_eq(m->checkpoint_ms, 1000);
    cr_assert_not(m->has_schema);
    cr_assert_eq(m->nschema, 0);
    cr_assert_eq(m->nglobals, 0);
    cr_assert_eq(m->nproducts, 0);
    mf_mesh_free(m);
}

Test(parse, mesh_catalogue_and_schema)
{
    const char *text =
        "mesh: m\n"
        "global_policies: gp\n"
        "policies:\n"
        "  - { id: a, version: 2 }\n"
        "  - { id: b, version: 1, lifecycle: grace, grace_until: \"2026-06-30T12:00:00+02:00\", file: sub/b.policy }\n"
        "schema:\n"
        "  context: { at: timestamp, ttl: duration, ids: set<int>, ok: bool }\n"
        "audit: { checkpoint_every: 50, checkpoint_ms: 250 }\n";
    mf_mesh *m;
    cr_assert_eq(mf_mesh_parse("x/mesh.yaml", text, strlen(text), &m, NULL), MG_OK);
    cr_assert_str_eq(m->global_dir, "x/gp");
    cr_assert_str_eq(m->globals[0].file, "x/gp/a.policy");
    cr_assert_eq(m->globals[0].lifecycle, MF_DRAFT);
    cr_assert_eq(m->globals[0].file_loc.line, 4);
    cr_assert_eq(m->globals[0].file_loc.col, 5);
    cr_assert_str_eq(m->globals[1].file, "x/gp/sub/b.policy");
    cr_assert_eq(m->globals[1].file_loc.col, 92);
    cr_assert_eq(m->globals[1].grace_until_us, INT64_C(1782813600) * 1000000);
    cr_assert(m->has_schema);
    cr_assert_eq(m->nschema, 4);
    cr_assert_str_eq(m->schema[0].path, "context.at");
    cr_assert_eq(m->schema[0].type.kind, SL_TIMESTAMP);
    cr_assert_eq(m->schema[1].type.kind, SL_DURATION);
    cr_assert_eq(m->schema[2].type.kind, SL_SET);
    cr_assert_eq(m->schema[2].type.elem, SL_INT);
    cr_assert_eq(m->schema[3].type.kind, SL_BOOL);
    cr_assert_eq(m->checkpoint_every, 50);
    cr_assert_eq(m->checkpoint_ms, 250);
    mf_mesh_free(m);
}

Test(parse, arguments)
{
    mg_error err = { 0 };
    mf_product *p = (mf_product *)1;
    cr_assert_eq(mf_product_parse(NULL, "", 0, &p, &err), MG_EINVAL);
    cr_assert_null(p);
    cr_assert_str_eq(err.message, "NULL argument");
    cr_assert_eq(mf_product_parse("p", "", 0, NULL, &err), MG_EINVAL);
    cr_assert_eq(mf_mesh_load(NULL, (mf_mesh **)&p, &err), MG_EINVAL);
    mg_error_clear(&err);
    mf_product_free(NULL);
    mf_mesh_free(NULL);
    cr_assert_null(mf_mesh_product(NULL, "dp://a/b"));
    cr_assert_null(mf_product_port(NULL, "x"));
    cr_assert_null(mf_mesh_global(NULL, "x"));
}
