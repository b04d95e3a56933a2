/*
 * check.c — the type checker: gives every expression its static type
 * (ast_expr.type), resolves builtin calls to their index in sl_builtins,
 * checks attribute paths against the manifest's fixed attributes and the
 * mesh schema, compiles `matches` patterns once to report bad regexes, and
 * checks the action names of permit/forbid rules.
 *
 * SL_ANY is the type of whatever is only known at run time (subject and
 * context attributes without a schema, free manifest `attributes.*`); it is
 * compatible with every type. An expression that has an error also gets
 * SL_ANY, so one mistake is reported once, not again by every enclosing
 * operator. The tree is at most POLICY_MAX_DEPTH deep (the parser
 * guarantees it), so recursion here is bounded.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "policy/internal.h"
#include "stdlib/stdlib.h"

typedef struct checker {
    arena *a;
    diag_list *d;
    const ast_file *f;
    const check_env *env;
    const ast_rule *rule;
    bool ok;
} checker;

static sl_type type_of(sl_kind k)
{
    return (sl_type){ (uint8_t)k, SL_ANY };
}

static sl_type set_of(sl_kind elem)
{
    return (sl_type){ SL_SET, (uint8_t)elem };
}

static const sl_type ANY = { SL_ANY, SL_ANY };

static void error(checker *c, ast_span sp, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void error(checker *c, ast_span sp, const char *hint, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_add(c->d, DIAG_ERROR, c->f->name, c->f->src, c->f->src_len, sp, hint, "%s", msg);
    c->ok = false;
}

/* "string", "set<string>" — in a small rotating buffer, so a message can
 * name two types. */
typedef struct tname {
    char s[32];
} tname;

static tname tn(sl_type t)
{
    tname n;
    sl_type_format(t, n.s, sizeof n.s);
    return n;
}

/* Types one value can have at run time: ANY matches anything, and sets
 * match when their element types do. */
static bool compatible(sl_type a, sl_type b)
{
    if (a.kind == SL_ANY || b.kind == SL_ANY)
        return true;
    if (a.kind != b.kind)
        return false;
    if (a.kind != SL_SET)
        return true;
    return a.elem == SL_ANY || b.elem == SL_ANY || a.elem == b.elem;
}

/* ==========================================================================
 * Paths
 * ========================================================================== */

typedef struct attr_def {
    const char *name;
    uint8_t kind, elem;
} attr_def;

#define STR_K SL_STRING, SL_ANY
#define BOOL_K SL_BOOL, SL_ANY
/* The attributes the engine reads from a manifest, per root; free ones are
 * under `attributes.`. */
static const attr_def product_attrs[] = {
    { "tags", SL_SET, SL_STRING }, { "domain", STR_K }, { "lifecycle", STR_K },
    { "name", STR_K }, { "uri", STR_K }, { "owner", STR_K }, { "kind", STR_K },
    { "legal_hold", BOOL_K }, { "allowed_regions", SL_SET, SL_STRING },
    { "attributes", SL_RECORD, SL_ANY }, { NULL, 0, 0 },
};
static const attr_def port_attrs[] = {
    { "tags", SL_SET, SL_STRING }, { "domain", STR_K }, { "name", STR_K },
    { "visibility", STR_K }, { "subject_key", STR_K },
    { "encrypted_at_rest", BOOL_K }, { "encrypted_in_transit", BOOL_K },
    { "attributes", SL_RECORD, SL_ANY }, { NULL, 0, 0 },
};
static const attr_def column_attrs[] = {
    { "tags", SL_SET, SL_STRING }, { "domain", STR_K }, { "name", STR_K },
    { "type", STR_K }, { "encrypted", BOOL_K },
    { "attributes", SL_RECORD, SL_ANY }, { NULL, 0, 0 },
};

static const attr_def *manifest_attrs(ast_root r)
{
    return r == AST_ROOT_PRODUCT ? product_attrs : r == AST_ROOT_PORT ? port_attrs : column_attrs;
}

