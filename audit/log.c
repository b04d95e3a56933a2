/*
 * log.c — the audit log on SQLite: schema, state, appends and checkpoints.
 *
 * Every append runs in one transaction holding the entries, the tree nodes
 * they complete, the new state row and, when due, the signed checkpoint
 * (group commit). The frontier of the tree is kept in memory and reloaded
 * from the nodes table on open, so an append costs O(log n). A failed
 * transaction is rolled back and the in-memory state restored, so nothing
 * is reported durable that has not committed.
 *
 * A batch is staged before its transaction (encoded, leaves hashed on two
 * threads), its nodes are hashed on the helper thread while the writer
 * inserts its entries, and WAL checkpoints run on a thread of their own
 * (see "The writer" below).
 *
 * One writer at a time: a writer holds the writer lock (see writer_lock)
 * from open to close, and every write transaction checks that the stored
 * size is the one its frontier has.
 */
#define _DEFAULT_SOURCE         /* flock(2) */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "audit/audit.h"
#include "stdlib/error.h"


/* Statements from ST_GET_NODE on only read: a read-only handle prepares
 * those alone, once, and proofs reuse them. */
enum { ST_ENTRY, ST_NODE, ST_STATE, ST_CP, ST_GET_NODE, ST_GET_LEAF, ST_GET_ENTRY, ST_CP_AT,
       ST_CP_LATEST, ST_READ_BEGIN, ST_READ_END, ST_COUNT };

