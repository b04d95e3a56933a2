/*
 * test_handles.c — subject and context handles packed in chunks of their set
 * (engine/handles.c): thousands of handles over several chunks with freed
 * slots reused, allocation failure at every step of a batch that needs a new
 * chunk, threads making and freeing handles of one set at once, and a handle
 * that keeps alive the set a reload replaced until it is freed. A counting
 * allocator shows every byte given back.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/engine.h"
#include "tests/engine/harness.h"

/* On port `orders` (five columns, `card` tagged pci), by the subject's roles:
 * none or only "pci": deny; "reader": partial, card withheld; "reader" and
 * "pci": allow. */
static const char *const policy_text =
    "policy p {\n"
    "  version 1\n"
    "  permit read on port when subject.roles has \"reader\"\n"
    "  forbid read on column when column.tags has \"pci\" unless subject.roles has \"pci\"\n"
    "}\n";

#define KINDS 4
static const char *const roles_of[KINDS] = { "[]", "[\"reader\"]", "[\"reader\", \"pci\"]", "[\"pci\"]" };
static const mg_effect effect_of[KINDS] = { MG_DENY, MG_PARTIAL, MG_ALLOW, MG_DENY };

/* 255 handles of 32 bytes fit in an 8 KiB chunk after its header, wherever
 * the allocator puts the chunk (handles.c). */
#define PER_CHUNK 255

/* ==========================================================================
 * A counting allocator, safe to share between threads
 * ========================================================================== */

typedef struct counting {
    atomic_long calls;      /* allocations and resizes asked for */
    atomic_long fail_at;    /* the call that fails; 0: none */
    atomic_long live;       /* blocks not given back */
    atomic_long bytes;      /* bytes not given back */
    size_t shift;           /* 16 or 32: where a block starts after its
                               32-byte aligned base; 0 is taken as 16 */
} counting;

/* Each block carries its size at its base, so the bytes counted do not
 * depend on the sizes meshgov passes back; the block starts `shift` bytes
 * after a 32-byte boundary, so a test can choose where chunks fall. */
static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    counting *c = ud;
    size_t shift = c->shift ? c->shift : 16;
    char *old = ptr ? (char *)ptr - shift : NULL;
    size_t had = 0;
    (void)osize;
    if (old)
        memcpy(&had, old, sizeof had);
    if (nsize == 0) {
        if (old) {
            atomic_fetch_sub(&c->live, 1);
            atomic_fetch_sub(&c->bytes, (long)had);
        }
        free(old);
        return NULL;
    }
    if (atomic_fetch_add(&c->calls, 1) + 1 == atomic_load(&c->fail_at))
        return NULL;
    char *n = aligned_alloc(32, (nsize + shift + 31) / 32 * 32);
    if (!n)
        return NULL;
    memcpy(n, &nsize, sizeof nsize);
    if (old) {
        memcpy(n + shift, old + shift, had < nsize ? had : nsize);
        free(old);
    }
    atomic_fetch_add(&c->live, old ? 0 : 1);
    atomic_fetch_add(&c->bytes, (long)nsize - (long)had);
    return n + shift;
}

typedef struct fixture {
    counting c;
    mg_engine *e;
    mg_policy_set *set;
    mg_decision *d;
    int read, orders, card;
} fixture;

static void fixture_open(fixture *f, size_t shift)
{
    memset(f, 0, sizeof *f);
    f->c.shift = shift;
    mg_config cfg = { .alloc = counting_alloc, .alloc_ud = &f->c };
    mg_error err = { 0 };
    cr_assert_eq(mg_engine_new(&cfg, &f->e, NULL), MG_OK);
    cr_assert_eq(h_compile(f->e, policy_text, NULL, NULL, &f->set, &err), MG_OK, "%s",
                 err.detail ? err.detail : "");
    cr_assert_eq(mg_decision_new(f->set, &f->d, NULL), MG_OK);
    f->read = mg_action_id(f->set, "read");
    f->orders = mg_port_id(f->set, "orders");
    f->card = mg_column_id(f->set, f->orders, "card");
    cr_assert(f->read >= 0 && f->orders >= 0 && f->card >= 0);
}

