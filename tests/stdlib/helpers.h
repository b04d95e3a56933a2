/*
 * helpers.h — shared by the stdlib test files: a counting allocator that
 * can be told to fail, and short constructors for string and set values.
 */
#ifndef MG_TESTS_STDLIB_HELPERS_H
#define MG_TESTS_STDLIB_HELPERS_H

#include <stdlib.h>
#include <string.h>
#include "stdlib/stdlib.h"

/* Counts live blocks and bytes; fails every allocation once `fail_after`
 * successful ones have happened (-1: never). */
typedef struct test_alloc {
    long allocs, live_blocks;
    long long live_bytes;
    long fail_after;
} test_alloc;

static inline void *test_alloc_fn(void *ud, void *ptr, size_t osize, size_t nsize)
{
    test_alloc *a = ud;
    if (nsize == 0) {
        if (ptr) {
            a->live_blocks--;
            a->live_bytes -= (long long)osize;
        }
        free(ptr);
        return NULL;
    }
    if (a->fail_after >= 0 && a->allocs >= a->fail_after)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (!p)
        return NULL;
    a->allocs++;
    if (!ptr)
        a->live_blocks++;
    a->live_bytes += (long long)nsize - (long long)(ptr ? osize : 0);
    return p;
}

static inline sl_value str_sym(const char *s, uint32_t sym)
{
    sl_value v = { .kind = SL_STRING };
    v.u.s.ptr = s;
    v.u.s.len = (uint32_t)strlen(s);
    v.u.s.sym = sym;
    return v;
}

static inline sl_value str(const char *s)
{
    return str_sym(s, 0);
}

static inline sl_value set_of(const sl_value *items, uint32_t n)
{
    sl_value v = { .kind = SL_SET };
    v.u.set.items = items;
    v.u.set.n = n;
    return v;
}

static inline sl_value ts(int64_t us)
{
    sl_value v = { .kind = SL_TIMESTAMP, .u.i = us };
    return v;
}

#endif
