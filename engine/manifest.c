/*
 * manifest.c — the manifest loader: mesh.yaml and every
 * domains/<domain>/<product>/product.yaml, read with libyaml into the model
 * of manifest.h. docs/manifest.md describes the format field by field.
 *
 * Reading a file takes two passes of libyaml over the text. The first walks
 * the event stream and refuses what a manifest never needs (anchors,
 * aliases, explicit tags, a second document) and what would make the second
 * pass expensive (too many nodes, too deep); the second builds libyaml's
 * node tree, which the functions below walk against the schema. Every value
 * is checked for its type, so a structure nested deeper than the schema
 * allows is a type error at its first unexpected node.
 *
 * The first error stops the load; it is reported with the 1-based line and
 * column of the offending node and, in err->detail, the source line with a
 * caret under the place.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>
#include "engine/manifest.h"
#include "stdlib/stdlib.h"

/* ==========================================================================
 * Loader state and errors
 * ========================================================================== */

typedef struct ld {
    const mf_mem *mem;       /* where the result's memory comes from */
    const char *file;        /* name for errors, owned by the result */
    const char *text;
    size_t len;
    yaml_document_t doc;
    bool have_doc;
    mg_error *err;
    mg_status st;            /* the first failure, MG_OK while none */
    const char *what;        /* "manifest" in messages, or NULL for that */
} ld;

/* What the file is, for messages: a manifest unless the reader says. */
static const char *what_of(const ld *L)
{
    return L->what ? L->what : "manifest";
}

/* Renders "file:line:col: error: msg", the source line and a caret. Columns
 * count characters, as libyaml's do; tabs are kept so the caret lines up. */
static char *render_detail(const char *file, const char *text, size_t len,
                           int line, int col, const char *msg)
{
    const char *p = text, *end = text + len;
    for (int l = 1; l < line && p < end; p++)
        if (*p == '\n')
            l++;
    const char *eol = p;
    while (eol < end && *eol != '\n' && *eol != '\r')
        eol++;
    size_t cap = strlen(file) + strlen(msg) + 2 * (size_t)(eol - p) + 64;
    char *out = malloc(cap);     /* the caller's, in mg_error: freed with free */
    if (!out)
        return NULL;
    int n = snprintf(out, cap, "%s:%d:%d: error: %s\n%.*s\n", file, line, col,
                     msg, (int)(eol - p), p);
    size_t k = n > 0 ? (size_t)n : 0;
    for (int c = 1; c < col && p < eol; p++) {
        if (((unsigned char)*p & 0xC0) == 0x80)
            continue;               /* UTF-8 continuation: same character */
        out[k++] = *p == '\t' ? '\t' : ' ';
        c++;
    }
    out[k++] = '^';
    out[k++] = '\n';
    out[k] = 0;
    return out;
}

static bool vfail(ld *L, mg_status code, int line, int col, const char *fmt, va_list ap)
{
    if (L->st != MG_OK)
        return false;               /* keep the first error */
    L->st = code;
    if (!L->err)
        return false;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    mg_error_set(L->err, code, L->file, line, col, "%s", msg);
    if (line > 0 && L->text)
        mg_error_set_detail(L->err, render_detail(L->file, L->text, L->len, line, col, msg));
    return false;
}

