/*
 * test_tamper.c — each test builds a small log (10 entries, checkpoints at
 * 4, 8 and 10), tampers with it through raw SQLite as an attacker with
 * write access but without the signing key would, and asserts the
 * verifier's exact verdict, first bad seq, failing checkpoint and message.
 */
#include <sys/stat.h>
#include <criterion/criterion.h>
#include "tests/audit/fixture.h"
#include "tests/audit/helpers.h"

static fixture f;

static void setup(void)
{
    fx_init(&f);
    fx_build(&f, 10, 4);
}

static void teardown(void)
{
    fx_fini(&f);
}

static void expect(mg_audit_report rep, mg_audit_verdict v, int64_t bad, int64_t cp,
                   const char *msg)
{
    cr_assert_eq(rep.verdict, v, "verdict %d: %s", rep.verdict, rep.message);
    cr_assert_eq(rep.first_bad_seq, bad, "first bad %lld: %s", (long long)rep.first_bad_seq,
                 rep.message);
    cr_assert_eq(rep.bad_checkpoint, cp, "bad checkpoint %lld", (long long)rep.bad_checkpoint);
    cr_assert_str_eq(rep.message, msg);
}

/* Re-encodes the canonical entry of `seq` with the values of its (edited)
 * query columns, and with processing time `proc` when given, as an attacker
 * who knows the format would, so only the tree can tell. */
static void reencode_with(int seq, const int64_t *proc)
{
    sqlite3 *db;
    sqlite3_stmt *st, *up;
    cr_assert_eq(sqlite3_open(f.db, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT seq, event_time, kind, product, port, subject,"
                                    " action, effect, entry FROM entries WHERE seq = ?1", -1,
                                    &st, NULL), SQLITE_OK);
    sqlite3_bind_int(st, 1, seq);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    audit_entry e;
    cr_assert(audit_entry_decode(sqlite3_column_blob(st, 8),
                                 (size_t)sqlite3_column_bytes(st, 8), &e));
    e.seq = (uint64_t)sqlite3_column_int64(st, 0);
    e.event_time = sqlite3_column_int64(st, 1);
    if (proc)
        e.proc_time = *proc;
    for (int i = 0; i < AUDIT_NCOLS; i++) {
        e.f[audit_column_fields[i]] = (const char *)sqlite3_column_text(st, 2 + i);
        e.n[audit_column_fields[i]] = (size_t)sqlite3_column_bytes(st, 2 + i);
    }
    uint8_t buf[8192];
    size_t n = audit_entry_size(&e);
    audit_entry_encode(&e, buf);
    cr_assert_eq(sqlite3_prepare_v2(db, "UPDATE entries SET entry = ?1 WHERE seq = ?2", -1, &up,
                                    NULL), SQLITE_OK);
    sqlite3_bind_blob(up, 1, buf, (int)n, SQLITE_STATIC);
    sqlite3_bind_int(up, 2, seq);
    cr_assert_eq(sqlite3_step(up), SQLITE_DONE);
    sqlite3_finalize(up);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void reencode(int seq)
{
    reencode_with(seq, NULL);
}

/* The processing time encoded in entry `seq`. */
static int64_t proc_time_of(int seq)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(f.db, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT entry FROM entries WHERE seq = ?1", -1, &st,
                                    NULL), SQLITE_OK);
    sqlite3_bind_int(st, 1, seq);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    audit_entry e;
    cr_assert(audit_entry_decode(sqlite3_column_blob(st, 0),
                                 (size_t)sqlite3_column_bytes(st, 0), &e));
    int64_t t = e.proc_time;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return t;
}

TestSuite(tamper, .init = setup, .fini = teardown);

Test(tamper, untouched_log_verifies)
{
    expect(fx_verify(&f, NULL), MG_AUDIT_OK, -1, -1, "10 entries verified, 3 checkpoints");
}

Test(tamper, flipped_byte_in_entry)
{
    /* The last byte of the payload: still decodes, but no longer matches
     * its leaf hash. */
    fx_sql(&f, "UPDATE entries SET entry = CAST(substr(entry, 1, length(entry) - 1) || X'7E' AS BLOB)"
               " WHERE seq = 5");
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 5, -1,
           "stored tree node (level 0, index 5) does not match the entries");
}

