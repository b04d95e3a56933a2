/*
 * ptest.c — policy tests (docs/policy-tests.md). A product's manifest lists
 * test files; each test is a request with a pinned clock and the decision
 * it expects. Files are read under the manifest rules (libyaml, no anchors,
 * limits), checked whole before any of their tests runs, then each request
 * is decided with explain on and compared field by field with what the test
 * expects. The decisions' traces give rule coverage: every access rule some
 * test evaluated.
 *
 * Like the compliance checks this works on the engine's current set, so it
 * stays on the bytecode side of the engine. It allocates freely: it is a CI
 * tool, not the decision path (which it only calls).
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "engine/engine.h"
#include "engine/manifest.h"
#include "engine/ptest.h"

static const char *const effect_names[] = { "deny", "allow", "partial" };
static const char *const mask_names[] = { "none", "year", "last4", "hash", "redact", "null" };
static const char *const kind_names[] = { "permit", "forbid", "mask", "retain", "hold", "encryption", "forget" };

/* ==========================================================================
 * Reading a test file
 * ========================================================================== */

/* One test file being read. */
typedef struct tf {
    const char *file;
    const char *text;
    size_t len;
    yaml_document_t doc;
    bool have_doc;
    mg_error *err;
    mg_status st;           /* the first failure */
    sl_alloc_fn alloc;      /* the set's, for what a test holds */
    void *ud;
} tf;

/* What one column of the decision must be; -1: not stated. */
typedef struct col_want {
    const char *name;
    const yaml_node_t *at;
    int effect, mask;
    bool has_rule;
    const char *rule;       /* NULL with has_rule: default deny */
} col_want;

/* One test, its strings pointing into the YAML document. */
typedef struct test {
    const char *name;
    const yaml_node_t *at;
    int64_t now_us;
    json_t *request;
    int effect, dry_run;    /* dry_run -1: not stated */
    bool has_deciding;
    const char *deciding;   /* NULL with has_deciding: default deny */
    col_want *cols;
    size_t ncols, cap_cols; /* cap_cols: allocated */
} test;

static bool tfail(tf *T, const yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool tfail(tf *T, const yaml_node_t *n, const char *fmt, ...)
{
    if (T->st != MG_OK)
        return false;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    T->st = mf_yaml_fail(T->file, T->text, T->len, MG_EMANIFEST, (int)n->start_mark.line + 1,
                         (int)n->start_mark.column + 1, T->err, "%s", msg);
    return false;
}

static bool toom(tf *T)
{
    if (T->st == MG_OK)
        T->st = mg_error_set(T->err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    return false;
}

static yaml_node_t *node(tf *T, int i)
{
    return yaml_document_get_node(&T->doc, i);
}

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_plain(const yaml_node_t *n, const char *const *words, size_t nwords)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < nwords; i++)
        if (strcmp(sval(n), words[i]) == 0)
            return true;
    return false;
}

static const char *const null_words[] = { "", "~", "null", "Null", "NULL" };
static const char *const true_words[] = { "true", "True", "TRUE" };
static const char *const false_words[] = { "false", "False", "FALSE" };

static bool is_null(const yaml_node_t *n) { return is_plain(n, null_words, 5); }

/* A string scalar: quoted, or plain and not null, bool or a number. */
static bool want_str(tf *T, const yaml_node_t *n, const char *key)
{
    if (n->type != YAML_SCALAR_NODE || is_null(n) || is_plain(n, true_words, 3) || is_plain(n, false_words, 3))
        return tfail(T, n, "expected a string for `%s`", key);
    return sval(n)[0] || tfail(T, n, "`%s` must not be empty", key);
}

