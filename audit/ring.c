/*
 * ring.c — the log handle: the bounded in-memory ring of fixed-size records
 * that the decision path pushes into without waiting or allocating, and the
 * writer thread that drains it, replaces subjects by pseudonyms and
 * group-commits them (DESIGN.md "Audit log", durability).
 *
 * Sequence numbers are handed out at push time and equal the leaf index the
 * writer gives the record: the writer commits in push order, and after a
 * failed commit the log refuses everything (fail closed), so no number is
 * ever skipped or reused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sodium.h>
#include "audit/audit.h"
#include "stdlib/error.h"
#include "stdlib/stdlib.h"

/* Records committed in one transaction: everything waiting, up to this.
 * One commit (one fsync under synchronous=FULL) is the main cost of an
 * append, so the writer takes all it can. */
#define BATCH_MAX 4096

int64_t audit_now(const mg_audit_log *log)
{
    if (log->clock)
        return log->clock(log->clock_ud);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ======================================================================
 * Pushing
 * ====================================================================== */

static const char *field_of(const mg_audit_record *r, int i)
{
    const char *v[AUDIT_NFIELDS] = {
        r->kind, r->product, r->port, r->subject, r->action,
        r->effect, r->rules, r->mode, r->digest, r->payload,
    };
    return v[i] ? v[i] : "";
}

/* Lengths and encodings are checked before the lock is taken. */
static mg_status check_record(const mg_audit_log *log, const mg_audit_record *r,
                              uint16_t n[AUDIT_NFIELDS], mg_error *err)
{
    for (int i = 0; i < AUDIT_NFIELDS; i++) {
        const char *v = field_of(r, i);
        size_t len = strnlen(v, audit_field_max[i] + 1);
        if (len > audit_field_max[i])
            return mg_error_set(err, MG_ELIMIT, NULL, 0, 0,
                                "audit record: %s is longer than %zu bytes",
                                audit_field_names[i], audit_field_max[i]);
        if (!sl_utf8_valid(v, len))
            return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "audit record: %s is not UTF-8",
                                audit_field_names[i]);
        n[i] = (uint16_t)len;
    }
    if (n[AUDIT_F_SUBJECT] && !log->ks)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0,
                            "audit record has a subject but the log has no key store");
    return MG_OK;
}

static mg_status failed_status(mg_audit_log *log, mg_error *err)
{
    return mg_error_set(err, log->failed, log->db.path, 0, 0, "audit log write failed: %s",
                        log->failmsg);
}

mg_status mg_audit_record_push(mg_audit_log *log, const mg_audit_record *rec,
                               uint64_t *seq, mg_error *err)
{
    uint16_t n[AUDIT_NFIELDS];
    if (!log || !rec)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "no log or record");
    if (!log->has_writer)
        return mg_error_set(err, MG_EINVAL, log->db.path, 0, 0,
                            "the audit log is open read-only (no signing key)");
    mg_status s = check_record(log, rec, n, err);
    if (s != MG_OK)
        return s;
    pthread_mutex_lock(&log->mu);
    if (log->failed != MG_OK) {
        s = failed_status(log, err);
    } else if (log->stop) {
        s = mg_error_set(err, MG_EINVAL, NULL, 0, 0, "the audit log is closing");
    } else if (log->tail - log->head >= log->cap) {
        s = mg_error_set(err, MG_EBUSY, NULL, 0, 0,
                         "audit ring full (%llu records waiting): not recorded",
                         (unsigned long long)log->cap);
    } else {
        audit_rec *r = &log->ring[log->tail % log->cap];
        r->event_time = rec->event_time_us;
        r->governance = rec->governance;
        for (int i = 0; i < AUDIT_NFIELDS; i++) {
            memcpy(audit_rec_field(r, i), field_of(rec, i), n[i]);
            r->n[i] = n[i];
        }
        if (seq)
            *seq = log->tail;
        log->tail++;
        pthread_cond_signal(&log->work);
    }
    pthread_mutex_unlock(&log->mu);
    return s;
}

