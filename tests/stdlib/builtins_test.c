/*
 * builtins_test.c — every builtin with exact results, missing and wrongly
 * typed arguments, the table itself, lookup and "did you mean".
 */
#include <criterion/criterion.h>
#include <string.h>
#include "helpers.h"

static sl_intern *syms;
static char scratch[64];
static sl_ctx cx;

static void setup(void)
{
    syms = sl_intern_new(NULL, NULL);
    sl_intern_add(syms, "pii", 3);      /* 1 */
    sl_intern_add(syms, "PII", 3);      /* 2 */
    memset(&cx, 0, sizeof cx);
    cx.syms = syms;
    cx.scratch = scratch;
    cx.scratch_cap = sizeof scratch;
}

static void teardown(void)
{
    sl_intern_free(syms);
}

TestSuite(builtins, .init = setup, .fini = teardown);

static const sl_builtin *fn(const char *name)
{
    int k = sl_builtin_find(name, strlen(name));
    cr_assert_geq(k, 0, "%s", name);
    return &sl_builtins[k];
}

static sl_err call(const char *name, const sl_value *args, int n, sl_value *out)
{
    memset(out, 0xAB, sizeof *out);
    return fn(name)->fn(&cx, args, n, out);
}

static sl_value call_ok(const char *name, const sl_value *args, int n)
{
    sl_value out;
    sl_err e = call(name, args, n, &out);
    cr_assert_eq(e, SL_OK, "%s: %s", name, sl_err_str(e));
    return out;
}

static void want_str(sl_value v, const char *s, uint32_t sym)
{
    cr_assert_eq(v.kind, SL_STRING);
    cr_assert_eq(v.u.s.len, strlen(s));
    cr_assert_eq(memcmp(v.u.s.ptr, s, v.u.s.len), 0);
    cr_assert_eq(v.u.s.sym, sym);
}

static bool bool_of(const char *name, sl_value a, sl_value b)
{
    sl_value args[2] = { a, b };
    sl_value r = call_ok(name, args, 2);
    cr_assert_eq(r.kind, SL_BOOL);
    return r.u.b;
}

static int64_t int_of(const char *name, const sl_value *args, int n, sl_kind kind)
{
    sl_value r = call_ok(name, args, n);
    cr_assert_eq(r.kind, kind, "%s result kind %d", name, r.kind);
    return r.u.i;
}

Test(builtins, lower_upper)
{
    sl_value a = str("Hello, Wörld É");
    want_str(call_ok("lower", &a, 1), "hello, wörld É", 0);
    want_str(call_ok("upper", &a, 1), "HELLO, WöRLD É", 0);
    sl_value p = str("PII");
    want_str(call_ok("lower", &p, 1), "pii", 1);   /* result looked up in the table */
    p = str("pIi");
    want_str(call_ok("upper", &p, 1), "PII", 2);
    /* Already in the right case: the argument comes back, no scratch used. */
    size_t used = cx.scratch_len;
    sl_value q = str_sym("pii", 1);
    sl_value r = call_ok("lower", &q, 1);
    cr_assert_eq(r.u.s.ptr, q.u.s.ptr);
    cr_assert_eq(r.u.s.sym, 1);
    cr_assert_eq(cx.scratch_len, used);
    sl_value e = str("");
    want_str(call_ok("upper", &e, 1), "", 0);
}

Test(builtins, lower_runs_out_of_scratch)
{
    char big[100];
    memset(big, 'A', 99);
    big[99] = 0;
    sl_value a = str(big), out;
    cr_assert_eq(call("lower", &a, 1, &out), SL_E_SCRATCH);
}

Test(builtins, len)
{
    sl_value a = str("café");
    cr_assert_eq(int_of("len", &a, 1, SL_INT), 4, "characters, not bytes");
    a = str("");
    cr_assert_eq(int_of("len", &a, 1, SL_INT), 0);
    a = str("😀€\xff");
    cr_assert_eq(int_of("len", &a, 1, SL_INT), 3, "a stray byte counts as one");
    sl_value items[] = { str("a"), str("b"), str("c") };
    a = set_of(items, 3);
    cr_assert_eq(int_of("len", &a, 1, SL_INT), 3);
    a = set_of(NULL, 0);
    cr_assert_eq(int_of("len", &a, 1, SL_INT), 0);
}

