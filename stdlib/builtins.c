/*
 * builtins.c — the builtin functions of the policy language and the table
 * that registers them (name, arity, argument kinds, result type, doc).
 *
 * Every function re-checks its arguments at run time, because values from
 * untyped paths reach it unchecked: a missing argument is SL_E_MISSING, one
 * of the wrong kind SL_E_TYPE, checked left to right. Nothing allocates:
 * strings built here go to the caller's scratch buffer.
 */
#include <string.h>
#include "stdlib/stdlib.h"
#include "stdlib/internal.h"

#define K(k) SL_KIND_BIT(k)
#define US_PER_HOUR (INT64_C(3600) * 1000000)
#define US_PER_DAY (24 * US_PER_HOUR)

/* ---- argument checks ----------------------------------------------------- */

static sl_err want(const sl_value *v, sl_kind k)
{
    if (v->kind == SL_MISSING)
        return SL_E_MISSING;
    return v->kind == k ? SL_OK : SL_E_TYPE;
}

static sl_err want2(const sl_value *args, int nargs, sl_kind a, sl_kind b)
{
    sl_err e;
    if (nargs != 2)
        return SL_E_ARG;
    if ((e = want(&args[0], a)) != SL_OK)
        return e;
    return want(&args[1], b);
}

static sl_err want1(const sl_value *args, int nargs, sl_kind a)
{
    return nargs != 1 ? SL_E_ARG : want(&args[0], a);
}

/* ---- strings ------------------------------------------------------------- */

/* ASCII case mapping; other bytes (all of multi-byte UTF-8) are kept. An
 * unchanged string is returned as is, keeping its symbol and using no
 * scratch; otherwise the result is built in scratch and looked up. */
static sl_err map_case(sl_ctx *cx, const sl_value *args, int nargs,
                       sl_value *out, bool upper)
{
    sl_err e = want1(args, nargs, SL_STRING);
    if (e)
        return e;
    const sl_value *s = &args[0];
    char lo = upper ? 'a' : 'A', hi = upper ? 'z' : 'Z';
    uint32_t first = 0;
    while (first < s->u.s.len && (s->u.s.ptr[first] < lo || s->u.s.ptr[first] > hi))
        first++;
    if (first == s->u.s.len) {
        *out = *s;
        return SL_OK;
    }
    size_t mark = cx->scratch_len;
    if ((e = sl_make_string(cx, s->u.s.ptr, s->u.s.len, out)) != SL_OK)
        return e;
    char *w = cx->scratch + mark;
    for (uint32_t k = first; k < s->u.s.len; k++)
        if (w[k] >= lo && w[k] <= hi)
            w[k] = (char)(w[k] ^ 0x20);
    out->u.s.sym = cx->syms ? sl_intern_find(cx->syms, w, out->u.s.len) : 0;
    return SL_OK;
}

static sl_err fn_lower(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    return map_case(cx, args, nargs, out, false);
}

static sl_err fn_upper(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    return map_case(cx, args, nargs, out, true);
}

/* Characters, counted as sl_utf8_len walks them. */
static int64_t utf8_count(const char *s, size_t n)
{
    int64_t c = 0;
    for (size_t i = 0; i < n; i += sl_utf8_len(s, i, n))
        c++;
    return c;
}

static sl_err fn_len(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    (void)cx;
    if (nargs != 1)
        return SL_E_ARG;
    switch (args[0].kind) {
    case SL_MISSING: return SL_E_MISSING;
    case SL_STRING: *out = sl_int(utf8_count(args[0].u.s.ptr, args[0].u.s.len)); return SL_OK;
    case SL_SET: *out = sl_int(args[0].u.set.n); return SL_OK;
    default: return SL_E_TYPE;
    }
}

static bool has_at(const sl_value *s, size_t at, const sl_value *part)
{
    return part->u.s.len == 0 || memcmp(s->u.s.ptr + at, part->u.s.ptr, part->u.s.len) == 0;
}

static sl_err fn_starts_with(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    (void)cx;
    sl_err e = want2(args, nargs, SL_STRING, SL_STRING);
    if (e)
        return e;
    *out = sl_bool(args[1].u.s.len <= args[0].u.s.len && has_at(&args[0], 0, &args[1]));
    return SL_OK;
}

