/*
 * parse_test.c — the AST the parser builds: the three example policies of
 * the design, rule by rule; precedence and associativity; literals and
 * their values; spans; recovery with several errors and the error cap.
 */
#include <criterion/criterion.h>
#include "helpers.h"
#include "stdlib/stdlib.h"

#define DESIGN "tests/policy/design.policy"

static char *src;
static size_t src_len;
static unit u;

static void load_design(void)
{
    src = read_file(DESIGN, &src_len);
    cr_assert_not_null(src, "run the tests from the repository root");
    unit_compile(&u, DESIGN, src, src_len, NULL);
}

static void free_design(void)
{
    unit_free(&u);
    free(src);
}

static void str_is(ast_str s, const char *want)
{
    cr_assert_eq(s.len, strlen(want), "`%.*s` vs `%s`", (int)s.len, s.ptr, want);
    cr_assert_eq(memcmp(s.ptr, want, s.len), 0, "`%.*s` vs `%s`", (int)s.len, s.ptr, want);
}

static void span_is(ast_span sp, uint32_t line, uint32_t col, uint32_t len)
{
    cr_assert_eq(sp.line, line, "line %u, want %u", sp.line, line);
    cr_assert_eq(sp.col, col, "col %u, want %u", sp.col, col);
    cr_assert_eq(sp.len, len, "len %u, want %u", sp.len, len);
}

static void path_is(const ast_expr *e, const char *text)
{
    cr_assert_eq(e->kind, AST_PATH);
    str_is(e->u.path.text, text);
}

static void binary_is(const ast_expr *e, ast_op op)
{
    cr_assert_eq(e->kind, AST_BINARY, "kind %d", e->kind);
    cr_assert_eq(e->u.op.op, op, "op %s, want %s", ast_op_name(e->u.op.op), ast_op_name(op));
}

TestSuite(design, .init = load_design, .fini = free_design);

Test(design, parses_and_checks_cleanly)
{
    cr_assert_eq(u.d.errors, 0);
    cr_assert(u.checked && u.ok);
    cr_assert_eq(u.f->npolicies, 3);
    str_is(u.f->policies[0].name, "pii_purpose_limitation");
    str_is(u.f->policies[1].name, "domain_access");
    str_is(u.f->policies[2].name, "records_retention");
    cr_assert_str_eq(u.f->name, DESIGN);
    cr_assert_eq(u.f->src_len, src_len);
}

Test(design, headers)
{
    const ast_policy *p = &u.f->policies[0];
    cr_assert_eq(p->version, 3);
    cr_assert_eq(p->scope, AST_SCOPE_GLOBAL);
    cr_assert_eq(p->mode, AST_MODE_ENFORCE);
    str_is(p->owner, "governance@corp.example");
    str_is(p->about, "PII is readable only by pii-readers for approved purposes");
    span_is(p->span, 1, 8, 22);
    cr_assert_str_eq(p->file, DESIGN);
    const ast_policy *q = &u.f->policies[1];
    cr_assert_eq(q->version, 1);
    cr_assert_eq(q->scope, AST_SCOPE_LOCAL);
    cr_assert_eq(q->owner.len, 0);
}