/* Frees everything but the handles, which the test has freed; then nothing
 * may be left of what meshgov allocated. */
static void fixture_close(fixture *f)
{
    mg_decision_free(f->d);
    mg_policy_set_release(f->set);
    mg_engine_free(f->e);
    cr_assert_eq(atomic_load(&f->c.live), 0, "%ld blocks leaked", atomic_load(&f->c.live));
    cr_assert_eq(atomic_load(&f->c.bytes), 0, "%ld bytes leaked", atomic_load(&f->c.bytes));
}

static mg_status subject_new(const mg_policy_set *set, const char *tag, int i, int kind, mg_subject **out)
{
    char json[128];
    int n = snprintf(json, sizeof json, "{\"id\": \"%s-%d\", \"roles\": %s}", tag, i, roles_of[kind]);
    return mg_subject_new(set, json, (size_t)n, out, NULL);
}

/* Decides subject s on port orders; true when the outcome is exactly that of
 * its kind: the effect, and for a partial, card the one column withheld. */
static bool decides_as(const mg_policy_set *set, mg_decision *d, const mg_subject *s, int kind, int read,
                       int orders, int card)
{
    mg_request req = { s, read, orders, NULL, 0, NULL, H_NOW };
    if (mg_decide(set, &req, d, NULL) != MG_OK || mg_decision_effect(d) != effect_of[kind] ||
        mg_decision_column_count(d) != 5)
        return false;
    for (size_t i = 0; i < 5; i++) {
        int col;
        mg_effect eff;
        mg_mask mask;
        mg_decision_column(d, i, &col, &eff, &mask);
        mg_effect want = effect_of[kind] == MG_PARTIAL ? (col == card ? MG_DENY : MG_ALLOW) : effect_of[kind];
        if (eff != want || mask != MG_MASK_NONE)
            return false;
    }
    return true;
}

