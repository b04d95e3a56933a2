/*
 * audit.h — internals of the audit layer, shared by the files of audit/ and
 * by its tests: the Merkle tree (RFC 9162), checkpoints and signed notes
 * (C2SP), the canonical entry encoding, the SQLite log, the key store, the
 * verifier and the ring. Nothing here knows the policy language.
 *
 * Hashes are 32-byte SHA-256 values held in uint8_t[32]. Sizes and indices
 * of the tree are uint64_t; a sequence number is the leaf index (from 0).
 */
#ifndef MG_AUDIT_H
#define MG_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <pthread.h>
#include <sqlite3.h>
#include "meshgov.h"
#include "stdlib/value.h"

#define AUDIT_HASH 32
/* Longest proof: 64 levels for inclusion, one more for consistency. */
#define AUDIT_MAX_PROOF 72

#if defined(__GNUC__)
#define AUDIT_WUR __attribute__((warn_unused_result))
#else
#define AUDIT_WUR
#endif

/* ======================================================================
 * Memory (mem.c)
 * ====================================================================== */

/* The allocator of a log handle (mg_audit_config.alloc, Lua style: every
 * block goes back with its size). Zeroed or NULL, it is malloc's. */
typedef struct audit_mem {
    sl_alloc_fn fn;
    void *ud;
} audit_mem;

/* The allocator a config names, or malloc's. */
audit_mem audit_mem_of(mg_alloc_fn fn, void *ud);
void *am_alloc(const audit_mem *m, size_t n);
/* n * size zeroed bytes, NULL on overflow. */
void *am_calloc(const audit_mem *m, size_t n, size_t size);
void *am_resize(const audit_mem *m, void *p, size_t osize, size_t nsize);
/* Frees p of n bytes; NULL is allowed. */
void am_free(const audit_mem *m, void *p, size_t n);
char *am_strdup(const audit_mem *m, const char *s);
/* Frees a string from am_strdup; NULL is allowed. */
void am_free_str(const audit_mem *m, char *s);

/* ======================================================================
 * Merkle tree (merkle.c)
 * ====================================================================== */

/* A byte string that is not ours: proof elements and roots as received, so
 * that a proof element of the wrong length is rejected, not truncated. */
typedef struct audit_span {
    const uint8_t *p;
    size_t n;
} audit_span;

/* SHA-256 of prefix || a || b (b may be NULL when nb is 0): the CPU's SHA
 * instructions when it has them, libsodium otherwise (sha256.c). */
void audit_sha256_prefixed(uint8_t prefix, const void *a, size_t na, const void *b,
                           size_t nb, uint8_t out[AUDIT_HASH]);
/* Which of the two audit_sha256_prefixed uses, for the benchmarks. */
const char *audit_sha256_impl(void);
/* Use the CPU's instructions (if it has them) or libsodium from now on;
 * returns whether the CPU's were in use. For the tests, which compare
 * the two. */
bool audit_sha256_use_cpu(bool on);

void audit_leaf_hash(const void *entry, size_t n, uint8_t out[AUDIT_HASH]);
void audit_node_hash(const uint8_t l[AUDIT_HASH], const uint8_t r[AUDIT_HASH],
                     uint8_t out[AUDIT_HASH]);
void audit_empty_root(uint8_t out[AUDIT_HASH]);

/* Source of the hash of a complete subtree: the 2^level leaves starting at
 * index << level. Every subtree a proof needs is complete in the tree the
 * source holds. */
typedef mg_status (*audit_node_fn)(void *ud, unsigned level, uint64_t index,
                                   uint8_t out[AUDIT_HASH], mg_error *err);

/* MTH(D[lo:hi]) for any lo < hi with lo aligned as in RFC 9162 subtrees. */
mg_status audit_range_root(audit_node_fn fn, void *ud, uint64_t lo, uint64_t hi,
                           uint8_t out[AUDIT_HASH], mg_error *err);
/* MTH of the first `size` leaves (the empty root for size 0). */
mg_status audit_tree_root(audit_node_fn fn, void *ud, uint64_t size,
                          uint8_t out[AUDIT_HASH], mg_error *err);

/* PATH(index, D[0:size]) (RFC 9162 2.1.3.1) into proof[AUDIT_MAX_PROOF]. */
mg_status audit_inclusion_proof(audit_node_fn fn, void *ud, uint64_t index,
                                uint64_t size, uint8_t proof[][AUDIT_HASH],
                                size_t *len, mg_error *err);
