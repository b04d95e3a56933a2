/*
 * test_api.c — the public API around decisions: allocation failure at every
 * step of a compile, the step budget, handles, bundles and signatures,
 * reload under concurrent deciding, disassembly and explain.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "tests/engine/harness.h"

static const char *const policy_text =
    "policy pii_purpose_limitation {\n"
    "  version 3\n"
    "  scope global\n"
    "  forbid read, write on column\n"
    "    when column.tags has \"pii\"\n"
    "    unless subject.roles has \"pii-reader\"\n"
    "       and context.purpose in [\"fraud\", \"support\", \"legal\"]\n"
    "  mask column with hash\n"
    "    when column.tags has \"email\" and not (subject.roles has \"support\")\n"
    "}\n"
    "policy domain_access {\n"
    "  version 1\n"
    "  permit read on port when subject.domain == product.domain or port.visibility == \"public\"\n"
    "  forbid * on product when not (context.region in product.allowed_regions)\n"
    "  forbid * on column when subject.id matches \"^ext-[0-9]+@partner\\\\.com$\"\n"
    "                     and column.tags has \"financial\"\n"
    "}\n";

static const char *const request_text =
    "{\"subject\": {\"id\": \"ann@corp.example\", \"domain\": \"sales\", \"roles\": [\"pii-reader\"]},"
    " \"action\": \"read\", \"port\": \"orders\", \"context\": {\"purpose\": \"fraud\", \"region\": \"eu-west-1\"}}";

#define EXPECTED "allow by domain_access@1#1 | order_id=allow customer_id=allow email=allow/hash card=allow order_date=allow"

/* ==========================================================================
 * Allocation failure
 * ========================================================================== */

typedef struct counting {
    long calls, fail_at, live;
} counting;

static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    counting *c = ud;
    (void)osize;
    if (nsize == 0) {
        if (ptr)
            c->live--;
        free(ptr);
        return NULL;
    }
    if (++c->calls == c->fail_at)
        return NULL;
    void *n = realloc(ptr, nsize);
    if (n && !ptr)
        c->live++;
    return n;
}

Test(api, every_failed_allocation_of_a_compile_is_clean)
{
    long n;
    int failures = 0;
    for (n = 1; n < 100000; n++) {
        counting c = { 0, n, 0 };
        mg_config cfg = { .alloc = counting_alloc, .alloc_ud = &c };
        mg_engine *e = NULL;
        mg_policy_set *set = NULL;
        mg_error err = { 0 };
        mg_status s = mg_engine_new(&cfg, &e, &err);
        if (s == MG_OK)
            s = h_compile(e, policy_text, NULL, NULL, &set, &err);
        if (s == MG_OK) {
            cr_assert_lt(c.calls, n, "allocation %ld failed, yet the compile reported success", n);
            c.fail_at = 0;
            cr_assert_str_eq(h_decide(set, request_text, NULL), EXPECTED);
            mg_policy_set_release(set);
            mg_engine_free(e);
            cr_assert_eq(c.live, 0, "%ld allocations leaked after a successful compile", c.live);
            break;
        }
        cr_assert_eq(s, MG_ENOMEM, "allocation %ld failed: status %d (%s), expected MG_ENOMEM", n, s,
                     err.message ? err.message : "");
        cr_assert_null(set);
        mg_error_clear(&err);
        mg_engine_free(e);
        cr_assert_eq(c.live, 0, "allocation %ld failed: %ld allocations leaked", n, c.live);
        failures++;
    }
    cr_assert_gt(failures, 50, "only %d allocations in a compile?", failures);
    cr_log_info("a compile makes %d allocations; each failure is clean", failures);
}

/* ==========================================================================
 * Budget, handles, explain
 * ========================================================================== */

Test(api, the_step_budget_stops_a_rule)
{
    mg_config cfg = { .step_budget = 4 };
    mg_engine *e;
    mg_policy_set *set;
    cr_assert_eq(mg_engine_new(&cfg, &e, NULL), MG_OK);
    /* `now` is read per request, so these conditions run in full: 8 and 4
     * instructions. */
    cr_assert_eq(h_compile(e, "policy p {\n permit read on port when now > @2020-01-01 and now < @2030-01-01\n"
                              " permit write on port when now > @2020-01-01\n}\n", NULL, NULL, &set, NULL), MG_OK);
    const char *req = "{\"subject\": {\"a\": 1, \"b\": 2}, \"action\": \"read\", \"port\": \"raw\"}";
    cr_assert_str_eq(h_decide(set, req, NULL), "deny by none | errors 1");
    req = "{\"subject\": {\"a\": 1}, \"action\": \"write\", \"port\": \"raw\"}";
    cr_assert_str_eq(h_decide(set, req, NULL), "allow by p@1#2");
    mg_policy_set_release(set);
    mg_engine_free(e);
}

