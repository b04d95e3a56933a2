/*
 * test_errors.c — every class of manifest error, with its exact message and
 * its exact line:column, from product.yaml and mesh.yaml text in memory.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "engine/manifest.h"

/* Parses text as a product (or a mesh) and checks the error exactly. */
static void expect_error(bool mesh, const char *text, mg_status code, const char *msg,
                         int line, int col)
{
    mg_error err = { 0 };
    const char *name = mesh ? "acme/mesh.yaml" : "acme/product.yaml";
    mg_status s;
    if (mesh) {
        mf_mesh *m = (mf_mesh *)1;
        s = mf_mesh_parse(name, text, strlen(text), &m, &err);
        cr_assert_null(m);
    } else {
        mf_product *p = (mf_product *)1;
        s = mf_product_parse(name, text, strlen(text), &p, &err);
        cr_assert_null(p);
    }
    cr_assert_eq(s, code, "status %d, message: %s", s, err.message ? err.message : "(none)");
    cr_assert_eq(err.code, code);
    cr_assert_str_eq(err.message, msg);
    cr_assert_str_eq(err.file, name);
    cr_assert_eq(err.line, line, "line %d, expected %d (%s)", err.line, line, err.message);
    cr_assert_eq(err.column, col, "column %d, expected %d (%s)", err.column, col, err.message);
    mg_error_clear(&err);
}

#define PRODUCT_HEAD "uri: dp://sales/orders\ndomain: sales\nowner: orders-team@corp.example\n"

Test(errors, unknown_key_with_a_hint)
{
    expect_error(false, PRODUCT_HEAD
                 "output_ports:\n"
                 "  - name: orders\n"
                 "    visibilty: domain\n",
                 MG_EMANIFEST, "unknown key `visibilty` in port (did you mean `visibility`?)", 6, 5);
}

Test(errors, unknown_key_without_a_close_match_has_no_hint)
{
    expect_error(false, PRODUCT_HEAD "colour: blue\n",
                 MG_EMANIFEST, "unknown key `colour` in product", 4, 1);
}

Test(errors, unknown_key_in_a_flow_mapping)
{
    expect_error(false, PRODUCT_HEAD
                 "output_ports:\n"
                 "  - name: orders\n"
                 "    schema:\n"
                 "      - { name: email, typ: string }\n",
                 MG_EMANIFEST, "unknown key `typ` in column (did you mean `type`?)", 7, 24);
}

Test(errors, wrong_type_sequence_for_a_string)
{
    expect_error(false, "uri: dp://sales/orders\ndomain: sales\nowner: [a, b]\n",
                 MG_EMANIFEST, "expected a string for `owner`, found a sequence", 3, 8);
}

Test(errors, wrong_type_integer_for_a_string)
{
    expect_error(false, "uri: dp://sales/orders\ndomain: sales\nowner: 42\n",
                 MG_EMANIFEST, "expected a string for `owner`, found an integer", 3, 8);
}

Test(errors, wrong_type_in_a_list_entry)
{
    expect_error(false, PRODUCT_HEAD "allowed_regions: [eu-west-1, { a: 1 }]\n",
                 MG_EMANIFEST, "expected a string for each entry of `allowed_regions`, found a mapping", 4, 30);
}

Test(errors, wrong_type_boolean)
{
    expect_error(false, PRODUCT_HEAD "legal_hold: yes\n",
                 MG_EMANIFEST, "expected a boolean for `legal_hold`, found a string", 4, 13);
}

Test(errors, wrong_type_deeper_than_the_schema)
{
    expect_error(false, PRODUCT_HEAD
                 "output_ports:\n"
                 "  - name: orders\n"
                 "    tags: [[[[[pii]]]]]\n",
                 MG_EMANIFEST, "expected a string for each entry of `tags`, found a sequence", 6, 12);
}

Test(errors, wrong_type_for_the_whole_manifest)
{
    expect_error(false, "- a\n- b\n",
                 MG_EMANIFEST, "expected a mapping for `product`, found a sequence", 1, 1);
}

Test(errors, missing_required_field)
{
    expect_error(false, "# orders\ndomain: sales\nowner: orders-team@corp.example\n",
                 MG_EMANIFEST, "missing required field `uri` in product", 2, 1);
}

Test(errors, missing_required_field_of_a_column)
{
    expect_error(false, PRODUCT_HEAD
                 "output_ports:\n"
                 "  - name: orders\n"
                 "    schema:\n"
                 "      - { name: email }\n",
                 MG_EMANIFEST, "missing required field `type` in column", 7, 9);
}

