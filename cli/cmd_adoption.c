/*
 * cmd_adoption.c — `meshgov adoption`: the adoption report of a mesh
 * (mg_adoption_report) as aligned text tables, as JSON (schema in
 * docs/cli.md), or as a self-contained HTML page (cli/adoption_html.c).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/adoption.h"

const char cmd_adoption_usage[] =
    "usage: meshgov adoption --mesh DIR [--product URI ...] [--format text|json|html]\n"
    "                        [--now TIME] [--out FILE] [--audit-dir DIR]\n"
    "\n"
    "Reports, for each product and each global policy of the mesh's catalogue,\n"
    "the version adopted and the latest, lifecycle and grace date, mode, the\n"
    "adoption status, the static check results (policy-check's findings), the\n"
    "policy tests (run, failed, rule coverage, and per policy: pass, fail,\n"
    "uncovered or none), and, where the product has an audit log, its decision\n"
    "counts and how many decisions dry-run policies would have changed.\n"
    "\n"
    "  --mesh DIR             the mesh directory, holding mesh.yaml\n"
    "  --product URI          report this product (repeatable; default: all)\n"
    "  --format text|json|html  output format (default text); html is one\n"
    "                         self-contained page\n"
    "  --now TIME             the clock for grace deadlines, RFC 3339 (default:\n"
    "                         now)\n"
    "  --out FILE             write the report to FILE instead of stdout\n"
    "  --audit-dir DIR        where product audit logs live, as\n"
    "                         DIR/<domain>/<name>.db (default: mesh.yaml's\n"
    "                         `audit: { dir }`, relative to the mesh)\n"
    "\n"
    "Exit status: 0 the report was written; 1 it was written, but a product's\n"
    "policies do not compile; 2 bad usage, unknown product, invalid manifest\n"
    "or unreadable audit log.\n";

static const cli_cmd adoption_cmd = { "meshgov adoption", cmd_adoption_usage };

void adoption_time(int64_t us, bool day_if_midnight, char *buf, size_t cap)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    const char *fmt = day_if_midnight && us % 86400000000 == 0 ? "%Y-%m-%d" : "%Y-%m-%dT%H:%M:%SZ";
    if (!gmtime_r(&t, &tm) || !strftime(buf, cap, fmt, &tm))
        snprintf(buf, cap, "%lld us", (long long)us);
}

/* ==========================================================================
 * Text: aligned tables
 * ========================================================================== */

#define MAX_COLS 12

/* A table of strings printed with each column as wide as its widest cell. */
typedef struct table {
    size_t ncols, nrows, cap;
    char **cells;      /* nrows * ncols, owned */
    bool oom;
} table;

static void table_row(table *t, ...)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **c = realloc(t->cells, cap * t->ncols * sizeof *c);
        if (!c) {
            t->oom = true;
            return;
        }
        t->cells = c;
        t->cap = cap;
    }
    va_list ap;
    va_start(ap, t);
    for (size_t i = 0; i < t->ncols; i++) {
        const char *s = va_arg(ap, const char *);
        char *d = strdup(s ? s : "-");
        t->oom |= d == NULL;
        t->cells[t->nrows * t->ncols + i] = d;
    }
    va_end(ap);
    t->nrows++;
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
}

static void table_print(FILE *out, const table *t)
{
    size_t w[MAX_COLS] = { 0 };
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            size_t n = s ? strlen(s) : 0;
            w[c] = n > w[c] ? n : w[c];
        }
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = t->cells[r * t->ncols + c];
            if (c + 1 < t->ncols)
                fprintf(out, "%-*s  ", (int)w[c], s ? s : "");
            else
                fprintf(out, "%s\n", s ? s : "");
        }
    }
}

static const char *num(char *buf, uint64_t v)
{
    snprintf(buf, 24, "%llu", (unsigned long long)v);
    return buf;
}

/* A cell's test status, with the coverage of the policy's rules when it
 * has some: "pass 3/3". */
