/*
 * arena.c — the per-compilation arena: tokens need nothing, but the AST,
 * types and diagnostics all live here and are freed at once. Memory comes
 * in chunks from the embedder's allocator; an allocation that fails is
 * remembered (arena_failed), so callers can keep going and test once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "policy/internal.h"

#define ARENA_CHUNK 16384u
#define ARENA_ALIGN 8u

typedef struct chunk {
    struct chunk *next;
    size_t size;             /* bytes allocated for this chunk, header included */
} chunk;

struct arena {
    sl_alloc_fn alloc;
    void *ud;
    chunk *head;
    char *ptr;               /* next free byte in head */
    size_t left;             /* free bytes in head */
    bool failed;
};

/* The chunk header is padded so that data after it stays 8-aligned. */
#define HEADER_SIZE ((sizeof(chunk) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

arena *arena_new(sl_alloc_fn alloc, void *ud)
{
    if (!alloc)
        alloc = sl_default_alloc;
    arena *a = alloc(ud, NULL, 0, sizeof *a);
    if (!a)
        return NULL;
    memset(a, 0, sizeof *a);
    a->alloc = alloc;
    a->ud = ud;
    return a;
}

void arena_free(arena *a)
{
    if (!a)
        return;
    chunk *c = a->head;
    while (c) {
        chunk *next = c->next;
        a->alloc(a->ud, c, c->size, 0);
        c = next;
    }
    a->alloc(a->ud, a, sizeof *a, 0);
}

/* Starts a new chunk big enough for n bytes. Large requests get a chunk of
 * their own behind the current one, so the current chunk's free space is
 * not wasted. */
static bool arena_grow(arena *a, size_t n)
{
    size_t want = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK - HEADER_SIZE;
    size_t size = HEADER_SIZE + want;
    chunk *c = a->alloc(a->ud, NULL, 0, size);
    if (!c) {
        a->failed = true;
        return false;
    }
    c->size = size;
    if (want != n || !a->head) {
        c->next = a->head;
        a->head = c;
        a->ptr = (char *)c + HEADER_SIZE;
        a->left = want;
    } else {
        c->next = a->head->next;
        a->head->next = c;
    }
    return true;
}

void *arena_alloc(arena *a, size_t n)
{
    if (!a || a->failed)
        return NULL;
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / 2) {
        a->failed = true;
        return NULL;
    }
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (n > a->left) {
        chunk *before = a->head;
        if (!arena_grow(a, n))
            return NULL;
        if (a->head == before)      /* a chunk of its own */
            return (char *)before->next + HEADER_SIZE;
    }
    void *p = a->ptr;
    a->ptr += n;
    a->left -= n;
    return p;
}

void *arena_zalloc(arena *a, size_t n)
{
    void *p = arena_alloc(a, n);
    if (p)
        memset(p, 0, n);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *p = arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = 0;
    return p;
}

bool arena_failed(const arena *a)
{
    return !a || a->failed;
}

sl_alloc_fn arena_allocator(const arena *a, void **ud)
{
    *ud = a->ud;
    return a->alloc;
}

void arena_mark_failed(arena *a)
{
    if (a)
        a->failed = true;
}
