/*
 * test_edges.c — the API at its edges: handles that outlive a reload, a
 * report asked for before any decision, an empty column list, the step
 * budget wherever a condition is evaluated, bundles of many rules, and the
 * fail-safe retention verdict of a hold that cannot be decided.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include "engine/engine.h"
#include "tests/engine/harness.h"

static mg_policy_set *compile_ok(mg_engine *e, const char *policy, const char *product)
{
    mg_policy_set *set = NULL;
    mg_error err = { 0 };
    cr_assert_eq(h_compile(e, policy, product, NULL, &set, &err), MG_OK, "%s", err.detail ? err.detail : "");
    return set;
}

static const char *const permit_orders = "policy p {\n  permit read on port when subject.domain == \"sales\"\n}\n";

/* A subject resolved for one set keeps that set alive: a set compiled
 * after the first is released can never be mistaken for it. */
Test(edges, a_handle_of_a_released_set_is_refused_by_the_next_set)
{
    mg_engine *e;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    mg_policy_set *old = compile_ok(e, permit_orders, NULL);
    const char *sj = "{\"domain\": \"sales\"}";
    mg_subject *s;
    mg_decision *d;
    cr_assert_eq(mg_subject_new(old, sj, strlen(sj), &s, NULL), MG_OK);
    cr_assert_eq(mg_decision_new(old, &d, NULL), MG_OK);
    mg_policy_set_release(old);           /* the handles still hold it */

    for (int i = 0; i < 8; i++) {         /* allocator reuse would show here */
        mg_policy_set *cur = compile_ok(e, permit_orders, NULL);
        cr_assert_neq(cur, old);
        mg_decision *fresh;
        cr_assert_eq(mg_decision_new(cur, &fresh, NULL), MG_OK);
        mg_request req = { s, mg_action_id(cur, "read"), mg_port_id(cur, "orders"), NULL, 0, NULL, H_NOW };
        mg_error err = { 0 };
        cr_assert_eq(mg_decide(cur, &req, fresh, &err), MG_EINVAL);
        cr_assert_str_eq(err.message, "subject or context was resolved for another policy set");
        cr_assert_eq(mg_decide(cur, &req, d, &err), MG_EINVAL);
        cr_assert_str_eq(err.message, "decision scratch was made for another policy set");
        mg_error_clear(&err);
        mg_decision_free(fresh);
        mg_policy_set_release(cur);
    }
    mg_decision_free(d);
    mg_subject_free(s);                    /* releases the last reference */
    mg_engine_free(e);
}

Test(edges, a_report_before_any_decision_is_refused)
{
    mg_engine *e;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    mg_source pol = { "p.policy", permit_orders, strlen(permit_orders) };
    mg_compile_input in = { &pol, 1, NULL, NULL };       /* no product: no ports */
    mg_policy_set *set;
    cr_assert_eq(mg_compile(e, &in, &set, NULL), MG_OK);
    mg_decision *d;
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);
    char *json = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mg_decision_json(set, d, false, &json, &err), MG_EINVAL);
    cr_assert_null(json);
    cr_assert_str_eq(err.message, "no request has been decided with this scratch");
    mg_error_clear(&err);
    mg_decision_free(d);
    mg_policy_set_release(set);
    mg_engine_free(e);
}

Test(edges, an_empty_column_list_is_refused_not_decided_at_port_level)
{
    mg_engine *e;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    mg_policy_set *set = compile_ok(e,
        "policy p {\n  permit read on port\n  forbid read on column when column.tags has \"pii\"\n}\n", NULL);
    mg_decision *d;
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);
    int port = mg_port_id(set, "orders");
    int none[1] = { 0 };
    mg_request req = { NULL, mg_action_id(set, "read"), port, none, 0, NULL, H_NOW };
    mg_error err = { 0 };
    cr_assert_eq(mg_decide(set, &req, d, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "no columns requested; columns = NULL requests the whole port");
    req.columns = NULL;                                     /* the whole port */
    cr_assert_eq(mg_decide(set, &req, d, &err), MG_OK);
    cr_assert_eq(mg_decision_effect(d), MG_PARTIAL);
    mg_error_clear(&err);
    mg_decision_free(d);
    mg_policy_set_release(set);
    mg_engine_free(e);
}

/* The budget bounds every evaluation of a condition: a subject fact is
 * decided under it when the subject is resolved, and an error there is the
 * decision's error, fail closed. */
