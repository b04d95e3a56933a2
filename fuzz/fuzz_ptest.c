/*
 * fuzz_ptest.c — libFuzzer target over the policy test file reader: YAML
 * under the manifest rules, then every test checked and its request built.
 */
#include <stdint.h>
#include "engine/ptest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mg_error err = { 0 };
    pt_check_text("tests.yaml", (const char *)data, size, &err);
    mg_error_clear(&err);
    return 0;
}
