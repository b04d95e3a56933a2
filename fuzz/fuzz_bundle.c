/*
 * fuzz_bundle.c — libFuzzer target over the bundle reader: every field and
 * the bytecode are checked, so a bundle that loads must decide safely.
 */
#include <stdint.h>
#include <string.h>
#include "meshgov.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mg_engine *e;
    if (!e && mg_engine_new(NULL, &e, NULL) != MG_OK)
        return 0;
    mg_policy_set *set = NULL;
    mg_error err = { 0 };
    if (mg_bundle_load(e, data, size, NULL, &set, &err) == MG_OK) {
        static const char req[] = "{\"subject\": {\"id\": \"ext-1@partner.com\", \"domain\": \"sales\", \"roles\": [\"a\"]},"
                                  " \"action\": \"read\", \"port\": \"orders\", \"context\": {\"region\": \"eu-west-1\"}}";
        mg_decision *d;
        if (mg_decision_new(set, &d, NULL) == MG_OK) {
            mg_decide_json(set, req, sizeof req - 1, 1780315200000000LL, d, NULL);
            char *out;
            if (mg_decision_json(set, d, true, &out, NULL) == MG_OK)
                mg_free(out);
            mg_decision_free(d);
        }
        char *dis;
        if (mg_policy_set_disasm(set, &dis, NULL) == MG_OK)
            mg_free(dis);
        mg_policy_set_release(set);
    }
    mg_error_clear(&err);
    return 0;
}
