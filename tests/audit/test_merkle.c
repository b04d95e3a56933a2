/*
 * test_merkle.c — the RFC 9162 tree against the published vectors: hasher
 * values, tree heads for sizes 0..8, every inclusion and consistency probe
 * of transparency-dev/merkle (malformed ones included), the symbolic example
 * of RFC 9162 2.1.5, and generate-then-verify over many tree sizes.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include "tests/audit/helpers.h"

static void hexeq(const uint8_t *h, const char *want)
{
    char got[2 * AUDIT_HASH + 1];
    audit_hex_encode(h, AUDIT_HASH, got);
    cr_assert_str_eq(got, want);
}

/* The 8 leaves of merkle-tree.json as leaf hashes. */
static void vector_leaves(json_t *mt, uint8_t leaves[8][AUDIT_HASH])
{
    json_t *in = json_object_get(mt, "leafInputs");
    cr_assert_eq(json_array_size(in), 8);
    for (size_t i = 0; i < 8; i++) {
        blob b = unhex(json_string_value(json_array_get(in, i)));
        audit_leaf_hash(b.p, b.n, leaves[i]);
        blob_free(&b);
    }
}

Test(merkle, hasher_vectors)
{
    json_t *mt = load_vectors("merkle-tree.json");
    json_t *h = json_object_get(mt, "hasher");
    size_t i;
    json_t *c;
    cr_assert_eq(json_array_size(h), 4);
    json_array_foreach(h, i, c) {
        const char *fn = json_string_value(json_object_get(c, "fn"));
        const char *want = json_string_value(json_object_get(c, "want"));
        uint8_t out[AUDIT_HASH];
        if (strcmp(fn, "emptyRoot") == 0) {
            audit_empty_root(out);
        } else if (strcmp(fn, "leafHash") == 0) {
            blob b = unhex(json_string_value(json_object_get(c, "leaf")));
            audit_leaf_hash(b.p, b.n, out);
            blob_free(&b);
        } else {
            blob l = unhex(json_string_value(json_object_get(c, "left")));
            blob r = unhex(json_string_value(json_object_get(c, "right")));
            /* The vector hashes 4-byte strings, not hashes. */
            audit_sha256_prefixed(0x01, l.p, l.n, r.p, r.n, out);
            blob_free(&l);
            blob_free(&r);
        }
        hexeq(out, want);
    }
    json_decref(mt);
}

Test(merkle, roots_by_size_through_frontier_and_ranges)
{
    json_t *mt = load_vectors("merkle-tree.json");
    json_t *roots = json_object_get(mt, "rootHashesBySize");
    uint8_t leaves[8][AUDIT_HASH];
    vector_leaves(mt, leaves);
    audit_frontier f;
    memset(&f, 0, sizeof f);
    uint8_t r[AUDIT_HASH];
    audit_frontier_root(&f, r);
    hexeq(r, json_string_value(json_array_get(roots, 0)));
    for (uint64_t n = 1; n <= 8; n++) {
        cr_assert_eq(audit_frontier_push(&f, leaves[n - 1], NULL, NULL, NULL), MG_OK);
        audit_frontier_root(&f, r);
        hexeq(r, json_string_value(json_array_get(roots, n)));
        mem_tree t = { leaves, n };
        cr_assert_eq(audit_tree_root(mem_node, &t, n, r, NULL), MG_OK);
        hexeq(r, json_string_value(json_array_get(roots, n)));
        audit_frontier g;
        cr_assert_eq(audit_frontier_load(&g, n, mem_node, &t, NULL), MG_OK);
        audit_frontier_root(&g, r);
        hexeq(r, json_string_value(json_array_get(roots, n)));
    }
    json_decref(mt);
}

/* Nodes the frontier completes are exactly the complete subtrees. */
typedef struct seen {
    int count[4];
    uint8_t h[4][8][AUDIT_HASH];
} seen;

