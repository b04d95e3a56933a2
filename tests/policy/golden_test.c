/*
 * golden_test.c — malformed (and a few well-formed) policies with the exact
 * diagnostics they must produce: tests/policy/golden/NNN-name.policy next to
 * NNN-name.expected. A file may start with directives that set up the
 * checker's environment:
 *   #! schema subject.roles set<string>     declares a schema attribute
 *   #! action export                        declares an extra action
 * MG_UPDATE_GOLDEN=1 rewrites the .expected files from the current output
 * (to be reviewed with git diff before committing).
 * Also here: inputs too awkward to keep as files (10,000 levels of nesting,
 * a source over the size limit).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include "helpers.h"

#define GOLDEN_DIR "tests/policy/golden"
#define MAX_DIRECTIVES 16

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        abort();
    return p;
}

typedef struct env_buf {
    check_env env;
    check_attr attrs[MAX_DIRECTIVES];
    const char *actions[MAX_DIRECTIVES];
    char text[MAX_DIRECTIVES][64];
} env_buf;

static sl_type parse_type(const char *s)
{
    static const struct { const char *name; sl_kind kind; } kinds[] = {
        { "string", SL_STRING }, { "int", SL_INT }, { "bool", SL_BOOL },
        { "duration", SL_DURATION }, { "timestamp", SL_TIMESTAMP },
    };
    bool set = strncmp(s, "set<", 4) == 0;
    const char *k = set ? s + 4 : s;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strncmp(k, kinds[i].name, strlen(kinds[i].name)) == 0)
            return set ? (sl_type){ SL_SET, (uint8_t)kinds[i].kind }
                       : (sl_type){ (uint8_t)kinds[i].kind, SL_ANY };
    cr_assert_fail("unknown type in directive: %s", s);
    return (sl_type){ SL_ANY, SL_ANY };
}

/* Reads the `#!` directives at the top of src into e. */
static void directives(const char *src, env_buf *e)
{
    memset(e, 0, sizeof *e);
    e->env.attrs = e->attrs;
    e->env.actions = e->actions;
    size_t n = 0;
    for (const char *p = src; strncmp(p, "#! ", 3) == 0 && n < MAX_DIRECTIVES; n++) {
        char kind[16], a[64], b[64] = "";
        cr_assert_geq(sscanf(p + 3, "%15s %63s %63s", kind, a, b), 2);
        strcpy(e->text[n], a);
        if (strcmp(kind, "schema") == 0) {
            e->env.has_schema = true;
            e->attrs[e->env.nattrs++] = (check_attr){ e->text[n], parse_type(b) };
        } else {
            e->actions[e->env.nactions++] = e->text[n];
        }
        p = strchr(p, '\n');
        if (!p)
            break;
        p++;
    }
}

/* A line-by-line comparison, marking the first line that differs. */
static void report_diff(const char *name, const char *want, const char *got)
{
    char msg[8192];
    size_t k = (size_t)snprintf(msg, sizeof msg, "%s: diagnostics differ\n", name);
    int line = 1;
    const char *w = want, *g = got;
    while ((*w || *g) && k < sizeof msg - 512) {
        const char *we = strchr(w, '\n'), *ge = strchr(g, '\n');
        size_t wl = we ? (size_t)(we - w) : strlen(w), gl = ge ? (size_t)(ge - g) : strlen(g);
        bool same = wl == gl && memcmp(w, g, wl) == 0;
        if (same)
            k += (size_t)snprintf(msg + k, sizeof msg - k, "  %.*s\n", (int)wl, w);
        else {
            if (*w)
                k += (size_t)snprintf(msg + k, sizeof msg - k, "- %.*s\n", (int)wl, w);
            if (*g)
                k += (size_t)snprintf(msg + k, sizeof msg - k, "+ %.*s\n", (int)gl, g);
        }
        w = we ? we + 1 : w + wl;
        g = ge ? ge + 1 : g + gl;
        line++;
    }
    cr_log_error("%s", msg);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(golden, every_pair_matches)
{
    DIR *dir = opendir(GOLDEN_DIR);
    cr_assert_not_null(dir, "run the tests from the repository root");
    char *names[512];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dir)) && n < 512) {
        size_t l = strlen(de->d_name);
        if (l > 7 && strcmp(de->d_name + l - 7, ".policy") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(dir);
    qsort(names, n, sizeof *names, by_name);
    cr_assert_geq(n, 45, "expected at least 45 golden policies, found %zu", n);
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        char path[512], exp_path[512];
        snprintf(path, sizeof path, GOLDEN_DIR "/%s", names[i]);
        snprintf(exp_path, sizeof exp_path, GOLDEN_DIR "/%.*s.expected",
                 (int)(strlen(names[i]) - 7), names[i]);
        size_t len, elen;
        char *src = read_file(path, &len);
        char *want = read_file(exp_path, &elen);
        cr_assert_not_null(src, "%s", path);
        if (!want && getenv("MG_UPDATE_GOLDEN"))
            want = strdup("");
        cr_assert_not_null(want, "missing %s", exp_path);
        env_buf e;
        directives(src, &e);
        unit u;
        unit_compile(&u, path, src, len, &e.env);
        char *got = unit_render(&u);
        cr_assert_not_null(got);
        if (getenv("MG_UPDATE_GOLDEN")) {       /* regenerate, then review the diff */
            FILE *f = fopen(exp_path, "wb");
            cr_assert_not_null(f);
            fputs(got, f);
            fclose(f);
        } else if (strcmp(want, got) != 0) {
            report_diff(path, want, got);
            failures++;
        }
        free(got);
        unit_free(&u);
        free(src);
        free(want);
        free(names[i]);
    }
    cr_assert_eq(failures, 0, "%d golden file(s) differ (see the log above)", failures);
}

