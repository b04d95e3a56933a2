/*
 * api.c — the public audit functions that read the log or its keys: key
 * generation and loading, checkpoints on demand, key rotation, forgetting a
 * subject, inclusion and consistency proofs as JSON (and their independent
 * check), queries and export as JSON lines. Every function takes the
 * handle's db_lock, so a handle serializes its own use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>
#include "audit/audit.h"
#include "stdlib/error.h"
#include "stdlib/stdlib.h"

#define B64_HASH AUDIT_B64_LEN(AUDIT_HASH)

/* ======================================================================
 * Keys
 * ====================================================================== */

mg_status audit_skey_load(const char *path, audit_skey *out, mg_error *err)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mg_error_set(err, MG_EIO, path, 0, 0, "cannot open private key file: %s",
                            strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mg_error_set(err, MG_EIO, path, 0, 0, "private key file is not a regular file");
    }
    if (st.st_mode & 077) {
        close(fd);
        return mg_error_set(err, MG_ECRYPTO, path, 0, 0,
                            "private key file is readable by group or others (mode %04o); "
                            "run chmod 600 on it", (unsigned)(st.st_mode & 07777));
    }
    char buf[AUDIT_MAX_NAME + 128];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 0)
        return mg_error_set(err, MG_EIO, path, 0, 0, "cannot read private key file: %s",
                            strerror(errno));
    size_t len = (size_t)n;
    if (len == sizeof buf)
        return mg_error_set(err, MG_EFORMAT, path, 0, 0, "private key file is too long");
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    mg_error e2 = { 0 };
    mg_status s = audit_skey_parse(buf, len, out, &e2);
    sodium_memzero(buf, sizeof buf);
    if (s != MG_OK)
        mg_error_set(err, s, path, 1, 0, "%s", e2.message ? e2.message : "bad private key");
    mg_error_clear(&e2);
    return s;
}

mg_status mg_audit_keygen(const char *name, const char *skey_file, char **vkey,
                          mg_error *err)
{
    *vkey = NULL;
    if (!name || !skey_file)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "keygen needs a name and a file");
    if (sodium_init() < 0)
        return mg_error_set(err, MG_ECRYPTO, NULL, 0, 0, "libsodium failed to initialize");
    uint8_t seed[32];
    audit_skey k;
    randombytes_buf(seed, sizeof seed);
    mg_status s = audit_skey_from_seed(name, seed, &k, err);
    sodium_memzero(seed, sizeof seed);
    if (s != MG_OK)
        return s;
    char text[AUDIT_MAX_NAME + 128], pub[AUDIT_MAX_NAME + 128];
    audit_vkey v;
    audit_skey_public(&k, &v);
    audit_skey_format(&k, text, sizeof text);
    audit_vkey_format(&v, pub, sizeof pub);
    sodium_memzero(&k, sizeof k);
    int fd = open(skey_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        sodium_memzero(text, sizeof text);
        return mg_error_set(err, MG_EIO, skey_file, 0, 0, "cannot create private key file: %s",
                            strerror(errno));
    }
    size_t len = strlen(text);
    text[len++] = '\n';
    bool ok = fchmod(fd, 0600) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    sodium_memzero(text, sizeof text);
    if (!ok) {
        unlink(skey_file);
        return mg_error_set(err, MG_EIO, skey_file, 0, 0, "cannot write private key file");
    }
    if (!(*vkey = strdup(pub)))
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    return MG_OK;
}

/* ======================================================================
 * Checkpoints, rotation, forgetting
 * ====================================================================== */

mg_status mg_audit_checkpoint(mg_audit_log *log, mg_error *err)
{
    if (!log->has_writer)
        return mg_error_set(err, MG_EINVAL, log->db.path, 0, 0,
                            "the audit log is open read-only (no signing key)");
    mg_status s = mg_audit_flush(log, err);
    if (s != MG_OK)
        return s;
    pthread_mutex_lock(&log->db_lock);
    s = audit_db_checkpoint(&log->db, audit_now(log), err);
    pthread_mutex_unlock(&log->db_lock);
    return s;
}

