/*
 * harness.c — see harness.h.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/engine/harness.h"
#include "stdlib/stdlib.h"

const char *const h_product_yaml =
    "uri: dp://sales/orders\n"
    "domain: sales\n"
    "owner: orders-team@corp.example\n"
    "lifecycle: active\n"
    "allowed_regions: [eu-west-1, eu-central-1]\n"
    "legal_hold: false\n"
    "attributes: { tier: 1, cost_center: \"CC-1042\", labels: [gold, audited] }\n"
    "output_ports:\n"
    "  - name: orders\n"
    "    visibility: domain\n"
    "    tags: [financial]\n"
    "    subject_key: customer_id\n"
    "    schema:\n"
    "      - { name: order_id, type: string }\n"
    "      - { name: customer_id, type: string, tags: [pii] }\n"
    "      - { name: email, type: string, tags: [pii, email] }\n"
    "      - { name: card, type: string, tags: [financial, pci] }\n"
    "      - { name: order_date, type: timestamp }\n"
    "  - name: stats\n"
    "    visibility: public\n"
    "    schema:\n"
    "      - { name: day, type: string }\n"
    "      - { name: total, type: int }\n"
    "  - name: raw\n"
    "    visibility: private\n"
    "    tags: [pii]\n";

char *h_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

mg_status h_compile(mg_engine *e, const char *policy, const char *product, const char *mesh,
                    mg_policy_set **out, mg_error *err)
{
    mg_source pol = { "test.policy", policy, strlen(policy) };
    const char *prod = product ? product : h_product_yaml;
    mg_source pr = { "product.yaml", prod, strlen(prod) };
    mg_source ms = { "mesh.yaml", mesh, mesh ? strlen(mesh) : 0 };
    mg_compile_input in = { &pol, 1, &pr, mesh ? &ms : NULL };
    return mg_compile(e, &in, out, err);
}

static const char *const effects[] = { "deny", "allow", "partial" };
static const char *const masks[] = { "", "year", "last4", "hash", "redact", "null" };

/* Summarizes from the JSON report, so the test also covers the report. */
static void summarize(const char *json, char *buf, size_t cap)
{
    json_error_t je;
    json_t *o = json_loads(json, 0, &je);
    cr_assert_not_null(o, "report is not JSON: %s", je.text);
    const char *effect = json_string_value(json_object_get(o, "effect"));
    json_t *dec = json_object_get(o, "deciding");
    const char *rule = json_is_object(dec) ? json_string_value(json_object_get(dec, "rule")) : "none";
    size_t n = (size_t)snprintf(buf, cap, "%s by %s", effect, rule);
    json_t *cols = json_object_get(o, "columns");
    size_t i;
    json_t *c;
    if (json_array_size(cols))
        n += (size_t)snprintf(buf + n, cap - n, " |");
    json_array_foreach(cols, i, c) {
        const char *mask = json_string_value(json_object_get(c, "mask"));
        n += (size_t)snprintf(buf + n, cap - n, " %s=%s%s%s", json_string_value(json_object_get(c, "column")),
                              json_string_value(json_object_get(c, "effect")), mask ? "/" : "", mask ? mask : "");
    }
    size_t nerr = json_array_size(json_object_get(o, "errors"));
    if (nerr)
        n += (size_t)snprintf(buf + n, cap - n, " | errors %zu", nerr);
    json_t *dry = json_object_get(o, "dry_run");
    if (dry) {
        n += (size_t)snprintf(buf + n, cap - n, " | dry %s", json_string_value(json_object_get(dry, "effect")));
        json_array_foreach(json_object_get(dry, "columns"), i, c) {
            const char *mask = json_string_value(json_object_get(c, "mask"));
            n += (size_t)snprintf(buf + n, cap - n, " %s=%s%s%s", json_string_value(json_object_get(c, "column")),
                                  json_string_value(json_object_get(c, "effect")), mask ? "/" : "",
                                  mask ? mask : "");
        }
    }
    json_decref(o);
    (void)effects;
    (void)masks;
}

const char *h_decide(mg_policy_set *set, const char *request, const char *now)
{
    static char buf[2048];
    int64_t now_us = H_NOW;
    const char *why;
    if (now)
        cr_assert(sl_parse_timestamp(now, strlen(now), &now_us, &why), "bad now: %s", now);
    mg_decision *d;
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);
    mg_error err = { 0 };
    mg_status s = mg_decide_json(set, request, strlen(request), now_us, d, &err);
    if (s != MG_OK) {
        snprintf(buf, sizeof buf, "error %d: %s", (int)s, err.message ? err.message : "");
    } else {
        char *json;
        cr_assert_eq(mg_decision_json(set, d, false, &json, NULL), MG_OK);
        summarize(json, buf, sizeof buf);
        mg_free(json);
    }
    mg_error_clear(&err);
    mg_decision_free(d);
    return buf;
}
