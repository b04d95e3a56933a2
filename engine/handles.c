/*
 * handles.c — where a policy set's subject and context handles live.
 *
 * Every decision reads its subject's handle first (the set check and the fact
 * bits). A sidecar holds thousands of subjects, each resolved once; had each
 * handle its own allocation, every decision would touch a cache line and a
 * page of its own, and at a few hundred thousand handles that miss costs more
 * than the decision. So handles are 32 bytes, two to a cache line, carved
 * from chunks the set owns; the attribute values stay in their own
 * allocation, read only when a condition runs in the VM.
 *
 * Chunks are freed with the set; a freed handle goes to the set's free list.
 *
 * With one allocation per handle, AddressSanitizer reported a subject used
 * after mg_subject_free. In a chunk the freed slot stays addressable and a
 * later handle takes it, so a stale subject would decide as another one. In
 * a sanitized build, freed slots and the part of the newest chunk not yet
 * handed out are poisoned, so `make check` still reports such a use.
 */
#include <string.h>

#include "engine/engine.h"

#if defined(__SANITIZE_ADDRESS__)
#define HANDLES_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HANDLES_ASAN 1
#endif
#endif
#ifdef HANDLES_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define CHUNK_BYTES 8192u
#define SLOT 32u                /* bytes per handle: two to a cache line */

typedef struct handle_chunk {
    struct handle_chunk *next;
} handle_chunk;

_Static_assert(sizeof(mg_handle) <= SLOT, "a handle fits its slot");

void mg__handle_pool_init(mg_handle_pool *pool)
{
    memset(pool, 0, sizeof *pool);
    pthread_mutex_init(&pool->lock, NULL);
}

void mg__handle_pool_free(mg_policy_set *set)
{
    mg_handle_pool *pool = &set->handles;
    for (handle_chunk *c = pool->chunks, *next; c; c = next) {
        next = c->next;
        UNPOISON(c, CHUNK_BYTES);       /* the embedder's allocator may reuse it */
        mg__free(set->alloc, set->ud, c, CHUNK_BYTES);
    }
    pthread_mutex_destroy(&pool->lock);
}

/* Slots start at the first SLOT boundary after the chunk header, so no
 * handle straddles a cache line. */
static bool add_chunk(mg_policy_set *set)
{
    mg_handle_pool *pool = &set->handles;
    handle_chunk *c = mg__alloc(set->alloc, set->ud, CHUNK_BYTES);
    if (!c)
        return false;
    c->next = pool->chunks;
    pool->chunks = c;
    uintptr_t first = ((uintptr_t)(c + 1) + SLOT - 1) & ~(uintptr_t)(SLOT - 1);
    pool->next = (char *)c + (first - (uintptr_t)c);
    pool->end = (char *)c + CHUNK_BYTES;
    POISON(pool->next, (size_t)(pool->end - pool->next));
    return true;
}

static mg_handle *take(mg_policy_set *set)
{
    mg_handle_pool *pool = &set->handles;
    if (pool->free) {
        mg_handle *h = pool->free;
        UNPOISON(h, sizeof *h);
        pool->free = h->next_free;
        return h;
    }
    if ((pool->next == pool->end || (size_t)(pool->end - pool->next) < SLOT) && !add_chunk(set))
        return NULL;
    mg_handle *h = (mg_handle *)pool->next;
    UNPOISON(h, sizeof *h);
    pool->next += SLOT;
    return h;
}

mg_handle *mg__handle_new(mg_policy_set *set, mg_attrs *attrs)
{
    pthread_mutex_lock(&set->handles.lock);
    mg_handle *h = take(set);
    pthread_mutex_unlock(&set->handles.lock);
    if (!h)
        return NULL;
    *h = (mg_handle){ .set = mg_policy_set_retain(set), .attrs = attrs };
    return h;
}

void mg__handle_free(mg_handle *h)
{
    if (!h)
        return;
    mg_policy_set *set = h->set;
    mg_attrs *a = h->attrs;
    mg__free(a->alloc, a->ud, a, a->size);
    pthread_mutex_lock(&set->handles.lock);
    *h = (mg_handle){ .next_free = set->handles.free };
    set->handles.free = h;
    POISON(h, sizeof *h);
    pthread_mutex_unlock(&set->handles.lock);
    mg_policy_set_release(set);
}
