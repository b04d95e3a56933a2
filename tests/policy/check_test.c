/*
 * check_test.c — the type checker's annotations (types recorded on every
 * node, builtin indices, schema types) and fault injection: every
 * allocation of parse + check of the design examples fails in turn, and
 * each run must end cleanly (NULL or arena_failed) with nothing leaked.
 */
#include <criterion/criterion.h>
#include "helpers.h"
#include "stdlib/stdlib.h"

static const ast_expr *when_of(unit *u, const char *text, const check_env *env)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "policy p {\n  permit read on column when %s\n}\n", text);
    unit_compile(u, "t.policy", buf, strlen(buf), env);
    char *r = unit_render(u);
    cr_assert(u->ok, "%s:\n%s", text, r);
    free(r);
    return u->f->policies[0].rules[0].when;
}

static void type_is(const ast_expr *e, sl_kind kind, sl_kind elem)
{
    char got[32];
    sl_type_format(e->type, got, sizeof got);
    cr_assert_eq(e->type.kind, kind, "type %s", got);
    if (kind == SL_SET)
        cr_assert_eq(e->type.elem, elem, "type %s", got);
}

Test(check, types_are_recorded)
{
    unit u;
    const ast_expr *e = when_of(&u, "column.tags has lower(subject.tag) and len(port.tags) > 1 "
                                    "and now - @2026-01-01 >= days(3) and product.legal_hold", NULL);
    /* ((A and B) and C) and D */
    const ast_expr *ab = e->u.op.lhs->u.op.lhs;
    const ast_expr *has = ab->u.op.lhs;
    type_is(has, SL_BOOL, 0);
    type_is(has->u.op.lhs, SL_SET, SL_STRING);
    type_is(has->u.op.rhs, SL_STRING, 0);                 /* lower(any) is string */
    type_is(has->u.op.rhs->u.call.args[0], SL_ANY, 0);    /* no schema */
    const ast_expr *len = ab->u.op.rhs->u.op.lhs;
    type_is(len, SL_INT, 0);
    cr_assert_eq(len->u.call.builtin, sl_builtin_find("len", 3));
    const ast_expr *cmp = e->u.op.lhs->u.op.rhs;
    type_is(cmp->u.op.lhs, SL_DURATION, 0);
    type_is(cmp->u.op.lhs->u.op.lhs, SL_TIMESTAMP, 0);
    type_is(cmp->u.op.rhs, SL_DURATION, 0);
    type_is(e->u.op.rhs, SL_BOOL, 0);
    type_is(e, SL_BOOL, 0);
    unit_free(&u);
}

Test(check, attributes_map_and_sets)
{
    unit u;
    const ast_expr *e = when_of(&u, "product.attributes.tier == 1 and [1, 2] has subject.level "
                                    "and [] == port.tags", NULL);
    const ast_expr *attr = e->u.op.lhs->u.op.lhs->u.op.lhs;
    type_is(attr, SL_ANY, 0);
    const ast_expr *set = e->u.op.lhs->u.op.rhs->u.op.lhs;
    type_is(set, SL_SET, SL_INT);
    type_is(e->u.op.rhs->u.op.lhs, SL_SET, SL_ANY);       /* the empty set */
    unit_free(&u);
}

Test(check, schema_types)
{
    static const check_attr attrs[] = {
        { "subject.clearance", { SL_INT, SL_ANY } },
        { "subject.roles", { SL_SET, SL_STRING } },
        { "context.issued_at", { SL_TIMESTAMP, SL_ANY } },
        { "context.ttl", { SL_DURATION, SL_ANY } },
        { "subject.org.unit", { SL_STRING, SL_ANY } },
    };
    static const char *const actions[] = { "export" };
    check_env env = { true, attrs, 5, actions, 1 };
    unit u;
    const ast_expr *e = when_of(&u, "now - context.issued_at < context.ttl and subject.clearance >= 2 "
                                    "and present(subject.org) and subject.org.unit like \"eu-*\"", &env);
    const ast_expr *lt = e->u.op.lhs->u.op.lhs->u.op.lhs;
    type_is(lt->u.op.lhs->u.op.rhs, SL_TIMESTAMP, 0);
    type_is(lt->u.op.rhs, SL_DURATION, 0);
    type_is(e->u.op.lhs->u.op.rhs->u.call.args[0], SL_RECORD, 0);
    unit_free(&u);

    const char *s = "policy p { permit export on port when subject.roles has \"x\" }";
    unit_compile(&u, "a.policy", s, strlen(s), &env);
    cr_assert(u.ok);
    unit_free(&u);
    /* the same path with a typo is an error with the closest declared path */
    s = "policy p { permit read on port when subject.clearence > 1 }";
    unit_compile(&u, "a.policy", s, strlen(s), &env);
    cr_assert_not(u.ok);
    cr_assert_str_eq(u.d.items[0].message, "unknown attribute `subject.clearence`");
    cr_assert_str_eq(u.d.items[0].hint, "did you mean `subject.clearance`?");
    unit_free(&u);
}

