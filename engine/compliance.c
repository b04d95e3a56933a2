/*
 * compliance.c — static compliance checks of one product (DESIGN.md
 * "Adoption state"): what its compiled policy set demands of the manifest
 * (encryption declared, retention declared, a subject key where `forget`
 * applies) and what the mesh's catalogue demands of its adoptions.
 *
 * The checks take the engine's current set rather than compiling one, so
 * this file stays on the bytecode side of the engine (it needs no front
 * end); the caller loads the product first, which also reports a set that
 * does not compile.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "engine/engine.h"
#include "engine/lint.h"
#include "engine/manifest.h"
#include "engine/meshcache.h"

/* What every check of one product shares. */
typedef struct chk {
    const mg_policy_set *set;
    const mf_mesh *m;
    const mf_product *pr;
    int64_t now_us;
    mg_finding_fn fn;
    void *ud;
    bool stop;           /* the callback asked to stop */
} chk;

/* Reports a finding about policy (NULL: about the manifest as a whole). */
static void report_on(chk *c, mg_severity sev, const char *check, const char *policy, const mf_loc *at,
                      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void report_on(chk *c, mg_severity sev, const char *check, const char *policy, const mf_loc *at,
                      const char *fmt, ...)
{
    if (c->stop)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mg_finding f = { .severity = sev, .check = check, .message = msg, .file = at->file, .line = at->line,
                     .column = at->col, .product = c->pr->uri, .policy = policy };
    c->stop = c->fn(c->ud, &f) != 0;
}

#define report(c, sev, check, at, ...) report_on(c, sev, check, NULL, at, __VA_ARGS__)

/* ==========================================================================
 * Encryption
 * ========================================================================== */

static mg_status check_encryption(chk *c, const mf_port *pt, int port, mg_error *err)
{
    bool rest, transit;
    mg_status s = mg_encryption_required(c->set, port, -1, c->now_us, &rest, &transit, err);
    if (s)
        return s;
    const char *kind = pt->is_input ? "input" : "output";
    if (rest && !pt->enc_at_rest)
        report(c, MG_SEV_ERROR, "encryption", &pt->loc,
               "%s port `%s` must declare `encryption: { at_rest: true }`: a `require encryption at_rest` rule applies",
               kind, pt->name);
    if (transit && !pt->enc_in_transit)
        report(c, MG_SEV_ERROR, "encryption", &pt->loc,
               "%s port `%s` must declare `encryption: { in_transit: true }`: a `require encryption in_transit` "
               "rule applies",
               kind, pt->name);
    for (size_t k = 0; s == MG_OK && k < pt->ncolumns; k++) {
        const mf_column *col = &pt->columns[k];
        int id = mg_column_id(c->set, port, col->name);
        if (id < 0 || (s = mg_encryption_required(c->set, port, id, c->now_us, &rest, &transit, err)) != MG_OK)
            continue;
        if ((rest || transit) && !col->encrypted)
            report(c, MG_SEV_ERROR, "encryption", &col->loc,
                   "column `%s.%s` must declare `encryption: true`: a `require encryption %s` rule applies", pt->name,
                   col->name, rest ? "at_rest" : "in_transit");
    }
    return s;
}

/* ==========================================================================
 * Retention and forget
 * ========================================================================== */

static bool has_tag(const mf_strs *tags, const char *tag)
{
    for (size_t i = 0; i < tags->n; i++)
        if (strcmp(tags->v[i], tag) == 0)
            return true;
    return false;
}

/* The time columns a retain rule may count from: event_time,
 * processing_time and every column of the port, each at time 0 (only
 * whether a rule applies matters here, not when it falls due). */
typedef struct times {
    const char **names;
    int64_t *at;
    size_t n, cap;
} times;

static mg_status times_open(chk *c, const mf_port *pt, times *t, mg_error *err)
{
    t->cap = pt->ncolumns + 2;
    t->n = 0;
    t->names = mg__alloc(c->set->alloc, c->set->ud, t->cap * sizeof *t->names);
    t->at = mg__alloc(c->set->alloc, c->set->ud, t->cap * sizeof *t->at);
    if (!t->names || !t->at) {
        mg__free(c->set->alloc, c->set->ud, t->names, t->cap * sizeof *t->names);
        mg__free(c->set->alloc, c->set->ud, t->at, t->cap * sizeof *t->at);
        t->names = NULL;
        t->at = NULL;
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    t->names[t->n++] = "event_time";
    t->names[t->n++] = "processing_time";
    for (size_t k = 0; k < pt->ncolumns; k++)
        t->names[t->n++] = pt->columns[k].name;
    memset(t->at, 0, t->cap * sizeof *t->at);
    return MG_OK;
}

static void times_close(chk *c, times *t)
{
    mg__free(c->set->alloc, c->set->ud, t->names, t->cap * sizeof *t->names);
    mg__free(c->set->alloc, c->set->ud, t->at, t->cap * sizeof *t->at);
}

/* Whether a retention rule falls due for the port's rows (column < 0) or
 * for one column. */
static mg_status retained(chk *c, const times *t, int port, int column, bool *yes, mg_error *err)
{
    mg_retention r;
    mg_status s = mg_retention_verdict(c->set, port, column, t->names, t->at, t->n, c->now_us, &r, err);
    *yes = s == MG_OK && r.at_due != MG_KEEP;
    return s;
}

/* The first pii column of the port that no retention rule covers (*bare
 * NULL when each is covered), and how many pii columns were looked at. */
static mg_status bare_column(chk *c, const times *t, const mf_port *pt, int port, const mf_column **bare,
                             size_t *npii, mg_error *err)
{
    *bare = NULL;
    *npii = 0;
    for (size_t k = 0; k < pt->ncolumns && !*bare; k++) {
        const mf_column *col = &pt->columns[k];
        bool yes = false;
        if (!has_tag(&col->tags, "pii"))
            continue;
        ++*npii;
        int id = mg_column_id(c->set, port, col->name);
        mg_status s = id >= 0 ? retained(c, t, port, id, &yes, err) : MG_OK;
        if (s)
            return s;
        if (!yes)
            *bare = col;
    }
    return MG_OK;
}

/* An output port holding personal data (tagged pii, or with a pii column)
 * needs a retention rule for its rows, or for each of its pii columns. */
static mg_status check_retention(chk *c, const mf_port *pt, int port, mg_error *err)
{
    bool personal = has_tag(&pt->tags, "pii"), yes = false;
    for (size_t k = 0; !personal && k < pt->ncolumns; k++)
        personal = has_tag(&pt->columns[k].tags, "pii");
    if (!personal)
        return MG_OK;
    times t;
    mg_status s = times_open(c, pt, &t, err);
    if (s == MG_OK)
        s = retained(c, &t, port, -1, &yes, err);
    const mf_column *bare = NULL;
    size_t npii = 0;
    if (s == MG_OK && !yes)
        s = bare_column(c, &t, pt, port, &bare, &npii, err);
    if (t.names)
        times_close(c, &t);
    if (s || yes)
        return s;
    if (bare)
        report(c, MG_SEV_ERROR, "retention", &pt->loc,
               "output port `%s` holds personal data but no retention rule applies to it or to its column `%s`",
               pt->name, bare->name);
    else if (npii == 0)
        report(c, MG_SEV_ERROR, "retention", &pt->loc,
               "output port `%s` holds personal data but no retention rule applies to it", pt->name);
    return MG_OK;
}

static mg_status check_forget(chk *c, const mf_port *pt, int port, mg_error *err)
{
    mg_forget_plan plan;
    mg_status s = mg_forget_plan_of(c->set, port, c->now_us, &plan, err);
    if (s == MG_OK && plan.covered && (!pt->subject_key || !pt->subject_key[0])) {
        /* A rule id is <policy>@<version>#<ordinal>. */
        char policy[sizeof plan.rule];
        snprintf(policy, sizeof policy, "%.*s", (int)strcspn(plan.rule, "@"), plan.rule);
        report_on(c, MG_SEV_ERROR, "forget", policy, &pt->loc,
                  "%s port `%s` must declare a `subject_key`: forget rule %s covers it",
                  pt->is_input ? "input" : "output", pt->name, plan.rule);
    }
    return s;
}

/* ==========================================================================
 * Adoption
 * ========================================================================== */

static const mf_adopt *adoption_of(const mf_product *pr, const char *id)
{
    for (size_t i = 0; i < pr->nadopts; i++)
        if (strcmp(pr->adopts[i].policy, id) == 0)
            return &pr->adopts[i];
    return NULL;
}

/* A deadline as written in mesh.yaml: the day alone when it is midnight UTC. */
static void format_deadline(int64_t us, char *buf, size_t cap)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    const char *fmt = us % 86400000000 == 0 ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ";
    if (!gmtime_r(&t, &tm) || !strftime(buf, cap, fmt, &tm))
        snprintf(buf, cap, "%lld us", (long long)us);
}

static void check_global(chk *c, const mf_global *g)
{
    const mf_adopt *ad = adoption_of(c->pr, g->id);
    const mf_loc *at = ad ? &ad->loc : &c->pr->uri_loc;
    long long latest = (long long)g->version, adopted = ad ? (long long)ad->version : 0;
    if (g->lifecycle == MF_REQUIRED) {
        if (!ad)
            report_on(c, MG_SEV_ERROR, "adoption", g->id, at,
                      "required policy `%s` is not adopted (latest version %lld)", g->id, latest);
        else if (ad->version < g->version)
            report_on(c, MG_SEV_ERROR, "adoption", g->id, at,
                      "required policy `%s` is adopted at version %lld; the latest is %lld", g->id, adopted, latest);
        if (ad && ad->mode == 1)
            report_on(c, MG_SEV_ERROR, "adoption", g->id, at,
                      "required policy `%s` is adopted in dry_run; it must be enforced", g->id);
        return;
    }
    if (g->lifecycle != MF_GRACE || (ad && ad->version >= g->version))
        return;
    char day[32];
    format_deadline(g->grace_until_us, day, sizeof day);
    bool late = c->now_us >= g->grace_until_us;
    mg_severity sev = late ? MG_SEV_ERROR : MG_SEV_WARNING;
    const char *when = late ? "ended" : "ends";
    if (!ad)
        report_on(c, sev, "adoption", g->id, at,
                  "policy `%s` is not adopted (latest version %lld); its grace period %s on %s", g->id, latest, when,
                  day);
    else
        report_on(c, sev, "adoption", g->id, at,
                  "policy `%s` is adopted at version %lld; the latest is %lld; its grace period %s on %s", g->id,
                  adopted, latest, when, day);
}

/* ==========================================================================
 * Entry point
 * ========================================================================== */

static mg_status check_ports(chk *c, mg_error *err)
{
    mg_status s = MG_OK;
    for (size_t i = 0; s == MG_OK && !c->stop && i < c->pr->nports; i++) {
        const mf_port *pt = &c->pr->ports[i];
        int port = mg_port_id(c->set, pt->name);
        if (port < 0)
            continue;
        s = check_encryption(c, pt, port, err);
        if (s == MG_OK && !pt->is_input)
            s = check_retention(c, pt, port, err);
        if (s == MG_OK)
            s = check_forget(c, pt, port, err);
    }
    return s;
}

mg_status mg_check_product(mg_engine *e, const char *mesh_dir, const char *product_uri, int64_t now_us,
                           mg_finding_fn fn, void *ud, mg_error *err)
{
    if (!e || !mesh_dir || !product_uri || !fn)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    mg_policy_set *set;
    mg_status s = mg__acquire_product_set(e, product_uri, &set, err);
    if (s)
        return s;
    mg__mesh *snap = NULL;
    s = mg__mesh_acquire(mg__engine_meshes(e), mesh_dir, &snap, err);
    const mf_mesh *m = s == MG_OK ? mg__mesh_get(snap) : NULL;
    const mf_product *pr = s == MG_OK ? mf_mesh_product(m, product_uri) : NULL;
    if (s == MG_OK && !pr)
        s = mg_error_set(err, MG_ENOTFOUND, NULL, 0, 0, "no product `%s` in mesh %s", product_uri, mesh_dir);
    if (s == MG_OK) {
        chk c = { set, m, pr, now_us, fn, ud, false };
        s = check_ports(&c, err);
        for (size_t i = 0; s == MG_OK && !c.stop && i < m->nglobals; i++)
            check_global(&c, &m->globals[i]);
        if (s == MG_OK && !c.stop)
            lint_product(set, m, pr, fn, ud, &c.stop);
    }
    mg__mesh_release(snap);
    mg_policy_set_release(set);
    return s;
}