static const char *const sql_st[ST_COUNT] = {
    [ST_ENTRY] = "INSERT OR ROLLBACK INTO entries(seq, event_time, kind, product, port, subject,"
                 " action, effect, entry, leaf)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_NODE] = "INSERT OR ROLLBACK INTO nodes(level, idx, hash) VALUES (?1, ?2, ?3)",
    [ST_GET_NODE] = "SELECT hash FROM nodes WHERE level = ?1 AND idx = ?2",
    [ST_STATE] = "UPDATE state SET size = ?1, last_proc_time = ?2, cp_size = ?3, cp_time = ?4"
                 " WHERE id = 1",
    /* A checkpoint of a size already signed is the same tree head signed
     * later (audit_db_refresh_checkpoint): the newer note replaces it. */
    [ST_CP] = "INSERT OR REPLACE INTO checkpoints(size, root, time, note) VALUES (?1, ?2, ?3, ?4)",
    [ST_GET_LEAF] = "SELECT leaf FROM entries WHERE seq = ?1",
    [ST_GET_ENTRY] = "SELECT entry FROM entries WHERE seq = ?1",
    [ST_CP_AT] = "SELECT size, root, note FROM checkpoints WHERE size = ?1",
    [ST_CP_LATEST] = "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1",
    [ST_READ_BEGIN] = "BEGIN",
    [ST_READ_END] = "COMMIT",
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS state(id INTEGER PRIMARY KEY CHECK (id = 1),"
    " version INTEGER NOT NULL, origin TEXT NOT NULL, size INTEGER NOT NULL,"
    " last_proc_time INTEGER NOT NULL, cp_size INTEGER NOT NULL, cp_time INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS entries(seq INTEGER PRIMARY KEY,"
    " event_time INTEGER NOT NULL, kind TEXT NOT NULL, product TEXT NOT NULL,"
    " port TEXT NOT NULL, subject TEXT NOT NULL, action TEXT NOT NULL, effect TEXT NOT NULL,"
    " entry BLOB NOT NULL, leaf BLOB);"
    "CREATE TABLE IF NOT EXISTS nodes(level INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS checkpoints(size INTEGER PRIMARY KEY, root BLOB NOT NULL,"
    " time INTEGER NOT NULL, note TEXT NOT NULL);";

typedef struct audit_writer audit_writer;
static mg_status writer_open(audit_db *d, bool sync_full, mg_error *err);
static void writer_close(audit_db *d);

mg_status audit_db_error(sqlite3 *db, const char *path, const char *what, mg_error *err)
{
    int rc = db ? sqlite3_errcode(db) & 0xff : SQLITE_NOMEM;
    mg_status code = rc == SQLITE_NOMEM ? MG_ENOMEM :
                     rc == SQLITE_FULL || rc == SQLITE_IOERR || rc == SQLITE_CANTOPEN ? MG_EIO :
                     MG_EDB;
    return mg_error_set(err, code, path, 0, 0, "%s: %s", what,
                        db ? sqlite3_errmsg(db) : "out of memory");
}

static mg_status db_err(audit_db *d, const char *what, mg_error *err)
{
    return audit_db_error(d->db, d->path, what, err);
}

int audit_sqlite_has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static mg_status exec(audit_db *d, const char *sql, const char *what, mg_error *err)
{
    return sqlite3_exec(d->db, sql, NULL, NULL, NULL) == SQLITE_OK ? MG_OK
                                                                    : db_err(d, what, err);
}

static mg_status read_state(audit_db *d, bool *found, mg_error *err)
{
    sqlite3_stmt *st;
    *found = false;
    if (sqlite3_prepare_v2(d->db, "SELECT version, origin, size, last_proc_time, cp_size,"
                           " cp_time FROM state WHERE id = 1", -1, &st, NULL) != SQLITE_OK)
        return db_err(d, "reading the log state", err);
    mg_status s = MG_OK;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const char *origin = (const char *)sqlite3_column_text(st, 1);
        int version = sqlite3_column_int(st, 0);
        if (version < AUDIT_SCHEMA_OLDEST || version > AUDIT_SCHEMA_VERSION || !origin ||
            sqlite3_column_int64(st, 2) < 0 || sqlite3_column_int64(st, 4) < 0) {
            s = mg_error_set(err, MG_EFORMAT, d->path, 0, 0,
                             "not a meshgov audit log of version %d to %d", AUDIT_SCHEMA_OLDEST,
                             AUDIT_SCHEMA_VERSION);
        } else if (!(d->origin = am_strdup(&d->mem, origin))) {
            s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
        } else {
            *found = true;
            d->version = version;
            d->fr.size = (uint64_t)sqlite3_column_int64(st, 2);
            d->last_proc = sqlite3_column_int64(st, 3);
            d->cp_size = (uint64_t)sqlite3_column_int64(st, 4);
            d->cp_time = sqlite3_column_int64(st, 5);
        }
    } else if (rc != SQLITE_DONE) {
        s = db_err(d, "reading the log state", err);
    }
    sqlite3_finalize(st);
    return s;
}

/* Version 2 kept a payload column, a copy of what the hashed entry holds
 * that nothing read: dropping it leaves the entries, the tree and the
 * checkpoints as they were, so the log verifies against the same pins. It
 * rewrites the entries table once, in the open's transaction. */
static mg_status upgrade(audit_db *d, mg_error *err)
{
    mg_status s = exec(d, "ALTER TABLE entries DROP COLUMN payload; UPDATE state SET version = 3",
                       "upgrading the log to version 3", err);
    if (s == MG_OK)
        d->version = AUDIT_SCHEMA_VERSION;
    return s;
}

static mg_status create_state(audit_db *d, const char *origin, mg_error *err)
{
    if (!origin || !*origin || strchr(origin, '\n') || strlen(origin) > AUDIT_MAX_LINE)
        return mg_error_set(err, MG_EINVAL, d->path, 0, 0,
                            "a new audit log needs an origin (one line, at most %d bytes)",
                            AUDIT_MAX_LINE);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, "INSERT INTO state(id, version, origin, size,"
                           " last_proc_time, cp_size, cp_time) VALUES (1, ?1, ?2, 0, 0, 0, 0)",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(d, "creating the log", err);
    sqlite3_bind_int(st, 1, AUDIT_SCHEMA_VERSION);
    sqlite3_bind_text(st, 2, origin, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_err(d, "creating the log", err);
    if (!(d->origin = am_strdup(&d->mem, origin)))
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    d->version = AUDIT_SCHEMA_VERSION;
    return MG_OK;
}

/* ======================================================================
 * The writer lock
 * ====================================================================== */

/* Each writer keeps the tree's frontier in memory, so two writers on one
 * log would each append to their own idea of the tree and fork it. A
 * writer therefore holds an exclusive flock(2) on "<database>-writer.lock"
 * from open to close. The kernel drops it when the process dies, SIGKILL
 * included, so a crashed writer never keeps the next one out.
 *
 * Why a file beside the database, and why flock rather than fcntl:
 * - SQLite locks the database file itself with POSIX fcntl() locks, and
 *   POSIX drops all the locks a process holds on a file as soon as it
 *   closes any descriptor of that file. A descriptor of our own on the
 *   database would, once closed, silently release the locks of every
 *   SQLite connection of this process to it, a reader's included. A
 *   separate file cannot touch them.
 * - A flock belongs to the open file description, not to the process: a
 *   second writer handle in the same process is refused as well (a POSIX
 *   lock would let it in), and closing some other descriptor of the lock
 *   file does not drop it. A child forked without exec shares the
 *   description, and so the lock, until it exits; O_CLOEXEC keeps it from
 *   programs it executes.
 * - The file is named from the path SQLite resolved (symbolic links
 *   followed), where its -wal and -shm files live, so two paths to one
 *   database meet at one lock.
 * The file is never deleted: removing a lock file races with a process
 * that has just opened it. Readers take no lock. */
static mg_status writer_lock(audit_db *d, mg_error *err)
{
    const char *db = sqlite3_db_filename(d->db, "main");
    if (!db || !*db)
        db = d->path;
    size_t n = strlen(db) + sizeof "-writer.lock";
    char *lock = am_alloc(&d->mem, n);
    if (!lock)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    snprintf(lock, n, "%s-writer.lock", db);
    mg_status s = MG_OK;
    int fd = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        s = mg_error_set(err, MG_EIO, d->path, 0, 0, "cannot open the writer lock %s: %s",
                         lock, strerror(errno));
    else if (flock(fd, LOCK_EX | LOCK_NB) != 0)
        s = errno == EWOULDBLOCK
                ? mg_error_set(err, MG_EBUSY, d->path, 0, 0,
                               "another process or handle has this audit log open for writing "
                               "(%s is locked); open it without a signing key to read it", lock)
                : mg_error_set(err, MG_EIO, d->path, 0, 0, "cannot lock %s: %s", lock,
                               strerror(errno));
    if (s == MG_OK) {
        d->lock_fd = fd;
        d->locked = true;
    } else if (fd >= 0) {
        close(fd);
    }
    am_free(&d->mem, lock, n);
    return s;
}

/* "file:<path>?immutable=1", with the characters a URI path may not hold
 * as they are percent-encoded; NULL without memory. */
static char *immutable_uri(const audit_mem *m, const char *path, size_t *size)
{
    static const char tail[] = "?immutable=1";
    *size = 7 + 3 * strlen(path) + sizeof tail;
    char *uri = am_alloc(m, *size), *o = uri;
    if (!uri)
        return NULL;
    /* An absolute path gets an empty authority: "//x" is not a host. */
    o += sprintf(o, path[0] == '/' ? "file://" : "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        o += *p == '%' || *p == '?' || *p == '#' ? sprintf(o, "%%%02X", *p)
                                                  : (*o = (char)*p, 1);
    memcpy(o, tail, sizeof tail);
    return uri;
}

mg_status audit_open_read_only(const audit_mem *m, const char *path, sqlite3 **db,
                               mg_error *err)
{
    int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK)
        return audit_db_error(*db, path, "cannot open the audit log", err);
    sqlite3_busy_timeout(*db, 5000);   /* a writer's checkpoint may hold a lock briefly */
    int rc = sqlite3_exec(*db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) & 0xff;
    if (rc != SQLITE_READONLY && rc != SQLITE_CANTOPEN)
        return MG_OK;      /* readable, or not a database: later reads say which */
    /* SQLite keeps the -wal file beside the file a link points to. */
    char *real = realpath(path, NULL);
    const char *file = real ? real : path;
    size_t n = strlen(file) + sizeof "-wal";
    char *wal = am_alloc(m, n);
    if (wal)
        snprintf(wal, n, "%s-wal", file);
    free(real);
    if (!wal)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    struct stat st;
    bool pending = stat(wal, &st) == 0 && st.st_size > 0;
    am_free(m, wal, n);
    /* Committed entries wait in the WAL: never read the file without them. */
    if (pending)
        return mg_error_set(err, MG_EIO, path, 0, 0,
                            "its -wal file holds entries and SQLite cannot create the -shm file "
                            "it needs beside them: copy the log and its -wal file to a directory "
                            "you may write");
    size_t size;
    char *uri = immutable_uri(m, path, &size);
    if (!uri)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    sqlite3_close(*db);
    rc = sqlite3_open_v2(uri, db, flags | SQLITE_OPEN_URI, NULL);
    am_free(m, uri, size);
    sqlite3_busy_timeout(*db, 5000);
    return rc == SQLITE_OK ? MG_OK : audit_db_error(*db, path, "cannot open the audit log", err);
}

mg_status audit_db_open(audit_db *d, const audit_mem *mem, const char *path,
                        const char *origin, bool read_only, bool sync_full, mg_error *err)
{
    memset(d, 0, sizeof *d);
    d->mem = mem ? *mem : audit_mem_of(NULL, NULL);
    d->read_only = read_only;
    if (!(d->path = am_strdup(&d->mem, path)))
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    /* Every use of the connection holds the handle's db_lock, so SQLite's
     * own per-call mutex is not needed. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    mg_status s;
    if (read_only) {
        if ((s = audit_open_read_only(&d->mem, path, &d->db, err)) != MG_OK)
            goto fail;
    } else if (sqlite3_open_v2(path, &d->db, flags, NULL) != SQLITE_OK) {
        s = db_err(d, "cannot open the audit log", err);
        goto fail;
    }
    sqlite3_busy_timeout(d->db, 5000);
    /* SQLite opens a file it may not write read-only without a word; the
     * first commit would fail long after decisions were queued. */
    if (!read_only && sqlite3_db_readonly(d->db, "main") == 1) {
        s = mg_error_set(err, MG_EIO, path, 0, 0, "cannot write the audit log: the file is "
                         "read-only (open it without a signing key to read it)");
        goto fail;
    }
    if (!read_only && (s = writer_lock(d, err)) != MG_OK)
        goto fail;
    /* A key store links people to pseudonyms; entries written beside that
     * table would hand it to every auditor who receives the log. */
    if (!read_only) {
        int ks = audit_sqlite_has_table(d->db, "pseudonyms");
        if (ks != 0) {
            s = ks < 0 ? db_err(d, "cannot open the audit log", err)
                       : mg_error_set(err, MG_EINVAL, path, 0, 0, "this is a key store (it has "
                                      "a pseudonyms table), not an audit log");
            goto fail;
        }
    }
    if (!read_only) {
        /* 16 KiB pages: a batch's pages reach the WAL in a quarter of the
         * writes. Only takes effect when the file is created. */
        if ((s = exec(d, "PRAGMA page_size=16384", "setting the page size", err)) != MG_OK ||
            (s = exec(d, "PRAGMA journal_mode=WAL", "setting WAL mode", err)) != MG_OK ||
            (s = exec(d, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                      "setting synchronous", err)) != MG_OK ||
            /* The tail pages of entries and nodes stay cached between commits. */
            (s = exec(d, "PRAGMA cache_size=-16384", "setting the cache size", err)) != MG_OK ||
            (s = exec(d, "BEGIN IMMEDIATE", "creating the schema", err)) != MG_OK)
            goto fail;
        s = exec(d, SCHEMA, "creating the schema", err);
    }
    bool found = false;
    if (s == MG_OK || read_only)
        s = read_state(d, &found, err);
    if (s == MG_OK && !found)
        s = read_only ? mg_error_set(err, MG_EFORMAT, path, 0, 0, "not a meshgov audit log")
                      : create_state(d, origin, err);
    if (s == MG_OK && found && origin && strcmp(origin, d->origin) != 0)
        s = mg_error_set(err, MG_EINVAL, path, 0, 0, "the log's origin is \"%s\", not \"%s\"",
                         d->origin, origin);
    if (s == MG_OK && found && !read_only && d->version < AUDIT_SCHEMA_VERSION)
        s = upgrade(d, err);
    if (!read_only)
        s = s == MG_OK ? exec(d, "COMMIT", "creating the schema", err)
                       : (sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL), s);
    if (s != MG_OK)
        goto fail;
    /* A reader serves proofs. Their nodes come from the leaves of the
     * entry's block and the levels held in memory (api.c); SQLite's cache
     * keeps the interior pages of the entries' b-tree, so that a proof
     * reads only its entry's page and at most one more. 32 MiB holds them
     * at 10,000,000 entries; each page of cache costs page faults when it
     * is first filled, so it is no larger. */
    if (read_only && (s = exec(d, "PRAGMA cache_size=-32768", "setting the cache size",
                               err)) != MG_OK)
        goto fail;
    for (int i = 0; i < ST_COUNT; i++) {
        if (read_only && i < ST_GET_NODE)
            continue;
        if (sqlite3_prepare_v3(d->db, sql_st[i], -1, SQLITE_PREPARE_PERSISTENT, &d->st[i],
                               NULL) != SQLITE_OK) {
            s = db_err(d, "preparing statements", err);
            goto fail;
        }
    }
    if (!read_only && (s = writer_open(d, sync_full, err)) != MG_OK)
        goto fail;
    uint64_t size = d->fr.size;
    if ((s = audit_frontier_load(&d->fr, size, audit_db_node, d, err)) != MG_OK)
        goto fail;
    return MG_OK;
fail:
    audit_db_close(d);
    return s;
}

void audit_db_close(audit_db *d)
{
    audit_pcache_free(&d->mem, d->pc);
    writer_close(d);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(d->st[i]);
    sqlite3_close(d->db);
    if (d->locked)
        close(d->lock_fd);
    am_free_str(&d->mem, d->path);
    am_free_str(&d->mem, d->origin);
    if (d->signers)
        sodium_memzero(d->signers, d->n_signers * sizeof *d->signers);
    am_free(&d->mem, d->signers, d->signers_room * sizeof *d->signers);
    memset(d, 0, sizeof *d);
}

mg_status audit_db_node(void *ud, unsigned level, uint64_t index,
                        uint8_t out[AUDIT_HASH], mg_error *err)
{
    audit_db *d = ud;
    /* Leaf hashes are stored with their entries, the rest in nodes. */
    sqlite3_stmt *st = d->st[level ? ST_GET_NODE : ST_GET_LEAF];
    if (level) {
        sqlite3_bind_int(st, 1, (int)level);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    } else {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)index);
    }
    int rc = sqlite3_step(st);
    mg_status s = MG_OK;
    if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == AUDIT_HASH)
        memcpy(out, sqlite3_column_blob(st, 0), AUDIT_HASH);
    else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        s = mg_error_set(err, MG_EINTEGRITY, d->path, 0, 0,
                         "tree node (level %u, index %llu) is missing or malformed", level,
                         (unsigned long long)index);
    else
        s = db_err(d, "reading a tree node", err);
    sqlite3_reset(st);
    return s;
}

