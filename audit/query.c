/*
 * query.c — reading the log as JSON lines: queries by product, port,
 * subject (through its pseudonym), action, effect, kind and event time, and
 * the full export with canonical bytes, leaf hashes and checkpoints.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <sodium.h>
#include "audit/audit.h"
#include "stdlib/error.h"

/* Every column, so that each row given is checked against its entry. */
#define COLS "seq, " AUDIT_ROW_COLUMNS ", entry"
#define COL_ENTRY (2 + AUDIT_NCOLS)

/* Sets o[key] = v; false when v could not be made or set (v is freed). */
static bool put(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0;
}

/* One entry row as a JSON object, its fields decoded from the canonical
 * bytes (the only copy of most of them); with_entry adds those bytes. NULL
 * with *bad set to what is wrong when the stored bytes are not a canonical
 * entry, or the columns (which the query filtered on) differ from it. */
static json_t *row_json(const audit_mem *m, sqlite3_stmt *st, bool with_entry,
                        const char **bad)
{
    const uint8_t *e = sqlite3_column_blob(st, COL_ENTRY);
    size_t n = (size_t)sqlite3_column_bytes(st, COL_ENTRY);
    audit_entry dec;
    *bad = !e || !audit_entry_decode(e, n, &dec) ? "is not in the canonical encoding"
           : !audit_columns_match(st, &dec)     ? "has columns that differ from its canonical "
                                                  "encoding (a query filters on the columns; "
                                                  "verify the log)"
                                                : NULL;
    if (*bad)
        return NULL;
    json_t *o = json_object();
    /* A decoded entry's fields are UTF-8, so a value jansson cannot make
     * is out of memory: never a field left out of the row. */
    bool ok = o && put(o, "seq", json_integer(sqlite3_column_int64(st, 0))) &&
              put(o, "event_time_us", json_integer(dec.event_time)) &&
              put(o, "proc_time_us", json_integer(dec.proc_time));
    for (int i = 0; ok && i < AUDIT_NFIELDS; i++)
        ok = put(o, audit_field_names[i], json_stringn(dec.n[i] ? dec.f[i] : "", dec.n[i]));
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    if (with_entry) {
        uint8_t leaf[AUDIT_HASH];
        audit_leaf_hash(e, n, leaf);
        size_t cap = AUDIT_B64_LEN(n);
        char *b = am_alloc(m, cap);
        char lh[AUDIT_B64_LEN(AUDIT_HASH)];
        if (!b) {
            json_decref(o);
            return NULL;
        }
        audit_b64_encode(e, n, b, cap);
        audit_b64_encode(leaf, AUDIT_HASH, lh, sizeof lh);
        ok = put(o, "entry", json_string(b)) && put(o, "leaf_hash", json_string(lh));
        am_free(m, b, cap);
        if (!ok) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* Emits one object; *stop set when the callback asks to stop. */
static mg_status emit(json_t *o, mg_audit_row_fn fn, void *ud, bool *stop, mg_error *err)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    *stop = fn(ud, s, strlen(s)) != 0;
    free(s);
    return MG_OK;
}

static mg_status run_rows(audit_db *d, sqlite3_stmt *st, bool with_entry,
                          mg_audit_row_fn fn, void *ud, mg_error *err)
{
    mg_status s = MG_OK;
    bool stop = false;
    int rc = SQLITE_DONE;
    while (s == MG_OK && !stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *bad;
        json_t *o = row_json(&d->mem, st, with_entry, &bad);
        s = bad ? mg_error_set(err, MG_EINTEGRITY, d->path, 0, 0, "entry %lld %s",
                               (long long)sqlite3_column_int64(st, 0), bad)
                : emit(o, fn, ud, &stop, err);
    }
    if (s == MG_OK && !stop && rc != SQLITE_DONE)
        s = audit_db_error(d->db, d->path, "reading entries", err);
    return s;
}

static mg_status query_locked(mg_audit_log *log, const mg_audit_filter *f,
                              mg_audit_row_fn fn, void *ud, mg_error *err)
{
    audit_db *d = &log->db;
    char pseudo[33] = "";
    if (f->subject) {
        if (!log->ks)
            return mg_error_set(err, MG_EINVAL, NULL, 0, 0,
                                "a query by subject needs the key store");
        mg_status s = audit_keystore_pseudonym(log->ks, f->subject, false, pseudo, NULL);
        if (s == MG_ENOTFOUND)
            return MG_OK; /* never seen, or forgotten: nothing links to it */
        if (s != MG_OK)
            return audit_keystore_pseudonym(log->ks, f->subject, false, pseudo, err);
    }
    const char *vals[] = { f->kind, f->product, f->port, f->action, f->effect,
                           f->subject ? pseudo : NULL };
    const char *cols[] = { "kind", "product", "port", "action", "effect", "subject" };
    char sql[1024] = "SELECT " COLS " FROM entries WHERE 1";
    for (int i = 0; i < 6; i++)
        if (vals[i])
            snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " AND %s = ?%d", cols[i], i + 1);
    if (f->has_from)
        strcat(sql, " AND event_time >= ?7");
    if (f->has_to)
        strcat(sql, " AND event_time < ?8");
    strcat(sql, " ORDER BY seq");
    if (f->limit)
        strcat(sql, " LIMIT ?9");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, sql, -1, &st, NULL) != SQLITE_OK)
        return audit_db_error(d->db, d->path, "querying entries", err);
    for (int i = 0; i < 6; i++)
        if (vals[i])
            sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, f->from_us);
    sqlite3_bind_int64(st, 8, f->to_us);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)(f->limit > INT64_MAX ? INT64_MAX : f->limit));
    mg_status s = run_rows(d, st, false, fn, ud, err);
    sqlite3_finalize(st);
    return s;
}

