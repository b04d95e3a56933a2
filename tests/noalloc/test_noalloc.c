/*
 * test_noalloc.c — deciding never allocates; with an allocator hook,
 * meshgov allocates only through it. This suite is linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc: every allocation the
 * library makes (through its default allocator, and pcre2's through ours)
 * passes through the counters below while `counting` is on.
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "meshgov.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);

static atomic_int counting;
static atomic_long allocations;

void *__wrap_malloc(size_t n)
{
    if (atomic_load(&counting))
        atomic_fetch_add(&allocations, 1);
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    if (atomic_load(&counting))
        atomic_fetch_add(&allocations, 1);
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    if (atomic_load(&counting))
        atomic_fetch_add(&allocations, 1);
    return __real_realloc(p, n);
}

static const char *const policies =
    "policy pii {\n"
    "  version 3\n"
    "  scope global\n"
    "  forbid read, write on column when column.tags has \"pii\"\n"
    "    unless subject.roles has \"pii-reader\" and context.purpose in [\"fraud\", \"support\"]\n"
    "  mask column with hash when column.tags has \"email\" and not (subject.roles has \"support\")\n"
    "}\n"
    "policy access {\n"
    "  permit read on port when subject.domain == product.domain or lower(subject.id) like \"*@corp.example\"\n"
    "  forbid * on product when not (context.region in product.allowed_regions)\n"
    "  forbid * on column when subject.id matches \"^ext-[0-9]+@partner\\\\.com$\" and column.tags has \"financial\"\n"
    "  forbid write on port when subject.level + 1 > 9223372036854775807\n"
    "}\n"
    "policy trial {\n"
    "  mode dry_run\n"
    "  forbid read on column when column.tags has \"email\" and now > @2026-01-01\n"
    "}\n";

static const char *const product =
    "uri: dp://sales/orders\n"
    "domain: sales\n"
    "owner: orders@corp.example\n"
    "allowed_regions: [eu-west-1]\n"
    "output_ports:\n"
    "  - name: orders\n"
    "    tags: [financial]\n"
    "    schema:\n"
    "      - { name: order_id, type: string }\n"
    "      - { name: email, type: string, tags: [pii, email] }\n"
    "      - { name: card, type: string, tags: [financial] }\n";

static const char *const subjects[] = {
    "{\"id\": \"Ann@Corp.Example\", \"domain\": \"sales\", \"roles\": [\"pii-reader\"], \"level\": 1}",
    "{\"id\": \"ext-12@partner.com\", \"domain\": \"web\", \"roles\": []}",
    "{\"id\": \"bob@corp.example\", \"domain\": \"crm\", \"roles\": [\"support\", \"pii-reader\"], \"level\": 9223372036854775807}",
    "{}",
};
static const char *const contexts[] = {
    "{\"purpose\": \"fraud\", \"region\": \"eu-west-1\"}",
    "{\"region\": \"us-east-1\"}",
    "{}",
};

Test(noalloc, deciding_makes_no_allocation)
{
    mg_engine *e;
    mg_policy_set *set;
    mg_source pol = { "p.policy", policies, strlen(policies) };
    mg_source pr = { "product.yaml", product, strlen(product) };
    mg_compile_input in = { &pol, 1, &pr, NULL };
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    mg_error err = { 0 };
    cr_assert_eq(mg_compile(e, &in, &set, &err), MG_OK, "%s", err.detail ? err.detail : "");
    mg_subject *s[4];
    mg_context *c[3];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(mg_subject_new(set, subjects[i], strlen(subjects[i]), &s[i], NULL), MG_OK);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(mg_context_new(set, contexts[i], strlen(contexts[i]), &c[i], NULL), MG_OK);
    mg_decision *d;
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);
    mg_decision_set_explain(d, true);
    int port = mg_port_id(set, "orders");
    int cols[] = { mg_column_id(set, port, "email"), mg_column_id(set, port, "card") };
    long effects[3] = { 0, 0, 0 };
    for (int round = 0; round < 2; round++) {      /* round 0 warms up pcre2's match data */
        atomic_store(&counting, round == 1);
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 3; j++)
                for (int a = 0; a < 2; a++)
                    for (int whole = 0; whole < 2; whole++) {
                        mg_request r = { s[i], a, port, whole ? NULL : cols, 2, c[j], 1780315200000000LL };
                        cr_assert_eq(mg_decide(set, &r, d, NULL), MG_OK);
                        effects[mg_decision_effect(d)] += round;
                    }
        atomic_store(&counting, 0);
    }
    cr_assert_eq(atomic_load(&allocations), 0, "%ld allocations while deciding", atomic_load(&allocations));
    cr_assert_eq(effects[0] + effects[1] + effects[2], 48);
    cr_assert_gt(effects[MG_ALLOW] + effects[MG_PARTIAL], 0);
    cr_assert_gt(effects[MG_DENY], 0);
    mg_decision_free(d);
    for (int i = 0; i < 4; i++)
        mg_subject_free(s[i]);
    for (int i = 0; i < 3; i++)
        mg_context_free(c[i]);
    mg_policy_set_release(set);
    mg_engine_free(e);
}

