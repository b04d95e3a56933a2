/*
 * test_audit.c — decisions and policy loads recorded in the audit log
 * through the engine, then verified and queried as an auditor would.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/engine/harness.h"

static char dir[] = "/tmp/mg-engine-audit-XXXXXX";
static char path_db[256], path_ks[256], path_key[256], path_pub[256];

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path_db, sizeof path_db, "%s/audit.db", dir);
    snprintf(path_ks, sizeof path_ks, "%s/keys.db", dir);
    snprintf(path_key, sizeof path_key, "%s/log.key", dir);
    snprintf(path_pub, sizeof path_pub, "%s/log.pub", dir);
    char *vkey;
    cr_assert_eq(mg_audit_keygen("acme/sales/orders", path_key, &vkey, NULL), MG_OK);
    FILE *f = fopen(path_pub, "w");
    fprintf(f, "%s\n", vkey);
    fclose(f);
    mg_free(vkey);
}

static void teardown(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(engine_audit, .init = setup, .fini = teardown);

typedef struct rows {
    int n;
    char last[4096];
} rows;

static int collect(void *ud, const char *json, size_t len)
{
    rows *r = ud;
    r->n++;
    snprintf(r->last, sizeof r->last, "%.*s", (int)len, json);
    return 0;
}

static const char *const policy =
    "policy p {\n"
    "  permit read on port\n"
    "  forbid read on column when column.tags has \"pci\"\n"
    "  mask column with hash when column.tags has \"email\"\n"
    "}\n";

static mg_audit_log *open_log(void)
{
    mg_audit_config cfg = { .path = path_db, .keystore = path_ks, .origin = "acme/sales/orders",
                            .signing_key = path_key };
    mg_audit_log *log;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK, "%s", err.message ? err.message : "");
    return log;
}

Test(engine_audit, every_decision_and_the_load_are_recorded_and_verify)
{
    mg_audit_log *log = open_log();
    mg_engine *e;
    mg_policy_set *set;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(mg_engine_set_audit(e, log, MG_AUDIT_ALL), MG_OK);
    cr_assert_eq(h_compile(e, policy, NULL, NULL, &set, NULL), MG_OK);
    mg_decision *d;
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);
    const char *req = "{\"subject\": {\"id\": \"ann@corp.example\"}, \"action\": \"read\", \"port\": \"orders\","
                      " \"columns\": [\"email\", \"card\"]}";
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(mg_decide_json(set, req, strlen(req), H_NOW, d, NULL), MG_OK);
        cr_assert_eq(mg_decision_audit_seq(d), i + 1);    /* 0 is the policy load */
    }
    cr_assert_eq(mg_audit_wait(log, 3, NULL), MG_OK);
    char *json;
    cr_assert_eq(mg_decision_json(set, d, false, &json, NULL), MG_OK);
    cr_assert_not_null(strstr(json, "\"audit_seq\": 3"), "%s", json);
    mg_free(json);

    rows r = { 0 };
    mg_audit_filter f = { .kind = "decision", .subject = "ann@corp.example" };
    cr_assert_eq(mg_audit_query(log, &f, collect, &r, NULL), MG_OK);
    cr_assert_eq(r.n, 3);
    cr_assert_null(strstr(r.last, "ann@corp.example"), "raw identity in the log: %s", r.last);
    json_t *o = json_loads(r.last, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(o, "effect")), "partial");
    cr_assert_str_eq(json_string_value(json_object_get(o, "rules")), "p@1#2");
    cr_assert_str_eq(json_string_value(json_object_get(o, "port")), "orders");
    cr_assert_str_eq(json_string_value(json_object_get(o, "digest")), mg_policy_set_digest(set));
    cr_assert_str_eq(json_string_value(json_object_get(o, "payload")),
                     "{\"columns\":{\"email\":\"allow/hash\",\"card\":\"deny\"},\"dry_run\":\"partial\",\"errors\":0}");
    json_decref(o);

    r.n = 0;
    mg_audit_filter lf = { .kind = "policy_load" };
    cr_assert_eq(mg_audit_query(log, &lf, collect, &r, NULL), MG_OK);
    cr_assert_eq(r.n, 1);
    cr_assert_not_null(strstr(r.last, "p@1"), "%s", r.last);

    mg_decision_free(d);
    mg_policy_set_release(set);
    mg_engine_free(e);
    mg_audit_close(log);

    mg_audit_verify_opts vo = { .db = path_db, .keys = path_pub };
    mg_audit_report rep;
    cr_assert_eq(mg_audit_verify(&vo, &rep, NULL), MG_OK);
    cr_assert_eq(rep.verdict, MG_AUDIT_OK, "%s", rep.message);
    cr_assert_eq(rep.size, 4);
}