Test(design, first_policy_rules)
{
    const ast_policy *p = &u.f->policies[0];
    cr_assert_eq(p->nrules, 2);
    const ast_rule *r = &p->rules[0];
    cr_assert_eq(r->kind, AST_FORBID);
    cr_assert_eq(r->ordinal, 1);
    cr_assert_eq(r->target, AST_ON_COLUMN);
    cr_assert_not(r->all_actions);
    cr_assert_eq(r->nactions, 2);
    str_is(r->actions[0], "read");
    str_is(r->actions[1], "write");
    span_is(r->action_spans[1], 8, 16, 5);
    span_is(r->span, 8, 3, 6);
    /* when column.tags has "pii" */
    binary_is(r->when, AST_OP_HAS);
    path_is(r->when->u.op.lhs, "column.tags");
    cr_assert_eq(r->when->u.op.rhs->kind, AST_STRING);
    str_is(r->when->u.op.rhs->u.str, "pii");
    span_is(r->when->span, 9, 10, 21);
    /* unless A and B, over two lines: the span starts at A */
    binary_is(r->unless, AST_OP_AND);
    span_is(r->unless->span, 10, 12, r->unless->span.len);
    binary_is(r->unless->u.op.lhs, AST_OP_HAS);
    const ast_expr *in = r->unless->u.op.rhs;
    binary_is(in, AST_OP_IN);
    path_is(in->u.op.lhs, "context.purpose");
    cr_assert_eq(in->u.op.rhs->kind, AST_SET);
    cr_assert_eq(in->u.op.rhs->u.set.n, 3);
    str_is(in->u.op.rhs->u.set.items[2]->u.str, "legal");
    span_is(in->u.op.rhs->span, 11, 31, 29);

    const ast_rule *m = &p->rules[1];
    cr_assert_eq(m->kind, AST_MASK);
    cr_assert_eq(m->ordinal, 2);
    cr_assert_eq(m->target, AST_ON_COLUMN);
    cr_assert_eq(m->mask, AST_MASK_HASH);
    cr_assert_null(m->unless);
    binary_is(m->when, AST_OP_AND);
    const ast_expr *n = m->when->u.op.rhs;
    cr_assert_eq(n->kind, AST_UNARY);
    cr_assert_eq(n->u.op.op, AST_OP_NOT);
    binary_is(n->u.op.lhs, AST_OP_HAS);
    /* the parenthesized operand's span includes the parentheses */
    span_is(n->u.op.lhs->span, 14, 42, 29);
}

Test(design, second_policy_rules)
{
    const ast_policy *p = &u.f->policies[1];
    cr_assert_eq(p->nrules, 5);
    static const ast_rule_kind kinds[] = { AST_PERMIT, AST_PERMIT, AST_FORBID, AST_FORBID, AST_FORBID };
    static const ast_target targets[] = { AST_ON_PORT, AST_ON_PRODUCT, AST_ON_PRODUCT, AST_ON_PRODUCT, AST_ON_COLUMN };
    for (uint32_t i = 0; i < 5; i++) {
        cr_assert_eq(p->rules[i].kind, kinds[i], "rule %u", i + 1);
        cr_assert_eq(p->rules[i].target, targets[i], "rule %u", i + 1);
        cr_assert_eq(p->rules[i].ordinal, i + 1);
        cr_assert_eq(p->rules[i].period_us, -1);
    }
    cr_assert_not(p->rules[0].all_actions);
    cr_assert(p->rules[1].all_actions);
    cr_assert_eq(p->rules[1].nactions, 0);
    /* a == b or c == d */
    const ast_expr *w = p->rules[0].when;
    binary_is(w, AST_OP_OR);
    binary_is(w->u.op.lhs, AST_OP_EQ);
    binary_is(w->u.op.rhs, AST_OP_EQ);
    path_is(w->u.op.lhs->u.op.lhs, "subject.domain");
    path_is(w->u.op.lhs->u.op.rhs, "product.domain");
    /* unless action == "read" and ... */
    const ast_expr *un = p->rules[2].unless;
    binary_is(un, AST_OP_AND);
    path_is(un->u.op.lhs->u.op.lhs, "action");
    cr_assert_eq(un->u.op.lhs->u.op.lhs->u.path.root, AST_ROOT_ACTION);
    cr_assert_eq(un->u.op.lhs->u.op.lhs->u.path.nsegs, 0);
    /* the regex literal is unescaped: \\. becomes \. */
    const ast_expr *mt = p->rules[4].when->u.op.lhs;
    binary_is(mt, AST_OP_MATCHES);
    str_is(mt->u.op.rhs->u.str, "^ext-[0-9]+@partner\\.com$");
    span_is(mt->u.op.rhs->span, 25, 47, 28);
}