Test(errors, duplicate_port_name)
{
    expect_error(false, PRODUCT_HEAD
                 "input_ports:\n"
                 "  - { name: orders, from: \"dp://crm/customers:profiles\" }\n"
                 "output_ports:\n"
                 "  - name: orders\n",
                 MG_EMANIFEST, "duplicate port name `orders`", 7, 11);
}

Test(errors, duplicate_column_name)
{
    expect_error(false, PRODUCT_HEAD
                 "output_ports:\n"
                 "  - name: orders\n"
                 "    schema:\n"
                 "      - { name: email, type: string }\n"
                 "      - { name: email, type: string }\n",
                 MG_EMANIFEST, "duplicate column name `email` in port `orders`", 8, 17);
}

Test(errors, duplicate_key)
{
    expect_error(false, PRODUCT_HEAD "owner: someone-else@corp.example\n",
                 MG_EMANIFEST, "duplicate key `owner` in product", 4, 1);
}

Test(errors, bad_uri)
{
    expect_error(false, "uri: dp:/sales/orders\ndomain: sales\nowner: o@corp.example\n",
                 MG_EMANIFEST, "invalid product URI `dp:/sales/orders`: expected dp://<domain>/<name>", 1, 6);
    expect_error(false, "uri: dp://sales/orders/extra\ndomain: sales\nowner: o@corp.example\n",
                 MG_EMANIFEST, "invalid product URI `dp://sales/orders/extra`: expected dp://<domain>/<name>", 1, 6);
}

Test(errors, bad_from)
{
    expect_error(false, PRODUCT_HEAD
                 "input_ports:\n"
                 "  - name: customers\n"
                 "    from: dp://crm/customers\n",
                 MG_EMANIFEST, "invalid `from` `dp://crm/customers`: expected dp://<domain>/<name>:<port>", 6, 11);
}

Test(errors, domain_mismatch)
{
    expect_error(false, "uri: dp://sales/orders\ndomain: crm\nowner: o@corp.example\n",
                 MG_EMANIFEST, "product URI `dp://sales/orders` is not in domain `crm` (expected dp://crm/orders)", 1, 6);
}

Test(errors, bad_visibility)
{
    expect_error(false, PRODUCT_HEAD
                 "output_ports:\n"
                 "  - name: orders\n"
                 "    visibility: secret\n",
                 MG_EMANIFEST, "invalid visibility `secret`: expected public, domain or private", 6, 17);
    expect_error(false, PRODUCT_HEAD
                 "output_ports:\n"
                 "  - name: orders\n"
                 "    visibility: pubic\n",
                 MG_EMANIFEST, "invalid visibility `pubic`: expected public, domain or private (did you mean `public`?)",
                 6, 17);
}

Test(errors, bad_lifecycle)
{
    expect_error(false, PRODUCT_HEAD "lifecycle: retried\n",
                 MG_EMANIFEST,
                 "invalid lifecycle `retried`: expected active, deprecated or retired (did you mean `retired`?)", 4, 12);
    expect_error(true, "mesh: acme\npolicies:\n  - { id: p, version: 1, lifecycle: mandatory }\n",
                 MG_EMANIFEST, "invalid lifecycle `mandatory`: expected draft, grace or required", 3, 37);
}

Test(errors, bad_column_type)
{
    expect_error(false, PRODUCT_HEAD
                 "output_ports:\n"
                 "  - name: orders\n"
                 "    schema:\n"
                 "      - { name: email, type: strng }\n",
                 MG_EMANIFEST,
                 "invalid type `strng`: expected string, int, float, decimal, bool, date, timestamp, duration, "
                 "bytes or json (did you mean `string`?)", 7, 30);
}

Test(errors, subject_key_must_be_a_column)
{
    expect_error(false, PRODUCT_HEAD
                 "output_ports:\n"
                 "  - name: orders\n"
                 "    subject_key: customer\n"
                 "    schema:\n"
                 "      - { name: customer_id, type: string }\n",
                 MG_EMANIFEST, "subject_key `customer` is not a column of port `orders`", 6, 18);
}

Test(errors, bad_names)
{
    expect_error(false, PRODUCT_HEAD
                 "output_ports:\n"
                 "  - name: orders\n"
                 "    schema:\n"
                 "      - { name: 1st, type: string }\n",
                 MG_EMANIFEST, "invalid column name `1st`: use letters, digits and `_`, not starting with a digit",
                 7, 17);
    expect_error(false, PRODUCT_HEAD "attributes: { cost-center: x }\n",
                 MG_EMANIFEST, "invalid attribute name `cost-center`: use letters, digits and `_`, not starting with a digit",
                 4, 15);
}

