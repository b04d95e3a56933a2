/*
 * test_writer.c — one writer per log. A second writer, in another process
 * or in this one, is refused at open with MG_EBUSY while readers (verify,
 * query, prove) work beside the writer; the lock dies with a SIGKILLed
 * writer; and a writer whose tree no longer matches the stored size, or
 * that finds a stored node in the way, writes nothing and fails closed.
 */
#define _DEFAULT_SOURCE         /* realpath */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "tests/audit/fixture.h"
#include "tests/audit/helpers.h"

/* The refusal a second writer gets, for the log of f. */
static void busy_message(const fixture *f, char *buf, size_t cap)
{
    char real[PATH_MAX];
    cr_assert_not_null(realpath(f->db, real));
    snprintf(buf, cap, "another process or handle has this audit log open for writing "
             "(%s-writer.lock is locked); open it without a signing key to read it", real);
}

static void put(int fd, char c)
{
    if (write(fd, &c, 1) != 1)
        _exit(10);
}

/* One byte from fd, or -1 at end of file. */
static int get(int fd)
{
    char c;
    return read(fd, &c, 1) == 1 ? c : -1;
}

static uint64_t count_entries(fixture *f)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(f->db, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM entries", -1, &st, NULL),
                 SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    uint64_t n = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static int count_row(void *ud, const char *json, size_t len)
{
    (void)json;
    (void)len;
    ++*(int *)ud;
    return 0;
}

/* A second writer in another process: the child is forked before the
 * parent opens its writer, and tries to open its own on a signal. */
Test(writer, second_writer_in_another_process_is_refused)
{
    fixture f;
    fx_init(&f);
    int go[2], res[2];
    cr_assert_eq(pipe(go), 0);
    cr_assert_eq(pipe(res), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(go[1]);
        close(res[0]);
        if (get(go[0]) != 'g')
            _exit(11);
        mg_audit_config cfg = { .path = f.db, .keystore = f.ks, .origin = "acme/sales/orders",
                                .signing_key = f.key };
        mg_audit_log *log = NULL;
        mg_error err = { 0 };
        mg_status s = mg_audit_open(&cfg, &log, &err);
        char out[1024];
        int n = snprintf(out, sizeof out, "%d|%s|%s", (int)s, err.file ? err.file : "",
                         err.message ? err.message : "");
        if (write(res[1], out, (size_t)n) != n)
            _exit(12);
        _exit(log == NULL ? 0 : 13);
    }
    close(go[0]);
    close(res[1]);
    mg_audit_log *log = fx_open(&f, 100);
    fx_append(&f, log, 3);
    put(go[1], 'g');
    char got[1024] = "";
    ssize_t n = 0, k;
    while ((k = read(res[0], got + n, sizeof got - 1 - (size_t)n)) > 0)
        n += k;
    got[n] = '\0';
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    char msg[PATH_MAX + 256], want[PATH_MAX + 512];
    busy_message(&f, msg, sizeof msg);
    snprintf(want, sizeof want, "%d|%s|%s", (int)MG_EBUSY, f.db, msg);
    cr_assert_str_eq(got, want);

    /* The writer is untouched: it appends on, and the log verifies. */
    fx_append(&f, log, 2);
    cr_assert_eq(mg_audit_size(log), 5);
    mg_audit_close(log);
    mg_audit_report rep = fx_verify(&f, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_OK, "%s", rep.message);
    cr_assert_eq(rep.size, 5);
    close(go[1]);
    close(res[0]);
    fx_fini(&f);
}

/* The lock belongs to the handle, not the process: a second handle in
 * the same process is refused too, and closing the first releases it. */
Test(writer, second_writer_in_this_process_is_refused)
{
    fixture f;
    fx_init(&f);
    mg_audit_log *log = fx_open(&f, 100);
    mg_audit_config cfg = { .path = f.db, .origin = "acme/sales/orders",
                            .signing_key = f.key };
    mg_audit_log *second = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &second, &err), MG_EBUSY);
    cr_assert_null(second);
    char msg[PATH_MAX + 256];
    busy_message(&f, msg, sizeof msg);
    cr_assert_str_eq(err.message, msg);
    cr_assert_str_eq(err.file, f.db);
    mg_error_clear(&err);
    /* The internal open refuses the same way. */
    audit_db d;
    cr_assert_eq(audit_db_open(&d, NULL, f.db, NULL, false, true, NULL), MG_EBUSY);
    mg_audit_close(log);
    cr_assert_eq(mg_audit_open(&cfg, &second, &err), MG_OK, "%s", err.message);
    mg_audit_close(second);
    fx_fini(&f);
}