mg_status mg_audit_wait(mg_audit_log *log, uint64_t seq, mg_error *err)
{
    mg_status s = MG_OK;
    pthread_mutex_lock(&log->mu);
    if (seq >= log->tail && seq >= log->head) {
        s = mg_error_set(err, MG_EINVAL, NULL, 0, 0, "audit seq %llu was never recorded",
                         (unsigned long long)seq);
    } else {
        while (log->head <= seq && log->failed == MG_OK)
            pthread_cond_wait(&log->done, &log->mu);
        if (log->head <= seq)
            s = failed_status(log, err);
    }
    pthread_mutex_unlock(&log->mu);
    return s;
}

mg_status mg_audit_append(mg_audit_log *log, const mg_audit_record *rec,
                          uint64_t *seq, mg_error *err)
{
    uint64_t s_ = 0;
    mg_status s = mg_audit_record_push(log, rec, &s_, err);
    if (s == MG_OK)
        s = mg_audit_wait(log, s_, err);
    if (seq)
        *seq = s_;
    return s;
}

mg_status mg_audit_flush(mg_audit_log *log, mg_error *err)
{
    if (!log->has_writer)
        return MG_OK;
    pthread_mutex_lock(&log->mu);
    uint64_t tail = log->tail;
    pthread_mutex_unlock(&log->mu);
    return tail == 0 ? MG_OK : mg_audit_wait(log, tail - 1, err);
}

mg_status mg_audit_status(mg_audit_log *log, mg_error *err)
{
    pthread_mutex_lock(&log->mu);
    mg_status s = log->failed != MG_OK ? failed_status(log, err) : MG_OK;
    pthread_mutex_unlock(&log->mu);
    return s;
}

uint64_t mg_audit_size(mg_audit_log *log)
{
    pthread_mutex_lock(&log->db_lock);
    uint64_t n = log->db.fr.size;
    pthread_mutex_unlock(&log->db_lock);
    return n;
}

/* ======================================================================
 * The writer
 * ====================================================================== */

/* Replaces one record's raw subject by its pseudonym. */
static mg_status pseudonymize_one(mg_audit_log *log, audit_rec *r, mg_error *err)
{
    if (!r->n[AUDIT_F_SUBJECT])
        return MG_OK;
    char id[MG_AUDIT_MAX_SUBJECT + 1], p[33];
    memcpy(id, r->subject, r->n[AUDIT_F_SUBJECT]);
    id[r->n[AUDIT_F_SUBJECT]] = '\0';
    mg_status s = audit_keystore_pseudonym(log->ks, id, true, p, err);
    sodium_memzero(id, sizeof id);
    if (s != MG_OK)
        return s;
    sodium_memzero(r->subject, r->n[AUDIT_F_SUBJECT]);
    memcpy(r->subject, p, 32);
    r->n[AUDIT_F_SUBJECT] = 32;
    return MG_OK;
}

/* Replaces raw subjects by pseudonyms; under db_lock, inside a key store
 * batch (see commit_batch). */
static mg_status pseudonymize(mg_audit_log *log, audit_rec *const *recs, size_t n,
                              mg_error *err)
{
    mg_status s = MG_OK;
    for (size_t i = 0; i < n && s == MG_OK && log->ks; i++)
        s = pseudonymize_one(log, recs[i], err);
    return s;
}

static bool checkpoint_due(const mg_audit_log *log, uint64_t size, int64_t now)
{
    const audit_db *d = &log->db;
    if (size <= d->cp_size)
        return false;
    return size - d->cp_size >= log->cp_every ||
           now - d->cp_time >= (int64_t)log->cp_ms * 1000;
}

/* Records waiting from `from` on, at most `room` of them. */
static size_t waiting(mg_audit_log *log, uint64_t from, size_t room)
{
    pthread_mutex_lock(&log->mu);
    uint64_t n = log->tail - from;
    pthread_mutex_unlock(&log->mu);
    return n < room ? (size_t)n : room;
}

/* Commits the records from head on, *n of them at least, and sets *n to
 * the number committed; under neither lock on entry.
 *
 * Everything up to the transaction (pseudonyms, encoding, leaf and node
 * hashes) is staged first, and records that arrive meanwhile join the
 * batch, up to BATCH_MAX: a burst of records is committed in one
 * transaction, one fsync, rather than its first few records alone and then
 * the rest. Nothing waits for records to come, so a lone record is
 * committed as soon as it is staged. New pseudonyms are committed to the
 * key store, in one transaction, before the entries that name them. */
