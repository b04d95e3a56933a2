/*
 * verify.c — the auditor's side: pinned key files, full verification of a
 * log database, and the check of a proof given as JSON (one at a time, or
 * many with a checker that verifies each checkpoint's signature once).
 *
 * The verifier trusts nothing in the database: it decodes every stored
 * canonical entry and compares its fields with the columns, rebuilds the
 * tree and compares every stored node, checks each checkpoint's signature
 * with keys from the pinned file only and its root against the rebuilt
 * tree, and, given a checkpoint the auditor kept, checks the log still
 * extends it. It streams, two batches of rows at a time, with the leaf
 * hashes on a second thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <jansson.h>
#include <sodium.h>
#include "audit/audit.h"
#include "stdlib/error.h"
#include "stdlib/stdlib.h"

/* ======================================================================
 * Pinned key files
 * ====================================================================== */

/* Parses one line "vkey" or "vkey until N". */
static mg_status key_line(const char *p, size_t n, const char *file, int line,
                          audit_vkey *k, mg_error *err)
{
    const char *sp = memchr(p, ' ', n);
    size_t kl = sp ? (size_t)(sp - p) : n;
    mg_error e2 = { 0 };
    mg_status s = audit_vkey_parse(p, kl, k, &e2);
    if (s != MG_OK) {
        mg_error_set(err, s, file, line, 1, "%s", e2.message ? e2.message : "bad key");
        mg_error_clear(&e2);
        return s;
    }
    if (!sp)
        return MG_OK;
    static const char until[] = " until ";
    const char *num = sp + sizeof until - 1;
    size_t nl = (size_t)(p + n - num);
    char digits[24];
    if ((size_t)(p + n - sp) < sizeof until || memcmp(sp, until, sizeof until - 1) != 0 ||
        nl == 0 || nl > 20 || (nl > 1 && num[0] == '0'))
        goto bad;
    memcpy(digits, num, nl);
    digits[nl] = '\0';
    for (size_t i = 0; i < nl; i++)
        if (digits[i] < '0' || digits[i] > '9')
            goto bad;
    errno = 0;
    k->until = strtoull(digits, NULL, 10);
    if (errno)
        goto bad;
    k->has_until = true;
    return MG_OK;
bad:
    return mg_error_set(err, MG_EFORMAT, file, line, (int)kl + 1,
                        "after the key, only \"until <tree size>\" may follow");
}

mg_status audit_keys_parse(const char *text, size_t len, const char *file,
                           audit_vkey **keys, size_t *n, mg_error *err)
{
    *keys = NULL;
    *n = 0;
    size_t cap = 0;
    int line = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        size_t l = e ? (size_t)(e - p) : (size_t)(end - p);
        line++;
        if (l > AUDIT_MAX_LINE) {
            free(*keys);
            *keys = NULL;
            *n = 0;
            return mg_error_set(err, MG_ELIMIT, file, line, 0, "line longer than %d bytes",
                                AUDIT_MAX_LINE);
        }
        if (l > 0 && p[0] != '#') {
            if (*n == cap) {
                cap = cap ? cap * 2 : 4;
                audit_vkey *nk = realloc(*keys, cap * sizeof *nk);
                if (!nk) {
                    free(*keys);
                    *keys = NULL;
                    *n = 0;
                    return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
                }
                *keys = nk;
            }
            mg_status s = key_line(p, l, file, line, &(*keys)[*n], err);
            for (size_t i = 0; s == MG_OK && i < *n; i++)
                if (memcmp((*keys)[i].pk, (*keys)[*n].pk, sizeof (*keys)[i].pk) == 0)
                    s = mg_error_set(err, MG_EFORMAT, file, line, 1,
                                     "this key is listed twice: one line per key (an \"until\" "
                                     "goes on its only line)");
            if (s != MG_OK) {
                free(*keys);
                *keys = NULL;
                *n = 0;
                return s;
            }
            (*n)++;
        }
        p += l + 1;
    }
    if (*n == 0)
        return mg_error_set(err, MG_EFORMAT, file, 0, 0, "no keys in the key file");
    return MG_OK;
}

mg_status audit_keys_load(const char *path, audit_vkey **keys, size_t *n, mg_error *err)
{
    *keys = NULL;
    *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mg_error_set(err, MG_EIO, path, 0, 0, "cannot open key file: %s", strerror(errno));
    char *buf = malloc(AUDIT_MAX_NOTE + 1);
    size_t len = buf ? fread(buf, 1, AUDIT_MAX_NOTE + 1, f) : 0;
    bool rd_err = ferror(f);
    fclose(f);
    mg_status s;
    if (!buf)
        s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    else if (rd_err)
        s = mg_error_set(err, MG_EIO, path, 0, 0, "cannot read key file");
    else if (len > AUDIT_MAX_NOTE)
        s = mg_error_set(err, MG_ELIMIT, path, 0, 0, "key file is larger than %d bytes",
                         AUDIT_MAX_NOTE);
    else
        s = audit_keys_parse(buf, len, path, keys, n, err);
    free(buf);
    return s;
}

/* Keys valid for a checkpoint of `size`: those not revoked below it. */
static size_t keys_for(const audit_vkey *all, size_t n, uint64_t size, audit_vkey *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!all[i].has_until || size <= all[i].until)
            out[m++] = all[i];
    return m;
}

/* Parses the body of a signed note (the text before the last blank line)
 * as a checkpoint, without looking at the signatures. */
static mg_status checkpoint_of_note(const char *note, size_t len, audit_checkpoint *cp,
                                    mg_error *err)
{
    for (size_t i = len; i >= 2; i--)
        if (note[i - 1] == '\n' && note[i - 2] == '\n')
            return audit_checkpoint_parse(note, i - 1, cp, err);
    return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                        "malformed note: no signature lines after a blank line");
}

/* Opens a checkpoint note with the keys valid for its size. */
static mg_status open_checkpoint(const char *note, size_t len, const audit_vkey *keys,
                                 size_t nkeys, audit_checkpoint *cp, mg_error *err)
{
    audit_note_result r;
    audit_vkey *valid = malloc((nkeys ? nkeys : 1) * sizeof *valid);
    if (!valid)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    /* The size is read from the body before the signature is known good,
     * only to choose the keys; nothing else is used until it verifies. */
    mg_status s = checkpoint_of_note(note, len, cp, err);
    if (s == MG_OK) {
        size_t m = keys_for(keys, nkeys, cp->size, valid);
        s = audit_note_open(note, len, valid, m, &r, err);
    }
    free(valid);
    return s;
}

