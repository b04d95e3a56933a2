/*
 * policy_check.c — the `policy-check` program for CI: loads the mesh,
 * compiles the policy set of each product (every product of the mesh, or
 * those named with --product), runs the static compliance checks
 * (mg_check_product) and the product's policy tests with rule coverage
 * (mg_test_product), and reports what does not load or compile, every
 * finding and every failed test, as text with compiler-style diagnostics or
 * as JSON; SARIF and JUnit are written by check_formats.c.
 *
 * Lints come later, as their own step over the same product list.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/check.h"

static const char usage_text[] =
    "usage: policy-check [--mesh DIR] [--product URI ...]\n"
    "                    [--format text|json|sarif|junit] [--now TIME]\n"
    "                    [--min-coverage N]\n"
    "       policy-check --help | --version\n"
    "\n"
    "Loads the mesh's manifests and compiles each product's policy set: the\n"
    "global policies it adopts, at the adopted versions, and its local ones;\n"
    "then checks its static compliance: encryption declared where a rule\n"
    "requires it, retention for personal data, a subject_key where `forget`\n"
    "applies, and adoption of the catalogue's required and grace policies;\n"
    "then runs the product's policy tests and measures their rule coverage.\n"
    "\n"
    "  --mesh DIR          the mesh directory, holding mesh.yaml (default .)\n"
    "  --product URI       check this product (repeatable; default: every\n"
    "                      product under DIR/domains/<domain>/<name>/)\n"
    "  --format FORMAT     text (default), json, sarif (SARIF 2.1.0) or junit\n"
    "                      (JUnit XML)\n"
    "  --now TIME          the clock for grace deadlines and rules, RFC 3339\n"
    "                      (default: now)\n"
    "  --min-coverage N    fail a product whose policy tests evaluate fewer\n"
    "                      than N% (0-100) of its access rules\n"
    "\n"
    "Exit status: 0 every product passes (warnings allowed); 1 a manifest or\n"
    "test file is invalid, a policy does not compile, a check found an error,\n"
    "a policy test failed or coverage is below the minimum; 2 bad usage,\n"
    "unknown product or unreadable input.\n";

static const cli_cmd check_cmd = { "policy-check", usage_text };

/* ==========================================================================
 * Products of a mesh
 * ========================================================================== */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_manifest(const char *dir, const char *dom, const char *name)
{
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/domains/%s/%s/product.yaml", dir, dom, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Adds dp://<dom>/<name> for each product directory of domain dom. */
static bool scan_domain(const char *dir, const char *dom, cli_list *uris)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/domains/%s", dir, dom);
    DIR *d = opendir(path);
    if (!d)
        return true;   /* not a directory: not a domain */
    struct dirent *de;
    bool ok = true;
    while (ok && (de = readdir(d))) {
        if (de->d_name[0] == '.' || !has_manifest(dir, dom, de->d_name))
            continue;
        size_t n = strlen(dom) + strlen(de->d_name) + 7;
        char *uri = malloc(n);
        if (uri)
            snprintf(uri, n, "dp://%s/%s", dom, de->d_name);
        ok = uri && cli_list_push(uris, uri);
        if (!ok)
            free(uri);
    }
    closedir(d);
    return ok;
}

/* Every product of the mesh by where its manifest sits: the loader requires
 * dp://<domain>/<name> to live in domains/<domain>/<name>/, so the layout
 * names them (a manifest that disagrees fails to load, and is reported). */
static int find_products(const char *dir, cli_list *uris)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/domains", dir);
    DIR *d = opendir(path);
    if (!d)
        return cli_error("policy-check", "--mesh: cannot read `%s`: %s", path, strerror(errno));

    struct dirent *de;
    bool ok = true;
    while (ok && (de = readdir(d)))
        if (de->d_name[0] != '.')
            ok = scan_domain(dir, de->d_name, uris);
    closedir(d);
    if (!ok)
        return cli_error("policy-check", "out of memory");

    if (uris->n == 0)
        return cli_error("policy-check", "--mesh: no product manifests under `%s`", path);

    qsort(uris->v, uris->n, sizeof *uris->v, cmp_str);
    return CLI_OK;
}

/* ==========================================================================
 * Checking
 * ========================================================================== */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* mg_finding_fn: keeps a copy of the finding in the product's result. */