/* ======================================================================
 * The writer: staging and committing batches
 * ====================================================================== */

/* Rows per multi-row INSERT. One statement step per 32 entries (or
 * nodes) instead of one per row pays SQLite's per-statement work (the VM's
 * set-up and halt, cursor opening) once for all of them. The inserts are
 * INSERT OR ROLLBACK: a multi-row INSERT that could abort half-way would
 * make SQLite keep a statement journal, a copy of every page it touches;
 * any failure rolls the whole batch back anyway. */
#define ROWS 32
#define ENTRY_COLS 10

/* A node of level 1 or above that a staged entry completes. */
typedef struct node_row {
    uint64_t idx;
    unsigned level;
    uint8_t h[AUDIT_HASH];
} node_row;

/* The in-memory part of the state, saved so a rollback can restore it. */
typedef struct saved {
    audit_frontier fr;
    int64_t last_proc;
    uint64_t cp_size;
    int64_t cp_time;
} saved;

/* WAL frames (pages) after which the checkpointer copies the WAL back into
 * the database: SQLite's own default threshold. */
#define CKPT_FRAMES 1000

/* WAL checkpoints run on a thread of their own, on a connection of their
 * own. SQLite's automatic checkpoint runs inside the COMMIT that crosses
 * the threshold, on the writer thread: every ~16 MB of WAL, one commit
 * also read the WAL back, wrote it into the database and synced both,
 * and the appends waiting behind it waited for that too. The writer
 * connection turns it off (its WAL hook replaces the automatic one) and
 * after each commit only tells this thread how long the WAL is. A
 * checkpoint is no part of durability: a committed transaction is durable
 * in the WAL already.
 *
 * The checkpoint is PASSIVE, which never blocks the writer or a reader,
 * and runs twice. The first copies the bulk of the WAL while commits go
 * on. The second runs between two commits (it holds commit_mu), so it
 * catches up completely, copying only what was committed meanwhile: only
 * a WAL copied completely is restarted from its beginning by the next
 * transaction, so without it the WAL of a busy log would grow without
 * bound. Only that short second pass ever holds up a commit. */
