/*
 * fixture.h — a small real log for the audit tests: a key pair, a pinned
 * key file, and N entries appended through the public API with a fake
 * processing clock; plus raw SQLite helpers for tampering.
 */
#ifndef MG_TESTS_AUDIT_FIXTURE_H
#define MG_TESTS_AUDIT_FIXTURE_H

#include <sqlite3.h>
#include "meshgov.h"

typedef struct fixture {
    char *dir, *db, *ks, *key, *keys;   /* paths */
    char vkey[512];
    int64_t clock;
} fixture;

/* Creates dir, key pair ("acme/sales/orders"), key file with the vkey. */
void fx_init(fixture *f);
void fx_fini(fixture *f);
/* The config fx_open uses: key store, signing key, fake clock. */
mg_audit_config fx_config(fixture *f, uint32_t every);
/* Opens the log for writing with checkpoint_every = every. */
mg_audit_log *fx_open(fixture *f, uint32_t every);
/* Opens the log read-only (no signing key), as an auditor does. */
mg_audit_log *fx_reader(fixture *f);
/* Appends n decision records, one transaction each. */
void fx_append(fixture *f, mg_audit_log *log, int n);
/* Builds a log of n entries with checkpoints every `every`, then closes it
 * (which adds a final checkpoint). */
void fx_build(fixture *f, int n, uint32_t every);
/* Writes the key file with these lines. */
void fx_keys(fixture *f, const char *text);
/* Runs the verifier; trusted may be NULL. */
mg_audit_report fx_verify(fixture *f, const char *trusted);
/* Raw SQL on the database; fails the test on error. */
void fx_sql(fixture *f, const char *sql);
/* The note of the checkpoint of this size (malloc'd). */
char *fx_note(fixture *f, int size);

#endif
