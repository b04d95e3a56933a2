/*
 * keystore.c — the pseudonym key store: a SQLite database of its own (never
 * the audit database, which auditors receive) mapping a raw subject id to a
 * random 16-byte pseudonym in hex. The audit log holds only pseudonyms;
 * forgetting a subject deletes its mapping, so the log never needs
 * rewriting. secure_delete and a WAL truncation keep erased ids from
 * lingering in the files.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sodium.h>
#include "audit/audit.h"
#include "stdlib/error.h"

/* Pseudonyms the writer has looked up, so a busy subject costs no query.
 * Two-way set associative; a slot holds the raw id, so it is wiped when
 * evicted, forgotten or closed. Valid only while no other connection has
 * changed the key store (PRAGMA data_version), so a subject forgotten by
 * another process is never given its old pseudonym again. */
#define KS_SLOTS 4096

typedef struct ks_slot {
    uint64_t hash;
    uint16_t len;               /* 0: empty */
    char pseudonym[33];
    char subject[MG_AUDIT_MAX_SUBJECT];
} ks_slot;

enum { KS_LOOKUP, KS_INSERT, KS_DELETE, KS_VERSION, KS_NST };

static const char *const ks_sql[KS_NST] = {
    [KS_LOOKUP] = "SELECT pseudonym FROM pseudonyms WHERE subject = ?1",
    [KS_INSERT] = "INSERT INTO pseudonyms(subject, pseudonym) VALUES (?1, ?2)",
    [KS_DELETE] = "DELETE FROM pseudonyms WHERE subject = ?1",
    [KS_VERSION] = "PRAGMA data_version",
};

struct audit_keystore {
    sqlite3 *db;
    char *path;
    sqlite3_stmt *st[KS_NST];
    bool batching;              /* between batch_begin and batch_end */
    bool in_batch;              /* a transaction is open for new pseudonyms */
    int64_t data_version;       /* of the connection when the cache was valid */
    ks_slot *cache;             /* KS_SLOTS slots, or NULL when out of memory */
    audit_mem mem;              /* of all the above */
};

static mg_status ks_err(audit_keystore *ks, mg_error *err)
{
    int rc = sqlite3_errcode(ks->db);
    return mg_error_set(err, rc == SQLITE_NOMEM ? MG_ENOMEM : MG_EDB, ks->path, 0, 0,
                        "key store: %s", sqlite3_errmsg(ks->db));
}

static void cache_clear(audit_keystore *ks)
{
    if (ks->cache)
        sodium_memzero(ks->cache, KS_SLOTS * sizeof *ks->cache);
}

static uint64_t subject_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

/* The slot holding the subject, or NULL. */
static ks_slot *cache_find(audit_keystore *ks, const char *s, size_t n, uint64_t h)
{
    if (!ks->cache || n == 0 || n > MG_AUDIT_MAX_SUBJECT)
        return NULL;
    size_t i = (size_t)(h % KS_SLOTS) & ~(size_t)1;
    for (size_t k = i; k < i + 2; k++) {
        ks_slot *c = &ks->cache[k];
        if (c->len == n && c->hash == h && memcmp(c->subject, s, n) == 0)
            return c;
    }
    return NULL;
}

static void cache_put(audit_keystore *ks, const char *s, size_t n, uint64_t h,
                      const char pseudonym[33])
{
    if (!ks->cache || n == 0 || n > MG_AUDIT_MAX_SUBJECT)
        return;
    size_t i = (size_t)(h % KS_SLOTS) & ~(size_t)1;
    /* Fill an empty way, else evict the second and move the first down. */
    ks_slot *c = &ks->cache[i];
    if (c->len != 0) {
        if (ks->cache[i + 1].len == 0) {
            c = &ks->cache[i + 1];
        } else {
            ks->cache[i + 1] = ks->cache[i];
            sodium_memzero(c, sizeof *c);
        }
    }
    c->hash = h;
    c->len = (uint16_t)n;
    memcpy(c->subject, s, n);
    memcpy(c->pseudonym, pseudonym, 33);
}

static void cache_drop(audit_keystore *ks, const char *s, size_t n)
{
    ks_slot *c = cache_find(ks, s, n, subject_hash(s, n));
    if (c)
        sodium_memzero(c, sizeof *c);
}

static mg_status data_version(audit_keystore *ks, int64_t *v, mg_error *err)
{
    sqlite3_stmt *st = ks->st[KS_VERSION];
    int rc = sqlite3_step(st);
    *v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? MG_OK : ks_err(ks, err);
}

/* Drops the cache when another connection has written the key store. */
static mg_status cache_check(audit_keystore *ks, mg_error *err)
{
    int64_t v;
    mg_status s = data_version(ks, &v, err);
    if (s == MG_OK && v != ks->data_version) {
        cache_clear(ks);
        ks->data_version = v;
    }
    return s;
}