Test(tamper, edited_query_column)
{
    fx_sql(&f, "UPDATE entries SET effect = 'allow' WHERE seq = 3");
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 3, -1,
           "the columns of entry 3 differ from its canonical encoding");
}

Test(tamper, edited_column_and_entry_together)
{
    fx_sql(&f, "UPDATE entries SET effect = 'allow' WHERE seq = 3");
    reencode(3);
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 3, -1,
           "stored tree node (level 0, index 3) does not match the entries");
}

Test(tamper, edited_entry_with_nodes_rebuilt)
{
    /* The attacker also rewrites every stored node: only the signed
     * checkpoint is left to catch it, and it does. */
    fx_sql(&f, "UPDATE entries SET effect = 'permit' WHERE seq = 6; DELETE FROM nodes;");
    reencode(6);
    /* Rebuild the nodes with the library's own append path. */
    audit_db d;
    char *tmp = path_in(f.dir, "rebuilt.db");
    cr_assert_eq(audit_db_open(&d, NULL, tmp, "x", false, true, NULL), MG_OK);
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(f.db, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT entry FROM entries ORDER BY seq", -1, &st, NULL),
                 SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const uint8_t *e = sqlite3_column_blob(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        cr_assert_eq(audit_db_append_raw(&d, &e, &n, 1, false, 1, NULL), MG_OK);
    }
    sqlite3_finalize(st);
    audit_db_close(&d);
    char sql[600];
    snprintf(sql, sizeof sql, "ATTACH '%s' AS r; INSERT INTO nodes SELECT * FROM r.nodes;"
             "UPDATE entries SET leaf = (SELECT leaf FROM r.entries AS x"
             " WHERE x.seq = entries.seq);", tmp);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    free(tmp);
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 4, 8,
           "checkpoint at size 8 does not match the entries: an entry in [4, 8) was changed, "
           "or the key signed another tree (a fork)");
}

Test(tamper, flipped_byte_in_node)
{
    fx_sql(&f, "UPDATE nodes SET hash = X'00' || substr(hash, 2) WHERE level = 1 AND idx = 1");
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 2, -1,
           "stored tree node (level 1, index 1) does not match the entries");
}

Test(tamper, flipped_byte_in_checkpoint)
{
    fx_sql(&f, "UPDATE checkpoints SET note = replace(note, 'orders\n8\n', 'orders\n8\n\n')"
               " WHERE size = 8");
    mg_audit_report rep = fx_verify(&f, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_FAIL);
    fx_sql(&f, "UPDATE checkpoints SET note = (SELECT note FROM checkpoints WHERE size = 10)"
               " WHERE size = 8");
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 4, 8,
           "checkpoint at size 8: its columns disagree with its signed note");
    /* One character of the root line changed: the signature breaks. */
    fx_fini(&f);
    fx_init(&f);
    fx_build(&f, 10, 4);
    char *note = fx_note(&f, 8);
    char *root = strchr(strchr(note, '\n') + 1, '\n') + 1;
    root[0] = root[0] == 'A' ? 'B' : 'A';
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(f.db, &db), SQLITE_OK);
    sqlite3_prepare_v2(db, "UPDATE checkpoints SET note = ?1 WHERE size = 8", -1, &st, NULL);
    sqlite3_bind_text(st, 1, note, -1, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    free(note);
    mg_audit_report r2 = fx_verify(&f, NULL);
    cr_assert_eq(r2.verdict, MG_AUDIT_FAIL);
    cr_assert_eq(r2.first_bad_seq, 4);
    cr_assert_eq(r2.bad_checkpoint, 8);
    char want[600];
    snprintf(want, sizeof want, "checkpoint at size 8: invalid signature by %.*s",
             (int)(strchr(strchr(f.vkey, '+') + 1, '+') - f.vkey), f.vkey);
    cr_assert_str_eq(r2.message, want);
}

Test(tamper, deleted_middle_row)
{
    fx_sql(&f, "DELETE FROM entries WHERE seq = 5");
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 5, -1, "entry 5 is missing (the next stored is 6)");
}

Test(tamper, deleted_tail_rows)
{
    fx_sql(&f, "DELETE FROM entries WHERE seq >= 7");
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 7, 8,
           "checkpoint at size 8 covers entries that are missing (the log holds 7)");
}