/* PROOF(size1, D[0:size2]) (RFC 9162 2.1.4.1), 0 < size1 <= size2. */
mg_status audit_consistency_proof(audit_node_fn fn, void *ud, uint64_t size1,
                                  uint64_t size2, uint8_t proof[][AUDIT_HASH],
                                  size_t *len, mg_error *err);

/* The roots of the ranges along the right edge of one tree size, kept by
 * a handle that serves proofs: h[j] is MTH(D[lo:size]) for lo = size with
 * its low j bits cleared, when bit j of valid is set. A zeroed edge holds
 * nothing; an edge passed for another size is reset. */
typedef struct audit_edge {
    uint64_t size;
    uint64_t valid;
    uint8_t h[64][AUDIT_HASH];
} audit_edge;

/* The same proofs, keeping and reusing right-edge roots in edge. */
mg_status audit_inclusion_proof_edge(audit_node_fn fn, void *ud, audit_edge *edge,
                                     uint64_t index, uint64_t size,
                                     uint8_t proof[][AUDIT_HASH], size_t *len, mg_error *err);
mg_status audit_consistency_proof_edge(audit_node_fn fn, void *ud, audit_edge *edge,
                                       uint64_t size1, uint64_t size2,
                                       uint8_t proof[][AUDIT_HASH], size_t *len,
                                       mg_error *err);

/* RFC 9162 2.1.3.2. False for any malformed input: index >= size, a leaf
 * hash, root or element not 32 bytes, a proof of the wrong length. */
AUDIT_WUR bool audit_verify_inclusion(uint64_t index, uint64_t size,
                                      audit_span leaf, const audit_span *proof,
                                      size_t len, audit_span root);
/* Node hashes remembered by a proof checker: the upper levels of a tree
 * are on the paths of many leaves. A slot is used only for the same
 * position made of the same two children, so what it gives is exactly
 * the hash it stands for. */
#define AUDIT_MEMO_SLOTS 4096
typedef struct audit_memo_slot {
    bool used;
    uint64_t key;
    uint8_t l[AUDIT_HASH], r[AUDIT_HASH], h[AUDIT_HASH];
} audit_memo_slot;
typedef struct audit_memo {
    audit_memo_slot slot[AUDIT_MEMO_SLOTS];
} audit_memo;

/* audit_verify_inclusion with a memo (NULL: none); the same result. */
AUDIT_WUR bool audit_verify_inclusion_memo(uint64_t index, uint64_t size, audit_span leaf,
                                           const audit_span *proof, size_t len,
                                           audit_span root, audit_memo *memo);

/* RFC 9162 2.1.4.2. size1 == 0 is refused (nothing to prove); equal sizes
 * need an empty proof and equal roots. */
AUDIT_WUR bool audit_verify_consistency(uint64_t size1, uint64_t size2,
                                        audit_span root1, audit_span root2,
                                        const audit_span *proof, size_t len);

/* The right edge of a tree: for each bit l set in size, the root of the
 * complete subtree of 2^l leaves at level l. Appending is O(log n). */
typedef struct audit_frontier {
    uint64_t size;
    uint8_t h[64][AUDIT_HASH];
} audit_frontier;

/* Called for each node an append completes, the leaf itself included. */
typedef mg_status (*audit_store_fn)(void *ud, unsigned level, uint64_t index,
                                    const uint8_t h[AUDIT_HASH], mg_error *err);

mg_status audit_frontier_push(audit_frontier *f, const uint8_t leaf[AUDIT_HASH],
                              audit_store_fn store, void *ud, mg_error *err);
void audit_frontier_root(const audit_frontier *f, uint8_t out[AUDIT_HASH]);
/* Loads the frontier of a tree of `size` leaves from a node source. */
mg_status audit_frontier_load(audit_frontier *f, uint64_t size, audit_node_fn fn,
                              void *ud, mg_error *err);

/* A helper thread that hashes leaves beside its caller: each call splits
 * its leaves between the two and returns when all are hashed. A NULL pool
 * hashes on the caller alone. Calls on one pool must not overlap. */
typedef struct audit_hashpool audit_hashpool;
mg_status audit_hashpool_start(const audit_mem *m, audit_hashpool **out, mg_error *err);
void audit_hashpool_stop(audit_hashpool *p);
void audit_hashpool_leaves(audit_hashpool *p, const uint8_t *const *e, const size_t *len,
                           size_t n, uint8_t (*out)[AUDIT_HASH]);
