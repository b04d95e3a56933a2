/*
 * check_formats.c — the machine formats of policy-check's report: SARIF
 * 2.1.0 for code-scanning UIs (each load error, finding, failed policy test
 * and uncovered rule is a result located in its manifest, test or policy
 * file), and JUnit XML for CI test views (a testsuite per product, a
 * testcase per check and per policy test). Also the verdicts every format
 * shares.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/check.h"

bool check_passed(const result *r)
{
    return r->status == MG_OK && r->errors == 0 && r->tfailed == 0 && !r->below_min;
}

const char *check_severity_name(mg_severity s)
{
    return s == MG_SEV_ERROR ? "error" : s == MG_SEV_WARNING ? "warning" : "note";
}

int check_percent(const result *r)
{
    return r->nrules ? (int)(r->covered * 100 / r->nrules) : 100;
}

/* ==========================================================================
 * SARIF
 * ========================================================================== */

/* The rules of the report: one per kind of result. */
static const struct sarif_rule {
    const char *id, *name, *text;
} sarif_rules_table[] = {
    { "load", "InvalidInput", "A manifest or policy test file is invalid, or a policy does not compile" },
    { "encryption", "EncryptionNotDeclared",
      "A `require encryption` rule applies to a port or column that does not declare that encryption" },
    { "retention", "RetentionMissing", "An output port holds personal data and no retention rule applies to it" },
    { "forget", "SubjectKeyMissing", "A `forget` rule covers a port that declares no subject_key" },
    { "adoption", "GlobalPolicyNotAdopted",
      "A required or grace global policy is not adopted at its latest version, or is adopted in dry_run" },
    { "policy-test", "PolicyTestFailed", "A policy test's decision differs from what the test expects" },
    { "coverage", "RuleNotCovered", "Policy tests do not evaluate an access rule, or too few of them" },
};
enum { N_SARIF_RULES = sizeof sarif_rules_table / sizeof *sarif_rules_table };

/* The report being built: the driver's rules and the results. */
typedef struct sarif {
    json_t *rules, *results;
} sarif;

static json_t *sarif_rule(const char *id, const char *name, const char *text)
{
    return json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "id", id, "name", name, "shortDescription", "text", text, "help",
                     "text", "See docs/cli.md (policy-check) and docs/policy-tests.md.");
}

/* The index of rule id in the driver's rules; a check kind the table does
 * not know (a newer library's) is added, so ruleIndex always matches. */
static int sarif_rule_index(sarif *S, const char *id)
{
    size_t i;
    json_t *r;
    json_array_foreach(S->rules, i, r)
        if (strcmp(json_string_value(json_object_get(r, "id")), id) == 0)
            return (int)i;
    char text[256];
    snprintf(text, sizeof text, "policy-check finding of the `%s` check", id);
    json_array_append_new(S->rules, sarif_rule(id, id, text));
    return (int)json_array_size(S->rules) - 1;
}

static json_t *sarif_rules(void)
{
    json_t *rules = json_array();
    for (int i = 0; i < N_SARIF_RULES; i++)
        json_array_append_new(rules, sarif_rule(sarif_rules_table[i].id, sarif_rules_table[i].name,
                                                sarif_rules_table[i].text));
    return rules;
}

/* A path as a URI: a relative path as a relative reference (code scanning
 * resolves it against the repository root), an absolute one as a file: URI
 * (upload-sarif's checkout_path makes it relative); bytes outside the
 * unreserved set and '/' percent-encoded. */
static json_t *uri_of(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *u = malloc(3 * n + 8), *q = u;
    if (!u)
        return NULL;
    if (path[0] == '/')
        q += sprintf(q, "file://");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p)) {
            *q++ = (char)*p;
        } else {
            *q++ = '%';
            *q++ = hex[*p >> 4];
            *q++ = hex[*p & 15];
        }
    }
    *q = 0;
    json_t *s = json_string(u);
    free(u);
    return s;
}