/* ======================================================================
 * Verifying a database
 * ====================================================================== */

typedef struct cpinfo {
    uint64_t size;
    uint8_t root[AUDIT_HASH];
    char *note;
} cpinfo;

/* A cursor over one level of the nodes table in index order. The rebuilt
 * tree completes the nodes of each level in that same order, so the
 * verifier compares them while streaming, one row read per node. */
typedef struct lcur {
    sqlite3_stmt *st;
    bool row;                   /* a row is held: idx, h, hlen */
    int64_t idx;
    int hlen;
    uint8_t h[AUDIT_HASH];
} lcur;

typedef struct vctx {
    sqlite3 *db;
    const char *path;
    mg_audit_report *rep;
    sqlite3_stmt *get_node;
    lcur lv[64];
    const uint8_t *leaf0;       /* the stored leaf hash of the entry pushed */
    bool leaf0_ok;              /* ... when it is there and 32 bytes long */
    char *origin;
    uint64_t state_size;
    cpinfo *cps;
    size_t ncp;
    bool failed;
} vctx;

static void fail(vctx *v, int64_t seq, int64_t cp, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void fail(vctx *v, int64_t seq, int64_t cp, const char *fmt, ...)
{
    if (v->failed)
        return;
    v->failed = true;
    v->rep->verdict = MG_AUDIT_FAIL;
    v->rep->first_bad_seq = seq;
    v->rep->bad_checkpoint = cp;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->rep->message, sizeof v->rep->message, fmt, ap);
    va_end(ap);
}

static mg_status read_meta(vctx *v, mg_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(v->db, "SELECT origin, size, version FROM state WHERE id = 1", -1,
                           &st, NULL) != SQLITE_OK)
        return mg_error_set(err, MG_EFORMAT, v->path, 0, 0, "not a meshgov audit log: %s",
                            sqlite3_errmsg(v->db));
    mg_status s = MG_OK;
    if (sqlite3_step(st) != SQLITE_ROW || !sqlite3_column_text(st, 0)) {
        s = mg_error_set(err, MG_EFORMAT, v->path, 0, 0, "not a meshgov audit log (no state)");
    } else if (sqlite3_column_int(st, 2) < AUDIT_SCHEMA_OLDEST ||
               sqlite3_column_int(st, 2) > AUDIT_SCHEMA_VERSION) {
        s = mg_error_set(err, MG_EFORMAT, v->path, 0, 0, "not a meshgov audit log of version %d "
                         "to %d", AUDIT_SCHEMA_OLDEST, AUDIT_SCHEMA_VERSION);
    } else {
        v->origin = strdup((const char *)sqlite3_column_text(st, 0));
        v->state_size = (uint64_t)sqlite3_column_int64(st, 1);
        if (!v->origin)
            s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    sqlite3_finalize(st);
    if (s == MG_OK && sqlite3_prepare_v2(v->db, "SELECT hash FROM nodes WHERE level = ?1"
                                         " AND idx = ?2", -1, &v->get_node, NULL) != SQLITE_OK)
        s = mg_error_set(err, MG_EFORMAT, v->path, 0, 0, "not a meshgov audit log: %s",
                         sqlite3_errmsg(v->db));
    return s;
}

/* Loads every checkpoint and checks its signature, origin and columns. */
static mg_status load_checkpoints(vctx *v, const audit_vkey *keys, size_t nkeys, mg_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(v->db, "SELECT size, root, note FROM checkpoints ORDER BY size",
                           -1, &st, NULL) != SQLITE_OK)
        return mg_error_set(err, MG_EFORMAT, v->path, 0, 0, "not a meshgov audit log: %s",
                            sqlite3_errmsg(v->db));
    size_t cap = 0;
    uint64_t prev_ok = 0;
    while (!v->failed && sqlite3_step(st) == SQLITE_ROW) {
        if (v->ncp == cap) {
            cap = cap ? 2 * cap : 16;
            cpinfo *n = realloc(v->cps, cap * sizeof *n);
            if (!n) {
                sqlite3_finalize(st);
                return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
            }
            v->cps = n;
        }
        cpinfo *c = &v->cps[v->ncp];
        int64_t size = sqlite3_column_int64(st, 0);
        const char *note = (const char *)sqlite3_column_text(st, 2);
        size_t nl = (size_t)sqlite3_column_bytes(st, 2);
        audit_checkpoint cp;
        mg_error e2 = { 0 };
        if (size <= 0 || !note) {
            fail(v, (int64_t)prev_ok, size, "checkpoint row of size %lld is malformed",
                 (long long)size);
        } else if (open_checkpoint(note, nl, keys, nkeys, &cp, &e2) != MG_OK) {
            fail(v, (int64_t)prev_ok, size, "checkpoint at size %lld: %s", (long long)size,
                 e2.message ? e2.message : "invalid");
        } else if (cp.size != (uint64_t)size || strcmp(cp.origin, v->origin) != 0 ||
                   sqlite3_column_bytes(st, 1) != AUDIT_HASH ||
                   memcmp(sqlite3_column_blob(st, 1), cp.root, AUDIT_HASH) != 0) {
            fail(v, (int64_t)prev_ok, size,
                 "checkpoint at size %lld: its columns disagree with its signed note",
                 (long long)size);
        } else {
            c->size = cp.size;
            memcpy(c->root, cp.root, AUDIT_HASH);
            c->note = NULL;
            v->ncp++;
            prev_ok = cp.size;
        }
        mg_error_clear(&e2);
    }
    sqlite3_finalize(st);
    return MG_OK;
}

static void lcur_next(lcur *c)
{
    c->row = sqlite3_step(c->st) == SQLITE_ROW;
    if (!c->row)
        return;
    c->idx = sqlite3_column_int64(c->st, 0);
    c->hlen = sqlite3_column_bytes(c->st, 1);
    if (c->hlen == AUDIT_HASH)
        memcpy(c->h, sqlite3_column_blob(c->st, 1), AUDIT_HASH);
}