/* Runs fn(arg) on the helper thread while the caller goes on (a NULL pool
 * runs it at once). audit_hashpool_join waits until it has returned; it
 * must come before the pool's next use and before the caller touches what
 * fn uses. */
void audit_hashpool_run(audit_hashpool *p, void (*fn)(void *), void *arg);
void audit_hashpool_join(audit_hashpool *p);

/* ======================================================================
 * Keys, checkpoints and signed notes (note.c)
 * ====================================================================== */

#define AUDIT_MAX_NAME 255      /* key name, bytes */
#define AUDIT_MAX_LINE 1024     /* a checkpoint line or a signature line */
#define AUDIT_MAX_NOTE 65536    /* a whole signed note */
/* A proof's text: two notes, an entry and the path, with room to spare. */
#define AUDIT_MAX_PROOF_TEXT MG_AUDIT_MAX_PROOF
#define AUDIT_MAX_SIGS 100      /* signature lines in a note */

typedef struct audit_vkey {
    char name[AUDIT_MAX_NAME + 1];
    uint32_t id;                /* first 4 bytes of the key hash, big-endian */
    uint8_t pk[32];
    bool has_until;             /* revoked for checkpoints above `until` */
    uint64_t until;
} audit_vkey;

typedef struct audit_skey {
    char name[AUDIT_MAX_NAME + 1];
    uint32_t id;
    uint8_t pk[32];
    uint8_t sk[64];             /* libsodium layout: seed || pk */
} audit_skey;

/* SHA-256(name || 0x0A || 0x01 || pk)[0:4] as a big-endian integer. */
uint32_t audit_key_id(const char *name, const uint8_t pk[32]);

/* "name+hex8+base64(0x01||pk)". n is the length of s. */
mg_status audit_vkey_parse(const char *s, size_t n, audit_vkey *out, mg_error *err);
/* "PRIVATE+KEY+name+hex8+base64(0x01||seed)". */
mg_status audit_skey_parse(const char *s, size_t n, audit_skey *out, mg_error *err);
/* Derives a key from a 32-byte seed. */
mg_status audit_skey_from_seed(const char *name, const uint8_t seed[32],
                               audit_skey *out, mg_error *err);
/* Text forms into buf (cap bytes, NUL-terminated). False if it does not fit. */
bool audit_vkey_format(const audit_vkey *k, char *buf, size_t cap);
bool audit_skey_format(const audit_skey *k, char *buf, size_t cap);
void audit_skey_public(const audit_skey *k, audit_vkey *out);

typedef struct audit_checkpoint {
    char origin[AUDIT_MAX_LINE + 1];
    uint64_t size;
    uint8_t root[AUDIT_HASH];
    size_t n_ext;               /* extension lines after the root hash */
    size_t body_len;            /* bytes of the body */
} audit_checkpoint;

/* Parses a checkpoint body (the text of a note) strictly. */
mg_status audit_checkpoint_parse(const char *body, size_t n, audit_checkpoint *out,
                                 mg_error *err);
/* "origin\nsize\nbase64(root)\n", then with time_us >= 0 the extension
 * line "time <RFC 3339 UTC, whole seconds>\n", into buf. Returns its
 * length, 0 if too long. */
size_t audit_checkpoint_format(const char *origin, uint64_t size,
                               const uint8_t root[AUDIT_HASH], int64_t time_us, char *buf,
                               size_t cap);

/* Signs text (which must end in a newline) with every key: a new note
 * "text\n— name base64(id||sig)\n..." in *out, from m (am_free_str). */
mg_status audit_note_sign(const audit_mem *m, const char *text, size_t n, const audit_skey *keys,
                          size_t nkeys, char **out, mg_error *err);

typedef struct audit_note_result {
    size_t text_len;            /* the signed text is note[0:text_len] */
    size_t n_verified;          /* keys (indices into the list) that signed */
    size_t verified[AUDIT_MAX_SIGS];
    size_t n_unknown;           /* signature lines of keys not in the list */
} audit_note_result;

/* Opens a signed note against a list of keys: every signature by a listed
 * key (same name and id) must verify (else MG_ECRYPTO "invalid signature");
 * others are ignored; at least one must be listed (else MG_ECRYPTO "no
 * verifiable signature"). Malformed notes are MG_EFORMAT. */