Test(errors, bad_attribute_value)
{
    expect_error(false, PRODUCT_HEAD "attributes: { ratio: 0.5 }\n",
                 MG_EMANIFEST, "expected a string, integer, boolean or sequence of strings for `ratio`, found a float",
                 4, 22);
}

Test(errors, adopts_entries)
{
    expect_error(false, PRODUCT_HEAD "adopts:\n  - { policy: masking, version: 0 }\n",
                 MG_EMANIFEST, "`version` must be at least 1, found 0", 5, 33);
    expect_error(false, PRODUCT_HEAD "adopts:\n  - { policy: masking, version: 1, mode: dryrun }\n",
                 MG_EMANIFEST, "invalid mode `dryrun`: expected enforce or dry_run (did you mean `dry_run`?)", 5, 42);
    expect_error(false, PRODUCT_HEAD
                 "adopts:\n  - { policy: masking, version: 1 }\n  - { policy: masking, version: 2 }\n",
                 MG_EMANIFEST, "policy `masking` is adopted twice", 6, 15);
}

Test(errors, bad_schema_type)
{
    expect_error(true, "mesh: acme\nschema:\n  subject: { id: strin, roles: set<string> }\n",
                 MG_EMANIFEST,
                 "unknown type `strin` for `subject.id`: expected string, int, bool, duration, timestamp, "
                 "set<string> or set<int> (did you mean `string`?)", 3, 18);
    expect_error(true, "mesh: acme\nschema:\n  context: { tags: set<float> }\n",
                 MG_EMANIFEST,
                 "unknown type `set<float>` for `context.tags`: expected string, int, bool, duration, timestamp, "
                 "set<string> or set<int>", 3, 20);
    expect_error(true, "mesh: acme\nschema:\n  context: { region: { code: string } }\n",
                 MG_EMANIFEST, "expected a type name for `context.region`, found a mapping", 3, 22);
}

Test(errors, bad_grace_date)
{
    expect_error(true, "mesh: acme\npolicies:\n"
                 "  - id: masking\n    version: 1\n    lifecycle: grace\n    grace_until: 2026-13-01\n",
                 MG_EMANIFEST, "invalid date `2026-13-01` for `grace_until`: month out of range (01-12)", 6, 18);
}

Test(errors, grace_until_goes_with_lifecycle_grace)
{
    expect_error(true, "mesh: acme\npolicies:\n  - { id: masking, version: 1, lifecycle: grace }\n",
                 MG_EMANIFEST, "lifecycle grace needs `grace_until`", 3, 43);
    expect_error(true, "mesh: acme\npolicies:\n"
                 "  - { id: masking, version: 1, lifecycle: required, grace_until: 2026-12-31 }\n",
                 MG_EMANIFEST, "`grace_until` is only allowed with lifecycle grace", 3, 66);
}

Test(errors, mesh_fields)
{
    expect_error(true, "global_policies: policies\n",
                 MG_EMANIFEST, "missing required field `mesh` in mesh", 1, 1);
    expect_error(true, "mesh: acme\nactions: [export, read]\n",
                 MG_EMANIFEST, "action `read` is built in; declare only extra actions", 2, 19);
    expect_error(true, "mesh: acme\nactions: [export, share, export]\n",
                 MG_EMANIFEST, "action `export` is declared twice", 2, 26);
    expect_error(true, "mesh: acme\naudit: { checkpoint_every: 0 }\n",
                 MG_EMANIFEST, "`checkpoint_every` must be at least 1, found 0", 2, 28);
    expect_error(true, "mesh: acme\npolicies:\n  - { id: masking, version: 1 }\n  - { id: masking, version: 2 }\n",
                 MG_EMANIFEST, "duplicate policy id `masking`", 4, 11);
    expect_error(true, "mesh: acme\naudit: { dir: audit, checkpoint_ms: 99999999999999999999 }\n",
                 MG_EMANIFEST, "integer `99999999999999999999` is out of range for `checkpoint_ms`", 2, 37);
}

Test(errors, alias_rejected)
{
    expect_error(false, PRODUCT_HEAD
                 "allowed_regions: &regions [eu-west-1]\n",
                 MG_EMANIFEST, "YAML anchors (`&regions`) are not allowed in a manifest", 4, 18);
    expect_error(false, PRODUCT_HEAD
                 "allowed_regions: *regions\n",
                 MG_EMANIFEST, "YAML aliases (`*regions`) are not allowed in a manifest", 4, 18);
}