Test(tamper, deleted_tail_and_newer_checkpoints)
{
    char *trusted = fx_note(&f, 10);
    fx_sql(&f, "DELETE FROM entries WHERE seq >= 6; DELETE FROM checkpoints WHERE size > 4;"
               "DELETE FROM nodes WHERE (idx + 1) << level > 6; UPDATE state SET size = 6;");
    expect(fx_verify(&f, NULL), MG_AUDIT_UNANCHORED, -1, -1,
           "entries 4..5 are consistent but not covered by a signed checkpoint");
    mg_audit_report rep = fx_verify(&f, NULL);
    cr_assert_eq(rep.size, 6);
    cr_assert_eq(rep.verified_size, 4);
    expect(fx_verify(&f, trusted), MG_AUDIT_FAIL, 6, 10,
           "the log holds 6 entries, fewer than the trusted checkpoint's 10: truncated or rolled back");
    free(trusted);
}

Test(tamper, trusted_checkpoint_extended)
{
    char *t4 = fx_note(&f, 4);
    expect(fx_verify(&f, t4), MG_AUDIT_OK, -1, -1, "10 entries verified, 3 checkpoints");
    free(t4);
}

Test(tamper, rolled_back_and_regrown)
{
    /* Roll back to 4, then append different entries under the same key:
     * the signatures are fine, but the trusted size-8 head is not extended. */
    char *t8 = fx_note(&f, 8);
    fx_sql(&f, "DELETE FROM entries WHERE seq >= 4; DELETE FROM checkpoints WHERE size > 4;"
               "DELETE FROM nodes WHERE (idx + 1) << level > 4;"
               "UPDATE state SET size = 4, cp_size = 4;");
    mg_audit_log *log = fx_open(&f, 4);
    fx_append(&f, log, 1); /* entry 4 differs: a different subject cycle */
    mg_audit_record r = { .kind = "decision", .effect = "forged" };
    for (int i = 0; i < 5; i++)
        cr_assert_eq(mg_audit_append(log, &r, NULL, NULL), MG_OK);
    mg_audit_close(log);
    expect(fx_verify(&f, NULL), MG_AUDIT_OK, -1, -1, "10 entries verified, 3 checkpoints");
    expect(fx_verify(&f, t8), MG_AUDIT_FAIL, 4, 8,
           "the log does not extend the trusted checkpoint of size 8 (root differs)");
    free(t8);
}

Test(tamper, two_rows_swapped)
{
    fx_sql(&f, "UPDATE entries SET seq = -1 WHERE seq = 2; UPDATE entries SET seq = 2 WHERE seq = 3;"
               "UPDATE entries SET seq = 3 WHERE seq = -1;");
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 2, -1,
           "entry at seq 2 encodes seq 3 (moved or replayed)");
}

/* Entry 10, a copy of entry 9 with a later processing time, in the
 * canonical encoding; no leaf hash yet. */
static void forge_entry_10(void)
{
    fx_sql(&f, "INSERT INTO entries(seq, event_time, kind, product, port, subject, action,"
               " effect, entry) SELECT 10, event_time, kind, product, port,"
               " subject, action, effect, entry FROM entries WHERE seq = 9");
    int64_t later = proc_time_of(9) + 1;
    reencode_with(10, &later);
}

Test(tamper, forged_row_appended)
{
    forge_entry_10();
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 10, -1,
           "stored tree node (level 0, index 10) is missing");
}

/* The same, done cleanly: the forged entry's leaf hash stored and the state
 * moved on. Without the key no checkpoint can cover it, so it stays an
 * unanchored tail; a trusted checkpoint does not change that. */
Test(tamper, forged_row_appended_with_its_leaf)
{
    forge_entry_10();
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(f.db, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT entry FROM entries WHERE seq = 10", -1, &st, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    uint8_t leaf[AUDIT_HASH];
    audit_leaf_hash(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), leaf);
    sqlite3_finalize(st);
    cr_assert_eq(sqlite3_prepare_v2(db, "UPDATE entries SET leaf = ?1 WHERE seq = 10", -1, &st,
                                    NULL), SQLITE_OK);
    sqlite3_bind_blob(st, 1, leaf, AUDIT_HASH, SQLITE_STATIC);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
    fx_sql(&f, "UPDATE state SET size = 11");
    expect(fx_verify(&f, NULL), MG_AUDIT_UNANCHORED, -1, -1,
           "entry 10 is consistent but not covered by a signed checkpoint");
    char *t10 = fx_note(&f, 10);
    expect(fx_verify(&f, t10), MG_AUDIT_UNANCHORED, -1, -1,
           "entry 10 is consistent but not covered by a signed checkpoint");
    free(t10);
}

