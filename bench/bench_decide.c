/*
 * bench_decide.c — the decision engine's benchmark (`make bench`).
 *
 * Builds a seeded, realistic mesh in memory — 200 products with 3 output
 * ports of 20 columns each, 1,000 subjects, 30 contexts, the global policies
 * of DESIGN.md plus per-product local policies — compiles one policy set per
 * product through mg_compile, then times deciding through the public API
 * only (include/meshgov.h). Every figure is printed on its own line as
 * `name: value unit`, optionally followed by a note in parentheses, so runs
 * can be compared line by line. bench/README.md says what each figure means.
 *
 * usage: bench_decide [--quick]
 *   --quick  only the correctness checksum and one pass of the headline loop
 *            over 20,000 requests (for profiling under callgrind:
 *            --toggle-collect=run_single)
 *
 * Exits 1 if the library returns an error anywhere, 2 on bad usage.
 */
#include <meshgov.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ==========================================================================
 * Workload shape
 * ========================================================================== */

#define SEED 0x6d657368676f7631ull  /* "meshgov1" */
#define N_PRODUCTS 200
#define N_PORTS 3
#define N_COLS 20
#define N_SUBJECTS 1000
#define N_SINGLE 200000
#define N_WHOLE 20000
#define N_QUICK 20000
#define N_JSON 50000                /* string-built requests timed */
#define N_AUDIT 50000               /* decisions pushed to an audit log */
#define N_SAMPLE_SINGLE 10000       /* checksum sample */
#define N_SAMPLE_WHOLE 2000
#define N_BIG_POLICIES 1000
#define NOW_US 1772323200000000ll   /* 2026-03-01T00:00:00Z */

static const char *const domains[] = { "sales", "crm", "finance", "marketing",
                                       "logistics", "hr", "risk", "support" };
#define N_DOMAINS (sizeof domains / sizeof domains[0])

static const char *const roles[] = { "analyst", "engineer", "pii-reader", "support", "steward",
                                     "auditor", "finance", "payments-steward", "crm-reader", "partner" };
#define N_ROLES (sizeof roles / sizeof roles[0])
/* Relative frequency of each role among internal subjects. */
static const unsigned role_weight[N_ROLES] = { 30, 20, 10, 10, 6, 4, 10, 3, 7, 0 };

static const char *const regions[] = { "eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-southeast-1" };
#define N_REGIONS (sizeof regions / sizeof regions[0])
static const char *const purposes[] = { "fraud", "support", "legal", "reporting", "marketing", "analytics" };
#define N_PURPOSES (sizeof purposes / sizeof purposes[0])
#define N_CONTEXTS ((int)(N_REGIONS * N_PURPOSES))

static const char *const actions[] = { "read", "write", "delete", "export" };
#define N_ACTIONS 4
static const unsigned action_weight[N_ACTIONS] = { 70, 12, 5, 13 };

static const char *const port_names[] = { "orders", "customers", "events", "payments", "daily_summary",
                                          "profiles", "shipments", "tickets", "invoices", "sessions" };
#define N_PORT_NAMES (sizeof port_names / sizeof port_names[0])

typedef struct coldef {
    const char *name, *type, *tags;   /* tags as a YAML flow list body */
} coldef;

static const coldef col_pool[] = {
    { "order_id", "string", "" },            { "customer_id", "string", "pii" },
    { "email", "string", "pii, email" },     { "phone", "string", "pii, phone" },
    { "birth_date", "date", "pii, birthdate" }, { "card_number", "string", "pci, financial" },
    { "iban", "string", "financial, pii" },  { "amount_cents", "int", "financial" },
    { "currency", "string", "" },            { "revenue_cents", "int", "financial" },
    { "salary_cents", "int", "financial, pii" }, { "address", "string", "pii" },
    { "full_name", "string", "pii" },        { "ip_address", "string", "pii" },
    { "country", "string", "" },             { "region", "string", "" },
    { "sku", "string", "" },                 { "quantity", "int", "" },
    { "status", "string", "" },              { "channel", "string", "" },
    { "event_time", "timestamp", "" },       { "processing_time", "timestamp", "" },
    { "created_at", "timestamp", "" },       { "updated_at", "timestamp", "" },
    { "score", "int", "" },                  { "segment", "string", "" },
    { "campaign_id", "string", "" },         { "device_id", "string", "pii" },
    { "tax_id", "string", "pii, financial" }, { "api_secret", "string", "secret" },
    { "notes", "string", "" },               { "discount_cents", "int", "financial" },
    { "shipment_id", "string", "" },         { "carrier", "string", "" },
    { "warehouse", "string", "" },           { "margin_cents", "int", "financial" },
    { "employee_id", "string", "pii" },      { "ticket_id", "string", "" },
    { "latitude", "float", "pii" },          { "longitude", "float", "pii" },
};
#define N_COL_POOL (sizeof col_pool / sizeof col_pool[0])

/* ==========================================================================
 * Small helpers: failure, clock, random numbers, growable text
 * ========================================================================== */

static void die(const char *what, const mg_error *err)
{
    fprintf(stderr, "bench_decide: %s: %s\n", what,
            err && err->message ? err->message : err ? mg_status_str(err->code) : "failed");
    if (err && err->detail)
        fputs(err->detail, stderr);
    exit(1);
}

static void *xmalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        die("out of memory", NULL);
    return p;
}

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of the calling thread: on a shared machine, time the thread
 * spends descheduled is not the engine's. */