mg_status audit_note_open(const char *note, size_t n, const audit_vkey *keys,
                          size_t nkeys, audit_note_result *res, mg_error *err);

bool audit_valid_key_name(const char *s, size_t n);
/* Strict standard base64 (RFC 4648: its alphabet, padded, unused bits
 * zero): decode fails on any other text or more than cap bytes; encode
 * writes AUDIT_B64_LEN(n) bytes, the NUL included, and cap must hold them
 * (libsodium aborts when it does not; the table writes an empty string).
 * audit_b64_* work by table, for public data (base64.c); audit_b64_*_ct
 * use libsodium's constant-time codec, for keys (note.c). Both accept and
 * write exactly the same texts. */
#define AUDIT_B64_LEN(n) (((n) + 2) / 3 * 4 + 1)
bool audit_b64_decode(const char *s, size_t n, uint8_t *out, size_t cap,
                      size_t *len);
void audit_b64_encode(const uint8_t *in, size_t n, char *out, size_t cap);
bool audit_b64_decode_ct(const char *s, size_t n, uint8_t *out, size_t cap,
                         size_t *len);
void audit_b64_encode_ct(const uint8_t *in, size_t n, char *out, size_t cap);
void audit_hex_encode(const uint8_t *in, size_t n, char *out);

/* ======================================================================
 * Canonical entries (entry.c)
 * ====================================================================== */

enum {
    AUDIT_F_KIND, AUDIT_F_PRODUCT, AUDIT_F_PORT, AUDIT_F_SUBJECT,
    AUDIT_F_ACTION, AUDIT_F_EFFECT, AUDIT_F_RULES, AUDIT_F_MODE,
    AUDIT_F_DIGEST, AUDIT_F_PAYLOAD, AUDIT_NFIELDS
};

/* The fields that are also columns of the entries table, in column order
 * after seq and event_time (docs/audit.md): those queries filter on. */
#define AUDIT_NCOLS 6
extern const int audit_column_fields[AUDIT_NCOLS];

/* Column names in entry order, and the longest value each may hold. */
extern const char *const audit_field_names[AUDIT_NFIELDS];
extern const size_t audit_field_max[AUDIT_NFIELDS];

/* An entry's fields as slices (not NUL-terminated). */
typedef struct audit_entry {
    uint64_t seq;
    int64_t event_time;
    int64_t proc_time;
    const char *f[AUDIT_NFIELDS];
    size_t n[AUDIT_NFIELDS];
} audit_entry;

#define AUDIT_ENTRY_MAGIC "MGA\x01"
#define AUDIT_ENTRY_FIXED (4 + 8 + 8 + 8 + 4 * AUDIT_NFIELDS)

size_t audit_entry_size(const audit_entry *e);
/* Writes the canonical encoding; buf holds audit_entry_size(e) bytes. */
void audit_entry_encode(const audit_entry *e, uint8_t *buf);
/* Strict decode: slices point into buf. False on any deviation. */
bool audit_entry_decode(const uint8_t *buf, size_t n, audit_entry *out);
/* The columns "seq, " AUDIT_ROW_COLUMNS of a row hold exactly what its
 * decoded entry says (event_time at column 1, then the AUDIT_NCOLS text
 * columns): the verifier's check, and the query's for each row it gives. */
#define AUDIT_ROW_COLUMNS "event_time, kind, product, port, subject, action, effect"
bool audit_columns_match(sqlite3_stmt *st, const audit_entry *dec);

/* ======================================================================
 * Key store of pseudonyms (keystore.c)
 * ====================================================================== */

typedef struct audit_keystore audit_keystore;

mg_status audit_keystore_open(const audit_mem *m, const char *path, bool read_only,
                              audit_keystore **out, mg_error *err);
void audit_keystore_close(audit_keystore *ks);
/* The subject's pseudonym (32 hex digits + NUL) in out. With create, a new
 * random one is made and stored when none exists; without, MG_ENOTFOUND. */
mg_status audit_keystore_pseudonym(audit_keystore *ks, const char *subject,
                                   bool create, char out[33], mg_error *err);
/* A writer's batch: between begin and end, new pseudonyms share one
 * transaction that end commits, and the cache is trusted without asking
 * the file again. end must return MG_OK before any entry naming one of
 * those pseudonyms is committed. */