Test(tamper, old_row_replayed)
{
    fx_sql(&f, "INSERT INTO entries SELECT 10, event_time, kind, product, port,"
               " subject, action, effect, entry, leaf FROM entries WHERE seq = 2");
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 10, -1,
           "entry at seq 10 encodes seq 2 (moved or replayed)");
}

Test(tamper, rebuilt_with_another_key)
{
    char pinned[600];
    snprintf(pinned, sizeof pinned, "%s\n", f.vkey);
    /* The attacker's log: same origin, same content, own key. */
    fx_fini(&f);
    fx_init(&f);
    fx_build(&f, 10, 4);
    fx_keys(&f, pinned);
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 0, 4, "checkpoint at size 4: no verifiable signature");
}

Test(tamper, checkpoint_by_revoked_key)
{
    char keys[700];
    snprintf(keys, sizeof keys, "%s until 4\n", f.vkey);
    fx_keys(&f, keys);
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 4, 8, "checkpoint at size 8: no verifiable signature");
    snprintf(keys, sizeof keys, "%s until 10\n", f.vkey);
    fx_keys(&f, keys);
    expect(fx_verify(&f, NULL), MG_AUDIT_OK, -1, -1, "10 entries verified, 3 checkpoints");
}

Test(tamper, key_rotation_signed_by_both)
{
    char *newkey = path_in(f.dir, "new.key"), *vk;
    cr_assert_eq(mg_audit_keygen("acme/sales/orders-2026", newkey, &vk, NULL), MG_OK);
    mg_audit_log *log = fx_open(&f, 4);
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_rotate_key(log, newkey, &err), MG_OK, "%s", err.message);
    fx_append(&f, log, 3);
    mg_audit_close(log);
    /* Old key revoked after the rotation entry (size 11), new key from then. */
    char keys[1400];
    snprintf(keys, sizeof keys, "%s until 11\n%s\n", f.vkey, vk);
    fx_keys(&f, keys);
    expect(fx_verify(&f, NULL), MG_AUDIT_OK, -1, -1, "14 entries verified, 5 checkpoints");
    /* Without the new key, the checkpoint after rotation has no valid signer. */
    snprintf(keys, sizeof keys, "%s until 11\n", f.vkey);
    fx_keys(&f, keys);
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 11, 14, "checkpoint at size 14: no verifiable signature");
    free(vk);
    free(newkey);
}

Test(tamper, key_rotation_to_the_same_key_refused)
{
    /* The current key under another name: same public key, another key id. */
    audit_skey k;
    cr_assert_eq(audit_skey_load(f.key, &k, NULL), MG_OK);
    snprintf(k.name, sizeof k.name, "acme/sales/orders-2026");
    k.id = audit_key_id(k.name, k.pk);
    char text[600], *renamed = path_in(f.dir, "renamed.key");
    cr_assert(audit_skey_format(&k, text, sizeof text));
    FILE *out = fopen(renamed, "w");
    cr_assert(out);
    fprintf(out, "%s\n", text);
    cr_assert_eq(fclose(out), 0);
    cr_assert_eq(chmod(renamed, 0600), 0);
    mg_audit_log *log = fx_open(&f, 4);
    const char *same[] = { f.key, renamed };
    for (int i = 0; i < 2; i++) {
        mg_error err = { 0 };
        cr_assert_eq(mg_audit_rotate_key(log, same[i], &err), MG_EINVAL);
        cr_assert_str_eq(err.file, same[i]);
        cr_assert_str_eq(err.message, "the new key is the log's current signing key");
        mg_error_clear(&err);
    }
    /* Nothing was appended and the old key still signs alone. */
    cr_assert_eq(mg_audit_size(log), 10);
    fx_append(&f, log, 2);
    mg_audit_close(log);
    expect(fx_verify(&f, NULL), MG_AUDIT_OK, -1, -1, "12 entries verified, 4 checkpoints");
    free(renamed);
}