/* The index of n's text in words, or -1 after reporting the choices. */
static int want_enum(tf *T, const yaml_node_t *n, const char *key, const char *const *words, size_t nwords)
{
    if (n->type == YAML_SCALAR_NODE)
        for (size_t i = 0; i < nwords; i++)
            if (strcmp(sval(n), words[i]) == 0)
                return (int)i;
    char all[256] = "";
    for (size_t i = 0; i < nwords; i++)
        snprintf(all + strlen(all), sizeof all - strlen(all), "%s`%s`", i ? (i + 1 == nwords ? " or " : ", ") : "",
                 words[i]);
    tfail(T, n, "expected %s for `%s`%s%s%s", all, key, n->type == YAML_SCALAR_NODE ? ", found `" : "",
          n->type == YAML_SCALAR_NODE ? sval(n) : "", n->type == YAML_SCALAR_NODE ? "`" : "");
    return -1;
}

/* Fills vals[i] with the value of keys[i] in mapping map (NULL when absent);
 * an unknown or repeated key is an error. */
static bool get_keys(tf *T, const yaml_node_t *map, const char *what, const char *const *keys, size_t nkeys,
                     yaml_node_t **vals)
{
    if (map->type != YAML_MAPPING_NODE)
        return tfail(T, map, "expected a mapping for %s", what);
    memset(vals, 0, nkeys * sizeof *vals);
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(T, pr->key);
        size_t i = 0;
        while (k->type == YAML_SCALAR_NODE && i < nkeys && strcmp(sval(k), keys[i]) != 0)
            i++;
        if (k->type != YAML_SCALAR_NODE || i == nkeys) {
            char all[256] = "";
            for (size_t j = 0; j < nkeys; j++)
                snprintf(all + strlen(all), sizeof all - strlen(all), "%s`%s`", j ? ", " : "", keys[j]);
            return tfail(T, k, "unknown key%s%s%s in %s; expected one of %s", k->type == YAML_SCALAR_NODE ? " `" : "",
                         k->type == YAML_SCALAR_NODE ? sval(k) : "", k->type == YAML_SCALAR_NODE ? "`" : "", what,
                         all);
        }
        if (vals[i])
            return tfail(T, k, "`%s` appears twice in %s", keys[i], what);
        vals[i] = node(T, pr->value);
    }
    return true;
}

static bool need(tf *T, const yaml_node_t *map, const yaml_node_t *v, const char *key, const char *what)
{
    return v || tfail(T, map, "%s has no `%s`", what, key);
}

/* ---- YAML to JSON: the request ------------------------------------------- */

static bool int_text(const char *s)
{
    s += *s == '-' || *s == '+';
    if (!*s)
        return false;
    while (*s >= '0' && *s <= '9')
        s++;
    return !*s;
}

/* A scalar as JSON under YAML's core schema: null, bool, integer, float
 * (the request refuses floats), else string. Quoted scalars are strings. */
static json_t *scalar_json(tf *T, const yaml_node_t *n)
{
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_string(sval(n));
    if (is_null(n))
        return json_null();
    if (is_plain(n, true_words, 3) || is_plain(n, false_words, 3))
        return json_boolean(is_plain(n, true_words, 3));
    if (int_text(sval(n))) {
        errno = 0;
        long long v = strtoll(sval(n), NULL, 10);
        if (errno == ERANGE) {
            tfail(T, n, "integer `%s` is out of range", sval(n));
            return NULL;
        }
        return json_integer(v);
    }
    char *end;
    double d = strtod(sval(n), &end);
    if (end != sval(n) && !*end)
        return json_real(d);
    return json_string(sval(n));
}

static json_t *to_json(tf *T, const yaml_node_t *n)
{
    json_t *out = NULL;
    if (n->type == YAML_SCALAR_NODE) {
        out = scalar_json(T, n);
    } else if (n->type == YAML_SEQUENCE_NODE) {
        out = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start; out && it < n->data.sequence.items.top; it++) {
            json_t *v = to_json(T, node(T, *it));
            if (!v || json_array_append_new(out, v)) {
                json_decref(out);
                out = NULL;
            }
        }
    } else {
        out = json_object();
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; out && pr < n->data.mapping.pairs.top; pr++) {
            yaml_node_t *k = node(T, pr->key);
            if (k->type != YAML_SCALAR_NODE) {
                tfail(T, k, "expected a string key");
                json_decref(out);
                return NULL;
            }
            if (json_object_get(out, sval(k))) {
                tfail(T, k, "`%s` appears twice", sval(k));
                json_decref(out);
                return NULL;
            }
            json_t *v = to_json(T, node(T, pr->value));
            if (!v || json_object_set_new(out, sval(k), v)) {
                json_decref(out);
                out = NULL;
            }
        }
    }
    if (!out)
        toom(T);
    return out;
}