/* Readers open beside a live writer in another process: verify, query
 * and prove see what it has committed, then what it commits next. */
Test(writer, readers_work_beside_a_writer)
{
    fixture f;
    fx_init(&f);
    int ready[2], more[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(more), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(ready[0]);
        close(more[1]);
        mg_audit_log *log = fx_open(&f, 100);
        fx_append(&f, log, 10);
        if (mg_audit_checkpoint(log, NULL) != MG_OK)
            _exit(11);
        put(ready[1], 'r');
        if (get(more[0]) != 'm')
            _exit(12);
        fx_append(&f, log, 5);
        if (mg_audit_checkpoint(log, NULL) != MG_OK)
            _exit(13);
        put(ready[1], 'r');
        if (get(more[0]) != -1)         /* the parent is done reading */
            _exit(14);
        mg_audit_close(log);
        _exit(0);
    }
    close(ready[1]);
    close(more[0]);
    cr_assert_eq(get(ready[0]), 'r');

    mg_audit_report rep = fx_verify(&f, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_OK, "%s", rep.message);
    cr_assert_eq(rep.size, 10);
    mg_audit_config cfg = { .path = f.db, .keystore = f.ks };
    mg_audit_log *rd = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &rd, &err), MG_OK, "%s", err.message);
    mg_audit_filter all = { .kind = "decision" }, one = { .subject = "user1@corp.example" };
    int rows = 0;
    cr_assert_eq(mg_audit_query(rd, &all, count_row, &rows, &err), MG_OK, "%s", err.message);
    cr_assert_eq(rows, 10);
    rows = 0;
    cr_assert_eq(mg_audit_query(rd, &one, count_row, &rows, &err), MG_OK, "%s", err.message);
    cr_assert_eq(rows, 3);              /* seq 1, 4, 7 */
    char *proof = NULL;
    cr_assert_eq(mg_audit_prove(rd, 7, 0, &proof, &err), MG_OK, "%s", err.message);
    cr_assert(strstr(proof, "\"tree_size\":10"), "%s", proof);
    cr_assert_eq(mg_audit_check_proof(proof, strlen(proof), f.keys, &err), MG_OK, "%s",
                 err.message);
    free(proof);

    /* The same reader handle sees the writer's next commits. */
    put(more[1], 'm');
    cr_assert_eq(get(ready[0]), 'r');
    rows = 0;
    cr_assert_eq(mg_audit_query(rd, &all, count_row, &rows, &err), MG_OK, "%s", err.message);
    cr_assert_eq(rows, 15);
    cr_assert_eq(mg_audit_consistency(rd, 10, 0, &proof, &err), MG_OK, "%s", err.message);
    cr_assert_eq(mg_audit_check_proof(proof, strlen(proof), f.keys, &err), MG_OK, "%s",
                 err.message);
    free(proof);
    rep = fx_verify(&f, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_OK, "%s", rep.message);
    cr_assert_eq(rep.size, 15);
    mg_audit_close(rd);
    close(more[1]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    close(ready[0]);
    fx_fini(&f);
}

/* The kernel releases the lock of a writer killed with SIGKILL: a new
 * writer opens, carries on from what was durable, and the log verifies. */
Test(writer, lock_dies_with_a_killed_writer)
{
    fixture f;
    fx_init(&f);
    int ready[2];
    cr_assert_eq(pipe(ready), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        close(ready[0]);
        mg_audit_log *log = fx_open(&f, 2);
        fx_append(&f, log, 5);
        put(ready[1], 'r');
        for (;;)
            pause();
    }
    close(ready[1]);
    cr_assert_eq(get(ready[0]), 'r');
    mg_audit_config cfg = { .path = f.db, .keystore = f.ks, .origin = "acme/sales/orders",
                            .signing_key = f.key };
    mg_audit_log *log = NULL;
    mg_error err = { 0 };
    mg_status busy = mg_audit_open(&cfg, &log, &err);
    mg_error_clear(&err);
    /* Killed before any assertion, so a failing one leaves no child. */
    cr_assert_eq(kill(pid, SIGKILL), 0);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert_eq(busy, MG_EBUSY);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(ready[0]);

    log = fx_open(&f, 2);
    cr_assert_eq(mg_audit_size(log), 5);
    fx_append(&f, log, 2);
    mg_audit_close(log);
    mg_audit_report rep = fx_verify(&f, NULL);
    cr_assert_eq(rep.verdict, MG_AUDIT_OK, "%s", rep.message);
    cr_assert_eq(rep.size, 7);
    fx_fini(&f);
}

