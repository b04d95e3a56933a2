/*
 * test_alloc.c — the allocator hook's contract (include/meshgov.h, "nsize
 * == 0: free ptr (osize is its size)"): every block meshgov frees or
 * resizes goes back with the size it was allocated or last resized to, and
 * nothing is left once the engine is freed. A strict allocator keeps each
 * block's size in a header in front of it and records every free or resize
 * whose osize differs. It runs over the sample mesh (every product loaded,
 * checked, its policy tests run, its governance rules asked, the adoption
 * report), sets that do not compile, decisions with explain (from handles
 * and from JSON), many subjects and contexts, a reload by swap while
 * handles hold the old set, bundles written, loaded and refused, and every
 * failed allocation of a load (the mesh read, then the set compiled) and
 * of a bundle load.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "engine/engine.h"
#include "tests/engine/harness.h"
#include "tests/common/strict.h"

#define MESH "samples/mesh"

static mg_engine *strict_engine_with(strict *s, bool no_mesh_cache)
{
    memset(s, 0, sizeof *s);
    mg_config cfg = { .alloc = strict_alloc, .alloc_ud = s, .no_mesh_cache = no_mesh_cache };
    mg_engine *e = NULL;
    cr_assert_eq(mg_engine_new(&cfg, &e, NULL), MG_OK);
    return e;
}

static mg_engine *strict_engine(strict *s)
{
    return strict_engine_with(s, false);
}

/* Frees the engine; then every block must be back, each with its size. */
static void strict_close(strict *s, mg_engine *e)
{
    s->phase = "mg_engine_free";
    mg_engine_free(e);
    assert_exact(s, "at the end");
    cr_assert_eq(atomic_load(&s->live), 0, "%ld blocks (%ld bytes) never given back", atomic_load(&s->live),
                 atomic_load(&s->bytes));
    cr_assert_eq(atomic_load(&s->bytes), 0);
}

/* ==========================================================================
 * The sample mesh
 * ========================================================================== */

static const char *const products[] = {
    "dp://crm/customer360", "dp://crm/customers", "dp://finance/reporting", "dp://marketing/attribution",
    "dp://payments/payments", "dp://sales/orders", "dp://sales/returns", "dp://web/clicks",
};
#define NPRODUCTS (sizeof products / sizeof *products)

static const int64_t NOW = 1780315200000000LL;   /* 2026-06-01T12:00:00Z */

static int count_finding(void *ud, const mg_finding *f)
{
    (void)f;
    ++*(int *)ud;
    return 0;
}

static int count_test(void *ud, const mg_test_result *r)
{
    (void)r;
    ++*(int *)ud;
    return 0;
}

/* Asks every governance rule kind of every port and its first column. */
static void govern_ports(const mg_policy_set *set)
{
    static const char *const names[] = { "event_time", "processing_time" };
    const int64_t times[] = { NOW - 400LL * 86400 * 1000000, NOW };
    const vm_program *p = set->prog;
    for (int port = 0; port < (int)p->nports; port++) {
        mg_retention ret;
        bool held, at_rest, in_transit;
        mg_forget_plan plan;
        int col = p->ports[port].ncols ? (int)p->ports[port].first_col : -1;
        mg_retention_verdict(set, port, -1, names, times, 2, NOW, &ret, NULL);
        mg_retention_verdict(set, port, col, names, times, 2, NOW, &ret, NULL);
        mg_hold_applies(set, port, NOW, &held, NULL);
        mg_encryption_required(set, port, -1, NOW, &at_rest, &in_transit, NULL);
        mg_encryption_required(set, port, col, NOW, &at_rest, &in_transit, NULL);
        mg_forget_plan_of(set, port, NOW, &plan, NULL);
    }
}

