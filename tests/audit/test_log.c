/*
 * test_log.c — the log on SQLite: tree heads through the real append path
 * against the vectors, the public API end to end (append, checkpoints,
 * proofs and their independent check, queries, pseudonyms and forget,
 * export), key files, and write failures reported, never swallowed.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>
#include <criterion/criterion.h>
#include "tests/audit/fixture.h"
#include "tests/audit/helpers.h"

Test(log, vector_roots_through_append_path)
{
    json_t *mt = load_vectors("merkle-tree.json");
    json_t *in = json_object_get(mt, "leafInputs");
    json_t *roots = json_object_get(mt, "rootHashesBySize");
    char *dir = make_tmpdir(), *path = path_in(dir, "a.db");
    audit_db d;
    cr_assert_eq(audit_db_open(&d, NULL, path, "test/vectors", false, true, NULL), MG_OK);
    for (size_t i = 0; i < 8; i++) {
        blob b = unhex(json_string_value(json_array_get(in, i)));
        const uint8_t *e = b.p;
        cr_assert_eq(audit_db_append_raw(&d, &e, &b.n, 1, false, 1, NULL), MG_OK);
        blob_free(&b);
        uint8_t r[AUDIT_HASH], r2[AUDIT_HASH];
        audit_frontier_root(&d.fr, r);
        cr_assert_eq(audit_tree_root(audit_db_node, &d, i + 1, r2, NULL), MG_OK);
        blob want = unhex(json_string_value(json_array_get(roots, i + 1)));
        cr_assert_eq(memcmp(r, want.p, 32), 0, "size %zu", i + 1);
        cr_assert_eq(memcmp(r2, want.p, 32), 0, "size %zu", i + 1);
        blob_free(&want);
    }
    audit_db_close(&d);
    /* Reopened, the frontier comes back from the nodes table. */
    cr_assert_eq(audit_db_open(&d, NULL, path, NULL, true, true, NULL), MG_OK);
    cr_assert_eq(d.fr.size, 8);
    uint8_t r[AUDIT_HASH];
    audit_frontier_root(&d.fr, r);
    blob want = unhex(json_string_value(json_array_get(roots, 8)));
    cr_assert_eq(memcmp(r, want.p, 32), 0);
    /* A proof reads about 2 log2(n) stored hashes: here exactly 3. */
    uint8_t proof[AUDIT_MAX_PROOF][AUDIT_HASH];
    size_t n;
    cr_assert_eq(audit_inclusion_proof(audit_db_node, &d, 5, 8, proof, &n, NULL), MG_OK);
    cr_assert_eq(n, 3);
    blob_free(&want);
    audit_db_close(&d);
    json_decref(mt);
    remove_tree(dir);
    free(dir);
    free(path);
}

Test(log, entry_encoding_is_exact)
{
    audit_entry e = { .seq = 0x0102030405060708, .event_time = -1, .proc_time = 2 };
    const char *vals[AUDIT_NFIELDS] = { "decision", "p", "", "", "read", "allow", "", "", "", "{}" };
    for (int i = 0; i < AUDIT_NFIELDS; i++) {
        e.f[i] = vals[i];
        e.n[i] = strlen(vals[i]);
    }
    uint8_t buf[256];
    size_t n = audit_entry_size(&e);
    cr_assert_eq(n, 4 + 24 + 40 + 8 + 1 + 4 + 5 + 2);
    audit_entry_encode(&e, buf);
    const uint8_t head[] = { 'M', 'G', 'A', 1, 1, 2, 3, 4, 5, 6, 7, 8,
                             0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                             0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 8, 'd' };
    cr_assert_eq(memcmp(buf, head, sizeof head), 0);
    audit_entry d;
    cr_assert(audit_entry_decode(buf, n, &d));
    cr_assert_eq(d.seq, e.seq);
    cr_assert_eq(d.event_time, -1);
    cr_assert_eq(d.n[AUDIT_F_PAYLOAD], 2);
    buf[n] = 0;
    cr_assert_not(audit_entry_decode(buf, n + 1, &d));   /* trailing byte */
    cr_assert_not(audit_entry_decode(buf, n - 1, &d));   /* short */
    buf[31] = 9;                                          /* kind length */
    cr_assert_not(audit_entry_decode(buf, n, &d));
}

typedef struct lines {
    int n;
    char last[4096];
} lines;

static int collect(void *ud, const char *json, size_t len)
{
    lines *l = ud;
    l->n++;
    snprintf(l->last, sizeof l->last, "%.*s", (int)len, json);
    return 0;
}

