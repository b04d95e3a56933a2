/*
 * bench_check.c — `policy-check` over a generated mesh of 1,000 products
 * (`make bench`; bench/README.md).
 *
 * Writes a seeded mesh to a temporary directory — 20 domains of 50
 * products, each with two output ports of 8 columns, an input port reading
 * an upstream product, the 4 global policies of the catalogue adopted and
 * one local policy file — then runs the real `policy-check` program over
 * it (the one next to this benchmark's directory: BUILD/policy-check) and
 * times the whole run, as a CI job would see it. The library part of the
 * same work (mg_engine_load + mg_check_product per product, what
 * policy-check calls) is timed in-process too.
 *
 * usage: bench_check [--products N] [--keep]
 *   --products N  mesh size (default 1000, a multiple of 20)
 *   --keep        leave the generated mesh in place and print its path
 *
 * Exits 1 when policy-check does not pass the generated mesh or the library
 * returns an error, 2 on bad usage or when the mesh cannot be written.
 */
#include <errno.h>
#include <meshgov.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SEED 0x636865636b76310aull   /* "checkv1\n" */
#define N_DOMAINS 20
#define TARGET_S 2.0
#define NOW "2026-06-01T00:00:00Z"
#define NOW_US 1780272000000000ll

static uint64_t rng = SEED;

/* splitmix64: the same mesh on every run. */
static uint64_t next(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ==========================================================================
 * Writing the mesh
 * ========================================================================== */

static const char mesh_yaml[] =
    "mesh: bench\n"
    "global_policies: policies/global\n"
    "policies:\n"
    "  - { id: pii_purpose_limitation, version: 1, lifecycle: required }\n"
    "  - { id: masking, version: 1, lifecycle: required }\n"
    "  - { id: records_retention, version: 1, lifecycle: grace, grace_until: 2026-12-31 }\n"
    "  - { id: personal_data_encryption, version: 1, lifecycle: required }\n"
    "schema:\n"
    "  subject: { id: string, roles: set<string>, domain: string, clearance: int }\n"
    "  context: { purpose: string, region: string }\n"
    "actions: [export]\n";

static const struct { const char *name, *text; } globals[] = {
    { "pii_purpose_limitation",
      "policy pii_purpose_limitation {\n  version 1\n  scope global\n"
      "  forbid read, write on column\n    when column.tags has \"pii\"\n"
      "    unless subject.roles has \"pii-reader\" and context.purpose in [\"fraud\", \"support\"]\n"
      "  mask column with hash\n    when column.tags has \"email\" and not (subject.roles has \"support\")\n}\n" },
    { "masking",
      "policy masking {\n  version 1\n  scope global\n"
      "  mask column with last4 when column.tags has \"pci\" unless subject.roles has \"payments-steward\"\n"
      "  mask column with year when column.tags has \"birthdate\"\n}\n" },
    { "records_retention",
      "policy records_retention {\n  version 1\n  scope global\n"
      "  retain port for 7y after event_time then archive when port.tags has \"financial\"\n"
      "  retain column for 365d after event_time then delete when column.tags has \"pii\"\n"
      "  hold port when product.legal_hold\n"
      "  forget subject within 30d then delete on port when port.subject_key != \"\"\n}\n" },
    { "personal_data_encryption",
      "policy personal_data_encryption {\n  version 1\n  scope global\n"
      "  require encryption at_rest on column when column.tags has \"pii\"\n"
      "  require encryption in_transit on port when port.visibility == \"public\"\n}\n" },
};

/* Columns a port draws from: name, type, tags, whether it is encrypted
 * (every pii column is: the mesh passes its checks). */
static const struct { const char *name, *type, *tags; } columns[] = {
    { "customer_id", "string", "[pii]" },     { "email", "string", "[pii, email]" },
    { "card_number", "string", "[pci, financial]" }, { "birth_date", "date", "[pii, birthdate]" },
    { "amount_cents", "int", "[financial]" }, { "currency", "string", "[]" },
    { "country", "string", "[]" },            { "sku", "string", "[]" },
    { "quantity", "int", "[]" },              { "channel", "string", "[]" },
    { "campaign", "string", "[]" },           { "score", "int", "[]" },
};
#define N_COLUMNS (sizeof columns / sizeof columns[0])

static const char *const local_rules[] = {
    "  permit read on port when subject.domain == product.domain\n",
    "  permit read on port when port.visibility == \"public\"\n",
    "  permit * on product when subject.roles has \"steward\" and subject.domain == product.domain\n",
    "  forbid write, delete on product when subject.domain != product.domain\n",
    "  forbid * on column when subject.id matches \"^ext-[0-9]+@partner\\\\.com$\" and column.tags has \"financial\"\n",
    "  permit export on port when subject.clearance >= 3 and context.purpose == \"reporting\"\n",
};
#define N_LOCAL (sizeof local_rules / sizeof local_rules[0])

static bool write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    bool ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok;
}