/* product.tags, port.attributes.x, column.encrypted */
static sl_type manifest_path(checker *c, const ast_expr *e)
{
    const attr_def *defs = manifest_attrs(e->u.path.root);
    const ast_str *seg = &e->u.path.segs[0];
    const char *root = ast_root_name(e->u.path.root);
    for (const attr_def *d = defs; d->name; d++) {
        if (strlen(d->name) != seg->len || memcmp(d->name, seg->ptr, seg->len) != 0)
            continue;
        if (d->kind == SL_RECORD)          /* attributes: free map */
            return e->u.path.nsegs > 1 ? ANY : type_of(SL_RECORD);
        if (e->u.path.nsegs > 1) {
            error(c, e->span, NULL, "`%s.%s` is %s, not a record: it has no attribute `%.*s`",
                  root, d->name, tn((sl_type){ d->kind, d->elem }).s,
                  (int)e->u.path.segs[1].len, e->u.path.segs[1].ptr);
            return ANY;
        }
        return (sl_type){ d->kind, d->elem };
    }
    const char *names[16];
    size_t n = 0;
    for (const attr_def *d = defs; d->name && n < 16; d++)
        names[n++] = d->name;
    const char *s = check_suggest(seg->ptr, seg->len, names, n);
    char hint[256];
    if (s) {
        snprintf(hint, sizeof hint, "did you mean `%s.%s`?", root, s);
    } else {
        int k = snprintf(hint, sizeof hint, "`%s` has", root);
        for (size_t i = 0; i + 1 < n; i++)
            k += snprintf(hint + k, sizeof hint - (size_t)k, "%s %s", i ? "," : "", names[i]);
        snprintf(hint + k, sizeof hint - (size_t)k, "; free attributes are under `%s.attributes`", root);
    }
    error(c, e->span, hint, "unknown attribute `%s.%.*s`", root, (int)seg->len, seg->ptr);
    return ANY;
}

/* subject.* and context.* against the mesh schema: a declared path has its
 * declared type, a prefix of one is a record, anything else is an error. */
static sl_type schema_path(checker *c, const ast_expr *e)
{
    const ast_str *t = &e->u.path.text;
    const check_env *env = c->env;
    const char *best = NULL;
    size_t best_d = 3;
    size_t rl = strlen(ast_root_name(e->u.path.root));
    bool record = false;
    for (size_t i = 0; i < env->nattrs; i++) {
        const char *p = env->attrs[i].path;
        size_t pl = p ? strlen(p) : 0;
        if (!p)
            continue;
        if (pl == t->len && memcmp(p, t->ptr, pl) == 0)
            return env->attrs[i].type;
        if (pl > t->len && memcmp(p, t->ptr, t->len) == 0 && p[t->len] == '.')
            record = true;
        if (pl > rl && memcmp(p, t->ptr, rl + 1) == 0) {   /* same root */
            size_t d = check_distance(t->ptr + rl + 1, t->len - rl - 1, p + rl + 1, pl - rl - 1, 2);
            if (d < best_d && d < t->len - rl - 1) {
                best_d = d;
                best = p;
            }
        }
    }
    if (record)
        return type_of(SL_RECORD);
    char hint[160];
    if (best)
        snprintf(hint, sizeof hint, "did you mean `%s`?", best);
    else
        snprintf(hint, sizeof hint, "declare it in the schema of mesh.yaml");
    error(c, e->span, hint, "unknown attribute `%.*s`", (int)t->len, t->ptr);
    return ANY;
}

static sl_type check_path(checker *c, const ast_expr *e)
{
    ast_root r = e->u.path.root;
    if (r == AST_ROOT_COLUMN && c->rule && c->rule->target != AST_ON_COLUMN) {
        error(c, e->span, "write the rule `on column`", "`column` is not available in a rule on %s",
              c->rule->target == AST_ON_PRODUCT ? "product" : "port");
        return ANY;
    }
    if (r == AST_ROOT_ACTION)
        return type_of(SL_STRING);
    if (r == AST_ROOT_NOW)
        return type_of(SL_TIMESTAMP);
    if (e->u.path.nsegs == 0)
        return type_of(SL_RECORD);
    if (r == AST_ROOT_SUBJECT || r == AST_ROOT_CONTEXT)
        return c->env && c->env->has_schema ? schema_path(c, e) : ANY;
    return manifest_path(c, e);
}

