/*
 * adoption.c — the adoption report (DESIGN.md "Adoption state"): for each
 * product of a mesh and each global policy of its catalogue, what it
 * adopts and how, the status that colours the policy x product matrix, its
 * static check results, its policy tests and their rule coverage and, from
 * its audit log, its decisions and how many of them dry-run policies would
 * have changed.
 *
 * Everything here is read from other parts of the library: the manifests
 * (the engine's mesh snapshot, as mf_mesh_load reads them), the compiled set (mg_engine_load: the effective mode of
 * each adopted policy), the compliance checks and lints (mg_check_product),
 * the policy tests (mg_test_product: a failed test counts against the
 * policies whose rules applied in its decision) and the audit log (mg_audit_query over "decision" entries, whose payload
 * records the dry-run effect beside the effect; engine/decide.c).
 *
 * The report is plain data the caller walks; it is allocated with malloc,
 * like every buffer the caller frees with mg_free, so mg_adoption_free
 * needs no engine.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "engine/engine.h"
#include "engine/manifest.h"
#include "engine/meshcache.h"

const char *mg_adoption_status_str(mg_adoption_status s)
{
    static const char *const names[] = { "adopted", "outdated", "dry_run", "missing-in-grace", "missing", "draft" };
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "unknown";
}

const char *mg_check_result_str(mg_check_result r)
{
    static const char *const names[] = { "pass", "warn", "fail", "not run" };
    return (unsigned)r < sizeof names / sizeof *names ? names[r] : "unknown";
}

const char *mg_test_status_str(mg_test_status s)
{
    static const char *const names[] = { "pass", "fail", "uncovered", "none" };
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "unknown";
}

const char *mg_tests_run_str(mg_tests_run r)
{
    static const char *const names[] = { "ran", "no tests", "malformed", "not run" };
    return (unsigned)r < sizeof names / sizeof *names ? names[r] : "unknown";
}

static char *dup(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    *oom |= d == NULL;
    return d;
}

static mg_status oom_error(mg_error *err)
{
    return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
}

/* ==========================================================================
 * Freeing
 * ========================================================================== */

static void free_product(mg_adoption_product *p)
{
    free(p->uri);
    free(p->domain);
    free(p->owner);
    free(p->kind);
    free(p->load_error);
    for (size_t i = 0; i < p->nfindings; i++) {
        free(p->findings[i].check);
        free(p->findings[i].message);
        free(p->findings[i].file);
        free(p->findings[i].policy);
    }
    free(p->findings);
    for (size_t i = 0; i < p->ncells; i++)
        free((char *)p->cells[i].policy);
    free(p->cells);
    free(p->log);
    free(p->tests_error);
}

void mg_adoption_free(mg_adoption *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nproducts; i++)
        free_product(&a->products[i]);
    free(a->products);
    free(a->mesh);
    free(a);
}

/* ==========================================================================
 * The matrix: adoption of each catalogue policy
 * ========================================================================== */

static const mf_adopt *adoption_of(const mf_product *pr, const char *id)
{
    for (size_t i = 0; i < pr->nadopts; i++)
        if (strcmp(pr->adopts[i].policy, id) == 0)
            return &pr->adopts[i];
    return NULL;
}

/* The mode the product runs the global policy id in: the compiled set's,
 * which applies the `adopts` entry over the policy's own. Without a set
 * (it did not compile) the entry's, and "enforce" when it sets none. */
static const char *effective_mode(const mg_policy_set *set, const mf_adopt *ad)
{
    if (set) {
        const vm_program *p = set->prog;
        for (uint32_t i = 0; i < p->npolicies; i++) {
            const char *name = sl_intern_str(p->syms, p->policies[i].name, NULL);
            if (p->policies[i].global && name && strcmp(name, ad->policy) == 0)
                return p->policies[i].dry_run ? "dry_run" : "enforce";
        }
    }
    return ad->mode == 1 ? "dry_run" : "enforce";
}

static mg_adoption_status status_of(const mf_global *g, const mf_adopt *ad, const char *mode, int64_t now_us)
{
    if (ad)
        return ad->version < g->version ? MG_OUTDATED
               : strcmp(mode, "dry_run") == 0 ? MG_ADOPTED_DRY_RUN
                                              : MG_ADOPTED;
    if (g->lifecycle == MF_DRAFT)
        return MG_DRAFT;
    if (g->lifecycle == MF_GRACE && now_us < g->grace_until_us)
        return MG_MISSING_IN_GRACE;
    return MG_MISSING;
}