static inline uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64: a fixed seed gives the same mesh and workload on every run. */
static uint64_t rng_state = SEED;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static unsigned below(unsigned n) { return (unsigned)(rnd() % n); }
static bool chance(unsigned percent) { return below(100) < percent; }
static unsigned weighted(const unsigned *w, unsigned n)
{
    unsigned total = 0;
    for (unsigned i = 0; i < n; i++)
        total += w[i];
    unsigned x = below(total);
    for (unsigned i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->s ? t->s + t->len : NULL, t->s ? t->cap - t->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("vsnprintf", NULL);
    if (!t->s || t->len + (size_t)n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *s = realloc(t->s, cap);
        if (!s)
            die("out of memory", NULL);
        t->s = s;
        t->cap = cap;
        va_start(ap, fmt);
        vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
    }
    t->len += (size_t)n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile (0..1) of v[0..n), which it sorts. */
static uint64_t quantile(uint64_t *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_u64);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* ==========================================================================
 * Counting allocator (mg_config.alloc): bytes live now and at most
 * ========================================================================== */

typedef struct counter {
    size_t live, peak;
    uint64_t calls;
} counter;

static void *count_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    counter *c = ud;
    if (nsize == 0) {
        if (ptr)
            c->live -= osize;
        free(ptr);
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (!p)
        return NULL;
    c->calls++;
    c->live += nsize - (ptr ? osize : 0);
    if (c->live > c->peak)
        c->peak = c->live;
    return p;
}

/* ==========================================================================
 * The mesh: policies, subjects, products
 * ========================================================================== */

static const char mesh_yaml[] =
    "mesh: bench\n"
    "global_policies: policies/global\n"
    "policies:\n"
    "  - { id: pii_purpose_limitation, version: 3, lifecycle: required }\n"
    "  - { id: masking, version: 1, lifecycle: required }\n"
    "  - { id: records_retention, version: 2, lifecycle: grace, grace_until: 2026-12-31 }\n"
    "schema:\n"
    "  subject: { id: string, roles: set<string>, domain: string, clearance: int }\n"
    "  context: { purpose: string, region: string }\n"
    "actions: [export]\n";

/* DESIGN.md's three example policies, and the mesh's masking policy. */
static const char pii_src[] =
    "policy pii_purpose_limitation {\n"
    "  version 3\n  scope global\n  mode enforce\n  owner \"governance@corp.example\"\n"
    "  about \"PII is readable only by pii-readers for approved purposes\"\n"
    "  forbid read, write on column\n"
    "    when column.tags has \"pii\"\n"
    "    unless subject.roles has \"pii-reader\"\n"
    "       and context.purpose in [\"fraud\", \"support\", \"legal\"]\n"
    "  mask column with hash\n"
    "    when column.tags has \"email\" and not (subject.roles has \"support\")\n"
    "}\n";

static const char domain_access_src[] =
    "policy domain_access {\n"
    "  version 1\n  scope local\n"
    "  permit read on port when subject.domain == product.domain or port.visibility == \"public\"\n"
    "  permit * on product when subject.roles has \"steward\" and subject.domain == product.domain\n"
    "  forbid * on product when product.lifecycle == \"retired\"\n"
    "                      unless action == \"read\" and subject.roles has \"auditor\"\n"
    "  forbid * on product when not (context.region in product.allowed_regions)\n"
    "  forbid * on column  when subject.id matches \"^ext-[0-9]+@partner\\\\.com$\"\n"
    "                      and column.tags has \"financial\"\n"
    "}\n";

static const char retention_src[] =
    "policy records_retention {\n"
    "  version 2\n  scope global\n"
    "  retain port for 7y after event_time then archive when port.tags has \"financial\"\n"
    "  retain column for 365d after event_time then delete when column.tags has \"pii\"\n"
    "  hold port when product.legal_hold\n"
    "  require encryption at_rest on column when column.tags has \"pii\"\n"
    "  require encryption in_transit on port when port.visibility == \"public\"\n"
    "  forget subject within 30d then delete on port when port.subject_key != \"\"\n"
    "  forget subject then anonymize on port when port.tags has \"financial\"\n"
    "}\n";

static const char masking_src[] =
    "policy masking {\n"
    "  version 1\n  scope global\n"
    "  mask column with last4 when column.tags has \"pci\" unless subject.roles has \"payments-steward\"\n"
    "  mask column with year when column.tags has \"birthdate\"\n"
    "    unless subject.roles has \"pii-reader\" and context.purpose == \"legal\"\n"
    "  mask column with redact when column.tags has \"phone\" unless subject.domain == product.domain\n"
    "  mask column with null when column.tags has \"secret\"\n"
    "}\n";

typedef struct subject_def {
    char id[48];
    char *json;          /* {"id": ..., "roles": [...], ...} */
    int domain;          /* index in domains, or -1: external partner */
} subject_def;

typedef struct product_def {
    char name[32], uri[64];
    int domain;
    int regions[N_REGIONS];            /* allowed_regions: the first nregions */
    unsigned nregions;
    int ports_pool[N_PORTS];           /* index in port_names */
    int cols[N_PORTS][N_COLS];         /* index in col_pool */
    char *yaml;
    char *local;                       /* local policy source */
    bool adopts_masking, adopts_retention;
    /* Resolved once: */
    mg_policy_set *set;
    size_t set_bytes;
    mg_decision *dec;
    int port_id[N_PORTS], col_id[N_PORTS][N_COLS], action_id[N_ACTIONS];
    mg_context *ctx[N_CONTEXTS];
    mg_subject **subj;                 /* [N_SUBJECTS], made on first use */
} product_def;

static subject_def subjects[N_SUBJECTS];
static int subjects_of_domain[N_DOMAINS][N_SUBJECTS];
static int n_subjects_of_domain[N_DOMAINS];
static product_def products[N_PRODUCTS];
static char *context_json[N_CONTEXTS];

static void gen_subjects(void)
{
    for (int i = 0; i < N_SUBJECTS; i++) {
        subject_def *s = &subjects[i];
        text t = { 0 };
        bool ext = chance(10);
        unsigned clearance = below(6);
        if (ext) {
            snprintf(s->id, sizeof s->id, "ext-%u@partner.com", 100 + below(9900));
            s->domain = -1;
            put(&t, "{\"id\": \"%s\", \"roles\": [\"partner\"%s], \"domain\": \"external\", \"clearance\": %u}",
                s->id, chance(30) ? ", \"analyst\"" : "", clearance);
        } else {
            snprintf(s->id, sizeof s->id, "user%04d@corp.example", i);
            s->domain = (int)below(N_DOMAINS);
            subjects_of_domain[s->domain][n_subjects_of_domain[s->domain]++] = i;
            bool has[N_ROLES] = { false };
            unsigned nroles = 1 + below(3);
            for (unsigned k = 0; k < nroles; k++)
                has[weighted(role_weight, N_ROLES)] = true;
            put(&t, "{\"id\": \"%s\", \"roles\": [", s->id);
            const char *sep = "";
            for (unsigned r = 0; r < N_ROLES; r++)
                if (has[r]) {
                    put(&t, "%s\"%s\"", sep, roles[r]);
                    sep = ", ";
                }
            put(&t, "], \"domain\": \"%s\", \"clearance\": %u}", domains[s->domain], clearance);
        }
        s->json = t.s;
    }
    for (unsigned p = 0; p < N_PURPOSES; p++)
        for (unsigned r = 0; r < N_REGIONS; r++) {
            text t = { 0 };
            put(&t, "{\"purpose\": \"%s\", \"region\": \"%s\"}", purposes[p], regions[r]);
            context_json[p * N_REGIONS + r] = t.s;
        }
}

/* Picks k distinct values of 0..n-1 into out (partial Fisher-Yates). */
static void pick_distinct(int *out, unsigned k, unsigned n)
{
    int all[64];
    for (unsigned i = 0; i < n; i++)
        all[i] = (int)i;
    for (unsigned i = 0; i < k; i++) {
        unsigned j = i + below(n - i);
        int x = all[i];
        all[i] = all[j];
        all[j] = x;
        out[i] = all[i];
    }
}

static bool col_has_tag(int c, const char *tag)
{
    return strstr(col_pool[c].tags, tag) != NULL;
}

static void gen_manifest(product_def *p)
{
    text t = { 0 };
    unsigned lc = below(100);
    put(&t, "# %s, generated\nuri: %s\ndomain: %s\nowner: %s-team@corp.example\nkind: %s\n", p->name, p->uri,
        domains[p->domain], domains[p->domain],
        (const char *const[]){ "source-aligned", "aggregate", "consumer-aligned" }[below(3)]);
    put(&t, "lifecycle: %s\n", lc < 90 ? "active" : lc < 97 ? "deprecated" : "retired");
    p->nregions = 1 + below(3);
    pick_distinct(p->regions, p->nregions, N_REGIONS);
    put(&t, "allowed_regions: [");
    for (unsigned i = 0; i < p->nregions; i++)
        put(&t, "%s%s", i ? ", " : "", regions[p->regions[i]]);
    put(&t, "]\nlegal_hold: %s\nattributes: { tier: %u, cost_center: \"CC-%04u\" }\n", chance(5) ? "true" : "false",
        1 + below(3), below(10000));
    p->adopts_retention = chance(90);
    p->adopts_masking = chance(80);
    put(&t, "adopts:\n  - { policy: pii_purpose_limitation, version: 3, mode: enforce }\n");
    if (p->adopts_masking)
        put(&t, "  - { policy: masking, version: 1%s }\n", chance(15) ? ", mode: dry_run" : "");
    if (p->adopts_retention)
        put(&t, "  - { policy: records_retention, version: 2 }\n");
    put(&t, "output_ports:\n");
    pick_distinct(p->ports_pool, N_PORTS, N_PORT_NAMES);
    for (int k = 0; k < N_PORTS; k++) {
        pick_distinct(p->cols[k], N_COLS, N_COL_POOL);
        bool pii = false, fin = false, subject_key = false;
        for (int c = 0; c < N_COLS; c++) {
            pii |= col_has_tag(p->cols[k][c], "pii");
            fin |= col_has_tag(p->cols[k][c], "financial");
            subject_key |= strcmp(col_pool[p->cols[k][c]].name, "customer_id") == 0;
        }
        unsigned vis = below(100);
        put(&t, "  - name: %s\n    visibility: %s\n    tags: [%s", port_names[p->ports_pool[k]],
            vis < 25 ? "public" : vis < 80 ? "domain" : "private",
            (const char *const[]){ "raw", "curated", "aggregate" }[below(3)]);
        if (pii && chance(80))
            put(&t, ", pii");
        if (fin && chance(80))
            put(&t, ", financial");
        put(&t, "]\n    subject_key: \"%s\"\n", subject_key ? "customer_id" : "");
        put(&t, "    encryption: { at_rest: %s, in_transit: true }\n", pii ? "true" : "false");
        put(&t, "    table: %s\n    schema:\n", port_names[p->ports_pool[k]]);
        for (int c = 0; c < N_COLS; c++) {
            const coldef *cd = &col_pool[p->cols[k][c]];
            put(&t, "      - { name: %s, type: %s, tags: [%s]%s }\n", cd->name, cd->type, cd->tags,
                col_has_tag(p->cols[k][c], "pii") ? ", encryption: true" : "");
        }
    }
    p->yaml = t.s;
}

/* One generated access rule of a local policy, in the shapes domains write.
 * `col` names a column of the product. */
static void gen_rule(text *t, const char *col)
{
    const char *role = roles[below(N_ROLES)];
    switch (below(9)) {
    case 0:
        put(t, "  permit read on port when subject.roles has \"%s\" and context.purpose in [\"%s\", \"%s\"]\n", role,
            purposes[below(N_PURPOSES)], purposes[below(N_PURPOSES)]);
        break;
    case 1:
        put(t, "  permit write on port when subject.roles has \"steward\" and subject.domain == product.domain\n");
        break;
    case 2:
        put(t, "  forbid delete on product unless subject.roles has \"steward\" and subject.clearance >= %u\n",
            2 + below(3));
        break;
    case 3:
        put(t, "  mask column with redact when column.tags has \"phone\" unless subject.domain == product.domain\n");
        break;
    case 4:
        put(t, "  permit export on port when subject.roles has \"analyst\" and port.visibility != \"private\"\n"
               "    and context.region in product.allowed_regions\n");
        break;
    case 5:
        put(t, "  forbid * on column when column.name == \"%s\" and not (subject.roles has \"%s\")\n", col, role);
        break;
    case 6:
        put(t, "  permit read on column when not (column.tags has \"pii\") and subject.roles has \"%s\"\n", role);
        break;
    case 7:
        put(t, "  forbid export on port when port.tags has \"pii\" unless context.purpose == \"legal\"\n");
        break;
    default:
        put(t, "  permit read, export on port when subject.domain in [\"%s\", \"%s\"] and subject.clearance > %u\n",
            domains[below(N_DOMAINS)], domains[below(N_DOMAINS)], below(4));
        break;
    }
}

/* A local policy named `name` with 1 to 3 generated rules. */
static void gen_policy(text *t, const char *name, const product_def *p, bool global)
{
    put(t, "policy %s {\n  version %u\n  scope %s\n  mode %s\n  owner \"%s-team@corp.example\"\n", name,
        1 + below(3), global ? "global" : "local", chance(10) ? "dry_run" : "enforce", domains[p->domain]);
    unsigned n = 1 + below(3);
    for (unsigned i = 0; i < n; i++)
        gen_rule(t, col_pool[p->cols[below(N_PORTS)][below(N_COLS)]].name);
    put(t, "}\n");
}

static void gen_products(void)
{
    for (int i = 0; i < N_PRODUCTS; i++) {
        product_def *p = &products[i];
        p->domain = (int)below(N_DOMAINS);
        char name[sizeof p->name];
        snprintf(name, sizeof name, "%s-%03d", port_names[below(N_PORT_NAMES)], i);
        snprintf(p->uri, sizeof p->uri, "dp://%.15s/%.31s", domains[p->domain], name);
        memcpy(p->name, name, sizeof name);
        gen_manifest(p);
        text t = { 0 };
        unsigned n = 1 + below(2);
        for (unsigned k = 0; k < n; k++) {
            char pname[48];
            snprintf(pname, sizeof pname, "local_%03d_%u", i, k);
            gen_policy(&t, pname, p, false);
        }
        p->local = t.s;
    }
}

/* The compile input of product p: its adopted global policies, the shared
 * domain_access policy and its own local policies. */
typedef struct compile_set {
    mg_source src[5], product, mesh;
    mg_compile_input in;
} compile_set;

static void compile_input_of(const product_def *p, compile_set *cs)
{
    size_t n = 0;
    cs->src[n++] = (mg_source){ "policies/global/pii_purpose_limitation.policy", pii_src, sizeof pii_src - 1 };
    if (p->adopts_masking)
        cs->src[n++] = (mg_source){ "policies/global/masking.policy", masking_src, sizeof masking_src - 1 };
    if (p->adopts_retention)
        cs->src[n++] = (mg_source){ "policies/global/records_retention.policy", retention_src,
                                    sizeof retention_src - 1 };
    cs->src[n++] = (mg_source){ "policies/domain_access.policy", domain_access_src, sizeof domain_access_src - 1 };
    cs->src[n++] = (mg_source){ "local.policy", p->local, strlen(p->local) };
    cs->product = (mg_source){ "product.yaml", p->yaml, strlen(p->yaml) };
    cs->mesh = (mg_source){ "mesh.yaml", mesh_yaml, sizeof mesh_yaml - 1 };
    cs->in = (mg_compile_input){ cs->src, n, &cs->product, &cs->mesh };
}

/* ==========================================================================
 * Compiling and resolving
 * ========================================================================== */

static mg_engine *engine;
static counter mem;

static void compile_products(double *seconds)
{
    mg_error err = { 0 };
    uint64_t t0 = now_ns();
    for (int i = 0; i < N_PRODUCTS; i++) {
        product_def *p = &products[i];
        compile_set cs;
        compile_input_of(p, &cs);
        size_t before = mem.live;
        if (mg_compile(engine, &cs.in, &p->set, &err) != MG_OK)
            die(p->uri, &err);
        p->set_bytes = mem.live - before;
    }
    *seconds = (double)(now_ns() - t0) / 1e9;
    for (int i = 0; i < N_PRODUCTS; i++) {
        product_def *p = &products[i];
        if (mg_decision_new(p->set, &p->dec, &err) != MG_OK)
            die("mg_decision_new", &err);
        for (int a = 0; a < N_ACTIONS; a++)
            if ((p->action_id[a] = mg_action_id(p->set, actions[a])) < 0)
                die("action id", NULL);
        for (int k = 0; k < N_PORTS; k++) {
            if ((p->port_id[k] = mg_port_id(p->set, port_names[p->ports_pool[k]])) < 0)
                die("port id", NULL);
            for (int c = 0; c < N_COLS; c++)
                if ((p->col_id[k][c] = mg_column_id(p->set, p->port_id[k], col_pool[p->cols[k][c]].name)) < 0)
                    die("column id", NULL);
        }
        for (int c = 0; c < N_CONTEXTS; c++)
            if (mg_context_new(p->set, context_json[c], strlen(context_json[c]), &p->ctx[c], &err) != MG_OK)
                die("mg_context_new", &err);
        p->subj = xmalloc(N_SUBJECTS * sizeof *p->subj);
    }
}

/* The subject handle of s for product p, resolved once on first use. */
static mg_subject *subject_of(product_def *p, int s)
{
    if (!p->subj[s]) {
        mg_error err = { 0 };
        const char *j = subjects[s].json;
        if (mg_subject_new(p->set, j, strlen(j), &p->subj[s], &err) != MG_OK)
            die("mg_subject_new", &err);
    }
    return p->subj[s];
}

/* ==========================================================================
 * The request workload
 * ========================================================================== */

/* One request with everything resolved, as a sidecar holds it. */
typedef struct wreq {
    mg_request r;
    const mg_policy_set *set;
    mg_decision *d;
    int col;                    /* r.columns points here (single column) */
    uint16_t prod, subj;
    uint8_t ctx, act, port, ci;
} wreq;

static void gen_requests(wreq *w, size_t n, bool whole)
{
    for (size_t i = 0; i < n; i++) {
        unsigned pi = below(N_PRODUCTS);
        product_def *p = &products[pi];
        int s;
        /* Most requests come from the product's own domain. */
        if (chance(60) && n_subjects_of_domain[p->domain])
            s = subjects_of_domain[p->domain][below((unsigned)n_subjects_of_domain[p->domain])];
        else
            s = (int)below(N_SUBJECTS);
        /* Callers mostly run where the product allows. */
        unsigned region = chance(85) ? (unsigned)p->regions[below(p->nregions)] : below(N_REGIONS);
        unsigned c = below(N_PURPOSES) * N_REGIONS + region, a = weighted(action_weight, N_ACTIONS), k = below(N_PORTS),
                 ci = below(N_COLS);
        wreq *q = &w[i];
        q->prod = (uint16_t)pi;
        q->subj = (uint16_t)s;
        q->ctx = (uint8_t)c;
        q->act = (uint8_t)a;
        q->port = (uint8_t)k;
        q->ci = (uint8_t)ci;
        q->set = p->set;
        q->d = p->dec;
        q->col = p->col_id[k][ci];
        q->r = (mg_request){ subject_of(p, s), p->action_id[a], p->port_id[k], whole ? NULL : &q->col,
                             whole ? 0 : 1, p->ctx[c], NOW_US };
    }
}

static void decide_or_die(const wreq *q)
{
    mg_error err = { 0 };
    if (mg_decide(q->set, &q->r, q->d, &err) != MG_OK)
        die("mg_decide", &err);
}

/* The headline loop. Kept out of line so a profiler can collect only it
 * (callgrind --toggle-collect=run_single). Returns the number of errors. */
__attribute__((noinline)) static size_t run_single(const wreq *w, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += mg_decide(w[i].set, &w[i].r, w[i].d, NULL) != MG_OK;
    return bad;
}

static uint64_t rules_evaluated(void)
{
    uint64_t n = 0;
    for (int i = 0; i < N_PRODUCTS; i++)
        n += mg_decision_rules_evaluated(products[i].dec);
    return n;
}

/* ==========================================================================
 * Correctness guard: effects of a fixed sample
 * ========================================================================== */

typedef struct tally {
    uint64_t effect[3];          /* per request, by mg_effect */
    uint64_t col_allow, col_deny, masked[6];
    uint64_t fnv;
} tally;

static void fnv_mix(uint64_t *h, uint64_t x)
{
    for (int i = 0; i < 8; i++) {
        *h ^= (x >> (8 * i)) & 0xff;
        *h *= 0x100000001b3ull;
    }
}

static void tally_decision(tally *t, const mg_decision *d)
{
    mg_effect e = mg_decision_effect(d);
    t->effect[e]++;
    fnv_mix(&t->fnv, (uint64_t)e);
    for (size_t i = 0, n = mg_decision_column_count(d); i < n; i++) {
        int col;
        mg_effect ce;
        mg_mask m;
        mg_decision_column(d, i, &col, &ce, &m);
        if (ce == MG_ALLOW)
            t->col_allow++;
        else
            t->col_deny++;
        t->masked[m]++;
        fnv_mix(&t->fnv, (uint64_t)col << 16 | (uint64_t)ce << 8 | (uint64_t)m);
    }
}

static void checksum(const wreq *single, const wreq *whole)
{
    tally t = { .fnv = 0xcbf29ce484222325ull };
    for (size_t i = 0; i < N_SAMPLE_SINGLE; i++) {
        decide_or_die(&single[i]);
        tally_decision(&t, single[i].d);
    }
    for (size_t i = 0; i < N_SAMPLE_WHOLE; i++) {
        decide_or_die(&whole[i]);
        tally_decision(&t, whole[i].d);
    }
    printf("checksum: %016llx fnv1a (%d single-column + %d whole-port requests: %llu allow, %llu partial, "
           "%llu deny; columns %llu allowed, %llu denied; masks %llu year, %llu last4, %llu hash, %llu redact, "
           "%llu null)\n",
           (unsigned long long)t.fnv, N_SAMPLE_SINGLE, N_SAMPLE_WHOLE, (unsigned long long)t.effect[MG_ALLOW],
           (unsigned long long)t.effect[MG_PARTIAL], (unsigned long long)t.effect[MG_DENY],
           (unsigned long long)t.col_allow, (unsigned long long)t.col_deny,
           (unsigned long long)t.masked[MG_MASK_YEAR], (unsigned long long)t.masked[MG_MASK_LAST4],
           (unsigned long long)t.masked[MG_MASK_HASH], (unsigned long long)t.masked[MG_MASK_REDACT],
           (unsigned long long)t.masked[MG_MASK_NULL]);
}

/* ==========================================================================
 * Measurements
 * ========================================================================== */

/* Median rates over `passes` timed passes of the headline loop, by the
 * thread's CPU time and by the wall clock. */
typedef struct rates { double cpu, wall; } rates;

static rates single_rate(const wreq *w, size_t n, int passes)
{
    uint64_t *cpu = xmalloc((size_t)passes * sizeof *cpu), *wall = xmalloc((size_t)passes * sizeof *wall);
    run_single(w, n);                       /* warm caches and branch predictors */
    for (int k = 0; k < passes; k++) {
        uint64_t c0 = cpu_ns(), t0 = now_ns();
        if (run_single(w, n))
            die("mg_decide failed in the headline loop", NULL);
        wall[k] = now_ns() - t0;
        cpu[k] = cpu_ns() - c0;
    }
    rates r = { (double)n / ((double)quantile(cpu, (size_t)passes, 0.5) / 1e9),
                (double)n / ((double)quantile(wall, (size_t)passes, 0.5) / 1e9) };
    free(cpu);
    free(wall);
    return r;
}

/* The same requests ordered by product (stable), as 200 sidecars would each
 * see their own: one product's set and decision stay in cache for a run of
 * about 1,000 requests. Against the headline, this shows what the memory
 * traffic of switching between 200 products costs. */
static void grouped_rate(const wreq *w, size_t n)
{
    size_t start[N_PRODUCTS + 1] = { 0 };
    for (size_t i = 0; i < n; i++)
        start[w[i].prod + 1]++;
    for (int p = 0; p < N_PRODUCTS; p++)
        start[p + 1] += start[p];
    wreq *g = xmalloc(n * sizeof *g);
    for (size_t i = 0; i < n; i++) {
        wreq *q = &g[start[w[i].prod]++];
        *q = w[i];
        q->r.columns = &q->col;
    }
    rates r = single_rate(g, n, 9);
    printf("decide single column, grouped by product: %.0f decisions/s (the same requests ordered by product, "
           "median of 9 passes, thread CPU time; wall clock %.0f/s)\n", r.cpu, r.wall);
    free(g);
}

/* Median cost of reading the clock twice, back to back. */
static uint64_t timer_overhead(void)
{
    enum { N = 100000 };
    uint64_t *v = xmalloc(N * sizeof *v);
    for (int i = 0; i < N; i++) {
        uint64_t a = now_ns();
        v[i] = now_ns() - a;
    }
    uint64_t o = quantile(v, N, 0.5);
    free(v);
    return o;
}

static void latency(const wreq *w, size_t n)
{
    uint64_t overhead = timer_overhead();
    uint64_t *v = xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        uint64_t t0 = now_ns();
        mg_decide(w[i].set, &w[i].r, w[i].d, NULL);
        uint64_t dt = now_ns() - t0;
        v[i] = dt > overhead ? dt - overhead : 0;
    }
    uint64_t p50 = quantile(v, n, 0.50), p99 = quantile(v, n, 0.99), p999 = quantile(v, n, 0.999);
    printf("timer overhead: %llu ns (median of two back-to-back clock_gettime(CLOCK_MONOTONIC))\n",
           (unsigned long long)overhead);
    printf("latency p50: %llu ns (single calls, timer overhead subtracted)\n", (unsigned long long)p50);
    printf("latency p99: %llu ns (single calls, timer overhead subtracted; target < 1000 ns: %s)\n",
           (unsigned long long)p99, p99 < 1000 ? "met" : "MISSED");
    printf("latency p99.9: %llu ns (single calls, timer overhead subtracted)\n", (unsigned long long)p999);
    /* Groups of 16 calls: the clock's cost is spread over 16 decisions. */
    size_t groups = n / 16;
    for (size_t g = 0; g < groups; g++) {
        const wreq *q = &w[g * 16];
        uint64_t t0 = now_ns();
        for (int k = 0; k < 16; k++)
            mg_decide(q[k].set, &q[k].r, q[k].d, NULL);
        v[g] = (now_ns() - t0 + 8) / 16;
    }
    p50 = quantile(v, groups, 0.50);
    p99 = quantile(v, groups, 0.99);
    printf("latency p50 (groups of 16): %llu ns/decision\n", (unsigned long long)p50);
    printf("latency p99 (groups of 16): %llu ns/decision\n", (unsigned long long)p99);
    free(v);
}

static void whole_port_rate(const wreq *w, size_t n)
{
    uint64_t r0 = rules_evaluated();
    size_t cols = 0;
    for (size_t i = 0; i < n; i++) {
        decide_or_die(&w[i]);
        cols += mg_decision_column_count(w[i].d);
    }
    uint64_t rules = rules_evaluated() - r0;
    uint64_t best = UINT64_MAX;
    for (int k = 0; k < 5; k++) {
        uint64_t t0 = now_ns();
        if (run_single(w, n))
            die("mg_decide failed on whole-port requests", NULL);
        uint64_t dt = now_ns() - t0;
        best = dt < best ? dt : best;
    }
    double s = (double)best / 1e9;
    printf("whole-port requests: %.0f requests/s (%zu columns each)\n", (double)n / s, cols / n);
    printf("whole-port column decisions: %.0f decisions/s\n", (double)cols / s);
    printf("rules evaluated per whole-port request: %.2f rules\n", (double)rules / (double)n);
}

/* The JSON text of request q, as a client would send it. */
static char *request_json(const wreq *q)
{
    const product_def *p = &products[q->prod];
    text t = { 0 };
    put(&t, "{\"subject\": %s, \"action\": \"%s\", \"product\": \"%s\", \"port\": \"%s\", \"columns\": [\"%s\"], "
            "\"context\": %s}",
        subjects[q->subj].json, actions[q->act], p->uri, port_names[p->ports_pool[q->port]],
        col_pool[p->cols[q->port][q->ci]].name, context_json[q->ctx]);
    return t.s;
}

static void json_rate(const wreq *w, size_t n)
{
    char **js = xmalloc(n * sizeof *js);
    size_t *lens = xmalloc(n * sizeof *lens);
    uint8_t *eff = xmalloc(n);
    for (size_t i = 0; i < n; i++) {
        js[i] = request_json(&w[i]);
        lens[i] = strlen(js[i]);
    }
    mg_error err = { 0 };
    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        if (mg_decide_json(w[i].set, js[i], lens[i], NOW_US, w[i].d, &err) != MG_OK)
            die("mg_decide_json", &err);
        eff[i] = (uint8_t)mg_decision_effect(w[i].d);
    }
    double s = (double)(now_ns() - t0) / 1e9;
    size_t differ = 0;
    for (size_t i = 0; i < n; i++) {
        decide_or_die(&w[i]);
        differ += eff[i] != (uint8_t)mg_decision_effect(w[i].d);
        free(js[i]);
    }
    printf("decide from JSON: %.0f decisions/s (mg_decide_json, one JSON text per request, %zu requests)\n",
           (double)n / s, n);
    if (differ) {
        fprintf(stderr, "bench_decide: %zu JSON decisions differ from the resolved-handle ones\n", differ);
        exit(1);
    }
    free(js);
    free(lens);
    free(eff);
}