static bool mkdirs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static bool mkdirs(const char *fmt, ...)
{
    char path[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                return false;
            *p = '/';
        }
    return mkdir(path, 0755) == 0 || errno == EEXIST;
}

/* One output port of 8 distinct columns, chosen by the seeded generator. */
static void write_port(FILE *f, const char *name, int subject_keyed)
{
    bool used[N_COLUMNS] = { false };
    bool pii = false, fin = false;
    size_t pick[8];
    used[0] = subject_keyed;   /* customer_id first on keyed ports */
    pick[0] = 0;
    for (size_t k = subject_keyed ? 1 : 0; k < 8; k++) {
        size_t c;
        do
            c = next() % N_COLUMNS;
        while (used[c]);
        used[c] = true;
        pick[k] = c;
    }
    for (size_t k = 0; k < 8; k++) {
        pii |= strstr(columns[pick[k]].tags, "pii") != NULL;
        fin |= strstr(columns[pick[k]].tags, "financial") != NULL;
    }
    bool public = next() % 4 == 0;
    fprintf(f, "  - name: %s\n    visibility: %s\n    tags: [%s%s%s]\n", name, public ? "public" : "domain",
            pii ? "pii" : "", pii && fin ? ", " : "", fin ? "financial" : "");
    fprintf(f, "    subject_key: %s\n", subject_keyed ? "customer_id" : "\"\"");
    fprintf(f, "    encryption: { at_rest: true, in_transit: true }\n    schema:\n");
    for (size_t k = 0; k < 8; k++) {
        const char *tags = columns[pick[k]].tags;
        fprintf(f, "      - { name: %s, type: %s, tags: %s%s }\n", columns[pick[k]].name, columns[pick[k]].type, tags,
                strstr(tags, "pii") ? ", encryption: true" : "");
    }
    fprintf(f, "      - { name: event_time, type: timestamp }\n");
}

static bool write_product(const char *dir, int d, int p, int per_domain)
{
    char path[4096];
    if (!mkdirs("%s/domains/d%02d/p%03d/policies", dir, d, p))
        return false;
    snprintf(path, sizeof path, "%s/domains/d%02d/p%03d/product.yaml", dir, d, p);
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, "uri: dp://d%02d/p%03d\ndomain: d%02d\nowner: team-d%02d@corp.example\n", d, p, d, d);
    fprintf(f, "kind: %s\nallowed_regions: [eu-west-1, eu-central-1]\nlegal_hold: %s\n",
            p == 0 ? "source-aligned" : "aggregate", next() % 20 == 0 ? "true" : "false");
    fprintf(f, "adopts:\n");
    for (size_t g = 0; g < sizeof globals / sizeof *globals; g++)
        fprintf(f, "  - { policy: %s, version: 1 }\n", globals[g].name);
    fprintf(f, "policies: [policies/local.policy]\n");
    if (p > 0) {   /* lineage: read an upstream product of the same domain */
        int up = (int)(next() % (uint64_t)p);
        fprintf(f, "input_ports:\n  - name: upstream\n    from: dp://d%02d/p%03d:main\n", d, up);
    }
    (void)per_domain;
    fprintf(f, "output_ports:\n");
    write_port(f, "main", 1);
    write_port(f, "extra", 0);
    bool ok = fclose(f) == 0;

    snprintf(path, sizeof path, "%s/domains/d%02d/p%03d/policies/local.policy", dir, d, p);
    char text[2048];
    int n = snprintf(text, sizeof text, "policy local_d%02d_p%03d {\n  version 1\n  scope local\n", d, p);
    for (int r = 0; r < 3; r++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s", local_rules[next() % N_LOCAL]);
    snprintf(text + n, sizeof text - (size_t)n, "}\n");
    return ok && write_file(path, text);
}

static bool write_mesh(const char *dir, int nproducts)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/mesh.yaml", dir);
    if (!write_file(path, mesh_yaml) || !mkdirs("%s/policies/global", dir))
        return false;
    for (size_t g = 0; g < sizeof globals / sizeof *globals; g++) {
        snprintf(path, sizeof path, "%s/policies/global/%s.policy", dir, globals[g].name);
        if (!write_file(path, globals[g].text))
            return false;
    }
    int per = nproducts / N_DOMAINS;
    for (int d = 0; d < N_DOMAINS; d++)
        for (int p = 0; p < per; p++)
            if (!write_product(dir, d, p, per))
                return false;
    return true;
}

/* ==========================================================================
 * Timing
 * ========================================================================== */

/* Runs BUILD/policy-check --mesh dir --now NOW with stdout to /dev/null;
 * returns its exit status (-1 when it could not run). */