/* Reports code at 1-based line:col; always returns false. */
static bool fail_at(ld *L, mg_status code, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static bool fail_at(ld *L, mg_status code, int line, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(L, code, line, col, fmt, ap);
    va_end(ap);
    return false;
}

/* Reports a manifest error at node n; always returns false. */
static bool fail(ld *L, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool fail(ld *L, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(L, MG_EMANIFEST, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1, fmt, ap);
    va_end(ap);
    return false;
}

static bool oom(ld *L)
{
    return fail_at(L, MG_ENOMEM, 0, 0, "out of memory");
}

/* ==========================================================================
 * Memory
 * ==========================================================================
 * A description's strings and arrays, and the reader's scratch, come from
 * its mf_mem: the engine's allocator, or malloc. Each block carries its
 * size in a header in front of it (as pcre2's blocks do, stdlib/regex.c),
 * so that it goes back with its exact size although the reader fills
 * arrays only partly when it stops at an error, cuts strings in place and
 * replaces them as it goes: no capacity needs keeping beside each. */

typedef union mem_hdr {
    size_t size;             /* of the block, header included */
    max_align_t align;
} mem_hdr;

static const mf_mem malloc_mem = { sl_default_alloc, NULL };

/* mem, or malloc when it names no allocator. */
static const mf_mem *mem_of(const mf_mem *mem)
{
    return mem && mem->alloc ? mem : &malloc_mem;
}

static void *mem_realloc(const mf_mem *mem, void *p, size_t n)
{
    if (n > SIZE_MAX - sizeof(mem_hdr))
        return NULL;
    mem_hdr *old = p ? (mem_hdr *)p - 1 : NULL;
    mem_hdr *h = mem->alloc(mem->ud, old, old ? old->size : 0, n + sizeof *h);
    if (!h)
        return NULL;
    h->size = n + sizeof *h;
    return h + 1;
}

static void *mem_alloc(const mf_mem *mem, size_t n)
{
    return mem_realloc(mem, NULL, n);
}

static void *mem_calloc(const mf_mem *mem, size_t cnt, size_t elem)
{
    if (elem && cnt > SIZE_MAX / elem)
        return NULL;
    void *p = mem_alloc(mem, cnt * elem);
    if (p)
        memset(p, 0, cnt * elem);
    return p;
}

static void mem_free(const mf_mem *mem, void *p)
{
    if (!p)
        return;
    mem_hdr *h = (mem_hdr *)p - 1;
    mem->alloc(mem->ud, h, h->size, 0);
}

void mf_mem_free(const mf_mem *mem, void *p)
{
    mem_free(mem_of(mem), p);
}

/* ==========================================================================
 * Small helpers: strings, paths, names, suggestions
 * ========================================================================== */

static char *dup_str(const mf_mem *mem, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = mem_alloc(mem, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* rel resolved against dir: absolute paths and dir "." leave rel as is. */
static char *path_join(const mf_mem *mem, const char *dir, const char *rel)
{
    if (rel[0] == '/' || !dir[0] || !strcmp(dir, "."))
        return dup_str(mem, rel);
    size_t dl = strlen(dir), rl = strlen(rel);
    bool slash = dir[dl - 1] != '/';
    char *p = mem_alloc(mem, dl + slash + rl + 1);
    if (!p)
        return NULL;
    memcpy(p, dir, dl);
    if (slash)
        p[dl] = '/';
    memcpy(p + dl + slash, rel, rl + 1);
    return p;
}

/* The directory part of path: "." when there is none. */
static char *dir_of(const mf_mem *mem, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return dup_str(mem, ".");
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *d = mem_alloc(mem, n + 1);
    if (d) {
        memcpy(d, path, n);
        d[n] = 0;
    }
    return d;
}

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Identifiers, as in the policy language: [A-Za-z_][A-Za-z0-9_]*. Columns,
 * attribute keys, schema attributes, actions and policy ids are read by
 * policies, so they must be identifiers. */
static bool is_ident(const char *s)
{
    if (!is_alpha(*s) && *s != '_')
        return false;
    for (s++; *s; s++)
        if (!is_alpha(*s) && !is_digit(*s) && *s != '_')
            return false;
    return true;
}

/* Name segments (mesh, domain, product and port names): [A-Za-z0-9]
 * followed by letters, digits, `_` and `-`. */
static bool is_segment(const char *s, size_t n)
{
    if (n == 0 || (!is_alpha(s[0]) && !is_digit(s[0])))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/* Optimal string alignment distance (edits, adjacent swaps), capped. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

/* The closest of opts to s for a "did you mean" hint, or NULL: at most one
 * edit for short words, two for longer ones. */
static const char *suggest(const char *s, const char *const *opts, size_t n)
{
    size_t limit = strlen(s) < 4 ? 1 : 2, best = limit + 1;
    const char *hit = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(s, opts[i]);
        if (d < best) {
            best = d;
            hit = opts[i];
        }
    }
    return hit;
}

/* " (did you mean `x`?)" or "" — into buf. */
static const char *hint(char *buf, size_t cap, const char *s, const char *const *opts, size_t n)
{
    const char *h = suggest(s, opts, n);
    if (h)
        snprintf(buf, cap, " (did you mean `%s`?)", h);
    else
        buf[0] = 0;
    return buf;
}

/* "a, b or c" — into buf. */
static const char *one_of(char *buf, size_t cap, const char *const *opts, size_t n)
{
    size_t k = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && k < cap; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int w = snprintf(buf + k, cap - k, "%s%s", sep, opts[i]);
        k += w > 0 ? (size_t)w : 0;
    }
    return buf;
}

/* ==========================================================================
 * Nodes: scalar resolution (YAML 1.2 core schema) and typed getters
 * ========================================================================== */

typedef enum sc_kind { SC_NULL, SC_BOOL, SC_INT, SC_FLOAT, SC_STR } sc_kind;

static const char *sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

static bool is_float_text(const char *s)
{
    if (*s == '-' || *s == '+')
        s++;
    if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF"))
        return true;
    bool digits = false;
    while (is_digit(*s)) { s++; digits = true; }
    if (*s == '.')
        for (s++; is_digit(*s); s++)
            digits = true;
    if (!digits)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '-' || *s == '+')
            s++;
        if (!is_digit(*s))
            return false;
        while (is_digit(*s))
            s++;
    }
    return *s == 0;
}

/* What a plain scalar means under the core schema; quoted ones are strings. */
static sc_kind scalar_kind(const yaml_node_t *n)
{
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return SC_STR;
    const char *s = sval(n);
    static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
    static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE" };
    for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++)
        if (!strcmp(s, nulls[i]))
            return SC_NULL;
    for (size_t i = 0; i < sizeof bools / sizeof *bools; i++)
        if (!strcmp(s, bools[i]))
            return SC_BOOL;
    const char *d = s + (*s == '-' || *s == '+');
    if (*d) {
        while (is_digit(*d))
            d++;
        if (!*d)
            return SC_INT;
    }
    if (is_float_text(s) || !strcmp(s, ".nan") || !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
        return SC_FLOAT;
    return SC_STR;
}

static const char *node_desc(const yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a sequence";
    switch (scalar_kind(n)) {
    case SC_NULL: return "null";
    case SC_BOOL: return "a boolean";
    case SC_INT: return "an integer";
    case SC_FLOAT: return "a float";
    case SC_STR: break;
    }
    return "a string";
}

/* Type errors name the field, or "each entry of `field`" for list items. */
static bool type_error(ld *L, const yaml_node_t *n, const char *want, const char *key, bool item)
{
    return fail(L, n, "expected %s for %s`%s`, found %s", want,
                item ? "each entry of " : "", key, node_desc(n));
}

static yaml_node_t *node_at(ld *L, int index)
{
    return yaml_document_get_node(&L->doc, index);
}

static size_t seq_len(const yaml_node_t *n)
{
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

/* Entries of n if it is a sequence (absent or other nodes: 0). */
static size_t seq_count(const yaml_node_t *n)
{
    return n && n->type == YAML_SEQUENCE_NODE ? seq_len(n) : 0;
}

static yaml_node_t *seq_item(ld *L, const yaml_node_t *n, size_t i)
{
    return node_at(L, n->data.sequence.items.start[i]);
}

static mf_loc loc_of(ld *L, const yaml_node_t *n)
{
    return (mf_loc){ L->file, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1 };
}

static bool want_map(ld *L, const yaml_node_t *n, const char *key, bool item)
{
    return n->type == YAML_MAPPING_NODE || type_error(L, n, "a mapping", key, item);
}

static bool want_seq(ld *L, const yaml_node_t *n, const char *key)
{
    return n->type == YAML_SEQUENCE_NODE || type_error(L, n, "a sequence", key, false);
}

static bool is_str(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && scalar_kind(n) == SC_STR;
}

/* A string, copied into *out (which must be NULL or owned: it is replaced). */
static bool get_str(ld *L, const yaml_node_t *n, const char *key, bool item, char **out)
{
    if (!is_str(n))
        return type_error(L, n, "a string", key, item);
    mem_free(L->mem, *out);
    if (!(*out = dup_str(L->mem, sval(n))))
        return oom(L);
    return true;
}

/* A non-empty string. */
static bool get_text(ld *L, const yaml_node_t *n, const char *key, char **out)
{
    if (!get_str(L, n, key, false, out))
        return false;
    return **out || fail(L, n, "`%s` must not be empty", key);
}

/* An identifier; `what` names it in the message ("column name"). */
static bool get_ident(ld *L, const yaml_node_t *n, const char *key, bool item,
                      const char *what, char **out)
{
    if (!get_str(L, n, key, item, out))
        return false;
    return is_ident(*out) ||
           fail(L, n, "invalid %s `%s`: use letters, digits and `_`, not starting with a digit", what, *out);
}

/* A name segment (mesh, domain, port). */
static bool get_segment(ld *L, const yaml_node_t *n, const char *key, const char *what, char **out)
{
    if (!get_str(L, n, key, false, out))
        return false;
    return is_segment(*out, strlen(*out)) ||
           fail(L, n, "invalid %s `%s`: use letters, digits, `_` and `-`, starting with a letter or digit",
                what, *out);
}

static bool get_int(ld *L, const yaml_node_t *n, const char *key, int64_t min, int64_t *out)
{
    if (n->type != YAML_SCALAR_NODE || scalar_kind(n) != SC_INT)
        return type_error(L, n, "an integer", key, false);
    errno = 0;
    long long v = strtoll(sval(n), NULL, 10);
    if (errno == ERANGE)
        return fail(L, n, "integer `%s` is out of range for `%s`", sval(n), key);
    if (v < min)
        return fail(L, n, "`%s` must be at least %lld, found %lld", key, (long long)min, v);
    *out = v;
    return true;
}

static bool get_bool(ld *L, const yaml_node_t *n, const char *key, bool *out)
{
    if (n->type != YAML_SCALAR_NODE || scalar_kind(n) != SC_BOOL)
        return type_error(L, n, "a boolean", key, false);
    *out = sval(n)[0] == 't' || sval(n)[0] == 'T';
    return true;
}

/* One of opts: *idx gets its index, *out (if not NULL) a copy. */
static bool get_enum(ld *L, const yaml_node_t *n, const char *key, const char *const *opts,
                     size_t nopts, int *idx, char **out)
{
    char *s = NULL;
    if (!get_str(L, n, key, false, &s))
        return false;
    for (size_t i = 0; i < nopts; i++)
        if (!strcmp(s, opts[i])) {
            mem_free(L->mem, s);
            *idx = (int)i;
            if (!out)
                return true;
            mem_free(L->mem, *out);
            return (*out = dup_str(L->mem, opts[i])) != NULL || oom(L);
        }
    char list[256], h[96];
    fail(L, n, "invalid %s `%s`: expected %s%s", key, s, one_of(list, sizeof list, opts, nopts),
         hint(h, sizeof h, s, opts, nopts));
    mem_free(L->mem, s);
    return false;
}

/* A sequence of strings; check (may be NULL) validates each one. Relative
 * paths are resolved against base when base is not NULL. */
static bool get_strs(ld *L, const yaml_node_t *n, const char *key, const char *base,
                     bool (*check)(ld *, const yaml_node_t *, const char *), mf_strs *out)
{
    if (!want_seq(L, n, key))
        return false;
    size_t cnt = seq_len(n);
    if (cnt == 0)
        return true;
    out->v = mem_calloc(L->mem, cnt, sizeof *out->v);
    out->locs = mem_calloc(L->mem, cnt, sizeof *out->locs);
    if (!out->v || !out->locs)
        return oom(L);
    for (size_t i = 0; i < cnt; i++) {
        const yaml_node_t *it = seq_item(L, n, i);
        char *s = NULL;
        if (!get_str(L, it, key, true, &s))
            return false;
        out->v[out->n] = s;
        out->locs[out->n++] = loc_of(L, it);
        if (!*s)
            return fail(L, it, "empty string in `%s`", key);
        if (check && !check(L, it, key))
            return false;
        if (base) {
            char *r = path_join(L->mem, base, s);
            if (!r)
                return oom(L);
            mem_free(L->mem, s);
            out->v[out->n - 1] = r;
        }
    }
    return true;
}

/* ==========================================================================
 * Mappings against a list of known keys
 * ========================================================================== */

/* Fills vals[i] with the value of keys[i] (NULL when absent). Keys must be
 * strings, known (else an error with a hint) and not repeated. */
static bool get_fields(ld *L, const yaml_node_t *map, const char *what,
                       const char *const *keys, size_t nkeys, yaml_node_t **vals)
{
    memset(vals, 0, nkeys * sizeof *vals);
    for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node_at(L, pr->key), *v = node_at(L, pr->value);
        if (!is_str(k))
            return fail(L, k, "expected a string key in %s, found %s", what, node_desc(k));
        size_t i = 0;
        while (i < nkeys && strcmp(keys[i], sval(k)))
            i++;
        char h[96];
        if (i == nkeys)
            return fail(L, k, "unknown key `%s` in %s%s", sval(k), what,
                        hint(h, sizeof h, sval(k), keys, nkeys));
        if (vals[i])
            return fail(L, k, "duplicate key `%s` in %s", sval(k), what);
        vals[i] = v;
    }
    return true;
}

static bool need(ld *L, const yaml_node_t *map, const yaml_node_t *v, const char *key, const char *what)
{
    return v || fail(L, map, "missing required field `%s` in %s", key, what);
}

typedef struct key_ref {
    const char *s;
    size_t i;                /* position in the mapping */
} key_ref;

static int cmp_key_ref(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* Sorts refs (k of them) and returns the position of the first name, in
 * file order, that repeats an earlier one; `none` when all differ. Sorting
 * keeps long lists and maps from taking quadratic time. */
static size_t first_repeat(key_ref *refs, size_t k, size_t none)
{
    qsort(refs, k, sizeof *refs, cmp_key_ref);
    size_t first = none;
    for (size_t i = 1; i < k; i++)
        if (!strcmp(refs[i].s, refs[i - 1].s) && refs[i].i < first)
            first = refs[i].i;
    return first;
}

/* Duplicate keys are an error wherever the keys are free (attributes, slo,
 * schema): libyaml accepts them silently. Non-scalar keys are left to the
 * caller's type check. */
static bool unique_keys(ld *L, const yaml_node_t *map, const char *what)
{
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start), k = 0;
    if (n < 2)
        return true;
    key_ref *refs = mem_alloc(L->mem, n * sizeof *refs);
    if (!refs)
        return oom(L);
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *key = node_at(L, map->data.mapping.pairs.start[i].key);
        if (key->type == YAML_SCALAR_NODE)
            refs[k++] = (key_ref){ sval(key), i };
    }
    size_t first = first_repeat(refs, k, n);
    mem_free(L->mem, refs);
    if (first == n)
        return true;
    yaml_node_t *key = node_at(L, map->data.mapping.pairs.start[first].key);
    return fail(L, key, "duplicate key `%s` in %s", sval(key), what);
}

