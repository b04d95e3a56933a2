/*
 * fuzz_request.c — libFuzzer target over request JSON: parsing, attribute
 * resolution against the schema-less slots, deciding and the JSON report.
 */
#include <stdint.h>
#include <string.h>
#include "meshgov.h"

static const char policy[] =
    "policy p {\n"
    "  permit read on port when subject.domain == product.domain or subject.roles has \"admin\"\n"
    "  forbid * on column when column.tags has \"pii\" unless context.purpose in [\"fraud\"]\n"
    "  forbid * on product when subject.id matches \"^ext-[0-9]+@partner\\\\.com$\"\n"
    "  mask column with hash when column.tags has \"email\" and subject.level > 2\n"
    "  permit write on port when now - context.since < 30d and len(subject.org.unit) > 2\n"
    "}\n";
static const char product[] =
    "uri: dp://sales/orders\n"
    "domain: sales\n"
    "owner: o@corp.example\n"
    "output_ports:\n"
    "  - name: orders\n"
    "    schema:\n"
    "      - { name: email, type: string, tags: [pii, email] }\n"
    "      - { name: id, type: string }\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mg_engine *e;
    static mg_policy_set *set;
    static mg_decision *d;
    if (!e) {
        mg_source pol = { "p.policy", policy, sizeof policy - 1 };
        mg_source pr = { "product.yaml", product, sizeof product - 1 };
        mg_compile_input in = { &pol, 1, &pr, NULL };
        if (mg_engine_new(NULL, &e, NULL) != MG_OK || mg_compile(e, &in, &set, NULL) != MG_OK ||
            mg_decision_new(set, &d, NULL) != MG_OK)
            return 0;
    }
    mg_error err = { 0 };
    if (mg_decide_json(set, (const char *)data, size, 1780315200000000LL, d, &err) == MG_OK) {
        char *out;
        if (mg_decision_json(set, d, true, &out, NULL) == MG_OK)
            mg_free(out);
    }
    mg_error_clear(&err);
    return 0;
}
