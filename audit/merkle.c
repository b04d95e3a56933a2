/*
 * merkle.c — the Merkle tree of RFC 9162 section 2.1: leaf and node hashes,
 * tree heads of any size, inclusion and consistency proofs and their
 * verification, and the frontier that makes appends O(log n).
 *
 * Proof generation reads complete subtrees through an audit_node_fn, so the
 * same code serves an in-memory tree (tests) and the SQLite nodes table.
 * A hash pool lets the writer hash a batch's leaves on two threads, and
 * run one task (the batch's tree nodes) on its helper while it goes on.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "audit/audit.h"
#include "stdlib/error.h"

void audit_leaf_hash(const void *entry, size_t n, uint8_t out[AUDIT_HASH])
{
    audit_sha256_prefixed(0x00, entry, n, NULL, 0, out);
}

void audit_node_hash(const uint8_t l[AUDIT_HASH], const uint8_t r[AUDIT_HASH],
                     uint8_t out[AUDIT_HASH])
{
    audit_sha256_prefixed(0x01, l, AUDIT_HASH, r, AUDIT_HASH, out);
}

void audit_empty_root(uint8_t out[AUDIT_HASH])
{
    crypto_hash_sha256(out, (const uint8_t *)"", 0);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

/* Number of trailing zero bits (x != 0). */
static unsigned ctz64(uint64_t x)
{
    unsigned c = 0;
    while (!(x & 1)) {
        x >>= 1;
        c++;
    }
    return c;
}

/* ======================================================================
 * Tree heads
 * ====================================================================== */

/* The range [lo, hi) splits into complete subtrees of decreasing size, each
 * aligned on its own size; MTH folds them right to left. */
mg_status audit_range_root(audit_node_fn fn, void *ud, uint64_t lo, uint64_t hi,
                           uint8_t out[AUDIT_HASH], mg_error *err)
{
    uint8_t parts[64][AUDIT_HASH];
    int np = 0;
    while (lo < hi) {
        unsigned level = lo ? ctz64(lo) : 63;
        while (level > 0 && (hi - lo) < ((uint64_t)1 << level))
            level--;
        mg_status s = fn(ud, level, lo >> level, parts[np], err);
        if (s != MG_OK)
            return s;
        np++;
        lo += (uint64_t)1 << level;
    }
    if (np == 0)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "empty range has no subtree root");
    memcpy(out, parts[np - 1], AUDIT_HASH);
    for (int i = np - 2; i >= 0; i--)
        audit_node_hash(parts[i], out, out);
    return MG_OK;
}

mg_status audit_tree_root(audit_node_fn fn, void *ud, uint64_t size,
                          uint8_t out[AUDIT_HASH], mg_error *err)
{
    if (size == 0) {
        audit_empty_root(out);
        return MG_OK;
    }
    return audit_range_root(fn, ud, 0, size, out, err);
}

/* ======================================================================
 * Proof generation
 * ====================================================================== */

typedef struct proof_buf {
    uint8_t (*h)[AUDIT_HASH];
    size_t len;
    audit_edge *edge;           /* may be NULL */
} proof_buf;

/* Number of significant bits of x. */
static unsigned bit_length(uint64_t x)
{
    unsigned n = 0;
    while (x) {
        x >>= 1;
        n++;
    }
    return n;
}

/* MTH(D[lo:hi]). A range that is not one complete subtree and ends where
 * the tree ends, [hi with its low j bits cleared, hi), is a point of the
 * tree's right edge: it is hashed once per tree size and kept in the edge,
 * as node(its first complete subtree, the next point of the edge). Every
 * other range is folded from its complete subtrees as audit_range_root
 * does. Both give MTH by RFC 9162's definition. */