static int keep_finding(void *ud, const mg_finding *f)
{
    result *r = ud;
    finding *fs = realloc(r->fs, (r->nfs + 1) * sizeof *fs);
    if (!fs) {
        r->oom = true;
        return 1;
    }
    r->fs = fs;
    finding *k = &fs[r->nfs];
    *k = (finding){ f->severity, dup_or_null(f->check), dup_or_null(f->message), dup_or_null(f->file),
                    f->line, f->column };
    if (!k->check || !k->message || (f->file && !k->file)) {
        free(k->check);
        free(k->message);
        free(k->file);
        r->oom = true;
        return 1;
    }
    r->nfs++;
    r->errors += f->severity == MG_SEV_ERROR;
    r->warnings += f->severity == MG_SEV_WARNING;
    return 0;
}

/* mg_test_hooks.test: keeps a copy of the outcome. */
static int keep_test(void *ud, const mg_test_result *t)
{
    result *r = ud;
    ptest *ts = realloc(r->ts, (r->nts + 1) * sizeof *ts);
    if (!ts) {
        r->oom = true;
        return 1;
    }
    r->ts = ts;
    ptest *k = &ts[r->nts];
    *k = (ptest){ dup_or_null(t->name), dup_or_null(t->file), t->line, t->column, t->passed,
                  dup_or_null(t->failure), dup_or_null(t->decision) };
    if (!k->name || !k->file || (t->failure && !k->failure) || (t->decision && !k->decision)) {
        free(k->name);
        free(k->file);
        free(k->failure);
        free(k->decision);
        r->oom = true;
        return 1;
    }
    r->nts++;
    r->tfailed += !t->passed;
    return 0;
}

/* mg_test_hooks.rule: keeps a copy of the rule's coverage. */
static int keep_rule(void *ud, const mg_rule_coverage *c)
{
    result *r = ud;
    prule *rules = realloc(r->rules, (r->nrules + 1) * sizeof *rules);
    if (!rules) {
        r->oom = true;
        return 1;
    }
    r->rules = rules;
    prule *k = &rules[r->nrules];
    *k = (prule){ dup_or_null(c->rule), dup_or_null(c->kind), dup_or_null(c->file), c->line, c->column, c->covered };
    if (!k->rule || !k->kind || !k->file) {
        free(k->rule);
        free(k->kind);
        free(k->file);
        r->oom = true;
        return 1;
    }
    r->nrules++;
    r->covered += c->covered;
    return 0;
}

static void free_result(result *r)
{
    mg_error_clear(&r->err);
    free(r->manifest);
    for (size_t i = 0; i < r->nfs; i++) {
        free(r->fs[i].check);
        free(r->fs[i].message);
        free(r->fs[i].file);
    }
    free(r->fs);
    for (size_t i = 0; i < r->nts; i++) {
        free(r->ts[i].name);
        free(r->ts[i].file);
        free(r->ts[i].failure);
        free(r->ts[i].decision);
    }
    free(r->ts);
    for (size_t i = 0; i < r->nrules; i++) {
        free(r->rules[i].rule);
        free(r->rules[i].kind);
        free(r->rules[i].file);
    }
    free(r->rules);
}

/* DIR/domains/<domain>/<name>/product.yaml for dp://<domain>/<name>. */
static char *manifest_path(const char *mesh, const char *uri)
{
    const char *rest = strncmp(uri, "dp://", 5) == 0 ? uri + 5 : uri;
    size_t n = strlen(mesh) + strlen(rest) + 32;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/domains/%s/product.yaml", mesh, rest);
    return p;
}

static void check_product(mg_engine *e, const char *mesh, int64_t now_us, int min_cov, result *r)
{
    r->manifest = manifest_path(mesh, r->uri);
    r->status = mg_engine_load(e, mesh, r->uri, &r->err);
    if (r->status)
        return;
    mg_policy_set *set = mg_engine_acquire(e);
    snprintf(r->digest, sizeof r->digest, "%s", set ? mg_policy_set_digest(set) : "");
    mg_policy_set_release(set);
    r->status = mg_check_product(e, mesh, r->uri, now_us, keep_finding, r, &r->err);
    if (r->status == MG_OK && !r->oom) {
        mg_test_hooks hooks = { keep_test, keep_rule, r };
        r->status = mg_test_product(e, mesh, r->uri, &hooks, &r->err);
        r->tested = r->status == MG_OK && !r->oom;
        r->below_min = r->tested && min_cov >= 0 && r->covered * 100 < (size_t)min_cov * r->nrules;
    }
    if (r->status == MG_OK && (r->oom || !r->manifest))
        r->status = r->err.code = MG_ENOMEM;   /* message NULL: the status names it */
}