static bool fill_cells(mg_adoption_product *ap, const mf_mesh *m, const mf_product *pr, const mg_policy_set *set,
                       int64_t now_us)
{
    static const char *const lifecycles[] = { "draft", "grace", "required" };
    ap->cells = calloc(m->nglobals ? m->nglobals : 1, sizeof *ap->cells);
    if (!ap->cells)
        return false;
    bool oom = false;
    for (size_t i = 0; i < m->nglobals; i++) {
        const mf_global *g = &m->globals[i];
        const mf_adopt *ad = adoption_of(pr, g->id);
        mg_adoption_cell *c = &ap->cells[ap->ncells++];
        c->policy = dup(g->id, &oom);
        c->adopted_version = ad ? ad->version : 0;
        c->latest_version = g->version;
        c->lifecycle = lifecycles[g->lifecycle];
        c->grace_until_us = g->lifecycle == MF_GRACE ? g->grace_until_us : 0;
        c->mode = ad ? effective_mode(set, ad) : NULL;
        c->status = status_of(g, ad, c->mode ? c->mode : "", now_us);
        c->checks = set ? MG_CHECK_PASS : MG_CHECK_NOT_RUN;
        c->tests = MG_TESTS_NONE;
    }
    return !oom;
}

/* ==========================================================================
 * Static checks
 * ========================================================================== */

static mg_adoption_cell *cell_of(mg_adoption_product *ap, const char *policy)
{
    for (size_t i = 0; policy && i < ap->ncells; i++)
        if (strcmp(ap->cells[i].policy, policy) == 0)
            return &ap->cells[i];
    return NULL;
}

/* The policy of a rule id <policy>@<version>#<n>, into buf. */
static const char *rule_policy(const char *id, size_t len, char *buf, size_t cap)
{
    size_t n = strcspn(id, "@");
    n = n < len ? n : len;
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, id, n);
    buf[n] = 0;
    return buf;
}

static void count(mg_check_result *r, size_t *errors, size_t *warnings, mg_severity sev)
{
    if (sev == MG_SEV_ERROR) {
        ++*errors;
        *r = MG_CHECK_FAIL;
    } else if (sev == MG_SEV_WARNING) {
        ++*warnings;
        if (*r == MG_CHECK_PASS)
            *r = MG_CHECK_WARN;
    }
}

typedef struct keep {
    mg_adoption_product *ap;
    bool oom;
} keep;

/* mg_finding_fn: copies the finding and counts it for the product and for
 * the policy it names. */
static int keep_finding(void *ud, const mg_finding *f)
{
    keep *k = ud;
    mg_adoption_product *ap = k->ap;
    mg_adoption_finding *fs = realloc(ap->findings, (ap->nfindings + 1) * sizeof *fs);
    if (!fs) {
        k->oom = true;
        return 1;
    }
    ap->findings = fs;
    mg_adoption_finding *c = &fs[ap->nfindings++];
    *c = (mg_adoption_finding){ f->severity, dup(f->check, &k->oom), dup(f->message, &k->oom),
                                dup(f->file, &k->oom), f->line, f->column, dup(f->policy, &k->oom) };
    count(&ap->checks, &ap->errors, &ap->warnings, f->severity);
    mg_adoption_cell *cell = cell_of(ap, f->policy);
    if (cell)
        count(&cell->checks, &cell->errors, &cell->warnings, f->severity);
    return k->oom;
}

/* ==========================================================================
 * Policy tests
 * ========================================================================== */

/* Whether rule id <policy>@<version>#<n> is one of policy's rules. */
static bool rule_of(const char *rule, const char *policy)
{
    size_t n = strcspn(rule, "@");
    return strncmp(rule, policy, n) == 0 && policy[n] == 0;
}

/* Whether a failed test bears on policy: a rule of it applied in the
 * test's decision (in effect or in dry run), so it shaped the outcome the
 * test refuses. A rule that was evaluated but did not apply did not. */
static bool bears_on(json_t *trace, const char *policy)
{
    size_t i;
    json_t *t;
    json_array_foreach(trace, i, t) {
        const char *rule = json_string_value(json_object_get(t, "rule"));
        const char *result = json_string_value(json_object_get(t, "result"));
        if (rule && result && strcmp(result, "does not apply") != 0 && rule_of(rule, policy))
            return true;
    }
    return false;
}

typedef struct tests_ud {
    mg_adoption_product *ap;
    bool oom;
} tests_ud;