/* ==========================================================================
 * Free-form attributes and SLOs
 * ========================================================================== */

/* attributes -> { IDENT: string | int | bool | [string, ...] } */
static bool parse_attrs(ld *L, const yaml_node_t *n, const char *key, mf_attr **out, size_t *nout)
{
    if (!want_map(L, n, key, false) || !unique_keys(L, n, key))
        return false;
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (cnt == 0)
        return true;
    if (!(*out = mem_calloc(L->mem, cnt, sizeof **out)))
        return oom(L);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
        yaml_node_t *k = node_at(L, pr->key), *v = node_at(L, pr->value);
        mf_attr *a = &(*out)[(*nout)++];
        if (!get_ident(L, k, key, true, "attribute name", &a->key))
            return false;
        a->loc = loc_of(L, v);
        sc_kind sk = v->type == YAML_SCALAR_NODE ? scalar_kind(v) : SC_NULL;
        if (v->type == YAML_SEQUENCE_NODE) {
            a->kind = SL_SET;
            if (!get_strs(L, v, a->key, NULL, NULL, &a->list))
                return false;
        } else if (v->type == YAML_SCALAR_NODE && sk == SC_STR) {
            a->kind = SL_STRING;
            if (!get_str(L, v, a->key, false, &a->str))
                return false;
        } else if (v->type == YAML_SCALAR_NODE && sk == SC_INT) {
            a->kind = SL_INT;
            if (!get_int(L, v, a->key, INT64_MIN, &a->i))
                return false;
        } else if (v->type == YAML_SCALAR_NODE && sk == SC_BOOL) {
            a->kind = SL_BOOL;
            get_bool(L, v, a->key, &a->b);
        } else {
            return type_error(L, v, "a string, integer, boolean or sequence of strings", a->key, false);
        }
    }
    return true;
}

/* slo -> { IDENT: scalar }, kept as written. */
static bool parse_slos(ld *L, const yaml_node_t *n, mf_port *pt)
{
    if (!want_map(L, n, "slo", false) || !unique_keys(L, n, "slo"))
        return false;
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (cnt == 0)
        return true;
    if (!(pt->slos = mem_calloc(L->mem, cnt, sizeof *pt->slos)))
        return oom(L);
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t *pr = &n->data.mapping.pairs.start[i];
        yaml_node_t *k = node_at(L, pr->key), *v = node_at(L, pr->value);
        mf_attr *a = &pt->slos[pt->nslos++];
        a->kind = SL_STRING;
        if (!get_ident(L, k, "slo", true, "SLO name", &a->key))
            return false;
        a->loc = loc_of(L, v);
        if (v->type != YAML_SCALAR_NODE || scalar_kind(v) == SC_NULL)
            return type_error(L, v, "a scalar", a->key, false);
        if (!(a->str = dup_str(L->mem, sval(v))))
            return oom(L);
    }
    return true;
}

/* ==========================================================================
 * product.yaml
 * ========================================================================== */

static const char *const visibilities[] = { "public", "domain", "private" };
static const char *const product_lifecycles[] = { "active", "deprecated", "retired" };
static const char *const product_kinds[] = { "source-aligned", "aggregate", "consumer-aligned" };
static const char *const adopt_modes[] = { "enforce", "dry_run" };
static const char *const column_types[] = {
    "string", "int", "float", "decimal", "bool", "date", "timestamp", "duration", "bytes", "json",
};
#define COUNT(a) (sizeof (a) / sizeof *(a))

/* dp://<domain>/<name>; on success *dom and *name point into uri. */
static bool split_uri(const char *uri, size_t len, const char **dom, size_t *dlen,
                      const char **name, size_t *nlen)
{
    if (len < 5 || memcmp(uri, "dp://", 5) != 0)
        return false;
    const char *d = uri + 5, *end = uri + len;
    const char *slash = memchr(d, '/', (size_t)(end - d));
    if (!slash)
        return false;
    *dom = d;
    *dlen = (size_t)(slash - d);
    *name = slash + 1;
    *nlen = (size_t)(end - slash - 1);
    return is_segment(*dom, *dlen) && is_segment(*name, *nlen);
}

/* column -> { name: IDENT, type: TYPE, tags?: [string], encryption?: bool } */
static bool parse_column(ld *L, const yaml_node_t *n, mf_port *pt)
{
    static const char *const keys[] = { "name", "type", "tags", "encryption" };
    yaml_node_t *v[COUNT(keys)];
    if (!want_map(L, n, "schema", true) || !get_fields(L, n, "column", keys, COUNT(keys), v))
        return false;
    mf_column *c = &pt->columns[pt->ncolumns++];
    c->loc = loc_of(L, n);
    if (!need(L, n, v[0], "name", "column") || !need(L, n, v[1], "type", "column") ||
        !get_ident(L, v[0], "name", false, "column name", &c->name))
        return false;
    int idx;
    if (!get_enum(L, v[1], "type", column_types, COUNT(column_types), &idx, &c->type))
        return false;
    if (v[2] && !get_strs(L, v[2], "tags", NULL, NULL, &c->tags))
        return false;
    return !v[3] || get_bool(L, v[3], "encryption", &c->encrypted);
}

/* The `name:` value of entry i of the sequences seqs[0], seqs[1], ... taken
 * as one list (entries that parsed, so each has one). */
static const yaml_node_t *entry_name(ld *L, const yaml_node_t *const *seqs, size_t nseqs, size_t i)
{
    for (size_t s = 0; s < nseqs; i -= seq_count(seqs[s]), s++) {
        if (i >= seq_count(seqs[s]))
            continue;
        const yaml_node_t *m = seq_item(L, seqs[s], i);
        for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++)
            if (!strcmp(sval(node_at(L, pr->key)), "name"))
                return node_at(L, pr->value);
    }
    return NULL;
}

/* The names in refs (n of them, refs[i].i == i) must differ; otherwise the
 * error is at the `name:` of the first repeat. fmt takes the name, then arg.
 * Takes ownership of refs. */
static bool unique_names(ld *L, key_ref *refs, size_t n, const yaml_node_t *const *seqs, size_t nseqs,
                         const char *fmt, const char *arg)
{
    size_t at = n < 2 ? n : first_repeat(refs, n, n);
    const char *name = NULL;
    for (size_t i = 0; i < n && at < n; i++)
        if (refs[i].i == at)
            name = refs[i].s;
    mem_free(L->mem, refs);
    if (at == n)
        return true;
    char msg[256];
    snprintf(msg, sizeof msg, fmt, name, arg);
    return fail(L, entry_name(L, seqs, nseqs, at), "%s", msg);
}

/* An array for n key_refs (at least one slot). */
static key_ref *refs_new(ld *L, size_t n)
{
    key_ref *r = mem_alloc(L->mem, (n ? n : 1) * sizeof *r);
    if (!r)
        oom(L);
    return r;
}