mg_status audit_keystore_batch_begin(audit_keystore *ks, mg_error *err);
mg_status audit_keystore_batch_end(audit_keystore *ks, mg_error *err);
/* Deletes the mapping (MG_ENOTFOUND when there was none). */
mg_status audit_keystore_forget(audit_keystore *ks, const char *subject,
                                mg_error *err);

/* ======================================================================
 * The log on SQLite (log.c)
 * ====================================================================== */

/* One record as the ring holds it: fixed size, no pointers. */
typedef struct audit_rec {
    int64_t event_time;
    bool governance;            /* checkpoint right after committing it */
    uint16_t n[AUDIT_NFIELDS];
    char kind[32];
    char product[256];
    char port[128];
    char subject[256];          /* raw id; replaced by a pseudonym on commit */
    char action[64];
    char effect[16];
    char rules[1024];
    char mode[16];
    char digest[64];
    char payload[4096];
} audit_rec;

/* Pointer to field i of a record. */
char *audit_rec_field(audit_rec *r, int i);

typedef struct audit_pcache audit_pcache;

/* The version of the database layout (docs/audit.md), in state.version.
 * Logs of AUDIT_SCHEMA_OLDEST on are read as they are; a writer upgrades
 * them first (version 2 had a payload column, a copy of the entry's). */
#define AUDIT_SCHEMA_VERSION 3
#define AUDIT_SCHEMA_OLDEST 2

typedef struct audit_db {
    sqlite3 *db;
    char *path;
    char *origin;               /* from the state row */
    audit_frontier fr;
    int64_t last_proc;          /* processing time of the last entry */
    uint64_t cp_size;           /* size of the last checkpoint */
    int64_t cp_time;            /* processing clock at that checkpoint */
    int version;                /* of the layout, from the state row */
    audit_skey *signers;        /* checkpoint signers, owned */
    size_t n_signers;
    size_t signers_room;        /* the array's length: 2 once a key rotated */
    bool read_only;
    bool locked;                /* a writer: lock_fd holds the writer lock */
    int lock_fd;
    struct audit_writer *w;     /* a writer's statements and staged batch */
    audit_hashpool *pool;       /* leaf hashing of appends; not owned */
    audit_pcache *pc;           /* proof caches (api.c), owned; may be NULL */
    audit_mem mem;              /* what everything above is allocated with */
    sqlite3_stmt *st[11];       /* prepared statements, see log.c */
} audit_db;

/* Maps the connection's last error to MG_EIO (disk full, I/O), MG_ENOMEM
 * or MG_EDB, with SQLite's message prefixed by `what`. */
mg_status audit_db_error(sqlite3 *db, const char *path, const char *what, mg_error *err);
/* MG_EINVAL unless the latest checkpoint is signed by d->signers[0] and,
 * when it is a key rotation's, that key is the one brought in (api.c). */
mg_status audit_db_check_signer(audit_db *d, mg_error *err);
/* 1 if the database has a table of that name, 0 if not, -1 on an error. */
int audit_sqlite_has_table(sqlite3 *db, const char *name);

/* Opens a log read-only, as an auditor does. A WAL database is read
 * through its -shm file, which SQLite must be able to create beside it; in
 * a directory the reader may not write, a log whose -wal file is absent
 * or empty (a log that was closed, or copied for the auditor) is read as
 * immutable instead. MG_OK, or the error (naming path); *db is to be
 * closed in any case. Scratch memory from m (NULL: malloc). */
mg_status audit_open_read_only(const audit_mem *m, const char *path, sqlite3 **db,
                               mg_error *err);

/* Opens or creates the database; origin is required when creating. A
 * writer (read_only false) first takes the writer lock, the file
 * "<database>-writer.lock": while another handle, in this process or
 * another, has the log open for writing, the open fails with MG_EBUSY. */
mg_status audit_db_open(audit_db *d, const audit_mem *mem, const char *path,
                        const char *origin, bool read_only, bool sync_full, mg_error *err);
void audit_db_close(audit_db *d);
/* Node source over the nodes table (ud is the audit_db). */
mg_status audit_db_node(void *ud, unsigned level, uint64_t index,
                        uint8_t out[AUDIT_HASH], mg_error *err);

/* Frees the proof caches of a connection and their statements (NULL is
 * allowed); audit_db_close calls it. */
void audit_pcache_free(const audit_mem *m, audit_pcache *pc);

/* A read transaction around several lookups (proofs). */
mg_status audit_db_read_begin(audit_db *d, mg_error *err);
void audit_db_read_end(audit_db *d);
/* The canonical bytes of entry `seq` in a new *buf of *len + 1 bytes from
 * d->mem (MG_ENOTFOUND when there is none). */