Test(api, names_resolve_to_ids)
{
    mg_engine *e;
    mg_policy_set *set;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(h_compile(e, policy_text, NULL, NULL, &set, NULL), MG_OK);
    int orders = mg_port_id(set, "orders");
    cr_assert_eq(orders, 0);
    cr_assert_eq(mg_port_id(set, "stats"), 1);
    cr_assert_eq(mg_port_id(set, "nope"), -1);
    cr_assert_eq(mg_column_id(set, orders, "order_id"), 0);
    cr_assert_eq(mg_column_id(set, orders, "order_date"), 4);
    cr_assert_eq(mg_column_id(set, 1, "total"), 6);
    cr_assert_eq(mg_column_id(set, 1, "email"), -1);
    cr_assert_eq(mg_column_id(set, 7, "email"), -1);
    cr_assert_eq(mg_action_id(set, "read"), 0);
    cr_assert_eq(mg_action_id(set, "delete"), 2);
    cr_assert_eq(mg_action_id(set, "fly"), -1);
    cr_assert_eq(strlen(mg_policy_set_digest(set)), 64);
    mg_policy_set_release(set);
    mg_engine_free(e);
}

Test(api, deciding_with_handles)
{
    mg_engine *e;
    mg_policy_set *set;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(h_compile(e, policy_text, NULL, NULL, &set, NULL), MG_OK);
    const char *sj = "{\"id\": \"ext-7@partner.com\", \"domain\": \"sales\", \"roles\": []}";
    const char *cj = "{\"purpose\": \"fraud\", \"region\": \"eu-west-1\"}";
    mg_subject *s;
    mg_context *c;
    mg_decision *d;
    cr_assert_eq(mg_subject_new(set, sj, strlen(sj), &s, NULL), MG_OK);
    cr_assert_eq(mg_context_new(set, cj, strlen(cj), &c, NULL), MG_OK);
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);
    int port = mg_port_id(set, "orders");
    int cols[] = { mg_column_id(set, port, "order_id"), mg_column_id(set, port, "email"),
                   mg_column_id(set, port, "card") };
    mg_request req = { s, mg_action_id(set, "read"), port, cols, 3, c, H_NOW };
    cr_assert_eq(mg_decide(set, &req, d, NULL), MG_OK);
    cr_assert_eq(mg_decision_effect(d), MG_PARTIAL);
    cr_assert_eq(mg_decision_column_count(d), 3);
    int col;
    mg_effect eff;
    mg_mask mask;
    mg_decision_column(d, 0, &col, &eff, &mask);
    cr_assert(col == cols[0] && eff == MG_ALLOW && mask == MG_MASK_NONE);
    mg_decision_column(d, 1, &col, &eff, &mask);
    cr_assert(col == cols[1] && eff == MG_DENY && mask == MG_MASK_NONE);   /* pii, no pii-reader */
    mg_decision_column(d, 2, &col, &eff, &mask);
    cr_assert(col == cols[2] && eff == MG_DENY);                           /* partner on financial */
    mg_decision_column(d, 3, &col, &eff, &mask);
    cr_assert(col == -1 && eff == MG_DENY);

    mg_error err = { 0 };
    req.port = 9;
    cr_assert_eq(mg_decide(set, &req, d, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "port id 9 out of range");
    req.port = port;
    cols[0] = 6;
    cr_assert_eq(mg_decide(set, &req, d, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "column id 6 is not a column of port 0");
    mg_error_clear(&err);
    mg_decision_free(d);
    mg_subject_free(s);
    mg_context_free(c);
    mg_policy_set_release(set);
    mg_engine_free(e);
}

Test(api, explain_lists_each_rule_evaluated)
{
    mg_engine *e;
    mg_policy_set *set;
    mg_decision *d;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(h_compile(e, policy_text, NULL, NULL, &set, NULL), MG_OK);
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);
    mg_decision_set_explain(d, true);
    const char *req = "{\"subject\": {\"id\": \"bob\", \"domain\": \"crm\", \"roles\": []}, \"action\": \"read\","
                      " \"port\": \"orders\", \"columns\": [\"email\"], \"context\": {\"region\": \"eu-west-1\"}}";
    cr_assert_eq(mg_decide_json(set, req, strlen(req), H_NOW, d, NULL), MG_OK);
    char *out;
    cr_assert_eq(mg_decision_json(set, d, true, &out, NULL), MG_OK);
    json_t *o = json_loads(out, 0, NULL);
    json_t *trace = json_object_get(o, "trace");
    /* port level: domain_access#1 (permit), #2 (locality forbid); column
     * email: the pii forbid applies, so domain_access#3 (a later forbid)
     * and the mask (the column cannot be allowed) are not evaluated. */
    cr_assert_eq(json_array_size(trace), 3, "%s", out);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(trace, 0), "rule")), "domain_access@1#1");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(trace, 0), "result")), "does not apply");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(trace, 2), "rule")),
                     "pii_purpose_limitation@3#1");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(trace, 2), "column")), "email");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(trace, 2), "result")), "applies");
    cr_assert_str_eq(json_string_value(json_object_get(o, "reason")), "a forbid applies");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "deciding"), "location")),
                     "test.policy:4:3");
    json_decref(o);
    mg_free(out);
    cr_assert_eq(mg_decision_rules_evaluated(d), 3);
    mg_decision_free(d);
    mg_policy_set_release(set);
    mg_engine_free(e);
}