static mg_status range_root(proof_buf *pb, audit_node_fn fn, void *ud, uint64_t lo,
                            uint64_t hi, uint8_t out[AUDIT_HASH], mg_error *err)
{
    uint64_t n = hi - lo;
    unsigned j = bit_length(n);
    audit_edge *e = pb->edge;
    if (!e || lo >= hi || (n & (n - 1)) == 0 || j >= 64 ||
        (hi & (((uint64_t)1 << j) - 1)) != n)
        return audit_range_root(fn, ud, lo, hi, out, err);
    if (e->size != hi) {
        e->size = hi;
        e->valid = 0;
    }
    if (e->valid >> j & 1) {
        memcpy(out, e->h[j], AUDIT_HASH);
        return MG_OK;
    }
    /* lo has its low j bits clear: the first 2^(j-1) leaves are a subtree. */
    uint8_t left[AUDIT_HASH], right[AUDIT_HASH];
    uint64_t k = (uint64_t)1 << (j - 1);
    mg_status s = fn(ud, j - 1, lo >> (j - 1), left, err);
    if (s == MG_OK)
        s = range_root(pb, fn, ud, lo + k, hi, right, err);
    if (s != MG_OK)
        return s;
    audit_node_hash(left, right, out);
    memcpy(e->h[j], out, AUDIT_HASH);
    e->valid |= (uint64_t)1 << j;
    return MG_OK;
}

static mg_status push_range(proof_buf *pb, audit_node_fn fn, void *ud,
                            uint64_t lo, uint64_t hi, mg_error *err)
{
    if (pb->len >= AUDIT_MAX_PROOF)
        return mg_error_set(err, MG_ELIMIT, NULL, 0, 0, "proof too long");
    mg_status s = range_root(pb, fn, ud, lo, hi, pb->h[pb->len], err);
    if (s == MG_OK)
        pb->len++;
    return s;
}

/* PATH(m, D[lo:hi]) -> PATH(m, D[lo:lo+k]) : MTH(D[lo+k:hi])   if m < k
 *                   -> PATH(m-k, D[lo+k:hi]) : MTH(D[lo:lo+k]) otherwise */
static mg_status path(proof_buf *pb, audit_node_fn fn, void *ud, uint64_t m,
                      uint64_t lo, uint64_t hi, mg_error *err)
{
    if (hi - lo <= 1)
        return MG_OK;
    uint64_t k = split_point(hi - lo);
    mg_status s;
    if (m < lo + k) {
        if ((s = path(pb, fn, ud, m, lo, lo + k, err)) != MG_OK)
            return s;
        return push_range(pb, fn, ud, lo + k, hi, err);
    }
    if ((s = path(pb, fn, ud, m, lo + k, hi, err)) != MG_OK)
        return s;
    return push_range(pb, fn, ud, lo, lo + k, err);
}

mg_status audit_inclusion_proof_edge(audit_node_fn fn, void *ud, audit_edge *edge,
                                     uint64_t index, uint64_t size,
                                     uint8_t proof[][AUDIT_HASH], size_t *len, mg_error *err)
{
    *len = 0;
    if (index >= size)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0,
                            "leaf index %llu is not below tree size %llu",
                            (unsigned long long)index, (unsigned long long)size);
    proof_buf pb = { proof, 0, edge };
    mg_status s = path(&pb, fn, ud, index, 0, size, err);
    *len = pb.len;
    return s;
}

mg_status audit_inclusion_proof(audit_node_fn fn, void *ud, uint64_t index,
                                uint64_t size, uint8_t proof[][AUDIT_HASH],
                                size_t *len, mg_error *err)
{
    return audit_inclusion_proof_edge(fn, ud, NULL, index, size, proof, len, err);
}

/* SUBPROOF(m, D[lo:hi], b), with m counted from lo:
 *   m == n: {} if b, else {MTH(D[lo:hi])}
 *   m <= k: SUBPROOF(m, D[lo:lo+k], b) : MTH(D[lo+k:hi])
 *   m > k:  SUBPROOF(m-k, D[lo+k:hi], false) : MTH(D[lo:lo+k]) */