static json_t *sarif_location(const char *file, int line, int col)
{
    json_t *phys = json_pack("{s:{s:o}}", "artifactLocation", "uri", uri_of(file));
    if (line > 0) {
        json_t *region = json_pack("{s:i}", "startLine", line);
        if (col > 0)
            json_object_set_new(region, "startColumn", json_integer(col));
        json_object_set_new(phys, "region", region);
    }
    return json_pack("{s:o}", "physicalLocation", phys);
}

/* Appends a result to results and returns it (borrowed). */
static json_t *sarif_add(sarif *S, const char *product, const char *rule, mg_severity sev, const char *msg,
                         const char *file, int line, int col)
{
    json_t *o = json_pack("{s:s, s:i, s:s, s:{s:s}}", "ruleId", rule, "ruleIndex", sarif_rule_index(S, rule), "level",
                          check_severity_name(sev), "message", "text", msg);
    json_t *locs = json_array();
    if (file)
        json_array_append_new(locs, sarif_location(file, line, col));
    json_object_set_new(o, "locations", locs);
    json_object_set_new(o, "properties", json_pack("{s:s}", "product", product));
    json_array_append_new(S->results, o);
    return o;
}

/* A failed test's decision names the rule that decided it, at
 * "file:line:col": a related location, so a reviewer can jump from the
 * test to the rule. */
static void sarif_deciding_rule(json_t *res, const char *decision)
{
    json_t *d = decision ? json_loads(decision, 0, NULL) : NULL;
    json_t *dec = json_object_get(d, "deciding");
    const char *at = json_string_value(json_object_get(dec, "location"));
    char file[1024];
    int line = 0, col = 0;
    const char *c2 = at ? strrchr(at, ':') : NULL, *c1 = NULL;
    for (const char *p = c2 ? c2 - 1 : NULL; p && p >= at && !c1; p--)
        if (*p == ':')
            c1 = p;
    if (c1 && (size_t)(c1 - at) < sizeof file && sscanf(c1, ":%d:%d", &line, &col) == 2) {
        snprintf(file, sizeof file, "%.*s", (int)(c1 - at), at);
        json_t *loc = sarif_location(file, line, col);
        char msg[512];
        snprintf(msg, sizeof msg, "deciding rule %s (%s)", json_string_value(json_object_get(dec, "rule")),
                 json_string_value(json_object_get(dec, "kind")));
        json_object_set_new(loc, "id", json_integer(1));
        json_object_set_new(loc, "message", json_pack("{s:s}", "text", msg));
        json_object_set_new(res, "relatedLocations", json_pack("[o]", loc));
    }
    json_decref(d);
}

/* A load error: one result per rendered diagnostic ("file:line:col:
 * error: message" lines of err->detail), else the error itself. */
static void sarif_load_error(sarif *S, const result *r)
{
    size_t added = 0;
    const char *s = r->err.detail;
    while (s && *s) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        char line[2048], file[1024], msg[1024];
        int l, c, used = 0;
        snprintf(line, sizeof line, "%.*s", (int)n, s);
        if (sscanf(line, "%1023[^:]:%d:%d: error: %n", file, &l, &c, &used) == 3 && used > 0) {
            snprintf(msg, sizeof msg, "%s", line + used);
            sarif_add(S, r->uri, "load", MG_SEV_ERROR, msg, file, l, c);
            added++;
        }
        s += n + (nl != NULL);
    }
    if (added == 0)
        sarif_add(S, r->uri, "load", MG_SEV_ERROR,
                  r->err.message ? r->err.message : mg_status_str(r->err.code),
                  r->err.file ? r->err.file : r->manifest, r->err.line, r->err.column);
}