/* request: { subject, action, port, columns, context } as a JSON request. */
static json_t *parse_request(tf *T, const yaml_node_t *n)
{
    static const char *const keys[] = { "subject", "action", "port", "columns", "context" };
    yaml_node_t *v[5];
    if (!get_keys(T, n, "`request`", keys, 5, v) || !need(T, n, v[1], "action", "the request") ||
        !need(T, n, v[2], "port", "the request") || !want_str(T, v[1], "action") || !want_str(T, v[2], "port"))
        return NULL;
    if (v[0] && v[0]->type != YAML_MAPPING_NODE)
        return tfail(T, v[0], "expected a mapping for `subject`"), NULL;
    if (v[4] && v[4]->type != YAML_MAPPING_NODE)
        return tfail(T, v[4], "expected a mapping for `context`"), NULL;
    if (v[3] && v[3]->type != YAML_SEQUENCE_NODE)
        return tfail(T, v[3], "expected a sequence of column names for `columns`"), NULL;
    json_t *req = json_object();
    for (size_t i = 0; req && i < 5; i++) {
        json_t *j = v[i] ? to_json(T, v[i]) : NULL;
        if (v[i] && (!j || json_object_set_new(req, keys[i], j))) {
            json_decref(req);
            req = NULL;
        }
    }
    if (!req)
        toom(T);
    return req;
}

/* ---- expectations --------------------------------------------------------- */

/* A rule id, a policy name or null (default deny). */
static bool parse_rule_ref(tf *T, const yaml_node_t *n, const char *key, const char **out)
{
    *out = NULL;
    if (is_null(n))
        return true;
    if (!want_str(T, n, key))
        return false;
    *out = sval(n);
    return true;
}

static bool parse_column_want(tf *T, const yaml_node_t *k, const yaml_node_t *v, col_want *c)
{
    static const char *const keys[] = { "effect", "mask", "rule" };
    static const char *const col_effects[] = { "deny", "allow" };
    *c = (col_want){ sval(k), k, -1, -1, false, NULL };
    if (v->type == YAML_SCALAR_NODE)
        return (c->effect = want_enum(T, v, "effect", col_effects, 2)) >= 0;
    yaml_node_t *f[3];
    if (!get_keys(T, v, "a column's expectation", keys, 3, f) || !need(T, v, f[0], "effect", "a column's expectation"))
        return false;
    if ((c->effect = want_enum(T, f[0], "effect", col_effects, 2)) < 0)
        return false;
    if (f[1] && (c->mask = want_enum(T, f[1], "mask", mask_names, 6)) < 0)
        return false;
    if (f[1] && c->effect == MG_DENY && c->mask != MG_MASK_NONE)
        return tfail(T, f[1], "a denied column has no mask");
    c->has_rule = f[2] != NULL;
    return !f[2] || parse_rule_ref(T, f[2], "rule", &c->rule);
}

static bool parse_columns_want(tf *T, const yaml_node_t *n, test *t)
{
    if (n->type != YAML_MAPPING_NODE)
        return tfail(T, n, "expected a mapping of column names to expectations for `columns`");
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    t->cols = mg__alloc(T->alloc, T->ud, (cnt ? cnt : 1) * sizeof *t->cols);
    if (!t->cols)
        return toom(T);
    t->cap_cols = cnt ? cnt : 1;
    memset(t->cols, 0, t->cap_cols * sizeof *t->cols);
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(T, pr->key);
        if (!want_str(T, k, "columns"))
            return false;
        for (size_t i = 0; i < t->ncols; i++)
            if (strcmp(t->cols[i].name, sval(k)) == 0)
                return tfail(T, k, "column `%s` appears twice", sval(k));
        if (!parse_column_want(T, k, node(T, pr->value), &t->cols[t->ncols]))
            return false;
        t->ncols++;
    }
    return true;
}