Test(log, api_end_to_end)
{
    fixture f;
    fx_init(&f);
    struct stat st;
    cr_assert_eq(stat(f.key, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    mg_audit_log *log = fx_open(&f, 4);
    fx_append(&f, log, 10);
    cr_assert_eq(mg_audit_size(log), 10);
    mg_error err = { 0 };
    char *note;
    cr_assert_eq(mg_audit_latest_checkpoint(log, &note, &err), MG_OK);
    cr_assert_eq(strncmp(note, "acme/sales/orders\n8\n", 20), 0, "%s", note);
    free(note);
    cr_assert_eq(mg_audit_checkpoint(log, &err), MG_OK);
    cr_assert_eq(mg_audit_latest_checkpoint(log, &note, &err), MG_OK);
    cr_assert_eq(strncmp(note, "acme/sales/orders\n10\n", 21), 0);
    free(note);

    char *proof;
    cr_assert_eq(mg_audit_prove(log, 7, 0, &proof, &err), MG_OK, "%s", err.message);
    cr_assert_eq(mg_audit_check_proof(proof, strlen(proof), f.keys, &err), MG_OK, "%s", err.message);
    cr_assert(strstr(proof, "\"type\":\"inclusion\",\"origin\":\"acme/sales/orders\",\"tree_size\":10,\"leaf_index\":7,"));
    free(proof);
    cr_assert_eq(mg_audit_prove(log, 9, 8, &proof, &err), MG_ENOTFOUND);
    cr_assert_str_eq(err.message, "entry 9 is not in the tree of size 8");
    cr_assert_eq(mg_audit_prove(log, 1, 5, &proof, &err), MG_ENOTFOUND);
    cr_assert_str_eq(err.message, "no checkpoint of tree size 5");
    cr_assert_eq(mg_audit_consistency(log, 4, 0, &proof, &err), MG_OK, "%s", err.message);
    cr_assert_eq(mg_audit_check_proof(proof, strlen(proof), f.keys, &err), MG_OK, "%s", err.message);
    /* A consistency proof with a changed size1 no longer checks. */
    char *p4 = strstr(proof, "\"size1\":4");
    cr_assert_not_null(p4);
    p4[8] = '8';
    cr_assert_eq(mg_audit_check_proof(proof, strlen(proof), f.keys, &err), MG_EINTEGRITY);
    cr_assert_str_eq(err.message,
                     "proof: checkpoint1 does not match the proof's origin, size or root");
    free(proof);

    /* Queries: by subject (through the pseudonym), effect, time. */
    lines l = { 0 };
    mg_audit_filter q = { .subject = "user1@corp.example" };
    cr_assert_eq(mg_audit_query(log, &q, collect, &l, &err), MG_OK);
    cr_assert_eq(l.n, 3); /* entries 1, 4, 7 */
    cr_assert(strstr(l.last, "\"seq\":7,"), "%s", l.last);
    cr_assert_null(strstr(l.last, "user1"));
    l.n = 0;
    q = (mg_audit_filter){ .effect = "deny", .has_from = true, .from_us = 1767225600000004,
                           .has_to = true, .to_us = 1767225600000008 };
    cr_assert_eq(mg_audit_query(log, &q, collect, &l, &err), MG_OK);
    cr_assert_eq(l.n, 2); /* 5 and 7 */
    /* Forget: the pseudonym is gone, so nothing links to the subject. */
    cr_assert_eq(mg_audit_forget_subject(log, "user1@corp.example", &err), MG_OK);
    cr_assert_eq(mg_audit_forget_subject(log, "user1@corp.example", &err), MG_ENOTFOUND);
    l.n = 0;
    q = (mg_audit_filter){ .subject = "user1@corp.example" };
    cr_assert_eq(mg_audit_query(log, &q, collect, &l, &err), MG_OK);
    cr_assert_eq(l.n, 0);
    l.n = 0;
    cr_assert_eq(mg_audit_export(log, collect, &l, &err), MG_OK);
    cr_assert_eq(l.n, 10 + 3); /* entries, then checkpoints 4, 8, 10 */
    cr_assert_eq(strncmp(l.last, "{\"checkpoint\":10,\"note\":\"acme/sales/orders\\n10\\n", 47), 0,
                 "%s", l.last);
    mg_audit_close(log);

    mg_audit_report rep = fx_verify(&f, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_OK, "%s", rep.message);
    cr_assert_eq(rep.size, 10);
    cr_assert_eq(rep.verified_size, 10);
    cr_assert_eq(rep.checkpoints, 3);
    cr_assert_str_eq(rep.message, "10 entries verified, 3 checkpoints");
    /* The raw subject never reaches the audit database. */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "grep -c user1@corp %s %s-wal 2>/dev/null | grep -v ':0' | grep -q .", f.db, f.db);
    cr_assert_neq(system(cmd), 0);
    mg_error_clear(&err);
    fx_fini(&f);
}

Test(log, private_key_permissions)
{
    fixture f;
    fx_init(&f);
    cr_assert_eq(chmod(f.key, 0640), 0);
    mg_audit_config cfg = { .path = f.db, .origin = "acme/sales/orders", .signing_key = f.key };
    mg_audit_log *log = (mg_audit_log *)1;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_ECRYPTO);
    cr_assert_null(log);
    cr_assert_str_eq(err.message, "private key file is readable by group or others (mode 0640); "
                                  "run chmod 600 on it");
    cr_assert_str_eq(err.file, f.key);
    char *vk = NULL;
    cr_assert_eq(mg_audit_keygen("x", f.key, &vk, &err), MG_EIO); /* never overwritten */
    cr_assert_null(vk);
    cr_assert_eq(mg_audit_keygen("bad name", "/nonexistent/k", &vk, &err), MG_EINVAL);
    mg_error_clear(&err);
    fx_fini(&f);
}