/* mg_test_hooks.test: counts the test; a failed one against each policy
 * it bears on. A test whose request was not decided bears on none. */
static int count_test(void *ud, const mg_test_result *r)
{
    tests_ud *u = ud;
    mg_adoption_product *ap = u->ap;
    ap->tests_run++;
    if (r->passed)
        return 0;
    ap->tests_failed++;
    json_t *d = r->decision ? json_loads(r->decision, 0, NULL) : NULL;
    u->oom = r->decision && !d;      /* the engine's own JSON: only memory fails */
    json_t *trace = json_object_get(d, "trace");
    for (size_t i = 0; i < ap->ncells; i++)
        ap->cells[i].tests_failed += bears_on(trace, ap->cells[i].policy);
    json_decref(d);
    return u->oom;
}

/* mg_test_hooks.rule: coverage of the product and of the rule's policy. */
static int count_rule(void *ud, const mg_rule_coverage *c)
{
    mg_adoption_product *ap = ((tests_ud *)ud)->ap;
    ap->rules_total++;
    ap->rules_covered += c->covered;
    for (size_t i = 0; i < ap->ncells; i++)
        if (rule_of(c->rule, ap->cells[i].policy)) {
            ap->cells[i].rules_total++;
            ap->cells[i].rules_covered += c->covered;
        }
    return 0;
}

/* The counts of a run that did not complete are not reported. */
static void forget_counts(mg_adoption_product *ap)
{
    ap->tests_run = ap->tests_failed = ap->rules_covered = ap->rules_total = 0;
    for (size_t i = 0; i < ap->ncells; i++)
        ap->cells[i].rules_covered = ap->cells[i].rules_total = ap->cells[i].tests_failed = 0;
}

static void settle_tests(mg_adoption_product *ap)
{
    bool ran = ap->tests == MG_TESTS_RAN && ap->tests_run > 0;
    if (ap->tests == MG_TESTS_RAN || ap->tests == MG_TESTS_NO_TESTS)
        ap->coverage_percent = ap->rules_total ? (int)(ap->rules_covered * 100 / ap->rules_total) : 100;
    for (size_t i = 0; i < ap->ncells; i++) {
        mg_adoption_cell *c = &ap->cells[i];
        c->tests = !ran               ? MG_TESTS_NONE
                   : c->tests_failed  ? MG_TESTS_FAIL
                   : !c->rules_total  ? MG_TESTS_NONE
                   : c->rules_covered ? MG_TESTS_PASS
                                      : MG_TESTS_UNCOVERED;
    }
}

/* The message of a test file error: its rendered detail, else
 * "file:line:col: message". */
static char *test_error_text(const mg_error *e)
{
    const char *msg = e->message ? e->message : mg_status_str(e->code);
    if (e->detail || !e->file)
        return strdup(e->detail ? e->detail : msg);
    int n = e->line > 0 ? snprintf(NULL, 0, "%s:%d:%d: %s", e->file, e->line, e->column, msg)
                        : snprintf(NULL, 0, "%s: %s", e->file, msg);
    char *s = n < 0 ? NULL : malloc((size_t)n + 1);
    if (s && e->line > 0)
        snprintf(s, (size_t)n + 1, "%s:%d:%d: %s", e->file, e->line, e->column, msg);
    else if (s)
        snprintf(s, (size_t)n + 1, "%s: %s", e->file, msg);
    return s;
}

/* Runs the product's policy tests on the engine's set (the product's). A
 * malformed or unreadable test file is the product's result; running out
 * of memory is the report's. */
static mg_status run_tests(mg_engine *e, const char *mesh_dir, const mf_product *pr, mg_adoption_product *ap,
                           mg_error *err)
{
    tests_ud u = { ap, false };
    mg_test_hooks hooks = { count_test, count_rule, &u };
    mg_error terr = { 0 };
    mg_status s = mg_test_product(e, mesh_dir, pr->uri, &hooks, &terr);
    ap->tests = pr->tests.n ? MG_TESTS_RAN : MG_TESTS_NO_TESTS;
    if (s && s != MG_ENOMEM) {
        ap->tests = MG_TESTS_MALFORMED;
        ap->tests_error = test_error_text(&terr);
        forget_counts(ap);
    }
    mg_error_clear(&terr);
    if (s == MG_ENOMEM || u.oom || (s && !ap->tests_error))
        return oom_error(err);
    settle_tests(ap);
    return MG_OK;
}