static mg_status subproof(proof_buf *pb, audit_node_fn fn, void *ud, uint64_t m,
                          uint64_t lo, uint64_t hi, bool b, mg_error *err)
{
    uint64_t n = hi - lo;
    if (m == n)
        return b ? MG_OK : push_range(pb, fn, ud, lo, hi, err);
    uint64_t k = split_point(n);
    mg_status s;
    if (m <= k) {
        if ((s = subproof(pb, fn, ud, m, lo, lo + k, b, err)) != MG_OK)
            return s;
        return push_range(pb, fn, ud, lo + k, hi, err);
    }
    if ((s = subproof(pb, fn, ud, m - k, lo + k, hi, false, err)) != MG_OK)
        return s;
    return push_range(pb, fn, ud, lo, lo + k, err);
}

mg_status audit_consistency_proof_edge(audit_node_fn fn, void *ud, audit_edge *edge,
                                       uint64_t size1, uint64_t size2,
                                       uint8_t proof[][AUDIT_HASH], size_t *len,
                                       mg_error *err)
{
    *len = 0;
    if (size1 == 0 || size1 > size2)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0,
                            "no consistency proof from size %llu to size %llu",
                            (unsigned long long)size1, (unsigned long long)size2);
    proof_buf pb = { proof, 0, edge };
    mg_status s = subproof(&pb, fn, ud, size1, 0, size2, true, err);
    *len = pb.len;
    return s;
}

mg_status audit_consistency_proof(audit_node_fn fn, void *ud, uint64_t size1,
                                  uint64_t size2, uint8_t proof[][AUDIT_HASH],
                                  size_t *len, mg_error *err)
{
    return audit_consistency_proof_edge(fn, ud, NULL, size1, size2, proof, len, err);
}

/* ======================================================================
 * Proof verification (RFC 9162 2.1.3.2 and 2.1.4.2)
 * ====================================================================== */

static bool is_hash(audit_span s)
{
    return s.p != NULL && s.n == AUDIT_HASH;
}

/* node(l, r), or the node remembered at key when it was made of the same
 * l and r: the same hash without hashing. */
static void memo_node(audit_memo *m, uint64_t key, const uint8_t l[AUDIT_HASH],
                      const uint8_t r[AUDIT_HASH], uint8_t out[AUDIT_HASH])
{
    if (!m) {
        audit_node_hash(l, r, out);
        return;
    }
    audit_memo_slot *sl = &m->slot[(key * 0x9e3779b97f4a7c15u) >> 52 & (AUDIT_MEMO_SLOTS - 1)];
    if (sl->used && sl->key == key && memcmp(sl->l, l, AUDIT_HASH) == 0 &&
        memcmp(sl->r, r, AUDIT_HASH) == 0) {
        memcpy(out, sl->h, AUDIT_HASH);
        return;
    }
    uint8_t h[AUDIT_HASH];
    audit_node_hash(l, r, h);
    sl->used = true;
    sl->key = key;
    memcpy(sl->l, l, AUDIT_HASH);
    memcpy(sl->r, r, AUDIT_HASH);
    memcpy(sl->h, h, AUDIT_HASH);
    memcpy(out, h, AUDIT_HASH);
}

bool audit_verify_inclusion_memo(uint64_t index, uint64_t size, audit_span leaf,
                                 const audit_span *proof, size_t len, audit_span root,
                                 audit_memo *memo)
{
    if (index >= size || !is_hash(leaf) || !is_hash(root))
        return false;
    uint64_t fn = index, sn = size - 1;
    unsigned level = 0;
    uint8_t r[AUDIT_HASH];
    memcpy(r, leaf.p, AUDIT_HASH);
    for (size_t i = 0; i < len; i++) {
        if (sn == 0 || !is_hash(proof[i]))
            return false;
        /* The element is the left sibling when fn is a right child, or
         * the last node of its level, which rises until it is one; the
         * shifts only say where the new node sits, so they come first. */
        bool left = (fn & 1) || fn == sn;
        while (left && !(fn & 1) && fn != 0) {
            fn >>= 1;
            sn >>= 1;
            level++;
        }
        fn >>= 1;
        sn >>= 1;
        level++;
        /* Only the upper levels are remembered: a node there lies on the
         * paths of many leaves, and the memo holds few slots. */
        audit_memo *m = memo && level < 64 && (size - 1) >> level < AUDIT_MEMO_SLOTS / 2
                            ? memo : NULL;
        uint64_t key = fn << 6 | level;
        if (left)
            memo_node(m, key, proof[i].p, r, r);
        else
            memo_node(m, key, r, proof[i].p, r);
    }
    return sn == 0 && sodium_memcmp(r, root.p, AUDIT_HASH) == 0;
}