Test(log, key_file_errors)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 2, 100);
    char text[1200];
    snprintf(text, sizeof text, "%s\n%s until x\n", f.vkey, f.vkey);
    fx_keys(&f, text);
    mg_audit_verify_opts o = { .db = f.db, .keys = f.keys };
    mg_audit_report rep;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_verify(&o, &rep, &err), MG_EFORMAT);
    cr_assert_str_eq(err.message, "after the key, only \"until <tree size>\" may follow");
    cr_assert_eq(err.line, 2);
    fx_keys(&f, "# nothing\n");
    cr_assert_eq(mg_audit_verify(&o, &rep, &err), MG_EFORMAT);
    cr_assert_str_eq(err.message, "no keys in the key file");
    fx_keys(&f, "nokey+00000000+AAAA\n");
    cr_assert_eq(mg_audit_verify(&o, &rep, &err), MG_EFORMAT);
    cr_assert_str_eq(err.message, "malformed verifier key: unknown key algorithm");
    cr_assert_eq(rep.verdict, MG_AUDIT_FAIL);
    mg_error_clear(&err);
    fx_fini(&f);
}

/* Write failures: the append is reported failed with SQLite's message, and
 * every later record is refused (fail closed) instead of dropped. */
Test(log, write_failures_reported)
{
    fixture f;
    fx_init(&f);
    mg_audit_log *log = fx_open(&f, 100);
    fx_append(&f, log, 1);
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_status(log, &err), MG_OK);
    sqlite3_exec(log->db.db, "PRAGMA query_only = ON", NULL, NULL, NULL);
    mg_audit_record r = { .kind = "decision", .event_time_us = 5 };
    uint64_t seq;
    cr_assert_eq(mg_audit_append(log, &r, &seq, &err), MG_EDB);
    mg_error_clear(&err);
    cr_assert_eq(mg_audit_status(log, &err), MG_EDB);
    cr_assert_str_eq(err.message,
                     "audit log write failed: starting a transaction: attempt to write a readonly database");
    cr_assert_str_eq(err.file, f.db);
    cr_assert_eq(seq, 1);
    cr_assert_str_eq(err.message,
                     "audit log write failed: starting a transaction: attempt to write a readonly database");
    cr_assert_eq(mg_audit_record_push(log, &r, &seq, &err), MG_EDB);
    cr_assert_eq(mg_audit_flush(log, &err), MG_EDB);
    mg_audit_close(log);

    /* Disk full: a page limit on the connection. */
    log = fx_open(&f, 100);
    cr_assert_eq(mg_audit_size(log), 1);
    sqlite3_exec(log->db.db, "PRAGMA max_page_count = 1", NULL, NULL, NULL);
    mg_audit_record big = { .kind = "decision", .payload = "x" };
    char payload[4001];
    memset(payload, 'x', 4000);
    payload[4000] = '\0';
    big.payload = payload;
    mg_status s = MG_OK;
    for (int i = 0; i < 50 && s == MG_OK; i++)
        s = mg_audit_append(log, &big, &seq, &err);
    cr_assert_eq(s, MG_EIO, "%s", err.message);
    cr_assert(strstr(err.message, "database or disk is full"), "%s", err.message);
    mg_audit_close(log);

    /* Read-only handles and bad records. */
    mg_audit_config cfg = { .path = f.db };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK);
    cr_assert_eq(mg_audit_append(log, &r, &seq, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "the audit log is open read-only (no signing key)");
    mg_audit_close(log);
    log = fx_open(&f, 100);
    mg_audit_record longk = { .kind = "0123456789012345678901234567890123" };
    cr_assert_eq(mg_audit_append(log, &longk, &seq, &err), MG_ELIMIT);
    cr_assert_str_eq(err.message, "audit record: kind is longer than 32 bytes");
    mg_audit_close(log);
    cfg.path = "/nonexistent/dir/audit.db";
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_EIO);
    cr_assert_str_eq(err.message, "cannot open the audit log: unable to open database file");
    mg_error_clear(&err);
    fx_fini(&f);
}

