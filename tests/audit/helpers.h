/*
 * helpers.h — shared by the audit tests: loading the published vectors
 * (jansson), base64 and hex helpers, an in-memory Merkle tree as a node
 * source, and temporary directories.
 */
#ifndef MG_TESTS_AUDIT_HELPERS_H
#define MG_TESTS_AUDIT_HELPERS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "audit/audit.h"

#define VECTORS "../shared/testdata/tlog-vectors"

/* Loads VECTORS/name; fails the test if it cannot. */
json_t *load_vectors(const char *name);

/* A decoded base64 string: owned bytes of any length. */
typedef struct blob {
    uint8_t *p;
    size_t n;
} blob;
blob b64(const char *s);
blob unhex(const char *s);
void blob_free(blob *b);
audit_span span_of(blob b);

/* A uint64 from a JSON integer or a decimal string. */
uint64_t json_u64(const json_t *v);

/* In-memory tree over leaf hashes; implements audit_node_fn. */
typedef struct mem_tree {
    uint8_t (*leaf)[AUDIT_HASH];
    uint64_t size;
} mem_tree;
mg_status mem_node(void *ud, unsigned level, uint64_t index,
                   uint8_t out[AUDIT_HASH], mg_error *err);

/* A fresh directory under /tmp (malloc'd path). */
char *make_tmpdir(void);
/* Joins dir and name into a malloc'd path. */
char *path_in(const char *dir, const char *name);
void remove_tree(const char *dir);

#endif