Test(alloc, every_sample_product_gives_each_block_back_with_its_size)
{
    strict s;
    mg_engine *e = strict_engine(&s);
    int findings = 0, tests = 0;
    for (size_t i = 0; i < NPRODUCTS; i++) {
        mg_error err = { 0 };
        s.phase = products[i];
        cr_assert_eq(mg_engine_load(e, MESH, products[i], &err), MG_OK, "%s: %s", products[i],
                     err.message ? err.message : "");
        assert_exact(&s, products[i]);
        cr_assert_eq(mg_check_product(e, MESH, products[i], NOW, count_finding, &findings, &err), MG_OK,
                     "%s: %s", products[i], err.message ? err.message : "");
        mg_test_hooks hooks = { count_test, NULL, &tests };
        cr_assert_eq(mg_test_product(e, MESH, products[i], &hooks, &err), MG_OK, "%s: %s", products[i],
                     err.message ? err.message : "");
        mg_policy_set *set = mg_engine_acquire(e);
        govern_ports(set);
        char *dis = NULL;
        cr_assert_eq(mg_policy_set_disasm(set, &dis, NULL), MG_OK);
        mg_free(dis);
        mg_policy_set_release(set);
        assert_exact(&s, products[i]);
    }
    cr_assert_gt(tests, 0, "the sample mesh has policy tests");
    s.phase = "mg_adoption_report";
    mg_adoption *report = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mg_adoption_report(e, MESH, NULL, 0, NOW, NULL, &report, &err), MG_OK, "%s",
                 err.message ? err.message : "");
    cr_assert_eq(report->nproducts, NPRODUCTS);
    mg_adoption_free(report);
    assert_exact(&s, "mg_adoption_report");
    strict_close(&s, e);
}

/* Sets that do not compile and meshes that do not load: the manifest
 * reader's blocks, the front end's arena and diagnostics, and a program
 * freed half built, go back exactly. */
Test(alloc, meshes_and_sets_that_do_not_load_give_each_block_back_with_its_size)
{
    strict s;
    mg_engine *e = strict_engine_with(&s, true);   /* nothing cached between loads */
    mg_error err = { 0 };
    s.phase = "a typo in a local policy";
    cr_assert_eq(mg_engine_load(e, "samples/broken", "dp://sales/returns", &err), MG_ESYNTAX);
    cr_assert_not_null(err.detail);
    cr_assert_not_null(strstr(err.detail, "did you mean `subject.domain`?"), "%s", err.detail);
    mg_error_clear(&err);
    assert_exact(&s, s.phase);

    /* Meshes the manifest reader refuses (tests/manifest/data), or that
     * lack the product: what was read goes back exactly. */
    static const char *const bad_meshes[] = {
        "bad_product", "dangling_port", "dangling_product", "duplicate", "misplaced", "missing_global",
        "missing_policy", "missing_test", "newer_adopt", "no_products", "product_is_dir", "unknown_adopt",
    };
    for (size_t i = 0; i < sizeof bad_meshes / sizeof *bad_meshes; i++) {
        char dir[128];
        snprintf(dir, sizeof dir, "tests/manifest/data/%s", bad_meshes[i]);
        s.phase = dir;
        long live = atomic_load(&s.live);
        mg_status st = mg_engine_load(e, dir, "dp://shop/orders", &err);
        cr_assert(st != MG_OK && st != MG_ENOMEM, "%s: status %d", dir, st);
        mg_error_clear(&err);
        assert_exact(&s, dir);
        cr_assert_eq(atomic_load(&s.live), live, "%s: %ld blocks left", dir, atomic_load(&s.live) - live);
    }

    s.phase = "a policy defined in two files";
    static const char *const one = "policy p {\n  permit read on port when subject.roles has \"a\"\n}\n";
    static const char *const two = "policy p {\n  forbid read on port when subject.id matches \"^x\"\n}\n";
    mg_source pols[] = { { "one.policy", one, strlen(one) }, { "two.policy", two, strlen(two) } };
    mg_source pr = { "product.yaml", h_product_yaml, strlen(h_product_yaml) };
    mg_compile_input in = { pols, 2, &pr, NULL };
    mg_policy_set *set = NULL;
    mg_status st = mg_compile(e, &in, &set, &err);
    cr_assert_eq(st, MG_ETYPE, "%d: %s", st, err.message);
    cr_assert_null(set);
    cr_assert_str_eq(err.message, "policy `p` is defined more than once in this set");
    mg_error_clear(&err);
    assert_exact(&s, s.phase);
    strict_close(&s, e);
}

/* ==========================================================================
 * Decisions, handles, reload
 * ========================================================================== */

/* The sample requests of dp://sales/orders with the effect `meshgov eval`
 * gives them. */
static const struct { const char *file; mg_effect effect; } orders_requests[] = {
    { "samples/requests/analyst-orders-fraud.json", MG_ALLOW },
    { "samples/requests/analyst-orders-no-purpose.json", MG_PARTIAL },
    { "samples/requests/orders-from-us-east.json", MG_DENY },
    { "samples/requests/partner-orders.json", MG_PARTIAL },
};
#define NREQUESTS (sizeof orders_requests / sizeof *orders_requests)

