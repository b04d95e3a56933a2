/*
 * value_test.c — kind and type names, equality under the interning
 * invariant, the total order, sorted sets, error names, scratch strings.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "helpers.h"

Test(value, kind_and_type_names)
{
    const char *want[] = { "missing", "bool", "int", "string", "duration",
                           "timestamp", "set", "record", "any" };
    for (int k = 0; k < SL_KIND_COUNT; k++)
        cr_assert_str_eq(sl_kind_name((sl_kind)k), want[k]);
    cr_assert_str_eq(sl_kind_name(SL_KIND_COUNT), "invalid");

    char buf[32];
    sl_type_format((sl_type){ SL_SET, SL_STRING }, buf, sizeof buf);
    cr_assert_str_eq(buf, "set<string>");
    sl_type_format((sl_type){ SL_SET, SL_ANY }, buf, sizeof buf);
    cr_assert_str_eq(buf, "set<any>");
    sl_type_format((sl_type){ SL_SET, SL_MISSING }, buf, sizeof buf);
    cr_assert_str_eq(buf, "set<any>");
    sl_type_format((sl_type){ SL_ANY, 0 }, buf, sizeof buf);
    cr_assert_str_eq(buf, "any");
    sl_type_format((sl_type){ SL_TIMESTAMP, 0 }, buf, sizeof buf);
    cr_assert_str_eq(buf, "timestamp");
    sl_type_format((sl_type){ SL_SET, SL_STRING }, buf, 5);
    cr_assert_str_eq(buf, "set<", "truncated, NUL-terminated");
}

Test(value, equality_interning_invariant)
{
    char a[] = "pii", b[] = "pii";
    sl_value x = str_sym(a, 7), y = str_sym(b, 7), z = str_sym(b, 8);
    cr_assert(sl_value_equal(&x, &y), "same sym");
    cr_assert_not(sl_value_equal(&x, &z), "different syms decide without bytes");
    sl_value u = str(b), w = str(a);
    cr_assert_not(sl_value_equal(&x, &u), "sym on one side only: unequal");
    cr_assert_not(sl_value_equal(&u, &x));
    cr_assert(sl_value_equal(&u, &w), "both without sym: bytes");
    sl_value e1 = str(""), e2 = str("");
    cr_assert(sl_value_equal(&e1, &e2));
    sl_value v = str("pi");
    cr_assert_not(sl_value_equal(&u, &v));
}

Test(value, equality_of_other_kinds)
{
    sl_value i1 = sl_int(5), i2 = sl_int(5), i3 = sl_int(6);
    cr_assert(sl_value_equal(&i1, &i2));
    cr_assert_not(sl_value_equal(&i1, &i3));
    sl_value d = { .kind = SL_DURATION, .u.i = 5 };
    cr_assert_not(sl_value_equal(&i1, &d), "kinds differ");
    sl_value t = sl_bool(true), f = sl_bool(false);
    cr_assert_not(sl_value_equal(&t, &f));
    sl_value m1 = sl_missing(), m2 = sl_missing();
    cr_assert(sl_value_equal(&m1, &m2));
    sl_value items1[] = { str("a"), str("b") }, items2[] = { str("a"), str("b") };
    sl_value s1 = set_of(items1, 2), s2 = set_of(items2, 2), s3 = set_of(items2, 1);
    cr_assert(sl_value_equal(&s1, &s2));
    cr_assert_not(sl_value_equal(&s1, &s3));
}

Test(value, total_order)
{
    sl_value b = sl_bool(true), i = sl_int(-3), s = str("a");
    cr_assert_lt(sl_value_cmp(&b, &i), 0, "by kind first");
    cr_assert_lt(sl_value_cmp(&i, &s), 0);
    cr_assert_gt(sl_value_cmp(&s, &b), 0);
    sl_value i2 = sl_int(INT64_MAX), i3 = sl_int(INT64_MIN);
    cr_assert_eq(sl_value_cmp(&i3, &i2), -1);
    cr_assert_eq(sl_value_cmp(&i2, &i3), 1);
    cr_assert_eq(sl_value_cmp(&i2, &i2), 0);
    sl_value f = sl_bool(false);
    cr_assert_lt(sl_value_cmp(&f, &b), 0);
    sl_value ab = str("ab"), abc = str("abc"), b2 = str("b"), hi = str("\xc3\xa9");
    cr_assert_eq(sl_value_cmp(&ab, &abc), -1, "prefix first");
    cr_assert_eq(sl_value_cmp(&abc, &b2), -1);
    cr_assert_eq(sl_value_cmp(&b2, &hi), -1, "bytes compare unsigned");
    sl_value x = str_sym("zzz", 4), y = str_sym("aaa", 3);
    cr_assert_eq(sl_value_cmp(&x, &y), 1, "order is by bytes, not by sym");
}

Test(value, set_normalize_and_has)
{
    sl_value items[] = { str("pii"), str("email"), str("pii"), str("financial"),
                         str("email"), str("") };
    uint32_t n = sl_set_normalize(items, 6);
    cr_assert_eq(n, 4);
    const char *want[] = { "", "email", "financial", "pii" };
    for (uint32_t k = 0; k < n; k++)
        cr_assert_eq(memcmp(items[k].u.s.ptr, want[k], items[k].u.s.len + 1), 0);
    sl_value s = set_of(items, n);
    for (uint32_t k = 0; k < n; k++) {
        sl_value x = str(want[k]);
        cr_assert(sl_set_has(&s, &x), "%s", want[k]);
    }
    sl_value no = str("phi"), num = sl_int(1);
    cr_assert_not(sl_set_has(&s, &no));
    cr_assert_not(sl_set_has(&s, &num), "other kind");
    sl_value notset = str("pii");
    cr_assert_not(sl_set_has(&notset, &notset));
    sl_value empty = set_of(NULL, 0);
    cr_assert_not(sl_set_has(&empty, &no));
    cr_assert_eq(sl_set_normalize(items, 0), 0);
    cr_assert_eq(sl_set_normalize(items, 1), 1);
}

Test(value, set_has_with_syms)
{
    /* A set of interned strings, searched with an interned probe. */
    sl_value items[] = { str_sym("c", 3), str_sym("a", 1), str_sym("b", 2) };
    uint32_t n = sl_set_normalize(items, 3);
    cr_assert_eq(n, 3);
    cr_assert_eq(items[0].u.s.sym, 1);
    cr_assert_eq(items[2].u.s.sym, 3);
    sl_value s = set_of(items, n);
    sl_value b = str_sym("b", 2), d = str_sym("d", 4);
    cr_assert(sl_set_has(&s, &b));
    cr_assert_not(sl_set_has(&s, &d));
}