mg_status mg_audit_latest_checkpoint(mg_audit_log *log, char **note, mg_error *err)
{
    uint64_t size;
    uint8_t root[AUDIT_HASH];
    pthread_mutex_lock(&log->db_lock);
    char *held = NULL;
    *note = NULL;
    mg_status s = audit_db_read_checkpoint(&log->db, 0, &size, root, &held, err);
    /* The caller's copy comes from malloc: it is freed with mg_free. */
    if (s == MG_OK && !(*note = strdup(held)))
        s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    am_free_str(&log->db.mem, held);
    pthread_mutex_unlock(&log->db_lock);
    return s;
}

/* The public key a key_rotation payload names under `member`, if any. */
static bool rotation_key(json_t *payload, const char *member, uint8_t pk[32])
{
    const char *v = json_string_value(json_object_get(payload, member));
    audit_vkey k;
    if (!v || audit_vkey_parse(v, strlen(v), &k, NULL) != MG_OK)
        return false;
    memcpy(pk, k.pk, 32);
    return true;
}

/* The key a rotation entry brought in, when the entry at seq is one: a
 * rotation ends its batch, so it is the last entry of its checkpoint. */
static bool rotated_to(audit_db *d, uint64_t seq, uint8_t pk[32])
{
    uint8_t *bytes = NULL;
    size_t n = 0;
    audit_entry e;
    json_t *pl = NULL;
    bool found = audit_db_entry(d, seq, &bytes, &n, NULL) == MG_OK &&
                 audit_entry_decode(bytes, n, &e) &&
                 e.n[AUDIT_F_KIND] == strlen("key_rotation") &&
                 memcmp(e.f[AUDIT_F_KIND], "key_rotation", e.n[AUDIT_F_KIND]) == 0 &&
                 (pl = json_loadb(e.f[AUDIT_F_PAYLOAD], e.n[AUDIT_F_PAYLOAD], 0, NULL)) &&
                 rotation_key(pl, "new_key", pk);
    json_decref(pl);
    am_free(&d->mem, bytes, bytes ? n + 1 : 0);
    return found;
}

/* Trust passes from the key that has signed the log: a writer opened with
 * another key would sign checkpoints no auditor's pin covers, and rotating
 * from it would have the auditor pin, "until" the rotation, a key that
 * never signed the log. The latest checkpoint must carry the key's
 * signature; if it is a rotation's (signed by both keys), the key must be
 * the one brought in. A log without a checkpoint has no such key yet. */
mg_status audit_db_check_signer(audit_db *d, mg_error *err)
{
    uint64_t size;
    uint8_t root[AUDIT_HASH], pk[32];
    char *note = NULL;
    mg_status s = audit_db_read_checkpoint(d, 0, &size, root, &note, err);
    if (s == MG_ENOTFOUND) {
        mg_error_clear(err);
        return MG_OK;
    }
    if (s != MG_OK)
        return s;
    audit_vkey v;
    audit_note_result res;
    audit_skey_public(&d->signers[0], &v);
    s = audit_note_open(note, strlen(note), &v, 1, &res, NULL);
    am_free_str(&d->mem, note);
    if (s != MG_OK)
        return mg_error_set(err, MG_EINVAL, d->path, 0, 0,
                            "the latest checkpoint (size %llu) is not signed by the signing key "
                            "given: use the key that signs the log (changing keys is a rotation)",
                            (unsigned long long)size);
    if (size > 0 && rotated_to(d, size - 1, pk) && sodium_memcmp(pk, v.pk, 32) != 0)
        return mg_error_set(err, MG_EINVAL, d->path, 0, 0,
                            "the signing key given was rotated out at size %llu: use the key "
                            "that rotation brought in", (unsigned long long)size);
    return MG_OK;
}


/* The log's earlier rotations, read from their hashed entries: the key the
 * log was opened with must be the one the last rotation brought in, and
 * the new key none that ever signed it (an auditor stops trusting a key
 * rotated out; taking it back would need the auditor's pin reopened). */