/* Appends t at p; returns the new end. */
static char *append(char *p, const char *t)
{
    size_t n = strlen(t);
    memcpy(p, t, n + 1);
    return p + n;
}

/* 10,000 levels of one construct inside a rule; only the first error. */
static char *deep(const char *open, const char *close, int levels)
{
    size_t ol = strlen(open), cl = strlen(close);
    const char *head = "policy p {\n  permit read on port when ";
    char *s = xmalloc(strlen(head) + (ol + cl) * (size_t)levels + 64);
    char *p = append(s, head);
    for (int i = 0; i < levels; i++)
        p = append(p, open);
    p = append(p, "true");
    for (int i = 0; i < levels; i++)
        p = append(p, close);
    append(p, "\n}\n");
    return s;
}

static void expect_too_deep(char *src, int col)
{
    unit u;
    unit_compile(&u, "deep.policy", src, strlen(src), NULL);
    cr_assert_not_null(u.f);
    cr_assert_eq(u.d.errors, 1);
    cr_assert_str_eq(u.d.items[0].message, "expression nested too deeply");
    cr_assert_eq(u.d.items[0].span.line, 2);
    cr_assert_eq(u.d.items[0].span.col, (uint32_t)col);
    cr_assert_str_eq(u.d.items[0].hint, "the limit is 200 levels; split the condition");
    cr_assert_eq(u.f->npolicies, 1);
    unit_free(&u);
    free(src);
}

Test(golden, ten_thousand_parentheses)
{
    /* The `when` expression is level 1 and the Nth `(` starts level N + 1,
     * so the 201st `(` (column 28 + 200) is one level too many. */
    expect_too_deep(deep("(", ")", 10000), 28 + 200);
}

Test(golden, ten_thousand_nots)
{
    expect_too_deep(deep("not ", "", 10000), 28 + 4 * 200);
}

Test(golden, ten_thousand_sets)
{
    expect_too_deep(deep("[", "]", 10000), 28 + 200);
}

Test(golden, ten_thousand_term_chain)
{
    /* true + true + ... : each operator is a level of the tree. */
    size_t n = 10000;
    char *s = xmalloc(n * 8 + 128);
    char *p = append(s, "policy p {\n  permit read on port when 1");
    for (size_t i = 0; i < n; i++)
        p = append(p, " + 1");
    append(p, " == 1\n}\n");
    unit u;
    unit_compile(&u, "deep.policy", s, strlen(s), NULL);
    cr_assert_eq(u.d.errors, 1);
    cr_assert_str_eq(u.d.items[0].message, "expression nested too deeply");
    unit_free(&u);
    free(s);
}

Test(golden, nesting_at_the_limit_is_accepted)
{
    /* parse_precedence is entered once for the `when` expression and once
     * per parenthesis, so 199 parentheses are the most that fit. */
    char *src = deep("(", ")", POLICY_MAX_DEPTH - 1);
    unit u;
    unit_compile(&u, "deep.policy", src, strlen(src), NULL);
    cr_assert_eq(u.d.errors, 0);
    cr_assert(u.ok);
    unit_free(&u);
    free(src);
}

Test(golden, source_over_the_limit)
{
    size_t len = POLICY_MAX_SOURCE + 1;
    char *src = xmalloc(len);
    memset(src, ' ', len);
    unit u;
    unit_compile(&u, "big.policy", src, len, NULL);
    char *got = unit_render(&u);
    cr_assert_str_eq(got, "big.policy:1:1: error: source is too large (16777217 bytes; the limit is 16777216)\n");
    free(got);
    unit_free(&u);
    free(src);
}
