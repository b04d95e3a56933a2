/*
 * test_vm.c — decides from a compiled bundle with the front end NOT linked:
 * this suite is built from engine/ (minus the compiler and loader), stdlib/
 * and audit/ only, so the decisions below come from bytecode alone.
 * The bundle is made from tests/vm/data by build/tests/mkbundle; its path
 * comes in MG_TEST_BUNDLE.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "meshgov.h"

static char *read_bundle(size_t *len)
{
    const char *path = getenv("MG_TEST_BUNDLE");
    cr_assert_not_null(path, "MG_TEST_BUNDLE is not set (run through make test)");
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(*len);
    cr_assert_eq(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static mg_effect decide(mg_policy_set *set, mg_decision *d, const char *json)
{
    mg_error err = { 0 };
    mg_status s = mg_decide_json(set, json, strlen(json), 1780315200000000LL, d, &err);
    cr_assert_eq(s, MG_OK, "%s", err.message ? err.message : "");
    return mg_decision_effect(d);
}

Test(vm, decides_from_bytecode_alone)
{
    size_t len;
    char *buf = read_bundle(&len);
    mg_engine *e;
    mg_policy_set *set;
    mg_decision *d;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    mg_error err = { 0 };
    cr_assert_eq(mg_bundle_load(e, buf, len, NULL, &set, &err), MG_OK, "%s", err.message ? err.message : "");
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);

    cr_assert_eq(decide(set, d, "{\"subject\": {\"id\": \"ann\", \"domain\": \"sales\", \"roles\": [\"pii-reader\"]},"
                                " \"action\": \"read\", \"port\": \"orders\","
                                " \"context\": {\"purpose\": \"fraud\", \"region\": \"eu-west-1\"}}"), MG_ALLOW);
    mg_effect eff;
    mg_mask mask;
    mg_decision_column(d, 1, NULL, &eff, &mask);
    cr_assert(eff == MG_ALLOW && mask == MG_MASK_HASH);

    cr_assert_eq(decide(set, d, "{\"subject\": {\"id\": \"ann\", \"domain\": \"sales\", \"roles\": []},"
                                " \"action\": \"read\", \"port\": \"orders\","
                                " \"context\": {\"purpose\": \"fraud\", \"region\": \"eu-west-1\"}}"), MG_PARTIAL);
    mg_decision_column(d, 1, NULL, &eff, &mask);
    cr_assert_eq(eff, MG_DENY);

    cr_assert_eq(decide(set, d, "{\"subject\": {\"id\": \"ext-9@partner.com\", \"domain\": \"sales\", \"roles\": []},"
                                " \"action\": \"read\", \"port\": \"orders\", \"columns\": [\"order_id\", \"card\"],"
                                " \"context\": {\"region\": \"eu-west-1\"}}"), MG_PARTIAL);
    mg_decision_column(d, 1, NULL, &eff, NULL);
    cr_assert_eq(eff, MG_DENY);

    cr_assert_eq(decide(set, d, "{\"subject\": {\"id\": \"ann\", \"domain\": \"sales\"}, \"action\": \"read\","
                                " \"port\": \"orders\", \"context\": {\"region\": \"us-east-1\"}}"), MG_DENY);

    char *disasm;
    cr_assert_eq(mg_policy_set_disasm(set, &disasm, NULL), MG_OK);
    cr_assert_not_null(strstr(disasm, "MATCHES"));
    mg_free(disasm);
    mg_decision_free(d);
    mg_policy_set_release(set);
    mg_engine_free(e);
    free(buf);
}