static mg_status check_rotations(audit_db *d, const audit_skey *nk, mg_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, "SELECT seq, entry FROM entries WHERE kind = 'key_rotation'"
                           " ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
        return audit_db_error(d->db, d->path, "reading key rotations", err);
    mg_status s = MG_OK;
    bool any = false;
    int64_t seen = -1;          /* the first rotation naming the new key */
    uint8_t current[32] = { 0 };
    int rc;
    while (s == MG_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        audit_entry e;
        uint8_t oldk[32], newk[32];
        json_t *pl = NULL;
        if (!audit_entry_decode(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                                &e) ||
            !(pl = json_loadb(e.f[AUDIT_F_PAYLOAD], e.n[AUDIT_F_PAYLOAD], 0, NULL)) ||
            !rotation_key(pl, "old_key", oldk) || !rotation_key(pl, "new_key", newk)) {
            s = mg_error_set(err, MG_EINTEGRITY, d->path, 0, 0,
                             "the key_rotation entry %lld is malformed: verify the log",
                             (long long)sqlite3_column_int64(st, 0));
        } else {
            if (seen < 0 && (sodium_memcmp(oldk, nk->pk, 32) == 0 ||
                             sodium_memcmp(newk, nk->pk, 32) == 0))
                seen = sqlite3_column_int64(st, 0);
            memcpy(current, newk, 32);
            any = true;
        }
        json_decref(pl);
    }
    if (s == MG_OK && rc != SQLITE_DONE)
        s = audit_db_error(d->db, d->path, "reading key rotations", err);
    sqlite3_finalize(st);
    if (s == MG_OK && any && sodium_memcmp(current, d->signers[0].pk, 32) != 0)
        s = mg_error_set(err, MG_EINVAL, d->path, 0, 0,
                         "the signing key the log was opened with was rotated out: rotate from "
                         "the key the last rotation brought in");
    else if (s == MG_OK && seen >= 0)
        s = mg_error_set(err, MG_EINVAL, d->path, 0, 0,
                         "the new key already signed this log (see key_rotation entry %lld): "
                         "a key rotated out is never trusted again", (long long)seen);
    return s;
}

mg_status mg_audit_rotate_key(mg_audit_log *log, const char *new_key_file, mg_error *err)
{
    if (!log->has_writer)
        return mg_error_set(err, MG_EINVAL, log->db.path, 0, 0,
                            "the audit log is open read-only (no signing key)");
    audit_skey nk;
    mg_status s = audit_skey_load(new_key_file, &nk, err);
    if (s != MG_OK)
        return s;
    char oldv[AUDIT_MAX_NAME + 128], newv[AUDIT_MAX_NAME + 128], payload[1024];
    audit_vkey v;
    pthread_mutex_lock(&log->db_lock);
    /* The same key under any name would leave nothing revoked: the auditor
     * would pin the old key "until" a size and go on trusting it. */
    if (sodium_memcmp(log->db.signers[0].pk, nk.pk, sizeof nk.pk) == 0) {
        pthread_mutex_unlock(&log->db_lock);
        sodium_memzero(&nk, sizeof nk);
        return mg_error_set(err, MG_EINVAL, new_key_file, 0, 0,
                            "the new key is the log's current signing key");
    }
    if ((s = audit_db_check_signer(&log->db, err)) != MG_OK ||
        (s = check_rotations(&log->db, &nk, err)) != MG_OK) {
        pthread_mutex_unlock(&log->db_lock);
        sodium_memzero(&nk, sizeof nk);
        return s;
    }
    audit_skey *two = am_resize(&log->mem, log->db.signers,
                                log->db.signers_room * sizeof *two, 2 * sizeof *two);
    if (!two) {
        pthread_mutex_unlock(&log->db_lock);
        sodium_memzero(&nk, sizeof nk);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    two[1] = nk;
    log->db.signers = two;
    log->db.n_signers = log->db.signers_room = 2;
    audit_skey_public(&two[0], &v);
    audit_vkey_format(&v, oldv, sizeof oldv);
    audit_skey_public(&nk, &v);
    audit_vkey_format(&v, newv, sizeof newv);
    pthread_mutex_unlock(&log->db_lock);
    snprintf(payload, sizeof payload, "{\"old_key\":\"%s\",\"new_key\":\"%s\"}", oldv, newv);
    mg_audit_record r = { .kind = "key_rotation", .payload = payload,
                          .event_time_us = audit_now(log), .governance = true };
    s = mg_audit_append(log, &r, NULL, err);
    /* The rotation's checkpoint carries both signatures; then only the new. */
    pthread_mutex_lock(&log->db_lock);
    if (s == MG_OK) {
        sodium_memzero(&log->db.signers[0], sizeof nk);
        log->db.signers[0] = log->db.signers[1];
    }
    sodium_memzero(&log->db.signers[1], sizeof nk);
    log->db.n_signers = 1;
    pthread_mutex_unlock(&log->db_lock);
    sodium_memzero(&nk, sizeof nk);
    return s;
}

mg_status mg_audit_forget_subject(mg_audit_log *log, const char *subject, mg_error *err)
{
    if (!log->ks)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "the log has no key store");
    pthread_mutex_lock(&log->db_lock);
    mg_status s = audit_keystore_forget(log->ks, subject, err);
    pthread_mutex_unlock(&log->db_lock);
    return s;
}