mg_status audit_db_entry(audit_db *d, uint64_t seq, uint8_t **buf, size_t *len,
                         mg_error *err);
/* The checkpoint of tree size `size` (0: the latest): its size, the root
 * stored beside it and a new copy of its signed note from d->mem
 * (am_free_str). */
mg_status audit_db_read_checkpoint(audit_db *d, uint64_t size, uint64_t *got,
                                   uint8_t root[AUDIT_HASH], char **note, mg_error *err);

/* Appends raw entries (already encoded, seq = current size onward) in one
 * transaction; a checkpoint is added in the same transaction when
 * `checkpoint` is set. Used by the record path and by the vector tests. */
mg_status audit_db_append_raw(audit_db *d, const uint8_t *const *entries,
                              const size_t *lens, size_t n, bool checkpoint,
                              int64_t now, mg_error *err);
/* Encodes and appends records (subjects already pseudonymized) in one
 * transaction, then a checkpoint if `checkpoint`: audit_db_stage then
 * audit_db_commit. */
mg_status audit_db_append(audit_db *d, audit_rec *const *recs, size_t n,
                          int64_t now, bool checkpoint, mg_error *err);
/* A batch in two steps, so that the work before the transaction can grow
 * with the records that arrive meanwhile. audit_db_stage encodes records
 * (subjects already pseudonymized; processing time `now`) and hashes their
 * leaves, outside any transaction; the records must stay unchanged until
 * the commit. audit_db_commit writes everything staged in one transaction
 * (the tree nodes are hashed on the pool's helper meanwhile; then a
 * checkpoint if asked) and only then moves the tree forward;
 * audit_db_discard drops what is staged. On any failure nothing staged is
 * kept and the in-memory state is as before the first stage. */
mg_status audit_db_stage(audit_db *d, audit_rec *const *recs, size_t n, int64_t now,
                         mg_error *err);
mg_status audit_db_commit(audit_db *d, int64_t now, bool checkpoint, mg_error *err);
void audit_db_discard(audit_db *d);
/* Entries staged and not yet committed. */
size_t audit_db_staged(const audit_db *d);
/* Signs and stores a checkpoint of the current tree (no-op if one exists
 * for this size). */
mg_status audit_db_checkpoint(audit_db *d, int64_t now, mg_error *err);
/* A checkpoint of the tree as it is even if one of its size exists: the
 * same tree head signed again at `now` (its time line), which replaces the
 * stored one of that size. Nothing for an empty log or staged entries. */
mg_status audit_db_refresh_checkpoint(audit_db *d, int64_t now, mg_error *err);

/* ======================================================================
 * Verification (verify.c) and key files
 * ====================================================================== */

/* Reads a pinned key file: one "vkey [until N]" per line, '#' comments. */
mg_status audit_keys_load(const char *path, audit_vkey **keys, size_t *n,
                          mg_error *err);
mg_status audit_keys_parse(const char *text, size_t len, const char *file,
                           audit_vkey **keys, size_t *n, mg_error *err);


/* A private key file: refused if group or others may read it. */
mg_status audit_skey_load(const char *path, audit_skey *out, mg_error *err);

/* ======================================================================
 * The log handle: ring and writer thread (ring.c), API (api.c)
 * ====================================================================== */

struct mg_audit_log {
    audit_mem mem;              /* mg_audit_config.alloc: the handle's memory */
    audit_db db;
    audit_keystore *ks;
    pthread_mutex_t db_lock;    /* the SQLite connections and db state */
    pthread_mutex_t mu;         /* the ring and the fields below */
    pthread_cond_t work;        /* signals the writer */
    pthread_cond_t done;        /* signals waiters: head moved or failure */
    audit_rec *ring;
    uint64_t cap;
    uint64_t head;              /* first seq not yet durable */
    uint64_t tail;              /* next seq to hand out */
    mg_status failed;           /* MG_OK, or the write failure */
    char failmsg[512];
    bool stop;
    bool has_writer;
    pthread_t writer;
    uint32_t cp_every;
    uint32_t cp_ms;
    uint32_t idle_ms;           /* a fresh checkpoint this long after the last */
    int64_t (*clock)(void *ud);
    void *clock_ud;
};

int64_t audit_now(const mg_audit_log *log);

#endif