Test(tamper, key_rotation_from_a_key_that_did_not_sign_refused)
{
    char *other = path_in(f.dir, "other.key"), *vk, *signer = f.key;
    cr_assert_eq(mg_audit_keygen("acme/sales/orders", other, &vk, NULL), MG_OK);
    /* A writer with a key that never signed the log is refused at open,
     * before it could sign or rotate anything. */
    f.key = other;
    mg_audit_config cfg = fx_config(&f, 4);
    f.key = signer;
    mg_audit_log *log = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_EINVAL);
    cr_assert_null(log);
    cr_assert_str_eq(err.file, f.db);
    cr_assert_str_eq(err.message, "the latest checkpoint (size 10) is not signed by the signing "
                                  "key given: use the key that signs the log (changing keys is a "
                                  "rotation)");
    mg_error_clear(&err);
    expect(fx_verify(&f, NULL), MG_AUDIT_OK, -1, -1, "10 entries verified, 3 checkpoints");
    free(vk);
    free(other);
}

Test(tamper, interior_node_presented_as_leaf)
{
    /* The level-1 node over leaves 0 and 1 is H(0x01 || h0 || h1). Present
     * h0 || h1 as the entry of leaf 0 with the rest of leaf 0's path. */
    mg_audit_config cfg = { .path = f.db };
    mg_audit_log *log;
    cr_assert_eq(mg_audit_open(&cfg, &log, NULL), MG_OK);
    char *proof;
    cr_assert_eq(mg_audit_prove(log, 0, 8, &proof, NULL), MG_OK);
    uint8_t h0[AUDIT_HASH], h1[AUDIT_HASH], both[64], root[AUDIT_HASH];
    cr_assert_eq(audit_db_node(&log->db, 0, 0, h0, NULL), MG_OK);
    cr_assert_eq(audit_db_node(&log->db, 0, 1, h1, NULL), MG_OK);
    cr_assert_eq(audit_tree_root(audit_db_node, &log->db, 8, root, NULL), MG_OK);
    memcpy(both, h0, 32);
    memcpy(both + 32, h1, 32);
    /* At the hash level: domain separation makes the "leaf" differ. */
    uint8_t fake_leaf[AUDIT_HASH], p[2][AUDIT_HASH];
    audit_leaf_hash(both, 64, fake_leaf);
    cr_assert_eq(audit_db_node(&log->db, 1, 1, p[0], NULL), MG_OK);
    cr_assert_eq(audit_db_node(&log->db, 2, 1, p[1], NULL), MG_OK);
    audit_span sp[2] = { { p[0], 32 }, { p[1], 32 } };
    cr_assert_not(audit_verify_inclusion(0, 4, (audit_span){ fake_leaf, 32 }, sp, 2,
                                         (audit_span){ root, 32 }));
    uint8_t node[AUDIT_HASH];
    audit_node_hash(h0, h1, node);
    cr_assert(audit_verify_inclusion(0, 4, (audit_span){ node, 32 }, sp, 2,
                                     (audit_span){ root, 32 })); /* as a hash it would pass */
    /* Through the JSON check: the entry must be a canonical entry. */
    json_t *o = json_loads(proof, 0, NULL);
    char b[128];
    audit_b64_encode(both, 64, b, sizeof b);
    json_object_set_new(o, "entry", json_string(b));
    json_t *arr = json_object_get(o, "proof");
    json_array_remove(arr, 0);
    char *forged = json_dumps(o, JSON_COMPACT);
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_check_proof(forged, strlen(forged), f.keys, &err), MG_EINTEGRITY);
    cr_assert_str_eq(err.message, "proof: the entry is not a canonical entry with seq 0");
    mg_error_clear(&err);
    free(forged);
    free(proof);
    json_decref(o);
    mg_audit_close(log);
}

Test(tamper, non_canonical_entry_encoding)
{
    fx_sql(&f, "UPDATE entries SET entry = CAST(entry || X'00' AS BLOB) WHERE seq = 3");
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 3, -1, "entry 3 is not in the canonical encoding");
}

/* A field that is not UTF-8, or holds a NUL byte, is no entry a writer
 * makes: refused as a non-canonical encoding, not only by its hash. The
 * entry's last byte is the last of its payload. */