/* The hook's memory comes from the real realloc, so only what meshgov
 * allocates around the hook is counted by the wrappers. */
static atomic_long hook_calls;

static void *hook(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    atomic_fetch_add(&hook_calls, 1);
    return __real_realloc(ptr, nsize);
}

/* Loading a mesh, compiling, a bundle load, handles, decisions from JSON,
 * the governance rule kinds and freeing it all call the hook and never
 * malloc. Left out: buffers handed to the caller (mg_free). */
Test(noalloc, with_a_hook_only_the_hook_allocates)
{
    mg_config cfg = { .alloc = hook };
    mg_engine *e;
    cr_assert_eq(mg_engine_new(&cfg, &e, NULL), MG_OK);
    mg_source pol = { "p.policy", policies, strlen(policies) };
    mg_source pr = { "product.yaml", product, strlen(product) };
    mg_compile_input in = { &pol, 1, &pr, NULL };
    mg_policy_set *set, *loaded;
    cr_assert_eq(mg_compile(e, &in, &set, NULL), MG_OK);
    char *bundle;
    size_t len;
    cr_assert_eq(mg_bundle_write(set, NULL, &bundle, &len, NULL), MG_OK);
    mg_policy_set_release(set);

    static const char *const req =
        "{\"subject\": {\"id\": \"ext-12@partner.com\", \"domain\": \"web\", \"roles\": []},"
        " \"action\": \"read\", \"port\": \"orders\", \"context\": {\"region\": \"eu-west-1\"}}";
    const int64_t now = 1780315200000000LL;
    long calls = atomic_load(&hook_calls);
    atomic_store(&counting, 1);
    cr_assert_eq(mg_engine_load(e, "samples/mesh", "dp://sales/orders", NULL), MG_OK);
    cr_assert_eq(mg_compile(e, &in, &set, NULL), MG_OK);
    cr_assert_eq(mg_bundle_load(e, bundle, len, NULL, &loaded, NULL), MG_OK);
    mg_subject *s;
    mg_context *c;
    mg_decision *d;
    cr_assert_eq(mg_subject_new(loaded, subjects[1], strlen(subjects[1]), &s, NULL), MG_OK);
    cr_assert_eq(mg_context_new(loaded, contexts[0], strlen(contexts[0]), &c, NULL), MG_OK);
    cr_assert_eq(mg_decision_new(loaded, &d, NULL), MG_OK);
    mg_decision_set_explain(d, true);
    cr_assert_eq(mg_decide_json(loaded, req, strlen(req), now, d, NULL), MG_OK);
    cr_assert_eq(mg_decision_effect(d), MG_DENY, "no permit applies to ext-12 of domain web");
    bool held;
    mg_forget_plan plan;
    cr_assert_eq(mg_hold_applies(loaded, 0, now, &held, NULL), MG_OK);
    cr_assert_eq(mg_forget_plan_of(loaded, 0, now, &plan, NULL), MG_OK);
    mg_decision_free(d);
    mg_subject_free(s);
    mg_context_free(c);
    mg_policy_set_release(loaded);
    mg_policy_set_release(set);
    mg_engine_free(e);
    atomic_store(&counting, 0);
    free(bundle);
    cr_assert_eq(atomic_load(&allocations), 0, "%ld allocations around the hook", atomic_load(&allocations));
    cr_assert_gt(atomic_load(&hook_calls) - calls, 100, "%ld through it", atomic_load(&hook_calls) - calls);
}