/* encryption -> { at_rest?: bool, in_transit?: bool } */
static bool parse_port_encryption(ld *L, const yaml_node_t *n, mf_port *pt)
{
    static const char *const keys[] = { "at_rest", "in_transit" };
    yaml_node_t *v[COUNT(keys)];
    if (!want_map(L, n, "encryption", false) || !get_fields(L, n, "encryption", keys, COUNT(keys), v))
        return false;
    return (!v[0] || get_bool(L, v[0], "at_rest", &pt->enc_at_rest)) &&
           (!v[1] || get_bool(L, v[1], "in_transit", &pt->enc_in_transit));
}

static bool port_name(ld *L, const yaml_node_t *map, const yaml_node_t *v, mf_port *pt)
{
    return need(L, map, v, "name", "port") && get_segment(L, v, "name", "port name", &pt->name);
}

static bool port_defaults(ld *L, mf_port *pt)
{
    pt->visibility = dup_str(L->mem, "domain");
    pt->subject_key = dup_str(L->mem, "");
    return (pt->visibility && pt->subject_key) || oom(L);
}

/* input port -> { name: NAME, from: "dp://<domain>/<name>:<port>" } */
static bool parse_input_port(ld *L, const yaml_node_t *n, mf_product *p)
{
    static const char *const keys[] = { "name", "from" };
    yaml_node_t *v[COUNT(keys)];
    if (!want_map(L, n, "input_ports", true) || !get_fields(L, n, "input port", keys, COUNT(keys), v))
        return false;
    mf_port *pt = &p->ports[p->nports++];
    pt->is_input = true;
    pt->loc = loc_of(L, n);
    if (!port_defaults(L, pt) || !port_name(L, n, v[0], pt) ||
        !need(L, n, v[1], "from", "input port") || !get_str(L, v[1], "from", false, &pt->from_product))
        return false;
    pt->from_loc = loc_of(L, v[1]);
    char *s = pt->from_product, *colon = strrchr(s, ':');
    const char *d, *nm;
    size_t dl, nl;
    if (!colon || colon - s < 5 || !split_uri(s, (size_t)(colon - s), &d, &dl, &nm, &nl) ||
        !is_segment(colon + 1, strlen(colon + 1)))
        return fail(L, v[1], "invalid `from` `%s`: expected dp://<domain>/<name>:<port>", s);
    if (!(pt->from_port = dup_str(L->mem, colon + 1)))
        return oom(L);
    *colon = 0;
    return true;
}

/* output port -> { name, visibility?, tags?, subject_key?, encryption?, slo?,
 *                  table?, schema?: [column], attributes? } */
static bool parse_output_port(ld *L, const yaml_node_t *n, mf_product *p)
{
    static const char *const keys[] = { "name", "visibility", "tags", "subject_key", "encryption",
                                        "slo", "table", "schema", "attributes" };
    yaml_node_t *v[COUNT(keys)];
    if (!want_map(L, n, "output_ports", true) || !get_fields(L, n, "port", keys, COUNT(keys), v))
        return false;
    mf_port *pt = &p->ports[p->nports++];
    pt->loc = loc_of(L, n);
    int idx;
    if (!port_defaults(L, pt) || !port_name(L, n, v[0], pt) ||
        (v[1] && !get_enum(L, v[1], "visibility", visibilities, COUNT(visibilities), &idx, &pt->visibility)) ||
        (v[2] && !get_strs(L, v[2], "tags", NULL, NULL, &pt->tags)) ||
        (v[3] && !get_str(L, v[3], "subject_key", false, &pt->subject_key)) ||
        (v[4] && !parse_port_encryption(L, v[4], pt)) ||
        (v[5] && !parse_slos(L, v[5], pt)) ||
        (v[6] && !get_ident(L, v[6], "table", false, "table name", &pt->table)) ||
        (v[8] && !parse_attrs(L, v[8], "attributes", &pt->attrs, &pt->nattrs)))
        return false;
    if (v[7]) {
        if (!want_seq(L, v[7], "schema"))
            return false;
        size_t cnt = seq_len(v[7]);
        if (cnt && !(pt->columns = mem_calloc(L->mem, cnt, sizeof *pt->columns)))
            return oom(L);
        for (size_t i = 0; i < cnt; i++)
            if (!parse_column(L, seq_item(L, v[7], i), pt))
                return false;
        key_ref *refs = refs_new(L, pt->ncolumns);
        if (!refs)
            return false;
        for (size_t i = 0; i < pt->ncolumns; i++)
            refs[i] = (key_ref){ pt->columns[i].name, i };
        const yaml_node_t *seqs[] = { v[7] };
        if (!unique_names(L, refs, pt->ncolumns, seqs, 1, "duplicate column name `%s` in port `%s`", pt->name))
            return false;
    }
    if (!v[3] || !pt->subject_key[0] || !pt->ncolumns)
        return true;
    for (size_t i = 0; i < pt->ncolumns; i++)
        if (!strcmp(pt->columns[i].name, pt->subject_key))
            return true;
    return fail(L, v[3], "subject_key `%s` is not a column of port `%s`", pt->subject_key, pt->name);
}

/* adopts entry -> { policy: IDENT, version: INT, mode?: enforce | dry_run } */
static bool parse_adopt(ld *L, const yaml_node_t *n, mf_product *p)
{
    static const char *const keys[] = { "policy", "version", "mode" };
    yaml_node_t *v[COUNT(keys)];
    if (!want_map(L, n, "adopts", true) || !get_fields(L, n, "adopts entry", keys, COUNT(keys), v))
        return false;
    mf_adopt *a = &p->adopts[p->nadopts++];
    a->loc = loc_of(L, n);
    a->mode = -1;
    if (!need(L, n, v[0], "policy", "adopts entry") || !need(L, n, v[1], "version", "adopts entry") ||
        !get_ident(L, v[0], "policy", false, "policy id", &a->policy) ||
        !get_int(L, v[1], "version", 1, &a->version) ||
        (v[2] && !get_enum(L, v[2], "mode", adopt_modes, COUNT(adopt_modes), &a->mode, NULL)))
        return false;
    for (size_t i = 0; i + 1 < p->nadopts; i++)
        if (!strcmp(p->adopts[i].policy, a->policy))
            return fail(L, v[0], "policy `%s` is adopted twice", a->policy);
    return true;
}

/* Parses a sequence of product entries with one function per entry, into
 * an array the caller allocated with a slot per entry. */
static bool parse_list(ld *L, const yaml_node_t *n, const char *key, mf_product *p,
                       bool (*one)(ld *, const yaml_node_t *, mf_product *))
{
    if (!want_seq(L, n, key))
        return false;
    for (size_t i = 0; i < seq_len(n); i++)
        if (!one(L, seq_item(L, n, i), p))
            return false;
    return true;
}

enum {
    P_URI, P_DOMAIN, P_OWNER, P_KIND, P_LIFECYCLE, P_REGIONS, P_HOLD, P_DATABASE, P_ATTRS,
    P_ADOPTS, P_POLICIES, P_TESTS, P_INPUTS, P_OUTPUTS, P_NKEYS
};
static const char *const product_keys[P_NKEYS] = {
    "uri", "domain", "owner", "kind", "lifecycle", "allowed_regions", "legal_hold", "database",
    "attributes", "adopts", "policies", "tests", "input_ports", "output_ports",
};

/* uri and domain: the URI must name the domain the product declares. */
static bool product_identity(ld *L, yaml_node_t *const *v, mf_product *p)
{
    if (!get_str(L, v[P_URI], "uri", false, &p->uri))
        return false;
    p->uri_loc = loc_of(L, v[P_URI]);
    const char *d, *nm;
    size_t dl, nl;
    if (!split_uri(p->uri, strlen(p->uri), &d, &dl, &nm, &nl))
        return fail(L, v[P_URI], "invalid product URI `%s`: expected dp://<domain>/<name>", p->uri);
    if (!(p->name = dup_str(L->mem, nm)))
        return oom(L);
    if (!get_segment(L, v[P_DOMAIN], "domain", "domain", &p->domain))
        return false;
    if (strlen(p->domain) != dl || memcmp(p->domain, d, dl) != 0)
        return fail(L, v[P_URI], "product URI `%s` is not in domain `%s` (expected dp://%s/%s)",
                    p->uri, p->domain, p->domain, p->name);
    return true;
}