mg_status audit_keystore_open(const audit_mem *m, const char *path, bool read_only,
                              audit_keystore **out, mg_error *err)
{
    *out = NULL;
    audit_keystore *ks = am_calloc(m, 1, sizeof *ks);
    if (ks)
        ks->mem = m ? *m : audit_mem_of(NULL, NULL);
    if (!ks || !(ks->path = am_strdup(m, path))) {
        am_free(m, ks, sizeof *ks);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    ks->cache = am_calloc(m, KS_SLOTS, sizeof *ks->cache);  /* optional: NULL means uncached */
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    mg_status s = MG_OK;
    /* It links people to their pseudonyms: created for its owner only
     * (SQLite gives its -wal and -shm files the same mode). */
    int fd = read_only ? -1 : open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    if (sqlite3_open_v2(path, &ks->db, flags, NULL) != SQLITE_OK) {
        s = ks_err(ks, err);
    } else {
        sqlite3_busy_timeout(ks->db, 5000);
        int log = audit_sqlite_has_table(ks->db, "entries");
        if (log != 0)
            s = log < 0 ? ks_err(ks, err)
                        : mg_error_set(err, MG_EINVAL, path, 0, 0, "this is an audit log (it has "
                                       "an entries table), not a key store");
    }
    if (s == MG_OK) {
        const char *sql = read_only ? "SELECT count(*) FROM pseudonyms" :
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
            "CREATE TABLE IF NOT EXISTS pseudonyms(subject TEXT PRIMARY KEY,"
            " pseudonym TEXT NOT NULL UNIQUE)";
        if (sqlite3_exec(ks->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            s = ks_err(ks, err);
        for (int i = 0; s == MG_OK && i < KS_NST; i++)
            if (sqlite3_prepare_v3(ks->db, ks_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                                   &ks->st[i], NULL) != SQLITE_OK)
                s = ks_err(ks, err);
        if (s == MG_OK)
            s = data_version(ks, &ks->data_version, err);
    }
    if (s != MG_OK) {
        audit_keystore_close(ks);
        return s;
    }
    *out = ks;
    return MG_OK;
}

void audit_keystore_close(audit_keystore *ks)
{
    if (!ks)
        return;
    if (ks->in_batch)
        sqlite3_exec(ks->db, "ROLLBACK", NULL, NULL, NULL);
    for (int i = 0; i < KS_NST; i++)
        sqlite3_finalize(ks->st[i]);
    sqlite3_close(ks->db);
    cache_clear(ks);
    audit_mem m = ks->mem;
    am_free(&m, ks->cache, KS_SLOTS * sizeof *ks->cache);
    am_free_str(&m, ks->path);
    am_free(&m, ks, sizeof *ks);
}

static mg_status lookup(audit_keystore *ks, const char *subject, char out[33],
                        bool *found, mg_error *err)
{
    sqlite3_stmt *st = ks->st[KS_LOOKUP];
    *found = false;
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *p = sqlite3_column_text(st, 0);
        if (p && strlen((const char *)p) == 32) {
            memcpy(out, p, 33);
            *found = true;
        }
    }
    mg_status s = rc == SQLITE_ROW || rc == SQLITE_DONE ? MG_OK : ks_err(ks, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return s;
}

mg_status audit_keystore_batch_begin(audit_keystore *ks, mg_error *err)
{
    mg_status s = cache_check(ks, err);
    ks->batching = s == MG_OK;
    return s;
}

mg_status audit_keystore_batch_end(audit_keystore *ks, mg_error *err)
{
    ks->batching = false;
    if (!ks->in_batch)
        return MG_OK;
    ks->in_batch = false;
    if (sqlite3_exec(ks->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return MG_OK;
    mg_status s = ks_err(ks, err);
    sqlite3_exec(ks->db, "ROLLBACK", NULL, NULL, NULL);
    /* Pseudonyms made in the batch were not stored: forget them all. */
    cache_clear(ks);
    return s;
}

/* Stores a new pseudonym: inside the batch's transaction when one is
 * wanted (committed by audit_keystore_batch_end), else on its own. */
static mg_status insert(audit_keystore *ks, const char *subject, const char *p,
                        mg_error *err)
{
    if (ks->batching && !ks->in_batch) {
        if (sqlite3_exec(ks->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
            return ks_err(ks, err);
        ks->in_batch = true;
    }
    sqlite3_stmt *st = ks->st[KS_INSERT];
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p, 32, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    mg_status s = rc == SQLITE_DONE ? MG_OK : ks_err(ks, err);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return s;
}

mg_status audit_keystore_pseudonym(audit_keystore *ks, const char *subject,
                                   bool create, char out[33], mg_error *err)
{
    size_t n = strlen(subject);
    uint64_t h = subject_hash(subject, n);
    mg_status s = ks->batching ? MG_OK : cache_check(ks, err);
    if (s != MG_OK)
        return s;
    ks_slot *c = cache_find(ks, subject, n, h);
    if (c) {
        memcpy(out, c->pseudonym, 33);
        return MG_OK;
    }
    bool found;
    s = lookup(ks, subject, out, &found, err);
    if (s != MG_OK)
        return s;
    if (found) {
        cache_put(ks, subject, n, h, out);
        return MG_OK;
    }
    if (!create)
        return mg_error_set(err, MG_ENOTFOUND, NULL, 0, 0, "no pseudonym for this subject");
    uint8_t raw[16];
    randombytes_buf(raw, sizeof raw);
    audit_hex_encode(raw, sizeof raw, out);
    s = insert(ks, subject, out, err);
    if (s == MG_OK)
        cache_put(ks, subject, n, h, out);
    return s;
}

mg_status audit_keystore_forget(audit_keystore *ks, const char *subject, mg_error *err)
{
    cache_drop(ks, subject, strlen(subject));
    sqlite3_stmt *st = ks->st[KS_DELETE];
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return ks_err(ks, err);
    if (sqlite3_changes(ks->db) == 0)
        return mg_error_set(err, MG_ENOTFOUND, NULL, 0, 0, "no pseudonym for this subject");
    /* Move the deletion out of the WAL into the (secure-deleted) main file. */
    if (sqlite3_exec(ks->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
        return ks_err(ks, err);
    return MG_OK;
}