static sl_err fn_ends_with(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    (void)cx;
    sl_err e = want2(args, nargs, SL_STRING, SL_STRING);
    if (e)
        return e;
    uint32_t n = args[0].u.s.len, m = args[1].u.s.len;
    *out = sl_bool(m <= n && has_at(&args[0], n - m, &args[1]));
    return SL_OK;
}

/* Byte substring search; any match of valid UTF-8 inside valid UTF-8 falls
 * on character boundaries. */
static sl_err fn_contains(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    (void)cx;
    sl_err e = want2(args, nargs, SL_STRING, SL_STRING);
    if (e)
        return e;
    uint32_t n = args[0].u.s.len, m = args[1].u.s.len;
    bool hit = m == 0;
    for (uint32_t at = 0; !hit && m <= n && at <= n - m; at++) {
        const char *p = memchr(args[0].u.s.ptr + at, args[1].u.s.ptr[0], n - m - at + 1);
        if (!p)
            break;
        at = (uint32_t)(p - args[0].u.s.ptr);
        hit = has_at(&args[0], at, &args[1]);
    }
    *out = sl_bool(hit);
    return SL_OK;
}

/* ---- sets ---------------------------------------------------------------- */

/* Both sets are sorted by sl_value_cmp, so one merge walk answers. */
static sl_err fn_intersects(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    (void)cx;
    sl_err e = want2(args, nargs, SL_SET, SL_SET);
    if (e)
        return e;
    const sl_value *a = args[0].u.set.items, *b = args[1].u.set.items;
    uint32_t i = 0, j = 0, n = args[0].u.set.n, m = args[1].u.set.n;
    bool hit = false;
    while (!hit && i < n && j < m) {
        int c = sl_value_cmp(&a[i], &b[j]);
        hit = c == 0;
        i += c <= 0;
        j += c >= 0;
    }
    *out = sl_bool(hit);
    return SL_OK;
}

static sl_err fn_subset(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    (void)cx;
    sl_err e = want2(args, nargs, SL_SET, SL_SET);
    if (e)
        return e;
    const sl_value *a = args[0].u.set.items, *b = args[1].u.set.items;
    uint32_t i = 0, j = 0, n = args[0].u.set.n, m = args[1].u.set.n;
    while (i < n && j < m) {
        int c = sl_value_cmp(&a[i], &b[j]);
        if (c < 0)
            break;            /* a[i] is smaller than everything left in b */
        i += c == 0;
        j++;
    }
    *out = sl_bool(i == n);
    return SL_OK;
}

static sl_err fn_is_empty(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    (void)cx;
    sl_err e = want1(args, nargs, SL_SET);
    if (e)
        return e;
    *out = sl_bool(args[0].u.set.n == 0);
    return SL_OK;
}

/* ---- time ---------------------------------------------------------------- */

static sl_err fn_days_between(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    (void)cx;
    sl_err e = want2(args, nargs, SL_TIMESTAMP, SL_TIMESTAMP);
    if (e)
        return e;
    int64_t d;
    if (!sl_sub_overflow(args[1].u.i, args[0].u.i, &d))
        return SL_E_OVERFLOW;
    *out = sl_int(d / US_PER_DAY);    /* C division truncates toward zero */
    return SL_OK;
}

static sl_err fn_year(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    (void)cx;
    sl_err e = want1(args, nargs, SL_TIMESTAMP);
    if (e)
        return e;
    *out = sl_int(sl_timestamp_year(args[0].u.i));
    return SL_OK;
}

static sl_err scaled_duration(const sl_value *args, int nargs, int64_t unit, sl_value *out)
{
    sl_err e = want1(args, nargs, SL_INT);
    if (e)
        return e;
    int64_t us;
    if (__builtin_mul_overflow(args[0].u.i, unit, &us))
        return SL_E_OVERFLOW;
    out->kind = SL_DURATION;
    out->u.i = us;
    return SL_OK;
}

static sl_err fn_days(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    (void)cx;
    return scaled_duration(args, nargs, US_PER_DAY, out);
}

static sl_err fn_hours(sl_ctx *cx, const sl_value *args, int nargs, sl_value *out)
{
    (void)cx;
    return scaled_duration(args, nargs, US_PER_HOUR, out);
}