Test(engine_audit, denies_only_mode_records_what_withholds)
{
    mg_audit_log *log = open_log();
    mg_engine *e;
    mg_policy_set *set;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(mg_engine_set_audit(e, log, MG_AUDIT_DENIES), MG_OK);
    cr_assert_eq(h_compile(e, policy, NULL, NULL, &set, NULL), MG_OK);
    mg_decision *d;
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);
    const char *allow = "{\"subject\": {\"id\": \"a\"}, \"action\": \"read\", \"port\": \"orders\", \"columns\": [\"email\"]}";
    const char *deny = "{\"subject\": {\"id\": \"a\"}, \"action\": \"write\", \"port\": \"orders\"}";
    cr_assert_eq(mg_decide_json(set, allow, strlen(allow), H_NOW, d, NULL), MG_OK);
    cr_assert_eq(mg_decision_audit_seq(d), -1);
    cr_assert_eq(mg_decide_json(set, deny, strlen(deny), H_NOW, d, NULL), MG_OK);
    cr_assert_eq(mg_decision_audit_seq(d), 1);
    cr_assert_eq(mg_audit_flush(log, NULL), MG_OK);
    cr_assert_eq(mg_audit_size(log), 2);
    mg_decision_free(d);
    mg_policy_set_release(set);
    mg_engine_free(e);
    mg_audit_close(log);
}

/* A decision the log refuses is no decision: every column is denied and no
 * rule is named as deciding it. */
Test(engine_audit, a_record_the_log_refuses_denies_and_names_no_rule)
{
    mg_audit_log *log = open_log();
    mg_engine *e;
    mg_policy_set *set;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(mg_engine_set_audit(e, log, MG_AUDIT_ALL), MG_OK);
    cr_assert_eq(h_compile(e, policy, NULL, NULL, &set, NULL), MG_OK);
    mg_decision *d;
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);
    char req[1024], id[MG_AUDIT_MAX_SUBJECT + 2];
    memset(id, 'x', sizeof id - 1);
    id[sizeof id - 1] = 0;                      /* one byte over the field's limit */
    snprintf(req, sizeof req, "{\"subject\": {\"id\": \"%s\"}, \"action\": \"read\", \"port\": \"orders\"}", id);
    mg_error err = { 0 };
    cr_assert_eq(mg_decide_json(set, req, strlen(req), H_NOW, d, &err), MG_ELIMIT);
    cr_assert_eq(mg_decision_effect(d), MG_DENY);
    cr_assert_eq(mg_decision_audit_seq(d), -1);
    char *json;
    cr_assert_eq(mg_decision_json(set, d, false, &json, NULL), MG_OK);
    json_t *o = json_loads(json, 0, NULL);
    cr_assert_str_eq(json_string_value(json_object_get(o, "effect")), "deny");
    cr_assert(json_is_null(json_object_get(o, "deciding")), "%s", json);
    json_decref(o);
    mg_free(json);
    mg_error_clear(&err);
    mg_decision_free(d);
    mg_policy_set_release(set);
    mg_engine_free(e);
    mg_audit_close(log);
}

/* Sources too long for a record are counted, and the record stays JSON. */
Test(engine_audit, a_load_from_long_source_names_records_valid_json)
{
    mg_audit_log *log = open_log();
    mg_engine *e;
    mg_policy_set *set;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(mg_engine_set_audit(e, log, MG_AUDIT_ALL), MG_OK);
    static char names[3][1500];
    mg_source srcs[3];
    for (int i = 0; i < 3; i++) {
        memset(names[i], 'a' + i, sizeof names[i] - 1);
        srcs[i] = (mg_source){ names[i], "policy p { permit read on port }\n", 33 };
    }
    srcs[1].text = "policy q { version 2 permit read on port }\n";
    srcs[1].len = strlen(srcs[1].text);
    srcs[2].text = "policy r { version 3 mode dry_run permit read on port }\n";
    srcs[2].len = strlen(srcs[2].text);
    mg_source pr = { "product.yaml", h_product_yaml, strlen(h_product_yaml) };
    mg_compile_input in = { srcs, 3, &pr, NULL };
    mg_error err = { 0 };
    cr_assert_eq(mg_compile(e, &in, &set, &err), MG_OK, "%s", err.detail ? err.detail : err.message);
    cr_assert_eq(mg_audit_flush(log, NULL), MG_OK);
    rows r = { 0 };
    mg_audit_filter lf = { .kind = "policy_load" };
    cr_assert_eq(mg_audit_query(log, &lf, collect, &r, NULL), MG_OK);
    cr_assert_eq(r.n, 1);
    json_t *o = json_loads(r.last, 0, NULL);
    cr_assert_not_null(o, "%s", r.last);
    cr_assert_str_eq(json_string_value(json_object_get(o, "payload")),
                     "{\"source_count\":3,\"policies\":[\"p@1\",\"q@2\",\"r@3 dry_run\"]}");
    json_decref(o);
    mg_policy_set_release(set);
    mg_engine_free(e);
    mg_audit_close(log);
}