/* A full ring refuses with MG_EBUSY and loses nothing it accepted. */
Test(log, ring_full_is_busy)
{
    fixture f;
    fx_init(&f);
    mg_audit_config cfg = { .path = f.db, .keystore = f.ks, .origin = "acme/sales/orders",
                            .signing_key = f.key, .ring_capacity = 4 };
    mg_audit_log *log;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK);
    /* Hold the database so the writer cannot drain. */
    pthread_mutex_lock(&log->db_lock);
    mg_audit_record r = { .kind = "decision", .subject = "s" };
    uint64_t seq = 99;
    int ok = 0;
    mg_status s;
    while ((s = mg_audit_record_push(log, &r, &seq, &err)) == MG_OK)
        ok++;
    cr_assert_eq(s, MG_EBUSY);
    cr_assert_str_eq(err.message, "audit ring full (4 records waiting): not recorded");
    cr_assert_geq(ok, 4);
    cr_assert_leq(ok, 5);
    pthread_mutex_unlock(&log->db_lock);
    cr_assert_eq(mg_audit_flush(log, &err), MG_OK);
    cr_assert_eq(mg_audit_size(log), (uint64_t)ok);
    mg_audit_close(log);
    mg_audit_report rep = fx_verify(&f, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_OK, "%s", rep.message);
    cr_assert_eq(rep.size, (uint64_t)ok);
    mg_error_clear(&err);
    fx_fini(&f);
}

/* A checker remembers a checkpoint that verified only byte for byte: the
 * same proof checks again, a different signature on the same body is
 * verified anew and refused, and a bad path fails even with the note
 * remembered. */
Test(log, checker_remembers_only_identical_checkpoints)
{
    fixture f;
    fx_init(&f);
    mg_audit_log *log = fx_open(&f, 4);
    fx_append(&f, log, 10);
    mg_error err = { 0 };
    char *proof;
    cr_assert_eq(mg_audit_prove(log, 5, 8, &proof, &err), MG_OK, "%s", err.message);
    mg_audit_checker *c;
    cr_assert_eq(mg_audit_checker_open(f.keys, &c, &err), MG_OK, "%s", err.message);
    cr_assert_eq(mg_audit_checker_check(c, proof, strlen(proof), &err), MG_OK, "%s", err.message);
    cr_assert_eq(mg_audit_checker_check(c, proof, strlen(proof), &err), MG_OK, "%s", err.message);

    /* One signature character changed: a new note, checked again. */
    char *bad = strdup(proof);
    char *sig = strstr(bad, "\\n\\u2014 ");
    if (!sig)
        sig = strstr(bad, "\\n— ");
    cr_assert_not_null(sig, "%s", bad);
    char *end = strstr(sig, "\\n\"");
    cr_assert_not_null(end);
    end[-3] = end[-3] == 'A' ? 'B' : 'A';
    cr_assert_eq(mg_audit_checker_check(c, bad, strlen(bad), &err), MG_ECRYPTO);
    cr_assert(strstr(err.message, "invalid signature"), "%s", err.message);
    free(bad);

    /* The remembered note does not vouch for another entry's path. */
    bad = strdup(proof);
    char *li = strstr(bad, "\"leaf_index\":5");
    cr_assert_not_null(li);
    li[13] = '4';
    cr_assert_eq(mg_audit_checker_check(c, bad, strlen(bad), &err), MG_EINTEGRITY);
    cr_assert_str_eq(err.message, "proof: the entry is not a canonical entry with seq 4");
    free(bad);
    cr_assert_eq(mg_audit_checker_check(c, "[]", 2, &err), MG_EFORMAT);
    cr_assert_str_eq(err.message, "proof: not a JSON object");
    mg_error_clear(&err);
    mg_audit_checker_close(c);
    free(proof);
    mg_audit_close(log);
    fx_fini(&f);
}

