/*
 * test_proof.c — proofs served from a handle's caches and checked by the
 * checker's direct reader of the compact form, each against the plain way:
 * every proof equals, byte for byte, the JSON that jansson makes of the
 * proof built from the stored nodes alone (the levels held in memory, the
 * leaves of the entry's block and the right-edge roots change nothing, as
 * the log grows too); and the checker gives the same verdict and message
 * with and without the direct reader on every mutation of a proof.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "tests/audit/fixture.h"
#include "tests/audit/helpers.h"

/* The proof as it was written before the caches: nodes from the nodes
 * table (audit_db_node) and the JSON from jansson. */
static char *plain_inclusion(audit_db *d, uint64_t seq, uint64_t size)
{
    char *note;
    uint8_t root[AUDIT_HASH], leaf[AUDIT_HASH], proof[AUDIT_MAX_PROOF][AUDIT_HASH], *entry;
    size_t elen, n;
    cr_assert_eq(audit_db_read_checkpoint(d, size, &size, root, &note, NULL), MG_OK);
    cr_assert_eq(audit_db_entry(d, seq, &entry, &elen, NULL), MG_OK);
    cr_assert_eq(audit_inclusion_proof(audit_db_node, d, seq, size, proof, &n, NULL), MG_OK);
    audit_leaf_hash(entry, elen, leaf);
    char b[8192];
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        audit_b64_encode(proof[i], AUDIT_HASH, b, sizeof b);
        json_array_append_new(arr, json_string(b));
    }
    json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "type", "inclusion", "origin", d->origin,
                          "tree_size", (json_int_t)size, "leaf_index", (json_int_t)seq);
    audit_b64_encode(entry, elen, b, sizeof b);
    json_object_set_new(o, "entry", json_string(b));
    audit_b64_encode(leaf, AUDIT_HASH, b, sizeof b);
    json_object_set_new(o, "leaf_hash", json_string(b));
    audit_b64_encode(root, AUDIT_HASH, b, sizeof b);
    json_object_set_new(o, "root_hash", json_string(b));
    json_object_set_new(o, "proof", arr);
    json_object_set_new(o, "checkpoint", json_string(note));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    free(note);
    free(entry);
    return s;
}

static char *plain_consistency(audit_db *d, uint64_t s1, uint64_t s2)
{
    char *n1, *n2;
    uint8_t r1[AUDIT_HASH], r2[AUDIT_HASH], proof[AUDIT_MAX_PROOF][AUDIT_HASH];
    size_t n = 0;
    cr_assert_eq(audit_db_read_checkpoint(d, s1, &s1, r1, &n1, NULL), MG_OK);
    cr_assert_eq(audit_db_read_checkpoint(d, s2, &s2, r2, &n2, NULL), MG_OK);
    if (s1 < s2)
        cr_assert_eq(audit_consistency_proof(audit_db_node, d, s1, s2, proof, &n, NULL), MG_OK);
    char b[128];
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        audit_b64_encode(proof[i], AUDIT_HASH, b, sizeof b);
        json_array_append_new(arr, json_string(b));
    }
    json_t *o = json_pack("{s:s, s:s, s:I, s:I}", "type", "consistency", "origin", d->origin,
                          "size1", (json_int_t)s1, "size2", (json_int_t)s2);
    audit_b64_encode(r1, AUDIT_HASH, b, sizeof b);
    json_object_set_new(o, "root1", json_string(b));
    audit_b64_encode(r2, AUDIT_HASH, b, sizeof b);
    json_object_set_new(o, "root2", json_string(b));
    json_object_set_new(o, "proof", arr);
    json_object_set_new(o, "checkpoint1", json_string(n1));
    json_object_set_new(o, "checkpoint2", json_string(n2));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    free(n1);
    free(n2);
    return s;
}

/* A plain proof, made under the handle's lock like any use of it. */
static char *plain(mg_audit_log *log, uint64_t a, uint64_t b, bool consistency)
{
    pthread_mutex_lock(&log->db_lock);
    cr_assert_eq(audit_db_read_begin(&log->db, NULL), MG_OK);
    char *s = consistency ? plain_consistency(&log->db, a, b) : plain_inclusion(&log->db, a, b);
    audit_db_read_end(&log->db);
    pthread_mutex_unlock(&log->db_lock);
    return s;
}