/* Store callback of the rebuilt tree: each node must equal the stored one. */
static mg_status compare_node(void *ud, unsigned level, uint64_t index,
                              const uint8_t h[AUDIT_HASH], mg_error *err)
{
    vctx *v = ud;
    if (level == 0) {
        /* Leaf hashes are stored with their entries (docs/audit.md). */
        bool same = v->leaf0_ok && memcmp(v->leaf0, h, AUDIT_HASH) == 0;
        if (!same)
            fail(v, (int64_t)index, -1, "stored tree node (level 0, index %llu) %s",
                 (unsigned long long)index, v->leaf0_ok ? "does not match the entries"
                                                        : "is missing");
        (void)err;
        return same ? MG_OK : MG_EINTEGRITY;
    }
    lcur *c = &v->lv[level];
    if (!c->st) {
        if (sqlite3_prepare_v2(v->db, "SELECT idx, hash FROM nodes WHERE level = ?1"
                               " AND idx >= ?2 ORDER BY idx", -1, &c->st, NULL) != SQLITE_OK) {
            fail(v, (int64_t)(index << level), -1, "reading tree nodes: %s",
                 sqlite3_errmsg(v->db));
            return mg_error_set(err, MG_EDB, v->path, 0, 0, "reading tree nodes");
        }
        sqlite3_bind_int(c->st, 1, (int)level);
        sqlite3_bind_int64(c->st, 2, (sqlite3_int64)index);
        lcur_next(c);
    }
    while (c->row && c->idx < (int64_t)index)
        lcur_next(c);
    bool found = c->row && c->idx == (int64_t)index;
    bool ok = found && c->hlen == AUDIT_HASH && memcmp(c->h, h, AUDIT_HASH) == 0;
    if (found)
        lcur_next(c);
    if (!ok)
        fail(v, (int64_t)(index << level), -1,
             "stored tree node (level %u, index %llu) %s", level, (unsigned long long)index,
             found ? "does not match the entries" : "is missing");
    return ok ? MG_OK : MG_EINTEGRITY;
}

/* Checks and consumes the checkpoints of size `size`, and the trusted one. */
static void at_size(vctx *v, const audit_frontier *fr, size_t *next_cp,
                    const audit_checkpoint *trusted)
{
    /* The root costs up to 63 node hashes: only where something is compared. */
    if (!(trusted && trusted->size == fr->size) &&
        !(*next_cp < v->ncp && v->cps[*next_cp].size == fr->size))
        return;
    uint8_t root[AUDIT_HASH];
    audit_frontier_root(fr, root);
    mg_audit_report *rep = v->rep;
    if (trusted && trusted->size == fr->size && memcmp(root, trusted->root, AUDIT_HASH) != 0)
        fail(v, (int64_t)rep->verified_size, (int64_t)trusted->size,
             "the log does not extend the trusted checkpoint of size %llu (root differs)",
             (unsigned long long)trusted->size);
    while (!v->failed && *next_cp < v->ncp && v->cps[*next_cp].size == fr->size) {
        if (memcmp(root, v->cps[*next_cp].root, AUDIT_HASH) != 0) {
            fail(v, (int64_t)rep->verified_size, (int64_t)fr->size,
                 "checkpoint at size %llu does not match the entries: an entry in "
                 "[%llu, %llu) was changed, or the key signed another tree (a fork)",
                 (unsigned long long)fr->size,
                 (unsigned long long)rep->verified_size, (unsigned long long)fr->size);
        } else {
            rep->verified_size = fr->size;
            rep->checkpoints++;
        }
        (*next_cp)++;
    }
    if (!v->failed && trusted && trusted->size == fr->size && rep->verified_size < fr->size)
        rep->verified_size = fr->size;
}

/* ----------------------------------------------------------------------
 * Entries, in two stages on two threads. The reader (the calling thread)
 * steps through the rows, checks each one and copies its bytes into a
 * batch; the leaf hashes of a batch are computed by a helper thread and by
 * the reader when it has nothing else to do, each chunk of 32 leaves with
 * the 31 nodes above them (levels 1 to 5); then the reader pushes the
 * leaves into the rebuilt tree, taking those nodes instead of hashing
 * them, and compares nodes and checkpoints, in seq order. A row that fails is kept in its batch and reported only after
 * every earlier entry went through the tree, so the first failure in
 * sequential order is the one reported, whatever thread found what.
 * ---------------------------------------------------------------------- */

#define VBATCH 1024            /* entries per batch */
#define VCHUNK 32              /* leaves claimed at a time by a hasher */
#define VCHUNK_LEVELS 5        /* the levels of a chunk's own subtree */
#define VINNER (VBATCH - VBATCH / VCHUNK)   /* those nodes in a batch */

typedef struct vbatch {
    size_t n;                   /* entries read and good */
    size_t off[VBATCH + 1];     /* entry i is bytes[off[i]:off[i+1]] */
    uint8_t *bytes;
    size_t cap;
    uint64_t base;              /* seq of the first entry */
    uint8_t leaf[VBATCH][AUDIT_HASH];
    uint8_t inner[VINNER][AUDIT_HASH];  /* levels 1..5 of full chunks, by
                                           level (inner_at) */
    uint8_t stored[VBATCH][AUDIT_HASH]; /* the leaf hashes of the rows */
    bool has_stored[VBATCH];
    _Atomic size_t claim;       /* next leaf to hash */
    _Atomic size_t hashed;      /* leaves hashed */
    bool bad;                   /* the row after the n good ones failed */
    int64_t bad_seq;
    char msg[256];
} vbatch;

typedef struct vpipe {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    vbatch *job;                /* batch to hash, or NULL */
    bool busy;                  /* the hasher is inside a job */
    bool stop;
} vpipe;

/* Node `i` (within the batch) of level 1..VCHUNK_LEVELS. */
static uint8_t *inner_at(vbatch *b, unsigned level, size_t i)
{
    size_t off = 0;
    for (unsigned l = 1; l < level; l++)
        off += VBATCH >> l;
    return b->inner[off + i];
}

/* Whether the chunk holding leaf i (within the batch) has its subtree in
 * b->inner: a whole chunk, aligned in the tree. */
static bool chunk_ready(const vbatch *b, size_t i)
{
    return b->base % VCHUNK == 0 && (i / VCHUNK + 1) * VCHUNK <= b->n;
}

/* The nodes of levels 1..VCHUNK_LEVELS above the hashed leaves [i, i+32). */
static void hash_chunk_nodes(vbatch *b, size_t i)
{
    for (unsigned l = 1; l <= VCHUNK_LEVELS; l++)
        for (size_t k = i >> l; k < (i + VCHUNK) >> l; k++) {
            const uint8_t *left = l == 1 ? b->leaf[2 * k] : inner_at(b, l - 1, 2 * k);
            const uint8_t *right = l == 1 ? b->leaf[2 * k + 1] : inner_at(b, l - 1, 2 * k + 1);
            audit_node_hash(left, right, inner_at(b, l, k));
        }
}

