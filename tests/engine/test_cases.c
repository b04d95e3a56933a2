/*
 * test_cases.c — decision cases as data (tests/engine/cases/NAME.case).
 *
 *   === name                 starts a case
 *   policy:                  policy source follows, up to the next directive
 *   product:                 optional product YAML (default: harness.c's)
 *   mesh:                    optional mesh.yaml (schema, actions)
 *   now: 2026-06-01T12:00Z   clock for the following requests
 *   request: {...}           one request, JSON on one line
 *   expect: <summary>        the exact summary of that request's decision
 *   compile-error: l:c: msg  the case's policy must fail with this first error
 *
 * Every mismatch is reported with its file, case and line; all cases run.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/engine/harness.h"

typedef struct kase {
    const char *file;
    char name[256];
    char *policy, *product, *mesh;
    mg_policy_set *set;
    mg_engine *e;
    bool compiled, compile_failed;
    char compile_msg[1024];
    char now[64];
    char last_request[8192];
    int request_line;
    int checks;
} kase;

static char *append(char *s, const char *line)
{
    size_t a = s ? strlen(s) : 0, b = strlen(line);
    char *n = realloc(s, a + b + 2);
    cr_assert_not_null(n);
    memcpy(n + a, line, b);
    n[a + b] = '\n';
    n[a + b + 1] = 0;
    return n;
}

static void reset(kase *k)
{
    mg_policy_set_release(k->set);
    free(k->policy);
    free(k->product);
    free(k->mesh);
    k->set = NULL;
    k->policy = k->product = k->mesh = NULL;
    k->compiled = k->compile_failed = false;
    k->now[0] = 0;
    k->last_request[0] = 0;
}

static void compile(kase *k)
{
    if (k->compiled)
        return;
    k->compiled = true;
    mg_error err = { 0 };
    mg_status s = h_compile(k->e, k->policy ? k->policy : "", k->product, k->mesh, &k->set, &err);
    if (s != MG_OK) {
        k->compile_failed = true;
        snprintf(k->compile_msg, sizeof k->compile_msg, "%d:%d: %s", err.line, err.column,
                 err.message ? err.message : mg_status_str(s));
    }
    mg_error_clear(&err);
}

static void directive(kase *k, char *line, int lineno, char **block)
{
    if (!strncmp(line, "=== ", 4)) {
        reset(k);
        snprintf(k->name, sizeof k->name, "%s", line + 4);
        *block = NULL;
    } else if (!strcmp(line, "policy:") || !strcmp(line, "product:") || !strcmp(line, "mesh:")) {
        *block = line;       /* marks which block the following lines fill */
    } else if (!strncmp(line, "now: ", 5)) {
        snprintf(k->now, sizeof k->now, "%s", line + 5);
    } else if (!strncmp(line, "request: ", 9)) {
        snprintf(k->last_request, sizeof k->last_request, "%s", line + 9);
        k->request_line = lineno;
    } else if (!strncmp(line, "expect: ", 8)) {
        compile(k);
        cr_expect(!k->compile_failed, "%s:%d [%s]: does not compile: %s", k->file, lineno, k->name, k->compile_msg);
        if (!k->compile_failed) {
            const char *got = h_decide(k->set, k->last_request, k->now[0] ? k->now : NULL);
            cr_expect_str_eq(got, line + 8, "%s:%d [%s]\n  expected: %s\n  actual:   %s", k->file, k->request_line,
                             k->name, line + 8, got);
        }
        k->checks++;
    } else if (!strncmp(line, "compile-error: ", 15)) {
        compile(k);
        cr_expect(k->compile_failed, "%s:%d [%s]: compiled, expected an error", k->file, lineno, k->name);
        if (k->compile_failed)
            cr_expect_str_eq(k->compile_msg, line + 15, "%s:%d [%s]\n  expected: %s\n  actual:   %s", k->file,
                             lineno, k->name, line + 15, k->compile_msg);
        k->checks++;
    } else {
        cr_expect(false, "%s:%d: unknown directive: %s", k->file, lineno, line);
    }
}

static bool is_directive(const char *line)
{
    static const char *const blocks[] = { "policy:", "product:", "mesh:" };
    static const char *const prefixed[] = { "=== ", "now: ", "request: ", "expect: ", "compile-error: " };
    for (size_t i = 0; i < sizeof blocks / sizeof *blocks; i++)
        if (!strcmp(line, blocks[i]))
            return true;
    for (size_t i = 0; i < sizeof prefixed / sizeof *prefixed; i++)
        if (!strncmp(line, prefixed[i], strlen(prefixed[i])))
            return true;
    return false;
}

static int run_file(mg_engine *e, const char *path)
{
    size_t len;
    char *text = h_read_file(path, &len);
    kase k = { .file = path, .e = e };
    char *block = NULL;
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (is_directive(line)) {
            directive(&k, line, lineno, &block);
        } else if (block && !strcmp(block, "policy:")) {
            k.policy = append(k.policy, line);
        } else if (block && !strcmp(block, "product:")) {
            k.product = append(k.product, line);
        } else if (block && !strcmp(block, "mesh:")) {
            k.mesh = append(k.mesh, line);
        } else if (line[0] != '#' && line[0] != 0) {
            cr_expect(false, "%s:%d: text outside a block: %s", path, lineno, line);
        }
    }
    reset(&k);
    free(text);
    return k.checks;
}

Test(cases, all_decision_cases)
{
    mg_engine *e;
    uint8_t key[32] = { 1, 2, 3 };
    mg_config cfg = { .mask_key = key };
    cr_assert_eq(mg_engine_new(&cfg, &e, NULL), MG_OK);
    DIR *dir = opendir("tests/engine/cases");
    cr_assert_not_null(dir, "run the tests from the repository root");
    char *names[256];
    int n = 0;
    for (struct dirent *de; (de = readdir(dir)) && n < 256;)
        if (strstr(de->d_name, ".case"))
            names[n++] = strdup(de->d_name);
    closedir(dir);
    int checks = 0;
    for (int i = 0; i < n; i++) {
        char path[512];
        snprintf(path, sizeof path, "tests/engine/cases/%s", names[i]);
        checks += run_file(e, path);
        free(names[i]);
    }
    cr_log_info("%d decision checks", checks);
    cr_expect_geq(checks, 60, "only %d decision checks", checks);
    mg_engine_free(e);
}
