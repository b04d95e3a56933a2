/*
 * test_crash.c — durability under SIGKILL. A child appends records and
 * writes each sequence number to a pipe once mg_audit_append says it is
 * durable; the parent kills it at a random moment, 200 times over the same
 * log, and each time checks PRAGMA integrity_check, that every reported
 * seq is stored, and that the log verifies (its tail may be unanchored).
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include "tests/audit/fixture.h"
#include "tests/audit/helpers.h"

static void child(fixture *f, int fd)
{
    mg_audit_config cfg = { .path = f->db, .keystore = f->ks, .origin = "acme/sales/orders",
                            .signing_key = f->key, .checkpoint_every = 7 };
    mg_audit_log *log;
    if (mg_audit_open(&cfg, &log, NULL) != MG_OK)
        _exit(2);
    for (;;) {
        mg_audit_record r = { .kind = "decision", .subject = "crash@corp.example",
                              .effect = "allow", .payload = "{}" };
        uint64_t seq;
        if (mg_audit_append(log, &r, &seq, NULL) != MG_OK)
            _exit(3);
        if (write(fd, &seq, sizeof seq) != sizeof seq)
            _exit(4);
    }
}

static uint64_t stored(fixture *f, char *integrity, size_t cap)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_open(f->db, &db), SQLITE_OK);
    cr_assert_eq(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    snprintf(integrity, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    /* A child killed while creating the log leaves no schema at all. */
    uint64_t n = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM entries", -1, &st, NULL) == SQLITE_OK) {
        cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
        n = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

Test(crash, sigkill_never_loses_a_durable_append, .timeout = 600)
{
    fixture f;
    fx_init(&f);
    srand((unsigned)time(NULL));
    uint64_t max_reported = 0;
    bool any = false;
    for (int round = 0; round < 200; round++) {
        int p[2];
        cr_assert_eq(pipe(p), 0);
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
            close(p[0]);
            child(&f, p[1]);
        }
        close(p[1]);
        /* Most rounds kill the child while it appends: wait until it has
         * reported one durable append (however slow the machine), then a
         * random moment. Every fifth round kills at a random moment from
         * the start, schema creation included. */
        if (round % 5 != 0) {
            struct pollfd pfd = { .fd = p[0], .events = POLLIN };
            cr_assert_eq(poll(&pfd, 1, 30000), 1, "round %d: no durable append in 30 s", round);
        }
        struct timespec ts = { 0, (long)(rand() % 40 + 1) * 1000000L };
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        cr_assert(WIFSIGNALED(status), "child exited with %d", WEXITSTATUS(status));
        uint64_t seq;
        while (read(p[0], &seq, sizeof seq) == sizeof seq) {
            cr_assert(!any || seq > max_reported || seq == 0, "seq %llu reported twice",
                      (unsigned long long)seq);
            max_reported = seq;
            any = true;
        }
        close(p[0]);
        char integrity[256];
        uint64_t n = stored(&f, integrity, sizeof integrity);
        cr_assert_str_eq(integrity, "ok");
        if (any)
            cr_assert_gt(n, max_reported, "round %d: seq %llu reported durable, %llu stored",
                         round, (unsigned long long)max_reported, (unsigned long long)n);
        if (n == 0)
            continue;
        mg_audit_report rep = fx_verify(&f, NULL);
        cr_assert_neq(rep.verdict, MG_AUDIT_FAIL, "round %d: %s", round, rep.message);
        cr_assert_eq(rep.size, n);
    }
    cr_assert(any, "no append was ever reported durable");
    fx_fini(&f);
}
