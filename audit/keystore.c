/*
 * keystore.c — the pseudonym key store: a SQLite database of its own (never
 * the audit database, which auditors receive) mapping a raw subject id to a
 * random 16-byte pseudonym in hex. The audit log holds only pseudonyms;
 * forgetting a subject deletes its mapping, so the log never needs
 * rewriting. secure_delete and a WAL truncation keep erased ids from
 * lingering in the files.
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "audit/audit.h"
#include "stdlib/error.h"

struct audit_keystore {
    sqlite3 *db;
    char *path;
};

static mg_status ks_err(audit_keystore *ks, mg_error *err)
{
    int rc = sqlite3_errcode(ks->db);
    return mg_error_set(err, rc == SQLITE_NOMEM ? MG_ENOMEM : MG_EDB, ks->path, 0, 0,
                        "key store: %s", sqlite3_errmsg(ks->db));
}

mg_status audit_keystore_open(const char *path, bool read_only,
                              audit_keystore **out, mg_error *err)
{
    *out = NULL;
    audit_keystore *ks = calloc(1, sizeof *ks);
    if (!ks || !(ks->path = strdup(path))) {
        free(ks);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    mg_status s = MG_OK;
    if (sqlite3_open_v2(path, &ks->db, flags, NULL) != SQLITE_OK) {
        s = ks_err(ks, err);
    } else {
        sqlite3_busy_timeout(ks->db, 5000);
        const char *sql = read_only ? "SELECT count(*) FROM pseudonyms" :
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
            "CREATE TABLE IF NOT EXISTS pseudonyms(subject TEXT PRIMARY KEY,"
            " pseudonym TEXT NOT NULL UNIQUE)";
        if (sqlite3_exec(ks->db, sql, NULL, NULL, NULL) != SQLITE_OK)
            s = ks_err(ks, err);
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
    sqlite3_close(ks->db);
    free(ks->path);
    free(ks);
}

static mg_status lookup(audit_keystore *ks, const char *subject, char out[33],
                        bool *found, mg_error *err)
{
    sqlite3_stmt *st;
    *found = false;
    if (sqlite3_prepare_v2(ks->db, "SELECT pseudonym FROM pseudonyms WHERE subject = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return ks_err(ks, err);
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *p = sqlite3_column_text(st, 0);
        if (p && strlen((const char *)p) == 32) {
            memcpy(out, p, 33);
            *found = true;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? MG_OK : ks_err(ks, err);
}

mg_status audit_keystore_pseudonym(audit_keystore *ks, const char *subject,
                                   bool create, char out[33], mg_error *err)
{
    bool found;
    mg_status s = lookup(ks, subject, out, &found, err);
    if (s != MG_OK || found)
        return s;
    if (!create)
        return mg_error_set(err, MG_ENOTFOUND, NULL, 0, 0, "no pseudonym for this subject");
    uint8_t raw[16];
    randombytes_buf(raw, sizeof raw);
    audit_hex_encode(raw, sizeof raw, out);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ks->db, "INSERT INTO pseudonyms(subject, pseudonym) VALUES (?1, ?2)",
                           -1, &st, NULL) != SQLITE_OK)
        return ks_err(ks, err);
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, out, 32, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? MG_OK : ks_err(ks, err);
}

mg_status audit_keystore_forget(audit_keystore *ks, const char *subject, mg_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(ks->db, "DELETE FROM pseudonyms WHERE subject = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return ks_err(ks, err);
    sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return ks_err(ks, err);
    if (sqlite3_changes(ks->db) == 0)
        return mg_error_set(err, MG_ENOTFOUND, NULL, 0, 0, "no pseudonym for this subject");
    /* Move the deletion out of the WAL into the (secure-deleted) main file. */
    if (sqlite3_exec(ks->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
        return ks_err(ks, err);
    return MG_OK;
}
