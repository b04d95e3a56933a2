/*
 * mem.c — the allocator of a log handle. Everything a handle holds and the
 * scratch memory of its calls go through mg_audit_config.alloc, which is
 * told each block's size when it is freed or resized; a zeroed audit_mem
 * (or a NULL one) is malloc's, so a structure cleared with memset
 * allocates like the C library until its handle sets one.
 */
#include <stdlib.h>
#include <string.h>
#include "audit/audit.h"

audit_mem audit_mem_of(mg_alloc_fn fn, void *ud)
{
    return fn ? (audit_mem){ fn, ud } : (audit_mem){ sl_default_alloc, NULL };
}

static sl_alloc_fn fn_of(const audit_mem *m)
{
    return m && m->fn ? m->fn : sl_default_alloc;
}

static void *ud_of(const audit_mem *m)
{
    return m ? m->ud : NULL;
}

void *am_alloc(const audit_mem *m, size_t n)
{
    return fn_of(m)(ud_of(m), NULL, 0, n ? n : 1);
}

void *am_calloc(const audit_mem *m, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = am_alloc(m, n * size);
    if (p)
        memset(p, 0, n * size > 0 ? n * size : 1);
    return p;
}

void *am_resize(const audit_mem *m, void *p, size_t osize, size_t nsize)
{
    if (!p)
        return am_alloc(m, nsize);
    return fn_of(m)(ud_of(m), p, osize ? osize : 1, nsize ? nsize : 1);
}

void am_free(const audit_mem *m, void *p, size_t n)
{
    if (p)
        fn_of(m)(ud_of(m), p, n ? n : 1, 0);
}

char *am_strdup(const audit_mem *m, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = am_alloc(m, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void am_free_str(const audit_mem *m, char *s)
{
    if (s)
        am_free(m, s, strlen(s) + 1);
}
