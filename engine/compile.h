/*
 * compile.h — the compiler from checked policy ASTs to a program.
 */
#ifndef MG_ENGINE_COMPILE_H
#define MG_ENGINE_COMPILE_H

#include "engine/manifest.h"
#include "engine/program.h"
#include "policy/policy.h"

typedef struct comp_policy {
    const ast_policy *ast;
    const ast_file *file;
    int mode;              /* -1: the policy's own; 0 enforce; 1 dry_run */
} comp_policy;

typedef struct comp_input {
    const comp_policy *policies;
    size_t n;
    const mf_product *product;   /* NULL: no resources */
    const mf_mesh *mesh;         /* schema and actions; may be NULL */
    uint32_t step_budget;        /* per condition evaluation; 0: default */
} comp_input;

/* Compiles in into a frozen program (refcount 1). Compile errors go to
 * diags and return MG_ETYPE; out of memory returns MG_ENOMEM. */
mg_status comp_program(const comp_input *in, sl_alloc_fn alloc, void *ud,
                       diag_list *diags, vm_program **out);

#endif