/* ---- the table ----------------------------------------------------------- */

#define T(k) { .kind = (k), .elem = 0 }

const sl_builtin sl_builtins[] = {
    { "lower", 1, 1, { K(SL_STRING) }, T(SL_STRING), fn_lower,
      "lower(s) — s with ASCII letters A-Z in lower case; other characters unchanged" },
    { "upper", 1, 1, { K(SL_STRING) }, T(SL_STRING), fn_upper,
      "upper(s) — s with ASCII letters a-z in upper case; other characters unchanged" },
    { "len", 1, 1, { K(SL_STRING) | K(SL_SET) }, T(SL_INT), fn_len,
      "len(x) — characters (UTF-8 code points) of a string, or elements of a set" },
    { "starts_with", 2, 2, { K(SL_STRING), K(SL_STRING) }, T(SL_BOOL), fn_starts_with,
      "starts_with(s, prefix) — whether s begins with prefix" },
    { "ends_with", 2, 2, { K(SL_STRING), K(SL_STRING) }, T(SL_BOOL), fn_ends_with,
      "ends_with(s, suffix) — whether s ends with suffix" },
    { "contains", 2, 2, { K(SL_STRING), K(SL_STRING) }, T(SL_BOOL), fn_contains,
      "contains(s, sub) — whether sub occurs in the string s" },
    { "intersects", 2, 2, { K(SL_SET), K(SL_SET) }, T(SL_BOOL), fn_intersects,
      "intersects(a, b) — whether sets a and b share an element" },
    { "subset", 2, 2, { K(SL_SET), K(SL_SET) }, T(SL_BOOL), fn_subset,
      "subset(a, b) — whether every element of set a is in set b" },
    { "is_empty", 1, 1, { K(SL_SET) }, T(SL_BOOL), fn_is_empty,
      "is_empty(a) — whether set a has no elements" },
    { "days_between", 2, 2, { K(SL_TIMESTAMP), K(SL_TIMESTAMP) }, T(SL_INT), fn_days_between,
      "days_between(a, b) — whole days from timestamp a to b, truncated toward zero (negative if b is before a)" },
    { "year", 1, 1, { K(SL_TIMESTAMP) }, T(SL_INT), fn_year,
      "year(t) — calendar year of timestamp t in UTC" },
    { "days", 1, 1, { K(SL_INT) }, T(SL_DURATION), fn_days,
      "days(n) — a duration of n days (n * 86400 s)" },
    { "hours", 1, 1, { K(SL_INT) }, T(SL_DURATION), fn_hours,
      "hours(n) — a duration of n hours" },
    { NULL, 0, 0, { 0 }, T(SL_MISSING), NULL, NULL },
};

int sl_builtin_find(const char *name, size_t len)
{
    for (int k = 0; sl_builtins[k].name; k++)
        if (strlen(sl_builtins[k].name) == len && memcmp(sl_builtins[k].name, name, len) == 0)
            return k;
    return -1;
}

/* ---- did you mean -------------------------------------------------------- */

#define SUGGEST_MAX_DIST 2
#define NAME_MAX_LEN 32

/* Levenshtein distance of a and b (both at most NAME_MAX_LEN bytes), with
 * one row of the table. */
static size_t edit_distance(const char *a, size_t n, const char *b, size_t m)
{
    size_t row[NAME_MAX_LEN + 1];
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

/* The closest name within distance 2, the earliest in the table on a tie.
 * Names whose lengths differ by more than 2 cannot be that close. */
const char *sl_builtin_suggest(const char *name, size_t len)
{
    const char *best = NULL;
    size_t best_d = SUGGEST_MAX_DIST + 1;
    if (len > NAME_MAX_LEN)
        return NULL;
    for (int k = 0; sl_builtins[k].name; k++) {
        const char *cand = sl_builtins[k].name;
        size_t m = strlen(cand);
        if (m > NAME_MAX_LEN || (m > len ? m - len : len - m) > SUGGEST_MAX_DIST)
            continue;
        size_t d = edit_distance(name, len, cand, m);
        if (d < best_d) {
            best_d = d;
            best = cand;
        }
    }
    return best;
}