/* Hashes unclaimed leaves of b until none is left. */
static void hash_some(vbatch *b)
{
    for (;;) {
        size_t i = atomic_fetch_add(&b->claim, VCHUNK);
        if (i >= b->n)
            return;
        size_t end = i + VCHUNK < b->n ? i + VCHUNK : b->n;
        for (size_t k = i; k < end; k++)
            audit_leaf_hash(b->bytes + b->off[k], b->off[k + 1] - b->off[k], b->leaf[k]);
        if (chunk_ready(b, i))
            hash_chunk_nodes(b, i);
        atomic_fetch_add(&b->hashed, end - i);
    }
}

static void *hasher_main(void *arg)
{
    vpipe *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->job && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop)
            break;
        vbatch *b = p->job;
        p->job = NULL;
        p->busy = true;
        pthread_mutex_unlock(&p->mu);
        hash_some(b);
        pthread_mutex_lock(&p->mu);
        p->busy = false;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void submit(vpipe *p, vbatch *b, bool threaded)
{
    atomic_store(&b->hashed, 0);
    atomic_store(&b->claim, 0);
    if (!threaded)
        return;
    pthread_mutex_lock(&p->mu);
    p->job = b;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Helps hash b, then waits until every leaf of it is hashed. */
/* On return the hasher is out of b for good: b may be read into again. A
 * job it never took is withdrawn, and one it took is waited out, so that
 * it never looks at b's count or claims while the next rows go in. */
static void finish_hashing(vpipe *p, vbatch *b)
{
    hash_some(b);
    pthread_mutex_lock(&p->mu);
    if (p->job == b)
        p->job = NULL;
    while (atomic_load(&b->hashed) != b->n || p->busy)
        pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

static void batch_fail(vbatch *b, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void batch_fail(vbatch *b, int64_t seq, const char *fmt, ...)
{
    b->bad = true;
    b->bad_seq = seq;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->msg, sizeof b->msg, fmt, ap);
    va_end(ap);
}

/* The columns of the rows read: seq, AUDIT_ROW_COLUMNS, entry, leaf. */
#define COL_ENTRY (2 + AUDIT_NCOLS)
#define COL_LEAF (3 + AUDIT_NCOLS)

/* Reading stage state: the next seq expected and the last processing time. */
typedef struct vread {
    sqlite3_stmt *st;
    uint64_t next;
    int64_t last_proc;
    int rc;                     /* last sqlite3_step result */
} vread;

/* Reads up to VBATCH good rows into b; stops after a bad one or the end. */
static mg_status read_batch(vread *r, vbatch *b, mg_error *err)
{
    b->n = 0;
    b->bad = false;
    b->base = r->next;
    b->off[0] = 0;
    while (b->n < VBATCH && (r->rc = sqlite3_step(r->st)) == SQLITE_ROW) {
        sqlite3_stmt *st = r->st;
        int64_t seq = sqlite3_column_int64(st, 0);
        const uint8_t *enc = sqlite3_column_blob(st, COL_ENTRY);
        size_t len = (size_t)sqlite3_column_bytes(st, COL_ENTRY);
        audit_entry dec;
        if (seq != (int64_t)r->next) {
            batch_fail(b, (int64_t)r->next, "entry %llu is missing (the next stored is %lld)",
                       (unsigned long long)r->next, (long long)seq);
        } else if (sqlite3_column_type(st, COL_ENTRY) != SQLITE_BLOB ||
                   len > AUDIT_ENTRY_FIXED + 8192 ||
                   !audit_entry_decode(enc, len, &dec)) {
            batch_fail(b, seq, "entry %lld is not in the canonical encoding", (long long)seq);
        } else if (dec.seq != (uint64_t)seq) {
            batch_fail(b, seq, "entry at seq %lld encodes seq %llu (moved or replayed)",
                       (long long)seq, (unsigned long long)dec.seq);
        } else if (!audit_columns_match(st, &dec)) {
            batch_fail(b, seq, "the columns of entry %lld differ from its canonical encoding",
                       (long long)seq);
        } else if (dec.proc_time < r->last_proc) {
            batch_fail(b, seq, "processing time goes backwards at entry %lld", (long long)seq);
        }
        if (b->bad)
            return MG_OK;
        size_t at = b->off[b->n];
        if (at + len > b->cap) {
            size_t cap = b->cap * 2 > at + len ? b->cap * 2 : at + len;
            uint8_t *nb = realloc(b->bytes, cap);
            if (!nb)
                return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
            b->bytes = nb;
            b->cap = cap;
        }
        memcpy(b->bytes + at, enc, len);
        b->has_stored[b->n] = sqlite3_column_type(st, COL_LEAF) != SQLITE_NULL &&
                              sqlite3_column_bytes(st, COL_LEAF) == AUDIT_HASH;
        if (b->has_stored[b->n])
            memcpy(b->stored[b->n], sqlite3_column_blob(st, COL_LEAF), AUDIT_HASH);
        b->off[++b->n] = at + len;
        r->last_proc = dec.proc_time;
        r->next++;
    }
    return MG_OK;
}

/* audit_frontier_push of leaf i of b, each node it completes compared
 * with the stored one; a node of levels 1..5 over a ready chunk is the
 * hashers' (the same two children, hashed once), the others are hashed
 * here. */
static mg_status push_leaf(vctx *v, audit_frontier *f, vbatch *b, size_t i)
{
    uint64_t idx = f->size;
    unsigned level = 0;
    uint8_t cur[AUDIT_HASH];
    memcpy(cur, b->leaf[i], AUDIT_HASH);
    mg_status s = compare_node(v, 0, idx, cur, NULL);
    bool ready = chunk_ready(b, i);
    while (s == MG_OK && (idx & 1)) {
        idx >>= 1;
        level++;
        if (ready && level <= VCHUNK_LEVELS)
            memcpy(cur, inner_at(b, level, i >> level), AUDIT_HASH);
        else
            audit_node_hash(f->h[level - 1], cur, cur);
        s = compare_node(v, level, idx, cur, NULL);
    }
    if (s != MG_OK)
        return s;
    memcpy(f->h[level], cur, AUDIT_HASH);
    f->size++;
    return MG_OK;
}

/* Pushes the hashed leaves of b into the rebuilt tree, in order. */
static void tree_batch(vctx *v, const mg_audit_verify_opts *o, const audit_checkpoint *trusted,
                       audit_frontier *fr, size_t *next_cp, vbatch *b)
{
    for (size_t i = 0; i < b->n && !v->failed; i++) {
        v->leaf0 = b->stored[i];
        v->leaf0_ok = b->has_stored[i];
        if (push_leaf(v, fr, b, i) == MG_OK)
            at_size(v, fr, next_cp, trusted);
        if (o->progress && (fr->size & 4095) == 0)
            o->progress(o->progress_ud, fr->size, v->state_size);
    }
    if (!v->failed && b->bad)
        fail(v, b->bad_seq, -1, "%s", b->msg);
}

/* Every stored node was compared as the tree was rebuilt; a row the tree
 * does not have (beyond its size, or at level 0) is found by counting:
 * the tree of n leaves has n >> l complete nodes at each level l >= 1. */
static void check_node_count(vctx *v, uint64_t size)
{
    uint64_t want = 0;
    for (unsigned l = 1; l < 64; l++)
        want += size >> l;
    sqlite3_stmt *st;
    int64_t have = -1;
    if (sqlite3_prepare_v2(v->db, "SELECT count(*) FROM nodes", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        have = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (have != (int64_t)want)
        fail(v, (int64_t)size, -1,
             "the nodes table holds %lld rows where the tree of %llu entries has %llu "
             "above its leaves", (long long)have, (unsigned long long)size,
             (unsigned long long)want);
}

static mg_status check_entries(vctx *v, const mg_audit_verify_opts *o,
                               const audit_checkpoint *trusted, mg_error *err)
{
    vread r = { .last_proc = INT64_MIN, .rc = SQLITE_DONE };
    if (sqlite3_prepare_v2(v->db, "SELECT seq, " AUDIT_ROW_COLUMNS ", entry, leaf FROM entries"
                           " ORDER BY seq", -1,
                           &r.st, NULL) != SQLITE_OK)
        return mg_error_set(err, MG_EFORMAT, v->path, 0, 0, "not a meshgov audit log: %s",
                            sqlite3_errmsg(v->db));
    audit_frontier fr;
    memset(&fr, 0, sizeof fr);
    vbatch *bs = calloc(2, sizeof *bs);
    vpipe p = { .job = NULL, .stop = false };
    pthread_t th;
    bool threaded = false;
    mg_status s = MG_OK;
    if (!bs || !(bs[0].bytes = malloc(bs[0].cap = 256 * 1024)) ||
        !(bs[1].bytes = malloc(bs[1].cap = 256 * 1024)))
        s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    if (s == MG_OK) {
        pthread_mutex_init(&p.mu, NULL);
        pthread_cond_init(&p.cv, NULL);
        /* Without a second thread the reader hashes everything itself. */
        threaded = pthread_create(&th, NULL, hasher_main, &p) == 0;
    }
    size_t next_cp = 0;
    if (s == MG_OK && trusted && trusted->size == 0)
        at_size(v, &fr, &next_cp, trusted);
    /* cur is being hashed while the next batch is read into the other,
     * and the next one while cur's tree is built. */
    vbatch *cur = bs ? &bs[0] : NULL, *nxt = bs ? &bs[1] : NULL;
    if (s == MG_OK)
        s = read_batch(&r, cur, err);
    if (s == MG_OK)
        submit(&p, cur, threaded);
    while (s == MG_OK) {
        bool more = !cur->bad && r.rc == SQLITE_ROW;
        if (more)
            s = read_batch(&r, nxt, err);
        finish_hashing(&p, cur);
        if (s != MG_OK)
            break;
        /* The next batch is hashed while this one's tree is built. */
        if (more)
            submit(&p, nxt, threaded);
        tree_batch(v, o, trusted, &fr, &next_cp, cur);
        if (v->failed || !more)
            break;
        vbatch *t = cur;
        cur = nxt;
        nxt = t;
    }
    if (threaded) {
        pthread_mutex_lock(&p.mu);
        p.stop = true;
        pthread_cond_broadcast(&p.cv);
        pthread_mutex_unlock(&p.mu);
        pthread_join(th, NULL);
    }
    if (bs) {
        pthread_mutex_destroy(&p.mu);
        pthread_cond_destroy(&p.cv);
        free(bs[0].bytes);
        free(bs[1].bytes);
    }
    free(bs);
    sqlite3_finalize(r.st);
    v->rep->size = fr.size;
    if (s != MG_OK || v->failed)
        return s;
    if (r.rc != SQLITE_DONE)
        return mg_error_set(err, MG_EDB, v->path, 0, 0, "reading entries: %s",
                            sqlite3_errmsg(v->db));
    if (next_cp < v->ncp)
        fail(v, (int64_t)fr.size, (int64_t)v->cps[next_cp].size,
             "checkpoint at size %llu covers entries that are missing (the log holds %llu)",
             (unsigned long long)v->cps[next_cp].size, (unsigned long long)fr.size);
    else if (v->state_size != fr.size)
        fail(v, (int64_t)(fr.size < v->state_size ? fr.size : v->state_size), -1,
             "the log state records %llu entries but %llu are stored",
             (unsigned long long)v->state_size, (unsigned long long)fr.size);
    else if (trusted && trusted->size > fr.size)
        fail(v, (int64_t)fr.size, (int64_t)trusted->size,
             "the log holds %llu entries, fewer than the trusted checkpoint's %llu: "
             "truncated or rolled back", (unsigned long long)fr.size,
             (unsigned long long)trusted->size);
    else
        check_node_count(v, fr.size);
    return MG_OK;
}

static void finish_report(vctx *v)
{
    mg_audit_report *rep = v->rep;
    if (v->failed)
        return;
    if (rep->verified_size < rep->size) {
        rep->verdict = MG_AUDIT_UNANCHORED;
        if (rep->size - rep->verified_size == 1)
            snprintf(rep->message, sizeof rep->message,
                     "entry %llu is consistent but not covered by a signed checkpoint",
                     (unsigned long long)rep->verified_size);
        else
            snprintf(rep->message, sizeof rep->message,
                     "entries %llu..%llu are consistent but not covered by a signed checkpoint",
                     (unsigned long long)rep->verified_size, (unsigned long long)rep->size - 1);
    } else {
        rep->verdict = MG_AUDIT_OK;
        snprintf(rep->message, sizeof rep->message,
                 "%llu entries verified, %llu checkpoints", (unsigned long long)rep->size,
                 (unsigned long long)rep->checkpoints);
    }
}

mg_status mg_audit_verify(const mg_audit_verify_opts *o, mg_audit_report *rep, mg_error *err)
{
    memset(rep, 0, sizeof *rep);
    rep->verdict = MG_AUDIT_FAIL;
    rep->first_bad_seq = rep->bad_checkpoint = -1;
    if (!o || !o->db || !o->keys)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "verify needs a database and a key file");
    if (sodium_init() < 0)
        return mg_error_set(err, MG_ECRYPTO, NULL, 0, 0, "libsodium failed to initialize");
    audit_vkey *keys;
    size_t nkeys;
    mg_status s = audit_keys_load(o->keys, &keys, &nkeys, err);
    if (s != MG_OK)
        return s;
    audit_checkpoint trusted;
    const char *tfile = o->trusted_file ? o->trusted_file : "trusted checkpoint";
    mg_error e2 = { 0 };
    if (o->trusted_checkpoint &&
        (s = open_checkpoint(o->trusted_checkpoint, o->trusted_len, keys, nkeys, &trusted,
                             &e2)) != MG_OK) {
        /* The auditor's own input: bad input, whatever is wrong with it. */
        s = mg_error_set(err, MG_EINVAL, tfile, 0, 0, "not a checkpoint of this log signed "
                         "by a pinned key: %s", e2.message ? e2.message : "invalid");
        mg_error_clear(&e2);
        free(keys);
        return s;
    }
    vctx v = { .path = o->db, .rep = rep };
    /* Only the reading thread uses the connection. */
    s = audit_open_read_only(NULL, o->db, &v.db, err);
    if (s == MG_OK)
        s = read_meta(&v, err);
    if (s == MG_OK && o->trusted_checkpoint && strcmp(trusted.origin, v.origin) != 0)
        s = mg_error_set(err, MG_EINVAL, tfile, 0, 0,
                         "the trusted checkpoint is for \"%s\", the log is \"%s\"",
                         trusted.origin, v.origin);
    if (s == MG_OK)
        s = load_checkpoints(&v, keys, nkeys, err);
    if (s == MG_OK && !v.failed)
        s = check_entries(&v, o, o->trusted_checkpoint ? &trusted : NULL, err);
    if (s == MG_OK)
        finish_report(&v);
    if (o->progress && s == MG_OK)
        o->progress(o->progress_ud, rep->size, rep->size);
    sqlite3_finalize(v.get_node);
    for (int l = 0; l < 64; l++)
        sqlite3_finalize(v.lv[l].st);
    sqlite3_close(v.db);
    free(v.cps);
    free(v.origin);
    free(keys);
    return s;
}

/* ======================================================================
 * Checking a proof given as JSON or as a C2SP tlog-proof
 * ====================================================================== */

/* What the checks read from a proof: a string member is NULL when it is
 * absent or not a string, a number member counts when it is a JSON
 * integer. */
typedef struct pstr {
    const char *s;              /* NUL-terminated, no NUL inside */
    size_t n;
} pstr;

typedef struct pint {
    bool is_int;
    int64_t v;
} pint;

typedef struct pfields {
    pstr type, origin, entry, leaf_hash, root_hash, root1, root2, cp, cp1, cp2;
    pint tree_size, leaf_index, size1, size2;
    bool proof_is_array;
    size_t proof_n;
    pstr proof[AUDIT_MAX_PROOF];    /* when proof_n <= AUDIT_MAX_PROOF */
} pfields;

static bool phash(pstr v, uint8_t out[AUDIT_HASH])
{
    size_t len;
    return v.s && audit_b64_decode(v.s, v.n, out, AUDIT_HASH, &len) &&
           len == AUDIT_HASH;
}

static bool pproof_read(const pfields *f, uint8_t h[][AUDIT_HASH], audit_span *sp, size_t *n)
{
    if (!f->proof_is_array || f->proof_n > AUDIT_MAX_PROOF)
        return false;
    *n = f->proof_n;
    for (size_t i = 0; i < *n; i++) {
        if (!phash(f->proof[i], h[i]))
            return false;
        sp[i] = (audit_span){ h[i], AUDIT_HASH };
    }
    return true;
}

/* Remembered checkpoint notes: an identical note verified by the same keys
 * verifies again, so its signature is checked once. */
#define CHECKER_CACHE 4

struct mg_audit_checker {
    audit_vkey *keys;
    size_t nkeys;
    char *note[CHECKER_CACHE];
    size_t note_len[CHECKER_CACHE];
    audit_checkpoint cp[CHECKER_CACHE];
    unsigned next;              /* slot replaced next */
    unsigned paths;             /* inclusion paths checked */
    audit_memo *memo;           /* from the second path on; may be NULL */
};

static mg_status checker_open_note(mg_audit_checker *c, const char *note, size_t len,
                                   audit_checkpoint *cp, mg_error *err)
{
    for (unsigned i = 0; i < CHECKER_CACHE; i++)
        if (c->note[i] && c->note_len[i] == len && memcmp(c->note[i], note, len) == 0) {
            *cp = c->cp[i];
            return MG_OK;
        }
    mg_status s = open_checkpoint(note, len, c->keys, c->nkeys, cp, err);
    if (s != MG_OK)
        return s;
    char *copy = malloc(len + 1);
    if (copy) {   /* without memory the note is simply not remembered */
        unsigned i = c->next++ % CHECKER_CACHE;
        memcpy(copy, note, len);
        free(c->note[i]);
        c->note[i] = copy;
        c->note_len[i] = len;
        c->cp[i] = *cp;
    }
    return MG_OK;
}

/* The checkpoint under `key` must verify and name this origin, size, root. */
static mg_status check_cp(pstr note, const char *key, const char *origin, uint64_t size,
                          const uint8_t root[AUDIT_HASH], mg_audit_checker *c, mg_error *err)
{
    if (!note.s)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0, "proof: no %s", key);
    audit_checkpoint cp;
    mg_status s = checker_open_note(c, note.s, note.n, &cp, err);
    if (s != MG_OK)
        return s;
    if (cp.size != size || strcmp(cp.origin, origin) != 0 ||
        sodium_memcmp(cp.root, root, AUDIT_HASH) != 0)
        return mg_error_set(err, MG_EINTEGRITY, NULL, 0, 0,
                            "proof: %s does not match the proof's origin, size or root", key);
    return MG_OK;
}

/* An inclusion proof as its text says it, whatever the format. */
typedef struct incl {
    const char *origin;         /* NUL-terminated */
    uint64_t size, idx;
    uint8_t root[AUDIT_HASH];
    pstr entry;                 /* base64 of the canonical entry */
    bool has_leaf;              /* the proof states the leaf hash: */
    uint8_t leaf[AUDIT_HASH];   /* ... it must be the entry's */
    pstr note;                  /* the signed checkpoint */
    size_t n;
    uint8_t h[AUDIT_MAX_PROOF][AUDIT_HASH];
    audit_span sp[AUDIT_MAX_PROOF];
} incl;

static mg_status check_incl(incl *p, mg_audit_checker *c, mg_error *err)
{
    uint8_t leaf[AUDIT_HASH];
    size_t elen;
    mg_status s = check_cp(p->note, "checkpoint", p->origin, p->size, p->root, c, err);
    if (s != MG_OK)
        return s;
    uint8_t *entry = malloc(p->entry.n + 1);
    if (!entry)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    audit_entry dec;
    /* The leaf must be a canonical entry naming this very position: an
     * interior node or another entry presented as this leaf fails here. */
    if (!audit_b64_decode(p->entry.s, p->entry.n, entry, p->entry.n + 1, &elen) ||
        !audit_entry_decode(entry, elen, &dec) || dec.seq != p->idx) {
        free(entry);
        return mg_error_set(err, MG_EINTEGRITY, NULL, 0, 0,
                            "proof: the entry is not a canonical entry with seq %llu",
                            (unsigned long long)p->idx);
    }
    audit_leaf_hash(entry, elen, leaf);
    free(entry);
    if (p->has_leaf && sodium_memcmp(leaf, p->leaf, AUDIT_HASH) != 0)
        return mg_error_set(err, MG_EINTEGRITY, NULL, 0, 0,
                            "proof: leaf_hash is not the hash of the entry");
    /* A checker that checks more than one path remembers the upper nodes
     * it hashed; without memory it simply hashes them all. */
    if (c->paths++ == 1)
        c->memo = calloc(1, sizeof *c->memo);
    if (!audit_verify_inclusion_memo(p->idx, p->size, (audit_span){ leaf, AUDIT_HASH }, p->sp,
                                     p->n, (audit_span){ p->root, AUDIT_HASH }, c->memo))
        return mg_error_set(err, MG_EINTEGRITY, NULL, 0, 0,
                            "proof: entry %llu is not included in the tree of size %llu",
                            (unsigned long long)p->idx, (unsigned long long)p->size);
    return MG_OK;
}

static mg_status check_inclusion(const pfields *f, mg_audit_checker *c, mg_error *err)
{
    incl p;
    if (!f->tree_size.is_int || !f->leaf_index.is_int || f->tree_size.v < 0 ||
        f->leaf_index.v < 0 || !f->entry.s || !phash(f->root_hash, p.root) ||
        !phash(f->leaf_hash, p.leaf) || !pproof_read(f, p.h, p.sp, &p.n))
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0, "proof: malformed inclusion proof");
    p.origin = f->origin.s;
    p.size = (uint64_t)f->tree_size.v;
    p.idx = (uint64_t)f->leaf_index.v;
    p.entry = f->entry;
    p.has_leaf = true;
    p.note = f->cp;
    return check_incl(&p, c, err);
}

static mg_status check_consistency(const pfields *f, mg_audit_checker *c, mg_error *err)
{
    uint8_t r1[AUDIT_HASH], r2[AUDIT_HASH], h[AUDIT_MAX_PROOF][AUDIT_HASH];
    audit_span sp[AUDIT_MAX_PROOF];
    size_t n;
    if (!f->size1.is_int || !f->size2.is_int || f->size1.v < 0 || f->size2.v < 0 ||
        !phash(f->root1, r1) || !phash(f->root2, r2) || !pproof_read(f, h, sp, &n))
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0, "proof: malformed consistency proof");
    uint64_t s1 = (uint64_t)f->size1.v, s2 = (uint64_t)f->size2.v;
    mg_status s = check_cp(f->cp1, "checkpoint1", f->origin.s, s1, r1, c, err);
    if (s == MG_OK)
        s = check_cp(f->cp2, "checkpoint2", f->origin.s, s2, r2, c, err);
    if (s == MG_OK && !audit_verify_consistency(s1, s2, (audit_span){ r1, AUDIT_HASH },
                                                (audit_span){ r2, AUDIT_HASH }, sp, n))
        s = mg_error_set(err, MG_EINTEGRITY, NULL, 0, 0,
                         "proof: the tree of size %llu does not extend the tree of size %llu",
                         (unsigned long long)s2, (unsigned long long)s1);
    return s;
}