/* ==========================================================================
 * Expressions
 * ========================================================================== */

static sl_type check_expr(checker *c, ast_expr *e);

/* An operand must be a value: a record (`subject`, `product.attributes`)
 * is only a place where values live. */
static sl_type operand(checker *c, ast_expr *e)
{
    sl_type t = check_expr(c, e);
    if (t.kind != SL_RECORD)
        return t;
    error(c, e->span, "use one of its attributes",
          "`%.*s` is a record, not a value", (int)e->span.len, c->f->src + e->span.off);
    return e->type = ANY;
}

static bool is_kind(sl_type t, sl_kind k)
{
    return t.kind == k || t.kind == SL_ANY;
}

static bool orderable(sl_type t)
{
    return t.kind == SL_INT || t.kind == SL_DURATION || t.kind == SL_TIMESTAMP || t.kind == SL_ANY;
}

static sl_type check_set(checker *c, ast_expr *e)
{
    sl_type elem = ANY;
    const ast_expr *first = NULL;
    for (uint32_t i = 0; i < e->u.set.n; i++) {
        ast_expr *x = e->u.set.items[i];
        sl_type t = operand(c, x);
        if (t.kind == SL_SET) {
            error(c, x->span, NULL, "a set cannot hold a set");
            continue;
        }
        if (t.kind == SL_ANY)
            continue;
        if (!first) {
            first = x;
            elem = t;
        } else if (t.kind != elem.kind) {
            char hint[96];
            snprintf(hint, sizeof hint, "the first element, at %u:%u, is %s",
                     (unsigned)first->span.line, (unsigned)first->span.col, tn(elem).s);
            error(c, x->span, hint, "set elements must share one type: this one is %s", tn(t).s);
        }
    }
    return set_of((sl_kind)elem.kind);
}

/* The byte offset in the source of byte `off` of a string literal's value,
 * walking its escapes; the literal itself if the mapping is not possible. */
static uint32_t literal_offset(const checker *c, const ast_expr *lit, size_t off)
{
    const char *s = c->f->src + lit->span.off;
    uint32_t n = lit->span.len;
    if (n < 2 || s[0] != '"')
        return lit->span.off;
    size_t out = 0;
    for (uint32_t i = 1; i + 1 < n; i++) {
        uint32_t start = i;
        size_t bytes = 1;
        if (s[i] == '\\') {
            if (s[i + 1] == 'u') {
                uint32_t v = 0;
                for (i += 3; i + 1 < n && s[i] != '}'; i++)
                    v = v * 16 + (uint32_t)(s[i] <= '9' ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10);
                bytes = v < 0x80 ? 1 : v < 0x800 ? 2 : v < 0x10000 ? 3 : 4;
            } else {
                i++;
            }
        }
        if (out + bytes > off)
            return lit->span.off + start;
        out += bytes;
    }
    return lit->span.off + n - 1;
}

/* Compiles the pattern now so a bad regex is reported where it is written
 * (the engine compiles it again into the program). */
static void check_regex(checker *c, const ast_expr *pat)
{
    char why[256];
    size_t off = 0;
    void *ud;
    sl_alloc_fn alloc = arena_allocator(c->a, &ud);
    sl_regex *re = sl_regex_compile(pat->u.str.ptr, pat->u.str.len, alloc, ud, why, sizeof why, &off);
    if (re) {
        sl_regex_free(re);
        return;
    }
    if (strcmp(why, "out of memory") == 0) {
        arena_mark_failed(c->a);
        c->ok = false;
        return;
    }
    char *at = strstr(why, " at offset ");
    if (at)
        *at = 0;
    uint32_t o = literal_offset(c, pat, off);
    ast_span sp = { pat->span.line, pat->span.col + (o - pat->span.off), o, 1 };
    error(c, sp, "the pattern is a PCRE2 regular expression", "invalid regex: %s", why);
}

