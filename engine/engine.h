/*
 * engine.h — internal structures behind the public handles of meshgov.h:
 * policy sets, subjects and contexts, decisions.
 */
#ifndef MG_ENGINE_ENGINE_H
#define MG_ENGINE_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include "engine/program.h"

#define MG_DEFAULT_BUDGET VM_DEFAULT_BUDGET
#define MG_SCRATCH_BYTES 4096u
#define MG_MAX_ERRORS 8u      /* kept per decision; the rest are counted */
#define MG_TRACE_CAP 1024u    /* explain steps kept per decision */
#define RULE_NONE UINT32_MAX

/* Where a set's handles live: packed in chunks, so that deciding for many
 * subjects touches few cache lines and pages (handles.c). */
typedef struct mg_handle_pool {
    pthread_mutex_t lock;   /* handles are made and freed from any thread */
    struct handle_chunk *chunks;
    struct mg_handle *free; /* freed handles */
    char *next, *end;       /* the newest chunk's unused part */
} mg_handle_pool;

struct mg_policy_set {
    atomic_int refs;
    vm_program *prog;
    sl_alloc_fn alloc;
    void *ud;
    uint8_t mask_key[32];
    mg_audit_log *audit;    /* where decisions are recorded, or NULL */
    mg_audit_mode audit_mode;
    mg_handle_pool handles; /* the set's subject and context handles */
};

/* Attribute values of a subject or context, resolved to the set's slots.
 * One allocation holds the header, the slots, set items and string bytes. */
typedef struct mg_attrs {
    sl_value *slots;
    uint8_t *facts;         /* the program's subject or context facts */
    const vm_program *prog;
    sl_alloc_fn alloc;
    void *ud;
    size_t size;
    char *raw_id;           /* subject: the "id" attribute, for the audit log */
} mg_attrs;

/* A subject or context handle: what every decision reads, in a 32-byte slot packed
 * with the set's other handles (handles.c), the rest behind attrs. */
typedef struct mg_handle {
    /* The handle holds a reference on its set, so no other set can take its
     * address (and pass the check in mg_decide) while the handle lives. */
    mg_policy_set *set;
    uint32_t fact_bits, fact_errs;  /* the first 32 facts as bit sets */
    mg_attrs *attrs;
    struct mg_handle *next_free;    /* in the pool's free list */
} mg_handle;
struct mg_subject { mg_handle h; };
struct mg_context { mg_handle h; };

typedef struct dstate {
    uint32_t forbid, permit;          /* enforced: first applying, or NONE */
    uint32_t would_forbid, would_permit;  /* with dry_run policies enforced */
    uint8_t mask, would_mask;
    uint32_t mask_rule, would_mask_rule;
} dstate;

typedef struct dcol {
    int32_t col;
    dstate st;
} dcol;

typedef struct derr {
    uint32_t rule;
    uint32_t pc;
    int32_t col;            /* -1: product or port level */
    uint8_t err;            /* sl_err */
    uint8_t miss_root;      /* SL_E_MISSING: the root of the missing attribute, */
    uint16_t miss_slot;     /* and its slot; miss_root 0xff when unknown */
} derr;

enum { TRACE_FALSE, TRACE_TRUE, TRACE_ERROR, TRACE_STATIC };
typedef struct dtrace {
    uint32_t rule;
    int32_t col;
    uint8_t result;
} dtrace;

struct mg_decision {
    /* ---- read or written by every decision: the first cache lines ---- */
    mg_policy_set *set;     /* referenced, as for mg_attrs */
    const vm_program *prog;
    dcol *cols;
    uint32_t cap_cols, ncols;
    dstate port;            /* product- and port-level result */
    mg_effect effect, would_effect;
    uint32_t deciding, would_deciding;  /* rule index or NONE */
    uint32_t nerrs, nerrs_total;
    uint32_t ntrace, ntrace_total;
    bool explain;
    bool decided;           /* a decision has been made: results are valid */
    mg_audit_mode audit_mode;   /* the set's, copied: sets never change */
    mg_audit_log *audit;
    int action, port_id;
    int64_t now_us;
    int64_t audit_seq;      /* -1: not recorded */
    uint64_t rules_evaluated;   /* since creation: conditions run */

    /* ---- used when a condition runs in the VM, or for reports --------- */
    sl_alloc_fn alloc;
    void *ud;
    sl_ctx cx;
    char *scratch;
    sl_value *stack;
    uint32_t stack_cap;
    derr errs[MG_MAX_ERRORS];
    dtrace *trace;
};

/* Allocation helpers with the set's allocator. */
void *mg__alloc(sl_alloc_fn alloc, void *ud, size_t n);
void mg__free(sl_alloc_fn alloc, void *ud, void *p, size_t n);

/* The engine's settings, for the loaders. */
sl_alloc_fn mg__engine_alloc(const mg_engine *e, void **ud);
uint32_t mg__engine_budget(const mg_engine *e);
/* The engine's current set with a reference, when it is product_uri's;
 * else MG_EINVAL (none loaded, or another product's). */
mg_status mg__acquire_product_set(mg_engine *e, const char *product_uri, mg_policy_set **out, mg_error *err);
const uint8_t *mg__engine_mask_key(const mg_engine *e);

/* Wraps a program in a policy set (takes ownership of prog). */
mg_status mg__policy_set_new(vm_program *prog, sl_alloc_fn alloc, void *ud,
                             const uint8_t *mask_key, mg_policy_set **out);

/* Gives a set the engine's audit log and records its load ("policy_load",
 * with the given sources as a JSON array text, or NULL). On failure the
 * set must not be used: nothing may be decided without a record. */
mg_status mg__engine_adopt_set(mg_engine *e, mg_policy_set *set,
                               const char *sources_json, mg_error *err);

/* Queues the audit record of decision d (decide.c). */
mg_status mg__audit_decision(const mg_policy_set *set, const mg_request *req,
                             mg_decision *d, mg_error *err);

/* Resolves a JSON object (jansson json_t*) to a handle on root's slots. */
mg_status mg__handle_from_json(const mg_policy_set *set, int root,
                               const void *json_obj, const char *what,
                               mg_handle **out, mg_error *err);

/* The handle pool of a set (handles.c). mg__handle_new takes a reference on
 * set and ownership of attrs (NULL when out of memory: attrs is the
 * caller's still); mg__handle_free frees both and gives the reference back. */
void mg__handle_pool_init(mg_handle_pool *pool);
void mg__handle_pool_free(mg_policy_set *set);
mg_handle *mg__handle_new(mg_policy_set *set, mg_attrs *attrs);
void mg__handle_free(mg_handle *h);

#endif