/* ==========================================================================
 * Text
 * ========================================================================== */

#define GREEN "\033[32m"
#define RED "\033[1;31m"
#define YELLOW "\033[1;33m"
#define CYAN "\033[36m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

/* Colour escapes only when stdout is a terminal (cli_color). */
typedef struct pen {
    bool on;
} pen;

static const char *ink(const pen *p, const char *code)
{
    return p->on ? code : "";
}

static const char *severity_color(mg_severity s)
{
    return s == MG_SEV_ERROR ? RED : s == MG_SEV_WARNING ? YELLOW : CYAN;
}

/* "file:line:col: severity: message [check]", the place as far as known. */
static void print_diag(const pen *p, const char *file, int line, int col, mg_severity sev, const char *msg,
                       const char *check)
{
    printf("%s", ink(p, BOLD));
    if (file && line > 0 && col > 0)
        printf("%s:%d:%d: ", file, line, col);
    else if (file)
        printf("%s: ", file);
    printf("%s%s%s:%s %s [%s]\n", ink(p, RESET), ink(p, severity_color(sev)), check_severity_name(sev),
           ink(p, RESET), msg, check);
}

/* The rule trace of a failed test's decision, indented under it. */
static void print_trace(const char *decision)
{
    json_t *o = decision ? json_loads(decision, 0, NULL) : NULL;
    if (json_array_size(json_object_get(o, "trace"))) {
        printf("    trace:\n");
        cli_print_trace(stdout, o, "      ");
    }
    json_decref(o);
}

static void print_failed_test(const pen *p, const ptest *t)
{
    char msg[1024];
    snprintf(msg, sizeof msg, "policy test `%s` failed", t->name);
    print_diag(p, t->file, t->line, t->column, MG_SEV_ERROR, msg, "policy-test");
    const char *s = t->failure ? t->failure : "";
    while (*s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        printf("    %.*s\n", (int)n, s);
        s += n + (nl != NULL);
    }
    print_trace(t->decision);
}

/* Failed tests, the tests line, uncovered rules and the coverage verdict. */
static void print_tests(const pen *p, const result *r, int min_cov)
{
    if (!r->tested || (r->nts == 0 && min_cov < 0))
        return;
    for (size_t k = 0; k < r->nts; k++)
        if (!r->ts[k].passed)
            print_failed_test(p, &r->ts[k]);
    printf("  tests: %zu passed, %zu failed; rules covered: %zu of %zu (%d%%)\n", r->nts - r->tfailed, r->tfailed,
           r->covered, r->nrules, check_percent(r));
    for (size_t k = 0; k < r->nrules; k++) {
        const prule *u = &r->rules[k];
        char msg[512];
        snprintf(msg, sizeof msg, "%s rule %s is not evaluated by any policy test", u->kind, u->rule);
        if (!u->covered)
            print_diag(p, u->file, u->line, u->column, MG_SEV_NOTE, msg, "coverage");
    }
    if (r->below_min) {
        char msg[256];
        snprintf(msg, sizeof msg, "policy tests cover %d%% of the access rules; the minimum is %d%%",
                 check_percent(r), min_cov);
        print_diag(p, r->manifest, 0, 0, MG_SEV_ERROR, msg, "coverage");
    }
}

static void print_text(const report *rep)
{
    pen p = { cli_color(stdout) };
    size_t failed = 0, warnings = 0, tests = 0, tfailed = 0;
    for (size_t i = 0; i < rep->n; i++) {
        const result *r = &rep->rs[i];
        bool ok = check_passed(r);
        printf("%s%-4s%s  %s\n", ink(&p, ok ? GREEN : RED), ok ? "ok" : "FAIL", ink(&p, RESET), r->uri);
        for (size_t k = 0; k < r->nfs; k++) {
            const finding *f = &r->fs[k];
            print_diag(&p, f->file, f->line, f->column, f->severity, f->message, f->check);
        }
        print_tests(&p, r, rep->min_coverage);
        if (r->status)
            cli_print_error(stdout, "policy-check", &r->err, NULL, 0);
        failed += !ok;
        warnings += r->warnings;
        tests += r->nts;
        tfailed += r->tfailed;
    }
    printf("%zu product%s checked: %zu passed, %zu failed", rep->n, rep->n == 1 ? "" : "s", rep->n - failed,
           failed);
    if (warnings)
        printf(", %zu warning%s", warnings, warnings == 1 ? "" : "s");
    if (tests)
        printf("; %zu policy test%s, %zu failed", tests, tests == 1 ? "" : "s", tfailed);
    printf("\n");
}