static sl_type check_membership(checker *c, ast_expr *e, ast_op op, sl_type x, sl_type s)
{
    if (s.kind == SL_STRING) {
        error(c, e->span, op == AST_OP_HAS ? "use contains(s, sub) to search a string" : "use contains(s, sub) to search a string",
              "`%s` needs a set, found string", ast_op_name(op));
        return ANY;
    }
    if (!is_kind(s, SL_SET)) {
        error(c, e->span, NULL, "`%s` needs a set, found %s", ast_op_name(op), tn(s).s);
        return ANY;
    }
    if (x.kind == SL_SET) {
        error(c, e->span, "to compare sets use subset(a, b) or intersects(a, b)",
              "`%s` tests one value, found %s", ast_op_name(op), tn(x).s);
        return ANY;
    }
    if (s.kind == SL_SET && !compatible(x, (sl_type){ s.elem, SL_ANY })) {
        error(c, e->span, NULL, "`%s`: %s cannot hold %s", ast_op_name(op), tn(s).s, tn(x).s);
        return ANY;
    }
    return type_of(SL_BOOL);
}

/* + and -: int±int, duration±duration, timestamp±duration,
 * timestamp-timestamp (a duration). */
static sl_type check_arith(checker *c, ast_expr *e, sl_type a, sl_type b)
{
    ast_op op = e->u.op.op;
    if (!orderable(a) || !orderable(b)) {
        error(c, e->span, NULL, "`%s` needs int, duration or timestamp operands, found %s and %s",
              ast_op_name(op), tn(a).s, tn(b).s);
        return ANY;
    }
    if (a.kind == SL_ANY || b.kind == SL_ANY)
        return ANY;
    if (a.kind == b.kind && (a.kind == SL_INT || a.kind == SL_DURATION))
        return a;
    if (a.kind == SL_TIMESTAMP && b.kind == SL_DURATION)
        return a;
    if (op == AST_OP_SUB && a.kind == SL_TIMESTAMP && b.kind == SL_TIMESTAMP)
        return type_of(SL_DURATION);
    const char *hint = NULL;
    if (op == AST_OP_ADD && a.kind == SL_DURATION && b.kind == SL_TIMESTAMP)
        hint = "write the timestamp first: t + d";
    else if (a.kind == SL_TIMESTAMP && b.kind == SL_TIMESTAMP)
        hint = "subtract two timestamps to get a duration";
    else if (a.kind == SL_INT || b.kind == SL_INT)
        hint = "days(n) and hours(n) turn a number into a duration";
    error(c, e->span, hint, "`%s` cannot combine %s and %s", ast_op_name(op), tn(a).s, tn(b).s);
    return ANY;
}

static sl_type check_binary(checker *c, ast_expr *e)
{
    ast_op op = e->u.op.op;
    sl_type a = operand(c, e->u.op.lhs);
    sl_type b = op == AST_OP_MATCHES ? type_of(SL_STRING) : operand(c, e->u.op.rhs);
    sl_type bool_t = type_of(SL_BOOL);
    switch (op) {
    case AST_OP_AND:
    case AST_OP_OR:
        if (!is_kind(a, SL_BOOL) || !is_kind(b, SL_BOOL)) {
            ast_expr *bad = is_kind(a, SL_BOOL) ? e->u.op.rhs : e->u.op.lhs;
            error(c, bad->span, NULL, "`%s` needs bool operands, found %s", ast_op_name(op),
                  tn(is_kind(a, SL_BOOL) ? b : a).s);
        }
        return bool_t;
    case AST_OP_EQ:
    case AST_OP_NE:
        if (!compatible(a, b)) {
            error(c, e->span, NULL, "`%s` needs operands of the same type, found %s and %s",
                  ast_op_name(op), tn(a).s, tn(b).s);
        }
        return bool_t;
    case AST_OP_LT: case AST_OP_LE: case AST_OP_GT: case AST_OP_GE:
        if (!orderable(a) || !orderable(b) || !compatible(a, b))
            error(c, e->span, NULL, "`%s` compares two ints, durations or timestamps, found %s and %s",
                  ast_op_name(op), tn(a).s, tn(b).s);
        return bool_t;
    case AST_OP_IN:
        return check_membership(c, e, op, a, b);
    case AST_OP_HAS:
        return check_membership(c, e, op, b, a);
    case AST_OP_LIKE:
        if (!is_kind(a, SL_STRING) || !is_kind(b, SL_STRING))
            error(c, e->span, NULL, "`like` needs a string and a string pattern, found %s and %s",
                  tn(a).s, tn(b).s);
        return bool_t;
    case AST_OP_MATCHES:
        if (!is_kind(a, SL_STRING))
            error(c, e->u.op.lhs->span, NULL, "`matches` needs a string on the left, found %s", tn(a).s);
        if (e->u.op.rhs->kind != AST_STRING) {
            check_expr(c, e->u.op.rhs);
            error(c, e->u.op.rhs->span, "patterns are compiled once, when the policy is loaded",
                  "the pattern of `matches` must be a string literal");
        } else {
            e->u.op.rhs->type = type_of(SL_STRING);
            check_regex(c, e->u.op.rhs);
        }
        return bool_t;
    default:
        return check_arith(c, e, a, b);
    }
}