static int run_policy_check(const char *prog, const char *dir, double *secs)
{
    char *argv[] = { (char *)prog, "--mesh", (char *)dir, "--now", NOW, "--format", "json", NULL };
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1 /* O_WRONLY */, 0);
    pid_t pid;
    double t0 = now_s();
    int rc = posix_spawn(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        return -1;
    int st;
    if (waitpid(pid, &st, 0) < 0)
        return -1;
    *secs = now_s() - t0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

typedef struct counted {
    size_t errors, findings;
} counted;

static int count_finding(void *ud, const mg_finding *f)
{
    counted *c = ud;
    c->findings++;
    c->errors += f->severity == MG_SEV_ERROR;
    return 0;
}

/* The library's share: load (compile) and check each product. */
static int run_library(const char *dir, int nproducts, double *load_s, double *check_s, counted *c)
{
    mg_engine *e = NULL;
    mg_error err = { 0 };
    if (mg_engine_new(NULL, &e, &err))
        return 1;
    int per = nproducts / N_DOMAINS;
    *load_s = *check_s = 0;
    for (int d = 0; d < N_DOMAINS; d++)
        for (int p = 0; p < per; p++) {
            char uri[64];
            snprintf(uri, sizeof uri, "dp://d%02d/p%03d", d, p);
            double t0 = now_s();
            mg_status s = mg_engine_load(e, dir, uri, &err);
            double t1 = now_s();
            if (s == MG_OK)
                s = mg_check_product(e, dir, uri, NOW_US, count_finding, c, &err);
            *load_s += t1 - t0;
            *check_s += now_s() - t1;
            if (s) {
                fprintf(stderr, "bench_check: %s: %s\n", uri, err.message ? err.message : mg_status_str(s));
                mg_error_clear(&err);
                mg_engine_free(e);
                return 1;
            }
        }
    mg_engine_free(e);
    return 0;
}

static void remove_tree(const char *dir)
{
    char *argv[] = { "rm", "-rf", (char *)dir, NULL };
    pid_t pid;
    int st;
    if (posix_spawnp(&pid, "rm", NULL, NULL, argv, environ) == 0)
        waitpid(pid, &st, 0);
}

int main(int argc, char **argv)
{
    int nproducts = 1000;
    bool keep = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--products") == 0 && i + 1 < argc)
            nproducts = atoi(argv[++i]);
        else if (strcmp(argv[i], "--keep") == 0)
            keep = true;
        else {
            fprintf(stderr, "usage: bench_check [--products N] [--keep]\n");
            return 2;
        }
    }
    if (nproducts < N_DOMAINS || nproducts % N_DOMAINS || nproducts > 100 * N_DOMAINS) {
        fprintf(stderr, "bench_check: --products must be a multiple of %d from %d to %d\n", N_DOMAINS, N_DOMAINS,
                100 * N_DOMAINS);
        return 2;
    }
    /* BUILD/bench/bench_check -> BUILD/policy-check */
    char prog[4096];
    const char *slash = strrchr(argv[0], '/');
    snprintf(prog, sizeof prog, "%.*s/../policy-check", slash ? (int)(slash - argv[0]) : 1,
             slash ? argv[0] : ".");
    char dir[] = "/tmp/meshgov-bench-check-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench_check: mkdtemp");
        return 2;
    }
    double t0 = now_s();
    if (!write_mesh(dir, nproducts)) {
        fprintf(stderr, "bench_check: cannot write the mesh in %s: %s\n", dir, strerror(errno));
        remove_tree(dir);
        return 2;
    }
    printf("workload: %d products in %d domains, 2 output ports of 9 columns each, 4 global policies (seed %016llx)\n",
           nproducts, N_DOMAINS, (unsigned long long)SEED);
    printf("mesh_write: %.3f s\n", now_s() - t0);
    double secs = 0;
    int rc = run_policy_check(prog, dir, &secs);
    int status = 0;
    if (rc != 0) {
        fprintf(stderr, "bench_check: %s exited %d on %s\n", prog, rc, dir);
        status = 1;
    } else {
        printf("policy_check_wall: %.3f s (policy-check --mesh over %d products; target < %.0f s: %s)\n", secs,
               nproducts, TARGET_S, secs < TARGET_S ? "met" : "NOT met");
        printf("policy_check_per_product: %.2f ms\n", secs * 1e3 / nproducts);
    }
    double load_s = 0, check_s = 0;
    counted c = { 0, 0 };
    if (status == 0 && run_library(dir, nproducts, &load_s, &check_s, &c) != 0)
        status = 1;
    else if (status == 0) {
        printf("library_load: %.3f s (mg_engine_load of every product)\n", load_s);
        printf("library_check: %.3f s (mg_check_product of every product; %zu findings, %zu errors)\n", check_s,
               c.findings, c.errors);
    }
    if (keep)
        printf("mesh: %s\n", dir);
    else
        remove_tree(dir);
    return status;
}