Test(tamper, field_not_utf8_or_with_nul_is_not_canonical)
{
    fx_sql(&f, "UPDATE entries SET entry = CAST(substr(entry, 1, length(entry) - 1) || X'FF'"
               " AS BLOB) WHERE seq = 3");
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 3, -1, "entry 3 is not in the canonical encoding");
    fx_sql(&f, "UPDATE entries SET entry = CAST(substr(entry, 1, length(entry) - 1) || X'00'"
               " AS BLOB) WHERE seq = 3");
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 3, -1, "entry 3 is not in the canonical encoding");
}

Test(tamper, processing_time_backwards)
{
    int64_t earlier = proc_time_of(5) - 1;
    reencode_with(6, &earlier);
    expect(fx_verify(&f, NULL), MG_AUDIT_FAIL, 6, -1, "processing time goes backwards at entry 6");
}

Test(tamper, not_an_audit_log)
{
    fx_sql(&f, "DROP TABLE state");
    mg_audit_verify_opts o = { .db = f.db, .keys = f.keys };
    mg_audit_report rep;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_verify(&o, &rep, &err), MG_EFORMAT);
    cr_assert_str_eq(err.message, "not a meshgov audit log: no such table: state");
    cr_assert_str_eq(err.file, f.db);
    mg_error_clear(&err);
}

/* ---- Logs of several verification batches (1024 entries each) ---------- */

/* n records pushed without waiting, then one flush: a few large commits. */
static void build_large(fixture *fx, int n)
{
    mg_audit_log *log = fx_open(fx, 1000);
    mg_error err = { 0 };
    for (int i = 0; i < n; i++) {
        char payload[64];
        snprintf(payload, sizeof payload, "{\"row\":%d}", i);
        mg_audit_record r = { .kind = "decision", .product = "dp://sales/orders",
                              .port = "orders", .action = "read", .effect = "allow",
                              .payload = payload, .event_time_us = 1767225600000000 + i };
        mg_status s;
        while ((s = mg_audit_record_push(log, &r, NULL, &err)) == MG_EBUSY) {
            mg_error_clear(&err);
            cr_assert_eq(mg_audit_flush(log, &err), MG_OK, "%s", err.message);
        }
        cr_assert_eq(s, MG_OK, "%s", err.message);
    }
    cr_assert_eq(mg_audit_flush(log, &err), MG_OK, "%s", err.message);
    mg_audit_close(log);
}

Test(tamper_large, untouched_log_of_several_batches_verifies)
{
    fixture fx;
    fx_init(&fx);
    build_large(&fx, 3000);
    mg_audit_report rep = fx_verify(&fx, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_OK, "%s", rep.message);
    cr_assert_eq(rep.size, 3000);
    cr_assert_eq(rep.verified_size, 3000);
    fx_fini(&fx);
}

/* The bad row is read while an earlier batch is still in the tree stage:
 * the earlier failure, first in seq order, is the one reported. */
Test(tamper_large, earliest_failure_wins_across_batches)
{
    fixture fx;
    fx_init(&fx);
    build_large(&fx, 3000);
    fx_sql(&fx, "UPDATE entries SET leaf = X'00' || substr(leaf, 2) WHERE seq = 100;"
                "DELETE FROM entries WHERE seq = 2000;");
    mg_audit_report rep = fx_verify(&fx, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_FAIL);
    cr_assert_eq(rep.first_bad_seq, 100);
    cr_assert_eq(rep.bad_checkpoint, -1);
    cr_assert_str_eq(rep.message, "stored tree node (level 0, index 100) does not match the entries");
    fx_fini(&fx);
}

Test(tamper_large, row_failure_in_a_later_batch)
{
    fixture fx;
    fx_init(&fx);
    build_large(&fx, 3000);
    fx_sql(&fx, "DELETE FROM entries WHERE seq = 2000;");
    mg_audit_report rep = fx_verify(&fx, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_FAIL);
    cr_assert_eq(rep.first_bad_seq, 2000);
    cr_assert_eq(rep.bad_checkpoint, -1);
    cr_assert_str_eq(rep.message, "entry 2000 is missing (the next stored is 2001)");
    cr_assert_eq(rep.size, 2000);
    fx_fini(&fx);
}