static mg_status commit_batch(mg_audit_log *log, uint64_t head, size_t *n, mg_error *err)
{
    audit_rec *recs[BATCH_MAX];
    bool governance = false;
    size_t done = 0, avail = *n;
    pthread_mutex_lock(&log->db_lock);
    mg_status s = log->ks ? audit_keystore_batch_begin(log->ks, err) : MG_OK;
    /* A governance record ends its batch: the checkpoint signed after it
     * is the tree head right after the action. */
    while (s == MG_OK && done < avail && !governance) {
        size_t k = avail - done;
        for (size_t i = 0; i < k && !governance; i++) {
            recs[i] = &log->ring[(head + done + i) % log->cap];
            if (recs[i]->governance) {
                governance = true;
                k = i + 1;
            }
        }
        s = pseudonymize(log, recs, k, err);
        if (s == MG_OK)
            s = audit_db_stage(&log->db, recs, k, audit_now(log), err);
        done += k;
        avail = waiting(log, head, BATCH_MAX);
    }
    if (log->ks) {
        mg_status e = audit_keystore_batch_end(log->ks, s == MG_OK ? err : NULL);
        s = s != MG_OK ? s : e;
    }
    if (s == MG_OK) {
        int64_t now = audit_now(log);
        bool cp = governance || checkpoint_due(log, log->db.fr.size + done, now);
        s = audit_db_commit(&log->db, now, cp, err);
    } else {
        audit_db_discard(&log->db);
    }
    pthread_mutex_unlock(&log->db_lock);
    *n = done;
    return s;
}

/* While no record waits: a checkpoint for entries that waited checkpoint_ms
 * without one, or, idle_ms after the last checkpoint, the same tree head
 * signed again, whose time line tells a monitor that the log is alive
 * rather than stalled or withheld. */
static void idle_checkpoint(mg_audit_log *log)
{
    pthread_mutex_lock(&log->db_lock);
    int64_t now = audit_now(log);
    if (checkpoint_due(log, log->db.fr.size, now))
        audit_db_checkpoint(&log->db, now, NULL);
    else if (now - log->db.cp_time >= (int64_t)log->idle_ms * 1000)
        audit_db_refresh_checkpoint(&log->db, now, NULL);
    pthread_mutex_unlock(&log->db_lock);
}

static void deadline_in(struct timespec *ts, uint32_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static void *writer_main(void *arg)
{
    mg_audit_log *log = arg;
    pthread_mutex_lock(&log->mu);
    for (;;) {
        if (log->head == log->tail || log->failed != MG_OK) {
            if (log->stop)
                break;
            struct timespec ts;
            deadline_in(&ts, log->cp_ms);
            int rc = pthread_cond_timedwait(&log->work, &log->mu, &ts);
            if (rc == ETIMEDOUT && log->failed == MG_OK) {
                pthread_mutex_unlock(&log->mu);
                idle_checkpoint(log);
                pthread_mutex_lock(&log->mu);
            }
            continue;
        }
        uint64_t head = log->head;
        size_t n = (size_t)(log->tail - head < BATCH_MAX ? log->tail - head : BATCH_MAX);
        pthread_mutex_unlock(&log->mu);
        mg_error err = { 0 };
        mg_status s = commit_batch(log, head, &n, &err);
        pthread_mutex_lock(&log->mu);
        if (s == MG_OK) {
            log->head += n;
        } else {
            log->failed = s;
            snprintf(log->failmsg, sizeof log->failmsg, "%s",
                     err.message ? err.message : mg_status_str(s));
        }
        mg_error_clear(&err);
        pthread_cond_broadcast(&log->done);
    }
    pthread_mutex_unlock(&log->mu);
    return NULL;
}

/* ======================================================================
 * Open and close
 * ====================================================================== */

static void log_free(mg_audit_log *log)
{
    audit_hashpool_stop(log->db.pool);
    log->db.pool = NULL;
    audit_db_close(&log->db);
    audit_keystore_close(log->ks);
    audit_mem m = log->mem;
    am_free(&m, log->ring, (size_t)log->cap * sizeof *log->ring);
    pthread_mutex_destroy(&log->db_lock);
    pthread_mutex_destroy(&log->mu);
    pthread_cond_destroy(&log->work);
    pthread_cond_destroy(&log->done);
    am_free(&m, log, sizeof *log);
}

static mg_status start_writer(mg_audit_log *log, uint32_t capacity, mg_error *err)
{
    log->cap = capacity ? capacity : 1024;
    if (!(log->ring = am_calloc(&log->mem, (size_t)log->cap, sizeof *log->ring)))
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory for the audit ring");
    log->head = log->tail = log->db.fr.size;
    /* The checkpoint timer of a log that never had one starts now. */
    if (log->db.cp_size == 0)
        log->db.cp_time = audit_now(log);
    /* The writer hashes a batch's leaves with this helper. */
    mg_status s = audit_hashpool_start(&log->mem, &log->db.pool, err);
    if (s != MG_OK)
        return s;
    if (pthread_create(&log->writer, NULL, writer_main, log) != 0)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "cannot start the audit writer thread");
    log->has_writer = true;
    return MG_OK;
}