/* Every inclusion proof at every checkpoint size up to `upto`, and every
 * consistency proof between those sizes, equal the plain ones and check
 * (with the checker and without). Returns the number of proofs. */
static int compare_all(mg_audit_log *log, const char *keys, uint64_t upto)
{
    sqlite3_stmt *st;
    pthread_mutex_lock(&log->db_lock);
    cr_assert_eq(sqlite3_prepare_v2(log->db.db, "SELECT size FROM checkpoints WHERE size <= ?1"
                                    " ORDER BY size", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)upto);
    uint64_t sizes[256];
    size_t ns = 0;
    while (sqlite3_step(st) == SQLITE_ROW && ns < 256)
        sizes[ns++] = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    pthread_mutex_unlock(&log->db_lock);
    cr_assert_gt(ns, 2);
    mg_audit_checker *c;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_checker_open(keys, &c, &err), MG_OK, "%s", err.message);
    int count = 0;
    for (size_t i = 0; i < ns; i++) {
        for (uint64_t seq = 0; seq < sizes[i]; seq++) {
            char *got;
            cr_assert_eq(mg_audit_prove(log, seq, sizes[i], &got, &err), MG_OK, "%s",
                         err.message);
            char *want = plain(log, seq, sizes[i], false);
            cr_assert_str_eq(got, want, "seq %llu size %llu", (unsigned long long)seq,
                             (unsigned long long)sizes[i]);
            cr_assert_eq(mg_audit_checker_check(c, got, strlen(got), &err), MG_OK, "%s",
                         err.message);
            free(got);
            free(want);
            count++;
        }
        for (size_t j = 0; j <= i; j++) {
            char *got;
            cr_assert_eq(mg_audit_consistency(log, sizes[j], sizes[i], &got, &err), MG_OK,
                         "%s", err.message);
            char *want = plain(log, sizes[j], sizes[i], true);
            cr_assert_str_eq(got, want, "%llu -> %llu", (unsigned long long)sizes[j],
                             (unsigned long long)sizes[i]);
            cr_assert_eq(mg_audit_check_proof(got, strlen(got), keys, &err), MG_OK, "%s",
                         err.message);
            free(got);
            free(want);
            count++;
        }
    }
    mg_audit_checker_close(c);
    return count;
}

/* A reader proves every entry twice over: the first pass fills the levels
 * held in memory (a level of this log is read after 8 misses), the second
 * is served from them. */
Test(proof, reader_proofs_equal_the_plain_ones)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 300, 37);
    mg_audit_config cfg = { .path = f.db };
    mg_audit_log *log;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK, "%s", err.message);
    int n1 = compare_all(log, f.keys, INT64_MAX);
    int n2 = compare_all(log, f.keys, INT64_MAX);
    cr_assert_eq(n1, n2);
    cr_assert_gt(n1, 1000);
    cr_assert_not_null(log->db.pc);
    mg_audit_close(log);
    fx_fini(&f);
}

/* A writing handle proves, the log grows under it, and its proofs at the
 * new sizes still equal the plain ones: nothing held goes stale. */
Test(proof, proofs_stay_exact_as_the_log_grows)
{
    fixture f;
    fx_init(&f);
    mg_audit_log *log = fx_open(&f, 7);
    uint64_t done = 0;
    for (int round = 0; round < 4; round++) {
        fx_append(&f, log, 45);
        mg_error err = { 0 };
        cr_assert_eq(mg_audit_checkpoint(log, &err), MG_OK, "%s", err.message);
        done += 45;
        compare_all(log, f.keys, done);
    }
    mg_audit_close(log);
    fx_fini(&f);
}

/* Strings are escaped as jansson escapes them, and read back the same. */
Test(proof, origin_with_characters_to_escape)
{
    fixture f;
    fx_init(&f);
    static const char origin[] = "acme/\"sales\"\\orders/\xc3\xa9t\xc3\xa9";
    mg_audit_config cfg = { .path = f.db, .keystore = f.ks, .origin = origin,
                            .signing_key = f.key, .checkpoint_every = 3 };
    mg_audit_log *log;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK, "%s", err.message);
    fx_append(&f, log, 20);
    cr_assert_eq(mg_audit_checkpoint(log, &err), MG_OK, "%s", err.message);
    compare_all(log, f.keys, INT64_MAX);
    mg_audit_close(log);
    fx_fini(&f);
}