/* The size in a checkpoint note's second line. */
static long note_size(mg_audit_log *log)
{
    char *note = NULL;
    if (mg_audit_latest_checkpoint(log, &note, NULL) != MG_OK)
        return -1;
    const char *nl = strchr(note, '\n');
    long size = nl ? strtol(nl + 1, NULL, 10) : -1;
    free(note);
    return size;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A clock the test moves while the writer reads it. */
static int64_t moved_clock(void *ud)
{
    return __atomic_load_n((int64_t *)ud, __ATOMIC_SEQ_CST);
}

static char *latest_note(mg_audit_log *log)
{
    char *note = NULL;
    cr_assert_eq(mg_audit_latest_checkpoint(log, &note, NULL), MG_OK);
    return note;
}

/* An idle log signs its unchanged tree head again idle_checkpoint_ms after
 * the last checkpoint, with the new time: a monitor tells a live idle log
 * from a stalled one. Nothing before that; the refreshed note replaces the
 * old one of that size, and the log still verifies and proves. */
Test(log, idle_log_signs_its_tree_head_again_hourly)
{
    fixture f;
    fx_init(&f);
    int64_t now = 1780315200000000;             /* 2026-06-01T12:00:00Z */
    mg_audit_config cfg = { .path = f.db, .keystore = f.ks, .origin = "acme/sales/orders",
                            .signing_key = f.key, .checkpoint_ms = 20,
                            .clock = moved_clock, .clock_ud = &now };
    mg_audit_log *log;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK, "%s", err.message);
    mg_audit_record r = { .kind = "decision", .subject = "s" };
    uint64_t seq;
    cr_assert_eq(mg_audit_record_push(log, &r, &seq, &err), MG_OK);
    cr_assert_eq(mg_audit_checkpoint(log, &err), MG_OK);
    char *first = latest_note(log);
    cr_assert(strstr(first, "acme/sales/orders\n1\n") == first, "%s", first);
    cr_assert_not_null(strstr(first, "=\ntime 2026-06-01T12:00:00Z\n\n"), "%s", first);

    __atomic_store_n(&now, now + 59 * 60 * 1000000LL, __ATOMIC_SEQ_CST);
    struct timespec nap = { 0, 200 * 1000000 };          /* ten timer periods */
    nanosleep(&nap, NULL);
    char *early = latest_note(log);
    cr_assert_str_eq(early, first, "signed again before the hour");

    __atomic_store_n(&now, 1780315200000000 + 3601500000LL, __ATOMIC_SEQ_CST);
    char *fresh = NULL;
    for (int64_t until = mono_ms() + 5000; mono_ms() < until;) {
        free(fresh);
        fresh = latest_note(log);
        if (strcmp(fresh, first) != 0)
            break;
        struct timespec wait = { 0, 20 * 1000000 };
        nanosleep(&wait, NULL);
    }
    const char *t = strstr(first, "time ");
    size_t head = (size_t)(t - first);                   /* origin, size, root */
    cr_assert_eq(strncmp(fresh, first, head), 0, "%s", fresh);
    cr_assert_eq(strncmp(fresh + head, "time 2026-06-01T13:00:01Z\n\n", 27), 0, "%s", fresh);
    mg_audit_close(log);
    mg_audit_report rep = fx_verify(&f, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_OK);
    cr_assert_eq(rep.verified_size, 1);
    free(first);
    free(early);
    free(fresh);
    mg_error_clear(&err);
    fx_fini(&f);
}

static size_t signature_lines(const char *note)
{
    size_t n = 0;
    for (const char *p = strstr(note, "\n\n"); p && (p = strstr(p + 1, "\n\xe2\x80\x94 ")); n++)
        ;
    return n;
}

/* The checkpoint of a key rotation is signed by the old key and the new,
 * and signing it again would drop the old key's signature: an idle log
 * leaves it as it is, and the old key still vouches for the rotation. */