static const char *cell_tests(char *buf, size_t cap, const mg_adoption_cell *c)
{
    if (c->rules_total)
        snprintf(buf, cap, "%s %zu/%zu", mg_test_status_str(c->tests), c->rules_covered, c->rules_total);
    else
        snprintf(buf, cap, "%s", mg_test_status_str(c->tests));
    return buf;
}

static void matrix_rows(table *t, const mg_adoption_product *p)
{
    for (size_t i = 0; i < p->ncells; i++) {
        const mg_adoption_cell *c = &p->cells[i];
        char adopted[24], latest[24], grace[32] = "-", decided[24], changed[24], tests[64];
        if (c->grace_until_us)
            adoption_time(c->grace_until_us, true, grace, sizeof grace);
        const char *version = c->adopted_version ? num(adopted, (uint64_t)c->adopted_version) : "-";
        table_row(t, i == 0 ? p->uri : "", c->policy, version,
                  num(latest, (uint64_t)c->latest_version), c->lifecycle, grace, c->mode,
                  mg_adoption_status_str(c->status), mg_check_result_str(c->checks), cell_tests(tests, sizeof tests, c),
                  p->has_log ? num(decided, c->decided) : "-", p->has_log ? num(changed, c->dry_run_changed) : "-");
    }
}

/* A product's tests as policy-check counts them ("5 run, 1 failed"), or
 * why they did not run; and its rule coverage ("4/4 (100%)"). */
static void product_tests(const mg_adoption_product *p, char *tests, char *cov, size_t cap)
{
    if (p->tests == MG_TESTS_RAN)
        snprintf(tests, cap, "%zu run, %zu failed", p->tests_run, p->tests_failed);
    else
        snprintf(tests, cap, "%s", mg_tests_run_str(p->tests));
    if (p->tests == MG_TESTS_RAN || p->tests == MG_TESTS_NO_TESTS)
        snprintf(cov, cap, "%zu/%zu (%d%%)", p->rules_covered, p->rules_total, p->coverage_percent);
    else
        snprintf(cov, cap, "-");
}

static void product_row(table *t, const mg_adoption_product *p)
{
    char e[24], w[24], d[24], al[24], pa[24], de[24], ch[24], tests[64], cov[64];
    product_tests(p, tests, cov, sizeof tests);
    table_row(t, p->uri, mg_check_result_str(p->checks), num(e, p->errors), num(w, p->warnings), tests, cov,
              p->has_log ? p->log : p->log ? "none" : "-", p->has_log ? num(d, p->decisions) : "-",
              p->has_log ? num(al, p->allow) : "-", p->has_log ? num(pa, p->partial) : "-",
              p->has_log ? num(de, p->deny) : "-", p->has_log ? num(ch, p->dry_run_changed) : "-");
}

void adoption_policy_summary(const mg_adoption *a, size_t i, adoption_summary *s)
{
    memset(s, 0, sizeof *s);
    for (size_t k = 0; k < a->nproducts; k++) {
        const mg_adoption_cell *c = &a->products[k].cells[i];
        s->counts[c->status]++;
        s->adopting += c->adopted_version != 0;
    }
}

