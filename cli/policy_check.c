/*
 * policy_check.c — the `policy-check` program for CI: loads the mesh,
 * compiles the policy set of each product (every product of the mesh, or
 * those named with --product) and runs the static compliance checks
 * (mg_check_product) on it, and reports what does not load or compile and
 * every finding, as text with compiler-style diagnostics or as JSON.
 *
 * Policy tests and lints come later, each as its own step over the same
 * product list.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"

static const char usage_text[] =
    "usage: policy-check [--mesh DIR] [--product URI ...] [--format text|json]\n"
    "                    [--now TIME]\n"
    "       policy-check --help | --version\n"
    "\n"
    "Loads the mesh's manifests and compiles each product's policy set: the\n"
    "global policies it adopts, at the adopted versions, and its local ones;\n"
    "then checks its static compliance: encryption declared where a rule\n"
    "requires it, retention for personal data, a subject_key where `forget`\n"
    "applies, and adoption of the catalogue's required and grace policies.\n"
    "\n"
    "  --mesh DIR          the mesh directory, holding mesh.yaml (default .)\n"
    "  --product URI       check this product (repeatable; default: every\n"
    "                      product under DIR/domains/<domain>/<name>/)\n"
    "  --format text|json  output format (default text)\n"
    "  --now TIME          the clock for grace deadlines and rules, RFC 3339\n"
    "                      (default: now)\n"
    "\n"
    "Exit status: 0 every product passes (warnings allowed); 1 a manifest is\n"
    "invalid, a policy does not compile or a check found an error; 2 bad\n"
    "usage, unknown product or unreadable input.\n";

static const cli_cmd check_cmd = { "policy-check", usage_text };

/* A finding of mg_check_product, copied out of the callback. */
typedef struct finding {
    mg_severity severity;
    char *check, *message, *file;
    int line, column;
} finding;

/* The outcome for one product. */
typedef struct result {
    const char *uri;
    mg_status status;
    mg_error err;
    char digest[65];
    finding *fs;
    size_t nfs;
    size_t errors, warnings;
    bool oom;
} result;

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

static void free_result(result *r)
{
    mg_error_clear(&r->err);
    for (size_t i = 0; i < r->nfs; i++) {
        free(r->fs[i].check);
        free(r->fs[i].message);
        free(r->fs[i].file);
    }
    free(r->fs);
}

static void check_product(mg_engine *e, const char *mesh, int64_t now_us, result *r)
{
    r->status = mg_engine_load(e, mesh, r->uri, &r->err);
    if (r->status)
        return;
    mg_policy_set *set = mg_engine_acquire(e);
    snprintf(r->digest, sizeof r->digest, "%s", set ? mg_policy_set_digest(set) : "");
    mg_policy_set_release(set);
    r->status = mg_check_product(e, mesh, r->uri, now_us, keep_finding, r, &r->err);
    if (r->status == MG_OK && r->oom)
        r->status = r->err.code = MG_ENOMEM;   /* message NULL: the status names it */
}

static bool passed(const result *r)
{
    return r->status == MG_OK && r->errors == 0;
}

static const char *severity_name(mg_severity s)
{
    return s == MG_SEV_ERROR ? "error" : s == MG_SEV_WARNING ? "warning" : "note";
}

/* "file:line:col: error: message [check]", the place as far as known. */
static void print_finding(const finding *f)
{
    if (f->file && f->line > 0 && f->column > 0)
        printf("%s:%d:%d: ", f->file, f->line, f->column);
    else if (f->file)
        printf("%s: ", f->file);
    printf("%s: %s [%s]\n", severity_name(f->severity), f->message, f->check);
}

static void print_text(const result *rs, size_t n)
{
    size_t failed = 0, warnings = 0;
    for (size_t i = 0; i < n; i++) {
        const result *r = &rs[i];
        printf("%-4s  %s\n", passed(r) ? "ok" : "FAIL", r->uri);
        for (size_t k = 0; k < r->nfs; k++)
            print_finding(&r->fs[k]);
        if (r->status)
            cli_print_error(stdout, "policy-check", &r->err, NULL, 0);
        failed += !passed(r);
        warnings += r->warnings;
    }
    printf("%zu product%s checked: %zu passed, %zu failed", n, n == 1 ? "" : "s", n - failed, failed);
    if (warnings)
        printf(", %zu warning%s", warnings, warnings == 1 ? "" : "s");
    printf("\n");
}

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