Test(log, idle_log_keeps_the_rotation_checkpoint)
{
    fixture f;
    fx_init(&f);
    char *newkey = path_in(f.dir, "new.key"), *vk;
    cr_assert_eq(mg_audit_keygen("acme/sales/orders-2026", newkey, &vk, NULL), MG_OK);
    int64_t now = 1780315200000000;
    mg_audit_config cfg = { .path = f.db, .keystore = f.ks, .origin = "acme/sales/orders",
                            .signing_key = f.key, .checkpoint_ms = 20,
                            .idle_checkpoint_ms = 60000, .clock = moved_clock, .clock_ud = &now };
    mg_audit_log *log;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK, "%s", err.message);
    mg_audit_record r = { .kind = "decision", .subject = "s" };
    uint64_t seq;
    cr_assert_eq(mg_audit_record_push(log, &r, &seq, &err), MG_OK);
    cr_assert_eq(mg_audit_checkpoint(log, &err), MG_OK);
    cr_assert_eq(mg_audit_rotate_key(log, newkey, &err), MG_OK, "%s", err.message);
    char *rotation = latest_note(log);
    cr_assert_eq(signature_lines(rotation), 2, "%s", rotation);
    __atomic_store_n(&now, now + 61 * 1000000LL, __ATOMIC_SEQ_CST);
    struct timespec nap = { 0, 300 * 1000000 };          /* fifteen timer periods */
    nanosleep(&nap, NULL);
    char *later = latest_note(log);
    cr_assert_str_eq(later, rotation);
    mg_audit_close(log);
    char keys[1400];
    snprintf(keys, sizeof keys, "%s until 2\n", f.vkey);     /* the old key alone */
    fx_keys(&f, keys);
    mg_audit_report rep = fx_verify(&f, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_OK);
    cr_assert_eq(rep.verified_size, 2);
    free(rotation);
    free(later);
    free(vk);
    free(newkey);
    mg_error_clear(&err);
    fx_fini(&f);
}

/* A checkpoint's time does not go back when the clock does. */
Test(log, checkpoint_time_does_not_go_back)
{
    fixture f;
    fx_init(&f);
    int64_t now = 1780315200000000;             /* 2026-06-01T12:00:00Z */
    mg_audit_config cfg = { .path = f.db, .keystore = f.ks, .origin = "acme/sales/orders",
                            .signing_key = f.key, .clock = moved_clock, .clock_ud = &now };
    mg_audit_log *log;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK, "%s", err.message);
    mg_audit_record r = { .kind = "decision", .subject = "s" };
    uint64_t seq;
    cr_assert_eq(mg_audit_record_push(log, &r, &seq, &err), MG_OK);
    cr_assert_eq(mg_audit_checkpoint(log, &err), MG_OK);
    __atomic_store_n(&now, now - 3600 * 1000000LL, __ATOMIC_SEQ_CST);
    cr_assert_eq(mg_audit_record_push(log, &r, &seq, &err), MG_OK);
    cr_assert_eq(mg_audit_checkpoint(log, &err), MG_OK);
    char *note = latest_note(log);
    cr_assert(strstr(note, "acme/sales/orders\n2\n") == note, "%s", note);
    cr_assert_not_null(strstr(note, "=\ntime 2026-06-01T12:00:00Z\n\n"), "%s", note);
    free(note);
    mg_audit_close(log);
    mg_error_clear(&err);
    fx_fini(&f);
}

/* Entries that wait are signed within checkpoint_ms by the writer's timer,
 * with no call from the caller: nothing stays unanchored while a log is
 * idle. */
Test(log, waiting_entries_are_checkpointed_by_the_timer)
{
    fixture f;
    fx_init(&f);
    mg_audit_config cfg = { .path = f.db, .keystore = f.ks, .origin = "acme/sales/orders",
                            .signing_key = f.key, .checkpoint_every = 1000, .checkpoint_ms = 300 };
    mg_audit_log *log;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK);
    mg_audit_record r = { .kind = "decision", .subject = "s" };
    uint64_t seq;
    cr_assert_eq(mg_audit_record_push(log, &r, &seq, &err), MG_OK);
    cr_assert_eq(mg_audit_checkpoint(log, &err), MG_OK);
    int64_t signed_at = mono_ms();
    cr_assert_eq(note_size(log), 1);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(mg_audit_record_push(log, &r, &seq, &err), MG_OK);
    cr_assert_eq(mg_audit_flush(log, &err), MG_OK);
    cr_assert_eq(mg_audit_size(log), 3);
    if (mono_ms() - signed_at < 250)          /* committed before the period ended */
        cr_assert_eq(note_size(log), 1, "checkpointed before checkpoint_ms passed");
    long size = -1;
    for (int64_t until = mono_ms() + 5000; (size = note_size(log)) != 3 && mono_ms() < until;) {
        struct timespec nap = { 0, 20 * 1000000 };
        nanosleep(&nap, NULL);
    }
    cr_assert_eq(size, 3, "no checkpoint covered the waiting entries");
    mg_audit_close(log);
    mg_error_clear(&err);
    fx_fini(&f);
}