/* ======================================================================
 * Proof caches
 * ====================================================================== */

/* Where the nodes of a proof's path come from. Levels 3 and up are read
 * from SQLite until proofs have missed a level often enough; then the
 * whole level is read into memory, up to PC_BUDGET bytes for all levels.
 * A level of n nodes spans about n/400 pages and n/128 pages of memory;
 * waiting for n/2048 misses (each a random page read, or 7 node hashes at
 * level 3) before reading it keeps a handle that proves a few times (the
 * CLI proves once) from reading the large levels, and bets that a handle
 * which has proved that often serves proofs: at 10,000,000 entries every
 * level is held after about 600 proofs; reading them costs some 0.3 s
 * once, repaid after about 5,000 proofs. Below the levels
 * held, the path is hashed from the leaves of the proved entry's block,
 * which sit on the entry's own page or the next: 8 leaves (levels 0 to 2)
 * once level 3 is held, 16 before. At 10,000,000 entries levels 3 and up
 * take 80 MiB. The stored node of a complete subtree never changes, so
 * nothing held is invalidated when the log grows; a level is extended
 * when proofs need newer nodes. */
#define PC_HELD_FROM 3
#define PC_BLOCK 16
#define PC_BUDGET ((uint64_t)128 << 20)
#define PC_MIN_MISSES 8
#define PC_MISS_SHIFT 11

typedef struct pc_level {
    uint8_t (*h)[AUDIT_HASH];   /* nodes 0..n-1 of the level */
    uint64_t n, cap;
    uint64_t misses;            /* lookups past n since the last read */
} pc_level;

struct audit_pcache {
    sqlite3_stmt *leaves;       /* seq, leaf of a block */
    sqlite3_stmt *level;        /* idx, hash of a run of one level */
    uint64_t bytes;             /* held by all levels */
    pc_level lv[64];
    audit_edge edge[2];         /* right edges of the last two sizes */
    unsigned edge_next;
};

void audit_pcache_free(const audit_mem *m, audit_pcache *pc)
{
    if (!pc)
        return;
    sqlite3_finalize(pc->leaves);
    sqlite3_finalize(pc->level);
    for (int l = 0; l < 64; l++)
        am_free(m, pc->lv[l].h, pc->lv[l].cap * AUDIT_HASH);
    am_free(m, pc, sizeof *pc);
}

/* The connection's caches, made on its first proof. NULL when they cannot
 * be made: proofs then read everything from SQLite, as correct and slower. */