static void assert_decides(fixture *f, const mg_subject *s, int kind, const char *what, int i)
{
    cr_assert(decides_as(f->set, f->d, s, kind, f->read, f->orders, f->card),
              "%s %d (roles %s) was not decided %s", what, i, roles_of[kind],
              (const char *[]){ "deny", "allow", "partial" }[effect_of[kind]]);
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* ==========================================================================
 * Many handles, several chunks, freed slots reused
 * ========================================================================== */

#define MANY 2000

/* shift 32: chunks start on a 32-byte boundary, the first handle 32 bytes
 * in; shift 16: halfway between two, the first handle 16 bytes in. Either
 * way 255 handles fit. */
static void many_handles(size_t shift)
{
    fixture f;
    fixture_open(&f, shift);
    static mg_subject *s[MANY];
    static int kind[MANY];
    static uintptr_t freed[MANY / 2];

    long live0 = atomic_load(&f.c.live);
    for (int i = 0; i < MANY; i++) {
        kind[i] = i % KINDS;
        cr_assert_eq(subject_new(f.set, "u", i, kind[i], &s[i]), MG_OK);
        cr_assert_eq((uintptr_t)s[i] % 32, 0, "handle %d is not on a 32-byte boundary", i);
    }
    /* One block of attribute values per handle, and the chunks. */
    long chunks = atomic_load(&f.c.live) - live0 - MANY;
    cr_assert_eq(chunks, (MANY + PER_CHUNK - 1) / PER_CHUNK, "%ld chunks for %d handles", chunks, MANY);
    uintptr_t addr[MANY];
    for (int i = 0; i < MANY; i++)
        addr[i] = (uintptr_t)s[i];
    qsort(addr, MANY, sizeof *addr, cmp_ptr);
    for (int i = 1; i < MANY; i++)
        cr_assert_geq(addr[i] - addr[i - 1], 32, "two handles overlap");

    long calls = atomic_load(&f.c.calls);
    for (int i = 0; i < MANY; i++)
        assert_decides(&f, s[i], kind[i], "subject", i);
    cr_assert_eq(atomic_load(&f.c.calls), calls, "deciding allocated");

    for (int i = 1, k = 0; i < MANY; i += 2, k++) {
        freed[k] = (uintptr_t)s[i];
        mg_subject_free(s[i]);
        s[i] = NULL;
    }
    qsort(freed, MANY / 2, sizeof *freed, cmp_ptr);
    long live1 = atomic_load(&f.c.live);
    cr_assert_eq(live1, live0 + chunks + MANY / 2);

    /* The new handles take the freed slots: no new chunk. Other roles. */
    for (int i = 1; i < MANY; i += 2) {
        kind[i] = (i / 2 + 1) % KINDS;
        cr_assert_eq(subject_new(f.set, "v", i, kind[i], &s[i]), MG_OK);
        uintptr_t p = (uintptr_t)s[i];
        cr_assert_not_null(bsearch(&p, freed, MANY / 2, sizeof *freed, cmp_ptr),
                           "new handle %d is not in a freed slot", i);
    }
    cr_assert_eq(atomic_load(&f.c.live), live1 + MANY / 2, "reusing freed slots allocated a chunk");
    for (int i = 0; i < MANY; i++)
        assert_decides(&f, s[i], kind[i], "subject", i);

    for (int i = 0; i < MANY; i++)
        mg_subject_free(s[i]);
    cr_assert_eq(atomic_load(&f.c.live), live0 + chunks, "the chunks stay with the set, the rest is freed");
    fixture_close(&f);
}

Test(handles, many_handles_over_several_chunks_reuse_freed_slots_and_leave_nothing)
{
    many_handles(32);
    many_handles(16);
}

/* ==========================================================================
 * Out of memory
 * ========================================================================== */

#define BEFORE (PER_CHUNK - 5)  /* handles made before the batch */
#define BATCH 10                /* the 6th handle of the batch needs a chunk */

/* Makes handle j of the batch: subjects and contexts share the pool. */
static mg_status batch_new(fixture *f, int j, mg_subject **sj, mg_context **cx)
{
    *sj = NULL;
    *cx = NULL;
    if (j % 2)
        return mg_context_new(f->set, "{\"purpose\": \"fraud\"}", 20, cx, NULL);
    return subject_new(f->set, "b", j, j % KINDS, sj);
}

static void batch_decides(fixture *f, mg_subject *const *sj, mg_context *const *cx, int made)
{
    for (int j = 0; j < made; j++) {
        if (sj[j])
            assert_decides(f, sj[j], j % KINDS, "batch subject", j);
        if (!cx[j])
            continue;
        /* A context of the batch, with a new "reader" subject. */
        mg_subject *s;
        cr_assert_eq(subject_new(f->set, "c", j, 1, &s), MG_OK);
        mg_request req = { s, f->read, f->orders, NULL, 0, cx[j], H_NOW };
        cr_assert_eq(mg_decide(f->set, &req, f->d, NULL), MG_OK);
        cr_assert_eq(mg_decision_effect(f->d), MG_PARTIAL);
        mg_subject_free(s);
    }
}

Test(handles, every_failed_allocation_of_a_batch_that_needs_a_chunk_is_clean)
{
    int failures = 0;
    for (long n = 1;; n++) {
        cr_assert_lt(n, 1000, "the batch never completed");
        fixture f;
        fixture_open(&f, 0);
        mg_subject *before[BEFORE];
        for (int i = 0; i < BEFORE; i++)
            cr_assert_eq(subject_new(f.set, "a", i, i % KINDS, &before[i]), MG_OK);

        mg_subject *sj[BATCH] = { 0 };
        mg_context *cx[BATCH] = { 0 };
        long live0 = atomic_load(&f.c.live);
        atomic_store(&f.c.fail_at, atomic_load(&f.c.calls) + n);
        int made = 0;
        bool failed = false;
        for (; made < BATCH; made++) {
            long live = atomic_load(&f.c.live), bytes = atomic_load(&f.c.bytes);
            mg_status s = batch_new(&f, made, &sj[made], &cx[made]);
            if (s != MG_OK) {
                cr_assert_eq(s, MG_ENOMEM, "allocation %ld failed: status %d, expected MG_ENOMEM", n, s);
                cr_assert(!sj[made] && !cx[made], "allocation %ld failed, yet a handle came out", n);
                cr_assert_eq(atomic_load(&f.c.live), live, "allocation %ld failed: blocks leaked", n);
                cr_assert_eq(atomic_load(&f.c.bytes), bytes, "allocation %ld failed: bytes leaked", n);
                failed = true;
                break;
            }
        }
        atomic_store(&f.c.fail_at, 0);
        if (!failed)   /* one block each, and one chunk */
            cr_assert_eq(atomic_load(&f.c.live), live0 + BATCH + 1);

        /* What was made before and during the batch decides as it should,
         * and the batch completes once memory is back. */
        for (int i = 0; i < BEFORE; i++)
            assert_decides(&f, before[i], i % KINDS, "subject made before", i);
        for (int j = made; j < BATCH; j++)
            cr_assert_eq(batch_new(&f, j, &sj[j], &cx[j]), MG_OK, "allocation %ld failed: batch %d", n, j);
        batch_decides(&f, sj, cx, BATCH);
        for (int j = 0; j < BATCH; j++) {
            mg_subject_free(sj[j]);
            mg_context_free(cx[j]);
        }
        for (int i = 0; i < BEFORE; i++)
            mg_subject_free(before[i]);
        fixture_close(&f);
        if (!failed)
            break;
        failures++;
    }
    /* Subjects evaluate their facts (two scratch blocks), contexts do not;
     * and one chunk. */
    cr_assert_eq(failures, 5 * 3 + 5 + 1, "%d allocations in the batch", failures);
}

/* mg_decide_json resolves its subject to a handle of the set's pool for the
 * one call; with the chunks full, that handle needs a new chunk. */
Test(handles, every_failed_allocation_of_a_json_decision_is_clean)
{
    static const char *const req =
        "{\"subject\": {\"id\": \"ann\", \"roles\": [\"reader\"]}, \"action\": \"read\", \"port\": \"orders\","
        " \"context\": {\"purpose\": \"fraud\"}}";
    int failures = 0;
    for (long n = 1;; n++) {
        cr_assert_lt(n, 1000, "the decision never completed");
        fixture f;
        fixture_open(&f, 0);
        mg_subject *full[PER_CHUNK];
        for (int i = 0; i < PER_CHUNK; i++)
            cr_assert_eq(subject_new(f.set, "a", i, i % KINDS, &full[i]), MG_OK);
        long live = atomic_load(&f.c.live), bytes = atomic_load(&f.c.bytes);
        atomic_store(&f.c.fail_at, atomic_load(&f.c.calls) + n);
        mg_error err = { 0 };
        mg_status s = mg_decide_json(f.set, req, strlen(req), H_NOW, f.d, &err);
        atomic_store(&f.c.fail_at, 0);
        if (s == MG_OK) {
            cr_assert_eq(mg_decision_effect(f.d), MG_PARTIAL);
            cr_assert_eq(atomic_load(&f.c.live), live + 1, "the new chunk stays with the set");
        } else {
            cr_assert_eq(s, MG_ENOMEM, "allocation %ld failed: status %d (%s)", n, s,
                         err.message ? err.message : "");
            /* The column list, the subject's block, its two scratch blocks
             * and its chunk come first; past them only the chunk stays,
             * with the set. */
            long chunk = n > 5 ? 1 : 0;
            cr_assert_eq(atomic_load(&f.c.live), live + chunk, "allocation %ld failed: blocks leaked", n);
            if (!chunk)
                cr_assert_eq(atomic_load(&f.c.bytes), bytes, "allocation %ld failed: bytes leaked", n);
            failures++;
        }
        mg_error_clear(&err);
        for (int i = 0; i < PER_CHUNK; i++) {
            assert_decides(&f, full[i], i % KINDS, "subject made before", i);
            mg_subject_free(full[i]);
        }
        fixture_close(&f);
        if (s == MG_OK)
            break;
    }
    /* The column list (from the set's allocator too), the subject's block,
     * its two scratch blocks, the chunk; the context's block. */
    cr_assert_eq(failures, 6, "%d allocations in a JSON decision", failures);
}

/* ==========================================================================
 * Threads
 * ========================================================================== */

#define THREADS 4
#define PER_THREAD 5000
#define WINDOW 64   /* handles each thread keeps alive at once */

typedef struct worker {
    fixture *f;
    int id;
    long made, decided, wrong, failed;
} worker;

/* Makes, decides and frees PER_THREAD subjects, WINDOW alive at a time; a
 * handle is decided again just before it is freed, so a slot handed to two
 * threads at once shows as a wrong outcome. */
static void *churn(void *arg)
{
    worker *w = arg;
    fixture *f = w->f;
    mg_decision *d;
    if (mg_decision_new(f->set, &d, NULL) != MG_OK) {
        w->failed++;
        return NULL;
    }
    mg_subject *win[WINDOW] = { 0 };
    int kinds[WINDOW] = { 0 };
    for (int i = 0; i < PER_THREAD + WINDOW; i++) {
        int k = i % WINDOW;
        if (win[k]) {
            w->wrong += !decides_as(f->set, d, win[k], kinds[k], f->read, f->orders, f->card);
            w->decided++;
            mg_subject_free(win[k]);
            win[k] = NULL;
        }
        if (i >= PER_THREAD)
            continue;
        kinds[k] = (i * 7 + w->id) % KINDS;
        char tag[16];
        snprintf(tag, sizeof tag, "t%d", w->id);
        if (subject_new(f->set, tag, i, kinds[k], &win[k]) != MG_OK) {
            w->failed++;
            continue;
        }
        w->made++;
        w->wrong += !decides_as(f->set, d, win[k], kinds[k], f->read, f->orders, f->card);
        w->decided++;
    }
    mg_decision_free(d);
    return NULL;
}

Test(handles, threads_make_decide_and_free_handles_of_one_set)
{
    fixture f;
    fixture_open(&f, 0);
    worker w[THREADS];
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){ &f, i, 0, 0, 0, 0 };
        cr_assert_eq(pthread_create(&t[i], NULL, churn, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        cr_assert_eq(w[i].failed, 0, "thread %d: %ld failures", i, w[i].failed);
        cr_assert_eq(w[i].made, PER_THREAD);
        cr_assert_eq(w[i].decided, 2 * PER_THREAD);
        cr_assert_eq(w[i].wrong, 0, "thread %d: %ld wrong outcomes", i, w[i].wrong);
    }
    fixture_close(&f);
}

/* ==========================================================================
 * A handle outliving a reload
 * ========================================================================== */

static const char *const ann = "{\"id\": \"ann@corp.example\", \"roles\": [\"analyst\", \"pii-reader\"],"
                               " \"domain\": \"sales\"}";
static const char *const fraud = "{\"purpose\": \"fraud\", \"region\": \"eu-west-1\"}";

/* samples/requests/analyst-orders-fraud.json, by handles: allowed, email
 * hashed. Without the context the region is missing and data locality
 * forbids the product (fail closed). */
static void decide_ann(const mg_policy_set *set, const mg_subject *s, const mg_context *c)
{
    int port = mg_port_id(set, "orders");
    int cols[4] = { mg_column_id(set, port, "order_id"), mg_column_id(set, port, "customer_id"),
                    mg_column_id(set, port, "email"), mg_column_id(set, port, "amount_cents") };
    mg_request req = { s, mg_action_id(set, "read"), port, cols, 4, c, H_NOW };
    mg_decision *d;
    cr_assert_eq(mg_decision_new(set, &d, NULL), MG_OK);
    mg_error err = { 0 };
    cr_assert_eq(mg_decide(set, &req, d, &err), MG_OK, "%s", err.message ? err.message : "");
    mg_effect want = c ? MG_ALLOW : MG_DENY;
    cr_assert_eq(mg_decision_effect(d), want);
    cr_assert_eq(mg_decision_column_count(d), 4);
    for (size_t i = 0; i < 4; i++) {
        int col;
        mg_effect eff;
        mg_mask mask;
        mg_decision_column(d, i, &col, &eff, &mask);
        cr_assert_eq(col, cols[i]);
        cr_assert_eq(eff, want, "column %zu", i);
        cr_assert_eq(mask, c && i == 2 ? MG_MASK_HASH : MG_MASK_NONE, "column %zu", i);
    }
    mg_decision_free(d);
}

Test(handles, a_handle_keeps_the_set_a_reload_replaced_until_it_is_freed)
{
    counting c = { 0 };
    mg_config cfg = { .alloc = counting_alloc, .alloc_ud = &c };
    mg_engine *e;
    mg_error err = { 0 };
    cr_assert_eq(mg_engine_new(&cfg, &e, NULL), MG_OK);
    cr_assert_eq(mg_engine_load(e, "samples/mesh", "dp://sales/orders", &err), MG_OK, "%s", err.message);
    long loaded = atomic_load(&c.live), loaded_bytes = atomic_load(&c.bytes);
    mg_policy_set *old = mg_engine_acquire(e);
    mg_subject *s;
    mg_context *ctx;
    cr_assert_eq(mg_subject_new(old, ann, strlen(ann), &s, NULL), MG_OK);
    cr_assert_eq(mg_context_new(old, fraud, strlen(fraud), &ctx, NULL), MG_OK);
    mg_policy_set_release(old);

    cr_assert_eq(mg_engine_load(e, "samples/mesh", "dp://sales/orders", &err), MG_OK, "%s", err.message);
    mg_policy_set *cur = mg_engine_acquire(e);
    cr_assert_neq(cur, old);
    mg_policy_set_release(cur);
    cr_assert_eq(atomic_load(&old->refs), 2, "the two handles hold the replaced set, and nothing else");
    decide_ann(old, s, ctx);
    mg_context_free(ctx);
    cr_assert_eq(atomic_load(&old->refs), 1, "the subject holds the last reference");
    decide_ann(old, s, NULL);

    /* Freeing the subject frees the replaced set: what is left is the
     * engine with one set, as after the first load. */
    mg_subject_free(s);
    cr_assert_eq(atomic_load(&c.live), loaded, "%ld blocks, %ld after the first load", atomic_load(&c.live),
                 loaded);
    cr_assert_eq(atomic_load(&c.bytes), loaded_bytes);
    mg_engine_free(e);
    cr_assert_eq(atomic_load(&c.live), 0, "%ld blocks leaked", atomic_load(&c.live));
    cr_assert_eq(atomic_load(&c.bytes), 0, "%ld bytes leaked", atomic_load(&c.bytes));
}

/* ==========================================================================
 * Use after free, under AddressSanitizer
 * ========================================================================== */

#if defined(__SANITIZE_ADDRESS__)
#define H_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define H_ASAN 1
#endif
#endif

/* A freed handle stays in its set's chunk, where a later handle takes its
 * place; deciding with it after mg_subject_free must still be reported by
 * `make check` as a use after free, not decide as whichever subject got the
 * slot. So freed slots, and the part of a chunk not yet handed out, are
 * poisoned. */
#ifdef H_ASAN
#include <sanitizer/asan_interface.h>

Test(handles, freed_and_unused_slots_are_poisoned_for_the_address_sanitizer)
{
    fixture f;
    fixture_open(&f, 0);
    mg_subject *a, *b, *c;
    cr_assert_eq(subject_new(f.set, "a", 0, 1, &a), MG_OK);
    cr_assert_eq(subject_new(f.set, "b", 1, 2, &b), MG_OK);
    cr_assert_null(__asan_region_is_poisoned(a, 32));
    cr_assert_null(__asan_region_is_poisoned(b, 32));
    cr_assert_eq(__asan_region_is_poisoned((char *)b + 32, 32), (char *)b + 32, "the rest of the chunk");
    mg_subject_free(a);
    cr_assert_eq(__asan_region_is_poisoned(a, 32), (void *)a, "a freed handle");
    cr_assert(__asan_address_is_poisoned((char *)a + 31));
    assert_decides(&f, b, 2, "subject", 1);
    cr_assert_eq(subject_new(f.set, "c", 2, 3, &c), MG_OK);
    cr_assert_eq(c, a, "the freed slot is taken again");
    cr_assert_null(__asan_region_is_poisoned(c, 32));
    assert_decides(&f, c, 3, "subject", 2);
    mg_subject_free(b);
    mg_subject_free(c);
    fixture_close(&f);
}
#else
Test(handles, freed_and_unused_slots_are_poisoned_for_the_address_sanitizer)
{
    cr_skip_test("needs AddressSanitizer: make check");
}
#endif