Test(design, third_policy_rules)
{
    const ast_policy *p = &u.f->policies[2];
    cr_assert_eq(p->nrules, 7);
    const ast_rule *r = p->rules;
    cr_assert_eq(r[0].kind, AST_RETAIN);
    cr_assert_eq(r[0].target, AST_ON_PORT);
    cr_assert_eq(r[0].period_us, INT64_C(7) * 365 * 86400 * 1000000);
    str_is(r[0].time_column, "event_time");
    span_is(r[0].time_column_span, 32, 28, 10);
    cr_assert_eq(r[0].disposal, AST_DISPOSE_ARCHIVE);
    cr_assert_eq(r[1].kind, AST_RETAIN);
    cr_assert_eq(r[1].target, AST_ON_COLUMN);
    cr_assert_eq(r[1].period_us, INT64_C(365) * 86400 * 1000000);
    cr_assert_eq(r[1].disposal, AST_DISPOSE_DELETE);
    cr_assert_eq(r[2].kind, AST_HOLD);
    cr_assert_eq(r[2].target, AST_ON_PORT);
    path_is(r[2].when, "product.legal_hold");
    cr_assert_eq(r[3].kind, AST_REQUIRE_ENCRYPTION);
    cr_assert_eq(r[3].encryption, AST_AT_REST);
    cr_assert_eq(r[3].target, AST_ON_COLUMN);
    cr_assert_eq(r[4].encryption, AST_IN_TRANSIT);
    cr_assert_eq(r[4].target, AST_ON_PORT);
    cr_assert_eq(r[5].kind, AST_FORGET);
    cr_assert_eq(r[5].target, AST_ON_PORT);
    cr_assert_eq(r[5].period_us, INT64_C(30) * 86400 * 1000000);
    cr_assert_eq(r[5].disposal, AST_DISPOSE_DELETE);
    cr_assert_eq(r[6].period_us, -1);
    cr_assert_eq(r[6].disposal, AST_DISPOSE_ANONYMIZE);
    cr_assert_eq(r[6].ordinal, 7);
    span_is(r[6].span, 38, 3, 6);
}

/* ---- expressions -------------------------------------------------------- */

static unit eu;

/* Parses `permit read on port when <expr>` and returns the expression
 * (valid until the next call). */
static const ast_expr *expr(const char *text)
{
    static char buf[1024];
    unit_free(&eu);
    snprintf(buf, sizeof buf, "policy p {\n  permit read on port when %s\n}\n", text);
    unit_compile(&eu, "e.policy", buf, strlen(buf), NULL);
    char *r = unit_render(&eu);
    cr_assert_eq(eu.d.errors, 0, "%s:\n%s", text, r);
    free(r);
    return eu.f->policies[0].rules[0].when;
}

static void expr_fini(void)
{
    unit_free(&eu);
    memset(&eu, 0, sizeof eu);
}

TestSuite(expr, .fini = expr_fini);

Test(expr, or_and_not_comparison)
{
    /* a or (b and (not (c == d))) */
    const ast_expr *e = expr("subject.a or subject.b and not subject.c == subject.d");
    binary_is(e, AST_OP_OR);
    path_is(e->u.op.lhs, "subject.a");
    const ast_expr *and = e->u.op.rhs;
    binary_is(and, AST_OP_AND);
    path_is(and->u.op.lhs, "subject.b");
    const ast_expr *not = and->u.op.rhs;
    cr_assert_eq(not->kind, AST_UNARY);
    cr_assert_eq(not->u.op.op, AST_OP_NOT);
    binary_is(not->u.op.lhs, AST_OP_EQ);
    path_is(not->u.op.lhs->u.op.rhs, "subject.d");
    span_is(e->span, 2, 28, 53);
    span_is(not->span, 2, 55, 26);
}