/* product -> mapping of product_keys; uri, domain, owner required */
static bool parse_product(ld *L, const yaml_node_t *root, mf_product *p)
{
    yaml_node_t *v[P_NKEYS];
    int idx;
    p->loc = loc_of(L, root);
    if (!want_map(L, root, "product", false) ||
        !get_fields(L, root, "product", product_keys, P_NKEYS, v) ||
        !need(L, root, v[P_URI], "uri", "product") || !need(L, root, v[P_DOMAIN], "domain", "product") ||
        !need(L, root, v[P_OWNER], "owner", "product") ||
        !product_identity(L, v, p) || !get_text(L, v[P_OWNER], "owner", &p->owner))
        return false;
    if (!(p->lifecycle = dup_str(L->mem, "active")))
        return oom(L);
    if ((v[P_KIND] && !get_enum(L, v[P_KIND], "kind", product_kinds, COUNT(product_kinds), &idx, &p->kind)) ||
        (v[P_LIFECYCLE] && !get_enum(L, v[P_LIFECYCLE], "lifecycle", product_lifecycles,
                                     COUNT(product_lifecycles), &idx, &p->lifecycle)) ||
        (v[P_REGIONS] && !get_strs(L, v[P_REGIONS], "allowed_regions", NULL, NULL, &p->allowed_regions)) ||
        (v[P_HOLD] && !get_bool(L, v[P_HOLD], "legal_hold", &p->legal_hold)) ||
        (v[P_ATTRS] && !parse_attrs(L, v[P_ATTRS], "attributes", &p->attrs, &p->nattrs)) ||
        (v[P_POLICIES] && !get_strs(L, v[P_POLICIES], "policies", p->dir, NULL, &p->policies)) ||
        (v[P_TESTS] && !get_strs(L, v[P_TESTS], "tests", p->dir, NULL, &p->tests)))
        return false;
    if (v[P_DATABASE]) {
        char *rel = NULL;
        bool ok = get_text(L, v[P_DATABASE], "database", &rel);
        p->database = ok ? path_join(L->mem, p->dir, rel) : NULL;
        mem_free(L->mem, rel);
        if (!ok || !p->database)
            return ok ? oom(L) : false;
    }
    /* Input and output ports share one array (inputs first) and one namespace. */
    size_t nad = seq_count(v[P_ADOPTS]), nports = seq_count(v[P_INPUTS]) + seq_count(v[P_OUTPUTS]);
    if ((nad && !(p->adopts = mem_calloc(L->mem, nad, sizeof *p->adopts))) ||
        (nports && !(p->ports = mem_calloc(L->mem, nports, sizeof *p->ports))))
        return oom(L);
    if ((v[P_ADOPTS] && !parse_list(L, v[P_ADOPTS], "adopts", p, parse_adopt)) ||
        (v[P_INPUTS] && !parse_list(L, v[P_INPUTS], "input_ports", p, parse_input_port)) ||
        (v[P_OUTPUTS] && !parse_list(L, v[P_OUTPUTS], "output_ports", p, parse_output_port)))
        return false;
    key_ref *refs = refs_new(L, p->nports);
    if (!refs)
        return false;
    for (size_t i = 0; i < p->nports; i++)
        refs[i] = (key_ref){ p->ports[i].name, i };
    const yaml_node_t *seqs[] = { v[P_INPUTS], v[P_OUTPUTS] };
    return unique_names(L, refs, p->nports, seqs, 2, "duplicate port name `%s`%s", "");
}

/* ==========================================================================
 * mesh.yaml
 * ========================================================================== */

static const char *const global_lifecycles[] = { "draft", "grace", "required" };
static const char *const builtin_actions[] = { "read", "write", "delete" };

/* policies entry -> { id: IDENT, version: INT, lifecycle?: draft | grace |
 *                     required, grace_until?: DATE, file?: PATH } */
static bool parse_global(ld *L, const yaml_node_t *n, mf_mesh *m)
{
    static const char *const keys[] = { "id", "version", "lifecycle", "grace_until", "file" };
    yaml_node_t *v[COUNT(keys)];
    if (!want_map(L, n, "policies", true) || !get_fields(L, n, "policy", keys, COUNT(keys), v))
        return false;
    mf_global *g = &m->globals[m->nglobals++];
    g->loc = loc_of(L, n);
    g->file_loc = g->loc;
    int lc = MF_DRAFT;
    if (!need(L, n, v[0], "id", "policy") || !need(L, n, v[1], "version", "policy") ||
        !get_ident(L, v[0], "id", false, "policy id", &g->id) ||
        !get_int(L, v[1], "version", 1, &g->version) ||
        (v[2] && !get_enum(L, v[2], "lifecycle", global_lifecycles, COUNT(global_lifecycles), &lc, NULL)))
        return false;
    for (size_t i = 0; i + 1 < m->nglobals; i++)
        if (!strcmp(m->globals[i].id, g->id))
            return fail(L, v[0], "duplicate policy id `%s`", g->id);
    g->lifecycle = (mf_lifecycle)lc;
    if (lc == MF_GRACE && !v[3])
        return fail(L, v[2], "lifecycle grace needs `grace_until`");
    if (v[3]) {
        if (lc != MF_GRACE)
            return fail(L, v[3], "`grace_until` is only allowed with lifecycle grace");
        if (!is_str(v[3]))
            return type_error(L, v[3], "a date", "grace_until", false);
        const char *why = NULL;
        if (!sl_parse_timestamp(sval(v[3]), strlen(sval(v[3])), &g->grace_until_us, &why))
            return fail(L, v[3], "invalid date `%s` for `grace_until`: %s", sval(v[3]), why);
    }
    char *rel = NULL;
    if (v[4]) {
        if (!get_text(L, v[4], "file", &rel))
            return false;
        g->file_loc = loc_of(L, v[4]);
    } else {
        size_t k = strlen(g->id) + sizeof ".policy";
        if ((rel = mem_alloc(L->mem, k)) != NULL)
            snprintf(rel, k, "%s.policy", g->id);
    }
    g->file = rel ? path_join(L->mem, m->global_dir, rel) : NULL;
    mem_free(L->mem, rel);
    return g->file != NULL || oom(L);
}

/* A schema type name -> sl_type. */
static bool schema_type(const char *s, sl_type *t)
{
    static const struct { const char *name; sl_type t; } types[] = {
        { "string", { SL_STRING, 0 } }, { "int", { SL_INT, 0 } }, { "bool", { SL_BOOL, 0 } },
        { "duration", { SL_DURATION, 0 } }, { "timestamp", { SL_TIMESTAMP, 0 } },
        { "set<string>", { SL_SET, SL_STRING } }, { "set<int>", { SL_SET, SL_INT } },
    };
    for (size_t i = 0; i < COUNT(types); i++)
        if (!strcmp(s, types[i].name)) {
            *t = types[i].t;
            return true;
        }
    return false;
}

/* subject | context -> { IDENT: TYPE } */
static bool parse_schema_root(ld *L, const yaml_node_t *n, const char *root, mf_mesh *m)
{
    static const char *const names[] = {
        "string", "int", "bool", "duration", "timestamp", "set<string>", "set<int>",
    };
    if (!want_map(L, n, root, false) || !unique_keys(L, n, root))
        return false;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node_at(L, pr->key), *v = node_at(L, pr->value);
        mf_schema_attr *a = &m->schema[m->nschema++];
        char *attr = NULL;
        if (!get_ident(L, k, root, true, "attribute name", &attr)) {
            mem_free(L->mem, attr);     /* get_ident hands back the bad name it refused */
            return false;
        }
        size_t len = strlen(root) + 1 + strlen(attr) + 1;
        a->path = mem_alloc(L->mem, len);
        if (a->path)
            snprintf(a->path, len, "%s.%s", root, attr);
        mem_free(L->mem, attr);
        if (!a->path)
            return oom(L);
        a->loc = loc_of(L, v);
        if (!is_str(v))
            return fail(L, v, "expected a type name for `%s`, found %s", a->path, node_desc(v));
        char list[160], h[96];
        if (!schema_type(sval(v), &a->type))
            return fail(L, v, "unknown type `%s` for `%s`: expected %s%s", sval(v), a->path,
                        one_of(list, sizeof list, names, COUNT(names)),
                        hint(h, sizeof h, sval(v), names, COUNT(names)));
    }
    return true;
}

/* schema -> { subject?: {...}, context?: {...} } */
static bool parse_schema(ld *L, const yaml_node_t *n, mf_mesh *m)
{
    static const char *const keys[] = { "subject", "context" };
    yaml_node_t *v[COUNT(keys)];
    if (!want_map(L, n, "schema", false) || !get_fields(L, n, "schema", keys, COUNT(keys), v))
        return false;
    size_t cnt = 0;
    for (size_t i = 0; i < COUNT(keys); i++)
        if (v[i] && v[i]->type == YAML_MAPPING_NODE)
            cnt += (size_t)(v[i]->data.mapping.pairs.top - v[i]->data.mapping.pairs.start);
    if (cnt && !(m->schema = mem_calloc(L->mem, cnt, sizeof *m->schema)))
        return oom(L);
    m->has_schema = true;
    for (size_t i = 0; i < COUNT(keys); i++)
        if (v[i] && !parse_schema_root(L, v[i], keys[i], m))
            return false;
    return true;
}