static int print_text(FILE *out, const mg_adoption *a)
{
    char now[32];
    adoption_time(a->now_us, false, now, sizeof now);
    fprintf(out, "Adoption in mesh %s at %s: %zu product%s, %zu global polic%s\n\n", a->mesh, now, a->nproducts,
            a->nproducts == 1 ? "" : "s", a->npolicies, a->npolicies == 1 ? "y" : "ies");
    table m = { .ncols = 12 };
    table_row(&m, "PRODUCT", "POLICY", "ADOPTED", "LATEST", "LIFECYCLE", "GRACE UNTIL", "MODE", "STATUS", "CHECKS",
              "TESTS", "DECIDED", "DRY-RUN CHANGED");
    for (size_t i = 0; i < a->nproducts; i++)
        matrix_rows(&m, &a->products[i]);
    table p = { .ncols = 12 };
    table_row(&p, "PRODUCT", "CHECKS", "ERRORS", "WARNINGS", "TESTS", "RULES COVERED", "AUDIT LOG", "DECISIONS", "ALLOW", "PARTIAL", "DENY",
              "DRY-RUN CHANGED");
    for (size_t i = 0; i < a->nproducts; i++)
        product_row(&p, &a->products[i]);
    table s = { .ncols = 4 };
    table_row(&s, "POLICY", "ADOPTING", "AT LATEST, ENFORCED", "STATUS COUNTS");
    for (size_t i = 0; a->nproducts && i < a->npolicies; i++) {
        adoption_summary sum;
        adoption_policy_summary(a, i, &sum);
        char adopting[48], enforced[48], counts[256] = "";
        snprintf(adopting, sizeof adopting, "%zu/%zu", sum.adopting, a->nproducts);
        snprintf(enforced, sizeof enforced, "%zu/%zu", sum.counts[MG_ADOPTED], a->nproducts);
        for (int st = 0; st < ADOPTION_NSTATUS; st++)
            if (sum.counts[st])
                snprintf(counts + strlen(counts), sizeof counts - strlen(counts), "%s%s %zu", counts[0] ? ", " : "",
                         mg_adoption_status_str((mg_adoption_status)st), sum.counts[st]);
        table_row(&s, a->products[0].cells[i].policy, adopting, enforced, counts);
    }
    bool oom = m.oom || p.oom || s.oom;
    if (a->npolicies)
        table_print(out, &m);
    else
        fputs("The mesh's catalogue has no global policies.\n", out);
    fputc('\n', out);
    table_print(out, &p);
    if (a->npolicies) {
        fputc('\n', out);
        table_print(out, &s);
    }
    table_free(&m);
    table_free(&p);
    table_free(&s);
    if (oom)
        return cli_error("meshgov adoption", "out of memory");
    for (size_t i = 0; i < a->nproducts; i++)
        if (a->products[i].load_status)
            fprintf(out, "\n%s does not compile:\n%s\n", a->products[i].uri, a->products[i].load_error);
    for (size_t i = 0; i < a->nproducts; i++)
        if (a->products[i].tests_error)
            fprintf(out, "\n%s: policy tests not run, a test file is malformed:\n%s\n", a->products[i].uri,
                    a->products[i].tests_error);
    return CLI_OK;
}

/* ==========================================================================
 * JSON
 * ========================================================================== */

static json_t *time_or_null(int64_t us, bool day)
{
    char buf[32];
    if (!us)
        return json_null();
    adoption_time(us, day, buf, sizeof buf);
    return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *int_or_null(bool known, size_t v)
{
    return known ? json_integer((json_int_t)v) : json_null();
}

static bool tests_counted(const mg_adoption_product *p)
{
    return p->tests == MG_TESTS_RAN || p->tests == MG_TESTS_NO_TESTS;
}

/* {status, rules, covered, failed}: counts null when the tests did not
 * run or a test file is malformed. */
static json_t *cell_tests_json(const mg_adoption_product *p, const mg_adoption_cell *c)
{
    bool known = tests_counted(p);
    return json_pack("{s:s, s:o, s:o, s:o}", "status", mg_test_status_str(c->tests), "rules",
                     int_or_null(known, c->rules_total), "covered", int_or_null(known, c->rules_covered),
                     "failed", int_or_null(known, c->tests_failed));
}

/* {status, run, failed, rules, covered, percent[, message]}. */
static json_t *product_tests_json(const mg_adoption_product *p)
{
    bool known = tests_counted(p);
    json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "status", mg_tests_run_str(p->tests), "run",
                          int_or_null(known, p->tests_run), "failed", int_or_null(known, p->tests_failed), "rules",
                          int_or_null(known, p->rules_total), "covered", int_or_null(known, p->rules_covered),
                          "percent", int_or_null(known, (size_t)p->coverage_percent));
    if (p->tests_error)
        json_object_set_new(o, "message", json_string(p->tests_error));
    return o;
}

