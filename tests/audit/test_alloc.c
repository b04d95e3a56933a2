/*
 * test_alloc.c — a log handle's allocator (mg_audit_config.alloc): every
 * block the handle and its calls take goes back with the size it was taken
 * with, nothing is left once the handle is closed, and each failed
 * allocation of a handle's life (open, a batch staged and committed,
 * proofs, queries, close) ends in a clean error, never a leak or a crash.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "audit/audit.h"
#include "tests/audit/fixture.h"
#include "tests/common/strict.h"

static int count_rows(void *ud, const char *json, size_t len)
{
    (void)json;
    (void)len;
    ++*(int *)ud;
    return 0;
}

static mg_audit_record record(int i, char subject[32], char payload[64])
{
    snprintf(subject, 32, "user%d@corp.example", i % 5);
    snprintf(payload, 64, "{\"columns\":[\"c%d\"]}", i);
    return (mg_audit_record){
        .kind = "decision", .product = "dp://sales/orders", .port = "orders",
        .subject = subject, .action = "read", .effect = i % 2 ? "deny" : "allow",
        .rules = "pii@3#1", .mode = "enforce", .payload = payload,
        .event_time_us = 1767225600000000 + i,
    };
}

/* Pushes n records, then waits for all of them: one batch of n. */
static mg_status push_batch(mg_audit_log *log, int from, int n, mg_error *err)
{
    for (int i = from; i < from + n; i++) {
        char subject[32], payload[64];
        mg_audit_record r = record(i, subject, payload);
        mg_status s = mg_audit_record_push(log, &r, NULL, err);
        if (s != MG_OK)
            return s;
    }
    return mg_audit_flush(log, err);
}

/* Proofs in both formats, a consistency proof, the latest checkpoint, a
 * query and an export; what the calls hand back is the caller's (malloc). */
static mg_status read_back(mg_audit_log *log, int proofs, mg_error *err)
{
    mg_status s = MG_OK;
    for (int i = 0; i < proofs && s == MG_OK; i++) {
        char *text = NULL;
        s = (i % 2 ? mg_audit_prove_tlog : mg_audit_prove)(log, (uint64_t)(i * 7) % 600, 0,
                                                          &text, err);
        free(text);
    }
    char *text = NULL;
    if (s == MG_OK)
        s = mg_audit_consistency(log, 8, 0, &text, err);
    free(text);
    text = NULL;
    if (s == MG_OK)
        s = mg_audit_latest_checkpoint(log, &text, err);
    free(text);
    int rows = 0;
    mg_audit_filter f = { .effect = "deny" };
    if (s == MG_OK)
        s = mg_audit_query(log, &f, count_rows, &rows, err);
    if (s == MG_OK)
        s = mg_audit_export(log, count_rows, &rows, err);
    return s;
}

Test(alloc, a_log_gives_each_block_back_with_its_size)
{
    fixture f;
    fx_init(&f);
    strict s;
    memset(&s, 0, sizeof s);
    mg_audit_config cfg = fx_config(&f, 8);
    cfg.alloc = strict_alloc;
    cfg.alloc_ud = &s;
    mg_audit_log *log;
    mg_error err = { 0 };
    s.phase = "writer";
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK, "%s", err.message);
    /* A checkpoint at 8 for the consistency proof, then 600 staged at
     * once: the writer's arrays grow past their first 256. */
    cr_assert_eq(push_batch(log, 0, 8, &err), MG_OK, "%s", err.message);
    cr_assert_eq(push_batch(log, 8, 600, &err), MG_OK, "%s", err.message);
    cr_assert_eq(read_back(log, 40, &err), MG_OK, "%s", err.message);
    cr_assert_eq(mg_audit_forget_subject(log, "user1@corp.example", &err), MG_OK, "%s",
                 err.message);
    char newkey[512];
    snprintf(newkey, sizeof newkey, "%s/new.key", f.dir);
    char *vkey = NULL;
    cr_assert_eq(mg_audit_keygen("acme/sales/orders", newkey, &vkey, &err), MG_OK, "%s",
                 err.message);
    free(vkey);
    cr_assert_eq(mg_audit_rotate_key(log, newkey, &err), MG_OK, "%s", err.message);
    cr_assert_eq(push_batch(log, 608, 10, &err), MG_OK, "%s", err.message);
    long used = atomic_load(&s.calls);
    mg_audit_close(log);
    assert_exact(&s, "after the writer");
    cr_assert_gt(used, 20, "the hook served the handle (%ld calls)", used);
    cr_assert_eq(atomic_load(&s.live), 0, "%ld blocks (%ld bytes) never given back",
                 atomic_load(&s.live), atomic_load(&s.bytes));

    /* A reader serving many proofs fills its level caches. */
    s.phase = "reader";
    mg_audit_config rd = { .path = f.db, .alloc = strict_alloc, .alloc_ud = &s };
    cr_assert_eq(mg_audit_open(&rd, &log, &err), MG_OK, "%s", err.message);
    cr_assert_eq(read_back(log, 400, &err), MG_OK, "%s", err.message);
    mg_audit_close(log);
    assert_exact(&s, "after the reader");
    cr_assert_eq(atomic_load(&s.live), 0, "%ld blocks (%ld bytes) never given back",
                 atomic_load(&s.live), atomic_load(&s.bytes));
    mg_error_clear(&err);
    fx_fini(&f);
}