static audit_pcache *pcache(audit_db *d)
{
    if (d->pc)
        return d->pc;
    audit_pcache *pc = am_calloc(&d->mem, 1, sizeof *pc);
    if (!pc)
        return NULL;
    if (sqlite3_prepare_v3(d->db, "SELECT seq, leaf FROM entries WHERE seq >= ?1 AND seq < ?2"
                           " ORDER BY seq", -1, SQLITE_PREPARE_PERSISTENT, &pc->leaves,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(d->db, "SELECT idx, hash FROM nodes WHERE level = ?1 AND idx >= ?2"
                           " AND idx < ?3 ORDER BY idx", -1, SQLITE_PREPARE_PERSISTENT,
                           &pc->level, NULL) != SQLITE_OK) {
        audit_pcache_free(&d->mem, pc);
        return NULL;
    }
    return d->pc = pc;
}

static audit_edge *pc_edge(audit_pcache *pc, uint64_t size)
{
    if (!pc)
        return NULL;
    for (int i = 0; i < 2; i++)
        if (pc->edge[i].size == size)
            return &pc->edge[i];
    audit_edge *e = &pc->edge[pc->edge_next++ & 1];
    e->size = 0;
    e->valid = 0;
    return e;
}

/* Reads nodes n.. want-1 of a level into memory, as far as they are stored
 * without a gap; whatever stops it, the lookups past it go to SQLite and
 * report what is wrong there. */
static void pc_read_level(const audit_mem *m, audit_pcache *pc, unsigned level, uint64_t want)
{
    pc_level *L = &pc->lv[level];
    L->misses = 0;
    if (want > L->cap) {
        /* Room for a quarter more: the log grows under a serving handle. */
        uint64_t cap = want + want / 4;
        if (pc->bytes + (cap - L->cap) * AUDIT_HASH > PC_BUDGET)
            cap = want;
        if (pc->bytes + (cap - L->cap) * AUDIT_HASH > PC_BUDGET)
            return;
        uint8_t (*h)[AUDIT_HASH] = am_resize(m, L->h, L->cap * AUDIT_HASH, cap * AUDIT_HASH);
        if (!h)
            return;
        pc->bytes += (cap - L->cap) * AUDIT_HASH;
        L->h = h;
        L->cap = cap;
    }
    sqlite3_stmt *st = pc->level;
    sqlite3_bind_int(st, 1, (int)level);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)L->n);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)want);
    while (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == (int64_t)L->n &&
           sqlite3_column_bytes(st, 1) == AUDIT_HASH)
        memcpy(L->h[L->n++], sqlite3_column_blob(st, 1), AUDIT_HASH);
    sqlite3_reset(st);
}

/* The node source of one proof: the block's leaves, the levels held in
 * memory, then SQLite (audit_db_node). */
typedef struct psrc {
    audit_db *d;
    audit_pcache *pc;           /* may be NULL */
    uint64_t size;              /* the proof's tree size */
    uint64_t blo, bhi;          /* leaf[] holds the leaves blo..bhi-1 */
    uint8_t leaf[PC_BLOCK][AUDIT_HASH];
} psrc;

/* Reads the leaves of the block around seq, as far as they are stored
 * without a gap and 32 bytes long. */
static void psrc_block(psrc *p, uint64_t seq)
{
    uint64_t want = p->size >> PC_HELD_FROM;
    uint64_t span = p->pc && p->pc->lv[PC_HELD_FROM].n >= want ? (uint64_t)1 << PC_HELD_FROM
                                                                : PC_BLOCK;
    p->blo = p->bhi = seq & ~(span - 1);
    if (!p->pc)
        return;
    uint64_t hi = p->blo + span < p->size ? p->blo + span : p->size;
    sqlite3_stmt *st = p->pc->leaves;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)p->blo);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)hi);
    while (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == (int64_t)p->bhi &&
           sqlite3_column_bytes(st, 1) == AUDIT_HASH) {
        memcpy(p->leaf[p->bhi - p->blo], sqlite3_column_blob(st, 1), AUDIT_HASH);
        p->bhi++;
    }
    sqlite3_reset(st);
}