static json_t *cell_json(const mg_adoption_product *p, const mg_adoption_cell *c)
{
    json_t *o = json_pack("{s:s, s:o, s:I, s:s, s:o, s:o, s:s, s:s, s:I, s:I, s:o}", "policy", c->policy,
                          "adopted_version", c->adopted_version ? json_integer(c->adopted_version) : json_null(),
                          "latest_version", (json_int_t)c->latest_version, "lifecycle", c->lifecycle,
                          "grace_until", time_or_null(c->grace_until_us, true), "mode", str_or_null(c->mode),
                          "status", mg_adoption_status_str(c->status), "checks", mg_check_result_str(c->checks),
                          "errors", (json_int_t)c->errors, "warnings", (json_int_t)c->warnings, "tests",
                          cell_tests_json(p, c));
    json_object_set_new(o, "decided", p->has_log ? json_integer((json_int_t)c->decided) : json_null());
    json_object_set_new(o, "dry_run_changed", p->has_log ? json_integer((json_int_t)c->dry_run_changed) : json_null());
    return o;
}

static json_t *finding_json(const mg_adoption_finding *f)
{
    static const char *const sev[] = { "error", "warning", "note" };
    json_t *o = json_pack("{s:s, s:s, s:s}", "severity", sev[f->severity], "check", f->check, "message", f->message);
    if (f->file)
        json_object_set_new(o, "file", json_string(f->file));
    if (f->line > 0)
        json_object_set_new(o, "line", json_integer(f->line));
    if (f->column > 0)
        json_object_set_new(o, "column", json_integer(f->column));
    json_object_set_new(o, "policy", str_or_null(f->policy));
    return o;
}

static json_t *product_json(const mg_adoption_product *p)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "product", p->uri, "domain", p->domain, "owner",
                          p->owner, "kind", p->kind, "checks", mg_check_result_str(p->checks), "errors",
                          (json_int_t)p->errors, "warnings", (json_int_t)p->warnings);
    if (p->load_status)
        json_object_set_new(o, "error", json_pack("{s:s, s:s}", "code", mg_status_str(p->load_status), "message",
                                                  p->load_error ? p->load_error : ""));
    json_t *audit = json_null();
    if (p->has_log)
        audit = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "log", p->log, "decisions", (json_int_t)p->decisions,
                          "allow", (json_int_t)p->allow, "partial", (json_int_t)p->partial, "deny",
                          (json_int_t)p->deny, "dry_run_changed", (json_int_t)p->dry_run_changed);
    json_object_set_new(o, "tests", product_tests_json(p));
    json_object_set_new(o, "audit", audit);
    json_t *fs = json_array(), *cells = json_array();
    for (size_t i = 0; i < p->nfindings; i++)
        json_array_append_new(fs, finding_json(&p->findings[i]));
    for (size_t i = 0; i < p->ncells; i++)
        json_array_append_new(cells, cell_json(p, &p->cells[i]));
    json_object_set_new(o, "findings", fs);
    json_object_set_new(o, "policies", cells);
    return o;
}

static json_t *policies_json(const mg_adoption *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; a->nproducts && i < a->npolicies; i++) {
        const mg_adoption_cell *c = &a->products[0].cells[i];
        adoption_summary s;
        adoption_policy_summary(a, i, &s);
        json_t *counts = json_object();
        for (int st = 0; st < ADOPTION_NSTATUS; st++)
            json_object_set_new(counts, mg_adoption_status_str((mg_adoption_status)st),
                                json_integer((json_int_t)s.counts[st]));
        json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:o, s:I, s:o}", "policy", c->policy,
                                             "latest_version", (json_int_t)c->latest_version, "lifecycle",
                                             c->lifecycle, "grace_until", time_or_null(c->grace_until_us, true),
                                             "adopting", (json_int_t)s.adopting, "status_counts", counts));
    }
    return arr;
}