typedef struct checkpointer {
    sqlite3 *db;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t *commit_mu;
    int last, next;             /* WAL frames at the last commit; the
                                   length that calls for a checkpoint */
    bool due, stop, running;
} checkpointer;

/* A writer's own statements, and the batch it is staging. The buffers are
 * kept from batch to batch, so appending allocates only when a batch is
 * larger than every one before it. */
struct audit_writer {
    pthread_mutex_t commit_mu;  /* held by each write transaction */
    checkpointer ck;
    sqlite3_stmt *size;         /* the stored tree size */
    sqlite3_stmt *entries;      /* INSERT of ROWS entries */
    sqlite3_stmt *nodes;        /* INSERT of ROWS nodes */
    saved sv;                   /* the state before the first staged entry */
    audit_frontier fr;          /* the tree with every staged entry */
    size_t n, cap;              /* entries staged, and room for */
    audit_entry *e;             /* fields point into the caller's records */
    size_t *off, *len;          /* each entry's canonical bytes in `bytes` */
    uint8_t (*leaf)[AUDIT_HASH];
    const uint8_t **ptr;        /* the entries of one stage, for the hash pool */
    uint8_t *bytes;
    size_t used, bytes_cap;
    node_row *node;             /* room for cap + 64: n entries complete at
                                   most n + 63 nodes */
    size_t n_nodes;
    mg_status nodes_status;     /* of stage_nodes */
};

static void save(const audit_db *d, saved *s)
{
    s->fr = d->fr;
    s->last_proc = d->last_proc;
    s->cp_size = d->cp_size;
    s->cp_time = d->cp_time;
}

static void restore(audit_db *d, const saved *s)
{
    d->fr = s->fr;
    d->last_proc = s->last_proc;
    d->cp_size = s->cp_size;
    d->cp_time = s->cp_time;
}

/* The length of rows_sql's text, with its NUL. */
static size_t rows_sql_len(const char *head, int cols, int rows)
{
    return strlen(head) + (size_t)rows * ((size_t)cols * 2 + 3) + 1;
}

/* "INSERT ... VALUES (?, ...), ..." for `rows` rows of `cols` columns. */
static char *rows_sql(const audit_mem *m, const char *head, int cols, int rows)
{
    char *sql = am_alloc(m, rows_sql_len(head, cols, rows)), *p = sql;
    if (!sql)
        return NULL;
    p += sprintf(p, "%s", head);
    for (int r = 0; r < rows; r++) {
        *p++ = r ? ',' : ' ';
        *p++ = '(';
        for (int c = 0; c < cols; c++) {
            *p++ = '?';
            *p++ = c + 1 < cols ? ',' : ')';
        }
    }
    *p = '\0';
    return sql;
}