static sl_type check_unary(checker *c, ast_expr *e)
{
    sl_type t = operand(c, e->u.op.lhs);
    if (e->u.op.op == AST_OP_NOT) {
        if (!is_kind(t, SL_BOOL))
            error(c, e->u.op.lhs->span, NULL, "`not` needs a bool, found %s", tn(t).s);
        return type_of(SL_BOOL);
    }
    if (!is_kind(t, SL_INT) && !is_kind(t, SL_DURATION)) {
        error(c, e->span, NULL, "`-` needs an int or a duration, found %s", tn(t).s);
        return ANY;
    }
    return t;
}

/* "string", "string or set" from a mask of SL_KIND_BIT()s. */
static void kinds_text(uint32_t mask, char *buf, size_t cap)
{
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < SL_KIND_COUNT; i++)
        if (mask & SL_KIND_BIT(i))
            k += (size_t)snprintf(buf + k, cap > k ? cap - k : 0, "%s%s", k ? " or " : "",
                                  sl_kind_name((sl_kind)i));
}

/* present(path): the one special form; its argument is not evaluated. */
static sl_type check_present(checker *c, ast_expr *e)
{
    e->u.call.builtin = -1;
    if (e->u.call.nargs != 1 || e->u.call.args[0]->kind != AST_PATH) {
        error(c, e->span, "e.g. present(subject.email)", "`present` takes one attribute path");
        return type_of(SL_BOOL);
    }
    check_expr(c, e->u.call.args[0]);
    return type_of(SL_BOOL);
}

static sl_type check_call(checker *c, ast_expr *e)
{
    const ast_str *nm = &e->u.call.name;
    if (nm->len == 7 && memcmp(nm->ptr, "present", 7) == 0)
        return check_present(c, e);
    int k = sl_builtin_find(nm->ptr, nm->len);
    e->u.call.builtin = k;
    if (k < 0) {
        for (uint32_t i = 0; i < e->u.call.nargs; i++)
            check_expr(c, e->u.call.args[i]);
        const char *s = sl_builtin_suggest(nm->ptr, nm->len);
        char hint[64];
        if (s)
            snprintf(hint, sizeof hint, "did you mean `%s`?", s);
        ast_span sp = { e->span.line, e->span.col, e->span.off, nm->len };
        error(c, sp, s ? hint : "see docs/stdlib.md for the functions", "unknown function `%.*s`",
              (int)nm->len, nm->ptr);
        return ANY;
    }
    const sl_builtin *b = &sl_builtins[k];
    sl_type first = ANY;
    bool ok = true;
    for (uint32_t i = 0; i < e->u.call.nargs; i++) {
        sl_type t = operand(c, e->u.call.args[i]);
        if (i == 0)
            first = t;
        if (i < SL_MAX_ARGS && i < b->max_args && t.kind != SL_ANY &&
            !(b->params[i] & SL_KIND_BIT(t.kind))) {
            char want[64];
            kinds_text(b->params[i], want, sizeof want);
            error(c, e->u.call.args[i]->span, b->doc, "argument %u of `%s` must be %s, found %s",
                  i + 1, b->name, want, tn(t).s);
            ok = false;
        }
    }
    if (e->u.call.nargs < b->min_args || e->u.call.nargs > b->max_args) {
        char want[48];
        if (b->min_args == b->max_args)
            snprintf(want, sizeof want, "%u argument%s", b->min_args, b->min_args == 1 ? "" : "s");
        else
            snprintf(want, sizeof want, "%u to %u arguments", b->min_args, b->max_args);
        error(c, e->span, b->doc, "`%s` takes %s, found %u", b->name, want, e->u.call.nargs);
        ok = false;
    }
    if (!ok)
        return ANY;
    if (b->result.kind == SL_ANY)
        return first;
    sl_type r = b->result;
    if (r.kind == SL_SET && r.elem == SL_MISSING)
        r.elem = SL_ANY;
    return r;
}