Test(edges, the_step_budget_bounds_subject_facts)
{
    mg_config cfg = { .step_budget = 6 };
    mg_engine *e;
    cr_assert_eq(mg_engine_new(&cfg, &e, NULL), MG_OK);
    /* One fact of 8 instructions; the decision itself runs 2 (SFACT, RET). */
    mg_policy_set *set = compile_ok(e,
        "policy p {\n  permit read on port when subject.a + subject.b + subject.c == 6\n"
        "  permit write on port when subject.a == 1\n}\n", NULL);
    cr_assert_str_eq(h_decide(set, "{\"subject\": {\"a\": 1, \"b\": 2, \"c\": 3}, \"action\": \"read\", "
                                   "\"port\": \"raw\"}", NULL), "deny by none | errors 1");
    cr_assert_str_eq(h_decide(set, "{\"subject\": {\"a\": 1}, \"action\": \"write\", \"port\": \"raw\"}", NULL),
                     "allow by p@1#2");
    mg_policy_set_release(set);
    mg_engine_free(e);

    cfg.step_budget = 0;                  /* the default is ample */
    cr_assert_eq(mg_engine_new(&cfg, &e, NULL), MG_OK);
    set = compile_ok(e, "policy p {\n  permit read on port when subject.a + subject.b + subject.c == 6\n}\n", NULL);
    cr_assert_str_eq(h_decide(set, "{\"subject\": {\"a\": 1, \"b\": 2, \"c\": 3}, \"action\": \"read\", "
                                   "\"port\": \"raw\"}", NULL), "allow by p@1#1");
    mg_policy_set_release(set);
    mg_engine_free(e);
}

/* Each rule is 68 bytes in a bundle; the reader once assumed more and
 * refused bundles of many rules with little else. */
Test(edges, a_bundle_of_many_rules_without_conditions_round_trips)
{
    mg_engine *e;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    enum { N = 3000 };
    size_t cap = 64 + N * 32;
    char *src = malloc(cap);
    cr_assert_not_null(src);
    size_t n = (size_t)snprintf(src, cap, "policy p {\n");
    for (int i = 0; i < N; i++)
        n += (size_t)snprintf(src + n, cap - n, "  permit read on port\n");
    snprintf(src + n, cap - n, "}\n");
    mg_source pol = { "p.policy", src, strlen(src) };
    mg_compile_input in = { &pol, 1, NULL, NULL };
    mg_policy_set *set, *loaded;
    cr_assert_eq(mg_compile(e, &in, &set, NULL), MG_OK);
    char *bundle;
    size_t len;
    cr_assert_eq(mg_bundle_write(set, NULL, &bundle, &len, NULL), MG_OK);
    mg_error err = { 0 };
    cr_assert_eq(mg_bundle_load(e, bundle, len, NULL, &loaded, &err), MG_OK, "%s", err.message);
    cr_assert_str_eq(mg_policy_set_digest(loaded), mg_policy_set_digest(set));
    mg_free(bundle);
    free(src);
    mg_policy_set_release(loaded);
    mg_policy_set_release(set);
    mg_engine_free(e);
}

/* A hold whose condition fails to evaluate holds: nothing is deleted on a
 * rule that could not be decided. */
Test(edges, a_hold_that_cannot_be_decided_holds)
{
    mg_engine *e;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    mg_policy_set *set = compile_ok(e,
        "policy p {\n  retain port for 1d after event_time then delete\n"
        "  hold port when now - product.attributes.since > 1d\n}\n", NULL);
    const char *const names[] = { "event_time" };
    int64_t times[] = { H_NOW - 30 * 86400000000LL };
    mg_retention r;
    mg_error err = { 0 };
    cr_assert_eq(mg_retention_verdict(set, 0, -1, names, times, 1, H_NOW, &r, &err), MG_EEVAL);
    cr_assert_eq(r.disposal, MG_KEEP);
    cr_assert_eq(r.at_due, MG_DELETE);
    cr_assert(r.held);
    cr_assert_str_eq(r.hold_rule, "p@1#2");
    bool held = false;
    cr_assert_eq(mg_hold_applies(set, 0, H_NOW, &held, &err), MG_EEVAL);
    cr_assert(held);
    mg_error_clear(&err);
    mg_policy_set_release(set);
    mg_engine_free(e);
}

/* A chain of facts is decided by bit tests only when the VM would not run
 * out of steps on it: the budget error stays the same with or without. */
Test(edges, a_chain_of_facts_longer_than_the_budget_fails_closed)
{
    mg_config cfg = { .step_budget = 5 };
    mg_engine *e;
    cr_assert_eq(mg_engine_new(&cfg, &e, NULL), MG_OK);
    /* Each fact is 4 instructions (SUBJECT, CONST, EQ, RET); the chain
     * SFACT; JUMP_IF_FALSE; SFACT; JUMP_IF_FALSE; SFACT; RET is 6. */
    mg_policy_set *set = compile_ok(e, "policy p {\n"
                                       "  permit read on port when subject.a == 1 and subject.b == 2 and subject.c == 3\n"
                                       "  permit write on port when subject.a == 1\n}\n", NULL);
    const char *req = "{\"subject\": {\"a\": 1, \"b\": 2, \"c\": 3}, \"action\": \"read\", \"port\": \"raw\"}";
    cr_assert_str_eq(h_decide(set, req, NULL), "deny by none | errors 1");
    req = "{\"subject\": {\"a\": 1}, \"action\": \"write\", \"port\": \"raw\"}";
    cr_assert_str_eq(h_decide(set, req, NULL), "allow by p@1#2");
    mg_policy_set_release(set);
    mg_engine_free(e);
}

