/*
 * bench_audit.c — the audit log's benchmark (`make bench`).
 *
 * Times the signed audit log (audit/, docs/audit.md) on a seeded workload
 * of realistic decision records: group-committed appends, one durable
 * append at a time, full verification of a 1,000,000-entry log, inclusion
 * proofs at 10,000,000 entries, and the bytes stored per entry. Every
 * figure is one line `name: value unit (note)`; bench/README.md says what
 * each means.
 *
 * Appends, latency, verification and proofs go through the public API
 * (include/meshgov.h). The two large logs are built once and kept under
 * build/bench-cache/: they are built by a bulk path over the library's
 * internal SQLite log (audit/audit.h) that commits 1,000 entries and their
 * checkpoint per transaction with synchronous=OFF, exactly what the writer
 * thread commits for a flushed batch of 1,000, so the database (entries,
 * nodes, checkpoints, state) has the same form as one written through
 * mg_audit_record_push; only the cost of durability is skipped.
 *
 * usage: bench_audit [--quick | --profile]
 *   --quick    appends and latency only, on small counts
 *   --profile  20 batches of appends, then verify and 200 proofs on a cached
 *              100,000-entry log: small enough to run under callgrind
 *              (bench_batches, bench_verify, bench_proofs are the functions
 *              to collect)
 *
 * Exits 1 if the library returns an error anywhere, 2 on bad usage.
 */
#include <meshgov.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "audit/audit.h"

#define SEED 0x6d67617564697431ull  /* "mgaudit1" */
#define N_SUBJECTS 1000
#define N_PRODUCTS 200
#define BATCH 1000
#define N_BATCHES 300               /* appends timed: 300,000 records */
#define N_LATENCY 2000              /* single durable appends timed */
#define N_VERIFY 1000000
#define N_PROOF 10000000
#define N_PROFILE 100000          /* the log of --profile */
#define N_PROOFS 2000               /* proofs generated and checked */
#define EVENT_T0 1772323200000000ll /* 2026-03-01T00:00:00Z */
#define ORIGIN "bench/sales/orders"
#define CACHE_DIR "build/bench-cache"
#define CACHE_FORMAT "meshgov-audit-bench 5" /* bump when the workload or format changes */

/* ==========================================================================
 * Helpers
 * ========================================================================== */

static void die(const char *what, const mg_error *err)
{
    fprintf(stderr, "bench_audit: %s: %s\n", what,
            err && err->message ? err->message : err ? mg_status_str(err->code) : "failed");
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_state;

static uint64_t next_rand(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static unsigned below(unsigned n)
{
    return (unsigned)(next_rand() % n);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t *v, size_t n, double p)
{
    qsort(v, n, sizeof *v, cmp_u64);
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i];
}

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static long long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : 0;
}

/* ==========================================================================
 * The workload: decision records as the engine writes them
 * ========================================================================== */

static const char *const domains[] = { "sales", "crm", "finance", "marketing",
                                       "logistics", "hr", "risk", "support" };
static const char *const ports[] = { "orders_curated", "customers_raw", "payments_daily",
                                     "clicks_aggregate", "tickets" };
static const char *const actions[] = { "read", "read", "read", "write", "export", "delete" };
static const char *const effects[] = { "allow", "allow", "partial", "deny" };
static const char *const rule_sets[] = {
    "domain_access@1#2", "domain_access@1#2 masking@3#1",
    "pii_purpose_limitation@2#1 domain_access@1#4", "records_retention@1#3",
};
static const char *const purposes[] = { "fraud", "support", "legal", "reporting", "marketing" };
static const char *const regions[] = { "eu-west-1", "eu-central-1", "us-east-1", "us-west-2" };
static const char *const columns[] = { "email", "card_number", "order_id", "amount_cents",
                                       "country", "created_at" };

typedef struct workload {
    char subject[N_SUBJECTS][48];
    char product[N_PRODUCTS][64];
    char digest[4][65];
} workload;

static workload W;