bool audit_verify_inclusion(uint64_t index, uint64_t size, audit_span leaf,
                            const audit_span *proof, size_t len, audit_span root)
{
    return audit_verify_inclusion_memo(index, size, leaf, proof, len, root, NULL);
}

static bool same_bytes(audit_span a, audit_span b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

bool audit_verify_consistency(uint64_t size1, uint64_t size2, audit_span root1,
                              audit_span root2, const audit_span *proof, size_t len)
{
    if (size1 == 0 || size1 > size2)
        return false;
    if (size1 == size2)
        return len == 0 && same_bytes(root1, root2);
    if (len == 0 || len > AUDIT_MAX_PROOF || !is_hash(root1) || !is_hash(root2))
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_hash(proof[i]))
            return false;
    /* When size1 is a power of two the old root is itself the first node
     * of the path, so it is prepended. */
    audit_span path_[AUDIT_MAX_PROOF + 1];
    size_t n = 0;
    if ((size1 & (size1 - 1)) == 0)
        path_[n++] = root1;
    memcpy(path_ + n, proof, len * sizeof *proof);
    n += len;

    uint64_t fn = size1 - 1, sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[AUDIT_HASH], sr[AUDIT_HASH];
    memcpy(fr, path_[0].p, AUDIT_HASH);
    memcpy(sr, path_[0].p, AUDIT_HASH);
    for (size_t i = 1; i < n; i++) {
        if (sn == 0)
            return false;
        if ((fn & 1) || fn == sn) {
            audit_node_hash(path_[i].p, fr, fr);
            audit_node_hash(path_[i].p, sr, sr);
            while (!(fn & 1) && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            audit_node_hash(sr, path_[i].p, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(fr, root1.p, AUDIT_HASH) == 0 &&
           sodium_memcmp(sr, root2.p, AUDIT_HASH) == 0;
}

/* ======================================================================
 * Frontier
 * ====================================================================== */

mg_status audit_frontier_push(audit_frontier *f, const uint8_t leaf[AUDIT_HASH],
                              audit_store_fn store, void *ud, mg_error *err)
{
    if (f->size == UINT64_MAX)
        return mg_error_set(err, MG_ELIMIT, NULL, 0, 0, "tree is full");
    uint64_t idx = f->size;
    unsigned level = 0;
    uint8_t cur[AUDIT_HASH];
    memcpy(cur, leaf, AUDIT_HASH);
    mg_status s = store ? store(ud, 0, idx, cur, err) : MG_OK;
    /* Each set low bit of the index is a left sibling waiting for us. */
    while (s == MG_OK && (idx & 1)) {
        audit_node_hash(f->h[level], cur, cur);
        idx >>= 1;
        level++;
        s = store ? store(ud, level, idx, cur, err) : MG_OK;
    }
    if (s != MG_OK)
        return s;
    memcpy(f->h[level], cur, AUDIT_HASH);
    f->size++;
    return MG_OK;
}

void audit_frontier_root(const audit_frontier *f, uint8_t out[AUDIT_HASH])
{
    bool any = false;
    for (unsigned l = 0; l < 64; l++) {
        if (!(f->size >> l & 1))
            continue;
        if (any)
            audit_node_hash(f->h[l], out, out);
        else
            memcpy(out, f->h[l], AUDIT_HASH);
        any = true;
    }
    if (!any)
        audit_empty_root(out);
}

mg_status audit_frontier_load(audit_frontier *f, uint64_t size, audit_node_fn fn,
                              void *ud, mg_error *err)
{
    memset(f, 0, sizeof *f);
    for (unsigned l = 0; l < 64; l++) {
        if (!(size >> l & 1))
            continue;
        mg_status s = fn(ud, l, (size >> l) - 1, f->h[l], err);
        if (s != MG_OK)
            return s;
    }
    f->size = size;
    return MG_OK;
}

/* ======================================================================
 * Leaf hashing on two threads
 * ====================================================================== */

#define POOL_CHUNK 32           /* leaves claimed at a time */

typedef struct pool_job {
    void (*fn)(void *);         /* a task for the helper alone, or NULL */
    void *arg;
    const uint8_t *const *e;
    const size_t *len;
    size_t n;
    uint8_t (*out)[AUDIT_HASH];
    _Atomic size_t claim;
    _Atomic size_t hashed;
} pool_job;

struct audit_hashpool {
    audit_mem mem;              /* the pool was allocated with */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    pool_job *job;              /* the job on offer, or NULL */
    pool_job task;              /* the task of audit_hashpool_run */
    uint64_t gen;               /* bumped for each job offered */
    bool busy;                  /* the helper is inside a job */
    bool task_done;
    bool stop;
};

static void pool_work(pool_job *j)
{
    for (;;) {
        size_t i = atomic_fetch_add(&j->claim, POOL_CHUNK);
        if (i >= j->n)
            return;
        size_t end = i + POOL_CHUNK < j->n ? i + POOL_CHUNK : j->n;
        for (size_t k = i; k < end; k++)
            audit_leaf_hash(j->e[k], j->len[k], j->out[k]);
        atomic_fetch_add(&j->hashed, end - i);
    }
}

static void *pool_main(void *arg)
{
    audit_hashpool *p = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->gen == seen && !p->stop)
            pthread_cond_wait(&p->cv, &p->mu);
        if (p->stop)
            break;
        seen = p->gen;
        pool_job *j = p->job;
        if (!j)
            continue;           /* the caller finished it alone */
        p->busy = true;
        pthread_mutex_unlock(&p->mu);
        if (j->fn)
            j->fn(j->arg);
        else
            pool_work(j);
        pthread_mutex_lock(&p->mu);
        p->busy = false;
        if (j->fn)
            p->task_done = true;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

mg_status audit_hashpool_start(const audit_mem *m, audit_hashpool **out, mg_error *err)
{
    audit_hashpool *p = am_calloc(m, 1, sizeof *p);
    *out = NULL;
    if (!p)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    p->mem = m ? *m : audit_mem_of(NULL, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    if (pthread_create(&p->th, NULL, pool_main, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
        am_free(m, p, sizeof *p);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "cannot start a hashing thread");
    }
    *out = p;
    return MG_OK;
}

void audit_hashpool_stop(audit_hashpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    audit_mem m = p->mem;
    am_free(&m, p, sizeof *p);
}

void audit_hashpool_leaves(audit_hashpool *p, const uint8_t *const *e, const size_t *len,
                           size_t n, uint8_t (*out)[AUDIT_HASH])
{
    pool_job j = { .e = e, .len = len, .n = n, .out = out };
    atomic_init(&j.claim, 0);
    atomic_init(&j.hashed, 0);
    /* Small batches are not worth waking the helper for. */
    if (!p || n < 2 * POOL_CHUNK) {
        pool_work(&j);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->job = &j;
    p->gen++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pool_work(&j);
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&j.hashed) != n || p->busy)
        pthread_cond_wait(&p->cv, &p->mu);
    p->job = NULL;
    pthread_mutex_unlock(&p->mu);
}

void audit_hashpool_run(audit_hashpool *p, void (*fn)(void *), void *arg)
{
    if (!p) {
        fn(arg);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->task = (pool_job){ .fn = fn, .arg = arg };
    p->task_done = false;
    p->job = &p->task;
    p->gen++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void audit_hashpool_join(audit_hashpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    while (!p->task_done)
        pthread_cond_wait(&p->cv, &p->mu);
    p->job = NULL;
    pthread_mutex_unlock(&p->mu);
}