static int print_json(FILE *out, const mg_adoption *a)
{
    json_t *prods = json_array();
    for (size_t i = 0; i < a->nproducts; i++)
        json_array_append_new(prods, product_json(&a->products[i]));
    json_t *doc = json_pack("{s:s, s:o, s:o, s:o}", "mesh", a->mesh, "now", time_or_null(a->now_us, false),
                            "policies", policies_json(a), "products", prods);
    return cli_print_json(out, "meshgov adoption", doc);
}

/* ==========================================================================
 * Command
 * ========================================================================== */

static int write_report(const mg_adoption *a, const char *format, const char *path)
{
    FILE *out = path ? fopen(path, "w") : stdout;
    if (!out)
        return cli_error("meshgov adoption", "--out: cannot write `%s`: %s", path, strerror(errno));
    int rc = strcmp(format, "json") == 0   ? print_json(out, a)
             : strcmp(format, "html") == 0 ? adoption_html(out, a)
                                           : print_text(out, a);
    if (fflush(out) != 0 || ferror(out))
        rc = cli_error("meshgov adoption", "cannot write `%s`: %s", path ? path : "stdout", strerror(errno));
    if (path && fclose(out) != 0 && rc == CLI_OK)
        rc = cli_error("meshgov adoption", "cannot write `%s`: %s", path, strerror(errno));
    return rc;
}

static int report(const char *mesh, const cli_list *products, const char *format, int64_t now_us,
                  const char *out, const char *audit_dir)
{
    mg_engine *e = NULL;
    mg_adoption *a = NULL;
    mg_error err = { 0 };
    mg_status s = mg_engine_new(NULL, &e, &err);
    if (s == MG_OK)
        s = mg_adoption_report(e, mesh, products->v, products->n, now_us, audit_dir, &a, &err);
    int rc = CLI_OK;
    if (s) {
        cli_print_error(stderr, "meshgov adoption", &err, NULL, 0);
        rc = CLI_USAGE;
    } else {
        rc = write_report(a, format, out);
        for (size_t i = 0; rc == CLI_OK && i < a->nproducts; i++)
            if (a->products[i].load_status)
                rc = CLI_VIOLATIONS;
    }
    mg_error_clear(&err);
    mg_adoption_free(a);
    mg_engine_free(e);
    return rc;
}

int cmd_adoption(int argc, char **argv)
{
    const char *mesh = NULL, *format = "text", *now = NULL, *out = NULL, *audit_dir = NULL, *why = NULL;
    int64_t now_us = cli_now_us();
    cli_list products = { 0 };
    const cli_flag flags[] = {
        { "--mesh", CLI_VALUE, &mesh },
        { "--product", CLI_LIST, &products },
        { "--format", CLI_VALUE, &format },
        { "--now", CLI_VALUE, &now },
        { "--out", CLI_VALUE, &out },
        { "--audit-dir", CLI_VALUE, &audit_dir },
        { NULL, CLI_SWITCH, NULL },
    };
    int rc = cli_parse(&adoption_cmd, argc, argv, flags, NULL);
    if (rc == CLI_OK && !mesh)
        rc = cli_usage_error(&adoption_cmd, "--mesh is required");
    else if (rc == CLI_OK && strcmp(format, "text") != 0 && strcmp(format, "json") != 0 &&
             strcmp(format, "html") != 0)
        rc = cli_usage_error(&adoption_cmd, "--format: expected text, json or html, got `%s`", format);
    else if (rc == CLI_OK && now && !cli_parse_time(now, &now_us, &why))
        rc = cli_usage_error(&adoption_cmd, "--now: invalid time `%s`: %s", now, why);
    else if (rc == CLI_OK && !cli_is_dir(mesh))
        rc = cli_error("meshgov adoption", "--mesh: `%s` is not a directory", mesh);
    else if (rc == CLI_OK)
        rc = report(mesh, &products, format, now_us, out, audit_dir);
    cli_list_free(&products);
    return rc < 0 ? CLI_OK : rc;
}