/* Each declared action is an identifier, new and not built in. */
static bool check_action(ld *L, const yaml_node_t *n, const char *key)
{
    (void)key;
    const char *s = sval(n);
    if (!is_ident(s))
        return fail(L, n, "invalid action `%s`: use letters, digits and `_`, not starting with a digit", s);
    for (size_t i = 0; i < COUNT(builtin_actions); i++)
        if (!strcmp(s, builtin_actions[i]))
            return fail(L, n, "action `%s` is built in; declare only extra actions", s);
    return true;
}

/* audit -> { dir?: PATH, checkpoint_every?: INT, checkpoint_ms?: INT } */
static bool parse_audit(ld *L, const yaml_node_t *n, mf_mesh *m)
{
    static const char *const keys[] = { "dir", "checkpoint_every", "checkpoint_ms" };
    yaml_node_t *v[COUNT(keys)];
    if (!want_map(L, n, "audit", false) || !get_fields(L, n, "audit", keys, COUNT(keys), v) ||
        (v[1] && !get_int(L, v[1], "checkpoint_every", 1, &m->checkpoint_every)) ||
        (v[2] && !get_int(L, v[2], "checkpoint_ms", 1, &m->checkpoint_ms)))
        return false;
    if (!v[0])
        return true;
    char *rel = NULL;
    bool ok = get_text(L, v[0], "dir", &rel);
    m->audit_dir = ok ? path_join(L->mem, m->dir, rel) : NULL;
    mem_free(L->mem, rel);
    return ok ? (m->audit_dir != NULL || oom(L)) : false;
}

enum { M_MESH, M_GLOBAL_DIR, M_POLICIES, M_SCHEMA, M_ACTIONS, M_AUDIT, M_NKEYS };
static const char *const mesh_keys[M_NKEYS] = {
    "mesh", "global_policies", "policies", "schema", "actions", "audit",
};

/* mesh -> mapping of mesh_keys; `mesh` required */
static bool parse_mesh(ld *L, const yaml_node_t *root, mf_mesh *m)
{
    yaml_node_t *v[M_NKEYS];
    m->checkpoint_every = 1000;
    m->checkpoint_ms = 1000;
    if (!want_map(L, root, "mesh", false) || !get_fields(L, root, "mesh", mesh_keys, M_NKEYS, v) ||
        !need(L, root, v[M_MESH], "mesh", "mesh") ||
        !get_segment(L, v[M_MESH], "mesh", "mesh name", &m->name))
        return false;
    char *rel = NULL;
    if (v[M_GLOBAL_DIR] && !get_text(L, v[M_GLOBAL_DIR], "global_policies", &rel))
        return false;
    m->global_dir = path_join(L->mem, m->dir, rel ? rel : "policies/global");
    mem_free(L->mem, rel);
    if (!m->global_dir)
        return oom(L);
    if (v[M_POLICIES]) {
        const yaml_node_t *n = v[M_POLICIES];
        if (!want_seq(L, n, "policies"))
            return false;
        if (seq_len(n) && !(m->globals = mem_calloc(L->mem, seq_len(n), sizeof *m->globals)))
            return oom(L);
        for (size_t i = 0; i < seq_len(n); i++)
            if (!parse_global(L, seq_item(L, n, i), m))
                return false;
    }
    if (v[M_ACTIONS] && !get_strs(L, v[M_ACTIONS], "actions", NULL, check_action, &m->actions))
        return false;
    for (size_t i = 0; i < m->actions.n; i++)
        for (size_t j = 0; j < i; j++)
            if (!strcmp(m->actions.v[i], m->actions.v[j]))
                return fail_at(L, MG_EMANIFEST, m->actions.locs[i].line, m->actions.locs[i].col,
                               "action `%s` is declared twice", m->actions.v[i]);
    return (!v[M_SCHEMA] || parse_schema(L, v[M_SCHEMA], m)) &&
           (!v[M_AUDIT] || parse_audit(L, v[M_AUDIT], m));
}

/* ==========================================================================
 * Reading YAML: the checking pass and the node tree
 * ========================================================================== */

/* Line and column (1-based, in characters) of a byte offset. */
static void offset_pos(const char *text, size_t len, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

static bool syntax_error(ld *L, const yaml_parser_t *ps)
{
    if (ps->error == YAML_MEMORY_ERROR)
        return oom(L);
    const char *problem = ps->problem ? ps->problem : "malformed YAML";
    if (ps->error == YAML_READER_ERROR) {
        int line, col;
        offset_pos(L->text, L->len, ps->problem_offset, &line, &col);
        return fail_at(L, MG_EMANIFEST, line, col, "invalid input: %s", problem);
    }
    int line = (int)ps->problem_mark.line + 1, col = (int)ps->problem_mark.column + 1;
    if (ps->context)
        return fail_at(L, MG_EMANIFEST, line, col, "YAML syntax error: %s (%s at line %d, column %d)",
                       problem, ps->context, (int)ps->context_mark.line + 1,
                       (int)ps->context_mark.column + 1);
    return fail_at(L, MG_EMANIFEST, line, col, "YAML syntax error: %s", problem);
}

/* One event of the checking pass; depth and count track nesting and nodes. */
static bool check_event(ld *L, const yaml_event_t *ev, int *depth, size_t *count, int *docs)
{
    int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
    const yaml_char_t *anchor = NULL, *tag = NULL;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++*docs > 1)
            return fail_at(L, MG_EMANIFEST, line, col, "a %s is one YAML document; found a second one", what_of(L));
        return true;
    case YAML_ALIAS_EVENT:
        return fail_at(L, MG_EMANIFEST, line, col, "YAML aliases (`*%s`) are not allowed in a %s",
                       (const char *)ev->data.alias.anchor, what_of(L));
    case YAML_SCALAR_EVENT:
        anchor = ev->data.scalar.anchor;
        tag = ev->data.scalar.tag;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = ev->data.sequence_start.anchor;
        tag = ev->data.sequence_start.tag;
        ++*depth;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = ev->data.mapping_start.anchor;
        tag = ev->data.mapping_start.tag;
        ++*depth;
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        --*depth;
        return true;
    default:
        return true;
    }
    if (anchor)
        return fail_at(L, MG_EMANIFEST, line, col, "YAML anchors (`&%s`) are not allowed in a %s",
                       (const char *)anchor, what_of(L));
    if (tag)
        return fail_at(L, MG_EMANIFEST, line, col, "YAML tags (`%s`) are not allowed in a %s",
                       (const char *)tag, what_of(L));
    if (++*count > MF_MAX_NODES)
        return fail_at(L, MG_ELIMIT, line, col, "more than %d YAML nodes in one %s", MF_MAX_NODES,
                       what_of(L));
    if (*depth > MF_MAX_DEPTH)
        return fail_at(L, MG_ELIMIT, line, col, "YAML nested deeper than %d levels", MF_MAX_DEPTH);
    return true;
}

/* The checking pass over the event stream. */
static bool check_events(ld *L)
{
    yaml_parser_t ps;
    if (!yaml_parser_initialize(&ps))
        return oom(L);
    yaml_parser_set_input_string(&ps, (const unsigned char *)L->text, L->len);
    int depth = 0, docs = 0;
    size_t count = 0;
    bool ok = true, done = false;
    while (ok && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&ps, &ev)) {
            ok = syntax_error(L, &ps);
            break;
        }
        done = ev.type == YAML_STREAM_END_EVENT;
        ok = check_event(L, &ev, &depth, &count, &docs);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&ps);
    return ok;
}

/* Both passes; on success L->doc holds the tree and *root its root. */
static bool load_yaml(ld *L, yaml_node_t **root)
{
    if (L->len > MF_MAX_FILE)
        return fail_at(L, MG_ELIMIT, 0, 0, "%s is %zu bytes; a %s may be at most %u bytes (8 MiB)",
                       L->file, L->len, what_of(L), MF_MAX_FILE);
    if (!check_events(L))
        return false;
    yaml_parser_t ps;
    if (!yaml_parser_initialize(&ps))
        return oom(L);
    yaml_parser_set_input_string(&ps, (const unsigned char *)L->text, L->len);
    bool ok = yaml_parser_load(&ps, &L->doc) != 0;
    if (!ok)
        syntax_error(L, &ps);
    yaml_parser_delete(&ps);
    if (!ok)
        return false;
    L->have_doc = true;
    *root = yaml_document_get_root_node(&L->doc);
    return *root || fail_at(L, MG_EMANIFEST, 1, 1, "the %s is empty", what_of(L));
}