/* ==========================================================================
 * Bundles
 * ========================================================================== */

Test(api, a_bundle_round_trips_and_signatures_are_checked)
{
    mg_engine *e;
    mg_policy_set *set, *loaded;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(h_compile(e, policy_text, NULL, NULL, &set, NULL), MG_OK);
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], pk2[crypto_sign_PUBLICKEYBYTES],
        sk2[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    crypto_sign_keypair(pk2, sk2);
    char *plain, *signed_;
    size_t plain_len, signed_len;
    cr_assert_eq(mg_bundle_write(set, NULL, &plain, &plain_len, NULL), MG_OK);
    cr_assert_eq(mg_bundle_write(set, sk, &signed_, &signed_len, NULL), MG_OK);
    cr_assert_eq(signed_len, plain_len + 8 + 32 + 64);

    cr_assert_eq(mg_bundle_load(e, plain, plain_len, NULL, &loaded, NULL), MG_OK);
    cr_assert_str_eq(mg_policy_set_digest(loaded), mg_policy_set_digest(set));
    cr_assert_str_eq(h_decide(loaded, request_text, NULL), EXPECTED);
    mg_policy_set_release(loaded);

    mg_error err = { 0 };
    cr_assert_eq(mg_bundle_load(e, signed_, signed_len, pk, &loaded, &err), MG_OK);
    mg_policy_set_release(loaded);
    cr_assert_eq(mg_bundle_load(e, signed_, signed_len, pk2, &loaded, &err), MG_ECRYPTO);
    cr_assert_str_eq(err.message, "bundle is signed by a key that is not trusted");
    cr_assert_eq(mg_bundle_load(e, plain, plain_len, pk, &loaded, &err), MG_ECRYPTO);
    cr_assert_str_eq(err.message, "bundle is not signed, and a trust key is configured");
    signed_[100] ^= 1;
    mg_status s = mg_bundle_load(e, signed_, signed_len, pk, &loaded, &err);
    cr_assert(s == MG_ECRYPTO || s == MG_EFORMAT, "status %d", s);
    cr_assert_null(loaded);
    cr_assert_eq(mg_bundle_load(e, plain, plain_len / 2, NULL, &loaded, &err), MG_EFORMAT);
    cr_assert_str_eq(err.message, "bundle: truncated");
    cr_assert_eq(mg_bundle_load(e, "MGBUNDLX", 8, NULL, &loaded, &err), MG_EFORMAT);
    cr_assert_str_eq(err.message, "bundle: not a meshgov bundle");
    mg_error_clear(&err);
    mg_free(plain);
    mg_free(signed_);
    mg_policy_set_release(set);
    mg_engine_free(e);
}