static mg_status open_store(mg_audit_log *log, const mg_audit_config *cfg, mg_error *err)
{
    audit_skey key;
    bool writing = cfg->signing_key != NULL;
    mg_status s = MG_OK;
    if (writing && (s = audit_skey_load(cfg->signing_key, &key, err)) != MG_OK)
        return s;
    s = audit_db_open(&log->db, &log->mem, cfg->path, cfg->origin, !writing,
                      !cfg->synchronous_normal, err);
    if (s == MG_OK && writing) {
        if (!(log->db.signers = am_alloc(&log->mem, sizeof key))) {
            s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
        } else {
            log->db.signers[0] = key;
            log->db.n_signers = log->db.signers_room = 1;
        }
    }
    sodium_memzero(&key, sizeof key);
    if (s == MG_OK && writing)
        s = audit_db_check_signer(&log->db, err);
    if (s == MG_OK && cfg->keystore) {
        /* The same file under another name (a link, "./") included. */
        struct stat a, k;
        if (strcmp(cfg->keystore, cfg->path) == 0 ||
            (stat(cfg->path, &a) == 0 && stat(cfg->keystore, &k) == 0 &&
             a.st_dev == k.st_dev && a.st_ino == k.st_ino))
            return mg_error_set(err, MG_EINVAL, cfg->keystore, 0, 0,
                                "the key store must not be the audit database");
        s = audit_keystore_open(&log->mem, cfg->keystore, !writing, &log->ks, err);
    }
    return s;
}

mg_status mg_audit_open(const mg_audit_config *cfg, mg_audit_log **out, mg_error *err)
{
    *out = NULL;
    if (!cfg || !cfg->path)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "no audit database path");
    if (sodium_init() < 0)
        return mg_error_set(err, MG_ECRYPTO, NULL, 0, 0, "libsodium failed to initialize");
    audit_mem mem = audit_mem_of(cfg->alloc, cfg->alloc_ud);
    mg_audit_log *log = am_calloc(&mem, 1, sizeof *log);
    if (!log)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    log->mem = mem;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&log->db_lock, NULL);
    pthread_mutex_init(&log->mu, NULL);
    pthread_cond_init(&log->work, &ca);
    pthread_cond_init(&log->done, NULL);
    pthread_condattr_destroy(&ca);
    log->cp_every = cfg->checkpoint_every ? cfg->checkpoint_every : 1000;
    log->cp_ms = cfg->checkpoint_ms ? cfg->checkpoint_ms : 1000;
    log->idle_ms = cfg->idle_checkpoint_ms ? cfg->idle_checkpoint_ms : 3600000;
    log->clock = cfg->clock;
    log->clock_ud = cfg->clock_ud;
    mg_status s = open_store(log, cfg, err);
    if (s == MG_OK && cfg->signing_key)
        s = start_writer(log, cfg->ring_capacity, err);
    if (s != MG_OK) {
        log_free(log);
        return s;
    }
    *out = log;
    return MG_OK;
}

void mg_audit_close(mg_audit_log *log)
{
    if (!log)
        return;
    if (log->has_writer) {
        pthread_mutex_lock(&log->mu);
        log->stop = true;
        pthread_cond_signal(&log->work);
        pthread_mutex_unlock(&log->mu);
        pthread_join(log->writer, NULL);
        if (log->failed == MG_OK)
            audit_db_checkpoint(&log->db, audit_now(log), NULL);
    }
    log_free(log);
}