/* ==========================================================================
 * JSON
 * ========================================================================== */

static json_t *error_json(const mg_error *err)
{
    json_t *o = json_pack("{s:s, s:s}", "code", mg_status_str(err->code),
                          "message", err->message ? err->message : mg_status_str(err->code));
    if (err->file)
        json_object_set_new(o, "file", json_string(err->file));
    if (err->line > 0)
        json_object_set_new(o, "line", json_integer(err->line));
    if (err->column > 0)
        json_object_set_new(o, "column", json_integer(err->column));
    if (err->detail)
        json_object_set_new(o, "detail", json_string(err->detail));
    return o;
}

/* "file", "line", "column" as far as known. */
static void place_json(json_t *o, const char *file, int line, int col)
{
    if (file)
        json_object_set_new(o, "file", json_string(file));
    if (line > 0)
        json_object_set_new(o, "line", json_integer(line));
    if (col > 0)
        json_object_set_new(o, "column", json_integer(col));
}

static json_t *findings_json(const result *r)
{
    json_t *a = json_array();
    for (size_t k = 0; k < r->nfs; k++) {
        const finding *f = &r->fs[k];
        json_t *o = json_pack("{s:s, s:s, s:s}", "severity", check_severity_name(f->severity), "check", f->check,
                              "message", f->message);
        place_json(o, f->file, f->line, f->column);
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *lines_json(const char *s)
{
    json_t *a = json_array();
    while (s && *s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        json_array_append_new(a, json_stringn(s, n));
        s += n + (nl != NULL);
    }
    return a;
}

static json_t *tests_json(const result *r)
{
    json_t *a = json_array();
    for (size_t k = 0; k < r->nts; k++) {
        const ptest *t = &r->ts[k];
        json_t *o = json_pack("{s:s}", "name", t->name);
        place_json(o, t->file, t->line, t->column);
        json_object_set_new(o, "passed", json_boolean(t->passed));
        if (!t->passed) {
            json_object_set_new(o, "failures", lines_json(t->failure));
            json_t *d = t->decision ? json_loads(t->decision, 0, NULL) : NULL;
            json_object_set_new(o, "decision", d ? d : json_null());
        }
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *coverage_json(const result *r)
{
    json_t *unc = json_array();
    for (size_t k = 0; k < r->nrules; k++) {
        const prule *u = &r->rules[k];
        if (u->covered)
            continue;
        json_t *o = json_pack("{s:s, s:s}", "rule", u->rule, "kind", u->kind);
        place_json(o, u->file, u->line, u->column);
        json_array_append_new(unc, o);
    }
    return json_pack("{s:i, s:i, s:i, s:b, s:o}", "rules", (int)r->nrules, "covered", (int)r->covered, "percent",
                     check_percent(r), "below_minimum", r->below_min, "uncovered", unc);
}

static int print_json(const report *rep)
{
    json_t *prods = json_array();
    size_t failed = 0;
    for (size_t i = 0; i < rep->n; i++) {
        const result *r = &rep->rs[i];
        json_t *o = json_pack("{s:s, s:b}", "product", r->uri, "ok", check_passed(r));
        failed += !check_passed(r);
        if (r->digest[0])
            json_object_set_new(o, "policy_set", json_string(r->digest));
        if (r->status)
            json_object_set_new(o, "error", error_json(&r->err));
        if (r->digest[0])
            json_object_set_new(o, "findings", findings_json(r));
        if (r->tested) {
            json_object_set_new(o, "tests", tests_json(r));
            json_object_set_new(o, "coverage", coverage_json(r));
        }
        json_array_append_new(prods, o);
    }
    json_t *doc = json_pack("{s:s}", "mesh", rep->mesh);
    if (rep->min_coverage >= 0)
        json_object_set_new(doc, "min_coverage", json_integer(rep->min_coverage));
    json_object_set_new(doc, "products", prods);
    json_object_set_new(doc, "passed", json_integer((json_int_t)(rep->n - failed)));
    json_object_set_new(doc, "failed", json_integer((json_int_t)failed));
    return cli_print_json(stdout, "policy-check", doc);
}

/* ==========================================================================
 * The run
 * ========================================================================== */

typedef enum format { FMT_TEXT, FMT_JSON, FMT_SARIF, FMT_JUNIT } format;

typedef struct opts {
    const char *mesh;
    format fmt;
    int64_t now_us;
    int min_coverage;       /* -1: none */
} opts;

/* The exit code of one product. */
static int product_code(const result *r)
{
    /* A rule whose condition fails in a check is a broken policy: a
     * violation, like one that does not compile. */
    if (r->status == MG_EEVAL)
        return CLI_VIOLATIONS;
    if (r->status)
        return cli_exit_for(r->status, true);
    return check_passed(r) ? CLI_OK : CLI_VIOLATIONS;
}

/* Checks every product in uris and prints the report. */
static int run(const opts *o, const cli_list *uris)
{
    mg_engine *e = NULL;
    mg_error err = { 0 };
    result *rs = calloc(uris->n, sizeof *rs);
    if (!rs || mg_engine_new(NULL, &e, &err)) {
        cli_error("policy-check", "%s", err.message ? err.message : "out of memory");
        mg_error_clear(&err);
        free(rs);
        return CLI_USAGE;
    }
    int rc = CLI_OK;
    for (size_t i = 0; i < uris->n; i++) {
        rs[i].uri = uris->v[i];
        check_product(e, o->mesh, o->now_us, o->min_coverage, &rs[i]);
        int code = product_code(&rs[i]);
        if (code > rc)
            rc = code;
    }
    report rep = { o->mesh, rs, uris->n, o->min_coverage };
    int prc = o->fmt == FMT_JSON    ? print_json(&rep)
              : o->fmt == FMT_SARIF ? check_print_sarif(&rep)
              : o->fmt == FMT_JUNIT ? check_print_junit(&rep)
                                    : (print_text(&rep), CLI_OK);
    for (size_t i = 0; i < uris->n; i++)
        free_result(&rs[i]);
    free(rs);
    mg_engine_free(e);
    return prc ? prc : rc;
}

static bool parse_format(const char *s, format *f)
{
    static const char *const names[] = { "text", "json", "sarif", "junit" };
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *f = (format)i;
            return true;
        }
    return false;
}

/* A whole number 0..100. */
static bool parse_percent(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 100)
        return false;
    *out = (int)v;
    return true;
}

int main(int argc, char **argv)
{
    const char *format_s = NULL, *now = NULL, *min_cov = NULL, *why = NULL;
    opts o = { ".", FMT_TEXT, cli_now_us(), -1 };
    bool version = false;
    cli_list products = { 0 }, found = { 0 };
    const cli_flag flags[] = {
        { "--mesh", CLI_VALUE, &o.mesh },
        { "--product", CLI_LIST, &products },
        { "--format", CLI_VALUE, &format_s },
        { "--now", CLI_VALUE, &now },
        { "--min-coverage", CLI_VALUE, &min_cov },
        { "--version", CLI_SWITCH, &version },
        { NULL, CLI_SWITCH, NULL },
    };
    int rc = cli_parse(&check_cmd, argc, argv, flags, NULL);
    if (rc == CLI_OK && version)
        printf("policy-check %s\n", MG_VERSION);
    else if (rc == CLI_OK && format_s && !parse_format(format_s, &o.fmt))
        rc = cli_usage_error(&check_cmd, "--format: expected text, json, sarif or junit, got `%s`", format_s);
    else if (rc == CLI_OK && now && !cli_parse_time(now, &o.now_us, &why))
        rc = cli_usage_error(&check_cmd, "--now: invalid time `%s`: %s", now, why);
    else if (rc == CLI_OK && min_cov && !parse_percent(min_cov, &o.min_coverage))
        rc = cli_usage_error(&check_cmd, "--min-coverage: expected a whole percentage from 0 to 100, got `%s`",
                             min_cov);
    else if (rc == CLI_OK && !cli_is_dir(o.mesh))
        rc = cli_error("policy-check", "--mesh: `%s` is not a directory", o.mesh);
    else if (rc == CLI_OK && products.n == 0 && (rc = find_products(o.mesh, &found)) == CLI_OK)
        rc = run(&o, &found);
    else if (rc == CLI_OK && products.n > 0)
        rc = run(&o, &products);
    for (size_t i = 0; i < found.n; i++)
        free((char *)found.v[i]);
    cli_list_free(&found);
    cli_list_free(&products);
    return rc < 0 ? CLI_OK : rc;
}