/* Every single-byte corruption of a bundle is refused or still decides
 * without crashing: the reader checks every field and the bytecode. */
Test(api, every_corrupted_byte_of_a_bundle_is_safe)
{
    mg_engine *e;
    mg_policy_set *set;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(h_compile(e, policy_text, NULL, NULL, &set, NULL), MG_OK);
    char *buf;
    size_t len;
    cr_assert_eq(mg_bundle_write(set, NULL, &buf, &len, NULL), MG_OK);
    int refused = 0;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            buf[i] ^= (char)(1 << bit);
            mg_policy_set *x = NULL;
            mg_error err = { 0 };
            if (mg_bundle_load(e, buf, len, NULL, &x, &err) == MG_OK) {
                h_decide(x, request_text, NULL);
                mg_policy_set_release(x);
            } else {
                refused++;
            }
            mg_error_clear(&err);
            buf[i] ^= (char)(1 << bit);
        }
    }
    cr_assert_gt(refused, 0);
    mg_free(buf);
    mg_policy_set_release(set);
    mg_engine_free(e);
}

/* ==========================================================================
 * Reload while deciding
 * ========================================================================== */

typedef struct worker {
    mg_engine *e;
    int allowed, denied, errors;
} worker;

static void *decide_loop(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 2000; i++) {
        mg_policy_set *set = mg_engine_acquire(w->e);
        mg_decision *d;
        if (mg_decision_new(set, &d, NULL) != MG_OK) {
            w->errors++;
            mg_policy_set_release(set);
            continue;
        }
        if (mg_decide_json(set, request_text, strlen(request_text), H_NOW, d, NULL) != MG_OK)
            w->errors++;
        else if (mg_decision_effect(d) == MG_ALLOW)
            w->allowed++;
        else
            w->denied++;
        mg_decision_free(d);
        mg_policy_set_release(set);
    }
    return NULL;
}

Test(api, reload_swaps_atomically_under_concurrent_decisions)
{
    mg_engine *e;
    mg_policy_set *a, *b;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(h_compile(e, policy_text, NULL, NULL, &a, NULL), MG_OK);
    cr_assert_eq(h_compile(e, "policy closed {\n forbid * on product\n}\n", NULL, NULL, &b, NULL), MG_OK);
    cr_assert_null(mg_engine_acquire(e));
    mg_engine_swap(e, a);
    worker w[4] = { { e, 0, 0, 0 }, { e, 0, 0, 0 }, { e, 0, 0, 0 }, { e, 0, 0, 0 } };
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, decide_loop, &w[i]);
    for (int i = 0; i < 200; i++)
        mg_engine_swap(e, i % 2 ? a : b);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(w[i].errors, 0);
        cr_assert_eq(w[i].allowed + w[i].denied, 2000);
    }
    mg_policy_set_release(a);
    mg_policy_set_release(b);
    mg_policy_set *cur = mg_engine_acquire(e);
    cr_assert_not_null(cur);
    mg_policy_set_release(cur);
    mg_engine_free(e);
}

Test(api, a_missing_attribute_is_named_in_the_error)
{
    mg_engine *e;
    mg_policy_set *set;
    mg_decision *d;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(h_compile(e, policy_text, NULL, NULL, &set, NULL), MG_OK);
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);
    const char *req = "{\"subject\": {\"id\": \"ann\", \"domain\": \"sales\", \"roles\": [\"pii-reader\"]},"
                      " \"action\": \"read\", \"port\": \"orders\", \"columns\": [\"email\"], \"context\": {}}";
    cr_assert_eq(mg_decide_json(set, req, strlen(req), H_NOW, d, NULL), MG_OK);
    char *out;
    cr_assert_eq(mg_decision_json(set, d, false, &out, NULL), MG_OK);
    json_t *o = json_loads(out, 0, NULL);
    json_t *errs = json_object_get(o, "errors");
    /* the region (product-level locality forbid) and the purpose (pii) */
    cr_assert_eq(json_array_size(errs), 2, "%s", out);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(errs, 0), "error")),
                     "missing attribute `context.region`");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(errs, 0), "location")), "test.policy:14:28");
    json_decref(o);
    mg_free(out);
    mg_decision_free(d);
    mg_policy_set_release(set);
    mg_engine_free(e);
}
