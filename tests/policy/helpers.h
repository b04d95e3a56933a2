/*
 * helpers.h — shared by the front end's tests: a counting allocator that
 * can fail its Nth allocation, file reading, and one-call "parse, check
 * and render the diagnostics".
 */
#ifndef MG_TESTS_POLICY_HELPERS_H
#define MG_TESTS_POLICY_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/policy.h"

/* Counts live blocks; fails every allocation once `fail_after` successful
 * ones have happened (-1: never). */
typedef struct test_alloc {
    long allocs, live_blocks;
    long fail_after;
} test_alloc;

static inline void *test_alloc_fn(void *ud, void *ptr, size_t osize, size_t nsize)
{
    test_alloc *a = ud;
    (void)osize;
    if (nsize == 0) {
        if (ptr)
            a->live_blocks--;
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
    return p;
}

/* The whole file, NUL-terminated (malloc'd), or NULL. */
static inline char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

/* A compilation: arena, diagnostics and the file. */
typedef struct unit {
    arena *a;
    diag_list d;
    ast_file *f;
    bool checked, ok;
} unit;

/* Parses src; type-checks it (with env, may be NULL) when it parsed
 * without errors. */
static inline void unit_compile(unit *u, const char *name, const char *src, size_t len,
                                const check_env *env)
{
    memset(u, 0, sizeof *u);
    u->a = arena_new(NULL, NULL);
    diag_init(&u->d, u->a);
    u->f = parse_file(u->a, name, src, len, &u->d);
    if (u->f && u->d.errors == 0) {
        u->checked = true;
        u->ok = check_file(u->a, u->f, env, &u->d);
    }
}

/* Rendered diagnostics (malloc'd; "" when there are none). */
static inline char *unit_render(const unit *u)
{
    return diag_render(&u->d, false, NULL, NULL);
}

static inline void unit_free(unit *u)
{
    arena_free(u->a);
}

#endif