/* Compiles and checks one product. A set that does not compile is the
 * product's result (load_status); other failures are the report's. */
static mg_status check_product(mg_engine *e, const char *mesh_dir, const mf_mesh *m, const mf_product *pr,
                               int64_t now_us, mg_adoption_product *ap, mg_error *err)
{
    mg_error lerr = { 0 };
    ap->load_status = mg_engine_load(e, mesh_dir, pr->uri, &lerr);
    if (ap->load_status == MG_ENOMEM) {
        mg_error_clear(&lerr);
        return oom_error(err);
    }
    bool oom = false;
    if (ap->load_status) {
        ap->load_error = dup(lerr.detail ? lerr.detail : lerr.message ? lerr.message
                                                                      : mg_status_str(ap->load_status), &oom);
        ap->checks = MG_CHECK_NOT_RUN;
        ap->tests = MG_TESTS_NOT_RUN;
    }
    mg_error_clear(&lerr);
    mg_policy_set *set = ap->load_status ? NULL : mg_engine_acquire(e);
    mg_status s = fill_cells(ap, m, pr, set, now_us) && !oom ? MG_OK : oom_error(err);
    if (s == MG_OK && set) {
        keep k = { ap, false };
        s = mg_check_product(e, mesh_dir, pr->uri, now_us, keep_finding, &k, err);
        if (s == MG_OK && k.oom)
            s = oom_error(err);
        if (s == MG_OK)
            s = run_tests(e, mesh_dir, pr, ap, err);
    }
    mg_policy_set_release(set);
    return s;
}

/* ==========================================================================
 * Decisions from the audit log
 * ========================================================================== */

typedef struct tally {
    mg_adoption_product *ap;
    bool bad;           /* an entry that is not a decision record */
    uint64_t bad_seq;
} tally;

/* Counts one decision entry: its effect; the policy of its deciding rule
 * (the first id of `rules`); and, when the payload's dry-run effect
 * differs, the policy of the rule that decided the dry-run outcome (the
 * second id when there are two, as decide.c writes them). */
static void count_decision(mg_adoption_product *ap, const char *effect, const char *rules, const char *dry)
{
    ap->decisions++;
    ap->allow += strcmp(effect, "allow") == 0;
    ap->partial += strcmp(effect, "partial") == 0;
    ap->deny += strcmp(effect, "deny") == 0;
    char buf[MG_AUDIT_MAX_RULES + 1];
    size_t first = strcspn(rules, " ");
    mg_adoption_cell *c = first ? cell_of(ap, rule_policy(rules, first, buf, sizeof buf)) : NULL;
    if (c)
        c->decided++;
    if (strcmp(dry, effect) == 0)
        return;
    ap->dry_run_changed++;
    const char *would = rules[first] == ' ' ? rules + first + 1 : rules;
    c = *would ? cell_of(ap, rule_policy(would, strlen(would), buf, sizeof buf)) : NULL;
    if (c)
        c->dry_run_changed++;
}

/* mg_audit_row_fn over the product's decision entries. */
static int tally_row(void *ud, const char *json, size_t len)
{
    tally *t = ud;
    json_t *row = json_loadb(json, len, 0, NULL), *payload = NULL;
    const char *effect = NULL, *rules = NULL, *ptext = NULL, *dry = NULL;
    json_int_t seq = -1;
    if (row && json_unpack(row, "{s:I, s:s, s:s, s:s}", "seq", &seq, "effect", &effect, "rules", &rules, "payload",
                           &ptext) == 0)
        payload = json_loads(ptext, 0, NULL);
    if (payload && json_unpack(payload, "{s:s}", "dry_run", &dry) == 0)
        count_decision(t->ap, effect, rules, dry);
    else {
        t->bad = true;
        t->bad_seq = seq < 0 ? 0 : (uint64_t)seq;
    }
    json_decref(payload);
    json_decref(row);
    return t->bad;
}

static mg_status read_log(mg_adoption_product *ap, mg_error *err)
{
    struct stat st;
    if (stat(ap->log, &st) != 0)
        return MG_OK;           /* no log: no counts */
    mg_audit_config cfg = { .path = ap->log };
    mg_audit_log *log = NULL;
    mg_status s = mg_audit_open(&cfg, &log, err);
    if (s)
        return s;
    ap->has_log = true;
    tally t = { ap, false, 0 };
    mg_audit_filter f = { .kind = "decision", .product = ap->uri };
    s = mg_audit_query(log, &f, tally_row, &t, err);
    mg_audit_close(log);
    if (s == MG_OK && t.bad)
        s = mg_error_set(err, MG_EFORMAT, ap->log, 0, 0, "audit entry %llu is not a decision record",
                         (unsigned long long)t.bad_seq);
    return s;
}