/* Each request as JSON, with explain, and its report with the trace. */
static void decide_requests(strict *s, const mg_policy_set *set, mg_decision *d)
{
    for (size_t i = 0; i < NREQUESTS; i++) {
        size_t len;
        char *json = h_read_file(orders_requests[i].file, &len);
        mg_error err = { 0 };
        s->phase = orders_requests[i].file;
        cr_assert_eq(mg_decide_json(set, json, len, NOW, d, &err), MG_OK, "%s: %s", orders_requests[i].file,
                     err.message ? err.message : "");
        cr_assert_eq(mg_decision_effect(d), orders_requests[i].effect, "%s", orders_requests[i].file);
        char *report = NULL;
        cr_assert_eq(mg_decision_json(set, d, true, &report, NULL), MG_OK);
        cr_assert_not_null(strstr(report, "\"trace\""), "%s: no trace in the report", orders_requests[i].file);
        mg_free(report);
        free(json);
        assert_exact(s, orders_requests[i].file);
    }
}

#define NHANDLES 600    /* over two chunks of handles */

static const char *const ann = "{\"id\": \"ann@corp.example\", \"roles\": [\"analyst\", \"pii-reader\"],"
                               " \"domain\": \"sales\"}";
static const char *const fraud = "{\"purpose\": \"fraud\", \"region\": \"eu-west-1\"}";

/* Ann reads four columns of orders for fraud: allowed, email hashed (the
 * handle path of analyst-orders-fraud.json). */
static void decide_ann(const mg_policy_set *set, mg_decision *d, const mg_subject *subj, const mg_context *ctx)
{
    int port = mg_port_id(set, "orders");
    int cols[] = { mg_column_id(set, port, "order_id"), mg_column_id(set, port, "customer_id"),
                   mg_column_id(set, port, "email"), mg_column_id(set, port, "amount_cents") };
    mg_request r = { subj, mg_action_id(set, "read"), port, cols, 4, ctx, NOW };
    cr_assert_eq(mg_decide(set, &r, d, NULL), MG_OK);
    cr_assert_eq(mg_decision_effect(d), MG_ALLOW);
    int col;
    mg_effect eff;
    mg_mask mask;
    mg_decision_column(d, 2, &col, &eff, &mask);
    cr_assert_eq(mask, MG_MASK_HASH);
}