/* The checker's memo of upper nodes gives what hashing gives: the published
 * inclusion probes (the bad ones too) with a memo filled by the good ones,
 * and every path of trees of 1 to 40 leaves, each also with one element
 * changed, dropped or added, or moved to another index or size. */
static bool verify_both(uint64_t idx, uint64_t size, audit_span leaf, const audit_span *sp,
                        size_t n, audit_span root, audit_memo *m)
{
    bool a = audit_verify_inclusion(idx, size, leaf, sp, n, root);
    bool b = audit_verify_inclusion_memo(idx, size, leaf, sp, n, root, m);
    cr_assert_eq(a, b, "index %llu size %llu len %zu", (unsigned long long)idx,
                 (unsigned long long)size, n);
    return a;
}

Test(proof, memo_gives_what_hashing_gives)
{
    audit_memo *m = calloc(1, sizeof *m);
    cr_assert_not_null(m);
    json_t *v = load_vectors("inclusion.json");
    size_t i, bad = 0;
    json_t *c;
    for (int pass = 0; pass < 2; pass++)
        json_array_foreach(json_object_get(v, "cases"), i, c) {
            bool want_err = json_is_true(json_object_get(c, "wantErr"));
            if (pass == 0 && want_err)
                continue;
            json_t *arr = json_object_get(c, "proof");
            blob el[AUDIT_MAX_PROOF];
            audit_span sp[AUDIT_MAX_PROOF];
            size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
            cr_assert_leq(n, AUDIT_MAX_PROOF);
            for (size_t k = 0; k < n; k++) {
                el[k] = b64(json_string_value(json_array_get(arr, k)));
                sp[k] = span_of(el[k]);
            }
            blob root = b64(json_string_value(json_object_get(c, "root")));
            blob leaf = b64(json_string_value(json_object_get(c, "leafHash")));
            bool got = verify_both(json_u64(json_object_get(c, "leafIdx")),
                                   json_u64(json_object_get(c, "treeSize")), span_of(leaf),
                                   sp, n, span_of(root), m);
            cr_assert_eq(got, !want_err, "%s", json_string_value(json_object_get(c, "file")));
            bad += pass == 1 && want_err;
            for (size_t k = 0; k < n; k++)
                blob_free(&el[k]);
            blob_free(&root);
            blob_free(&leaf);
        }
    cr_assert_gt(bad, 80);
    json_decref(v);

    uint8_t leaves[40][AUDIT_HASH];
    for (int k = 0; k < 40; k++)
        audit_leaf_hash(&k, sizeof k, leaves[k]);
    mem_tree t = { leaves, 0 };
    for (uint64_t size = 1; size <= 40; size++) {
        t.size = size;
        uint8_t root[AUDIT_HASH], proof[AUDIT_MAX_PROOF + 1][AUDIT_HASH];
        cr_assert_eq(audit_tree_root(mem_node, &t, size, root, NULL), MG_OK);
        audit_span r = { root, AUDIT_HASH };
        for (uint64_t idx = 0; idx < size; idx++) {
            size_t n;
            cr_assert_eq(audit_inclusion_proof(mem_node, &t, idx, size, proof, &n, NULL), MG_OK);
            audit_span sp[AUDIT_MAX_PROOF + 1], lf = { leaves[idx], AUDIT_HASH };
            for (size_t k = 0; k <= n; k++)
                sp[k] = (audit_span){ proof[k], AUDIT_HASH };
            memcpy(proof[n], root, AUDIT_HASH);
            cr_assert(verify_both(idx, size, lf, sp, n, r, m));
            verify_both(idx, size, lf, sp, n + 1, r, m);
            if (n)
                verify_both(idx, size, lf, sp, n - 1, r, m);
            verify_both(idx + 1, size, lf, sp, n, r, m);
            verify_both(idx, size + 1, lf, sp, n, r, m);
            if (idx)
                verify_both(idx - 1, size, lf, sp, n, r, m);
            for (size_t k = 0; k < n; k++) {
                proof[k][k % AUDIT_HASH] ^= 1;
                cr_assert_not(verify_both(idx, size, lf, sp, n, r, m));
                proof[k][k % AUDIT_HASH] ^= 1;
            }
            cr_assert(verify_both(idx, size, lf, sp, n, r, m));
        }
    }
    free(m);
}