static mg_status psrc_node(void *ud, unsigned level, uint64_t index, uint8_t out[AUDIT_HASH],
                           mg_error *err)
{
    psrc *p = ud;
    pc_level *L = p->pc && level >= PC_HELD_FROM ? &p->pc->lv[level] : NULL;
    if (L && index >= L->n) {
        uint64_t want = p->size >> level, need = (want - L->n) >> PC_MISS_SHIFT;
        if (index < want && ++L->misses >= (need > PC_MIN_MISSES ? need : PC_MIN_MISSES))
            pc_read_level(&p->d->mem, p->pc, level, want);
    }
    if (L && index < L->n) {
        memcpy(out, L->h[index], AUDIT_HASH);
        return MG_OK;
    }
    uint64_t lo = index << level, m = (uint64_t)1 << level;
    if (m <= PC_BLOCK && lo >= p->blo && lo + m <= p->bhi) {
        uint8_t t[PC_BLOCK][AUDIT_HASH];
        memcpy(t, p->leaf[lo - p->blo], m * AUDIT_HASH);
        for (; m > 1; m /= 2)
            for (uint64_t i = 0; i < m / 2; i++)
                audit_node_hash(t[2 * i], t[2 * i + 1], t[i]);
        memcpy(out, t[0], AUDIT_HASH);
        return MG_OK;
    }
    return audit_db_node(p->d, level, index, out, err);
}

/* ======================================================================
 * Proofs as JSON
 * ====================================================================== */

/* The proof texts are written directly, byte for byte what jansson's
 * json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) wrote for them before:
 * building a tree of JSON values cost more than the rest of a proof. */
typedef struct jout {
    char *p;
    size_t n;
    bool failed;            /* out of memory escaping a string */
} jout;

static void jo_lit(jout *o, const char *s)
{
    size_t l = strlen(s);
    memcpy(o->p + o->n, s, l);
    o->n += l;
}

static void jo_u64(jout *o, uint64_t v)
{
    o->n += (size_t)sprintf(o->p + o->n, "%llu", (unsigned long long)v);
}

static size_t b64_len(size_t n)
{
    return AUDIT_B64_LEN(n);
}

static void jo_b64(jout *o, const uint8_t *p, size_t n)
{
    o->p[o->n++] = '"';
    audit_b64_encode(p, n, o->p + o->n, b64_len(n));
    o->n += b64_len(n) - 1;
    o->p[o->n++] = '"';
}

/* A JSON string, escaped by jansson (s is valid UTF-8: check_text). */
static void jo_str(jout *o, const char *s)
{
    json_t *v = json_string(s);
    char *e = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(v);
    if (!e) {
        o->failed = true;
        return;
    }
    size_t n = strlen(e);
    memcpy(o->p + o->n, e, n);
    o->n += n;
    free(e);
}