Test(check, errors_do_not_cascade)
{
    const char *s = "policy p { permit read on port when not (port.name == 1) and lowr(1) }";
    unit u;
    unit_compile(&u, "c.policy", s, strlen(s), NULL);
    cr_assert_not(u.ok);
    cr_assert_eq(u.d.errors, 2);
    cr_assert_str_eq(u.d.items[0].message, "`==` needs operands of the same type, found string and int");
    cr_assert_str_eq(u.d.items[1].message, "unknown function `lowr`");
    unit_free(&u);
}

/* ---- out of memory -------------------------------------------------------- */

/* Parses and checks src with an allocator that fails after n allocations;
 * true when the whole run succeeded. Asserts a clean outcome either way. */
static bool run_failing_after(const char *src, size_t len, long n)
{
    test_alloc ta = { .fail_after = n };
    arena *a = arena_new(test_alloc_fn, &ta);
    if (!a) {
        cr_assert_eq(ta.live_blocks, 0);
        return false;
    }
    diag_list d;
    diag_init(&d, a);
    ast_file *f = parse_file(a, "design.policy", src, len, &d);
    bool ok = f != NULL;
    if (f) {
        cr_assert_not(arena_failed(a), "parse_file returned a file after an allocation failed");
        ok = check_file(a, f, NULL, &d);
        cr_assert(ok || arena_failed(a), "check failed at %ld without running out of memory", n);
    }
    char *r = diag_render(&d, false, test_alloc_fn, &ta);
    if (r)
        test_alloc_fn(&ta, r, strlen(r) + 1, 0);
    arena_free(a);
    cr_assert_eq(ta.live_blocks, 0, "leak after failing allocation %ld", n);
    return ok && d.errors == 0;
}

Test(oom, every_allocation_fails_in_turn)
{
    size_t len;
    char *src = read_file("tests/policy/design.policy", &len);
    cr_assert_not_null(src);
    long n = 0;
    while (!run_failing_after(src, len, n))
        n++;
    /* the arena, a few chunks and the regex compilations */
    cr_assert_gt(n, 3);
    free(src);
}

Test(oom, failure_in_error_path)
{
    /* errors need memory for their messages too */
    const char *s = "policy p { permit read on colum }\npolicy q { mask port with x }";
    for (long n = 0; n < 8; n++) {
        test_alloc ta = { .fail_after = n };
        arena *a = arena_new(test_alloc_fn, &ta);
        if (a) {
            diag_list d;
            diag_init(&d, a);
            ast_file *f = parse_file(a, "e.policy", s, strlen(s), &d);
            cr_assert(f || arena_failed(a));
            if (f)
                cr_assert_eq(d.errors, 2);
            arena_free(a);
        }
        cr_assert_eq(ta.live_blocks, 0);
    }
}

Test(arena, alignment_and_large_blocks)
{
    test_alloc ta = { .fail_after = -1 };
    arena *a = arena_new(test_alloc_fn, &ta);
    char *p1 = arena_alloc(a, 3);
    char *p2 = arena_alloc(a, 1);
    cr_assert_eq((uintptr_t)p1 % 8, 0);
    cr_assert_eq((uintptr_t)p2 % 8, 0);
    cr_assert_eq(p2 - p1, 8);
    char *big = arena_zalloc(a, 100000);
    cr_assert_not_null(big);
    cr_assert_eq(big[99999], 0);
    char *p3 = arena_alloc(a, 8);
    cr_assert_eq(p3 - p2, 8, "a large block leaves the current chunk in use");
    char *s = arena_strndup(a, "abcdef", 3);
    cr_assert_str_eq(s, "abc");
    cr_assert_not(arena_failed(a));
    arena_free(a);
    cr_assert_eq(ta.live_blocks, 0);
    arena_free(NULL);
}

Test(ast, names)
{
    cr_assert_str_eq(ast_op_name(AST_OP_MATCHES), "matches");
    cr_assert_str_eq(ast_op_name(AST_OP_NE), "!=");
    cr_assert_str_eq(ast_root_name(AST_ROOT_SUBJECT), "subject");
    cr_assert_str_eq(ast_root_name(AST_ROOT_NOW), "now");
    cr_assert_str_eq(ast_rule_kind_name(AST_REQUIRE_ENCRYPTION), "require encryption");
    cr_assert_str_eq(ast_rule_kind_name(AST_FORGET), "forget");
    cr_assert_str_eq(ast_mask_name(AST_MASK_HASH), "hash");
    cr_assert_str_eq(ast_mask_name(AST_MASK_LAST4), "last4");
    cr_assert_str_eq(ast_disposal_name(AST_DISPOSE_ANONYMIZE), "anonymize");
    cr_assert_str_eq(ast_disposal_name((ast_disposal)0), "?");
}