Test(expr, left_associative_terms)
{
    /* ((1 - 2) + 3) == -4 */
    const ast_expr *e = expr("1 - 2 + 3 == -4");
    binary_is(e, AST_OP_EQ);
    binary_is(e->u.op.lhs, AST_OP_ADD);
    binary_is(e->u.op.lhs->u.op.lhs, AST_OP_SUB);
    cr_assert_eq(e->u.op.lhs->u.op.lhs->u.op.lhs->u.i, 1);
    cr_assert_eq(e->u.op.lhs->u.op.rhs->u.i, 3);
    const ast_expr *neg = e->u.op.rhs;
    cr_assert_eq(neg->kind, AST_UNARY);
    cr_assert_eq(neg->u.op.op, AST_OP_NEG);
    cr_assert_eq(neg->u.op.lhs->u.i, 4);
}

Test(expr, terms_bind_tighter_than_comparisons)
{
    const ast_expr *e = expr("now - @2026-01-01 < 30d + 12h");
    binary_is(e, AST_OP_LT);
    binary_is(e->u.op.lhs, AST_OP_SUB);
    binary_is(e->u.op.rhs, AST_OP_ADD);
    cr_assert_eq(e->u.op.lhs->u.op.rhs->kind, AST_TIMESTAMP);
    cr_assert_eq(e->u.op.lhs->u.op.rhs->u.i, INT64_C(1767225600) * 1000000);
    cr_assert_eq(e->u.op.rhs->u.op.lhs->u.i, INT64_C(30) * 86400 * 1000000);
    cr_assert_eq(e->u.op.rhs->u.op.rhs->u.i, INT64_C(12) * 3600 * 1000000);
    cr_assert_eq(e->type.kind, SL_BOOL);
    cr_assert_eq(e->u.op.lhs->type.kind, SL_DURATION);
}

Test(expr, parentheses_override)
{
    const ast_expr *e = expr("(subject.a or subject.b) and subject.c");
    binary_is(e, AST_OP_AND);
    binary_is(e->u.op.lhs, AST_OP_OR);
    span_is(e->u.op.lhs->span, 2, 28, 24);
}

Test(expr, literals)
{
    const ast_expr *e = expr("[\"a\\\"b\\\\c\\n\\t\\u{e9}\\u{1F600}\", \"\"] has \"x\"");
    const ast_expr *s = e->u.op.lhs;
    cr_assert_eq(s->u.set.n, 2);
    str_is(s->u.set.items[0]->u.str, "a\"b\\c\n\t\xc3\xa9\xf0\x9f\x98\x80");
    str_is(s->u.set.items[1]->u.str, "");
    e = expr("subject.n == -9223372036854775808 or subject.n == 9223372036854775807");
    cr_assert_eq(e->u.op.lhs->u.op.rhs->kind, AST_INT);
    cr_assert_eq(e->u.op.lhs->u.op.rhs->u.i, INT64_MIN);
    span_is(e->u.op.lhs->u.op.rhs->span, 2, 41, 20);
    cr_assert_eq(e->u.op.rhs->u.op.rhs->u.i, INT64_MAX);
    e = expr("now > @2026-06-01T12:30:00.5+02:00 and true and not false");
    cr_assert_eq(e->u.op.lhs->u.op.lhs->u.op.rhs->u.i,
                 (INT64_C(1780317000) - 7200) * 1000000 + 500000);
    cr_assert(e->u.op.lhs->u.op.rhs->u.b);
    e = expr("[] == [] and 10s + 15m + 1y > 0s");
    cr_assert_eq(e->u.op.lhs->u.op.lhs->u.set.n, 0);
    cr_assert_eq(e->u.op.rhs->u.op.lhs->u.op.rhs->u.i, INT64_C(365) * 86400 * 1000000);
}