mg_status mg_audit_query(mg_audit_log *log, const mg_audit_filter *f,
                         mg_audit_row_fn fn, void *ud, mg_error *err)
{
    mg_audit_filter none;
    memset(&none, 0, sizeof none);
    pthread_mutex_lock(&log->db_lock);
    mg_status s = query_locked(log, f ? f : &none, fn, ud, err);
    pthread_mutex_unlock(&log->db_lock);
    return s;
}

static mg_status export_locked(audit_db *d, mg_audit_row_fn fn, void *ud, mg_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(d->db, "SELECT " COLS " FROM entries ORDER BY seq", -1, &st,
                           NULL) != SQLITE_OK)
        return audit_db_error(d->db, d->path, "exporting entries", err);
    mg_status s = run_rows(d, st, true, fn, ud, err);
    sqlite3_finalize(st);
    if (s != MG_OK)
        return s;
    if (sqlite3_prepare_v2(d->db, "SELECT size, note FROM checkpoints ORDER BY size", -1, &st,
                           NULL) != SQLITE_OK)
        return audit_db_error(d->db, d->path, "exporting checkpoints", err);
    bool stop = false;
    int rc = SQLITE_DONE;
    while (s == MG_OK && !stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *note = (const char *)sqlite3_column_text(st, 1);
        s = emit(json_pack("{s:I, s:s}", "checkpoint", (json_int_t)sqlite3_column_int64(st, 0),
                           "note", note ? note : ""), fn, ud, &stop, err);
    }
    if (s == MG_OK && !stop && rc != SQLITE_DONE)
        s = audit_db_error(d->db, d->path, "exporting checkpoints", err);
    sqlite3_finalize(st);
    return s;
}

mg_status mg_audit_export(mg_audit_log *log, mg_audit_row_fn fn, void *ud, mg_error *err)
{
    pthread_mutex_lock(&log->db_lock);
    mg_status s = export_locked(&log->db, fn, ud, err);
    pthread_mutex_unlock(&log->db_lock);
    return s;
}