static mg_status record(void *ud, unsigned level, uint64_t index,
                        const uint8_t h[AUDIT_HASH], mg_error *err)
{
    (void)err;
    seen *s = ud;
    cr_assert_lt(level, 4);
    cr_assert_eq(index, (uint64_t)s->count[level]);
    memcpy(s->h[level][index], h, AUDIT_HASH);
    s->count[level]++;
    return MG_OK;
}

Test(merkle, node_hashes_stored_by_append)
{
    json_t *mt = load_vectors("merkle-tree.json");
    json_t *nodes = json_object_get(mt, "nodeHashes");
    uint8_t leaves[8][AUDIT_HASH];
    vector_leaves(mt, leaves);
    audit_frontier f;
    memset(&f, 0, sizeof f);
    seen s;
    memset(&s, 0, sizeof s);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(audit_frontier_push(&f, leaves[i], record, &s, NULL), MG_OK);
    const int want[4] = { 8, 4, 2, 1 };
    for (int l = 0; l < 4; l++) {
        cr_assert_eq(s.count[l], want[l]);
        json_t *lv = json_array_get(nodes, (size_t)l);
        for (int i = 0; i < want[l]; i++)
            hexeq(s.h[l][i], json_string_value(json_array_get(lv, (size_t)i)));
    }
    json_decref(mt);
}

/* A proof given as JSON (null = empty), decoded element by element. */
typedef struct jproof {
    blob el[AUDIT_MAX_PROOF + 8];
    audit_span sp[AUDIT_MAX_PROOF + 8];
    size_t n;
} jproof;

static void jproof_load(jproof *p, json_t *arr)
{
    p->n = json_is_array(arr) ? json_array_size(arr) : 0;
    cr_assert_leq(p->n, AUDIT_MAX_PROOF + 8);
    for (size_t i = 0; i < p->n; i++) {
        p->el[i] = b64(json_string_value(json_array_get(arr, i)));
        p->sp[i] = span_of(p->el[i]);
    }
}

static void jproof_free(jproof *p)
{
    for (size_t i = 0; i < p->n; i++)
        blob_free(&p->el[i]);
}

Test(merkle, inclusion_vectors)
{
    json_t *v = load_vectors("inclusion.json");
    json_t *cases = json_object_get(v, "cases");
    size_t i, ok = 0, bad = 0;
    json_t *c;
    cr_assert_eq(json_array_size(cases), 98);
    json_array_foreach(cases, i, c) {
        jproof p;
        jproof_load(&p, json_object_get(c, "proof"));
        blob root = b64(json_string_value(json_object_get(c, "root")));
        blob leaf = b64(json_string_value(json_object_get(c, "leafHash")));
        bool got = audit_verify_inclusion(json_u64(json_object_get(c, "leafIdx")),
                                          json_u64(json_object_get(c, "treeSize")),
                                          span_of(leaf), p.sp, p.n, span_of(root));
        bool want_err = json_is_true(json_object_get(c, "wantErr"));
        cr_assert_eq(got, !want_err, "%s", json_string_value(json_object_get(c, "file")));
        want_err ? bad++ : ok++;
        blob_free(&root);
        blob_free(&leaf);
        jproof_free(&p);
    }
    cr_assert_eq(ok + bad, 98);
    cr_assert_gt(bad, 80);
    json_decref(v);
}

Test(merkle, consistency_vectors)
{
    json_t *v = load_vectors("consistency.json");
    json_t *cases = json_object_get(v, "cases");
    size_t i;
    json_t *c;
    cr_assert_eq(json_array_size(cases), 98);
    json_array_foreach(cases, i, c) {
        jproof p;
        jproof_load(&p, json_object_get(c, "proof"));
        blob r1 = b64(json_string_value(json_object_get(c, "root1")));
        blob r2 = b64(json_string_value(json_object_get(c, "root2")));
        bool got = audit_verify_consistency(json_u64(json_object_get(c, "size1")),
                                            json_u64(json_object_get(c, "size2")),
                                            span_of(r1), span_of(r2), p.sp, p.n);
        bool want_err = json_is_true(json_object_get(c, "wantErr"));
        cr_assert_eq(got, !want_err, "%s: %s", json_string_value(json_object_get(c, "file")),
                     json_string_value(json_object_get(c, "desc")));
        blob_free(&r1);
        blob_free(&r2);
        jproof_free(&p);
    }
    json_decref(v);
}