Test(expr, paths_and_calls)
{
    const ast_expr *e = expr("lower(subject.org.unit) in product.attributes.units and present(context.on)");
    const ast_expr *c = e->u.op.lhs->u.op.lhs;
    cr_assert_eq(c->kind, AST_CALL);
    str_is(c->u.call.name, "lower");
    cr_assert_eq(c->u.call.nargs, 1);
    cr_assert_eq(c->u.call.builtin, sl_builtin_find("lower", 5));
    const ast_expr *p = c->u.call.args[0];
    cr_assert_eq(p->u.path.root, AST_ROOT_SUBJECT);
    cr_assert_eq(p->u.path.nsegs, 2);
    str_is(p->u.path.segs[0], "org");
    str_is(p->u.path.segs[1], "unit");
    span_is(p->span, 2, 34, 16);
    span_is(c->span, 2, 28, 23);
    const ast_expr *pr = e->u.op.rhs;
    cr_assert_eq(pr->u.call.builtin, -1);
    /* a keyword may name an attribute after a dot */
    path_is(pr->u.call.args[0], "context.on");
    cr_assert_eq(pr->type.kind, SL_BOOL);
}

Test(expr, comments_and_no_separators)
{
    const char *s = "# leading comment\npolicy a { # after brace\n"
                    "  permit read on port # trailing\n  forbid write on port when true\n}\n"
                    "policy b {}\n";
    unit x;
    unit_compile(&x, "c.policy", s, strlen(s), NULL);
    cr_assert_eq(x.d.errors, 0);
    cr_assert_eq(x.f->npolicies, 2);
    cr_assert_eq(x.f->policies[0].nrules, 2);
    cr_assert_null(x.f->policies[0].rules[0].when);
    cr_assert_eq(x.f->policies[0].rules[1].span.line, 4);
    cr_assert_eq(x.f->policies[1].nrules, 0);
    unit_free(&x);
}

/* ---- recovery ------------------------------------------------------------ */

Test(recovery, several_errors_in_one_file)
{
    const char *s = "policy p {\n"
                    "  permit read colum\n"           /* missing on */
                    "  forbid read on port when (\n"  /* missing expression */
                    "  permit read on port\n"         /* fine */
                    "  mask column with blur\n"       /* bad mask */
                    "}\n";
    unit x;
    unit_compile(&x, "r.policy", s, strlen(s), NULL);
    cr_assert_eq(x.d.errors, 3);
    cr_assert_str_eq(x.d.items[0].message, "expected `on`, found `colum`");
    cr_assert_str_eq(x.d.items[1].message, "expected an expression, found `permit`");
    cr_assert_eq(x.d.items[1].span.line, 4);
    cr_assert_str_eq(x.d.items[2].message,
                     "expected a mask (`hash`, `redact`, `null`, `last4` or `year`), found `blur`");
    /* the policy is still returned, with every rule it saw */
    cr_assert_eq(x.f->npolicies, 1);
    cr_assert_eq(x.f->policies[0].nrules, 4);
    cr_assert_eq(x.f->policies[0].rules[2].ordinal, 3);
    cr_assert_not(x.checked);
    unit_free(&x);
}

Test(recovery, errors_are_capped)
{
    char s[8192];
    size_t k = (size_t)sprintf(s, "policy p {\n");
    for (int i = 0; i < 30; i++)
        k += (size_t)sprintf(s + k, "  permit read on colum\n");
    sprintf(s + k, "}\n");
    unit x;
    unit_compile(&x, "cap.policy", s, strlen(s), NULL);
    cr_assert_eq(x.d.errors, 30);
    cr_assert_eq(x.d.n, DIAG_MAX_ERRORS);
    cr_assert_eq(x.d.dropped, 30 - DIAG_MAX_ERRORS);
    cr_assert_eq(x.d.items[19].span.line, 21);
    char *r = unit_render(&x);
    const char *tail = "30 errors generated (10 not shown).\n";
    cr_assert_str_eq(r + strlen(r) - strlen(tail), tail);
    free(r);
    unit_free(&x);
}