/* <audit dir>/<domain>/<name>.db */
static char *log_path(const char *dir, const mf_product *pr)
{
    size_t n = strlen(dir) + strlen(pr->domain) + strlen(pr->name) + 6;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s/%s.db", dir, pr->domain, pr->name);
    return p;
}

/* ==========================================================================
 * Entry point
 * ========================================================================== */

static int cmp_uri(const void *a, const void *b)
{
    return strcmp((*(const mf_product *const *)a)->uri, (*(const mf_product *const *)b)->uri);
}

/* The products to report, sorted by URI, in a list of *nout entries (at
 * least one) from the engine's allocator. */
static mg_status select_products(mg_engine *e, const mf_mesh *m, const char *const *uris, size_t n,
                                 const mf_product ***out, size_t *nout, mg_error *err)
{
    size_t cap = n ? n : m->nproducts;
    void *ud;
    sl_alloc_fn alloc = mg__engine_alloc(e, &ud);
    const mf_product **v = mg__alloc(alloc, ud, (cap ? cap : 1) * sizeof *v);
    if (!v)
        return oom_error(err);
    for (size_t i = 0; i < cap; i++) {
        v[i] = n ? mf_mesh_product(m, uris[i]) : &m->products[i];
        if (!v[i]) {
            mg__free(alloc, ud, v, (cap ? cap : 1) * sizeof *v);
            return mg_error_set(err, MG_ENOTFOUND, NULL, 0, 0, "no product `%s` in mesh %s", uris[i], m->dir);
        }
    }
    qsort(v, cap, sizeof *v, cmp_uri);
    *out = v;
    *nout = cap;
    return MG_OK;
}

static mg_status report_product(mg_engine *e, const char *mesh_dir, const mf_mesh *m, const mf_product *pr,
                                int64_t now_us, const char *audit_dir, mg_adoption_product *ap, mg_error *err)
{
    bool oom = false;
    ap->uri = dup(pr->uri, &oom);
    ap->domain = dup(pr->domain, &oom);
    ap->owner = dup(pr->owner, &oom);
    ap->kind = dup(pr->kind ? pr->kind : "", &oom);
    if (audit_dir && !oom && !(ap->log = log_path(audit_dir, pr)))
        oom = true;
    if (oom)
        return oom_error(err);
    mg_status s = check_product(e, mesh_dir, m, pr, now_us, ap, err);
    if (s == MG_OK && ap->log)
        s = read_log(ap, err);
    return s;
}

mg_status mg_adoption_report(mg_engine *e, const char *mesh_dir, const char *const *uris, size_t n, int64_t now_us,
                             const char *audit_dir, mg_adoption **out, mg_error *err)
{
    if (out)
        *out = NULL;
    if (!e || !mesh_dir || !out || (n && !uris))
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    mg__mesh *snap = NULL;
    mg_status s = mg__mesh_acquire(mg__engine_meshes(e), mesh_dir, &snap, err);
    if (s)
        return s;
    const mf_mesh *m = mg__mesh_get(snap);
    const mf_product **prs = NULL;
    size_t np = 0;
    mg_adoption *a = calloc(1, sizeof *a);
    s = a ? select_products(e, m, uris, n, &prs, &np, err) : oom_error(err);
    if (s == MG_OK) {
        a->mesh = strdup(m->name);
        a->now_us = now_us;
        a->npolicies = m->nglobals;
        a->products = calloc(np ? np : 1, sizeof *a->products);
        if (!a->mesh || !a->products)
            s = oom_error(err);
    }
    const char *dir = audit_dir ? audit_dir : m->audit_dir;
    for (size_t i = 0; s == MG_OK && i < np; i++) {
        a->nproducts++;
        s = report_product(e, mesh_dir, m, prs[i], now_us, dir, &a->products[i], err);
    }
    void *ud;
    sl_alloc_fn alloc = mg__engine_alloc(e, &ud);
    mg__free(alloc, ud, prs, (np ? np : 1) * sizeof *prs);
    mg__mesh_release(snap);
    if (s) {
        mg_adoption_free(a);
        return s;
    }
    *out = a;
    return MG_OK;
}