Test(builtins, string_predicates)
{
    cr_assert(bool_of("starts_with", str("ext-42@partner.com"), str("ext-")));
    cr_assert_not(bool_of("starts_with", str("ext"), str("ext-")));
    cr_assert(bool_of("starts_with", str("abc"), str("")));
    cr_assert(bool_of("starts_with", str(""), str("")));
    cr_assert(bool_of("ends_with", str("ext-42@partner.com"), str("@partner.com")));
    cr_assert_not(bool_of("ends_with", str("partner.com"), str("@partner.com")));
    cr_assert_not(bool_of("ends_with", str("abc"), str("ab")));
    cr_assert(bool_of("ends_with", str("abc"), str("")));
    cr_assert(bool_of("contains", str("sales-eu-orders"), str("-eu-")));
    cr_assert(bool_of("contains", str("sales-eu-orders"), str("sales-eu-orders")));
    cr_assert(bool_of("contains", str("sales"), str("")));
    cr_assert(bool_of("contains", str("aaab"), str("aab")));
    cr_assert(bool_of("contains", str("abcabd"), str("abd")));
    cr_assert_not(bool_of("contains", str("sales"), str("sales-")));
    cr_assert_not(bool_of("contains", str("sales-eu"), str("EU")));
    cr_assert_not(bool_of("contains", str(""), str("a")));
    sl_value hay = { .kind = SL_STRING, .u.s = { "a\0b", 3, 0 } };
    sl_value needle = { .kind = SL_STRING, .u.s = { "\0b", 2, 0 } };
    cr_assert(bool_of("contains", hay, needle), "embedded NUL");
}

Test(builtins, set_helpers)
{
    sl_value a_items[] = { str("email"), str("pii") };
    sl_value b_items[] = { str("email"), str("financial"), str("pii") };
    sl_value c_items[] = { str("financial"), str("health") };
    sl_value a = set_of(a_items, 2), b = set_of(b_items, 3), c = set_of(c_items, 2);
    sl_value e = set_of(NULL, 0);
    cr_assert(bool_of("intersects", a, b));
    cr_assert(bool_of("intersects", b, c));
    cr_assert_not(bool_of("intersects", a, c));
    cr_assert_not(bool_of("intersects", a, e));
    cr_assert_not(bool_of("intersects", e, e));
    cr_assert(bool_of("subset", a, b));
    cr_assert_not(bool_of("subset", b, a));
    cr_assert_not(bool_of("subset", c, b));
    cr_assert(bool_of("subset", e, a), "the empty set is a subset of any set");
    cr_assert(bool_of("subset", e, e));
    cr_assert(bool_of("subset", b, b));
    cr_assert_not(bool_of("subset", a, e));
    sl_value r = call_ok("is_empty", &e, 1);
    cr_assert_eq(r.kind, SL_BOOL);
    cr_assert(r.u.b);
    r = call_ok("is_empty", &a, 1);
    cr_assert_not(r.u.b);
}

Test(builtins, time_helpers)
{
    int64_t day = INT64_C(86400000000);
    int64_t t2026 = INT64_C(1767225600000000);     /* 2026-01-01T00:00:00Z */
    sl_value args[2] = { ts(t2026), ts(t2026 + 30 * day) };
    cr_assert_eq(int_of("days_between", args, 2, SL_INT), 30);
    args[1] = ts(t2026 + 30 * day - 1);
    cr_assert_eq(int_of("days_between", args, 2, SL_INT), 29, "whole days only");
    args[1] = ts(t2026 - 30 * day + 1);
    cr_assert_eq(int_of("days_between", args, 2, SL_INT), -29, "truncated toward zero");
    args[1] = ts(t2026 - 365 * day);
    cr_assert_eq(int_of("days_between", args, 2, SL_INT), -365);
    args[0] = ts(INT64_MIN);
    args[1] = ts(INT64_MAX);
    sl_value out;
    cr_assert_eq(call("days_between", args, 2, &out), SL_E_OVERFLOW);

    sl_value t = ts(t2026);
    cr_assert_eq(int_of("year", &t, 1, SL_INT), 2026);
    t = ts(t2026 - 1);
    cr_assert_eq(int_of("year", &t, 1, SL_INT), 2025);
    t = ts(-1);
    cr_assert_eq(int_of("year", &t, 1, SL_INT), 1969);
    t = ts(INT64_C(951782400000000));              /* 2000-02-29 */
    cr_assert_eq(int_of("year", &t, 1, SL_INT), 2000);

    sl_value n = sl_int(30);
    cr_assert_eq(int_of("days", &n, 1, SL_DURATION), 30 * day);
    n = sl_int(12);
    cr_assert_eq(int_of("hours", &n, 1, SL_DURATION), INT64_C(43200000000));
    n = sl_int(-2);
    cr_assert_eq(int_of("days", &n, 1, SL_DURATION), -2 * day);
    n = sl_int(106751992);
    cr_assert_eq(call("days", &n, 1, &out), SL_E_OVERFLOW);
    n = sl_int(2562047789);
    cr_assert_eq(call("hours", &n, 1, &out), SL_E_OVERFLOW);
    n = sl_int(2562047788);
    cr_assert_eq(int_of("hours", &n, 1, SL_DURATION), INT64_C(2562047788) * 3600000000);
}