/* `fact or manifest test`: the manifest side is decided per port, and an
 * error in the fact is raised before it, as in source order. */
Test(edges, an_or_with_a_manifest_operand_is_decided_per_port)
{
    mg_engine *e;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    mg_policy_set *set = compile_ok(e,
        "policy p {\n  permit read on port when subject.domain == \"sales\" or port.visibility == \"public\"\n}\n",
        NULL);
    const char *const cases[][2] = {
        { "{\"subject\": {\"domain\": \"sales\"}, \"action\": \"read\", \"port\": \"raw\"}", "allow by p@1#1" },
        { "{\"subject\": {\"domain\": \"crm\"}, \"action\": \"read\", \"port\": \"raw\"}", "deny by none" },
        { "{\"subject\": {\"domain\": \"crm\"}, \"action\": \"read\", \"port\": \"stats\"}",
          "allow by p@1#1 | day=allow total=allow" },
        { "{\"subject\": {\"domain\": 7}, \"action\": \"read\", \"port\": \"stats\"}",
          "deny by none | day=deny total=deny | errors 1" },
        { "{\"subject\": {}, \"action\": \"read\", \"port\": \"raw\"}", "deny by none | errors 1" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_assert_str_eq(h_decide(set, cases[i][0], NULL), cases[i][1], "case %zu", i);
    mg_policy_set_release(set);
    mg_engine_free(e);
}

/* Bundles the compiler cannot write are refused: each index entry belongs
 * to one resource (its form is decided for that resource's manifest), and
 * every string is UTF-8. */
static void write_back(vm_program *p, char **out, size_t *len)
{
    strbuf b;
    sb_init(&b, sl_default_alloc, NULL);
    cr_assert(prog_serialize(p, &b) && !b.failed);
    *out = b.s;
    *len = b.len;
}

Test(edges, a_bundle_whose_ranges_share_entries_is_refused)
{
    mg_engine *e;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    mg_policy_set *set = compile_ok(e,
        "policy p {\n  permit read on port when subject.domain == \"sales\" or port.visibility == \"public\"\n}\n",
        NULL);
    char *bytes;
    size_t len, used;
    cr_assert_eq(mg_bundle_write(set, NULL, &bytes, &len, NULL), MG_OK);
    vm_program *p;
    cr_assert_eq(prog_deserialize(bytes, len, sl_default_alloc, NULL, 0, &used, &p, NULL), MG_OK);
    int orders = mg_port_id(set, "orders"), stats = mg_port_id(set, "stats"), read = mg_action_id(set, "read");
    p->port_index[orders * p->nactions + read] = p->port_index[stats * p->nactions + read];
    char *forged;
    size_t forged_len;
    write_back(p, &forged, &forged_len);
    mg_policy_set *loaded = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mg_bundle_load(e, forged, forged_len, NULL, &loaded, &err), MG_EFORMAT);
    cr_assert_str_eq(err.message, "bundle: index ranges overlap");
    cr_assert_null(loaded);
    mg_error_clear(&err);
    sl_default_alloc(NULL, forged, forged_len, 0);
    prog_free(p);
    mg_free(bytes);
    mg_policy_set_release(set);
    mg_engine_free(e);
}

Test(edges, a_bundle_with_a_string_that_is_not_utf8_is_refused)
{
    mg_engine *e;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    mg_policy_set *set = compile_ok(e, "policy zqzqzq {\n  permit read on port\n}\n", NULL);
    char *bytes;
    size_t len;
    cr_assert_eq(mg_bundle_write(set, NULL, &bytes, &len, NULL), MG_OK);
    char *name = NULL;
    for (size_t i = 0; i + 6 <= len && !name; i++)
        if (memcmp(bytes + i, "zqzqzq", 6) == 0)
            name = bytes + i;
    cr_assert_not_null(name);
    name[2] = (char)0xff;
    mg_policy_set *loaded = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mg_bundle_load(e, bytes, len, NULL, &loaded, &err), MG_EFORMAT);
    cr_assert_str_eq(err.message, "bundle: a string is not UTF-8");
    mg_error_clear(&err);
    mg_free(bytes);
    mg_policy_set_release(set);
    mg_engine_free(e);
}