static void ld_done(ld *L)
{
    if (L->have_doc)
        yaml_document_delete(&L->doc);
    L->have_doc = false;
}

/* ==========================================================================
 * Freeing
 * ========================================================================== */

static void strs_free(const mf_mem *mem, mf_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        mem_free(mem, s->v[i]);
    mem_free(mem, s->v);
    mem_free(mem, s->locs);
}

static void attrs_free(const mf_mem *mem, mf_attr *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mem_free(mem, a[i].key);
        mem_free(mem, a[i].str);
        strs_free(mem, &a[i].list);
    }
    mem_free(mem, a);
}

static void port_fini(const mf_mem *mem, mf_port *pt)
{
    mem_free(mem, pt->name);
    mem_free(mem, pt->visibility);
    strs_free(mem, &pt->tags);
    mem_free(mem, pt->subject_key);
    mem_free(mem, pt->from_product);
    mem_free(mem, pt->from_port);
    mem_free(mem, pt->table);
    for (size_t i = 0; i < pt->ncolumns; i++) {
        mem_free(mem, pt->columns[i].name);
        mem_free(mem, pt->columns[i].type);
        strs_free(mem, &pt->columns[i].tags);
    }
    mem_free(mem, pt->columns);
    attrs_free(mem, pt->attrs, pt->nattrs);
    attrs_free(mem, pt->slos, pt->nslos);
}

static void product_fini(const mf_mem *mem, mf_product *p)
{
    mem_free(mem, p->uri);
    mem_free(mem, p->name);
    mem_free(mem, p->domain);
    mem_free(mem, p->owner);
    mem_free(mem, p->lifecycle);
    mem_free(mem, p->kind);
    strs_free(mem, &p->allowed_regions);
    attrs_free(mem, p->attrs, p->nattrs);
    for (size_t i = 0; i < p->nadopts; i++)
        mem_free(mem, p->adopts[i].policy);
    mem_free(mem, p->adopts);
    strs_free(mem, &p->policies);
    strs_free(mem, &p->tests);
    mem_free(mem, p->database);
    for (size_t i = 0; i < p->nports; i++)
        port_fini(mem, &p->ports[i]);
    mem_free(mem, p->ports);
    mem_free(mem, p->dir);
    mem_free(mem, p->path);
}

void mf_product_free(mf_product *p)
{
    if (!p)
        return;
    mf_mem mem = p->mem;    /* p's own block goes last */
    product_fini(&mem, p);
    mem_free(&mem, p);
}

void mf_mesh_free(mf_mesh *m)
{
    if (!m)
        return;
    mf_mem mem = m->mem;
    mem_free(&mem, m->name);
    mem_free(&mem, m->dir);
    mem_free(&mem, m->path);
    mem_free(&mem, m->global_dir);
    for (size_t i = 0; i < m->nglobals; i++) {
        mem_free(&mem, m->globals[i].id);
        mem_free(&mem, m->globals[i].file);
    }
    mem_free(&mem, m->globals);
    for (size_t i = 0; i < m->nschema; i++)
        mem_free(&mem, m->schema[i].path);
    mem_free(&mem, m->schema);
    strs_free(&mem, &m->actions);
    mem_free(&mem, m->audit_dir);
    for (size_t i = 0; i < m->nproducts; i++)
        product_fini(&mem, &m->products[i]);
    mem_free(&mem, m->products);
    mem_free(&mem, m);
}

/* ==========================================================================
 * Parsing from memory
 * ========================================================================== */

/* Fills *p (zeroed) from text with memory from mem; the path and dir are
 * set first so that every location can point at p->path. */
static mg_status product_from_text(const mf_mem *mem, const char *name, const char *text, size_t len,
                                   mf_product *p, mg_error *err)
{
    ld L = { .mem = mem, .text = text, .len = len, .err = err };
    p->mem = *mem;
    p->path = dup_str(mem, name);
    p->dir = dir_of(mem, name);
    if (!p->path || !p->dir)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    L.file = p->path;
    yaml_node_t *root;
    if (load_yaml(&L, &root))
        parse_product(&L, root, p);
    ld_done(&L);
    return L.st;
}

mg_status mf_product_parse_in(const mf_mem *mem, const char *name, const char *text, size_t len,
                              mf_product **out, mg_error *err)
{
    if (!out)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "out is NULL");
    *out = NULL;
    if (!name || (!text && len))
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    mem = mem_of(mem);
    mf_product *p = mem_calloc(mem, 1, sizeof *p);
    if (!p)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    mg_status s = product_from_text(mem, name, text ? text : "", len, p, err);
    if (s != MG_OK) {
        mf_product_free(p);
        return s;
    }
    *out = p;
    return MG_OK;
}

mg_status mf_product_parse(const char *name, const char *text, size_t len, mf_product **out, mg_error *err)
{
    return mf_product_parse_in(NULL, name, text, len, out, err);
}

mg_status mf_mesh_parse_in(const mf_mem *mem, const char *name, const char *text, size_t len,
                           mf_mesh **out, mg_error *err)
{
    if (!out)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "out is NULL");
    *out = NULL;
    if (!name || (!text && len))
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    mem = mem_of(mem);
    mf_mesh *m = mem_calloc(mem, 1, sizeof *m);
    if (m)
        m->mem = *mem;
    if (!m || !(m->path = dup_str(mem, name)) || !(m->dir = dir_of(mem, name))) {
        mf_mesh_free(m);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    ld L = { .mem = mem, .file = m->path, .text = text ? text : "", .len = len, .err = err };
    yaml_node_t *root;
    if (load_yaml(&L, &root))
        parse_mesh(&L, root, m);
    ld_done(&L);
    if (L.st != MG_OK) {
        mf_mesh_free(m);
        return L.st;
    }
    *out = m;
    return MG_OK;
}

mg_status mf_mesh_parse(const char *name, const char *text, size_t len, mf_mesh **out, mg_error *err)
{
    return mf_mesh_parse_in(NULL, name, text, len, out, err);
}

/* ==========================================================================
 * Other YAML files read under the manifest rules
 * ========================================================================== */

mg_status mf_yaml_load(const char *file, const char *what, const char *text, size_t len,
                       yaml_document_t *doc, mg_error *err)
{
    ld L = { .mem = &malloc_mem, .file = file, .text = text, .len = len, .err = err, .what = what };
    yaml_node_t *root;
    if (!load_yaml(&L, &root)) {
        ld_done(&L);
        return L.st;
    }
    *doc = L.doc;      /* the caller's now */
    return MG_OK;
}

mg_status mf_yaml_fail(const char *file, const char *text, size_t len, mg_status code, int line, int col,
                       mg_error *err, const char *fmt, ...)
{
    ld L = { .mem = &malloc_mem, .file = file, .text = text, .len = len, .err = err };
    va_list ap;
    va_start(ap, fmt);
    vfail(&L, code, line, col, fmt, ap);
    va_end(ap);
    return code;
}

/* ==========================================================================
 * Loading a mesh directory
 * ========================================================================== */

/* Reads a whole manifest file into a buffer from mem; MG_EIO names the
 * file, MG_ELIMIT when it is larger than MF_MAX_FILE. */