static mg_status prepare_one(audit_db *d, const char *sql, sqlite3_stmt **st, mg_error *err)
{
    if (!sql)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    if (sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
        return db_err(d, "preparing statements", err);
    return MG_OK;
}

static void *ckpt_main(void *arg)
{
    checkpointer *c = arg;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->due && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        c->due = false;
        pthread_mutex_unlock(&c->mu);
        /* A failed checkpoint only leaves the WAL longer; the next one
         * retries. (SQLite's automatic checkpoint ignores failures too.) */
        sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(c->commit_mu);
        sqlite3_wal_checkpoint_v2(c->db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_unlock(c->commit_mu);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Called by SQLite after each commit of the writer connection, with the
 * WAL's length in frames. A checkpoint is due once it has grown by
 * CKPT_FRAMES since it was last restarted or last asked for one (a WAL
 * still held by a reader is not restarted: asking again at once would
 * only copy nothing). */
static int ckpt_hook(void *ud, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    checkpointer *c = ud;
    if (frames < c->last)
        c->next = CKPT_FRAMES;  /* restarted */
    c->last = frames;
    if (frames >= c->next) {
        c->next = frames + CKPT_FRAMES;
        pthread_mutex_lock(&c->mu);
        c->due = true;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
    return SQLITE_OK;
}

static mg_status ckpt_start(audit_db *d, checkpointer *c, bool sync_full, mg_error *err)
{
    const char *file = sqlite3_db_filename(d->db, "main");
    if (sqlite3_open_v2(file && *file ? file : d->path, &c->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_exec(c->db, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
                     NULL, NULL, NULL) != SQLITE_OK)
        return audit_db_error(c->db, d->path, "opening the checkpoint connection", err);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->commit_mu = &d->w->commit_mu;
    c->next = CKPT_FRAMES;
    if (pthread_create(&c->th, NULL, ckpt_main, c) != 0) {
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "cannot start the checkpoint thread");
    }
    c->running = true;
    sqlite3_wal_hook(d->db, ckpt_hook, c);
    return MG_OK;
}

/* Before the writer connection closes: that close, the last, then does
 * the final checkpoint and removes the WAL, as before. */
static void ckpt_stop(checkpointer *c)
{
    if (c->running) {
        pthread_mutex_lock(&c->mu);
        c->stop = true;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->th, NULL);
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        c->running = false;
    }
    sqlite3_close(c->db);
    c->db = NULL;
}

static mg_status writer_open(audit_db *d, bool sync_full, mg_error *err)
{
    static const char ehead[] = "INSERT OR ROLLBACK INTO entries(seq, event_time, kind, product,"
                                " port, subject, action, effect, entry, leaf) VALUES",
                      nhead[] = "INSERT OR ROLLBACK INTO nodes(level, idx, hash) VALUES";
    if (!(d->w = am_calloc(&d->mem, 1, sizeof *d->w)))
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    pthread_mutex_init(&d->w->commit_mu, NULL);
    char *entries = rows_sql(&d->mem, ehead, ENTRY_COLS, ROWS);
    char *nodes = rows_sql(&d->mem, nhead, 3, ROWS);
    mg_status s = !entries || !nodes ? mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory")
                                     : prepare_one(d, "SELECT size FROM state WHERE id = 1",
                                                   &d->w->size, err);
    if (s == MG_OK)
        s = prepare_one(d, entries, &d->w->entries, err);
    if (s == MG_OK)
        s = prepare_one(d, nodes, &d->w->nodes, err);
    am_free(&d->mem, entries, rows_sql_len(ehead, ENTRY_COLS, ROWS));
    am_free(&d->mem, nodes, rows_sql_len(nhead, 3, ROWS));
    if (s == MG_OK)
        s = ckpt_start(d, &d->w->ck, sync_full, err);
    return s;
}

static void writer_close(audit_db *d)
{
    audit_writer *w = d->w;
    if (!w)
        return;
    sqlite3_wal_hook(d->db, NULL, NULL);
    ckpt_stop(&w->ck);
    sqlite3_finalize(w->size);
    sqlite3_finalize(w->entries);
    sqlite3_finalize(w->nodes);
    const audit_mem *m = &d->mem;
    am_free(m, w->e, w->cap * sizeof *w->e);
    am_free(m, w->off, w->cap * sizeof *w->off);
    am_free(m, w->len, w->cap * sizeof *w->len);
    am_free(m, w->leaf, w->cap * sizeof *w->leaf);
    am_free(m, w->ptr, w->cap * sizeof *w->ptr);
    am_free(m, w->bytes, w->bytes_cap);
    am_free(m, w->node, (w->cap + 64) * sizeof *w->node);
    pthread_mutex_destroy(&w->commit_mu);
    am_free(m, w, sizeof *w);
}

/* Room for n staged entries and `bytes` bytes of them. The arrays are
 * replaced all together or not at all, so w->cap always gives their sizes
 * (the node array has 64 more slots). */
static mg_status reserve(const audit_mem *m, audit_writer *w, size_t n, size_t bytes,
                         mg_error *err)
{
    if (n > w->cap) {
        size_t cap = w->cap ? w->cap : 256, old = w->cap, old_nodes = old ? old + 64 : 0;
        while (cap < n)
            cap *= 2;
        audit_entry *e = am_alloc(m, cap * sizeof *e);
        size_t *off = am_alloc(m, cap * sizeof *off), *len = am_alloc(m, cap * sizeof *len);
        uint8_t (*leaf)[AUDIT_HASH] = am_alloc(m, cap * sizeof *leaf);
        const uint8_t **ptr = am_alloc(m, cap * sizeof *ptr);
        node_row *node = am_alloc(m, (cap + 64) * sizeof *node);
        if (!e || !off || !len || !leaf || !ptr || !node) {
            am_free(m, e, cap * sizeof *e);
            am_free(m, off, cap * sizeof *off);
            am_free(m, len, cap * sizeof *len);
            am_free(m, leaf, cap * sizeof *leaf);
            am_free(m, ptr, cap * sizeof *ptr);
            am_free(m, node, (cap + 64) * sizeof *node);
            goto oom;
        }
#define MOVE(f, count) \
        if (count) \
            memcpy(f, w->f, (count) * sizeof *f); \
        am_free(m, w->f, (count) * sizeof *f); \
        w->f = f;
        MOVE(e, old)
        MOVE(off, old)
        MOVE(len, old)
        MOVE(leaf, old)
        MOVE(ptr, old)
        MOVE(node, old_nodes)
#undef MOVE
        w->cap = cap;
    }
    if (bytes > w->bytes_cap || !w->bytes) {
        size_t cap = w->bytes_cap ? w->bytes_cap : 65536;
        while (cap < bytes)
            cap *= 2;
        uint8_t *p = am_resize(m, w->bytes, w->bytes_cap, cap);
        if (!p)
            goto oom;
        w->bytes = p;
        w->bytes_cap = cap;
    }
    return MG_OK;
oom:
    return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
}

size_t audit_db_staged(const audit_db *d)
{
    return d->w ? d->w->n : 0;
}

void audit_db_discard(audit_db *d)
{
    audit_writer *w = d->w;
    if (!w || w->n == 0)
        return;
    restore(d, &w->sv);
    w->n = w->n_nodes = w->used = 0;
}

/* Processing time never goes backwards within a log. */
static int64_t proc_time(audit_db *d, int64_t now)
{
    if (now > d->last_proc)
        d->last_proc = now;
    return d->last_proc;
}

static mg_status stage_node(void *ud, unsigned level, uint64_t index,
                            const uint8_t h[AUDIT_HASH], mg_error *err)
{
    (void)err;
    audit_writer *w = ud;
    if (level == 0)
        return MG_OK;           /* stored in the entry's row */
    node_row *r = &w->node[w->n_nodes++];
    r->level = level;
    r->idx = index;
    memcpy(r->h, h, AUDIT_HASH);
    return MG_OK;
}

/* Starts a batch, or checks room for n more entries of `bytes` bytes. */
static mg_status stage_room(audit_db *d, size_t n, size_t bytes, mg_error *err)
{
    audit_writer *w = d->w;
    if (!w)
        return mg_error_set(err, MG_EINVAL, d->path, 0, 0, "the audit log is open read-only");
    if (w->n == 0) {
        save(d, &w->sv);
        w->fr = d->fr;
        w->used = w->n_nodes = 0;
    }
    mg_status s = reserve(&d->mem, w, w->n + n, w->used + bytes, err);
    if (s != MG_OK)
        audit_db_discard(d);
    return s;
}

/* Hashes the leaves of the n entries encoded after the staged ones, on
 * two threads, and counts them as staged. */
static mg_status stage_hash(audit_db *d, size_t n)
{
    audit_writer *w = d->w;
    for (size_t i = w->n; i < w->n + n; i++)
        w->ptr[i - w->n] = w->bytes + w->off[i];
    audit_hashpool_leaves(d->pool, w->ptr, w->len + w->n, n, w->leaf + w->n);
    w->n += n;
    return MG_OK;
}

/* The tree nodes that the staged leaves complete, and the tree after them:
 * run on the hash pool's helper while the writer inserts the entries. */
static void stage_nodes(void *arg)
{
    audit_writer *w = arg;
    w->n_nodes = 0;
    w->nodes_status = MG_OK;
    for (size_t i = 0; i < w->n && w->nodes_status == MG_OK; i++)
        w->nodes_status = audit_frontier_push(&w->fr, w->leaf[i], stage_node, w, NULL);
}

mg_status audit_db_stage(audit_db *d, audit_rec *const *recs, size_t n, int64_t now,
                         mg_error *err)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += AUDIT_ENTRY_FIXED;
        for (int f = 0; f < AUDIT_NFIELDS; f++)
            bytes += recs[i]->n[f];
    }
    mg_status s = stage_room(d, n, bytes, err);
    if (s != MG_OK)
        return s;
    audit_writer *w = d->w;
    for (size_t i = 0; i < n; i++) {
        size_t k = w->n + i;
        audit_entry *e = &w->e[k];
        e->seq = d->fr.size + k;
        e->event_time = recs[i]->event_time;
        e->proc_time = proc_time(d, now);
        for (int f = 0; f < AUDIT_NFIELDS; f++) {
            e->f[f] = audit_rec_field(recs[i], f);
            e->n[f] = recs[i]->n[f];
        }
        w->off[k] = w->used;
        w->len[k] = audit_entry_size(e);
        audit_entry_encode(e, w->bytes + w->used);
        w->used += w->len[k];
    }
    return stage_hash(d, n);
}

/* Raw entries: their columns are left empty (the vector tests). */
static mg_status stage_raw(audit_db *d, const uint8_t *const *entries, const size_t *lens,
                           size_t n, int64_t now, mg_error *err)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += lens[i];
    mg_status s = stage_room(d, n, bytes, err);
    if (s != MG_OK)
        return s;
    audit_writer *w = d->w;
    for (size_t i = 0; i < n; i++) {
        size_t k = w->n + i;
        memset(&w->e[k], 0, sizeof w->e[k]);
        w->e[k].seq = d->fr.size + k;
        w->e[k].proc_time = proc_time(d, now);
        w->off[k] = w->used;
        w->len[k] = lens[i];
        if (lens[i])
            memcpy(w->bytes + w->used, entries[i], lens[i]);
        w->used += lens[i];
    }
    return stage_hash(d, n);
}