static mg_status check_fields(mg_audit_checker *c, const pfields *f, mg_error *err)
{
    if (!f->type.s || !f->origin.s)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0, "proof: no type or origin");
    if (strcmp(f->type.s, "inclusion") == 0)
        return check_inclusion(f, c, err);
    if (strcmp(f->type.s, "consistency") == 0)
        return check_consistency(f, c, err);
    return mg_error_set(err, MG_EFORMAT, NULL, 0, 0, "proof: unknown type \"%s\"", f->type.s);
}

/* ----------------------------------------------------------------------
 * The C2SP tlog-proof format (c2sp.org/tlog-proof, docs/audit.md): the
 * first line, "extra" with the canonical entry in base64 (optional in the
 * format, required here: the leaf is hashed from it), "index N", one
 * base64 hash per line from the leaf's sibling up, an empty line, and the
 * signed checkpoint verbatim to the end. Origin, size and root are the
 * checkpoint's, trusted only once its signature verifies (check_cp).
 * ---------------------------------------------------------------------- */

static const char tlog_magic[] = "c2sp.org/tlog-proof@v1\n";

/* Any text naming the format is read as one, so that another version or
 * CRLF line ends are reported as such rather than as bad JSON. */
static bool is_tlog(const char *text, size_t len)
{
    static const char name[] = "c2sp.org/tlog-proof@";
    return len >= sizeof name - 1 && memcmp(text, name, sizeof name - 1) == 0;
}