/* ==========================================================================
 * Audit on
 * ==========================================================================
 * The engine records every decision itself once a log is attached
 * (mg_engine_set_audit): mg_decide queues the record in the log's ring
 * without waiting for the disk. Product 0's set is compiled again by an
 * engine with the log attached, and the single-column requests are decided
 * against it with handles resolved for that set. When the ring is full
 * mg_decide denies and returns MG_EBUSY; the bench then waits for the writer
 * (mg_audit_flush) and decides the request again, and counts those waits. */

static void audit_on(const wreq *w, size_t n)
{
    char dir[] = "/tmp/mg-bench-XXXXXX", db[64], ks[64], key[64];
    if (!mkdtemp(dir))
        die("mkdtemp", NULL);
    snprintf(db, sizeof db, "%s/audit.db", dir);
    snprintf(ks, sizeof ks, "%s/keys.db", dir);
    snprintf(key, sizeof key, "%s/signing.key", dir);
    mg_error err = { 0 };
    char *vkey = NULL;
    if (mg_audit_keygen("bench/sales/orders", key, &vkey, &err) != MG_OK)
        die("mg_audit_keygen", &err);
    mg_free(vkey);
    mg_audit_config cfg = { .path = db, .keystore = ks, .origin = "bench/sales/orders", .signing_key = key };
    mg_audit_log *log = NULL;
    mg_engine *ae = NULL;
    if (mg_audit_open(&cfg, &log, &err) != MG_OK)
        die("mg_audit_open", &err);
    if (mg_engine_new(NULL, &ae, &err) != MG_OK || mg_engine_set_audit(ae, log, MG_AUDIT_ALL) != MG_OK)
        die("mg_engine_set_audit", &err);
    product_def *p = &products[0];
    compile_set cs;
    compile_input_of(p, &cs);
    mg_policy_set *set;
    mg_decision *d;
    if (mg_compile(ae, &cs.in, &set, &err) != MG_OK || mg_decision_new(set, &d, &err) != MG_OK)
        die("audited set", &err);
    mg_subject **subj = xmalloc(N_SUBJECTS * sizeof *subj);
    mg_context *ctx[N_CONTEXTS];
    for (int c = 0; c < N_CONTEXTS; c++)
        if (mg_context_new(set, context_json[c], strlen(context_json[c]), &ctx[c], &err) != MG_OK)
            die("mg_context_new", &err);
    uint64_t busy = 0, t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        const wreq *q = &w[i];
        int s = q->subj;
        if (!subj[s] && mg_subject_new(set, subjects[s].json, strlen(subjects[s].json), &subj[s], &err) != MG_OK)
            die("mg_subject_new", &err);
        int col = p->col_id[q->port][q->ci];
        mg_request r = { subj[s], p->action_id[q->act], p->port_id[q->port], &col, 1, ctx[q->ctx], NOW_US };
        mg_status st;
        while ((st = mg_decide(set, &r, d, &err)) == MG_EBUSY) {
            busy++;                /* ring full: the decision was denied; wait and decide again */
            mg_error_clear(&err);
            if (mg_audit_flush(log, &err) != MG_OK)
                die("mg_audit_flush", &err);
        }
        if (st != MG_OK)
            die("mg_decide with audit", &err);
    }
    double queued = (double)(now_ns() - t0) / 1e9;
    if (mg_audit_flush(log, &err) != MG_OK)
        die("mg_audit_flush", &err);
    double durable = (double)(now_ns() - t0) / 1e9;
    printf("audit on, queued: %.0f decisions/s (mg_decide recording each decision, %zu single-column requests "
           "on one product, default ring, %llu waits on a full ring)\n", (double)n / queued, n,
           (unsigned long long)busy);
    printf("audit on, durable: %.0f decisions/s (the same, until mg_audit_flush returns; synchronous=FULL)\n",
           (double)n / durable);
    for (int s = 0; s < N_SUBJECTS; s++)
        mg_subject_free(subj[s]);
    free(subj);
    for (int c = 0; c < N_CONTEXTS; c++)
        mg_context_free(ctx[c]);
    mg_decision_free(d);
    mg_policy_set_release(set);
    mg_engine_free(ae);
    mg_audit_close(log);
    char path[96];
    static const char *const files[] = { "audit.db", "audit.db-wal", "audit.db-shm", "keys.db", "keys.db-wal",
                                         "keys.db-shm", "signing.key" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* A product manifest and 1,000 generated policies in one mg_compile. */
static void big_compile(void)
{
    const product_def *p = &products[0];
    mg_source *src = xmalloc(N_BIG_POLICIES * sizeof *src);
    char **names = xmalloc(N_BIG_POLICIES * sizeof *names);
    src[0] = (mg_source){ "pii_purpose_limitation.policy", pii_src, sizeof pii_src - 1 };
    src[1] = (mg_source){ "masking.policy", masking_src, sizeof masking_src - 1 };
    src[2] = (mg_source){ "records_retention.policy", retention_src, sizeof retention_src - 1 };
    src[3] = (mg_source){ "domain_access.policy", domain_access_src, sizeof domain_access_src - 1 };
    for (size_t i = 4; i < N_BIG_POLICIES; i++) {
        text t = { 0 }, name = { 0 };
        put(&name, "gen_%04zu", i);
        gen_policy(&t, name.s, p, i % 4 == 0);
        put(&name, ".policy");
        names[i] = name.s;
        src[i] = (mg_source){ name.s, t.s, t.len };
    }
    mg_source product = { "product.yaml", p->yaml, strlen(p->yaml) };
    mg_source mesh = { "mesh.yaml", mesh_yaml, sizeof mesh_yaml - 1 };
    mg_compile_input in = { src, N_BIG_POLICIES, &product, &mesh };
    mg_error err = { 0 };
    uint64_t ns[5];
    size_t bytes = 0;
    for (int k = 0; k < 5; k++) {
        mg_policy_set *set;
        size_t before = mem.live;
        uint64_t t0 = now_ns();
        if (mg_compile(engine, &in, &set, &err) != MG_OK)
            die("compiling 1,000 policies", &err);
        ns[k] = now_ns() - t0;
        bytes = mem.live - before;
        mg_policy_set_release(set);
    }
    uint64_t med = quantile(ns, 5, 0.5);
    printf("compile 1000 policies: %.2f ms (median of 5 mg_compile calls; target < 50 ms: %s)\n", (double)med / 1e6,
           med < 50000000u ? "met" : "MISSED");
    printf("memory of 1000-policy set: %zu bytes (live after mg_compile, counting allocator)\n", bytes);
    for (size_t i = 4; i < N_BIG_POLICIES; i++) {
        free(names[i]);
        free((char *)src[i].text);
    }
    free(names);
    free(src);
}

/* mg_compile + mg_engine_swap of one product's set, as on a policy change. */
static void reload(void)
{
    enum { N = 21 };
    compile_set cs;
    compile_input_of(&products[0], &cs);
    mg_error err = { 0 };
    if (mg_engine_swap(engine, products[0].set) != MG_OK)
        die("mg_engine_swap", NULL);
    uint64_t ns[N];
    for (int k = 0; k < N; k++) {
        mg_policy_set *set;
        uint64_t t0 = now_ns();
        if (mg_compile(engine, &cs.in, &set, &err) != MG_OK || mg_engine_swap(engine, set) != MG_OK)
            die("reload", &err);
        ns[k] = now_ns() - t0;
        mg_policy_set_release(set);
    }
    printf("reload: %.3f ms (median of %d mg_compile + mg_engine_swap of one product's set)\n",
           (double)quantile(ns, N, 0.5) / 1e6, N);
}

static void memory_report(void)
{
    size_t total = 0, max = 0, min = SIZE_MAX;
    for (int i = 0; i < N_PRODUCTS; i++) {
        size_t b = products[i].set_bytes;
        total += b;
        max = b > max ? b : max;
        min = b < min ? b : min;
    }
    printf("memory per policy set: %zu bytes (mean of %d product sets; min %zu, max %zu; counting allocator)\n",
           total / N_PRODUCTS, N_PRODUCTS, min, max);
    printf("memory live in the library: %zu bytes (sets, decisions, subject and context handles)\n", mem.live);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: %ld KiB (getrusage ru_maxrss, whole benchmark)\n", ru.ru_maxrss);
}

static void machine(void)
{
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            const char *v = strchr(line, ':');
            if (v) {
                snprintf(model, sizeof model, "%s", v + 2);
                model[strcspn(model, "\n")] = 0;
            }
            break;
        }
    }
    if (f)
        fclose(f);
    printf("machine: %ld cpus, %s (single thread used)\n", sysconf(_SC_NPROCESSORS_ONLN), model);
}