/* The key store links people to pseudonyms: only its owner may read it. */
Test(log, key_store_is_created_for_its_owner_only)
{
    fixture f;
    fx_init(&f);
    mode_t old = umask(022);
    fx_build(&f, 3, 2);
    umask(old);
    struct stat st;
    cr_assert_eq(stat(f.ks, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600, "mode %o", (unsigned)(st.st_mode & 0777));
    fx_fini(&f);
}

/* A query filters on the columns; a row whose columns were edited away
 * from its hashed entry is an integrity error, never a row that
 * contradicts the filter. */
Test(log, query_refuses_a_row_whose_columns_differ_from_its_entry)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 6, 2);
    fx_sql(&f, "UPDATE entries SET effect = 'deny' WHERE seq = 2");
    mg_audit_log *log = fx_reader(&f);
    mg_error err = { 0 };
    mg_audit_filter flt = { .effect = "deny" };
    lines rows = { 0 };
    cr_assert_eq(mg_audit_query(log, &flt, collect, &rows, &err), MG_EINTEGRITY);
    cr_assert_str_eq(err.message, "entry 2 has columns that differ from its canonical encoding "
                                  "(a query filters on the columns; verify the log)");
    cr_assert_eq(rows.n, 1, "entry 1, a deny, comes first");
    flt.effect = "allow";
    rows.n = 0;
    cr_assert_eq(mg_audit_query(log, &flt, collect, &rows, &err), MG_OK, "%s", err.message);
    cr_assert_eq(rows.n, 2, "entries 0 and 4; entry 2 no longer matches its column");
    mg_error_clear(&err);
    mg_audit_close(log);
    fx_fini(&f);
}

/* An entry whose payload is not UTF-8 stops a query with an integrity
 * error; before, the row came out without its payload. */
Test(log, query_refuses_an_entry_that_is_not_utf8)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 4, 2);
    fx_sql(&f, "UPDATE entries SET entry = CAST(substr(entry, 1, length(entry) - 1) || X'FF'"
               " AS BLOB) WHERE seq = 2");
    mg_audit_log *log = fx_reader(&f);
    mg_error err = { 0 };
    mg_audit_filter flt = { 0 };
    lines rows = { 0 };
    cr_assert_eq(mg_audit_query(log, &flt, collect, &rows, &err), MG_EINTEGRITY);
    cr_assert_str_eq(err.message, "entry 2 is not in the canonical encoding");
    cr_assert_eq(rows.n, 2);
    mg_error_clear(&err);
    mg_audit_close(log);
    fx_fini(&f);
}

/* An auditor who adds an "until" line for a key already listed would
 * revoke nothing (the other line still trusts it): refused. */
Test(log, a_key_listed_twice_is_refused)
{
    fixture f;
    fx_init(&f);
    char text[1200];
    snprintf(text, sizeof text, "%s\n%s until 10\n", f.vkey, f.vkey);
    audit_vkey *keys = NULL;
    size_t n = 0;
    mg_error err = { 0 };
    cr_assert_eq(audit_keys_parse(text, strlen(text), "pinned.keys", &keys, &n, &err), MG_EFORMAT);
    cr_assert_str_eq(err.message, "this key is listed twice: one line per key (an \"until\" goes "
                                  "on its only line)");
    cr_assert_str_eq(err.file, "pinned.keys");
    cr_assert_eq(err.line, 2);
    cr_assert_null(keys);
    mg_error_clear(&err);
    fx_fini(&f);
}

/* A JSON proof states the leaf hash; it must be the entry's. */
Test(log, json_proof_leaf_hash_is_checked)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 6, 2);
    mg_audit_log *log = fx_reader(&f);
    mg_error err = { 0 };
    char *proof;
    cr_assert_eq(mg_audit_prove(log, 3, 0, &proof, &err), MG_OK, "%s", err.message);
    char *lh = strstr(proof, "\"leaf_hash\":\"");
    cr_assert_not_null(lh);
    lh += 13;
    char *bad = strdup(proof);
    memcpy(bad + (lh - proof), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 44);
    cr_assert_eq(mg_audit_check_proof(bad, strlen(bad), f.keys, &err), MG_EINTEGRITY);
    cr_assert_str_eq(err.message, "proof: leaf_hash is not the hash of the entry");
    memcpy(bad + (lh - proof) - 13, "\"leaf_hasx\"", 11);
    cr_assert_eq(mg_audit_check_proof(bad, strlen(bad), f.keys, &err), MG_EFORMAT);
    cr_assert_str_eq(err.message, "proof: malformed inclusion proof");
    free(bad);
    /* A text longer than any proof is refused before it is parsed. */
    size_t big = 4 * 65536 + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    cr_assert_eq(mg_audit_check_proof(huge, big, f.keys, &err), MG_ELIMIT);
    cr_assert_str_eq(err.message, "proof: larger than 262144 bytes");
    free(huge);
    free(proof);
    mg_error_clear(&err);
    mg_audit_close(log);
    fx_fini(&f);
}

