/*
 * fixture.c — see fixture.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "tests/audit/fixture.h"
#include "tests/audit/helpers.h"

static int64_t fake_clock(void *ud)
{
    fixture *f = ud;
    f->clock += 1000;
    return f->clock;
}

void fx_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->dir = make_tmpdir();
    f->db = path_in(f->dir, "audit.db");
    f->ks = path_in(f->dir, "keys.db");
    f->key = path_in(f->dir, "log.key");
    f->keys = path_in(f->dir, "pinned.keys");
    f->clock = 1767225600000000; /* 2026-01-01T00:00:00Z */
    char *vk;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_keygen("acme/sales/orders", f->key, &vk, &err), MG_OK, "%s", err.message);
    snprintf(f->vkey, sizeof f->vkey, "%s", vk);
    free(vk); /* mg_free is free(); it lives in engine/, not linked here */
    char line[600];
    snprintf(line, sizeof line, "# pinned\n%s\n", f->vkey);
    fx_keys(f, line);
}

void fx_fini(fixture *f)
{
    remove_tree(f->dir);
    free(f->dir);
    free(f->db);
    free(f->ks);
    free(f->key);
    free(f->keys);
}

void fx_keys(fixture *f, const char *text)
{
    FILE *fp = fopen(f->keys, "w");
    cr_assert_not_null(fp);
    fputs(text, fp);
    fclose(fp);
}

mg_audit_config fx_config(fixture *f, uint32_t every)
{
    return (mg_audit_config){
        .path = f->db, .keystore = f->ks, .origin = "acme/sales/orders",
        .signing_key = f->key, .checkpoint_every = every, .checkpoint_ms = 3600000,
        .clock = fake_clock, .clock_ud = f,
    };
}

mg_audit_log *fx_open(fixture *f, uint32_t every)
{
    mg_audit_config cfg = fx_config(f, every);
    mg_audit_log *log;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK, "%s", err.message);
    return log;
}

mg_audit_log *fx_reader(fixture *f)
{
    mg_audit_config cfg = { .path = f->db };
    mg_audit_log *log;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK, "%s", err.message);
    return log;
}

void fx_append(fixture *f, mg_audit_log *log, int n)
{
    (void)f;
    for (int i = 0; i < n; i++) {
        char subject[32], payload[64];
        snprintf(subject, sizeof subject, "user%d@corp.example", i % 3);
        snprintf(payload, sizeof payload, "{\"columns\":[\"c%d\"]}", i);
        mg_audit_record r = {
            .kind = "decision", .product = "dp://sales/orders", .port = "orders",
            .subject = subject, .action = "read", .effect = i % 2 ? "deny" : "allow",
            .rules = "pii@3#1", .mode = "enforce",
            .digest = "0000000000000000000000000000000000000000000000000000000000000000",
            .payload = payload, .event_time_us = 1767225600000000 + i,
        };
        uint64_t seq;
        mg_error err = { 0 };
        cr_assert_eq(mg_audit_append(log, &r, &seq, &err), MG_OK, "%s", err.message);
    }
}

void fx_build(fixture *f, int n, uint32_t every)
{
    mg_audit_log *log = fx_open(f, every);
    fx_append(f, log, n);
    mg_audit_close(log);
}

mg_audit_report fx_verify(fixture *f, const char *trusted)
{
    mg_audit_verify_opts o = { .db = f->db, .keys = f->keys, .trusted_checkpoint = trusted,
                               .trusted_len = trusted ? strlen(trusted) : 0 };
    mg_audit_report rep;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_verify(&o, &rep, &err), MG_OK, "%s", err.message);
    return rep;
}

void fx_sql(fixture *f, const char *sql)
{
    sqlite3 *db;
    cr_assert_eq(sqlite3_open(f->db, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg);
    sqlite3_close(db);
}

char *fx_note(fixture *f, int size)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(f->db, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT note FROM checkpoints WHERE size = ?1", -1, &st,
                                    NULL), SQLITE_OK);
    sqlite3_bind_int(st, 1, size);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "no checkpoint %d", size);
    char *n = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}