/* The writer lock keeps a second writer out; this catches whatever gets
 * past it (a program that ignores the lock, a copy of the file restored
 * under a live writer, a hard link): inside the write transaction the
 * stored size must be the size of this writer's frontier, or nothing is
 * written. */
static mg_status check_size(audit_db *d, mg_error *err)
{
    sqlite3_stmt *st = d->w->size;
    int rc = sqlite3_step(st);
    uint64_t stored = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? mg_error_set(err, MG_EINTEGRITY, d->path, 0, 0,
                                                "the log state row is missing")
                                 : db_err(d, "reading the log state", err);
    if (stored != d->fr.size)
        return mg_error_set(err, MG_EINTEGRITY, d->path, 0, 0,
                            "the log holds %llu entries but this writer's tree has %llu: "
                            "another writer has changed it; nothing was written",
                            (unsigned long long)stored, (unsigned long long)d->fr.size);
    return MG_OK;
}

static mg_status begin(audit_db *d, mg_error *err)
{
    mg_status s = exec(d, "BEGIN IMMEDIATE", "starting a transaction", err);
    return s == MG_OK ? check_size(d, err) : s;
}

static mg_status finish(audit_db *d, mg_status s, const saved *sv, mg_error *err)
{
    if (s == MG_OK)
        s = exec(d, "COMMIT", "committing", err);
    if (s != MG_OK) {
        sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
        restore(d, sv);
    }
    return s;
}