static void workload_init(void)
{
    rng_state = SEED;
    for (int i = 0; i < N_SUBJECTS; i++) {
        if (i % 10 == 9)
            snprintf(W.subject[i], sizeof W.subject[i], "ext-%u@partner.com", 100 + below(9900));
        else
            snprintf(W.subject[i], sizeof W.subject[i], "user%04d@corp.example", i);
    }
    for (int i = 0; i < N_PRODUCTS; i++)
        snprintf(W.product[i], sizeof W.product[i], "dp://%s/product-%03d",
                 domains[i % 8], i);
    for (int d = 0; d < 4; d++)
        for (int k = 0; k < 64; k++)
            W.digest[d][k] = "0123456789abcdef"[below(16)];
}

/* One decision record into caller buffers; the payload is ~150 bytes. */
typedef struct recbuf {
    mg_audit_record r;
    char payload[256];
} recbuf;

static void make_record(recbuf *b, uint64_t i)
{
    unsigned c1 = below(6), c2 = below(6);
    snprintf(b->payload, sizeof b->payload,
             "{\"columns\":[\"%s\",\"%s\"],\"masked\":[\"%s\"],\"purpose\":\"%s\","
             "\"region\":\"%s\",\"request_id\":\"req-%012llu\",\"rows\":%u}",
             columns[c1], columns[c2], columns[c1], purposes[below(5)], regions[below(4)],
             (unsigned long long)i, below(100000));
    b->r = (mg_audit_record){
        .kind = "decision", .product = W.product[below(N_PRODUCTS)],
        .port = ports[below(5)], .subject = W.subject[below(N_SUBJECTS)],
        .action = actions[below(6)], .effect = effects[below(4)],
        .rules = rule_sets[below(4)], .mode = below(10) ? "enforce" : "dry_run",
        .digest = W.digest[below(4)], .payload = b->payload,
        .event_time_us = EVENT_T0 + (int64_t)i * 1000 - (int64_t)below(5000),
    };
}

/* ==========================================================================
 * Keys and fresh logs
 * ========================================================================== */

typedef struct paths {
    char dir[256], db[300], ks[300], key[300], keys[300];
} paths;

static void paths_in(paths *p, const char *dir)
{
    snprintf(p->dir, sizeof p->dir, "%s", dir);
    snprintf(p->db, sizeof p->db, "%s/audit.db", dir);
    snprintf(p->ks, sizeof p->ks, "%s/keystore.db", dir);
    snprintf(p->key, sizeof p->key, "%s/signing.key", dir);
    snprintf(p->keys, sizeof p->keys, "%s/pinned.keys", dir);
}

/* A new signing key and the pinned key file that trusts it. */
static void make_keys(const paths *p)
{
    mg_error err = { 0 };
    char *vkey = NULL;
    if (mg_audit_keygen(ORIGIN, p->key, &vkey, &err) != MG_OK)
        die("mg_audit_keygen", &err);
    FILE *f = fopen(p->keys, "w");
    if (!f || fprintf(f, "%s\n", vkey) < 0 || fclose(f) != 0)
        die("writing the pinned key file", NULL);
    mg_free(vkey);
}

static mg_audit_log *open_log(const paths *p)
{
    mg_audit_config cfg = { .path = p->db, .keystore = p->ks, .origin = ORIGIN,
                            .signing_key = p->key, .ring_capacity = 4096 };
    mg_audit_log *log = NULL;
    mg_error err = { 0 };
    if (mg_audit_open(&cfg, &log, &err) != MG_OK)
        die("mg_audit_open", &err);
    return log;
}

static void remove_files(const paths *p)
{
    const char *files[] = { p->db, p->ks, p->key, p->keys };
    char extra[320];
    for (size_t i = 0; i < 4; i++) {
        unlink(files[i]);
        snprintf(extra, sizeof extra, "%s-wal", files[i]);
        unlink(extra);
        snprintf(extra, sizeof extra, "%s-shm", files[i]);
        unlink(extra);
    }
}

/* ==========================================================================
 * Appends through the public API
 * ========================================================================== */