/* expect: { effect, dry_run, deciding, columns } */
static bool parse_expect(tf *T, const yaml_node_t *n, test *t)
{
    static const char *const keys[] = { "effect", "dry_run", "deciding", "columns" };
    yaml_node_t *v[4];
    if (!get_keys(T, n, "`expect`", keys, 4, v) || !need(T, n, v[0], "effect", "`expect`"))
        return false;
    if ((t->effect = want_enum(T, v[0], "effect", effect_names, 3)) < 0)
        return false;
    if (v[1] && (t->dry_run = want_enum(T, v[1], "dry_run", effect_names, 3)) < 0)
        return false;
    t->has_deciding = v[2] != NULL;
    if (v[2] && !parse_rule_ref(T, v[2], "deciding", &t->deciding))
        return false;
    return !v[3] || parse_columns_want(T, v[3], t);
}

static bool parse_now(tf *T, const yaml_node_t *n, int64_t *us)
{
    const char *why = "expected a string";
    if (n->type == YAML_SCALAR_NODE && sl_parse_timestamp(sval(n), strlen(sval(n)), us, &why))
        return true;
    return tfail(T, n, "invalid `now`: %s", why);
}

static void test_free(const tf *T, test *t)
{
    json_decref(t->request);
    mg__free(T->alloc, T->ud, t->cols, t->cap_cols * sizeof *t->cols);
    *t = (test){ 0 };
}

/* One entry of `tests`; has_now/now_us: the file's default clock. */
static bool parse_test(tf *T, const yaml_node_t *n, bool has_now, int64_t now_us, test *t)
{
    static const char *const keys[] = { "name", "now", "request", "expect" };
    yaml_node_t *v[4];
    *t = (test){ .at = n, .now_us = now_us, .dry_run = -1 };
    if (!get_keys(T, n, "a test", keys, 4, v) || !need(T, n, v[0], "name", "a test") ||
        !need(T, n, v[2], "request", "a test") || !need(T, n, v[3], "expect", "a test") ||
        !want_str(T, v[0], "name"))
        return false;
    t->name = sval(v[0]);
    if (!v[1] && !has_now)
        return tfail(T, n, "test `%s` has no `now`: pin the clock here or at the top of the file", t->name);
    if (v[1] && !parse_now(T, v[1], &t->now_us))
        return false;
    return (t->request = parse_request(T, v[2])) != NULL && parse_expect(T, v[3], t);
}

/* The file's root: { now, tests }. Checks every test (names unique). */
static bool parse_file(tf *T, yaml_node_t **tests, bool *has_now, int64_t *now_us)
{
    static const char *const keys[] = { "now", "tests" };
    yaml_node_t *root = yaml_document_get_root_node(&T->doc), *v[2];
    if (!get_keys(T, root, "a policy test file", keys, 2, v) || !need(T, root, v[1], "tests", "the file"))
        return false;
    if (v[1]->type != YAML_SEQUENCE_NODE)
        return tfail(T, v[1], "expected a sequence of tests for `tests`");
    *has_now = v[0] != NULL;
    if (v[0] && !parse_now(T, v[0], now_us))
        return false;
    *tests = v[1];
    for (yaml_node_item_t *it = v[1]->data.sequence.items.start; it < v[1]->data.sequence.items.top; it++) {
        test t;
        bool ok = parse_test(T, node(T, *it), *has_now, *now_us, &t);
        for (yaml_node_item_t *o = v[1]->data.sequence.items.start; ok && o < it; o++) {
            yaml_node_t *name = NULL, *prev = node(T, *o);
            for (yaml_node_pair_t *pr = prev->data.mapping.pairs.start; pr < prev->data.mapping.pairs.top; pr++)
                if (strcmp(sval(node(T, pr->key)), "name") == 0)
                    name = node(T, pr->value);
            if (name && strcmp(sval(name), t.name) == 0)
                ok = tfail(T, t.at, "a test named `%s` comes earlier in this file", t.name);
        }
        test_free(T, &t);
        if (!ok)
            return false;
    }
    return true;
}