Test(alloc, decisions_handles_and_a_reload_give_each_block_back_with_its_size)
{
    strict s;
    mg_engine *e = strict_engine(&s);
    mg_error err = { 0 };
    s.phase = "load";
    cr_assert_eq(mg_engine_load(e, MESH, "dp://sales/orders", &err), MG_OK, "%s", err.message);
    mg_policy_set *old = mg_engine_acquire(e);
    mg_decision *d;
    s.phase = "mg_decision_new";
    long before = atomic_load(&s.live);
    cr_assert_eq(mg_decision_new(old, &d, NULL), MG_OK);
    /* The decision, its scratch, stack, columns and trace, and pcre2's
     * match data and match context: all from the hook. */
    cr_assert_eq(atomic_load(&s.live) - before, 7, "a decision holds %ld blocks", atomic_load(&s.live) - before);
    mg_decision_set_explain(d, true);
    decide_requests(&s, old, d);

    /* Many subjects and contexts; half freed, then made again in the freed
     * slots. */
    static mg_subject *subj[NHANDLES];
    static mg_context *ctx[NHANDLES];
    s.phase = "subjects and contexts";
    for (int i = 0; i < NHANDLES; i++) {
        cr_assert_eq(mg_subject_new(old, ann, strlen(ann), &subj[i], NULL), MG_OK);
        cr_assert_eq(mg_context_new(old, fraud, strlen(fraud), &ctx[i], NULL), MG_OK);
    }
    for (int i = 0; i < NHANDLES; i += 2) {
        mg_subject_free(subj[i]);
        mg_context_free(ctx[i]);
    }
    for (int i = 0; i < NHANDLES; i += 2) {
        cr_assert_eq(mg_subject_new(old, ann, strlen(ann), &subj[i], NULL), MG_OK);
        cr_assert_eq(mg_context_new(old, fraud, strlen(fraud), &ctx[i], NULL), MG_OK);
    }
    decide_ann(old, d, subj[NHANDLES - 1], ctx[0]);
    assert_exact(&s, "subjects and contexts");

    /* Reload by swap: a set compiled from the same sources replaces the
     * engine's; the handles and the decision keep the old one alive. */
    s.phase = "reload by swap";
    size_t plen, mlen, glen;
    char *product = h_read_file(MESH "/domains/sales/orders/product.yaml", &plen);
    char *mesh = h_read_file(MESH "/mesh.yaml", &mlen);
    char *policy = h_read_file(MESH "/policies/global/pii_purpose_limitation.policy", &glen);
    mg_source pol = { "pii_purpose_limitation.policy", policy, glen };
    mg_source pr = { "product.yaml", product, plen };
    mg_source ms = { "mesh.yaml", mesh, mlen };
    mg_compile_input in = { &pol, 1, &pr, &ms };
    mg_policy_set *fresh;
    cr_assert_eq(mg_compile(e, &in, &fresh, &err), MG_OK, "%s", err.message);
    cr_assert_eq(mg_engine_swap(e, fresh), MG_OK);
    mg_policy_set_release(fresh);
    free(product);
    free(mesh);
    free(policy);
    mg_policy_set_release(old);
    decide_ann(old, d, subj[1], ctx[1]);
    for (int i = 0; i < NHANDLES; i++) {
        mg_subject_free(subj[i]);
        mg_context_free(ctx[i]);
    }
    mg_decision_free(d);          /* the last reference: the old set goes */
    assert_exact(&s, "reload by swap");

    /* And by a load of the mesh again. */
    s.phase = "reload by load";
    cr_assert_eq(mg_engine_load(e, MESH, "dp://sales/orders", &err), MG_OK, "%s", err.message);
    mg_policy_set *cur = mg_engine_acquire(e);
    cr_assert_eq(mg_decision_new(cur, &d, NULL), MG_OK);
    decide_requests(&s, cur, d);
    mg_decision_free(d);
    mg_policy_set_release(cur);
    strict_close(&s, e);
}

/* ==========================================================================
 * Bundles
 * ========================================================================== */

Test(alloc, bundles_written_loaded_and_refused_give_each_block_back_with_its_size)
{
    strict s;
    mg_engine *e = strict_engine(&s);
    mg_error err = { 0 };
    s.phase = "load";
    cr_assert_eq(mg_engine_load(e, MESH, "dp://sales/orders", &err), MG_OK, "%s", err.message);
    mg_policy_set *set = mg_engine_acquire(e);
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_keypair(pk, sk);
    char *plain = NULL, *signed_ = NULL;
    size_t plain_len, signed_len;
    s.phase = "mg_bundle_write";
    cr_assert_eq(mg_bundle_write(set, NULL, &plain, &plain_len, NULL), MG_OK);
    cr_assert_eq(mg_bundle_write(set, sk, &signed_, &signed_len, NULL), MG_OK);
    assert_exact(&s, "mg_bundle_write");

    s.phase = "mg_bundle_load";
    mg_policy_set *loaded[2];
    cr_assert_eq(mg_bundle_load(e, plain, plain_len, NULL, &loaded[0], &err), MG_OK, "%s", err.message);
    cr_assert_eq(mg_bundle_load(e, signed_, signed_len, pk, &loaded[1], &err), MG_OK, "%s", err.message);
    for (int k = 0; k < 2; k++) {
        cr_assert_str_eq(mg_policy_set_digest(loaded[k]), mg_policy_set_digest(set));
        mg_decision *d;
        cr_assert_eq(mg_decision_new(loaded[k], &d, NULL), MG_OK);
        mg_decision_set_explain(d, true);
        decide_requests(&s, loaded[k], d);
        mg_decision_free(d);
        mg_policy_set_release(loaded[k]);
    }
    assert_exact(&s, "mg_bundle_load");

    /* Every cut of the bundle is refused, whatever part of the program it
     * ends in, with what was read so far given back exactly. */
    s.phase = "truncated bundles";
    long live = atomic_load(&s.live);
    int refused = 0;
    size_t step = plain_len / 400 + 1;
    for (size_t n = 0; n < plain_len; n += step) {
        mg_policy_set *cut = NULL;
        mg_error cerr = { 0 };
        cr_assert_eq(mg_bundle_load(e, plain, n, NULL, &cut, &cerr), MG_EFORMAT, "%zu of %zu bytes", n, plain_len);
        cr_assert_null(cut);
        mg_error_clear(&cerr);
        refused++;
    }
    assert_exact(&s, "truncated bundles");
    cr_assert_eq(atomic_load(&s.live), live, "a refused bundle left blocks behind");
    cr_assert_gt(refused, 300);
    mg_free(plain);
    mg_free(signed_);
    mg_policy_set_release(set);
    strict_close(&s, e);
}