/* Happy-path vectors over the 8 vector leaves: our proofs are the same. */
Test(merkle, generated_proofs_equal_vectors)
{
    json_t *mt = load_vectors("merkle-tree.json");
    json_t *roots = json_object_get(mt, "rootHashesBySize");
    uint8_t leaves[8][AUDIT_HASH];
    vector_leaves(mt, leaves);
    mem_tree t = { leaves, 8 };
    json_t *v = load_vectors("inclusion.json");
    size_t i, matched = 0;
    json_t *c;
    json_array_foreach(json_object_get(v, "cases"), i, c) {
        uint64_t size = json_u64(json_object_get(c, "treeSize"));
        if (json_is_true(json_object_get(c, "wantErr")) || size > 8)
            continue;
        blob root = b64(json_string_value(json_object_get(c, "root")));
        blob want_root = unhex(json_string_value(json_array_get(roots, size)));
        if (root.n == want_root.n && memcmp(root.p, want_root.p, root.n) == 0) {
            uint8_t proof[AUDIT_MAX_PROOF][AUDIT_HASH];
            size_t n;
            t.size = size;
            cr_assert_eq(audit_inclusion_proof(mem_node, &t, json_u64(json_object_get(c, "leafIdx")),
                                               size, proof, &n, NULL), MG_OK);
            jproof p;
            jproof_load(&p, json_object_get(c, "proof"));
            cr_assert_eq(n, p.n);
            for (size_t k = 0; k < n; k++)
                cr_assert_eq(memcmp(proof[k], p.el[k].p, AUDIT_HASH), 0);
            jproof_free(&p);
            matched++;
        }
        blob_free(&root);
        blob_free(&want_root);
    }
    cr_assert_eq(matched, 5);
    json_decref(v);

    v = load_vectors("consistency.json");
    matched = 0;
    json_array_foreach(json_object_get(v, "cases"), i, c) {
        uint64_t s1 = json_u64(json_object_get(c, "size1")), s2 = json_u64(json_object_get(c, "size2"));
        if (json_is_true(json_object_get(c, "wantErr")) || s2 > 8 || s1 == 0 || s1 == s2)
            continue;
        t.size = s2;
        uint8_t proof[AUDIT_MAX_PROOF][AUDIT_HASH];
        size_t n;
        cr_assert_eq(audit_consistency_proof(mem_node, &t, s1, s2, proof, &n, NULL), MG_OK);
        jproof p;
        jproof_load(&p, json_object_get(c, "proof"));
        cr_assert_eq(n, p.n);
        for (size_t k = 0; k < n; k++)
            cr_assert_eq(memcmp(proof[k], p.el[k].p, AUDIT_HASH), 0);
        jproof_free(&p);
        matched++;
    }
    cr_assert_eq(matched, 4);
    json_decref(v);
    json_decref(mt);
}

/* RFC 9162 2.1.5: resolve a symbolic node name to its hash. */
static void sym(json_t *nodes, const char *name, uint8_t leaves[7][AUDIT_HASH],
                uint8_t out[AUDIT_HASH])
{
    json_t *d = json_object_get(nodes, name);
    cr_assert_not_null(d, "%s", name);
    const char *k = json_string_value(json_array_get(d, 0));
    if (strcmp(k, "leaf") == 0) {
        memcpy(out, leaves[json_integer_value(json_array_get(d, 1))], AUDIT_HASH);
    } else if (strcmp(k, "alias") == 0) {
        sym(nodes, json_string_value(json_array_get(d, 1)), leaves, out);
    } else {
        uint8_t l[AUDIT_HASH], r[AUDIT_HASH];
        sym(nodes, json_string_value(json_array_get(d, 1)), leaves, l);
        sym(nodes, json_string_value(json_array_get(d, 2)), leaves, r);
        audit_node_hash(l, r, out);
    }
}