/* verify reads only the layout it knows, like every other command. */
Test(log, verify_refuses_another_layout_version)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 4, 2);
    mg_audit_verify_opts o = { .db = f.db, .keys = f.keys };
    mg_audit_report rep;
    mg_error err = { 0 };
    for (int version = 1; version <= 4; version += 3) {
        char sql[64];
        snprintf(sql, sizeof sql, "UPDATE state SET version = %d", version);
        fx_sql(&f, sql);
        cr_assert_eq(mg_audit_verify(&o, &rep, &err), MG_EFORMAT);
        cr_assert_str_eq(err.message, "not a meshgov audit log of version 2 to 3");
    }
    mg_error_clear(&err);
    fx_fini(&f);
}

/* An auditor reads a log in a directory it may not write (SQLite cannot
 * create the -shm file there): a closed log is read as immutable; a log
 * whose -wal file holds entries is refused, never read without them. As
 * root the child drops to nobody, for whom the permissions count. */
static int verify_as_nobody(fixture *f, const char *db)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(9);
        mg_audit_verify_opts o = { .db = db, .keys = f->keys };
        mg_audit_report rep;
        mg_error err = { 0 };
        mg_status s = mg_audit_verify(&o, &rep, &err);
        if (s == MG_EIO)
            _exit(strcmp(err.message, "its -wal file holds entries and SQLite cannot create the "
                                      "-shm file it needs beside them: copy the log and its -wal "
                                      "file to a directory you may write") == 0 ? 3 : 4);
        mg_audit_config cfg = { .path = db };
        mg_audit_log *log;
        char *proof = NULL;
        bool ok = s == MG_OK && rep.verdict == MG_AUDIT_OK && rep.size == 5 &&
                  mg_audit_open(&cfg, &log, &err) == MG_OK &&
                  mg_audit_prove_tlog(log, 2, 0, &proof, &err) == MG_OK;
        _exit(ok ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(log, a_log_in_a_directory_the_auditor_may_not_write_is_read)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 5, 2);
    cr_assert_eq(chmod(f.dir, 0555), 0);
    cr_assert_eq(verify_as_nobody(&f, f.db), 0);
    cr_assert_eq(chmod(f.dir, 0755), 0);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", f.db);
    FILE *w = fopen(wal, "w");
    cr_assert_not_null(w);
    fputs("not empty", w);
    fclose(w);
    cr_assert_eq(chmod(f.dir, 0555), 0);
    cr_assert_eq(verify_as_nobody(&f, f.db), 3);
    /* The same through a link from elsewhere: the -wal file is the one
     * beside the file the link points to. */
    char *other = make_tmpdir(), *link = path_in(other, "link.db");
    cr_assert_eq(symlink(f.db, link), 0);
    cr_assert_eq(chmod(other, 0755), 0);
    cr_assert_eq(verify_as_nobody(&f, link), 3);
    remove(link);
    rmdir(other);
    free(link);
    free(other);
    cr_assert_eq(chmod(f.dir, 0700), 0);
    remove(wal);
    fx_fini(&f);
}

/* A governance record ends its batch, so a checkpoint is signed at the
 * tree size right after it, even when other records were queued behind
 * it. */
Test(log, a_governance_action_is_checkpointed_right_after_it)
{
    fixture f;
    fx_init(&f);
    mg_audit_log *log = fx_open(&f, 1000);
    mg_error err = { 0 };
    for (int i = 0; i < 7; i++) {
        char payload[32];
        snprintf(payload, sizeof payload, "{\"n\":%d}", i);
        mg_audit_record r = { .kind = i == 3 ? "policy_load" : "decision", .payload = payload,
                              .event_time_us = 1767225600000000 + i, .governance = i == 3 };
        cr_assert_eq(mg_audit_record_push(log, &r, NULL, &err), MG_OK, "%s", err.message);
    }
    cr_assert_eq(mg_audit_flush(log, &err), MG_OK, "%s", err.message);
    mg_audit_close(log);
    char *note = fx_note(&f, 4);
    cr_assert_not_null(note, "no checkpoint at size 4, right after the governance record");
    free(note);
    mg_error_clear(&err);
    fx_fini(&f);
}