/* The line at *at, without its newline; false when no newline ends it. */
static bool tlog_line(const char **at, const char *end, pstr *l)
{
    const char *nl = memchr(*at, '\n', (size_t)(end - *at));
    if (!nl)
        return false;
    *l = (pstr){ *at, (size_t)(nl - *at) };
    *at = nl + 1;
    return true;
}

/* A decimal without leading zeros, as the format writes the index. */
static bool tlog_decimal(const char *s, size_t n, uint64_t *v)
{
    if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
        return false;
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (uint64_t)(s[i] - '0');
    }
    return true;
}

static mg_status tlog_bad(mg_error *err, int line, const char *what)
{
    return mg_error_set(err, MG_EFORMAT, NULL, line, 1, "proof: %s", what);
}

static mg_status tlog_read(const char *text, size_t len, incl *p, audit_checkpoint *cp,
                           mg_error *err)
{
    const char *at = text + sizeof tlog_magic - 1, *end = text + len;
    pstr l;
    if (len < sizeof tlog_magic - 1 || memcmp(text, tlog_magic, sizeof tlog_magic - 1) != 0)
        return tlog_bad(err, 1, "expected the line \"c2sp.org/tlog-proof@v1\" (this version, "
                                "lines ended by LF)");
    if (!tlog_line(&at, end, &l) || l.n <= 6 || memcmp(l.s, "extra ", 6) != 0)
        return tlog_bad(err, 2, "expected \"extra\" and the entry in base64 (a meshgov "
                                "proof carries its entry)");
    p->entry = (pstr){ l.s + 6, l.n - 6 };
    p->has_leaf = false;
    if (!tlog_line(&at, end, &l) || l.n <= 6 || memcmp(l.s, "index ", 6) != 0 ||
        !tlog_decimal(l.s + 6, l.n - 6, &p->idx))
        return tlog_bad(err, 3, "expected \"index\" and a decimal without leading zeros");
    p->n = 0;
    for (int line = 4;; line++) {
        size_t got;
        if (!tlog_line(&at, end, &l))
            return tlog_bad(err, line, "expected an empty line, then the checkpoint");
        if (l.n == 0)
            break;
        if (p->n == AUDIT_MAX_PROOF)
            return tlog_bad(err, line, "too many proof hashes");
        if (!audit_b64_decode(l.s, l.n, p->h[p->n], AUDIT_HASH, &got) || got != AUDIT_HASH)
            return tlog_bad(err, line, "not a SHA-256 hash in base64");
        p->sp[p->n] = (audit_span){ p->h[p->n], AUDIT_HASH };
        p->n++;
    }
    p->note = (pstr){ at, (size_t)(end - at) };
    mg_status s = checkpoint_of_note(p->note.s, p->note.n, cp, err);
    if (s != MG_OK)
        return s;
    p->origin = cp->origin;
    p->size = cp->size;
    memcpy(p->root, cp->root, AUDIT_HASH);
    return MG_OK;
}