__attribute__((noinline)) static double bench_batches(const paths *p, int batches)
{
    mg_audit_log *log = open_log(p);
    mg_error err = { 0 };
    recbuf *b = malloc(BATCH * sizeof *b);
    if (!b)
        die("out of memory", NULL);
    uint64_t i = 0, busy_ns = 0;
    for (int k = 0; k < batches; k++) {
        for (int j = 0; j < BATCH; j++)
            make_record(&b[j], i++);
        uint64_t t0 = now_ns();
        for (int j = 0; j < BATCH; j++)
            if (mg_audit_record_push(log, &b[j].r, NULL, &err) != MG_OK)
                die("mg_audit_record_push", &err);
        if (mg_audit_flush(log, &err) != MG_OK)
            die("mg_audit_flush", &err);
        busy_ns += now_ns() - t0;
    }
    double rate = (double)i / ((double)busy_ns / 1e9);
    printf("append, batches of %d: %.0f appends/s (mg_audit_record_push x %d then mg_audit_flush, "
           "%d batches, synchronous=FULL, checkpoint every 1000; target >= 200000/s: %s)\n",
           BATCH, rate, BATCH, batches, rate >= 200000 ? "met" : "MISSED");
    mg_audit_close(log);
    free(b);
    return rate;
}

static void bench_latency(const paths *p, int n)
{
    mg_audit_log *log = open_log(p);
    mg_error err = { 0 };
    recbuf b;
    uint64_t *lat = malloc((size_t)n * sizeof *lat);
    if (!lat)
        die("out of memory", NULL);
    for (int i = 0; i < n; i++) {
        make_record(&b, (uint64_t)i);
        uint64_t t0 = now_ns();
        if (mg_audit_append(log, &b.r, NULL, &err) != MG_OK)
            die("mg_audit_append", &err);
        lat[i] = now_ns() - t0;
    }
    uint64_t p50 = pct(lat, (size_t)n, 0.50), p99 = pct(lat, (size_t)n, 0.99);
    printf("durable append latency p50: %.1f us (mg_audit_append, one record, %d calls, "
           "synchronous=FULL)\n", (double)p50 / 1e3, n);
    printf("durable append latency p99: %.1f us (the same calls)\n", (double)p99 / 1e3);
    mg_audit_close(log);
    free(lat);
}

/* ==========================================================================
 * The cached large logs
 * ========================================================================== */

/* Bulk path: the writer's own append (audit_db_append) over batches of
 * 1,000 records with a checkpoint each, pseudonyms from the key store. */
