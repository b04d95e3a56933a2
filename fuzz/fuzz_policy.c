/*
 * fuzz_policy.c — libFuzzer target over the whole front end and compiler:
 * lexer, parser, type checker, compiler, index specialization. The input is
 * a policy file compiled against a fixed product; anything may fail, but
 * nothing may crash, leak or hang.
 */
#include <stdint.h>
#include <string.h>
#include "meshgov.h"

static const char product[] =
    "uri: dp://sales/orders\n"
    "domain: sales\n"
    "owner: o@corp.example\n"
    "allowed_regions: [eu-west-1]\n"
    "attributes: { tier: 1 }\n"
    "output_ports:\n"
    "  - name: orders\n"
    "    tags: [financial]\n"
    "    subject_key: customer_id\n"
    "    schema:\n"
    "      - { name: customer_id, type: string, tags: [pii] }\n"
    "      - { name: email, type: string, tags: [pii, email] }\n"
    "      - { name: card, type: string, tags: [financial] }\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mg_engine *e;
    if (!e && mg_engine_new(NULL, &e, NULL) != MG_OK)
        return 0;
    mg_source pol = { "fuzz.policy", (const char *)data, size };
    mg_source pr = { "product.yaml", product, sizeof product - 1 };
    mg_compile_input in = { &pol, 1, &pr, NULL };
    mg_policy_set *set = NULL;
    mg_error err = { 0 };
    mg_status s = mg_compile(e, &in, &set, &err);
    /* The fixed product must load: a compile that fails on it would make
     * every input look the same to the fuzzer. */
    if (s == MG_EMANIFEST)
        __builtin_trap();
    if (s == MG_OK) {
        static const char req[] = "{\"subject\": {\"id\": \"ext-1@partner.com\", \"roles\": [\"a\"], \"n\": 3},"
                                  " \"action\": \"read\", \"port\": \"orders\", \"context\": {\"region\": \"x\"}}";
        mg_decision *d;
        if (mg_decision_new(set, &d, NULL) == MG_OK) {
            mg_decide_json(set, req, sizeof req - 1, 1780315200000000LL, d, NULL);
            mg_decision_free(d);
        }
        mg_policy_set_release(set);
    }
    mg_error_clear(&err);
    return 0;
}
