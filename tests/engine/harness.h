/*
 * harness.h — helpers shared by the engine tests: compiling a policy text
 * against the standard test product, deciding a JSON request, and
 * summarizing a decision as one exact line.
 */
#ifndef MG_TESTS_ENGINE_HARNESS_H
#define MG_TESTS_ENGINE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include "meshgov.h"

/* The product every decision case runs against (tests/engine/product.yaml). */
extern const char *const h_product_yaml;

/* Reads a whole file; aborts the test on failure. Caller frees. */
char *h_read_file(const char *path, size_t *len);

/* Compiles policy text (and an optional product and mesh YAML; NULL means
 * the standard product and no mesh) into a set. Returns the status; on
 * error *msg gets "line:col: message" and err->detail. */
mg_status h_compile(mg_engine *e, const char *policy, const char *product,
                    const char *mesh, mg_policy_set **out, mg_error *err);

/* Decides request JSON at `now` and returns the summary line (static
 * buffer), e.g.
 *   "partial by p@1#1 | email=allow/hash card=deny | errors 1 | dry deny"
 * or "error 6: request: unknown port `x`" when deciding fails. */
const char *h_decide(mg_policy_set *set, const char *request, const char *now);

/* 2026-06-01T12:00:00Z in microseconds: the clock of every case. */
#define H_NOW 1780315200000000LL

#endif