static sl_type check_expr(checker *c, ast_expr *e)
{
    sl_type t = ANY;
    switch (e->kind) {
    case AST_BOOL: t = type_of(SL_BOOL); break;
    case AST_INT: t = type_of(SL_INT); break;
    case AST_STRING: t = type_of(SL_STRING); break;
    case AST_DURATION: t = type_of(SL_DURATION); break;
    case AST_TIMESTAMP: t = type_of(SL_TIMESTAMP); break;
    case AST_SET: t = check_set(c, e); break;
    case AST_PATH: t = check_path(c, e); break;
    case AST_UNARY: t = check_unary(c, e); break;
    case AST_BINARY: t = check_binary(c, e); break;
    case AST_CALL: t = check_call(c, e); break;
    }
    e->type = t;
    return t;
}

/* ==========================================================================
 * Rules
 * ========================================================================== */

static void check_condition(checker *c, ast_expr *e, const char *word)
{
    if (!e)
        return;
    sl_type t = operand(c, e);
    if (!is_kind(t, SL_BOOL))
        error(c, e->span, NULL, "`%s` needs a bool condition, found %s", word, tn(t).s);
}

static void check_actions(checker *c, const ast_rule *r)
{
    static const char *const builtin[] = { "read", "write", "delete" };
    const check_env *env = c->env;
    for (uint32_t i = 0; i < r->nactions; i++) {
        const ast_str *a = &r->actions[i];
        bool known = false;
        for (size_t k = 0; k < 3 && !known; k++)
            known = strlen(builtin[k]) == a->len && memcmp(builtin[k], a->ptr, a->len) == 0;
        for (size_t k = 0; env && k < env->nactions && !known; k++)
            known = env->actions[k] && strlen(env->actions[k]) == a->len &&
                    memcmp(env->actions[k], a->ptr, a->len) == 0;
        if (known)
            continue;
        const char *s = check_suggest(a->ptr, a->len, builtin, 3);
        for (size_t k = 0; !s && env && k < env->nactions; k++)
            s = check_suggest(a->ptr, a->len, &env->actions[k], 1);
        char hint[96];
        if (s)
            snprintf(hint, sizeof hint, "did you mean `%s`?", s);
        else
            snprintf(hint, sizeof hint, "declare it under `actions:` in mesh.yaml");
        error(c, r->action_spans[i], hint, "unknown action `%.*s`", (int)a->len, a->ptr);
    }
}

bool check_file(arena *a, ast_file *file, const check_env *env, diag_list *diags)
{
    if (!file)
        return false;
    checker c = { .a = a, .d = diags, .f = file, .env = env, .ok = true };
    for (uint32_t i = 0; i < file->npolicies; i++) {
        ast_policy *p = &file->policies[i];
        for (uint32_t k = 0; k < p->nrules; k++) {
            ast_rule *r = &p->rules[k];
            c.rule = r;
            if (r->kind == AST_PERMIT || r->kind == AST_FORBID)
                check_actions(&c, r);
            check_condition(&c, r->when, "when");
            check_condition(&c, r->unless, "unless");
        }
    }
    return c.ok && !arena_failed(a);
}