/* Defence in depth: a log changed behind the writer's back (here the state
 * row, as a writer that ignored the lock would leave it) makes the next
 * write transaction fail before writing anything, and the log stays
 * failed. */
Test(writer, stored_size_must_match_the_writers_tree)
{
    fixture f;
    fx_init(&f);
    mg_audit_log *log = fx_open(&f, 100);
    fx_append(&f, log, 3);
    fx_sql(&f, "UPDATE state SET size = 4");
    mg_audit_record r = { .kind = "decision", .payload = "{}" };
    uint64_t seq;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_append(log, &r, &seq, &err), MG_EINTEGRITY);
    cr_assert_str_eq(err.message, "audit log write failed: the log holds 4 entries but this "
                     "writer's tree has 3: another writer has changed it; nothing was written");
    mg_error_clear(&err);
    cr_assert_eq(mg_audit_record_push(log, &r, &seq, &err), MG_EINTEGRITY);
    mg_error_clear(&err);
    mg_audit_close(log);
    cr_assert_eq(count_entries(&f), 3);

    /* The same check guards a checkpoint's own transaction. */
    fx_sql(&f, "UPDATE state SET size = 3");
    audit_db d;
    cr_assert_eq(audit_db_open(&d, NULL, f.db, NULL, false, true, NULL), MG_OK);
    fx_sql(&f, "UPDATE state SET size = 2");
    cr_assert_eq(audit_db_checkpoint(&d, 1, &err), MG_EINTEGRITY);
    cr_assert_str_eq(err.message, "the log holds 2 entries but this writer's tree has 3: "
                     "another writer has changed it; nothing was written");
    mg_error_clear(&err);
    audit_db_close(&d);
    fx_fini(&f);
}

/* A node row already stored where the batch's new node goes (left by a
 * writer that ignored the lock) is never overwritten: the batch fails and
 * nothing of it is written. */
Test(writer, stored_node_in_the_way_fails_the_batch)
{
    fixture f;
    fx_init(&f);
    mg_audit_log *log = fx_open(&f, 100);
    fx_append(&f, log, 3);
    fx_sql(&f, "INSERT INTO nodes(level, idx, hash) VALUES (1, 1, zeroblob(32))");
    mg_audit_record r = { .kind = "decision", .payload = "{}" };
    uint64_t seq;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_append(log, &r, &seq, &err), MG_EDB);
    cr_assert_str_eq(err.message, "audit log write failed: storing a tree node: "
                     "UNIQUE constraint failed: nodes.level, nodes.idx");
    mg_error_clear(&err);
    mg_audit_close(log);
    cr_assert_eq(count_entries(&f), 3);
    fx_fini(&f);
}

/* A database the process may not write is refused when the writer opens
 * it, not at its first commit, after decisions were queued. As root the
 * child drops to nobody, for whom the permissions count. */
Test(writer, a_database_it_may_not_write_is_refused_at_open)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 4, 2);
    cr_assert_eq(chmod(f.db, 0444), 0);
    cr_assert_eq(chmod(f.dir, 0755), 0);
    if (getuid() == 0)
        cr_assert_eq(chown(f.key, 65534, 65534), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(9);
        mg_audit_config cfg = fx_config(&f, 2);
        cfg.keystore = NULL;
        mg_audit_log *log = NULL;
        mg_error err = { 0 };
        mg_status s = mg_audit_open(&cfg, &log, &err);
        _exit(s == MG_EIO && log == NULL && err.message &&
              strcmp(err.message, "cannot write the audit log: the file is read-only (open it "
                                  "without a signing key to read it)") == 0 ? 0 : 1);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
    chmod(f.db, 0644);
    fx_fini(&f);
}