/* "policy test `x` failed: a; b" */
static char *test_message(const ptest *t)
{
    const char *f = t->failure ? t->failure : "";
    size_t n = strlen(t->name) + 2 * strlen(f) + 64;
    char *m = malloc(n);
    if (!m)
        return NULL;
    int k = snprintf(m, n, "policy test `%s` failed: ", t->name);
    char *q = m + (k > 0 ? k : 0);
    for (; *f; f++) {
        if (*f == '\n') {
            *q++ = ';';
            *q++ = ' ';
        } else {
            *q++ = *f;
        }
    }
    *q = 0;
    return m;
}

static void sarif_product(sarif *S, const result *r, int min_cov)
{
    if (r->status)
        sarif_load_error(S, r);
    for (size_t k = 0; k < r->nfs; k++) {
        const finding *f = &r->fs[k];
        sarif_add(S, r->uri, f->check, f->severity, f->message, f->file, f->line, f->column);
    }
    for (size_t k = 0; r->tested && k < r->nts; k++) {
        const ptest *t = &r->ts[k];
        char *m = t->passed ? NULL : test_message(t);
        if (m)
            sarif_deciding_rule(sarif_add(S, r->uri, "policy-test", MG_SEV_ERROR, m, t->file, t->line,
                                          t->column),
                                t->decision);
        free(m);
    }
    for (size_t k = 0; r->tested && k < r->nrules; k++) {
        const prule *u = &r->rules[k];
        char msg[512];
        snprintf(msg, sizeof msg, "%s rule %s is not evaluated by any policy test", u->kind, u->rule);
        if (!u->covered)
            sarif_add(S, r->uri, "coverage", MG_SEV_NOTE, msg, u->file, u->line, u->column);
    }
    if (r->below_min) {
        char msg[256];
        snprintf(msg, sizeof msg, "policy tests cover %d%% of the access rules of %s; the minimum is %d%%",
                 check_percent(r), r->uri, min_cov);
        sarif_add(S, r->uri, "coverage", MG_SEV_ERROR, msg, r->manifest, 0, 0);
    }
}

int check_print_sarif(const report *rep)
{
    sarif S = { sarif_rules(), json_array() };
    for (size_t i = 0; i < rep->n; i++)
        sarif_product(&S, &rep->rs[i], rep->min_coverage);
    json_t *driver = json_pack("{s:s, s:s, s:o}", "name", "policy-check", "version", MG_VERSION, "rules", S.rules);
    json_t *run = json_pack("{s:{s:o}, s:s, s:o}", "tool", "driver", driver, "columnKind", "unicodeCodePoints",
                            "results", S.results);
    json_t *doc = json_pack("{s:s, s:s, s:[o]}", "$schema", "https://json.schemastore.org/sarif-2.1.0.json",
                            "version", "2.1.0", "runs", run);
    return cli_print_json(stdout, "policy-check", doc);
}

/* ==========================================================================
 * JUnit XML
 * ========================================================================== */

/* Text as XML character data or an attribute value: markup characters
 * escaped; control characters XML 1.0 cannot hold become '?'. */
static void xml_text(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\n': case '\t': fputc(*p, out); break;
        default: fputc(*p < 0x20 || *p == 0x7f ? '?' : *p, out);
        }
    }
}

/* One testcase; kind is "failure" or "error" (NULL: passed). */
typedef struct tcase {
    const char *classname, *name, *file;
    int line;
    const char *kind, *type, *message;   /* message: one line */
    const char *body, *out;              /* failure details, system-out */
} tcase;

static void junit_case(FILE *f, const tcase *c)
{
    fputs("    <testcase classname=\"", f);
    xml_text(f, c->classname);
    fputs("\" name=\"", f);
    xml_text(f, c->name);
    fputc('"', f);
    if (c->file) {
        fputs(" file=\"", f);
        xml_text(f, c->file);
        fputc('"', f);
        if (c->line > 0)
            fprintf(f, " line=\"%d\"", c->line);
    }
    if (!c->kind && !c->out) {
        fputs("/>\n", f);
        return;
    }
    fputs(">\n", f);
    if (c->kind) {
        fprintf(f, "      <%s message=\"", c->kind);
        xml_text(f, c->message);
        fprintf(f, "\" type=\"%s\">", c->type);
        xml_text(f, c->body);
        fprintf(f, "</%s>\n", c->kind);
    }
    if (c->out) {
        fputs("      <system-out>", f);
        xml_text(f, c->out);
        fputs("</system-out>\n", f);
    }
    fputs("    </testcase>\n", f);
}