/* Every builtin, called with a missing value or a value of a kind it does
 * not accept in each position, reports SL_E_MISSING / SL_E_TYPE. */
Test(builtins, missing_and_type_errors_everywhere)
{
    sl_value samples[] = { sl_bool(true), sl_int(1), str("s"), ts(0), set_of(NULL, 0),
                           { .kind = SL_DURATION, .u.i = 1 } };
    int nsamples = sizeof samples / sizeof samples[0];
    for (int k = 0; sl_builtins[k].name; k++) {
        const sl_builtin *b = &sl_builtins[k];
        for (int pos = 0; pos < b->max_args; pos++) {
            sl_value args[SL_MAX_ARGS];
            /* Start from arguments of accepted kinds. */
            for (int q = 0; q < b->max_args; q++)
                for (int s = 0; s < nsamples; s++)
                    if (b->params[q] & SL_KIND_BIT(samples[s].kind)) {
                        args[q] = samples[s];
                        break;
                    }
            sl_value out;
            args[pos] = sl_missing();
            cr_assert_eq(b->fn(&cx, args, b->max_args, &out), SL_E_MISSING,
                         "%s arg %d missing", b->name, pos);
            for (int s = 0; s < nsamples; s++) {
                if (b->params[pos] & SL_KIND_BIT(samples[s].kind))
                    continue;
                args[pos] = samples[s];
                cr_assert_eq(b->fn(&cx, args, b->max_args, &out), SL_E_TYPE,
                             "%s arg %d of kind %s", b->name, pos,
                             sl_kind_name((sl_kind)samples[s].kind));
            }
        }
    }
}

Test(builtins, errors_checked_left_to_right)
{
    sl_value args[2] = { sl_int(1), sl_missing() };
    sl_value out;
    cr_assert_eq(call("starts_with", args, 2, &out), SL_E_TYPE);
    args[0] = sl_missing();
    args[1] = sl_int(1);
    cr_assert_eq(call("starts_with", args, 2, &out), SL_E_MISSING);
    cr_assert_eq(call("contains", args, 1, &out), SL_E_ARG, "wrong arity");
}

Test(builtins, table_is_well_formed)
{
    int n = 0;
    for (int k = 0; sl_builtins[k].name; k++, n++) {
        const sl_builtin *b = &sl_builtins[k];
        cr_assert_not_null(b->fn);
        cr_assert_leq(b->min_args, b->max_args);
        cr_assert_leq(b->max_args, SL_MAX_ARGS);
        for (int q = 0; q < b->max_args; q++)
            cr_assert_neq(b->params[q], 0, "%s param %d", b->name, q);
        cr_assert_not_null(b->doc);
        cr_assert_eq(strncmp(b->doc, b->name, strlen(b->name)), 0, "doc starts with the name");
        cr_assert_eq(sl_builtin_find(b->name, strlen(b->name)), k, "names are unique");
    }
    cr_assert_eq(n, 13);
    cr_assert_eq(sl_builtins[fn("len") - sl_builtins].params[0],
                 SL_KIND_BIT(SL_STRING) | SL_KIND_BIT(SL_SET));
    cr_assert_eq(fn("days_between")->result.kind, SL_INT);
    cr_assert_eq(fn("days")->result.kind, SL_DURATION);
    cr_assert_eq(fn("lower")->result.kind, SL_STRING);
    cr_assert_eq(fn("subset")->result.kind, SL_BOOL);
}

Test(builtins, find)
{
    cr_assert_eq(sl_builtin_find("lower", 5), 0);
    cr_assert_eq(sl_builtin_find("lowerx", 5), 0, "length is honored");
    cr_assert_eq(sl_builtin_find("lowe", 4), -1);
    cr_assert_eq(sl_builtin_find("LOWER", 5), -1);
    cr_assert_eq(sl_builtin_find("", 0), -1);
}

static const char *suggest(const char *s)
{
    return sl_builtin_suggest(s, strlen(s));
}

Test(builtins, suggest)
{
    cr_assert_str_eq(suggest("lowr"), "lower");
    cr_assert_str_eq(suggest("lenn"), "len");
    cr_assert_null(suggest("lenght"), "distance 3 is too far");
    cr_assert_str_eq(suggest("startswith"), "starts_with");
    cr_assert_str_eq(suggest("start_with"), "starts_with");
    cr_assert_str_eq(suggest("day_between"), "days_between");
    cr_assert_str_eq(suggest("dayz"), "days");
    cr_assert_str_eq(suggest("hour"), "hours");
    cr_assert_str_eq(suggest("uper"), "upper");
    cr_assert_str_eq(suggest("isempty"), "is_empty");
    cr_assert_str_eq(suggest("year"), "year");
    cr_assert_null(suggest("frobnicate"));
    cr_assert_null(suggest("x"));
    cr_assert_null(suggest(""));
    cr_assert_null(suggest("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}