Test(recovery, render_single_error_and_colour)
{
    const char *s = "policy p {\n  permit read on colum\n}\n";
    unit x;
    unit_compile(&x, "one.policy", s, strlen(s), NULL);
    char *r = unit_render(&x);
    cr_assert_str_eq(r, "one.policy:2:18: error: expected a target (`product`, `port` or `column`), found `colum`\n"
                        "  2 |   permit read on colum\n"
                        "    |                  ^~~~~\n"
                        "hint: did you mean `column`?\n");
    free(r);
    r = diag_render(&x.d, true, NULL, NULL);
    cr_assert_str_eq(r, "\033[1mone.policy:2:18: \033[1;31merror:\033[0m\033[1m expected a target (`product`, `port` or `column`), found `colum`\033[0m\n"
                        "  2 |   permit read on colum\n"
                        "    |                  \033[1;32m^~~~~\033[0m\n"
                        "\033[1;36mhint:\033[0m did you mean `column`?\n");
    free(r);
    unit_free(&x);
}

Test(recovery, no_errors_renders_empty)
{
    const char *s = "policy p { }";
    unit x;
    unit_compile(&x, "ok.policy", s, strlen(s), NULL);
    char *r = unit_render(&x);
    cr_assert_str_eq(r, "");
    free(r);
    unit_free(&x);
}

/* A line longer than 160 bytes is shown as a window around the error,
 * cut with "...", and the caret still points at the span. */
Test(recovery, long_line_is_shown_around_the_error)
{
    enum { PAD = 1000 };
    char *s = malloc(PAD + 128);
    cr_assert_not_null(s);
    int k = sprintf(s, "policy p {\n  permit read on column when ");
    memset(s + k, ' ', PAD);
    strcpy(s + k + PAD, "subject.roles hass \"x\"\n}\n");
    unit x;
    unit_compile(&x, "long.policy", s, strlen(s), NULL);
    char *r = unit_render(&x);
    /* 60 bytes before the span, then the rest of the line (under 160). */
    char want[1024], *w = want;
    w += sprintf(w, "long.policy:2:%d: error: expected a new rule or `}`, found `hass`\n"
                    "  2 | ...", 30 + PAD + 14);
    w += sprintf(w, "%46ssubject.roles hass \"x\"\n    |    %60s^~~~\n", "", "");
    cr_assert_eq(strncmp(r, want, strlen(want)), 0, "got:\n%s\nwant:\n%s", r, want);
    free(r);
    unit_free(&x);
    free(s);
}

/* Duplicate names are found among many policies, each against the first
 * definition. */
Test(recovery, duplicates_among_many_policies)
{
    enum { N = 100000 };
    char *s = malloc((size_t)N * 24 + 64);
    cr_assert_not_null(s);
    size_t k = 0;
    for (int i = 0; i < N; i++)
        k += (size_t)sprintf(s + k, "policy p%06d { }\n", i);
    k += (size_t)sprintf(s + k, "policy p000007 { }\npolicy p099999 { }\n");
    unit x;
    unit_compile(&x, "many.policy", s, k, NULL);
    cr_assert_eq(x.d.n, 2);
    cr_assert_eq(x.f->npolicies, N);
    char *r = unit_render(&x);
    cr_assert_str_eq(r, "many.policy:100001:8: error: duplicate policy `p000007`\n"
                        "  100001 | policy p000007 { }\n"
                        "         |        ^~~~~~~\n"
                        "hint: first defined at line 8\n"
                        "many.policy:100002:8: error: duplicate policy `p099999`\n"
                        "  100002 | policy p099999 { }\n"
                        "         |        ^~~~~~~\n"
                        "hint: first defined at line 100000\n"
                        "2 errors generated.\n");
    free(r);
    unit_free(&x);
    free(s);
}
