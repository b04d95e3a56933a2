/*
 * intern.c — the intern table: strings to dense ids 1..n.
 *
 * Open addressing with linear probing over a power-of-two slot array kept at
 * most half full, FNV-1a hashes stored in the slots so most probes never
 * touch the strings. String bytes live in large blocks (a few allocations
 * for many strings), each copy NUL-terminated. Every allocation goes through
 * the caller's allocator (Lua-style: alloc(ud, ptr, osize, nsize), nsize 0
 * frees). Once built the table is only read: sl_intern_find writes nothing,
 * so any number of threads may call it at once.
 */
#include <stdlib.h>
#include <string.h>
#include "stdlib/value.h"

#define BLOCK_BYTES 65536u
#define MIN_SLOTS 16u

typedef struct slot {
    uint32_t id;      /* 0: empty */
    uint32_t hash;
} slot;

typedef struct entry {
    const char *ptr;
    uint32_t len;
} entry;

/* A block of string bytes; blocks form a list freed with the table. */
typedef struct block {
    struct block *next;
    size_t size;      /* bytes allocated for this block, header included */
    size_t used;      /* bytes of data[] in use */
    char data[];
} block;

struct sl_intern {
    sl_alloc_fn alloc;
    void *ud;
    slot *slots;
    uint32_t nslots;  /* 0 or a power of two */
    entry *entries;   /* entries[id - 1] */
    uint32_t count, cap;
    block *blocks;    /* newest first; strings are appended to the head */
};

void *sl_default_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, nsize);
}

static uint32_t fnv1a(const char *s, uint32_t len)
{
    uint32_t h = 2166136261u;
    for (uint32_t k = 0; k < len; k++) {
        h ^= (unsigned char)s[k];
        h *= 16777619u;
    }
    return h;
}

sl_intern *sl_intern_new(sl_alloc_fn alloc, void *ud)
{
    if (!alloc)
        alloc = sl_default_alloc;
    sl_intern *t = alloc(ud, NULL, 0, sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    t->alloc = alloc;
    t->ud = ud;
    return t;
}

void sl_intern_free(sl_intern *t)
{
    if (!t)
        return;
    for (block *b = t->blocks, *next; b; b = next) {
        next = b->next;
        t->alloc(t->ud, b, b->size, 0);
    }
    if (t->slots)
        t->alloc(t->ud, t->slots, (size_t)t->nslots * sizeof(slot), 0);
    if (t->entries)
        t->alloc(t->ud, t->entries, (size_t)t->cap * sizeof(entry), 0);
    t->alloc(t->ud, t, sizeof *t, 0);
}

/* Index of the slot holding s, or of the empty slot where it would go. */
static uint32_t probe(const sl_intern *t, const char *s, uint32_t len, uint32_t h)
{
    uint32_t mask = t->nslots - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        const slot *sl = &t->slots[i];
        if (sl->id == 0)
            return i;
        const entry *e = &t->entries[sl->id - 1];
        if (sl->hash == h && e->len == len && (len == 0 || memcmp(e->ptr, s, len) == 0))
            return i;
    }
}

uint32_t sl_intern_find(const sl_intern *t, const char *s, uint32_t len)
{
    if (!t || t->nslots == 0)
        return 0;
    return t->slots[probe(t, s, len, fnv1a(s, len))].id;
}

/* Doubles the slot array (rehashing) when one more entry would make it more
 * than half full. On failure the old array stays in place. */
static bool grow_slots(sl_intern *t)
{
    if (t->nslots && (uint64_t)(t->count + 1) * 2 <= t->nslots)
        return true;
    uint32_t n = t->nslots ? t->nslots * 2 : MIN_SLOTS;
    if (n == 0)     /* nslots would pass 2^32; count is capped long before */
        return false;
    slot *ns = t->alloc(t->ud, NULL, 0, (size_t)n * sizeof(slot));
    if (!ns)
        return false;
    memset(ns, 0, (size_t)n * sizeof(slot));
    for (uint32_t i = 0; i < t->nslots; i++) {
        slot s = t->slots[i];
        if (s.id == 0)
            continue;
        uint32_t j = s.hash & (n - 1);
        while (ns[j].id)
            j = (j + 1) & (n - 1);
        ns[j] = s;
    }
    if (t->slots)
        t->alloc(t->ud, t->slots, (size_t)t->nslots * sizeof(slot), 0);
    t->slots = ns;
    t->nslots = n;
    return true;
}

static bool grow_entries(sl_intern *t)
{
    if (t->count < t->cap)
        return true;
    uint32_t n = t->cap ? t->cap * 2 : 64;
    if (n <= t->cap)
        return false;
    entry *ne = t->alloc(t->ud, t->entries, (size_t)t->cap * sizeof(entry),
                         (size_t)n * sizeof(entry));
    if (!ne)
        return false;
    t->entries = ne;
    t->cap = n;
    return true;
}

/* Copies s (plus a NUL) into the head block, starting a new block when it
 * does not fit. A string longer than a block gets a block of its own. */
static const char *copy_string(sl_intern *t, const char *s, uint32_t len)
{
    size_t need = (size_t)len + 1;
    block *b = t->blocks;
    if (!b || b->size - sizeof(block) - b->used < need) {
        size_t data = need > BLOCK_BYTES ? need : BLOCK_BYTES;
        b = t->alloc(t->ud, NULL, 0, sizeof(block) + data);
        if (!b)
            return NULL;
        b->size = sizeof(block) + data;
        b->used = 0;
        b->next = t->blocks;
        t->blocks = b;
    }
    char *dst = b->data + b->used;
    if (len)
        memcpy(dst, s, len);
    dst[len] = '\0';
    b->used += need;
    return dst;
}

/* All allocations happen before the entry is linked in, so a failure leaves
 * the table as it was (perhaps with more spare capacity). */
uint32_t sl_intern_add(sl_intern *t, const char *s, uint32_t len)
{
    if (!t)
        return 0;
    if (t->nslots) {
        uint32_t id = t->slots[probe(t, s, len, fnv1a(s, len))].id;
        if (id)
            return id;
    }
    if (t->count >= UINT32_MAX / 2 || !grow_slots(t) || !grow_entries(t))
        return 0;
    const char *copy = copy_string(t, s, len);
    if (!copy)
        return 0;
    uint32_t h = fnv1a(s, len);
    uint32_t i = probe(t, s, len, h);
    t->entries[t->count].ptr = copy;
    t->entries[t->count].len = len;
    t->count++;
    t->slots[i].id = t->count;
    t->slots[i].hash = h;
    return t->count;
}

const char *sl_intern_str(const sl_intern *t, uint32_t id, uint32_t *len)
{
    if (!t || id == 0 || id > t->count) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = t->entries[id - 1].len;
    return t->entries[id - 1].ptr;
}

uint32_t sl_intern_count(const sl_intern *t)
{
    return t ? t->count : 0;
}