static pstr j_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    const char *s = json_string_value(v);
    return (pstr){ s, s ? json_string_length(v) : 0 };
}

static pint j_int(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return (pint){ json_is_integer(v), json_is_integer(v) ? json_integer_value(v) : 0 };
}

static void j_fields(json_t *o, pfields *f)
{
    memset(f, 0, sizeof *f);
    f->type = j_str(o, "type");
    f->origin = j_str(o, "origin");
    f->entry = j_str(o, "entry");
    f->leaf_hash = j_str(o, "leaf_hash");
    f->root_hash = j_str(o, "root_hash");
    f->root1 = j_str(o, "root1");
    f->root2 = j_str(o, "root2");
    f->cp = j_str(o, "checkpoint");
    f->cp1 = j_str(o, "checkpoint1");
    f->cp2 = j_str(o, "checkpoint2");
    f->tree_size = j_int(o, "tree_size");
    f->leaf_index = j_int(o, "leaf_index");
    f->size1 = j_int(o, "size1");
    f->size2 = j_int(o, "size2");
    json_t *arr = json_object_get(o, "proof");
    f->proof_is_array = json_is_array(arr);
    f->proof_n = json_array_size(arr);
    for (size_t i = 0; f->proof_n <= AUDIT_MAX_PROOF && i < f->proof_n; i++) {
        json_t *v = json_array_get(arr, i);
        const char *s = json_string_value(v);
        f->proof[i] = (pstr){ s, s ? json_string_length(v) : 0 };
    }
}