static mg_status read_text(const mf_mem *mem, const char *path, char **text, size_t *len, mg_error *err)
{
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mg_error_set(err, MG_EIO, path, 0, 0, "cannot read %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return mg_error_set(err, MG_EIO, path, 0, 0, "cannot read %s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > MF_MAX_FILE) {
        fclose(f);
        return mg_error_set(err, MG_ELIMIT, path, 0, 0,
                            "%s is %lld bytes; a manifest may be at most %u bytes (8 MiB)", path,
                            (long long)st.st_size, MF_MAX_FILE);
    }
    char *buf = mem_alloc(mem, (size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    bool bad = ferror(f) != 0;
    fclose(f);
    if (!buf)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    if (bad) {
        mem_free(mem, buf);
        return mg_error_set(err, MG_EIO, path, 0, 0, "cannot read %s: read error", path);
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return MG_OK;
}

mg_status mf_read_text(const mf_mem *mem, const char *path, char **text, size_t *len, mg_error *err)
{
    return read_text(mem_of(mem), path, text, len, err);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of dir that are directories, sorted bytewise (so a mesh loads
 * the same way everywhere); none when dir does not exist. */
static mg_status list_dirs(const mf_mem *mem, const char *dir, mf_strs *out, mg_error *err)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? MG_OK
                               : mg_error_set(err, MG_EIO, dir, 0, 0, "cannot read %s: %s", dir, strerror(errno));
    size_t cap = 0;
    mg_status s = MG_OK;
    struct dirent *e;
    while (s == MG_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *full = path_join(mem, dir, e->d_name);
        if (!full) {            /* not a reason to skip the entry */
            s = MG_ENOMEM;
            break;
        }
        struct stat st;
        bool is_dir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
        mem_free(mem, full);
        if (!is_dir)
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            char **v = mem_realloc(mem, out->v, cap * sizeof *v);
            if (!v) {
                s = MG_ENOMEM;
                break;
            }
            out->v = v;
        }
        if (!(out->v[out->n] = dup_str(mem, e->d_name)))
            s = MG_ENOMEM;
        else
            out->n++;
    }
    closedir(d);
    if (s != MG_OK) {
        strs_free(mem, out);
        memset(out, 0, sizeof *out);
        return mg_error_set(err, s, NULL, 0, 0, "out of memory");
    }
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, cmp_names);
    return MG_OK;
}

/* Reads and parses one product file into the next slot of m->products. */
static mg_status load_product(mf_mesh *m, const char *path, mg_error *err)
{
    const mf_mem *mem = &m->mem;
    char *text;
    size_t len;
    mg_status s = read_text(mem, path, &text, &len, err);
    if (s != MG_OK)
        return s;
    mf_product *arr = mem_realloc(mem, m->products, (m->nproducts + 1) * sizeof *arr);
    if (!arr) {
        mem_free(mem, text);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    m->products = arr;
    mf_product *p = &arr[m->nproducts++];
    memset(p, 0, sizeof *p);
    s = product_from_text(mem, path, text, len, p, err);
    mem_free(mem, text);
    return s;
}

/* Every domains/<d>/<p>/product.yaml, in sorted order. */
static mg_status load_products(mf_mesh *m, mg_error *err)
{
    const mf_mem *mem = &m->mem;
    char *droot = path_join(mem, m->dir, "domains");
    if (!droot)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    mf_strs doms;
    mg_status s = list_dirs(mem, droot, &doms, err);
    for (size_t i = 0; s == MG_OK && i < doms.n; i++) {
        char *ddir = path_join(mem, droot, doms.v[i]);
        mf_strs prods = { 0 };
        s = ddir ? list_dirs(mem, ddir, &prods, err) : mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
        for (size_t j = 0; s == MG_OK && j < prods.n; j++) {
            char *pdir = path_join(mem, ddir, prods.v[j]);
            char *path = pdir ? path_join(mem, pdir, "product.yaml") : NULL;
            struct stat st;
            if (!path)
                s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
            else if (stat(path, &st) == 0 || errno != ENOENT)
                s = load_product(m, path, err);
            mem_free(mem, pdir);
            mem_free(mem, path);
        }
        strs_free(mem, &prods);
        mem_free(mem, ddir);
    }
    strs_free(mem, &doms);
    mem_free(mem, droot);
    return s;
}

/* ==========================================================================
 * Cross-file checks
 * ========================================================================== */

static mg_status fail_loc(mg_error *err, mf_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static mg_status fail_loc(mg_error *err, mf_loc loc, const char *fmt, ...)
{
    if (!err)
        return MG_EMANIFEST;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return mg_error_set(err, MG_EMANIFEST, loc.file, loc.line, loc.col, "%s", msg);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static mg_status check_globals(const mf_mesh *m, mg_error *err)
{
    for (size_t i = 0; i < m->nglobals; i++)
        if (!is_file(m->globals[i].file))
            return fail_loc(err, m->globals[i].file_loc, "policy file `%s` of global policy `%s` not found",
                            m->globals[i].file, m->globals[i].id);
    return MG_OK;
}

/* The product lives where its URI says: domains/<domain>/<name>/. */
static mg_status check_place(const mf_mesh *m, const mf_product *p, mg_error *err)
{
    for (const mf_product *q = m->products; q < p; q++)
        if (!strcmp(q->uri, p->uri))
            return fail_loc(err, p->uri_loc, "product `%s` is declared twice (also in %s)", p->uri, q->path);
    char want[1024];
    snprintf(want, sizeof want, "domains/%s/%s", p->domain, p->name);
    size_t wl = strlen(want), dl = strlen(p->dir);
    if (dl < wl || strcmp(p->dir + dl - wl, want) != 0 || (dl > wl && p->dir[dl - wl - 1] != '/'))
        return fail_loc(err, p->uri_loc, "product `%s` must be in %s/, not in %s/", p->uri, want, p->dir);
    return MG_OK;
}

static mg_status check_adopts(const mf_mesh *m, const mf_product *p, mg_error *err)
{
    for (size_t i = 0; i < p->nadopts; i++) {
        const mf_adopt *a = &p->adopts[i];
        const mf_global *g = mf_mesh_global(m, a->policy);
        if (!g) {
            const char *ids[64];
            size_t n = 0;
            for (size_t k = 0; k < m->nglobals && n < 64; k++)
                ids[n++] = m->globals[k].id;
            char h[96];
            return fail_loc(err, a->loc, "adopted policy `%s` is not in the mesh's catalogue%s", a->policy,
                            hint(h, sizeof h, a->policy, ids, n));
        }
        if (a->version > g->version)
            return fail_loc(err, a->loc, "adopts version %lld of `%s`, but the latest is %lld",
                            (long long)a->version, a->policy, (long long)g->version);
    }
    return MG_OK;
}

static mg_status check_files(const mf_strs *s, const char *what, mg_error *err)
{
    for (size_t i = 0; i < s->n; i++)
        if (!is_file(s->v[i]))
            return fail_loc(err, s->locs[i], "%s `%s` not found", what, s->v[i]);
    return MG_OK;
}

/* Each input port reads an output port of a product of the mesh. */
static mg_status check_inputs(const mf_mesh *m, const mf_product *p, mg_error *err)
{
    for (size_t i = 0; i < p->nports; i++) {
        const mf_port *pt = &p->ports[i];
        if (!pt->is_input)
            continue;
        const mf_product *up = mf_mesh_product(m, pt->from_product);
        if (!up)
            return fail_loc(err, pt->from_loc, "input port `%s` reads from `%s`, which is not a product of the mesh",
                            pt->name, pt->from_product);
        const mf_port *op = mf_product_port(up, pt->from_port);
        if (!op || op->is_input)
            return fail_loc(err, pt->from_loc, "input port `%s` reads from `%s`, which has no output port `%s`",
                            pt->name, pt->from_product, pt->from_port);
    }
    return MG_OK;
}

static mg_status check_mesh(const mf_mesh *m, mg_error *err)
{
    mg_status s = MG_OK;
    for (size_t i = 0; s == MG_OK && i < m->nproducts; i++) {
        const mf_product *p = &m->products[i];
        if ((s = check_place(m, p, err)) == MG_OK && (s = check_adopts(m, p, err)) == MG_OK &&
            (s = check_files(&p->policies, "local policy file", err)) == MG_OK &&
            (s = check_files(&p->tests, "policy test file", err)) == MG_OK)
            s = check_inputs(m, p, err);
    }
    return s;
}

mg_status mf_mesh_load_in(const mf_mem *mem, const char *mesh_dir, mf_mesh **out, mg_error *err)
{
    if (!out)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "out is NULL");
    *out = NULL;
    if (!mesh_dir)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    mem = mem_of(mem);
    char *path = path_join(mem, mesh_dir, "mesh.yaml"), *text = NULL;
    size_t len = 0;
    if (!path)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    mf_mesh *m = NULL;
    mg_status s = read_text(mem, path, &text, &len, err);
    if (s == MG_OK)
        s = mf_mesh_parse_in(mem, path, text, len, &m, err);
    mem_free(mem, text);
    mem_free(mem, path);
    if (s == MG_OK && (s = check_globals(m, err)) == MG_OK && (s = load_products(m, err)) == MG_OK)
        s = check_mesh(m, err);
    if (s != MG_OK) {
        mf_mesh_free(m);
        return s;
    }
    *out = m;
    return MG_OK;
}

mg_status mf_mesh_load(const char *mesh_dir, mf_mesh **out, mg_error *err)
{
    return mf_mesh_load_in(NULL, mesh_dir, out, err);
}

/* ==========================================================================
 * Lookups
 * ========================================================================== */

const mf_product *mf_mesh_product(const mf_mesh *m, const char *uri)
{
    for (size_t i = 0; m && uri && i < m->nproducts; i++)
        if (!strcmp(m->products[i].uri, uri))
            return &m->products[i];
    return NULL;
}

const mf_port *mf_product_port(const mf_product *p, const char *name)
{
    for (size_t i = 0; p && name && i < p->nports; i++)
        if (!strcmp(p->ports[i].name, name))
            return &p->ports[i];
    return NULL;
}

const mf_global *mf_mesh_global(const mf_mesh *m, const char *id)
{
    for (size_t i = 0; m && id && i < m->nglobals; i++)
        if (!strcmp(m->globals[i].id, id))
            return &m->globals[i];
    return NULL;
}
