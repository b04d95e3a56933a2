/*
 * value.c — names of kinds and types, equality and ordering of run-time
 * values, sorted sets, evaluation error names, and run-time strings built in
 * the caller's scratch buffer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stdlib/value.h"

/* ---- kinds and types ----------------------------------------------------- */

const char *sl_kind_name(sl_kind k)
{
    switch (k) {
    case SL_MISSING: return "missing";
    case SL_BOOL: return "bool";
    case SL_INT: return "int";
    case SL_STRING: return "string";
    case SL_DURATION: return "duration";
    case SL_TIMESTAMP: return "timestamp";
    case SL_SET: return "set";
    case SL_RECORD: return "record";
    case SL_ANY: return "any";
    case SL_KIND_COUNT: break;
    }
    return "invalid";
}

/* A set whose element kind is not known (SL_ANY, or SL_MISSING as in the
 * zero-initialized type of an empty literal) prints as "set<any>". */
void sl_type_format(sl_type t, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    if (t.kind == SL_SET) {
        sl_kind e = t.elem == SL_MISSING ? SL_ANY : (sl_kind)t.elem;
        snprintf(buf, cap, "set<%s>", sl_kind_name(e));
    } else {
        snprintf(buf, cap, "%s", sl_kind_name((sl_kind)t.kind));
    }
}

/* ---- equality and order -------------------------------------------------- */

static int bytes_cmp(const char *a, uint32_t alen, const char *b, uint32_t blen)
{
    uint32_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c < 0 ? -1 : 1;
    return alen < blen ? -1 : alen > blen;
}

/* The interning invariant lets equal symbols decide without touching the
 * bytes, and a symbol on one side only decide "unequal" at once. */
static bool string_equal(const sl_value *a, const sl_value *b)
{
    if (a->u.s.sym && b->u.s.sym)
        return a->u.s.sym == b->u.s.sym;
    if (a->u.s.sym || b->u.s.sym)
        return false;
    return a->u.s.len == b->u.s.len &&
           (a->u.s.len == 0 || memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0);
}

bool sl_value_equal(const sl_value *a, const sl_value *b)
{
    if (a->kind != b->kind)
        return false;
    switch ((sl_kind)a->kind) {
    case SL_MISSING: return true;
    case SL_BOOL: return a->u.b == b->u.b;
    case SL_INT: case SL_DURATION: case SL_TIMESTAMP: return a->u.i == b->u.i;
    case SL_STRING: return string_equal(a, b);
    case SL_SET:
        if (a->u.set.n != b->u.set.n)
            return false;
        for (uint32_t k = 0; k < a->u.set.n; k++)
            if (!sl_value_equal(&a->u.set.items[k], &b->u.set.items[k]))
                return false;
        return true;
    default:
        return false;
    }
}

static int int_cmp(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

/* Sets order lexicographically by their (sorted) items, then by size. */
static int set_cmp(const sl_value *a, const sl_value *b)
{
    uint32_t n = a->u.set.n < b->u.set.n ? a->u.set.n : b->u.set.n;
    for (uint32_t k = 0; k < n; k++) {
        int c = sl_value_cmp(&a->u.set.items[k], &b->u.set.items[k]);
        if (c)
            return c;
    }
    return int_cmp(a->u.set.n, b->u.set.n);
}

int sl_value_cmp(const sl_value *a, const sl_value *b)
{
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    switch ((sl_kind)a->kind) {
    case SL_BOOL: return (int)a->u.b - (int)b->u.b;
    case SL_INT: case SL_DURATION: case SL_TIMESTAMP: return int_cmp(a->u.i, b->u.i);
    case SL_STRING:
        /* Same symbol: same bytes, no need to look. */
        if (a->u.s.sym && a->u.s.sym == b->u.s.sym)
            return 0;
        return bytes_cmp(a->u.s.ptr, a->u.s.len, b->u.s.ptr, b->u.s.len);
    case SL_SET: return set_cmp(a, b);
    default: return 0;
    }
}

/* ---- sets ---------------------------------------------------------------- */

bool sl_set_has(const sl_value *s, const sl_value *x)
{
    if (s->kind != SL_SET)
        return false;
    uint32_t lo = 0, hi = s->u.set.n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = sl_value_cmp(&s->u.set.items[mid], x);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int qsort_cmp(const void *a, const void *b)
{
    return sl_value_cmp(a, b);
}

uint32_t sl_set_normalize(sl_value *items, uint32_t n)
{
    if (n < 2)
        return n;
    qsort(items, n, sizeof *items, qsort_cmp);
    uint32_t w = 1;
    for (uint32_t r = 1; r < n; r++)
        if (sl_value_cmp(&items[w - 1], &items[r]) != 0)
            items[w++] = items[r];
    return w;
}

/* ---- errors and run-time strings ---------------------------------------- */

const char *sl_err_str(sl_err e)
{
    switch (e) {
    case SL_OK: return "ok";
    case SL_E_TYPE: return "type mismatch";
    case SL_E_MISSING: return "missing attribute";
    case SL_E_OVERFLOW: return "integer overflow";
    case SL_E_REGEX_LIMIT: return "regular expression match limit reached";
    case SL_E_SCRATCH: return "evaluation scratch space exhausted";
    case SL_E_ARG: return "argument out of range";
    case SL_E_BUDGET: return "evaluation step budget exhausted";
    }
    return "unknown evaluation error";
}

sl_err sl_make_string(sl_ctx *cx, const char *p, uint32_t len, sl_value *out)
{
    if (!cx->scratch || cx->scratch_len > cx->scratch_cap ||
        cx->scratch_cap - cx->scratch_len < len)
        return SL_E_SCRATCH;
    char *dst = cx->scratch + cx->scratch_len;
    if (len)
        memcpy(dst, p, len);
    cx->scratch_len += len;
    out->kind = SL_STRING;
    out->u.s.ptr = dst;
    out->u.s.len = len;
    out->u.s.sym = cx->syms ? sl_intern_find(cx->syms, dst, len) : 0;
    return SL_OK;
}