static void bulk_build(const paths *p, uint64_t n)
{
    mg_error err = { 0 };
    audit_keystore *ks;
    audit_db d;
    if (audit_keystore_open(NULL, p->ks, false, &ks, &err) != MG_OK)
        die("opening the key store", &err);
    if (audit_db_open(&d, NULL, p->db, ORIGIN, false, false, &err) != MG_OK)
        die("opening the log", &err);
    if (sqlite3_exec(d.db, "PRAGMA synchronous=OFF", NULL, NULL, NULL) != SQLITE_OK)
        die("PRAGMA synchronous=OFF", NULL);
    if (!(d.signers = malloc(sizeof *d.signers)) ||
        audit_skey_load(p->key, d.signers, &err) != MG_OK)
        die("loading the signing key", &err);
    d.n_signers = 1;
    if (audit_hashpool_start(NULL, &d.pool, &err) != MG_OK)
        die("starting the hashing thread", &err);
    static char pseud[N_SUBJECTS][33];
    for (int i = 0; i < N_SUBJECTS; i++)
        if (audit_keystore_pseudonym(ks, W.subject[i], true, pseud[i], &err) != MG_OK)
            die("pseudonym", &err);
    audit_rec *recs = calloc(BATCH, sizeof *recs);
    audit_rec *ptr[BATCH];
    if (!recs)
        die("out of memory", NULL);
    recbuf b;
    int64_t proc = EVENT_T0;
    for (uint64_t done = 0; done < n; done += BATCH) {
        for (int j = 0; j < BATCH; j++) {
            audit_rec *r = ptr[j] = &recs[j];
            make_record(&b, done + (uint64_t)j);
            const char *v[AUDIT_NFIELDS] = { b.r.kind, b.r.product, b.r.port, NULL, b.r.action,
                                             b.r.effect, b.r.rules, b.r.mode, b.r.digest,
                                             b.r.payload };
            int si = (int)((b.r.subject - W.subject[0]) / (ptrdiff_t)sizeof W.subject[0]);
            v[AUDIT_F_SUBJECT] = pseud[si];
            r->event_time = b.r.event_time_us;
            r->governance = false;
            for (int f = 0; f < AUDIT_NFIELDS; f++) {
                r->n[f] = (uint16_t)strlen(v[f]);
                memcpy(audit_rec_field(r, f), v[f], r->n[f]);
            }
        }
        proc += 1000;
        if (audit_db_append(&d, ptr, BATCH, proc, true, &err) != MG_OK)
            die("bulk append", &err);
        if (done % 1000000 == 0 && done)
            fprintf(stderr, "bench_audit: building %s: %llu entries\n", p->db,
                    (unsigned long long)done);
    }
    if (sqlite3_exec(d.db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
        die("wal_checkpoint", NULL);
    free(recs);
    audit_hashpool_stop(d.pool);
    d.pool = NULL;
    audit_db_close(&d);
    audit_keystore_close(ks);
}

/* A cached log is valid when its stamp names this format and size, and the
 * log opens with that many entries and a checkpoint of that size. */
static bool cache_valid(const paths *p, uint64_t n)
{
    char stamp[320], want[128], got[128] = "";
    snprintf(stamp, sizeof stamp, "%s/STAMP", p->dir);
    snprintf(want, sizeof want, "%s %llu\n", CACHE_FORMAT, (unsigned long long)n);
    FILE *f = fopen(stamp, "r");
    if (!f)
        return false;
    bool ok = fgets(got, sizeof got, f) && strcmp(got, want) == 0;
    fclose(f);
    if (!ok || !file_exists(p->db) || !file_exists(p->keys))
        return false;
    mg_audit_config cfg = { .path = p->db, .origin = ORIGIN };
    mg_audit_log *log = NULL;
    mg_error err = { 0 };
    if (mg_audit_open(&cfg, &log, &err) != MG_OK) {
        mg_error_clear(&err);
        return false;
    }
    char *note = NULL;
    ok = mg_audit_size(log) == n && mg_audit_prove(log, n - 1, n, &note, &err) == MG_OK &&
         mg_audit_check_proof(note, strlen(note), p->keys, &err) == MG_OK;
    mg_error_clear(&err);
    mg_free(note);
    mg_audit_close(log);
    return ok;
}

static void cached_log(paths *p, const char *name, uint64_t n)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", CACHE_DIR, name);
    paths_in(p, dir);
    if (cache_valid(p, n)) {
        printf("build %s log: cached (%s)\n", name, p->db);
        return;
    }
    mkdir("build", 0755);
    mkdir(CACHE_DIR, 0755);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        die("mkdir of the cache", NULL);
    char stamp[320];
    snprintf(stamp, sizeof stamp, "%s/STAMP", dir);
    unlink(stamp);
    remove_files(p);
    make_keys(p);
    rng_state = SEED ^ n;
    uint64_t t0 = now_ns();
    bulk_build(p, n);
    double s = (double)(now_ns() - t0) / 1e9;
    FILE *f = fopen(stamp, "w");
    if (!f || fprintf(f, "%s %llu\n", CACHE_FORMAT, (unsigned long long)n) < 0 || fclose(f))
        die("writing the cache stamp", NULL);
    printf("build %s log: %.1f s (%llu entries, %.0f entries/s, bulk path: batches of %d with a "
           "checkpoint each, synchronous=OFF)\n", name, s, (unsigned long long)n,
           (double)n / s, BATCH);
}

/* ==========================================================================
 * Verification, proofs, size
 * ========================================================================== */

__attribute__((noinline)) static void bench_verify(const paths *p, uint64_t n)
{
    mg_audit_verify_opts o = { .db = p->db, .keys = p->keys };
    mg_audit_report rep;
    mg_error err = { 0 };
    uint64_t t0 = now_ns();
    if (mg_audit_verify(&o, &rep, &err) != MG_OK)
        die("mg_audit_verify", &err);
    double s = (double)(now_ns() - t0) / 1e9;
    if (rep.verdict != MG_AUDIT_OK || rep.size != n) {
        fprintf(stderr, "bench_audit: verify: %s\n", rep.message);
        exit(1);
    }
    double rate = (double)n / s;
    printf("verify: %.0f entries/s (mg_audit_verify of %llu entries, %llu checkpoints, %.2f s; "
           "target >= 1000000/s: %s)\n", rate, (unsigned long long)n,
           (unsigned long long)rep.checkpoints, s, rate >= 1e6 ? "met" : "MISSED");
}

/* What SHA-256 alone allows: verifying an entry hashes its leaf (the
 * encoded entry) and, on average, one interior node. Timed on the first
 * 20,000 stored entries with libsodium, as the verifier hashes them; the
 * bound assumes every core hashes and nothing else costs anything. */
__attribute__((noinline)) static void bench_hash_bound(const paths *p)
{
    enum { N = 20000 };
    sqlite3 *db;
    sqlite3_stmt *st;
    if (sqlite3_open_v2(p->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT entry FROM entries ORDER BY seq LIMIT 20000", -1, &st,
                           NULL) != SQLITE_OK)
        die("reading entries for the hashing bound", NULL);
    size_t cap = (size_t)N * 1024, used = 0, n = 0, off[N + 1];
    uint8_t *buf = malloc(cap);
    if (!buf)
        die("out of memory", NULL);
    off[0] = 0;
    while (n < N && sqlite3_step(st) == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (used + len > cap)
            break;
        memcpy(buf + used, sqlite3_column_blob(st, 0), len);
        used += len;
        off[++n] = used;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    bool was = audit_sha256_use_cpu(true);
    for (int cpu = 1; cpu >= 0; cpu--) {
        audit_sha256_use_cpu(cpu);
        if (cpu && strcmp(audit_sha256_impl(), "libsodium") == 0)
            continue;
        uint8_t h[2][AUDIT_HASH] = { { 0 } };
        uint64_t t0 = now_ns();
        for (size_t i = 0; i < n; i++) {
            audit_leaf_hash(buf + off[i], off[i + 1] - off[i], h[i & 1]);
            audit_node_hash(h[0], h[1], h[i & 1]);
        }
        double per = (double)(now_ns() - t0) / (double)(n ? n : 1);
        printf("verify bound by hashing alone, %s: %.0f entries/s (%.0f ns per entry, "
               "a %.0f-byte leaf and one node, on %ld cpus, no other work)\n",
               audit_sha256_impl(), per > 0 ? 1e9 * (double)cpus / per : 0.0, per,
               (double)used / (double)(n ? n : 1), cpus);
    }
    audit_sha256_use_cpu(was);
    free(buf);
}

/* Reads the whole file once, so that verification and proofs are timed
 * against the log in the kernel's page cache (as on a server that serves
 * proofs), not against the disk: the figures otherwise swing 2-4x with
 * what ran before. */
static void warm_page_cache(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("reading the log into the page cache", NULL);
    static char buf[1 << 20];
    uint64_t t0 = now_ns(), total = 0;
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        total += k;
    fclose(f);
    printf("page cache: %s read through once (%.1f GB, %.1f s) first\n", path,
           (double)total / 1e9, (double)(now_ns() - t0) / 1e9);
}

/* Proof generation, then its check: cold (mg_audit_check_proof: key file,
 * JSON, Ed25519, path) or with one checker for all the proofs (the key file
 * read once, the checkpoint's signature verified once); then the same
 * entries as C2SP tlog-proofs, with the checker. */
__attribute__((noinline)) static void bench_proofs(const paths *p, uint64_t n, int count)
{
    mg_audit_config cfg = { .path = p->db, .origin = ORIGIN };
    mg_audit_log *log = NULL;
    mg_audit_checker *checker = NULL;
    mg_error err = { 0 };
    if (mg_audit_open(&cfg, &log, &err) != MG_OK)
        die("mg_audit_open (read-only)", &err);
    if (mg_audit_checker_open(p->keys, &checker, &err) != MG_OK)
        die("mg_audit_checker_open", &err);
    size_t c = (size_t)count;
    uint64_t *gen = malloc(c * sizeof *gen), *chk = malloc(c * sizeof *chk),
             *both = malloc(c * sizeof *both), *fast = malloc(c * sizeof *fast),
             *fboth = malloc(c * sizeof *fboth), *tgen = malloc(c * sizeof *tgen),
             *tchk = malloc(c * sizeof *tchk), *tboth = malloc(c * sizeof *tboth);
    if (!gen || !chk || !both || !fast || !fboth || !tgen || !tchk || !tboth)
        die("out of memory", NULL);
    rng_state = SEED + 7;
    for (size_t i = 0; i < c; i++) {
        /* Each format proves an entry of its own, so that neither finds the
         * pages of the other's entry in the cache. */
        uint64_t seq = next_rand() % n, tseq = next_rand() % n;
        char *json = NULL;
        uint64_t t0 = now_ns();
        if (mg_audit_prove(log, seq, n, &json, &err) != MG_OK)
            die("mg_audit_prove", &err);
        uint64_t t1 = now_ns();
        if (mg_audit_check_proof(json, strlen(json), p->keys, &err) != MG_OK)
            die("mg_audit_check_proof", &err);
        uint64_t t2 = now_ns();
        if (mg_audit_checker_check(checker, json, strlen(json), &err) != MG_OK)
            die("mg_audit_checker_check", &err);
        uint64_t t3 = now_ns();
        char *tlog = NULL;
        uint64_t t4 = now_ns();
        if (mg_audit_prove_tlog(log, tseq, n, &tlog, &err) != MG_OK)
            die("mg_audit_prove_tlog", &err);
        uint64_t t5 = now_ns();
        if (mg_audit_checker_check(checker, tlog, strlen(tlog), &err) != MG_OK)
            die("mg_audit_checker_check (tlog-proof)", &err);
        uint64_t t6 = now_ns();
        gen[i] = t1 - t0;
        chk[i] = t2 - t1;
        both[i] = t2 - t0;
        fast[i] = t3 - t2;
        fboth[i] = (t1 - t0) + (t3 - t2);
        tgen[i] = t5 - t4;
        tchk[i] = t6 - t5;
        tboth[i] = t6 - t4;
        mg_free(json);
        mg_free(tlog);
    }
    uint64_t g = pct(gen, c, 0.5), k = pct(chk, c, 0.5), b = pct(both, c, 0.5),
             b99 = pct(both, c, 0.99), f = pct(fast, c, 0.5), fb = pct(fboth, c, 0.5),
             fb99 = pct(fboth, c, 0.99), tg = pct(tgen, c, 0.5), tk = pct(tchk, c, 0.5),
             tb = pct(tboth, c, 0.5), tb99 = pct(tboth, c, 0.99);
    printf("inclusion proof generation: %.1f us (mg_audit_prove at %llu entries, median of %d "
           "random entries)\n", (double)g / 1e3, (unsigned long long)n, count);
    printf("inclusion proof check: %.1f us (mg_audit_check_proof: JSON, pinned key file, "
           "Ed25519 checkpoint signature, Merkle path; median)\n", (double)k / 1e3);
    printf("inclusion proof check with a checker: %.1f us (mg_audit_checker_check: JSON and "
           "Merkle path, the checkpoint's signature verified once; median)\n", (double)f / 1e3);
    printf("inclusion proof generation + check: %.1f us (median, with a checker; p99 %.1f us; "
           "target < 50 us: %s)\n", (double)fb / 1e3, (double)fb99 / 1e3,
           fb < 50000 ? "met" : "MISSED");
    printf("inclusion proof generation, tlog-proof: %.1f us (mg_audit_prove_tlog, as many "
           "other random entries; median)\n", (double)tg / 1e3);
    printf("inclusion proof check with a checker, tlog-proof: %.1f us (mg_audit_checker_check; "
           "median)\n", (double)tk / 1e3);
    printf("inclusion proof generation + check, tlog-proof: %.1f us (median, with a checker; "
           "p99 %.1f us; target < 50 us: %s)\n", (double)tb / 1e3, (double)tb99 / 1e3,
           tb < 50000 ? "met" : "MISSED");
    printf("inclusion proof generation + cold check: %.1f us (median, mg_audit_check_proof; "
           "p99 %.1f us; bounded below by one Ed25519 verification)\n", (double)b / 1e3,
           (double)b99 / 1e3);
    free(gen);
    free(chk);
    free(both);
    free(fast);
    free(fboth);
    free(tgen);
    free(tchk);
    free(tboth);
    mg_audit_checker_close(checker);
    mg_audit_close(log);
}

static void bench_size(const paths *p, uint64_t n, const char *name)
{
    sqlite3 *db;
    if (sqlite3_open(p->db, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
        die("checkpointing the WAL", NULL);
    sqlite3_close(db);
    long long sz = file_size(p->db);
    printf("bytes per entry: %.0f bytes (%s log: %lld bytes / %llu entries, WAL checkpointed)\n",
           (double)sz / (double)n, name, sz, (unsigned long long)n);
}

int main(int argc, char **argv)
{
    bool quick = argc == 2 && strcmp(argv[1], "--quick") == 0;
    bool profile = argc == 2 && strcmp(argv[1], "--profile") == 0;
    if (argc > 2 || (argc == 2 && !quick && !profile)) {
        fprintf(stderr, "usage: bench_audit [--quick | --profile]\n");
        return 2;
    }
    uint64_t start = now_ns();
    setvbuf(stdout, NULL, _IOLBF, 0);
    workload_init();
    printf("machine: %ld cpus, SHA-256 of the tree by %s\n", sysconf(_SC_NPROCESSORS_ONLN),
           audit_sha256_impl());
    printf("workload: decision records, %d subjects, %d products, payload ~150 bytes, seed %016llx\n",
           N_SUBJECTS, N_PRODUCTS, (unsigned long long)SEED);
    char dir[] = "/tmp/mg-bench-audit-XXXXXX";
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    paths t;
    paths_in(&t, dir);
    make_keys(&t);
    rng_state = SEED;
    bench_batches(&t, profile ? 20 : quick ? 100 : N_BATCHES);
    remove_files(&t);
    make_keys(&t);
    if (!profile)
        bench_latency(&t, quick ? 200 : N_LATENCY);
    remove_files(&t);
    rmdir(dir);
    if (profile) {
        paths s;
        cached_log(&s, "profile-100k", N_PROFILE);
        bench_verify(&s, N_PROFILE);
        bench_size(&s, N_PROFILE, "100,000-entry");
        bench_proofs(&s, N_PROFILE, 200);
    } else if (!quick) {
        paths v, pr;
        cached_log(&v, "verify-1m", N_VERIFY);
        warm_page_cache(v.db);
        bench_verify(&v, N_VERIFY);
        bench_hash_bound(&v);
        bench_size(&v, N_VERIFY, "1,000,000-entry");
        cached_log(&pr, "proof-10m", N_PROOF);
        warm_page_cache(pr.db);
        bench_proofs(&pr, N_PROOF, N_PROOFS);
        bench_size(&pr, N_PROOF, "10,000,000-entry");
    }
    printf("bench time: %.1f s\n", (double)(now_ns() - start) / 1e9);
    return 0;
}