Test(errors, alias_bomb_rejected_before_expansion)
{
    char text[4096] = "a: &a [x, x, x, x, x, x, x, x, x]\n";
    for (char c = 'b'; c <= 'z'; c++) {
        char line[128];
        snprintf(line, sizeof line, "%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n",
                 c, c, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
        strcat(text, line);
    }
    expect_error(false, text, MG_EMANIFEST, "YAML anchors (`&a`) are not allowed in a manifest", 1, 4);
}

Test(errors, tags_rejected)
{
    expect_error(false, PRODUCT_HEAD "legal_hold: !!bool true\n",
                 MG_EMANIFEST, "YAML tags (`tag:yaml.org,2002:bool`) are not allowed in a manifest", 4, 13);
}

Test(errors, yaml_syntax_error)
{
    expect_error(false, "uri: dp://sales/orders\ndomain: sales\n  owner: x\n",
                 MG_EMANIFEST, "YAML syntax error: mapping values are not allowed in this context", 3, 8);
    expect_error(false, PRODUCT_HEAD "allowed_regions: [eu-west-1\n",
                 MG_EMANIFEST,
                 "YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence at line 4, column 18)",
                 5, 1);
}

Test(errors, invalid_utf8)
{
    expect_error(false, PRODUCT_HEAD "kind: \xff\n",
                 MG_EMANIFEST, "invalid input: invalid leading UTF-8 octet", 4, 7);
}

Test(errors, one_document_only)
{
    expect_error(false, PRODUCT_HEAD "---\n" PRODUCT_HEAD,
                 MG_EMANIFEST, "a manifest is one YAML document; found a second one", 4, 1);
}

Test(errors, empty_manifest)
{
    expect_error(false, "# nothing here\n", MG_EMANIFEST, "the manifest is empty", 1, 1);
}

Test(errors, nesting_limit)
{
    char text[256];
    size_t k = (size_t)snprintf(text, sizeof text, "%s", "tags: ");
    for (int i = 0; i < MF_MAX_DEPTH + 1; i++)
        text[k++] = '[';
    text[k] = 0;
    expect_error(false, text, MG_ELIMIT, "YAML nested deeper than 64 levels", 1, 70);
}

Test(errors, detail_shows_the_line_and_a_caret)
{
    const char *text = PRODUCT_HEAD "output_ports:\n  - name: orders\n    visibilty: domain\n";
    mg_error err = { 0 };
    mf_product *p;
    cr_assert_eq(mf_product_parse("p.yaml", text, strlen(text), &p, &err), MG_EMANIFEST);
    cr_assert_str_eq(err.detail,
                     "p.yaml:6:5: error: unknown key `visibilty` in port (did you mean `visibility`?)\n"
                     "    visibilty: domain\n"
                     "    ^\n");
    mg_error_clear(&err);
}

Test(errors, no_error_record_is_fine)
{
    mf_product *p;
    cr_assert_eq(mf_product_parse("p.yaml", "uri: 1", 6, &p, NULL), MG_EMANIFEST);
    cr_assert_null(p);
}

Test(errors, duplicate_free_keys_report_the_first_repeat)
{
    expect_error(false, PRODUCT_HEAD "attributes: { b: 1, a: 1, c: 1, a: 2, b: 2 }\n",
                 MG_EMANIFEST, "duplicate key `a` in attributes", 4, 33);
    expect_error(true, "mesh: m\nschema:\n  subject: { id: string, roles: set<string>, id: int }\n",
                 MG_EMANIFEST, "duplicate key `id` in subject", 3, 46);
}

Test(errors, many_free_keys_are_fast)
{
    size_t n = 30000, cap = n * 16 + 256, k = 0;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    k += (size_t)snprintf(text, cap, "%s", PRODUCT_HEAD "attributes:\n");
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(text + k, cap - k, "  k%zu: %zu\n", i, i);
    k += (size_t)snprintf(text + k, cap - k, "  k7: 0\n");
    mf_product *p;
    mg_error err = { 0 };
    cr_assert_eq(mf_product_parse("p.yaml", text, k, &p, &err), MG_EMANIFEST);
    cr_assert_str_eq(err.message, "duplicate key `k7` in attributes");
    cr_assert_eq(err.line, 4 + (int)n + 1);
    mg_error_clear(&err);
    free(text);
}