Test(merkle, rfc9162_example)
{
    json_t *ex = load_vectors("rfc9162-example.json");
    json_t *nodes = json_object_get(ex, "nodes");
    uint8_t leaves[7][AUDIT_HASH];
    for (int i = 0; i < 7; i++) {
        char d[16];
        snprintf(d, sizeof d, "d%d", i);
        audit_leaf_hash(d, strlen(d), leaves[i]);
    }
    mem_tree t = { leaves, 7 };
    uint8_t root[AUDIT_HASH], want[AUDIT_HASH];
    cr_assert_eq(audit_tree_root(mem_node, &t, 7, root, NULL), MG_OK);
    sym(nodes, "hash", leaves, want);
    cr_assert_eq(memcmp(root, want, AUDIT_HASH), 0);

    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(ex, "inclusion"), i, c) {
        uint8_t proof[AUDIT_MAX_PROOF][AUDIT_HASH];
        size_t n;
        uint64_t leaf = (uint64_t)json_integer_value(json_object_get(c, "leaf"));
        cr_assert_eq(audit_inclusion_proof(mem_node, &t, leaf, 7, proof, &n, NULL), MG_OK);
        json_t *names = json_object_get(c, "proof");
        cr_assert_eq(n, json_array_size(names));
        audit_span sp[AUDIT_MAX_PROOF];
        for (size_t k = 0; k < n; k++) {
            sym(nodes, json_string_value(json_array_get(names, k)), leaves, want);
            cr_assert_eq(memcmp(proof[k], want, AUDIT_HASH), 0);
            sp[k] = (audit_span){ proof[k], AUDIT_HASH };
        }
        cr_assert(audit_verify_inclusion(leaf, 7, (audit_span){ leaves[leaf], 32 }, sp, n,
                                         (audit_span){ root, 32 }));
    }
    json_array_foreach(json_object_get(ex, "consistency"), i, c) {
        uint8_t proof[AUDIT_MAX_PROOF][AUDIT_HASH], r1[AUDIT_HASH];
        size_t n;
        uint64_t from = (uint64_t)json_integer_value(json_object_get(c, "from"));
        cr_assert_eq(audit_consistency_proof(mem_node, &t, from, 7, proof, &n, NULL), MG_OK);
        json_t *names = json_object_get(c, "proof");
        cr_assert_eq(n, json_array_size(names));
        audit_span sp[AUDIT_MAX_PROOF];
        for (size_t k = 0; k < n; k++) {
            sym(nodes, json_string_value(json_array_get(names, k)), leaves, want);
            cr_assert_eq(memcmp(proof[k], want, AUDIT_HASH), 0);
            sp[k] = (audit_span){ proof[k], AUDIT_HASH };
        }
        sym(nodes, json_string_value(json_object_get(c, "root1")), leaves, r1);
        cr_assert_eq(audit_tree_root(mem_node, &t, from, want, NULL), MG_OK);
        cr_assert_eq(memcmp(r1, want, AUDIT_HASH), 0);
        cr_assert(audit_verify_consistency(from, 7, (audit_span){ r1, 32 },
                                           (audit_span){ root, 32 }, sp, n));
    }
    json_decref(ex);
}

/* Every proof of every tree up to 33 leaves verifies, and fails with any
 * element flipped, dropped or added, or at the wrong index. */
