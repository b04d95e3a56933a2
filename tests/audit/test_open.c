/*
 * test_open.c — what a writer refuses when it opens a log: a signing key
 * that does not sign it (another key, or one a rotation retired), and a
 * key store that is the log itself, another log, or a log that is a key
 * store. Each would put checkpoints no auditor's pin covers, or people's
 * identities, into the file auditors receive.
 */
#include <criterion/criterion.h>
#include <unistd.h>
#include "tests/audit/fixture.h"
#include "tests/audit/helpers.h"

/* A new key file in f's directory (malloc'd path). */
static char *new_key(fixture *f, const char *file)
{
    char *path = path_in(f->dir, file), *vkey = NULL;
    cr_assert_eq(mg_audit_keygen("acme/sales/orders", path, &vkey, NULL), MG_OK);
    free(vkey);
    return path;
}

/* True if the statement fails on the database at path (a table missing). */
static bool fails_on(const char *path, const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(path, &db), SQLITE_OK);
    bool failed = sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK;
    sqlite3_close(db);
    return failed;
}

static mg_status open_with(mg_audit_config *cfg, mg_error *err)
{
    mg_audit_log *log = NULL;
    mg_status s = mg_audit_open(cfg, &log, err);
    cr_assert((s == MG_OK) == (log != NULL));
    mg_audit_close(log);
    return s;
}

Test(open, another_signing_key_is_refused)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 5, 2);
    char *other = new_key(&f, "other.key");
    mg_audit_config cfg = fx_config(&f, 2);
    cfg.signing_key = other;
    mg_error err = { 0 };
    cr_assert_eq(open_with(&cfg, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "the latest checkpoint (size 5) is not signed by the signing "
                     "key given: use the key that signs the log (changing keys is a rotation)");
    cr_assert_str_eq(err.file, f.db);
    /* Nothing was written: the log still verifies against its own key. */
    cr_assert_eq(fx_verify(&f, NULL).verdict, MG_AUDIT_OK);
    cr_assert_eq(fx_verify(&f, NULL).verified_size, 5);
    mg_error_clear(&err);
    free(other);
    fx_fini(&f);
}

/* A log whose writer stopped before its first checkpoint has no signer yet:
 * any key may take it up. */
Test(open, a_log_without_a_checkpoint_takes_any_key)
{
    fixture f;
    fx_init(&f);
    mg_audit_config cfg = fx_config(&f, 1000);
    mg_error err = { 0 };
    cr_assert_eq(open_with(&cfg, &err), MG_OK, "%s", err.message);
    fx_sql(&f, "DELETE FROM checkpoints");
    char *other = new_key(&f, "other.key");
    cfg.signing_key = other;
    cr_assert_eq(open_with(&cfg, &err), MG_OK, "%s", err.message);
    free(other);
    fx_fini(&f);
}

/* Right after a rotation its checkpoint, signed by both keys, is the
 * latest: the retired key still signs it, and is refused all the same. */
Test(open, the_key_a_rotation_retired_is_refused)
{
    fixture f;
    fx_init(&f);
    char *newkey = new_key(&f, "new.key");
    mg_audit_log *log = fx_open(&f, 1000);
    fx_append(&f, log, 3);
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_rotate_key(log, newkey, &err), MG_OK, "%s", err.message);
    mg_audit_close(log);
    mg_audit_config cfg = fx_config(&f, 1000);
    cr_assert_eq(open_with(&cfg, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "the signing key given was rotated out at size 4: use the key "
                     "that rotation brought in");
    cfg.signing_key = newkey;
    cr_assert_eq(open_with(&cfg, &err), MG_OK, "%s", err.message);
    mg_error_clear(&err);
    free(newkey);
    fx_fini(&f);
}

Test(open, the_log_as_its_own_key_store_is_refused_under_any_name)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 2, 2);
    char *dot = path_in(f.dir, "./audit-link.db");
    cr_assert_eq(symlink(f.db, dot), 0);
    mg_audit_config cfg = fx_config(&f, 2);
    cfg.keystore = dot;
    mg_error err = { 0 };
    cr_assert_eq(open_with(&cfg, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "the key store must not be the audit database");
    cr_assert_str_eq(err.file, dot);
    mg_error_clear(&err);
    free(dot);
    fx_fini(&f);
}

Test(open, another_log_as_key_store_is_refused)
{
    fixture f, g;
    fx_init(&f);
    fx_init(&g);
    fx_build(&g, 2, 2);
    mg_audit_config cfg = fx_config(&f, 2);
    cfg.keystore = g.db;
    mg_error err = { 0 };
    cr_assert_eq(open_with(&cfg, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "this is an audit log (it has an entries table), not a key "
                     "store");
    cr_assert_str_eq(err.file, g.db);
    /* No pseudonyms table went into the other log. */
    cr_assert(fails_on(g.db, "SELECT 1 FROM pseudonyms"));
    mg_error_clear(&err);
    fx_fini(&g);
    fx_fini(&f);
}

Test(open, a_key_store_as_the_log_is_refused)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 2, 2);
    mg_audit_config cfg = fx_config(&f, 2);
    cfg.path = f.ks;
    cfg.keystore = NULL;
    mg_error err = { 0 };
    cr_assert_eq(open_with(&cfg, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "this is a key store (it has a pseudonyms table), not an "
                     "audit log");
    cr_assert_str_eq(err.file, f.ks);
    cr_assert(fails_on(f.ks, "SELECT 1 FROM entries"));
    mg_error_clear(&err);
    fx_fini(&f);
}

/* A log of layout version 2 (a payload column beside the entry) is read as
 * it is; a writer drops the column and sets version 3. The hashed entries,
 * the tree and the checkpoints are untouched, so the same pins verify it,
 * before and after, and it grows on. */
Test(open, a_version_2_log_is_read_then_upgraded_by_a_writer)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 6, 2);
    fx_sql(&f, "ALTER TABLE entries ADD COLUMN payload TEXT NOT NULL DEFAULT '{}';"
               "UPDATE state SET version = 2");
    cr_assert_eq(fx_verify(&f, NULL).verdict, MG_AUDIT_OK);
    mg_audit_log *log = fx_reader(&f);
    cr_assert_eq(mg_audit_size(log), 6);
    mg_audit_close(log);
    log = fx_open(&f, 2);
    fx_append(&f, log, 2);
    mg_audit_close(log);
    mg_audit_report rep = fx_verify(&f, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_OK, "%s", rep.message);
    cr_assert_eq(rep.verified_size, 8);
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(f.db, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT version FROM state", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_eq(sqlite3_column_int(st, 0), 3);
    sqlite3_finalize(st);
    sqlite3_close(db);
    cr_assert(fails_on(f.db, "SELECT payload FROM entries"));
    fx_fini(&f);
}
