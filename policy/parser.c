/*
 * parser.c — policy source to AST. Statements (policies, headers, rules)
 * are parsed by recursive descent; expressions by a Pratt parser driven by
 * one table of prefix/infix functions and precedences (parse_rules below).
 *
 * Errors never stop the parse: after one, the parser is in panic mode
 * (further syntax errors are not reported) until it reaches the start of
 * the next rule, a `}` or the next `policy`, so one run reports several
 * independent errors. Lexical errors are reported as their tokens are read.
 * Expression nesting is bounded by POLICY_MAX_DEPTH, so no input can
 * exhaust the stack here or in the passes that walk the tree.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "policy/internal.h"
#include "policy/lexer.h"

typedef struct parser {
    arena *a;
    diag_list *d;
    lexer lx;
    lex_token cur, prev;
    const char *file;
    const char *src;
    uint32_t src_len;
    uint32_t depth;          /* expression nesting, see parse_precedence */
    bool panic;
} parser;

/* ==========================================================================
 * Errors
 * ========================================================================== */

static ast_span tok_span(const lex_token *t)
{
    return (ast_span){ t->line, t->col, t->off, t->len };
}

static void error_at(parser *p, ast_span sp, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void error_at(parser *p, ast_span sp, const char *hint, const char *fmt, ...)
{
    if (p->panic)
        return;
    p->panic = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    diag_add(p->d, DIAG_ERROR, p->file, p->src, p->src_len, sp, hint, "%s", msg);
}

/* At most max bytes of s, cut at a character boundary. */
static int clip(const char *s, uint32_t len, uint32_t max)
{
    if (len <= max)
        return (int)len;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return (int)max;
}

/* How the current token reads in "found X": a quoted excerpt or a name. */
static const char *found(const lex_token *t, char *buf, size_t cap)
{
    if (t->kind == TOK_EOF)
        return "end of file";
    int n = clip(t->start, t->len, 37);
    snprintf(buf, cap, "`%.*s%s`", n, t->start, (uint32_t)n < t->len ? "..." : "");
    return buf;
}

/* "expected WHAT, found X" at the current token. */
static void expected(parser *p, const char *what, const char *hint)
{
    char buf[64];
    error_at(p, tok_span(&p->cur), hint, "expected %s, found %s", what,
             found(&p->cur, buf, sizeof buf));
}

/* Lexical errors are not cascades, so they are reported even in panic
 * mode (still one per token). */
static void lex_error(parser *p, const lex_token *t)
{
    char msg[512];
    snprintf(msg, sizeof msg, t->err, clip(t->start + t->err_off, t->err_len, 60),
             t->start + t->err_off);
    ast_span sp = { t->line, t->col + t->err_off, t->off + t->err_off, t->err_len };
    diag_add(p->d, DIAG_ERROR, p->file, p->src, p->src_len, sp, t->hint, "%s", msg);
}

/* ==========================================================================
 * Tokens
 * ========================================================================== */

/* Moves to the next token; invalid characters are reported and skipped. */
static void advance(parser *p)
{
    p->prev = p->cur;
    for (;;) {
        p->cur = lex_next(&p->lx);
        if (p->cur.err && p->cur.kind != TOK_INT)
            lex_error(p, &p->cur);
        if (p->cur.kind != TOK_ERROR)
            break;
    }
}

static bool check(const parser *p, lex_kind k)
{
    return p->cur.kind == k;
}

static bool match(parser *p, lex_kind k)
{
    if (!check(p, k))
        return false;
    advance(p);
    return true;
}

static bool is_word(const parser *p, const char *w)
{
    return lex_is_word(p->cur.kind) && strlen(w) == p->cur.len &&
           memcmp(p->cur.start, w, p->cur.len) == 0;
}

static bool expect(parser *p, lex_kind k, const char *hint)
{
    if (match(p, k))
        return true;
    char what[48];
    snprintf(what, sizeof what, k >= TOK_POLICY ? "`%s`" : "%s", lex_kind_name(k));
    expected(p, what, hint);
    return false;
}

/* Reports an integer token's overflow unless the caller handled it. */
static int64_t int_value(parser *p, const lex_token *t)
{
    if (t->err)
        lex_error(p, t);
    return t->value;
}

static bool is_rule_start(lex_kind k)
{
    return k == TOK_PERMIT || k == TOK_FORBID || k == TOK_MASK || k == TOK_RETAIN ||
           k == TOK_HOLD || k == TOK_REQUIRE || k == TOK_FORGET;
}

/* Skips to where parsing can resume: a rule keyword, `}`, `policy`, or the
 * end. Iterative, so 10,000 `(` are skipped without recursion. */
static void synchronize(parser *p)
{
    while (!check(p, TOK_EOF) && !check(p, TOK_RBRACE) && !check(p, TOK_POLICY) &&
           !is_rule_start(p->cur.kind))
        advance(p);
    p->panic = false;
}

/* ==========================================================================
 * Growable arrays in the arena
 * ========================================================================== */

typedef struct vec {
    void *items;
    uint32_t n, cap;
} vec;

/* Makes room for one more item of size sz; false on out of memory. */
static bool vec_grow(parser *p, vec *v, size_t sz)
{
    if (v->n < v->cap)
        return true;
    uint32_t cap = v->cap ? v->cap * 2 : 4;
    void *items = arena_alloc(p->a, (size_t)cap * sz);
    if (!items)
        return false;
    if (v->n)
        memcpy(items, v->items, (size_t)v->n * sz);
    v->items = items;
    v->cap = cap;
    return true;
}

static bool push_expr(parser *p, vec *v, ast_expr *e)
{
    if (!vec_grow(p, v, sizeof e))
        return false;
    ((ast_expr **)v->items)[v->n++] = e;
    return true;
}

/* ==========================================================================
 * Expressions
 * ========================================================================== */

typedef enum prec {
    PREC_NONE, PREC_OR, PREC_AND, PREC_NOT, PREC_CMP, PREC_TERM, PREC_UNARY,
    PREC_PRIMARY
} prec;

typedef ast_expr *(*prefix_fn)(parser *p);
typedef ast_expr *(*infix_fn)(parser *p, ast_expr *lhs);
typedef struct parse_rule {
    prefix_fn prefix;
    infix_fn infix;
    prec prec;
} parse_rule;

static ast_expr *parse_precedence(parser *p, prec min);
static const parse_rule *rule_of(lex_kind k);

static ast_expr *expression(parser *p)
{
    return parse_precedence(p, PREC_OR);
}

static ast_expr *new_expr(parser *p, ast_expr_kind kind, ast_span sp)
{
    ast_expr *e = arena_zalloc(p->a, sizeof *e);
    if (e) {
        e->kind = kind;
        e->span = sp;
        e->type = (sl_type){ SL_ANY, SL_ANY };
    }
    return e;
}

/* The span from the start of a to the end of the previous token. */
static ast_span span_to_prev(const parser *p, ast_span a)
{
    uint32_t end = p->prev.off + p->prev.len;
    a.len = end > a.off ? end - a.off : a.len;
    return a;
}

/* literal -> INT | DURATION | TIMESTAMP | "true" | "false" */
static ast_expr *literal(parser *p)
{
    const lex_token *t = &p->prev;
    static const ast_expr_kind kinds[TOK_COUNT] = {
        [TOK_INT] = AST_INT, [TOK_DURATION] = AST_DURATION,
        [TOK_TIMESTAMP] = AST_TIMESTAMP, [TOK_TRUE] = AST_BOOL, [TOK_FALSE] = AST_BOOL,
    };
    ast_expr *e = new_expr(p, kinds[t->kind], tok_span(t));
    if (!e)
        return NULL;
    if (t->kind == TOK_TRUE || t->kind == TOK_FALSE)
        e->u.b = t->kind == TOK_TRUE;
    else
        e->u.i = t->kind == TOK_INT ? int_value(p, t) : t->value;
    return e;
}

/* Appends the UTF-8 encoding of code point v to out. */
static uint32_t put_utf8(char *out, uint32_t v)
{
    if (v < 0x80) {
        out[0] = (char)v;
        return 1;
    }
    if (v < 0x800) {
        out[0] = (char)(0xC0 | (v >> 6));
        out[1] = (char)(0x80 | (v & 0x3F));
        return 2;
    }
    if (v < 0x10000) {
        out[0] = (char)(0xE0 | (v >> 12));
        out[1] = (char)(0x80 | ((v >> 6) & 0x3F));
        out[2] = (char)(0x80 | (v & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (v >> 18));
    out[1] = (char)(0x80 | ((v >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((v >> 6) & 0x3F));
    out[3] = (char)(0x80 | (v & 0x3F));
    return 4;
}

/* Unescapes a string token's content into the arena. Escapes the lexer
 * rejected (already reported) are dropped. An escape never produces more
 * bytes than it is written with, so the source length bounds the result. */
static bool unescape(parser *p, const lex_token *t, ast_str *out)
{
    const char *s = t->start + 1;
    uint32_t n = (uint32_t)t->value, len = 0;
    char *d = arena_alloc(p->a, (size_t)n + 1);
    if (!d)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 >= n) {
            d[len++] = s[i];
            continue;
        }
        char c = s[++i];
        if (c == 'n') d[len++] = '\n';
        else if (c == 't') d[len++] = '\t';
        else if (c == '"' || c == '\\') d[len++] = c;
        else if (c == 'u' && i + 1 < n && s[i + 1] == '{') {
            uint32_t v = 0, k = i + 2, digits = 0;
            for (; k < n && strchr("0123456789abcdefABCDEF", s[k]) && s[k]; k++, digits++)
                v = digits < 7 ? v * 16 + (uint32_t)(s[k] <= '9' ? s[k] - '0' : (s[k] | 0x20) - 'a' + 10) : v;
            if (k < n && s[k] == '}' && digits >= 1 && digits <= 6 && v <= 0x10FFFF &&
                (v < 0xD800 || v > 0xDFFF))
                len += put_utf8(d + len, v);
            i = k < n ? k : n - 1;
        }
    }
    d[len] = 0;
    out->ptr = d;
    out->len = len;
    return true;
}

/* string -> STRING */
static ast_expr *string(parser *p)
{
    ast_expr *e = new_expr(p, AST_STRING, tok_span(&p->prev));
    if (e && !unescape(p, &p->prev, &e->u.str))
        return NULL;
    return e;
}

/* grouping -> "(" expr ")" ; the node's span widens to the parentheses. */
static ast_expr *grouping(parser *p)
{
    ast_span open = tok_span(&p->prev);
    ast_expr *e = expression(p);
    if (!e)
        return NULL;
    if (!expect(p, TOK_RPAREN, NULL))
        return NULL;
    e->span = span_to_prev(p, open);
    return e;
}

/* set -> "[" [ expr { "," expr } [ "," ] ] "]" */
static ast_expr *set(parser *p)
{
    ast_span open = tok_span(&p->prev);
    vec items = { 0 };
    while (!check(p, TOK_RBRACKET)) {
        ast_expr *e = expression(p);
        if (!e || !push_expr(p, &items, e))
            return NULL;
        if (!match(p, TOK_COMMA))
            break;
    }
    if (!expect(p, TOK_RBRACKET, NULL))
        return NULL;
    ast_expr *s = new_expr(p, AST_SET, span_to_prev(p, open));
    if (s) {
        s->u.set.items = items.items;
        s->u.set.n = items.n;
    }
    return s;
}

/* unary -> ("not" | "-") operand; `not` binds looser than comparisons. */
static ast_expr *unary(parser *p)
{
    lex_token op = p->prev;
    if (op.kind == TOK_MINUS && check(p, TOK_INT) && p->cur.err && p->cur.value == INT64_MIN) {
        advance(p);      /* -9223372036854775808 is the one literal that needs the sign */
        ast_expr *e = new_expr(p, AST_INT, span_to_prev(p, tok_span(&op)));
        if (e)
            e->u.i = INT64_MIN;
        return e;
    }
    ast_expr *rhs = parse_precedence(p, op.kind == TOK_NOT ? PREC_NOT : PREC_UNARY);
    if (!rhs)
        return NULL;
    ast_expr *e = new_expr(p, AST_UNARY, span_to_prev(p, tok_span(&op)));
    if (e) {
        e->u.op.op = op.kind == TOK_NOT ? AST_OP_NOT : AST_OP_NEG;
        e->u.op.lhs = rhs;
    }
    return e;
}

static bool is_comparison(lex_kind k)
{
    return rule_of(k)->prec == PREC_CMP;
}

/* binary -> expr op expr, with the right operand one level tighter (left
 * associative); comparisons do not chain. */
static ast_expr *binary(parser *p, ast_expr *lhs)
{
    static const ast_op ops[TOK_COUNT] = {
        [TOK_OR] = AST_OP_OR, [TOK_AND] = AST_OP_AND, [TOK_EQ] = AST_OP_EQ,
        [TOK_NE] = AST_OP_NE, [TOK_LT] = AST_OP_LT, [TOK_LE] = AST_OP_LE,
        [TOK_GT] = AST_OP_GT, [TOK_GE] = AST_OP_GE, [TOK_IN] = AST_OP_IN,
        [TOK_HAS] = AST_OP_HAS, [TOK_MATCHES] = AST_OP_MATCHES,
        [TOK_LIKE] = AST_OP_LIKE, [TOK_PLUS] = AST_OP_ADD, [TOK_MINUS] = AST_OP_SUB,
    };
    lex_token op = p->prev;
    prec pr = rule_of(op.kind)->prec;
    ast_expr *rhs = parse_precedence(p, (prec)(pr + 1));
    if (!rhs)
        return NULL;
    if (pr == PREC_CMP && is_comparison(p->cur.kind)) {
        char buf[64];
        error_at(p, tok_span(&p->cur), "compare each pair and join them with `and`",
                 "comparisons do not chain: %s cannot follow `%.*s`",
                 found(&p->cur, buf, sizeof buf), (int)op.len, op.start);
        return NULL;
    }
    ast_expr *e = new_expr(p, AST_BINARY, span_to_prev(p, lhs->span));
    if (e) {
        e->u.op.op = ops[op.kind];
        e->u.op.lhs = lhs;
        e->u.op.rhs = rhs;
    }
    return e;
}

/* call -> NAME "(" [ expr { "," expr } ] ")" ; the name is resolved by the
 * checker. */
static ast_expr *call(parser *p, const lex_token *name)
{
    advance(p);   /* ( */
    vec args = { 0 };
    while (!check(p, TOK_RPAREN)) {
        ast_expr *e = expression(p);
        if (!e || !push_expr(p, &args, e))
            return NULL;
        if (!match(p, TOK_COMMA))
            break;
    }
    if (!check(p, TOK_RPAREN)) {
        char what[96];
        snprintf(what, sizeof what, "`,` or `)` in the call of `%.*s`",
                 (int)(name->len > 40 ? 40 : name->len), name->start);
        expected(p, what, NULL);
        return NULL;
    }
    advance(p);
    ast_expr *e = new_expr(p, AST_CALL, span_to_prev(p, tok_span(name)));
    if (e) {
        e->u.call.name = (ast_str){ name->start, name->len };
        e->u.call.args = args.items;
        e->u.call.nargs = args.n;
    }
    return e;
}

static const char *const root_names[AST_ROOT_COUNT] = {
    "subject", "action", "context", "product", "port", "column", "now",
};

/* Joins root and segments as "subject.org.unit" into the arena. */
static bool path_text(parser *p, ast_expr *e)
{
    const char *root = root_names[e->u.path.root];
    size_t n = strlen(root);
    for (uint32_t i = 0; i < e->u.path.nsegs; i++)
        n += 1 + e->u.path.segs[i].len;
    char *s = arena_alloc(p->a, n + 1);
    if (!s)
        return false;
    size_t k = strlen(root);
    memcpy(s, root, k);
    for (uint32_t i = 0; i < e->u.path.nsegs; i++) {
        s[k++] = '.';
        memcpy(s + k, e->u.path.segs[i].ptr, e->u.path.segs[i].len);
        k += e->u.path.segs[i].len;
    }
    s[k] = 0;
    e->u.path.text = (ast_str){ s, (uint32_t)k };
    return true;
}

/* path -> ROOT { "." WORD } ; call -> NAME "(" ... */
static ast_expr *name(parser *p)
{
    lex_token t = p->prev;
    if (check(p, TOK_LPAREN))
        return call(p, &t);
    int root = -1;
    for (int r = 0; r < AST_ROOT_COUNT; r++)
        if (strlen(root_names[r]) == t.len && memcmp(root_names[r], t.start, t.len) == 0)
            root = r;
    if (root < 0) {
        const char *s = check_suggest(t.start, t.len, root_names, AST_ROOT_COUNT);
        char hint[64];
        if (s)
            snprintf(hint, sizeof hint, "did you mean `%s`?", s);
        error_at(p, tok_span(&t), s ? hint : "an attribute path starts with subject, action, context, product, port, column or now",
                 "unknown root `%.*s`", (int)(t.len > 40 ? 40 : t.len), t.start);
        return NULL;
    }
    vec segs = { 0 };
    while (check(p, TOK_DOT)) {
        if (root == AST_ROOT_ACTION || root == AST_ROOT_NOW) {
            error_at(p, tok_span(&p->cur), NULL, "`%s` has no attributes", root_names[root]);
            return NULL;
        }
        advance(p);
        if (!lex_is_word(p->cur.kind)) {
            expected(p, "an attribute name after `.`", NULL);
            return NULL;
        }
        if (!vec_grow(p, &segs, sizeof(ast_str)))
            return NULL;
        ((ast_str *)segs.items)[segs.n++] = (ast_str){ p->cur.start, p->cur.len };
        advance(p);
    }
    ast_expr *e = new_expr(p, AST_PATH, span_to_prev(p, tok_span(&t)));
    if (!e)
        return NULL;
    e->u.path.root = (ast_root)root;
    e->u.path.segs = segs.items;
    e->u.path.nsegs = segs.n;
    return path_text(p, e) ? e : NULL;
}

/* The Pratt table: for each token, what it does at the start of an
 * expression, what it does after one, and how tightly it binds. */
static const parse_rule parse_rules[TOK_COUNT] = {
    [TOK_IDENT] = { name, NULL, PREC_NONE },
    [TOK_INT] = { literal, NULL, PREC_NONE },
    [TOK_DURATION] = { literal, NULL, PREC_NONE },
    [TOK_TIMESTAMP] = { literal, NULL, PREC_NONE },
    [TOK_TRUE] = { literal, NULL, PREC_NONE },
    [TOK_FALSE] = { literal, NULL, PREC_NONE },
    [TOK_STRING] = { string, NULL, PREC_NONE },
    [TOK_LPAREN] = { grouping, NULL, PREC_NONE },
    [TOK_LBRACKET] = { set, NULL, PREC_NONE },
    [TOK_NOT] = { unary, NULL, PREC_NONE },
    [TOK_MINUS] = { unary, binary, PREC_TERM },
    [TOK_PLUS] = { NULL, binary, PREC_TERM },
    [TOK_OR] = { NULL, binary, PREC_OR },
    [TOK_AND] = { NULL, binary, PREC_AND },
    [TOK_EQ] = { NULL, binary, PREC_CMP },
    [TOK_NE] = { NULL, binary, PREC_CMP },
    [TOK_LT] = { NULL, binary, PREC_CMP },
    [TOK_LE] = { NULL, binary, PREC_CMP },
    [TOK_GT] = { NULL, binary, PREC_CMP },
    [TOK_GE] = { NULL, binary, PREC_CMP },
    [TOK_IN] = { NULL, binary, PREC_CMP },
    [TOK_HAS] = { NULL, binary, PREC_CMP },
    [TOK_MATCHES] = { NULL, binary, PREC_CMP },
    [TOK_LIKE] = { NULL, binary, PREC_CMP },
};

static const parse_rule *rule_of(lex_kind k)
{
    return &parse_rules[k];
}

/* Depth counts nested calls of this function plus the binary operators
 * applied at each level, so both `((((x))))` and a 10,000-term chain
 * `a + a + ...` are bounded: the tree is never deeper than the limit. */
static bool enter(parser *p)
{
    if (++p->depth <= POLICY_MAX_DEPTH)
        return true;
    char hint[80];
    snprintf(hint, sizeof hint, "the limit is %u levels; split the condition", POLICY_MAX_DEPTH);
    error_at(p, tok_span(&p->cur), hint, "expression nested too deeply");
    return false;
}

/* expr -> prefix { infix } while the infix binds at least as tight as min */
static ast_expr *parse_precedence(parser *p, prec min)
{
    uint32_t depth = p->depth;
    ast_expr *lhs = NULL;
    if (!enter(p))
        goto done;
    prefix_fn prefix = rule_of(p->cur.kind)->prefix;
    if (!prefix) {
        expected(p, "an expression", NULL);
        goto done;
    }
    advance(p);
    lhs = prefix(p);
    while (lhs && rule_of(p->cur.kind)->infix && min <= rule_of(p->cur.kind)->prec) {
        if (!enter(p)) {
            lhs = NULL;
            break;
        }
        advance(p);
        lhs = rule_of(p->prev.kind)->infix(p, lhs);
    }
done:
    p->depth = depth;
    return lhs;
}

/* ==========================================================================
 * Rules
 * ========================================================================== */

/* Expects one of the words (whose values are vals) and stores the value;
 * reports "expected WHAT, found X" with a did-you-mean hint otherwise. */
static bool one_of(parser *p, const char *const *words, const int *vals, size_t n,
                   const char *what, int *out)
{
    for (size_t i = 0; i < n; i++)
        if (is_word(p, words[i])) {
            *out = vals[i];
            advance(p);
            return true;
        }
    const char *s = lex_is_word(p->cur.kind) ? check_suggest(p->cur.start, p->cur.len, words, n) : NULL;
    char hint[64];
    if (s)
        snprintf(hint, sizeof hint, "did you mean `%s`?", s);
    expected(p, what, s ? hint : NULL);
    return false;
}

static bool target(parser *p, ast_rule *r, bool product, bool port, bool column)
{
    const char *words[3];
    int vals[3];
    size_t n = 0;
    char what[96] = "";
    if (product)
        words[n] = "product", vals[n++] = AST_ON_PRODUCT;
    if (port)
        words[n] = "port", vals[n++] = AST_ON_PORT;
    if (column)
        words[n] = "column", vals[n++] = AST_ON_COLUMN;
    if (n == 1)
        snprintf(what, sizeof what, "`%s`", words[0]);
    else if (n == 2)
        snprintf(what, sizeof what, "`%s` or `%s`", words[0], words[1]);
    else
        snprintf(what, sizeof what, "a target (`product`, `port` or `column`)");
    int v;
    if (!one_of(p, words, vals, n, what, &v))
        return false;
    r->target = (ast_target)v;
    return true;
}

/* duration -> DURATION, as a value in microseconds. */
static bool duration(parser *p, int64_t *out)
{
    if (!check(p, TOK_DURATION)) {
        expected(p, "a duration such as 30d", NULL);
        return false;
    }
    *out = p->cur.value;
    advance(p);
    return true;
}

/* actions -> "*" | WORD { "," WORD } */
static bool actions(parser *p, ast_rule *r)
{
    if (match(p, TOK_STAR)) {
        r->all_actions = true;
        return true;
    }
    vec names = { 0 }, spans = { 0 };
    do {
        if (!lex_is_word(p->cur.kind) || check(p, TOK_ON)) {
            expected(p, names.n ? "an action" : "an action or `*`", NULL);
            return false;
        }
        if (!vec_grow(p, &names, sizeof(ast_str)) || !vec_grow(p, &spans, sizeof(ast_span)))
            return false;
        ((ast_str *)names.items)[names.n++] = (ast_str){ p->cur.start, p->cur.len };
        ((ast_span *)spans.items)[spans.n++] = tok_span(&p->cur);
        advance(p);
    } while (match(p, TOK_COMMA));
    r->actions = names.items;
    r->action_spans = spans.items;
    r->nactions = names.n;
    return true;
}

/* access -> ("permit" | "forbid") actions "on" target */
static bool access_rule(parser *p, ast_rule *r)
{
    r->kind = p->prev.kind == TOK_PERMIT ? AST_PERMIT : AST_FORBID;
    return actions(p, r) && expect(p, TOK_ON, NULL) && target(p, r, true, true, true);
}

/* mask -> "mask" "column" "with" ("hash" | "redact" | "null" | "last4" | "year") */
static bool mask_rule(parser *p, ast_rule *r)
{
    static const char *const kinds[] = { "hash", "redact", "null", "last4", "year" };
    static const int vals[] = { AST_MASK_HASH, AST_MASK_REDACT, AST_MASK_NULL, AST_MASK_LAST4, AST_MASK_YEAR };
    r->kind = AST_MASK;
    int v;
    if (!target(p, r, false, false, true) || !expect(p, TOK_WITH, NULL) ||
        !one_of(p, kinds, vals, 5, "a mask (`hash`, `redact`, `null`, `last4` or `year`)", &v))
        return false;
    r->mask = (ast_mask)v;
    return true;
}

static bool disposal(parser *p, ast_rule *r, bool archive)
{
    static const char *const words[] = { "delete", "anonymize", "archive" };
    static const int vals[] = { AST_DISPOSE_DELETE, AST_DISPOSE_ANONYMIZE, AST_DISPOSE_ARCHIVE };
    int v;
    if (!expect(p, TOK_THEN, NULL) ||
        !one_of(p, words, vals, archive ? 3 : 2,
                archive ? "`delete`, `anonymize` or `archive`" : "`delete` or `anonymize`", &v))
        return false;
    r->disposal = (ast_disposal)v;
    return true;
}

/* retain -> "retain" ("port" | "column") "for" DURATION "after" WORD
 *           "then" ("delete" | "anonymize" | "archive") */
static bool retain_rule(parser *p, ast_rule *r)
{
    r->kind = AST_RETAIN;
    if (!target(p, r, false, true, true) || !expect(p, TOK_FOR, NULL) ||
        !duration(p, &r->period_us) || !expect(p, TOK_AFTER, NULL))
        return false;
    if (!lex_is_word(p->cur.kind)) {
        expected(p, "the name of a time column", NULL);
        return false;
    }
    r->time_column = (ast_str){ p->cur.start, p->cur.len };
    r->time_column_span = tok_span(&p->cur);
    advance(p);
    return disposal(p, r, true);
}

/* hold -> "hold" ("product" | "port") */
static bool hold_rule(parser *p, ast_rule *r)
{
    r->kind = AST_HOLD;
    return target(p, r, true, true, false);
}

/* require -> "require" "encryption" ("at_rest" | "in_transit") "on" ("port" | "column") */
static bool require_rule(parser *p, ast_rule *r)
{
    static const char *const words[] = { "at_rest", "in_transit" };
    static const int vals[] = { AST_AT_REST, AST_IN_TRANSIT };
    static const char *const enc[] = { "encryption" };
    static const int one[] = { 1 };
    r->kind = AST_REQUIRE_ENCRYPTION;
    int v;
    if (!one_of(p, enc, one, 1, "`encryption`", &v) ||
        !one_of(p, words, vals, 2, "`at_rest` or `in_transit`", &v))
        return false;
    r->encryption = (ast_encryption)v;
    return expect(p, TOK_ON, NULL) && target(p, r, false, true, true);
}

/* forget -> "forget" "subject" ["within" DURATION] "then" ("delete" | "anonymize") "on" "port" */
static bool forget_rule(parser *p, ast_rule *r)
{
    static const char *const subj[] = { "subject" };
    static const int one[] = { 1 };
    r->kind = AST_FORGET;
    int v;
    if (!one_of(p, subj, one, 1, "`subject`", &v))
        return false;
    if (match(p, TOK_WITHIN) && !duration(p, &r->period_us))
        return false;
    return disposal(p, r, false) && expect(p, TOK_ON, NULL) && target(p, r, false, true, false);
}

static bool at_header(const parser *p);

/* cond -> [ "when" expr ] [ "unless" expr ] */
static bool conditions(parser *p, ast_rule *r)
{
    if (match(p, TOK_WHEN) && !(r->when = expression(p)))
        return false;
    if (match(p, TOK_UNLESS) && !(r->unless = expression(p)))
        return false;
    return true;
}

/* rule -> (access | mask | retain | hold | require | forget) cond */
static bool rule(parser *p, ast_rule *r)
{
    memset(r, 0, sizeof *r);
    r->span = tok_span(&p->cur);
    r->period_us = -1;
    advance(p);
    bool ok;
    switch (p->prev.kind) {
    case TOK_PERMIT:
    case TOK_FORBID: ok = access_rule(p, r); break;
    case TOK_MASK: ok = mask_rule(p, r); break;
    case TOK_RETAIN: ok = retain_rule(p, r); break;
    case TOK_HOLD: ok = hold_rule(p, r); break;
    case TOK_REQUIRE: ok = require_rule(p, r); break;
    default: ok = forget_rule(p, r); break;
    }
    if (!ok || !conditions(p, r))
        return false;
    if (check(p, TOK_RBRACE) || check(p, TOK_EOF) || is_rule_start(p->cur.kind))
        return true;
    const char *hint = NULL;
    if (at_header(p))
        hint = "header items come before the rules";
    else if (check(p, TOK_WHEN) && r->unless)
        hint = "write `when` before `unless`";
    else if (check(p, TOK_WHEN) || check(p, TOK_UNLESS))
        hint = "a rule takes at most one `when` and one `unless`; join conditions with `and`";
    expected(p, "a new rule or `}`", hint);
    return false;
}

/* ==========================================================================
 * Policies
 * ========================================================================== */

enum { H_VERSION, H_SCOPE, H_MODE, H_OWNER, H_ABOUT, H_COUNT };
static const char *const header_names[H_COUNT] = { "version", "scope", "mode", "owner", "about" };

static bool header_string(parser *p, ast_str *out)
{
    if (!check(p, TOK_STRING)) {
        expected(p, "a string", NULL);
        return false;
    }
    advance(p);
    return unescape(p, &p->prev, out);
}

/* header -> "version" INT | "scope" ("global" | "local")
 *         | "mode" ("enforce" | "dry_run") | "owner" STRING | "about" STRING */
static void header(parser *p, ast_policy *pol, int h)
{
    static const char *const scopes[] = { "global", "local" };
    static const int scope_vals[] = { AST_SCOPE_GLOBAL, AST_SCOPE_LOCAL };
    static const char *const modes[] = { "enforce", "dry_run" };
    static const int mode_vals[] = { AST_MODE_ENFORCE, AST_MODE_DRY_RUN };
    int v;
    switch (h) {
    case H_VERSION:
        if (!check(p, TOK_INT)) {
            expected(p, "a version number", NULL);
            return;
        }
        advance(p);
        pol->version = int_value(p, &p->prev);
        if (pol->version < 1 && !p->prev.err)
            error_at(p, tok_span(&p->prev), NULL, "version must be at least 1");
        return;
    case H_SCOPE:
        if (one_of(p, scopes, scope_vals, 2, "`global` or `local`", &v))
            pol->scope = (ast_scope)v;
        return;
    case H_MODE:
        if (one_of(p, modes, mode_vals, 2, "`enforce` or `dry_run`", &v))
            pol->mode = (ast_mode)v;
        return;
    case H_OWNER:
        header_string(p, &pol->owner);
        return;
    default:
        header_string(p, &pol->about);
        return;
    }
}

static bool at_header(const parser *p)
{
    for (int i = 0; i < H_COUNT; i++)
        if (is_word(p, header_names[i]))
            return true;
    return false;
}

/* After a malformed header item: on to the next header item or rule. */
static void header_sync(parser *p)
{
    while (!check(p, TOK_EOF) && !check(p, TOK_RBRACE) && !check(p, TOK_POLICY) &&
           !is_rule_start(p->cur.kind) && !at_header(p))
        advance(p);
    p->panic = false;
}

/* Headers come before rules; each at most once. */
static void headers(parser *p, ast_policy *pol)
{
    ast_span seen[H_COUNT] = { { 0 } };
    for (;;) {
        int h = -1;
        for (int i = 0; i < H_COUNT; i++)
            if (is_word(p, header_names[i]))
                h = i;
        if (h < 0)
            return;
        ast_span at = tok_span(&p->cur);
        advance(p);
        if (seen[h].line) {
            char hint[64];
            snprintf(hint, sizeof hint, "first given at line %u", (unsigned)seen[h].line);
            error_at(p, at, hint, "duplicate `%s` in policy `%.*s`", header_names[h],
                     clip(pol->name.ptr, pol->name.len, 40), pol->name.ptr);
            p->panic = false;    /* the item itself may still be well formed */
        }
        seen[h] = at;
        header(p, pol, h);
        if (p->panic)
            header_sync(p);
    }
}

/* The error for a token that starts neither a header item nor a rule. */
static void not_a_rule(parser *p, bool any_rule)
{
    static const char *const words[] = {
        "version", "scope", "mode", "owner", "about", "permit", "forbid", "mask",
        "retain", "hold", "require", "forget",
    };
    const char *s = lex_is_word(p->cur.kind) ? check_suggest(p->cur.start, p->cur.len, words, 12) : NULL;
    char hint[64];
    bool is_header = false;
    for (int i = 0; i < H_COUNT; i++)
        is_header |= is_word(p, header_names[i]);
    if (s)
        snprintf(hint, sizeof hint, "did you mean `%s`?", s);
    expected(p, any_rule ? "a rule or `}`" : "a header item, a rule or `}`",
             is_header ? "header items come before the rules" : s ? hint
             : "a rule starts with permit, forbid, mask, retain, hold, require or forget");
}

static bool push_rule(parser *p, vec *rules, const ast_rule *r)
{
    if (!vec_grow(p, rules, sizeof *r))
        return false;
    ((ast_rule *)rules->items)[rules->n++] = *r;
    return true;
}

/* policy -> "policy" NAME "{" header* rule* "}" */
static bool policy(parser *p, ast_policy *pol, const char *file)
{
    memset(pol, 0, sizeof *pol);
    pol->file = file;
    pol->version = 1;
    advance(p);   /* policy */
    if (!check(p, TOK_IDENT)) {
        expected(p, "a policy name", NULL);
        return false;
    }
    pol->name = (ast_str){ p->cur.start, p->cur.len };
    pol->span = tok_span(&p->cur);
    advance(p);
    if (!match(p, TOK_LBRACE)) {
        /* Without the brace, carry on if the body plainly starts here. */
        expected(p, "`{` after the policy name", NULL);
        if (!at_header(p) && !is_rule_start(p->cur.kind))
            return false;
        p->panic = false;
    }
    headers(p, pol);
    vec rules = { 0 };
    ast_rule r;
    while (!check(p, TOK_RBRACE) && !check(p, TOK_EOF) && !check(p, TOK_POLICY)) {
        if (!is_rule_start(p->cur.kind)) {
            not_a_rule(p, rules.n > 0);
            advance(p);
            synchronize(p);
            continue;
        }
        bool ok = rule(p, &r);
        r.ordinal = rules.n + 1;
        if (!push_rule(p, &rules, &r))
            return false;
        if (!ok)
            synchronize(p);
    }
    pol->rules = rules.items;
    pol->nrules = rules.n;
    if (!check(p, TOK_RBRACE)) {
        char what[96];
        snprintf(what, sizeof what, "`}` to close policy `%.*s`",
                 (int)(pol->name.len > 40 ? 40 : pol->name.len), pol->name.ptr);
        expected(p, what, NULL);
        p->panic = false;
        return true;
    }
    advance(p);
    return true;
}

/* ==========================================================================
 * Files
 * ========================================================================== */

/* Finds the first NUL byte or invalid UTF-8 sequence and reports it. */
static bool check_encoding(parser *p)
{
    const unsigned char *s = (const unsigned char *)p->src;
    uint32_t line = 1, line_start = 0;
    for (uint32_t i = 0; i < p->src_len;) {
        uint32_t n = s[i] ? policy_utf8_len(s + i, p->src_len - i) : 0;
        if (n == 0) {
            ast_span sp = { line, i - line_start + 1, i, 1 };
            if (s[i] == 0)
                error_at(p, sp, "policy files are text", "NUL byte in source");
            else
                error_at(p, sp, "policy files must be UTF-8", "invalid UTF-8 byte 0x%02x", s[i]);
            return false;
        }
        if (s[i] == '\n') {
            line++;
            line_start = i + 1;
        }
        i += n;
    }
    return true;
}

/* The names of the policies parsed so far, for the duplicate check: open
 * addressing over positions in the policy vector, so that a file of
 * hundreds of thousands of policies is checked in linear time. */
typedef struct name_set {
    uint32_t *slot;             /* position + 1; 0 is empty */
    uint32_t cap;               /* a power of two, or 0 */
} name_set;

static uint32_t name_hash(ast_str s)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (size_t i = 0; i < s.len; i++)
        h = (h ^ (unsigned char)s.ptr[i]) * 16777619u;
    return h;
}

/* The slot of name: where it is, or the empty one where it would go. */
static uint32_t *name_slot(const name_set *set, const ast_policy *all, ast_str name)
{
    uint32_t mask = set->cap - 1, i = name_hash(name) & mask;
    for (;; i = (i + 1) & mask) {
        uint32_t k = set->slot[i];
        if (!k || (all[k - 1].name.len == name.len &&
                   memcmp(all[k - 1].name.ptr, name.ptr, name.len) == 0))
            return &set->slot[i];
    }
}

/* Keeps the set at most half full for n + 1 names. */
static bool name_set_room(parser *p, name_set *set, const vec *pols)
{
    if ((size_t)(pols->n + 1) * 2 <= set->cap)
        return true;
    name_set bigger = { NULL, set->cap ? set->cap * 2 : 16 };
    if (!(bigger.slot = arena_alloc(p->a, (size_t)bigger.cap * sizeof *bigger.slot)))
        return false;
    memset(bigger.slot, 0, (size_t)bigger.cap * sizeof *bigger.slot);
    const ast_policy *all = pols->items;
    for (uint32_t i = 0; i < pols->n; i++)
        *name_slot(&bigger, all, all[i].name) = i + 1;
    *set = bigger;
    return true;
}

static bool push_policy(parser *p, vec *pols, name_set *names, const ast_policy *pol)
{
    if (!name_set_room(p, names, pols))
        return false;
    const ast_policy *all = pols->items;
    uint32_t *slot = name_slot(names, all, pol->name);
    if (*slot) {
        char hint[64];
        snprintf(hint, sizeof hint, "first defined at line %u",
                 (unsigned)all[*slot - 1].span.line);
        error_at(p, pol->span, hint, "duplicate policy `%.*s`",
                 (int)(pol->name.len > 40 ? 40 : pol->name.len), pol->name.ptr);
        p->panic = false;
        return true;
    }
    if (!vec_grow(p, pols, sizeof *pol))
        return false;
    ((ast_policy *)pols->items)[pols->n++] = *pol;
    *slot = pols->n;
    return true;
}

/* file -> policy { policy } EOF */
static void policies(parser *p, ast_file *f)
{
    vec pols = { 0 };
    name_set names = { NULL, 0 };
    advance(p);
    if (check(p, TOK_EOF))
        expected(p, "`policy`", "a policy file holds one or more policies");
    while (!check(p, TOK_EOF) && !arena_failed(p->a)) {
        if (!check(p, TOK_POLICY)) {
            expected(p, "`policy`", NULL);
            while (!check(p, TOK_EOF) && !check(p, TOK_POLICY))
                advance(p);
            p->panic = false;
            continue;
        }
        ast_policy pol;
        if (policy(p, &pol, f->name)) {
            if (!push_policy(p, &pols, &names, &pol))
                break;
        } else {
            while (!check(p, TOK_EOF) && !check(p, TOK_POLICY))
                advance(p);
            p->panic = false;
        }
    }
    f->policies = pols.items;
    f->npolicies = pols.n;
}

/* The lexer runs one token ahead of the parser, so a lexical error can be
 * added just before a syntax error that precedes it: put this file's
 * diagnostics in source order (stable, and there are few). */
static void sort_diags(diag_list *d, uint32_t first)
{
    for (uint32_t i = first + 1; i < d->n; i++) {
        diag x = d->items[i];
        uint32_t k = i;
        while (k > first && d->items[k - 1].span.off > x.span.off) {
            d->items[k] = d->items[k - 1];
            k--;
        }
        d->items[k] = x;
    }
}

ast_file *parse_file(arena *a, const char *name, const char *src, size_t len,
                     diag_list *diags)
{
    ast_file *f = arena_zalloc(a, sizeof *f);
    const char *nm = arena_strndup(a, name ? name : "<input>", strlen(name ? name : "<input>"));
    if (!f || !nm)
        return NULL;
    f->name = nm;
    parser p = { .a = a, .d = diags, .file = nm, .src = src ? src : "" };
    if (len > POLICY_MAX_SOURCE) {
        ast_span sp = { 1, 1, 0, 0 };
        p.src = NULL;        /* no excerpt of a file that large */
        error_at(&p, sp, NULL, "source is too large (%zu bytes; the limit is %u)", len,
                 (unsigned)POLICY_MAX_SOURCE);
        f->src = src;
        return arena_failed(a) ? NULL : f;
    }
    p.src_len = (uint32_t)len;
    f->src = p.src;
    f->src_len = p.src_len;
    uint32_t first = diags->n;
    if (check_encoding(&p)) {
        lex_init(&p.lx, p.src, p.src_len);
        policies(&p, f);
    }
    sort_diags(diags, first);
    return arena_failed(a) ? NULL : f;
}