/* Counts of one product's testcases, as junit_product writes them. */
typedef struct counts {
    size_t tests, failures, errors;
} counts;

/* The checks a product's testcases stand for: the library's four, then any
 * other kind its findings name (a newer library's), in order of appearance.
 * Returns how many; at most cap. */
#define MAX_KINDS 16
static size_t check_kinds(const result *r, const char **kinds, size_t cap)
{
    static const char *const fixed[] = { "encryption", "retention", "forget", "adoption" };
    size_t n = 0;
    for (size_t k = 0; k < 4; k++)
        kinds[n++] = fixed[k];
    for (size_t i = 0; i < r->nfs && n < cap; i++) {
        size_t k = 0;
        while (k < n && strcmp(kinds[k], r->fs[i].check) != 0)
            k++;
        if (k == n)
            kinds[n++] = r->fs[i].check;
    }
    return n;
}

static counts product_counts(const result *r)
{
    counts c = { 1, 0, r->status != MG_OK };
    const char *kinds[MAX_KINDS];
    size_t nk = r->digest[0] ? check_kinds(r, kinds, MAX_KINDS) : 0;
    for (size_t k = 0; k < nk; k++) {
        c.tests++;
        bool failed = false;
        for (size_t i = 0; i < r->nfs; i++)
            failed |= r->fs[i].severity == MG_SEV_ERROR && strcmp(r->fs[i].check, kinds[k]) == 0;
        c.failures += failed;
    }
    if (r->tested) {
        c.tests += r->nts + 1;
        c.failures += r->tfailed + r->below_min;
    }
    return c;
}

/* Text built with stdio into a new string the caller frees. */
typedef struct membuf {
    char *s;
    size_t n;
    FILE *f;
} membuf;

static bool mb_open(membuf *m)
{
    m->s = NULL;
    m->n = 0;
    m->f = open_memstream(&m->s, &m->n);
    return m->f != NULL;
}

static char *mb_close(membuf *m)
{
    if (m->f)
        fclose(m->f);
    m->f = NULL;
    return m->s;
}

/* The findings of one check, one per line. */
static char *check_findings(const result *r, const char *check, const char **first_error)
{
    membuf m;
    if (!mb_open(&m))
        return NULL;
    *first_error = NULL;
    for (size_t i = 0; i < r->nfs; i++) {
        const finding *f = &r->fs[i];
        if (strcmp(f->check, check) != 0)
            continue;
        if (f->severity == MG_SEV_ERROR && !*first_error)
            *first_error = f->message;
        fprintf(m.f, "%s:%d:%d: %s: %s\n", f->file ? f->file : r->manifest, f->line, f->column,
                check_severity_name(f->severity), f->message);
    }
    return mb_close(&m);
}

/* A failed test's differences, then its rule trace. */
static char *test_details(const ptest *t)
{
    membuf m;
    if (!mb_open(&m))
        return NULL;
    fprintf(m.f, "%s\n", t->failure ? t->failure : "");
    json_t *o = t->decision ? json_loads(t->decision, 0, NULL) : NULL;
    size_t i;
    json_t *s;
    if (json_array_size(json_object_get(o, "trace")))
        fputs("trace:\n", m.f);
    json_array_foreach(json_object_get(o, "trace"), i, s) {
        fprintf(m.f, "  %s", cli_json_str(s, "rule"));
        if (json_object_get(s, "column"))
            fprintf(m.f, " [%s]", cli_json_str(s, "column"));
        fprintf(m.f, "  %s%s  at %s\n", cli_json_str(s, "result"), json_is_true(json_object_get(s, "dry_run")) ? " (dry run)" : "",
                cli_json_str(s, "location"));
    }
    json_decref(o);
    return mb_close(&m);
}