mg_status pt_check_text(const char *file, const char *text, size_t len, mg_error *err)
{
    tf T = { .file = file, .text = text, .len = len, .err = err, .alloc = sl_default_alloc };
    mg_status s = mf_yaml_load(file, "policy test file", text, len, &T.doc, err);
    if (s)
        return s;
    yaml_node_t *tests;
    bool has_now;
    int64_t now_us = 0;
    if (!parse_file(&T, &tests, &has_now, &now_us))
        s = T.st;
    yaml_document_delete(&T.doc);
    return s;
}

/* ==========================================================================
 * Running a test
 * ========================================================================== */

/* What mg_test_product shares across files. */
typedef struct runner {
    const mg_policy_set *set;
    const vm_program *p;
    const char *product;
    mg_decision *d;
    bool *covered;          /* per rule */
    const mg_test_hooks *hooks;
    bool stop;
    mg_error *err;
} runner;

static const char *sym(const vm_program *p, uint32_t s)
{
    const char *str = s ? sl_intern_str(p->syms, s, NULL) : NULL;
    return str ? str : "";
}

static const char *rule_name(const vm_program *p, uint32_t rule)
{
    return rule == RULE_NONE ? "none (default deny)" : sym(p, p->rules[rule].id);
}

/* want: a rule id (has '@'), a policy name, or NULL for no rule. */
static bool rule_matches(const vm_program *p, uint32_t rule, const char *want)
{
    if (!want || rule == RULE_NONE)
        return !want && rule == RULE_NONE;
    const vm_rule *r = &p->rules[rule];
    return strcmp(want, strchr(want, '@') ? sym(p, r->id) : sym(p, p->policies[r->policy].name)) == 0;
}

static const char *want_name(const char *want)
{
    return want ? want : "none (default deny)";
}

static uint32_t col_rule(const dstate *st)
{
    return st->forbid != RULE_NONE ? st->forbid : st->permit;
}

static void compare_column(runner *R, const col_want *c, strbuf *b)
{
    const vm_program *p = R->p;
    const mg_decision *d = R->d;
    const dcol *dc = NULL;
    for (uint32_t i = 0; i < d->ncols && !dc; i++)
        if (strcmp(sym(p, p->col_names[d->cols[i].col]), c->name) == 0)
            dc = &d->cols[i];
    if (!dc) {
        sb_printf(b, "column %s: not in the decision (not requested, or not a column of the port)\n", c->name);
        return;
    }
    bool allow = dc->st.permit != RULE_NONE && dc->st.forbid == RULE_NONE;
    int mask = allow ? dc->st.mask : MG_MASK_NONE;
    if (c->effect != (int)allow)
        sb_printf(b, "column %s: expected %s, got %s (%s)\n", c->name, effect_names[c->effect],
                  effect_names[allow], rule_name(p, col_rule(&dc->st)));
    else if (c->mask >= 0 && c->mask != mask)
        sb_printf(b, "column %s: expected mask %s, got %s%s%s%s\n", c->name, mask_names[c->mask], mask_names[mask],
                  mask ? " (" : "", mask ? sym(p, p->rules[dc->st.mask_rule].id) : "", mask ? ")" : "");
    if (c->has_rule && !rule_matches(p, col_rule(&dc->st), c->rule))
        sb_printf(b, "column %s rule: expected %s, got %s\n", c->name, want_name(c->rule),
                  rule_name(p, col_rule(&dc->st)));
}

/* Every difference between the decision and what t expects, into b. */
static void compare(runner *R, const test *t, strbuf *b)
{
    const mg_decision *d = R->d;
    if (t->effect != (int)d->effect)
        sb_printf(b, "effect: expected %s, got %s\n", effect_names[t->effect], effect_names[d->effect]);
    if (t->dry_run >= 0 && t->dry_run != (int)d->would_effect)
        sb_printf(b, "dry-run effect: expected %s, got %s\n", effect_names[t->dry_run],
                  effect_names[d->would_effect]);
    if (t->has_deciding && !rule_matches(R->p, d->deciding, t->deciding))
        sb_printf(b, "deciding rule: expected %s, got %s\n", want_name(t->deciding), rule_name(R->p, d->deciding));
    for (size_t i = 0; i < t->ncols; i++)
        compare_column(R, &t->cols[i], b);
}