/* The strict allocator, with every new block filled with junk: a field
 * read before it is set is a wild pointer, not a lucky zero. */
static void *filling_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    void *p = strict_alloc(ud, ptr, osize, nsize);
    if (p && !ptr)
        memset(p, 0xA5, nsize);
    return p;
}

/* A proof whose read transaction cannot begin frees nothing it did not
 * take (the connection is left inside a transaction of its own). */
Test(alloc, a_proof_that_cannot_begin_gives_nothing_back_it_did_not_take)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 10, 5);
    strict s;
    memset(&s, 0, sizeof s);
    mg_audit_config cfg = { .path = f.db, .alloc = filling_alloc, .alloc_ud = &s };
    mg_audit_log *log;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK, "%s", err.message);
    cr_assert_eq(sqlite3_exec(log->db.db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    char *proof = (char *)1;
    cr_assert_neq(mg_audit_prove_tlog(log, 3, 0, &proof, &err), MG_OK);
    cr_assert_null(proof);
    sqlite3_exec(log->db.db, "ROLLBACK", NULL, NULL, NULL);
    mg_audit_close(log);
    assert_exact(&s, "a proof that could not begin");
    cr_assert_eq(atomic_load(&s.live), 0);
    mg_error_clear(&err);
    fx_fini(&f);
}

/* One handle's life with allocation `fail_at` failing (0: none). Returns
 * the allocations it asked for; every block must be back at the end. */
static long life(long fail_at)
{
    fixture f;
    fx_init(&f);
    strict s;
    memset(&s, 0, sizeof s);
    atomic_store(&s.fail_at, fail_at);
    s.phase = "life";
    mg_audit_config cfg = fx_config(&f, 8);
    cfg.alloc = strict_alloc;
    cfg.alloc_ud = &s;
    mg_audit_log *log = NULL;
    mg_error err = { 0 };
    mg_status st = mg_audit_open(&cfg, &log, &err);
    if (st == MG_OK) {
        st = push_batch(log, 0, 8, &err);
        if (st == MG_OK)
            st = push_batch(log, 8, 300, &err);
        if (st == MG_OK)
            st = read_back(log, 4, &err);
        mg_audit_close(log);
    }
    cr_assert(st == MG_OK || st == MG_ENOMEM || st == MG_EDB || st == MG_EIO,
              "allocation %ld failing: status %d (%s)", fail_at, st, err.message);
    cr_assert(fail_at != 0 || st == MG_OK, "%s", err.message);
    assert_exact(&s, "a failed allocation");
    cr_assert_eq(atomic_load(&s.live), 0,
                 "allocation %ld failing: %ld blocks (%ld bytes) never given back", fail_at,
                 atomic_load(&s.live), atomic_load(&s.bytes));
    mg_error_clear(&err);
    fx_fini(&f);
    return atomic_load(&s.calls);
}

Test(alloc, every_failed_allocation_of_a_handle_is_clean)
{
    long calls = life(0);
    cr_assert_gt(calls, 20);
    for (long n = 1; n <= calls; n++)
        life(n);
}