static char *coverage_text(const result *r)
{
    membuf m;
    if (!mb_open(&m))
        return NULL;
    fprintf(m.f, "%zu of %zu access rules covered (%d%%)\n", r->covered, r->nrules, check_percent(r));
    for (size_t k = 0; k < r->nrules; k++)
        if (!r->rules[k].covered)
            fprintf(m.f, "not covered: %s rule %s at %s:%d:%d\n", r->rules[k].kind, r->rules[k].rule,
                    r->rules[k].file, r->rules[k].line, r->rules[k].column);
    return mb_close(&m);
}

static void junit_checks(FILE *f, const result *r)
{
    const char *kinds[MAX_KINDS];
    size_t nk = check_kinds(r, kinds, MAX_KINDS);
    for (size_t k = 0; k < nk; k++) {
        const char *first = NULL;
        char *body = check_findings(r, kinds[k], &first);
        tcase c = { r->uri, kinds[k], NULL, 0, first ? "failure" : NULL, kinds[k], first,
                    first ? body : NULL, !first && body && body[0] ? body : NULL };
        junit_case(f, &c);
        free(body);
    }
}

static void junit_tests(FILE *f, const result *r, int min_cov)
{
    char cls[1024];
    snprintf(cls, sizeof cls, "%s.tests", r->uri);
    for (size_t k = 0; k < r->nts; k++) {
        const ptest *t = &r->ts[k];
        char *body = t->passed ? NULL : test_details(t);
        char first[512];
        const char *fl = t->failure ? t->failure : "";
        snprintf(first, sizeof first, "%.*s", (int)strcspn(fl, "\n"), fl);
        tcase c = { cls, t->name, t->file, t->line, t->passed ? NULL : "failure", "policy-test", first, body, NULL };
        junit_case(f, &c);
        free(body);
    }
    char *cov = coverage_text(r), msg[256];
    snprintf(msg, sizeof msg, "policy tests cover %d%% of the access rules; the minimum is %d%%", check_percent(r),
             min_cov);
    tcase c = { r->uri, "coverage", NULL, 0, r->below_min ? "failure" : NULL, "coverage", msg,
                r->below_min ? cov : NULL, r->below_min ? NULL : cov };
    junit_case(f, &c);
    free(cov);
}

static void junit_product(FILE *f, const result *r, int min_cov)
{
    counts n = product_counts(r);
    fputs("  <testsuite name=\"", f);
    xml_text(f, r->uri);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\">\n", n.tests, n.failures, n.errors);
    if (r->digest[0])
        fprintf(f, "    <properties>\n      <property name=\"policy_set\" value=\"%s\"/>\n    </properties>\n",
                r->digest);
    const char *msg = r->err.message ? r->err.message : mg_status_str(r->err.code);
    tcase load = { r->uri, "load", r->status && r->err.file ? r->err.file : NULL, r->err.line,
                   r->status ? "error" : NULL, "load", msg, r->err.detail ? r->err.detail : msg, NULL };
    junit_case(f, &load);
    if (r->digest[0])
        junit_checks(f, r);
    if (r->tested)
        junit_tests(f, r, min_cov);
    fputs("  </testsuite>\n", f);
}

int check_print_junit(const report *rep)
{
    counts all = { 0, 0, 0 };
    for (size_t i = 0; i < rep->n; i++) {
        counts c = product_counts(&rep->rs[i]);
        all.tests += c.tests;
        all.failures += c.failures;
        all.errors += c.errors;
    }
    printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    printf("<testsuites name=\"policy-check\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\">\n", all.tests,
           all.failures, all.errors);
    for (size_t i = 0; i < rep->n; i++)
        junit_product(stdout, &rep->rs[i], rep->min_coverage);
    printf("</testsuites>\n");
    return CLI_OK;
}