static void note_coverage(runner *R)
{
    for (uint32_t i = 0; i < R->d->ntrace; i++)
        R->covered[R->d->trace[i].rule] = true;
}

static mg_status run_test(runner *R, tf *T, const test *t)
{
    char *req = json_dumps(t->request, JSON_COMPACT);
    if (!req)
        return mg_error_set(R->err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    mg_error rerr = { 0 };
    mg_status s = mg_decide_json(R->set, req, strlen(req), t->now_us, R->d, &rerr);
    free(req);
    strbuf b;
    sb_init(&b, R->p->alloc, R->p->ud);
    char *dec = NULL;
    if (s == MG_ENOMEM) {
        mg_error_clear(&rerr);
        return mg_error_set(R->err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    if (s != MG_OK) {
        sb_printf(&b, "the request was not decided: %s\n", rerr.message ? rerr.message : mg_status_str(s));
    } else {
        note_coverage(R);
        compare(R, t, &b);
        s = mg_decision_json(R->set, R->d, true, &dec, R->err);
    }
    mg_error_clear(&rerr);
    if (b.failed || (s != MG_OK && !b.len)) {
        sb_free(&b);
        mg_free(dec);
        return s != MG_OK ? s : mg_error_set(R->err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    if (b.len && b.s[b.len - 1] == '\n')
        b.s[--b.len] = 0;
    mg_test_result r = { R->product, t->name, T->file, (int)t->at->start_mark.line + 1,
                         (int)t->at->start_mark.column + 1, b.len == 0, b.len ? b.s : NULL, dec };
    if (R->hooks && R->hooks->test)
        R->stop = R->hooks->test(R->hooks->ud, &r) != 0;
    sb_free(&b);
    mg_free(dec);
    return MG_OK;
}

/* Reads, checks and runs one test file. */
static mg_status run_file(runner *R, const char *path)
{
    tf T = { .file = path, .err = R->err, .alloc = R->set->alloc, .ud = R->set->ud };
    mf_mem mem = { T.alloc, T.ud };
    char *text;
    mg_status s = mf_read_text(&mem, path, &text, &T.len, R->err);
    if (s)
        return s;
    T.text = text;
    s = mf_yaml_load(path, "policy test file", T.text, T.len, &T.doc, R->err);
    T.have_doc = s == MG_OK;
    yaml_node_t *tests = NULL;
    bool has_now = false;
    int64_t now_us = 0;
    if (s == MG_OK && !parse_file(&T, &tests, &has_now, &now_us))
        s = T.st;
    for (yaml_node_item_t *it = tests ? tests->data.sequence.items.start : NULL;
         s == MG_OK && !R->stop && it < tests->data.sequence.items.top; it++) {
        test t;
        if (!parse_test(&T, node(&T, *it), has_now, now_us, &t))
            s = T.st;       /* out of memory: the file was checked */
        else
            s = run_test(R, &T, &t);
        test_free(&T, &t);
    }
    if (T.have_doc)
        yaml_document_delete(&T.doc);
    mf_mem_free(&mem, text);
    return s;
}

/* ==========================================================================
 * Coverage and the entry point
 * ========================================================================== */

static bool is_access(uint8_t kind)
{
    return kind == RK_PERMIT || kind == RK_FORBID || kind == RK_MASK;
}

/* Reports each access rule that some request could evaluate (it has an
 * entry in the index); rules specialized away at load cannot be covered. */
static mg_status report_coverage(runner *R)
{
    const vm_program *p = R->p;
    size_t nreach = p->nrules ? p->nrules : 1;
    bool *reach = mg__alloc(R->set->alloc, R->set->ud, nreach * sizeof *reach);
    if (!reach)
        return mg_error_set(R->err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    memset(reach, 0, nreach * sizeof *reach);
    for (uint32_t k = 0; k < p->nentries; k++)
        reach[p->entries[k].rule] = true;
    for (uint32_t i = 0; i < p->nrules && !R->stop; i++) {
        const vm_rule *r = &p->rules[i];
        if (!reach[i] || !is_access(r->kind))
            continue;
        mg_rule_coverage c = { R->product, sym(p, r->id), kind_names[r->kind], sym(p, p->policies[r->policy].file),
                               (int)r->line, (int)r->col, R->covered[i] };
        R->stop = R->hooks->rule(R->hooks->ud, &c) != 0;
    }
    mg__free(R->set->alloc, R->set->ud, reach, nreach * sizeof *reach);
    return MG_OK;
}

static mg_status run_all(runner *R, const mf_product *pr)
{
    mg_status s = mg_decision_new(R->set, &R->d, R->err);
    if (s)
        return s;
    mg_decision_set_explain(R->d, true);
    size_t ncovered = R->p->nrules ? R->p->nrules : 1;
    R->covered = mg__alloc(R->set->alloc, R->set->ud, ncovered * sizeof *R->covered);
    if (!R->covered)
        s = mg_error_set(R->err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    else
        memset(R->covered, 0, ncovered * sizeof *R->covered);
    for (size_t i = 0; s == MG_OK && !R->stop && i < pr->tests.n; i++)
        s = run_file(R, pr->tests.v[i]);
    if (s == MG_OK && !R->stop && R->hooks && R->hooks->rule)
        s = report_coverage(R);
    mg__free(R->set->alloc, R->set->ud, R->covered, ncovered * sizeof *R->covered);
    mg_decision_free(R->d);
    return s;
}

/* The product's own manifest, DIR/domains/<domain>/<name>/product.yaml:
 * only its `tests` list is needed, and mg_engine_load has just checked the
 * whole mesh, so reading every other manifest again would only cost time
 * (it made a run over a large mesh quadratic). */
static mg_status load_product(const mg_policy_set *set, const char *mesh_dir, const char *uri, mf_product **out,
                              mg_error *err)
{
    *out = NULL;
    const char *rest = strncmp(uri, "dp://", 5) == 0 ? uri + 5 : NULL;
    if (!rest || !strchr(rest, '/'))
        return mg_error_set(err, MG_ENOTFOUND, NULL, 0, 0, "`%s` is not a product URI (dp://<domain>/<name>)", uri);
    size_t n = strlen(mesh_dir) + strlen(rest) + 32;
    char *path = mg__alloc(set->alloc, set->ud, n), *text = NULL;
    size_t len = 0;
    if (!path)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    snprintf(path, n, "%s/domains/%s/product.yaml", mesh_dir, rest);
    mf_mem mem = { set->alloc, set->ud };
    mg_status s = mf_read_text(&mem, path, &text, &len, err);
    if (s == MG_OK)
        s = mf_product_parse_in(&mem, path, text, len, out, err);
    if (s == MG_OK && strcmp((*out)->uri, uri) != 0) {
        s = mg_error_set(err, MG_ENOTFOUND, path, 0, 0, "%s is the manifest of `%s`, not of `%s`", path, (*out)->uri,
                         uri);
        mf_product_free(*out);
        *out = NULL;
    }
    mf_mem_free(&mem, text);
    mg__free(set->alloc, set->ud, path, n);
    return s;
}

mg_status mg_test_product(mg_engine *e, const char *mesh_dir, const char *product_uri, const mg_test_hooks *hooks,
                          mg_error *err)
{
    if (!e || !mesh_dir || !product_uri)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    mg_policy_set *set;
    mg_status s = mg__acquire_product_set(e, product_uri, &set, err);
    if (s)
        return s;
    mf_product *pr = NULL;
    s = load_product(set, mesh_dir, product_uri, &pr, err);
    if (s == MG_OK) {
        runner R = { set, set->prog, product_uri, NULL, NULL, hooks, false, err };
        s = run_all(&R, pr);
    }
    mf_product_free(pr);
    mg_policy_set_release(set);
    return s;
}