Test(value, mixed_set)
{
    sl_value items[] = { sl_int(3), str("x"), sl_int(-1), sl_bool(true), sl_int(3) };
    uint32_t n = sl_set_normalize(items, 5);
    cr_assert_eq(n, 4);
    cr_assert_eq(items[0].kind, SL_BOOL);
    cr_assert_eq(items[1].u.i, -1);
    cr_assert_eq(items[2].u.i, 3);
    cr_assert_eq(items[3].kind, SL_STRING);
}

Test(value, err_names)
{
    cr_assert_str_eq(sl_err_str(SL_OK), "ok");
    cr_assert_str_eq(sl_err_str(SL_E_TYPE), "type mismatch");
    cr_assert_str_eq(sl_err_str(SL_E_MISSING), "missing attribute");
    cr_assert_str_eq(sl_err_str(SL_E_OVERFLOW), "integer overflow");
    cr_assert_str_eq(sl_err_str(SL_E_REGEX_LIMIT), "regular expression match limit reached");
    cr_assert_str_eq(sl_err_str(SL_E_SCRATCH), "evaluation scratch space exhausted");
    cr_assert_str_eq(sl_err_str(SL_E_ARG), "argument out of range");
    cr_assert_str_eq(sl_err_str(SL_E_BUDGET), "evaluation step budget exhausted");
    cr_assert_str_eq(sl_err_str((sl_err)99), "unknown evaluation error");
}

Test(value, make_string_in_scratch)
{
    sl_intern *t = sl_intern_new(NULL, NULL);
    cr_assert_eq(sl_intern_add(t, "pii", 3), 1);
    char buf[8];
    sl_ctx cx = { .syms = t, .scratch = buf, .scratch_cap = sizeof buf };
    sl_value v;
    cr_assert_eq(sl_make_string(&cx, "pii", 3, &v), SL_OK);
    cr_assert_eq(v.kind, SL_STRING);
    cr_assert_eq(v.u.s.ptr, buf);
    cr_assert_eq(v.u.s.len, 3);
    cr_assert_eq(v.u.s.sym, 1, "interned strings get their sym");
    cr_assert_eq(sl_make_string(&cx, "abcd", 4, &v), SL_OK);
    cr_assert_eq(v.u.s.ptr, buf + 3);
    cr_assert_eq(v.u.s.sym, 0);
    cr_assert_eq(cx.scratch_len, 7);
    cr_assert_eq(sl_make_string(&cx, "xy", 2, &v), SL_E_SCRATCH);
    cr_assert_eq(cx.scratch_len, 7, "a failed copy takes no space");
    cr_assert_eq(sl_make_string(&cx, "x", 1, &v), SL_OK);
    cr_assert_eq(sl_make_string(&cx, "", 0, &v), SL_OK, "empty fits in a full buffer");
    cx.syms = NULL;
    cx.scratch_len = 0;
    cr_assert_eq(sl_make_string(&cx, "pii", 3, &v), SL_OK);
    cr_assert_eq(v.u.s.sym, 0, "no table: no sym");
    sl_ctx none = { 0 };
    cr_assert_eq(sl_make_string(&none, "a", 1, &v), SL_E_SCRATCH);
    sl_intern_free(t);
}
