/*
 * test_formats.c — policy-check's machine formats checked by structure, on
 * the program's real output (the golden files under tests/cli/golden/ have
 * digests replaced, so they are not the documents a CI system reads):
 *   SARIF: version, $schema, the driver's rules, every result's rule, level,
 *          message and location (a file that exists, a line inside it);
 *   JUnit: well-formed XML whose declared counts match its testcases,
 *          failures and errors, per suite and in total.
 * The program is found beside this test binary's directory
 * (BUILD/tests/test-cli -> BUILD/policy-check).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PTEST "tests/cli/data/ptest-mesh"
#define NOW "--now 2026-06-01T00:00:00Z"

/* Runs policy-check with args; returns its stdout (caller frees) and sets
 * *status to its exit status. */
static char *run_check(const char *args, int *status)
{
    char exe[PATH_MAX], cmd[PATH_MAX * 2];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    cr_assert_gt(n, 0);
    exe[n] = 0;
    *strrchr(exe, '/') = 0;             /* BUILD/tests */
    *strrchr(exe, '/') = 0;             /* BUILD */
    snprintf(cmd, sizeof cmd, "NO_COLOR=1 '%s/policy-check' %s 2>/dev/null", exe, args);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    size_t got;
    while ((got = fread(out + len, 1, cap - len - 1, p)) > 0) {
        len += got;
        if (len + 1 == cap)
            out = realloc(out, cap *= 2);
    }
    out[len] = 0;
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

/* ==========================================================================
 * SARIF
 * ========================================================================== */

/* A SARIF artifact URI (relative, percent-encoded) as a file path. */
static void uri_path(const char *uri, char *path, size_t cap)
{
    size_t n = 0;
    for (const char *s = uri; *s && n + 1 < cap; s++) {
        unsigned v;
        if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1) {
            path[n++] = (char)v;
            s += 2;
        } else {
            path[n++] = *s;
        }
    }
    path[n] = 0;
}

static size_t lines_in(const char *uri)
{
    char path[1024];
    uri_path(uri, path, sizeof path);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "SARIF names a file that does not exist: %s", uri);
    size_t n = 0;
    int c, last = '\n';
    while ((c = fgetc(f)) != EOF) {
        n += c == '\n';
        last = c;
    }
    fclose(f);
    return n + (last != '\n');
}

/* Checks the document's shape; counts results by "ruleId/level". */
static json_t *check_sarif(const char *text)
{
    json_error_t e;
    json_t *doc = json_loads(text, 0, &e);
    cr_assert_not_null(doc, "SARIF is not JSON: %s at line %d", e.text, e.line);
    cr_assert_str_eq(json_string_value(json_object_get(doc, "version")), "2.1.0");
    cr_assert_str_eq(json_string_value(json_object_get(doc, "$schema")),
                     "https://json.schemastore.org/sarif-2.1.0.json");
    json_t *runs = json_object_get(doc, "runs");
    cr_assert_eq(json_array_size(runs), 1);
    json_t *run = json_array_get(runs, 0);
    json_t *driver = json_object_get(json_object_get(run, "tool"), "driver");
    cr_assert_str_eq(json_string_value(json_object_get(driver, "name")), "policy-check");
    json_t *rules = json_object_get(driver, "rules");
    static const char *const ids[] = { "load", "encryption", "retention", "forget", "adoption", "policy-test",
                                       "coverage" };
    cr_assert_geq(json_array_size(rules), 7);     /* and any newer check kinds */
    for (size_t i = 0; i < json_array_size(rules); i++) {
        json_t *r = json_array_get(rules, i);
        if (i < 7)
            cr_assert_str_eq(json_string_value(json_object_get(r, "id")), ids[i]);
        cr_assert_gt(strlen(json_string_value(json_object_get(json_object_get(r, "shortDescription"), "text"))), 10);
    }
    json_t *counts = json_object();
    size_t i;
    json_t *res;
    json_array_foreach(json_object_get(run, "results"), i, res) {
        const char *rid = json_string_value(json_object_get(res, "ruleId"));
        json_int_t idx = json_integer_value(json_object_get(res, "ruleIndex"));
        cr_assert(idx >= 0 && (size_t)idx < json_array_size(rules));
        cr_assert_str_eq(rid, json_string_value(json_object_get(json_array_get(rules, idx), "id")));
        const char *level = json_string_value(json_object_get(res, "level"));
        cr_assert(strcmp(level, "error") == 0 || strcmp(level, "warning") == 0 || strcmp(level, "note") == 0);
        cr_assert_gt(strlen(json_string_value(json_object_get(json_object_get(res, "message"), "text"))), 0);
        json_t *locs = json_object_get(res, "locations");
        cr_assert_eq(json_array_size(locs), 1, "result %zu has no location", i);
        json_t *phys = json_object_get(json_array_get(locs, 0), "physicalLocation");
        const char *uri = json_string_value(json_object_get(json_object_get(phys, "artifactLocation"), "uri"));
        size_t nlines = lines_in(uri);
        json_t *region = json_object_get(phys, "region");
        if (region) {
            json_int_t line = json_integer_value(json_object_get(region, "startLine"));
            json_int_t col = json_integer_value(json_object_get(region, "startColumn"));
            cr_assert(line >= 1 && (size_t)line <= nlines, "%s: line %lld out of range", uri, (long long)line);
            cr_assert_geq(col, 1);
        }
        size_t k;
        json_t *rel;
        json_array_foreach(json_object_get(res, "relatedLocations"), k, rel) {
            json_t *rp = json_object_get(rel, "physicalLocation");
            const char *ru = json_string_value(json_object_get(json_object_get(rp, "artifactLocation"), "uri"));
            json_int_t rl = json_integer_value(json_object_get(json_object_get(rp, "region"), "startLine"));
            cr_assert(rl >= 1 && (size_t)rl <= lines_in(ru), "%s: related line %lld", ru, (long long)rl);
            cr_assert_not_null(json_object_get(json_object_get(rel, "message"), "text"));
            json_object_set_new(counts, "related", json_integer(json_integer_value(json_object_get(counts, "related")) + 1));
        }
        char key[64];
        snprintf(key, sizeof key, "%s/%s", rid, level);
        json_object_set_new(counts, key, json_integer(json_integer_value(json_object_get(counts, key)) + 1));
    }
    json_decref(doc);
    return counts;
}

