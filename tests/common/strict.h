/*
 * strict.h — the strict allocator of the allocator-hook tests (engine and
 * audit): it keeps each block's size in a header in front of it, records
 * every free or resize whose osize differs from it (include/meshgov.h,
 * "nsize == 0: free ptr (osize is its size)"), counts the blocks and bytes
 * live, and fails the Nth allocation on request. Thread-safe: the audit
 * log allocates from its writer thread too.
 */
#ifndef MG_TESTS_COMMON_STRICT_H
#define MG_TESTS_COMMON_STRICT_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==========================================================================
 * The strict allocator
 * ========================================================================== */

#define LIVE 0x6d676c6976650a01ull   /* header of a block meshgov holds */
#define DEAD 0x6d67646561640a02ull   /* header of a block given back */

/* In front of every block: its size as the allocator gave it out. Padded
 * to max_align_t, so the block meshgov sees keeps malloc's alignment. */
typedef union header {
    struct { size_t size; uint64_t magic; } h;
    max_align_t align;
} header;

typedef struct strict {
    atomic_long calls;      /* allocations and resizes asked for */
    atomic_long fail_at;    /* the call that fails; 0: none */
    atomic_long live;       /* blocks not given back */
    atomic_long bytes;      /* their bytes, by the sizes recorded here */
    atomic_long bad;        /* frees and resizes that broke the contract */
    char first[256];        /* the first of them */
    const char *phase;      /* what the test is doing, for messages */
} strict;

static inline void breach(strict *s, const char *fmt, ...)
{
    if (atomic_fetch_add(&s->bad, 1) != 0)
        return;
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(s->first, sizeof s->first, "%s: %s", s->phase ? s->phase : "?", what);
}

static inline void *strict_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    strict *s = ud;
    header *old = ptr ? (header *)ptr - 1 : NULL;
    if (old && old->h.magic != LIVE) {
        breach(s, "%s of a block that is not live (osize %zu)", nsize ? "resize" : "free", osize);
        return NULL;        /* not ours to touch */
    }
    if (old && old->h.size != osize)
        breach(s, "%s of a %zu-byte block with osize %zu", nsize ? "resize" : "free", old->h.size, osize);
    if (nsize == 0) {
        if (!old) {
            if (osize)
                breach(s, "free of NULL with osize %zu", osize);
            return NULL;
        }
        atomic_fetch_sub(&s->live, 1);
        atomic_fetch_sub(&s->bytes, (long)old->h.size);
        old->h.magic = DEAD;
        free(old);
        return NULL;
    }
    if (atomic_fetch_add(&s->calls, 1) + 1 == atomic_load(&s->fail_at))
        return NULL;
    size_t had = old ? old->h.size : 0;
    header *n = realloc(old, sizeof *n + nsize);
    if (!n)
        return NULL;
    n->h.size = nsize;
    n->h.magic = LIVE;
    if (!old)
        atomic_fetch_add(&s->live, 1);
    atomic_fetch_add(&s->bytes, (long)nsize - (long)had);
    return n + 1;
}

/* No free or resize so far had a wrong size. */
static inline void assert_exact(const strict *s, const char *when)
{
    cr_assert_eq(atomic_load(&s->bad), 0, "%s: %ld frees or resizes with a wrong osize; the first: %s", when,
                 atomic_load(&s->bad), s->first);
}

#endif