/* Releases everything, so a leak checker sees the library's own leaks. */
static void release_all(wreq *single, wreq *whole)
{
    for (int i = 0; i < N_PRODUCTS; i++) {
        product_def *p = &products[i];
        for (int s = 0; s < N_SUBJECTS; s++)
            mg_subject_free(p->subj[s]);
        for (int c = 0; c < N_CONTEXTS; c++)
            mg_context_free(p->ctx[c]);
        mg_decision_free(p->dec);
        mg_policy_set_release(p->set);
        free(p->subj);
        free(p->yaml);
        free(p->local);
    }
    mg_engine_free(engine);
    for (int i = 0; i < N_SUBJECTS; i++)
        free(subjects[i].json);
    for (int c = 0; c < N_CONTEXTS; c++)
        free(context_json[c]);
    free(single);
    free(whole);
}

/* ==========================================================================
 * Main
 * ========================================================================== */

int main(int argc, char **argv)
{
    bool quick = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            quick = true;
        else {
            fprintf(stderr, "usage: bench_decide [--quick]\n");
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint64_t start = now_ns();
    machine();
    static const uint8_t key[32] = "bench-mesh-key-0123456789abcdef";
    mg_config cfg = { .alloc = count_alloc, .alloc_ud = &mem, .mask_key = key };
    mg_error err = { 0 };
    if (mg_engine_new(&cfg, &engine, &err) != MG_OK)
        die("mg_engine_new", &err);

    gen_subjects();
    gen_products();
    double compile_s;
    compile_products(&compile_s);
    size_t n_single = quick ? N_QUICK : N_SINGLE;
    wreq *single = xmalloc(N_SINGLE * sizeof *single);
    wreq *whole = xmalloc(N_WHOLE * sizeof *whole);
    gen_requests(single, N_SINGLE, false);
    gen_requests(whole, N_WHOLE, true);
    printf("workload: %d products x %d ports x %d columns, %d subjects, %zu contexts, seed %016llx\n", N_PRODUCTS,
           N_PORTS, N_COLS, N_SUBJECTS, (size_t)N_CONTEXTS, (unsigned long long)SEED);
    printf("compile all product sets: %.1f ms (%d mg_compile calls)\n", compile_s * 1e3, N_PRODUCTS);
    checksum(single, whole);

    if (quick) {
        uint64_t r0 = rules_evaluated(), t0 = now_ns();
        if (run_single(single, n_single))
            die("mg_decide failed in the headline loop", NULL);
        double s = (double)(now_ns() - t0) / 1e9;
        printf("decide single column: %.0f decisions/s (quick: one pass of %zu requests, not a benchmark)\n",
               (double)n_single / s, n_single);
        printf("rules evaluated per decision: %.2f rules\n",
               (double)(rules_evaluated() - r0) / (double)n_single);
        release_all(single, whole);
        return 0;
    }

    uint64_t r0 = rules_evaluated();
    rates rate = single_rate(single, n_single, 15);
    printf("decide single column: %.0f decisions/s (mg_decide, resolved handles, audit off, 1 thread, median of "
           "15 passes over %zu requests, thread CPU time; target >= 10000000/s: %s; wall clock %.0f/s)\n",
           rate.cpu, n_single, rate.cpu >= 1e7 ? "met" : "MISSED", rate.wall);
    printf("rules evaluated per decision: %.2f rules (single column)\n",
           (double)(rules_evaluated() - r0) / (double)(16 * n_single));
    grouped_rate(single, n_single);
    latency(single, n_single);
    whole_port_rate(whole, N_WHOLE);
    json_rate(single, N_JSON);
    audit_on(single, N_AUDIT);
    big_compile();
    reload();
    memory_report();
    printf("bench time: %.1f s\n", (double)(now_ns() - start) / 1e9);

    release_all(single, whole);
    return 0;
}