Test(merkle, generate_and_verify_exhaustive)
{
    enum { N = 33 };
    uint8_t leaves[N][AUDIT_HASH];
    for (int i = 0; i < N; i++)
        audit_leaf_hash(&i, sizeof i, leaves[i]);
    mem_tree t = { leaves, N };
    for (uint64_t size = 1; size <= N; size++) {
        uint8_t root[AUDIT_HASH];
        cr_assert_eq(audit_tree_root(mem_node, &t, size, root, NULL), MG_OK);
        audit_span rs = { root, 32 };
        for (uint64_t idx = 0; idx < size; idx++) {
            uint8_t proof[AUDIT_MAX_PROOF + 1][AUDIT_HASH];
            size_t n;
            cr_assert_eq(audit_inclusion_proof(mem_node, &t, idx, size, proof, &n, NULL), MG_OK);
            audit_span sp[AUDIT_MAX_PROOF + 1];
            for (size_t k = 0; k <= n; k++)
                sp[k] = (audit_span){ proof[k], 32 };
            audit_span lf = { leaves[idx], 32 };
            cr_assert(audit_verify_inclusion(idx, size, lf, sp, n, rs));
            if (size > 1)
                cr_assert_not(audit_verify_inclusion((idx + 1) % size, size, lf, sp, n, rs));
            memcpy(proof[n], root, AUDIT_HASH);
            cr_assert_not(audit_verify_inclusion(idx, size, lf, sp, n + 1, rs));
            if (n > 0)
                cr_assert_not(audit_verify_inclusion(idx, size, lf, sp, n - 1, rs));
            for (size_t k = 0; k < n; k++) {
                proof[k][k % 32] ^= 1;
                cr_assert_not(audit_verify_inclusion(idx, size, lf, sp, n, rs));
                proof[k][k % 32] ^= 1;
            }
        }
        for (uint64_t s1 = 1; s1 <= size; s1++) {
            uint8_t proof[AUDIT_MAX_PROOF + 1][AUDIT_HASH], r1[AUDIT_HASH];
            size_t n;
            cr_assert_eq(audit_tree_root(mem_node, &t, s1, r1, NULL), MG_OK);
            cr_assert_eq(audit_consistency_proof(mem_node, &t, s1, size, proof, &n, NULL), MG_OK);
            audit_span sp[AUDIT_MAX_PROOF + 1];
            for (size_t k = 0; k <= n; k++)
                sp[k] = (audit_span){ proof[k], 32 };
            audit_span r1s = { r1, 32 };
            cr_assert(audit_verify_consistency(s1, size, r1s, rs, sp, n), "%llu -> %llu",
                      (unsigned long long)s1, (unsigned long long)size);
            cr_assert_not(audit_verify_consistency(s1, size, rs, r1s, sp, n) && s1 != size);
            if (n > 0)
                cr_assert_not(audit_verify_consistency(s1, size, r1s, rs, sp, n - 1));
            for (size_t k = 0; k < n; k++) {
                proof[k][0] ^= 0x80;
                cr_assert_not(audit_verify_consistency(s1, size, r1s, rs, sp, n));
                proof[k][0] ^= 0x80;
            }
        }
    }
}

Test(merkle, generation_rejects_bad_ranges)
{
    uint8_t leaves[2][AUDIT_HASH] = { { 0 } };
    mem_tree t = { leaves, 2 };
    uint8_t proof[AUDIT_MAX_PROOF][AUDIT_HASH];
    size_t n = 99;
    mg_error err = { 0 };
    cr_assert_eq(audit_inclusion_proof(mem_node, &t, 2, 2, proof, &n, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "leaf index 2 is not below tree size 2");
    cr_assert_eq(n, 0);
    cr_assert_eq(audit_consistency_proof(mem_node, &t, 0, 2, proof, &n, &err), MG_EINVAL);
    cr_assert_str_eq(err.message, "no consistency proof from size 0 to size 2");
    cr_assert_eq(audit_consistency_proof(mem_node, &t, 3, 2, proof, &n, &err), MG_EINVAL);
    mg_error_clear(&err);
}