static json_t *findings_json(const result *r)
{
    json_t *a = json_array();
    for (size_t k = 0; k < r->nfs; k++) {
        const finding *f = &r->fs[k];
        json_t *o = json_pack("{s:s, s:s, s:s}", "severity", severity_name(f->severity), "check", f->check,
                              "message", f->message);
        if (f->file)
            json_object_set_new(o, "file", json_string(f->file));
        if (f->line > 0)
            json_object_set_new(o, "line", json_integer(f->line));
        if (f->column > 0)
            json_object_set_new(o, "column", json_integer(f->column));
        json_array_append_new(a, o);
    }
    return a;
}

static int print_json(const char *mesh, const result *rs, size_t n)
{
    json_t *prods = json_array();
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        const result *r = &rs[i];
        json_t *o = json_pack("{s:s, s:b}", "product", r->uri, "ok", passed(r));
        failed += !passed(r);
        if (r->digest[0])
            json_object_set_new(o, "policy_set", json_string(r->digest));
        if (r->status)
            json_object_set_new(o, "error", error_json(&r->err));
        else
            json_object_set_new(o, "findings", findings_json(r));
        json_array_append_new(prods, o);
    }
    json_t *doc = json_pack("{s:s, s:o, s:i, s:i}", "mesh", mesh, "products", prods,
                            "passed", (int)(n - failed), "failed", (int)failed);
    char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!s)
        return cli_error("policy-check", "out of memory");

    printf("%s\n", s);
    free(s);
    return CLI_OK;
}

/* Checks every product in uris and prints the report. */
static int run(const char *mesh, const cli_list *uris, bool json, int64_t now_us)
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
        check_product(e, mesh, now_us, &rs[i]);
        /* A rule whose condition fails in a check is a broken policy: a
         * violation, like one that does not compile. */
        int code = rs[i].status == MG_EEVAL ? CLI_VIOLATIONS
                   : rs[i].status          ? cli_exit_for(rs[i].status, true)
                   : passed(&rs[i])        ? CLI_OK
                                           : CLI_VIOLATIONS;
        if (code > rc)
            rc = code;
    }
    int prc = json ? print_json(mesh, rs, uris->n) : (print_text(rs, uris->n), CLI_OK);
    for (size_t i = 0; i < uris->n; i++)
        free_result(&rs[i]);
    free(rs);
    mg_engine_free(e);
    return prc ? prc : rc;
}

int main(int argc, char **argv)
{
    const char *mesh = ".", *format = NULL, *now = NULL, *why = NULL;
    int64_t now_us = cli_now_us();
    bool version = false;
    cli_list products = { 0 }, found = { 0 };
    const cli_flag flags[] = {
        { "--mesh", CLI_VALUE, &mesh },
        { "--product", CLI_LIST, &products },
        { "--format", CLI_VALUE, &format },
        { "--now", CLI_VALUE, &now },
        { "--version", CLI_SWITCH, &version },
        { NULL, CLI_SWITCH, NULL },
    };
    int rc = cli_parse(&check_cmd, argc, argv, flags, NULL);
    if (rc == CLI_OK && version)
        printf("policy-check %s\n", MG_VERSION);
    else if (rc == CLI_OK && format && strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
        rc = cli_usage_error(&check_cmd, "--format: expected text or json, got `%s`", format);
    else if (rc == CLI_OK && now && !cli_parse_time(now, &now_us, &why))
        rc = cli_usage_error(&check_cmd, "--now: invalid time `%s`: %s", now, why);
    else if (rc == CLI_OK && !cli_is_dir(mesh))
        rc = cli_error("policy-check", "--mesh: `%s` is not a directory", mesh);
    else if (rc == CLI_OK && products.n == 0 && (rc = find_products(mesh, &found)) == CLI_OK)
        rc = run(mesh, &found, format && strcmp(format, "json") == 0, now_us);
    else if (rc == CLI_OK && products.n > 0)
        rc = run(mesh, &products, format && strcmp(format, "json") == 0, now_us);
    for (size_t i = 0; i < found.n; i++)
        free((char *)found.v[i]);
    cli_list_free(&found);
    cli_list_free(&products);
    return rc < 0 ? CLI_OK : rc;
}