/* Binds entry k of the batch to the columns of row r of st. */
static void bind_entry(sqlite3_stmt *st, int r, const audit_writer *w, size_t k)
{
    const audit_entry *e = &w->e[k];
    int at = r * ENTRY_COLS;
    sqlite3_bind_int64(st, at + 1, (sqlite3_int64)e->seq);
    sqlite3_bind_int64(st, at + 2, e->event_time);
    for (int i = 0; i < AUDIT_NCOLS; i++) {
        int f = audit_column_fields[i];
        sqlite3_bind_text(st, at + 3 + i, e->n[f] ? e->f[f] : "", (int)e->n[f], SQLITE_STATIC);
    }
    sqlite3_bind_blob(st, at + 3 + AUDIT_NCOLS, w->bytes + w->off[k], (int)w->len[k],
                      SQLITE_STATIC);
    sqlite3_bind_blob(st, at + 4 + AUDIT_NCOLS, w->leaf[k], AUDIT_HASH, SQLITE_STATIC);
}

static void bind_node(sqlite3_stmt *st, int r, const node_row *n)
{
    sqlite3_bind_int(st, r * 3 + 1, (int)n->level);
    sqlite3_bind_int64(st, r * 3 + 2, (sqlite3_int64)n->idx);
    sqlite3_bind_blob(st, r * 3 + 3, n->h, AUDIT_HASH, SQLITE_STATIC);
}

static void bind_node_at(sqlite3_stmt *st, int r, const audit_writer *w, size_t k)
{
    bind_node(st, r, &w->node[k]);
}

/* Inserts n staged rows, ROWS at a time through `many` and the rest one by
 * one through `one`; inside the transaction. */
static mg_status insert_rows(audit_db *d, size_t n, sqlite3_stmt *many, sqlite3_stmt *one,
                             void (*bind)(sqlite3_stmt *, int, const audit_writer *, size_t),
                             const char *what, mg_error *err)
{
    for (size_t i = 0; i < n;) {
        size_t k = n - i >= ROWS ? ROWS : 1;
        sqlite3_stmt *st = k == ROWS ? many : one;
        for (size_t r = 0; r < k; r++)
            bind(st, (int)r, d->w, i + r);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return db_err(d, what, err);
        i += k;
    }
    return MG_OK;
}

static mg_status insert_entries(audit_db *d, mg_error *err)
{
    audit_writer *w = d->w;
    return insert_rows(d, w->n, w->entries, d->st[ST_ENTRY], bind_entry, "appending an entry", err);
}

/* The nodes, once stage_nodes has run. */
static mg_status insert_nodes(audit_db *d, mg_error *err)
{
    audit_writer *w = d->w;
    if (w->nodes_status != MG_OK)
        return mg_error_set(err, w->nodes_status, d->path, 0, 0, "the tree is full");
    return insert_rows(d, w->n_nodes, w->nodes, d->st[ST_NODE], bind_node_at, "storing a tree node",
                       err);
}

static mg_status write_state(audit_db *d, mg_error *err)
{
    sqlite3_stmt *st = d->st[ST_STATE];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)d->fr.size);
    sqlite3_bind_int64(st, 2, d->last_proc);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)d->cp_size);
    sqlite3_bind_int64(st, 4, d->cp_time);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? MG_OK : db_err(d, "updating the log state", err);
}