static json_int_t count(json_t *counts, const char *key)
{
    return json_integer_value(json_object_get(counts, key));
}

Test(sarif, sample_mesh_passes_with_no_results)
{
    int st;
    char *out = run_check("--mesh samples/mesh " NOW " --format sarif", &st);
    cr_assert_eq(st, 0);
    json_t *c = check_sarif(out);
    cr_assert_eq(json_object_size(c), 0);
    json_decref(c);
    free(out);
}

Test(sarif, failing_tests_coverage_and_a_bad_test_file)
{
    int st;
    char *out = run_check("--mesh " PTEST " " NOW " --product dp://shop/carts --product dp://shop/wishlists "
                          "--product dp://shop/bad-key --min-coverage 60 --format sarif", &st);
    cr_assert_eq(st, 1);
    json_t *c = check_sarif(out);
    cr_assert_eq(count(c, "policy-test/error"), 3);
    cr_assert_eq(count(c, "coverage/note"), 2);
    cr_assert_eq(count(c, "coverage/error"), 1);
    cr_assert_eq(count(c, "load/error"), 1);
    cr_assert_eq(count(c, "related"), 2);   /* failed tests with a deciding rule */
    cr_assert_eq(json_object_size(c), 5);
    json_decref(c);
    free(out);
}

Test(sarif, every_diagnostic_of_a_policy_that_does_not_compile)
{
    int st;
    char *out = run_check("--mesh tests/cli/data/broken-mesh " NOW " --format sarif", &st);
    cr_assert_eq(st, 1);
    json_t *c = check_sarif(out);
    cr_assert_eq(count(c, "load/error"), 1);
    cr_assert_eq(count(c, "coverage/note"), 1);
    json_decref(c);
    free(out);
}

Test(sarif, broken_sample_mesh)
{
    int st;
    char *out = run_check("--mesh samples/broken --now 2026-11-01T00:00:00Z --format sarif", &st);
    cr_assert_eq(st, 1);
    json_t *c = check_sarif(out);
    cr_assert_eq(count(c, "encryption/error"), 1);
    cr_assert_eq(count(c, "adoption/error"), 1);
    cr_assert_eq(count(c, "policy-test/error"), 1);
    cr_assert_eq(count(c, "load/error"), 1);
    json_decref(c);
    free(out);
}

/* ==========================================================================
 * JUnit: a small well-formedness checker, enough for what XML writers emit
 * (declaration, elements, attributes, text, the five entities, char refs)
 * ========================================================================== */

typedef struct suite {
    long tests, failures, errors;           /* declared */
    long n_tests, n_failures, n_errors;     /* found */
} suite;

typedef struct xml {
    const char *p;
    char stack[16][32];
    int depth;
    suite all, cur;
    int suites;
} xml;

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == ':' || c == '.';
}

/* Text or an attribute value up to stop: no '<', entities well formed. */
static void xml_chars(xml *x, char stop)
{
    while (*x->p && *x->p != stop) {
        cr_assert_neq(*x->p, '<', "raw '<' in text or attribute");
        if (*x->p == '&') {
            static const char *const ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
            bool ok = false;
            for (int i = 0; i < 5 && !ok; i++)
                ok = strncmp(x->p, ents[i], strlen(ents[i])) == 0;
            ok = ok || (x->p[1] == '#' && strchr(x->p, ';'));
            cr_assert(ok, "bad entity at: %.20s", x->p);
        }
        cr_assert((unsigned char)*x->p >= 0x20 || *x->p == '\n' || *x->p == '\t' || *x->p == '\r',
                  "control character in XML");
        x->p++;
    }
}

static long attr_long(const char *start, const char *end, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, " %s=\"", name);
    const char *a = strstr(start, key);
    cr_assert(a && a < end, "missing attribute %s", name);
    return strtol(a + strlen(key), NULL, 10);
}