/* The text of o, or MG_ENOMEM. */
static mg_status jo_end(jout *o, char **out, mg_error *err)
{
    jo_lit(o, "}");
    o->p[o->n] = '\0';
    if (o->failed) {
        free(o->p);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    *out = o->p;
    return MG_OK;
}

static void jo_proof(jout *o, uint8_t (*proof)[AUDIT_HASH], size_t n)
{
    o->p[o->n++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            o->p[o->n++] = ',';
        jo_b64(o, proof[i], AUDIT_HASH);
    }
    o->p[o->n++] = ']';
}

/* Room for the fixed text, the numbers and the proof, with every byte of
 * the strings escaped at most 6 to 1. */
static char *jo_alloc(jout *o, size_t strings, size_t blobs, size_t n)
{
    o->n = 0;
    o->failed = false;
    o->p = malloc(256 + 6 * strings + b64_len(blobs) + 3 * (b64_len(AUDIT_HASH) + 2) +
                  n * (b64_len(AUDIT_HASH) + 2));
    return o->p;
}

/* The strings of a proof come from the database: a text that is not UTF-8
 * cannot be put in JSON. size 0: the log's origin, else a checkpoint. */
static mg_status check_text(audit_db *d, const char *s, uint64_t size, mg_error *err)
{
    if (sl_utf8_valid(s, strlen(s)))
        return MG_OK;
    if (size == 0)
        return mg_error_set(err, MG_EINTEGRITY, d->path, 0, 0, "the log's origin is not UTF-8");
    return mg_error_set(err, MG_EINTEGRITY, d->path, 0, 0,
                        "the checkpoint of tree size %llu is not UTF-8",
                        (unsigned long long)size);
}

/* What an inclusion proof says, read in one transaction. */
typedef struct iproof {
    uint64_t seq, size;
    uint8_t root[AUDIT_HASH];
    uint8_t *entry;
    size_t elen, n;
    char *note;
    uint8_t path[AUDIT_MAX_PROOF][AUDIT_HASH];
} iproof;

static mg_status iproof_read(audit_db *d, uint64_t seq, uint64_t size, iproof *p,
                             mg_error *err)
{
    psrc src = { .d = d, .pc = pcache(d) };
    p->entry = NULL;
    p->note = NULL;
    p->n = 0;
    p->seq = seq;
    /* The root is the one stored with the checkpoint: the checker compares
     * it with the signed note, so it need not be recomputed here. */
    mg_status s = audit_db_read_checkpoint(d, size, &p->size, p->root, &p->note, err);
    if (s == MG_OK && seq >= p->size)
        s = mg_error_set(err, MG_ENOTFOUND, d->path, 0, 0,
                         "entry %llu is not in the tree of size %llu",
                         (unsigned long long)seq, (unsigned long long)p->size);
    if (s == MG_OK)
        s = audit_db_entry(d, seq, &p->entry, &p->elen, err);
    if (s == MG_OK) {
        src.size = p->size;
        psrc_block(&src, seq);
        s = audit_inclusion_proof_edge(psrc_node, &src, pc_edge(src.pc, p->size), seq, p->size,
                                       p->path, &p->n, err);
    }
    if (s == MG_OK)
        s = check_text(d, p->note, p->size, err);
    return s;
}

static mg_status iproof_json(audit_db *d, iproof *p, char **out, mg_error *err)
{
    uint8_t leaf[AUDIT_HASH];
    jout o;
    mg_status s = check_text(d, d->origin, 0, err);
    if (s == MG_OK && !jo_alloc(&o, strlen(d->origin) + strlen(p->note), p->elen, p->n))
        s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    if (s != MG_OK)
        return s;
    audit_leaf_hash(p->entry, p->elen, leaf);
    jo_lit(&o, "{\"type\":\"inclusion\",\"origin\":");
    jo_str(&o, d->origin);
    jo_lit(&o, ",\"tree_size\":");
    jo_u64(&o, p->size);
    jo_lit(&o, ",\"leaf_index\":");
    jo_u64(&o, p->seq);
    jo_lit(&o, ",\"entry\":");
    jo_b64(&o, p->entry, p->elen);
    jo_lit(&o, ",\"leaf_hash\":");
    jo_b64(&o, leaf, AUDIT_HASH);
    jo_lit(&o, ",\"root_hash\":");
    jo_b64(&o, p->root, AUDIT_HASH);
    jo_lit(&o, ",\"proof\":");
    jo_proof(&o, p->path, p->n);
    jo_lit(&o, ",\"checkpoint\":");
    jo_str(&o, p->note);
    return jo_end(&o, out, err);
}

/* The C2SP tlog-proof text (docs/audit.md): the entry goes in "extra". */
static mg_status iproof_tlog(const iproof *p, char **out, mg_error *err)
{
    size_t hl = b64_len(AUDIT_HASH), nl = strlen(p->note);
    char *t = malloc(64 + b64_len(p->elen) + p->n * hl + nl);
    if (!t)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    size_t k = (size_t)sprintf(t, "c2sp.org/tlog-proof@v1\nextra ");
    audit_b64_encode(p->entry, p->elen, t + k, b64_len(p->elen));
    k += b64_len(p->elen) - 1;
    k += (size_t)sprintf(t + k, "\nindex %llu\n", (unsigned long long)p->seq);
    for (size_t i = 0; i < p->n; i++) {
        audit_b64_encode(p->path[i], AUDIT_HASH, t + k, hl);
        k += hl - 1;
        t[k++] = '\n';
    }
    t[k++] = '\n';
    memcpy(t + k, p->note, nl + 1);
    *out = t;
    return MG_OK;
}

static mg_status prove(mg_audit_log *log, uint64_t seq, uint64_t tree_size, bool tlog,
                       char **out, mg_error *err)
{
    *out = NULL;
    const audit_mem *m = &log->db.mem;
    iproof *p = am_alloc(m, sizeof *p);
    if (!p)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    p->note = NULL;     /* freed below even when the read never starts */
    p->entry = NULL;
    p->elen = 0;
    pthread_mutex_lock(&log->db_lock);
    mg_status s = audit_db_read_begin(&log->db, err);
    if (s == MG_OK) {
        s = iproof_read(&log->db, seq, tree_size, p, err);
        audit_db_read_end(&log->db);
    }
    if (s == MG_OK)
        s = tlog ? iproof_tlog(p, out, err) : iproof_json(&log->db, p, out, err);
    pthread_mutex_unlock(&log->db_lock);
    am_free_str(m, p->note);
    am_free(m, p->entry, p->entry ? p->elen + 1 : 0);
    am_free(m, p, sizeof *p);
    return s;
}

mg_status mg_audit_prove(mg_audit_log *log, uint64_t seq, uint64_t tree_size,
                         char **json, mg_error *err)
{
    return prove(log, seq, tree_size, false, json, err);
}

mg_status mg_audit_prove_tlog(mg_audit_log *log, uint64_t seq, uint64_t tree_size,
                              char **text, mg_error *err)
{
    return prove(log, seq, tree_size, true, text, err);
}

static mg_status consistency_locked(audit_db *d, uint64_t s1, uint64_t s2, char **out,
                                    mg_error *err)
{
    char *n1 = NULL, *n2 = NULL;
    uint8_t r1[AUDIT_HASH], r2[AUDIT_HASH], proof[AUDIT_MAX_PROOF][AUDIT_HASH];
    size_t n = 0;
    psrc src = { .d = d, .pc = pcache(d) };
    mg_status s = audit_db_read_checkpoint(d, s2, &s2, r2, &n2, err);
    if (s == MG_OK)
        s = audit_db_read_checkpoint(d, s1, &s1, r1, &n1, err);
    if (s == MG_OK && s1 > s2)
        s = mg_error_set(err, MG_EINVAL, NULL, 0, 0, "size1 %llu is above size2 %llu",
                         (unsigned long long)s1, (unsigned long long)s2);
    if (s == MG_OK && s1 < s2) {
        src.size = s2;
        s = audit_consistency_proof_edge(psrc_node, &src, pc_edge(src.pc, s2), s1, s2, proof,
                                         &n, err);
    }
    if (s == MG_OK)
        s = check_text(d, d->origin, 0, err);
    if (s == MG_OK)
        s = check_text(d, n1, s1, err);
    if (s == MG_OK)
        s = check_text(d, n2, s2, err);
    jout o;
    if (s == MG_OK && !jo_alloc(&o, strlen(d->origin) + strlen(n1) + strlen(n2), 0, n))
        s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    if (s == MG_OK) {
        jo_lit(&o, "{\"type\":\"consistency\",\"origin\":");
        jo_str(&o, d->origin);
        jo_lit(&o, ",\"size1\":");
        jo_u64(&o, s1);
        jo_lit(&o, ",\"size2\":");
        jo_u64(&o, s2);
        jo_lit(&o, ",\"root1\":");
        jo_b64(&o, r1, AUDIT_HASH);
        jo_lit(&o, ",\"root2\":");
        jo_b64(&o, r2, AUDIT_HASH);
        jo_lit(&o, ",\"proof\":");
        jo_proof(&o, proof, n);
        jo_lit(&o, ",\"checkpoint1\":");
        jo_str(&o, n1);
        jo_lit(&o, ",\"checkpoint2\":");
        jo_str(&o, n2);
        s = jo_end(&o, out, err);
    }
    am_free_str(&d->mem, n1);
    am_free_str(&d->mem, n2);
    return s;
}

mg_status mg_audit_consistency(mg_audit_log *log, uint64_t size1, uint64_t size2,
                               char **json, mg_error *err)
{
    *json = NULL;
    if (size1 == 0)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0,
                            "a consistency proof starts from a checkpoint of size 1 or more");
    pthread_mutex_lock(&log->db_lock);
    mg_status s = audit_db_read_begin(&log->db, err);
    if (s == MG_OK) {
        s = consistency_locked(&log->db, size1, size2, json, err);
        audit_db_read_end(&log->db);
    }
    pthread_mutex_unlock(&log->db_lock);
    return s;
}