/* Signs the current tree head and stores it; inside a transaction. */
static mg_status write_checkpoint(audit_db *d, int64_t now, mg_error *err)
{
    if (d->n_signers == 0)
        return mg_error_set(err, MG_ECRYPTO, d->path, 0, 0, "no checkpoint signing key");
    /* A checkpoint's time never goes back, nor behind the entries it
     * covers, even when the clock steps back. */
    if (now < d->last_proc)
        now = d->last_proc;
    if (now < d->cp_time)
        now = d->cp_time;
    uint8_t root[AUDIT_HASH];
    char body[AUDIT_MAX_LINE + 160];   /* origin, size, root and time lines */
    audit_frontier_root(&d->fr, root);
    size_t bl = audit_checkpoint_format(d->origin, d->fr.size, root, now, body, sizeof body);
    char *note = NULL;
    mg_status s = audit_note_sign(&d->mem, body, bl, d->signers, d->n_signers, &note, err);
    if (s != MG_OK)
        return s;
    sqlite3_stmt *st = d->st[ST_CP];
    sqlite3_bind_int64(st, 1, (sqlite3_int64)d->fr.size);
    sqlite3_bind_blob(st, 2, root, AUDIT_HASH, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, now);
    sqlite3_bind_text(st, 4, note, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    am_free_str(&d->mem, note);
    if (rc != SQLITE_DONE)
        return db_err(d, "storing a checkpoint", err);
    d->cp_size = d->fr.size;
    d->cp_time = now;
    return MG_OK;
}

mg_status audit_db_commit(audit_db *d, int64_t now, bool checkpoint, mg_error *err)
{
    audit_writer *w = d->w;
    if (!w)
        return mg_error_set(err, MG_EINVAL, d->path, 0, 0, "the audit log is open read-only");
    saved sv;
    if (w->n)
        sv = w->sv;
    else
        save(d, &sv);
    pthread_mutex_lock(&w->commit_mu);
    size_t n = w->n;
    if (n)
        audit_hashpool_run(d->pool, stage_nodes, w);
    mg_status s = begin(d, err);
    if (s == MG_OK && n)
        s = insert_entries(d, err);
    if (n)
        audit_hashpool_join(d->pool);
    if (s == MG_OK && n) {
        s = insert_nodes(d, err);
        d->fr = w->fr;
    }
    if (s == MG_OK && checkpoint)
        s = write_checkpoint(d, now, err);
    if (s == MG_OK)
        s = write_state(d, err);
    w->n = w->n_nodes = w->used = 0;
    s = finish(d, s, &sv, err);
    pthread_mutex_unlock(&w->commit_mu);
    return s;
}

mg_status audit_db_append_raw(audit_db *d, const uint8_t *const *entries,
                              const size_t *lens, size_t n, bool checkpoint,
                              int64_t now, mg_error *err)
{
    mg_status s = stage_raw(d, entries, lens, n, now, err);
    return s == MG_OK ? audit_db_commit(d, now, checkpoint, err) : s;
}

char *audit_rec_field(audit_rec *r, int i)
{
    switch (i) {
    case AUDIT_F_KIND: return r->kind;
    case AUDIT_F_PRODUCT: return r->product;
    case AUDIT_F_PORT: return r->port;
    case AUDIT_F_SUBJECT: return r->subject;
    case AUDIT_F_ACTION: return r->action;
    case AUDIT_F_EFFECT: return r->effect;
    case AUDIT_F_RULES: return r->rules;
    case AUDIT_F_MODE: return r->mode;
    case AUDIT_F_DIGEST: return r->digest;
    default: return r->payload;
    }
}

mg_status audit_db_append(audit_db *d, audit_rec *const *recs, size_t n,
                          int64_t now, bool checkpoint, mg_error *err)
{
    mg_status s = audit_db_stage(d, recs, n, now, err);
    return s == MG_OK ? audit_db_commit(d, now, checkpoint, err) : s;
}

mg_status audit_db_checkpoint(audit_db *d, int64_t now, mg_error *err)
{
    if (audit_db_staged(d) == 0 && (d->fr.size == 0 || d->cp_size == d->fr.size))
        return MG_OK;
    return audit_db_commit(d, now, true, err);
}

/* The signature lines of a signed note. */
static size_t note_signatures(const char *note)
{
    size_t n = 0;
    for (const char *p = strstr(note, "\n\n"); p && (p = strstr(p + 1, "\n\xe2\x80\x94 ")); n++)
        ;
    return n;
}

mg_status audit_db_refresh_checkpoint(audit_db *d, int64_t now, mg_error *err)
{
    if (audit_db_staged(d) != 0 || d->fr.size == 0)
        return MG_OK;
    /* The stored note may carry signatures the writer cannot make again:
     * the checkpoint of a key rotation, signed by the old key and the new.
     * Replacing it would drop the old key's word for the rotation, so that
     * tree head is not signed again; the next entry's checkpoint follows. */
    uint64_t got;
    uint8_t root[AUDIT_HASH];
    char *note = NULL;
    mg_status s = audit_db_read_checkpoint(d, d->fr.size, &got, root, &note, err);
    bool same_signers = s == MG_OK && note_signatures(note) == d->n_signers;
    am_free_str(&d->mem, note);
    if (s == MG_ENOTFOUND || (s == MG_OK && !same_signers))
        return MG_OK;
    return s != MG_OK ? s : audit_db_commit(d, now, true, err);
}

mg_status audit_db_entry(audit_db *d, uint64_t seq, uint8_t **buf, size_t *len, mg_error *err)
{
    sqlite3_stmt *st = d->st[ST_GET_ENTRY];
    *buf = NULL;
    *len = 0;
    sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    int rc = sqlite3_step(st);
    mg_status s = MG_OK;
    if (rc == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(st, 0);
        if (!(*buf = am_alloc(&d->mem, *len + 1)))
            s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
        else if (*len)
            memcpy(*buf, sqlite3_column_blob(st, 0), *len);
    } else {
        s = rc == SQLITE_DONE ? mg_error_set(err, MG_ENOTFOUND, d->path, 0, 0, "no entry %llu",
                                             (unsigned long long)seq)
                              : db_err(d, "reading an entry", err);
    }
    sqlite3_reset(st);
    return s;
}

mg_status audit_db_read_checkpoint(audit_db *d, uint64_t size, uint64_t *got,
                                   uint8_t root[AUDIT_HASH], char **note, mg_error *err)
{
    sqlite3_stmt *st = d->st[size ? ST_CP_AT : ST_CP_LATEST];
    *note = NULL;
    if (size)
        sqlite3_bind_int64(st, 1, (sqlite3_int64)size);
    int rc = sqlite3_step(st);
    mg_status s = MG_OK;
    if (rc == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 2);
        *got = (uint64_t)sqlite3_column_int64(st, 0);
        if (sqlite3_column_bytes(st, 1) != AUDIT_HASH)
            s = mg_error_set(err, MG_EINTEGRITY, d->path, 0, 0,
                             "checkpoint of tree size %llu has a malformed root",
                             (unsigned long long)*got);
        else if (!(*note = am_strdup(&d->mem, t ? t : "")))
            s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
        else
            memcpy(root, sqlite3_column_blob(st, 1), AUDIT_HASH);
    } else if (rc == SQLITE_DONE) {
        s = size ? mg_error_set(err, MG_ENOTFOUND, d->path, 0, 0,
                                "no checkpoint of tree size %llu", (unsigned long long)size)
                 : mg_error_set(err, MG_ENOTFOUND, d->path, 0, 0, "the log has no checkpoint");
    } else {
        s = db_err(d, "reading checkpoints", err);
    }
    sqlite3_reset(st);
    return s;
}

/* One read transaction around the many lookups of a proof: a snapshot, and
 * the file locks and page cache check are paid once, not per statement. */
mg_status audit_db_read_begin(audit_db *d, mg_error *err)
{
    sqlite3_stmt *st = d->st[ST_READ_BEGIN];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? MG_OK : db_err(d, "starting a read transaction", err);
}

void audit_db_read_end(audit_db *d)
{
    sqlite3_stmt *st = d->st[ST_READ_END];
    if (sqlite3_step(st) != SQLITE_DONE)
        sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_reset(st);
}