/* ==========================================================================
 * Every failed allocation
 * ========================================================================== */

/* Fails each allocation of op in turn, from the first until op succeeds:
 * each failure is MG_ENOMEM, gives back every block op took, each with
 * its size. Returns the number of allocations op makes. */
typedef mg_status (*op_fn)(mg_engine *e, void *arg, mg_policy_set **out, mg_error *err);

static int fail_each(strict *s, mg_engine *e, op_fn op, void *arg, const char *what)
{
    int failures = 0;
    for (long n = 1;; n++) {
        cr_assert_lt(n, 200000, "%s never completed", what);
        long live = atomic_load(&s->live), bytes = atomic_load(&s->bytes), calls = atomic_load(&s->calls);
        mg_policy_set *set = NULL;
        mg_error err = { 0 };
        atomic_store(&s->fail_at, calls + n);
        mg_status st = op(e, arg, &set, &err);
        atomic_store(&s->fail_at, 0);
        assert_exact(s, what);
        if (st == MG_OK) {
            cr_assert_lt(atomic_load(&s->calls) - calls, n, "%s: allocation %ld failed, yet it succeeded", what, n);
            mg_policy_set_release(set);
            cr_assert_eq(atomic_load(&s->live), live, "%s: a set released left blocks behind", what);
            return failures;
        }
        cr_assert_eq(st, MG_ENOMEM, "%s: allocation %ld failed: status %d (%s)", what, n, st,
                     err.message ? err.message : "");
        cr_assert_null(set);
        mg_error_clear(&err);
        cr_assert_eq(atomic_load(&s->live), live, "%s: allocation %ld failed: %ld blocks left behind", what, n,
                     atomic_load(&s->live) - live);
        cr_assert_eq(atomic_load(&s->bytes), bytes, "%s: allocation %ld failed: bytes left behind", what, n);
        failures++;
    }
}

static mg_status load_orders(mg_engine *e, void *arg, mg_policy_set **out, mg_error *err)
{
    (void)arg;
    mg_status st = mg_engine_load(e, MESH, "dp://sales/orders", err);
    if (st == MG_OK) {      /* the caller's to release: the engine keeps none */
        *out = mg_engine_acquire(e);
        mg_engine_swap(e, NULL);
    }
    return st;
}

typedef struct bytes { const char *p; size_t n; } bytes;

static mg_status load_bundle(mg_engine *e, void *arg, mg_policy_set **out, mg_error *err)
{
    const bytes *b = arg;
    return mg_bundle_load(e, b->p, b->n, NULL, out, err);
}

Test(alloc, every_failed_allocation_of_a_load_and_of_a_bundle_gives_each_block_back_with_its_size)
{
    /* Without the mesh cache, every load reads the manifests again, and a
     * failure past them leaves nothing behind. */
    strict s;
    mg_engine *e = strict_engine_with(&s, true);
    s.phase = "failing load";
    int nload = fail_each(&s, e, load_orders, NULL, "mg_engine_load");
    cr_assert_gt(nload, 700, "only %d allocations in a load of dp://sales/orders (the mesh, then the set)?", nload);

    cr_assert_eq(mg_engine_load(e, MESH, "dp://sales/orders", NULL), MG_OK);
    mg_policy_set *set = mg_engine_acquire(e);
    bytes b;
    cr_assert_eq(mg_bundle_write(set, NULL, (char **)&b.p, &b.n, NULL), MG_OK);
    mg_policy_set_release(set);
    s.phase = "failing bundle load";
    int nbundle = fail_each(&s, e, load_bundle, &b, "mg_bundle_load");
    cr_assert_gt(nbundle, 30, "only %d allocations in a bundle load?", nbundle);
    cr_log_info("a load makes %d allocations, a bundle load %d", nload, nbundle);
    mg_free((char *)b.p);
    strict_close(&s, e);
}
