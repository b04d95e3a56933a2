/*
 * lint.h — warnings about rules that are written but cannot do what they
 * say, found in a product's compiled policy set (engine/lint.c). Called by
 * mg_check_product after the compliance checks.
 */
#ifndef MG_ENGINE_LINT_H
#define MG_ENGINE_LINT_H

#include <stdbool.h>
#include "engine/engine.h"
#include "engine/manifest.h"

/* Check ids of the lint findings (mg_finding.check). */
#define LINT_NEVER_APPLIES "lint-never-applies"
#define LINT_SHADOWED "lint-shadowed-permit"
#define LINT_REPERMIT "lint-local-repermit"

/* Reports each lint finding of the set of product pr (a product of m) to
 * fn as a warning located at the rule (policy file, line, column). Stops
 * when fn returns nonzero, and then sets *stop. Allocates nothing. */
void lint_product(const mg_policy_set *set, const mf_mesh *m, const mf_product *pr, mg_finding_fn fn, void *ud,
                  bool *stop);

#endif