static void on_start(xml *x, const char *name, const char *attrs, const char *end)
{
    if (strcmp(name, "testsuites") == 0) {
        x->all.tests = attr_long(attrs, end, "tests");
        x->all.failures = attr_long(attrs, end, "failures");
        x->all.errors = attr_long(attrs, end, "errors");
    } else if (strcmp(name, "testsuite") == 0) {
        x->cur = (suite){ attr_long(attrs, end, "tests"), attr_long(attrs, end, "failures"),
                          attr_long(attrs, end, "errors"), 0, 0, 0 };
        x->suites++;
    } else if (strcmp(name, "testcase") == 0) {
        x->cur.n_tests++;
        x->all.n_tests++;
    } else if (strcmp(name, "failure") == 0) {
        x->cur.n_failures++;
        x->all.n_failures++;
    } else if (strcmp(name, "error") == 0) {
        x->cur.n_errors++;
        x->all.n_errors++;
    }
}

static void on_end(xml *x, const char *name)
{
    if (strcmp(name, "testsuite") == 0) {
        cr_assert_eq(x->cur.tests, x->cur.n_tests, "suite %d: tests", x->suites);
        cr_assert_eq(x->cur.failures, x->cur.n_failures, "suite %d: failures", x->suites);
        cr_assert_eq(x->cur.errors, x->cur.n_errors, "suite %d: errors", x->suites);
    }
}

/* One tag, x->p at its '<'. */
static void xml_tag(xml *x)
{
    bool closing = x->p[1] == '/';
    x->p += closing ? 2 : 1;
    char name[32];
    size_t n = 0;
    while (name_char(*x->p) && n < sizeof name - 1)
        name[n++] = *x->p++;
    name[n] = 0;
    cr_assert_gt(n, 0, "tag without a name");
    if (closing) {
        cr_assert_eq(*x->p++, '>');
        cr_assert_gt(x->depth, 0, "</%s> closes nothing", name);
        cr_assert_str_eq(x->stack[--x->depth], name, "</%s> closes <%s>", name, x->stack[x->depth]);
        on_end(x, name);
        return;
    }
    const char *attrs = x->p;
    while (*x->p == ' ') {
        x->p++;
        while (name_char(*x->p))
            x->p++;
        cr_assert(x->p[0] == '=' && x->p[1] == '"', "attribute without a quoted value");
        x->p += 2;
        xml_chars(x, '"');
        cr_assert_eq(*x->p++, '"');
    }
    on_start(x, name, attrs, x->p);
    if (x->p[0] == '/' && x->p[1] == '>') {
        x->p += 2;
        on_end(x, name);
        return;
    }
    cr_assert_eq(*x->p++, '>', "malformed tag <%s", name);
    cr_assert_lt(x->depth, 16);
    snprintf(x->stack[x->depth++], sizeof x->stack[0], "%s", name);
}

static xml check_junit(const char *text)
{
    xml x = { .p = text };
    const char *decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    cr_assert(strncmp(text, decl, strlen(decl)) == 0, "no XML declaration");
    x.p += strlen(decl);
    bool root_done = false;
    while (*x.p) {
        if (*x.p == '<') {
            cr_assert_not(root_done, "content after the root element");
            xml_tag(&x);
            root_done = x.depth == 0;
        } else {
            if (x.depth == 0)
                cr_assert(*x.p == '\n' || *x.p == ' ', "text outside the root element");
            xml_chars(&x, '<');
        }
    }
    cr_assert(root_done && x.depth == 0, "unclosed elements");
    cr_assert_eq(x.all.tests, x.all.n_tests);
    cr_assert_eq(x.all.failures, x.all.n_failures);
    cr_assert_eq(x.all.errors, x.all.n_errors);
    return x;
}

Test(junit, sample_mesh)
{
    int st;
    char *out = run_check("--mesh samples/mesh " NOW " --format junit", &st);
    cr_assert_eq(st, 0);
    xml x = check_junit(out);
    cr_assert_eq(x.suites, 8);
    /* 8 x (load + 4 checks + coverage) + 41 policy tests */
    cr_assert_eq(x.all.n_tests, 8 * 6 + 41);
    cr_assert_eq(x.all.n_failures + x.all.n_errors, 0);
    free(out);
}

Test(junit, failures_and_errors)
{
    int st;
    char *out = run_check("--mesh " PTEST " " NOW " --product dp://shop/carts --product dp://shop/wishlists "
                          "--product dp://shop/bad-key --min-coverage 60 --format junit", &st);
    cr_assert_eq(st, 1);
    xml x = check_junit(out);
    cr_assert_eq(x.suites, 3);
    cr_assert_eq(x.all.n_failures, 4);      /* 3 tests, 1 coverage */
    cr_assert_eq(x.all.n_errors, 1);        /* the malformed test file */
    free(out);
}

Test(junit, markup_in_messages_is_escaped)
{
    int st;
    char *out = run_check("--mesh tests/cli/data/broken-mesh " NOW " --format junit", &st);
    cr_assert_eq(st, 1);
    xml x = check_junit(out);
    cr_assert_eq(x.all.n_errors, 1);
    cr_assert_not_null(strstr(out, "&lt;string&gt;"));
    free(out);
}