static mg_status parse_proof(const char *json, size_t len, json_t **out, mg_error *err)
{
    json_error_t je;
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    *out = o;
    if (json_is_object(o))
        return MG_OK;
    json_decref(o);
    *out = NULL;
    return mg_error_set(err, MG_EFORMAT, NULL, je.line, je.column, "proof: %s",
                        o ? "not a JSON object" : je.text);
}

static mg_status check_parsed(mg_audit_checker *c, json_t *o, mg_error *err)
{
    pfields f;
    j_fields(o, &f);
    return check_fields(c, &f, err);
}

/* A proof read from its text, JSON or C2SP tlog-proof. */
typedef struct rproof {
    json_t *json;               /* the JSON form, or NULL */
    incl tlog;                  /* else the tlog-proof */
    audit_checkpoint cp;        /* ... and its checkpoint's body */
} rproof;

static mg_status read_proof(const char *text, size_t len, rproof *r, mg_error *err)
{
    r->json = NULL;
    if (len > AUDIT_MAX_PROOF_TEXT)
        return mg_error_set(err, MG_ELIMIT, NULL, 0, 0, "proof: larger than %d bytes",
                            AUDIT_MAX_PROOF_TEXT);
    if (is_tlog(text, len))
        return tlog_read(text, len, &r->tlog, &r->cp, err);
    return parse_proof(text, len, &r->json, err);
}

static mg_status check_read(mg_audit_checker *c, rproof *r, mg_error *err)
{
    return r->json ? check_parsed(c, r->json, err) : check_incl(&r->tlog, c, err);
}

mg_status mg_audit_checker_check(mg_audit_checker *c, const char *text, size_t len,
                                 mg_error *err)
{
    rproof r;
    mg_status s = read_proof(text, len, &r, err);
    if (s == MG_OK)
        s = check_read(c, &r, err);
    json_decref(r.json);
    return s;
}

mg_status mg_audit_checker_open(const char *keys_file, mg_audit_checker **out,
                                mg_error *err)
{
    *out = NULL;
    if (sodium_init() < 0)
        return mg_error_set(err, MG_ECRYPTO, NULL, 0, 0, "libsodium failed to initialize");
    mg_audit_checker *c = calloc(1, sizeof *c);
    if (!c)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    mg_status s = audit_keys_load(keys_file, &c->keys, &c->nkeys, err);
    if (s != MG_OK) {
        free(c);
        return s;
    }
    *out = c;
    return MG_OK;
}

void mg_audit_checker_close(mg_audit_checker *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < CHECKER_CACHE; i++)
        free(c->note[i]);
    free(c->memo);
    free(c->keys);
    free(c);
}

mg_status mg_audit_check_proof(const char *text, size_t len, const char *keys_file,
                               mg_error *err)
{
    if (sodium_init() < 0)
        return mg_error_set(err, MG_ECRYPTO, NULL, 0, 0, "libsodium failed to initialize");
    /* The proof first: a malformed one is reported as such whatever the
     * key file holds. */
    rproof r;
    mg_audit_checker *c = NULL;
    mg_status s = read_proof(text, len, &r, err);
    if (s == MG_OK)
        s = mg_audit_checker_open(keys_file, &c, err);
    if (s == MG_OK)
        s = check_read(c, &r, err);
    mg_audit_checker_close(c);
    json_decref(r.json);
    return s;
}
