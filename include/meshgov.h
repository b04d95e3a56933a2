/*
 * meshgov.h — the public C API of libmeshgov, a policy-as-code governance
 * engine for data mesh. This is the only header an embedder includes.
 *
 * OWNERSHIP. A function that returns a new object through an out-parameter
 * (`T **out`) hands it to the caller, who releases it with the matching
 * `mg_*_free` (or `mg_*_release` for shared, reference-counted objects).
 * Every `_free`/`_release` accepts NULL. On failure, out-parameters are set
 * to NULL. A `const char *` returned by an accessor is owned by the object it
 * was read from and stays valid until that object is freed, unless the
 * function says otherwise.
 *
 * ERRORS. Functions return an `mg_status`: 0 (MG_OK) on success, a distinct,
 * stable code on failure. Each also takes an optional `mg_error *` (may be
 * NULL) that receives a message and the place in the input (file, line,
 * column) where that applies; release its contents with mg_error_clear().
 * A `forbid` is a decision, not an error. The library never prints, never
 * exits, never aborts; out of memory is MG_ENOMEM.
 *
 * THREADS. A compiled policy set (mg_policy_set) is immutable once built and
 * may be used by any number of threads at once. Each thread brings its own
 * scratch space for deciding (mg_decision). An engine's current policy set is
 * swapped atomically on reload; a set stays alive while any thread holds it
 * (mg_engine_acquire / mg_policy_set_release). An audit log handle serializes
 * its own use. There is no global mutable state.
 */
#ifndef MESHGOV_H
#define MESHGOV_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MG_VERSION "0.1.0"

/* ======================================================================
 * Status codes and errors
 * ====================================================================== */

typedef enum mg_status {
    MG_OK = 0,
    MG_ENOMEM = 1,      /* out of memory */
    MG_EINVAL = 2,      /* invalid argument: API misuse */
    MG_ESYNTAX = 3,     /* policy source does not parse */
    MG_ETYPE = 4,       /* policy does not type-check */
    MG_EMANIFEST = 5,   /* manifest (YAML) invalid */
    MG_EREQUEST = 6,    /* request malformed */
    MG_EIO = 7,         /* file cannot be read or written */
    MG_ENOTFOUND = 8,   /* unknown product, port, column, policy or entry */
    MG_EBUDGET = 9,     /* evaluation step budget exhausted */
    MG_EEVAL = 10,      /* evaluation error (type mismatch, overflow...) */
    MG_EINTEGRITY = 11, /* audit log fails verification */
    MG_ECRYPTO = 12,    /* bad key, bad signature */
    MG_EBUSY = 13,      /* audit ring full: decision denied, not recorded */
    MG_EDB = 14,        /* database error (SQLite) */
    MG_ELIMIT = 15,     /* input exceeds a limit (size, depth, count) */
    MG_EFORMAT = 16     /* malformed file of a meshgov format (bundle...) */
} mg_status;

/* A short English name for a status code ("out of memory"). Static. */
const char *mg_status_str(mg_status s);

typedef struct mg_error {
    mg_status code;
    char *message;   /* one line, no file prefix; owned, may be NULL on OOM */
    char *file;      /* input the error is in, or NULL */
    int line;        /* 1-based; 0 when not applicable */
    int column;      /* 1-based; 0 when not applicable */
    char *detail;    /* every diagnostic rendered compiler-style
                        ("file:line:col: error: ...", source line, caret),
                        or NULL */
} mg_error;

/* Frees the strings of *err and zeroes it. Accepts NULL. */
void mg_error_clear(mg_error *err);

/* ======================================================================
 * Allocator hook
 * ====================================================================== */

/* One function does all of meshgov's own allocations (Lua style):
 *   nsize == 0: free ptr (osize is its size), return NULL;
 *   ptr == NULL: allocate nsize bytes;
 *   otherwise: resize. Return NULL on failure.
 * Allocations made inside libyaml, jansson and SQLite use their own
 * allocators; a failure there is still reported as MG_ENOMEM. */
typedef void *(*mg_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

/* ======================================================================
 * Engine
 * ====================================================================== */

typedef struct mg_engine mg_engine;
typedef struct mg_policy_set mg_policy_set;
typedef struct mg_decision mg_decision;
typedef struct mg_subject mg_subject;
typedef struct mg_context mg_context;

typedef struct mg_config {
    mg_alloc_fn alloc;        /* NULL: malloc/realloc/free */
    void *alloc_ud;
    /* Mesh-wide key for the `hash` mask (keyed BLAKE2b). NULL: a random key
     * is drawn, so hashes are consistent only within this engine. */
    const uint8_t *mask_key;  /* 32 bytes */
    uint32_t step_budget;     /* VM steps per rule; 0: default (10,000) */
} mg_config;

/* Creates an engine. cfg may be NULL for defaults. */
mg_status mg_engine_new(const mg_config *cfg, mg_engine **out, mg_error *err);
void mg_engine_free(mg_engine *e);

/* Loads the mesh in mesh_dir (mesh.yaml and every product manifest) and
 * compiles the policy set of the product whose URI is product_uri: the
 * global policies it adopts, at the adopted versions, and its local policies.
 * On success the new set replaces the engine's current one atomically;
 * threads deciding with the old set finish with it. On failure the current
 * set stays in place. */
mg_status mg_engine_load(mg_engine *e, const char *mesh_dir,
                         const char *product_uri, mg_error *err);

/* Installs `set` as the engine's current policy set (atomic swap). The engine
 * takes its own reference; the caller keeps theirs. */
mg_status mg_engine_swap(mg_engine *e, mg_policy_set *set);

/* Returns the current policy set with a reference the caller must release
 * with mg_policy_set_release(), or NULL if none is loaded. Thread-safe. */
mg_policy_set *mg_engine_acquire(mg_engine *e);

/* ======================================================================
 * Compiling policies
 * ====================================================================== */

typedef struct mg_source {
    const char *name;   /* file name used in diagnostics and rule locations */
    const char *text;   /* policy source; need not be NUL-terminated */
    size_t len;
} mg_source;

typedef struct mg_compile_input {
    const mg_source *policies;  /* policy files */
    size_t n_policies;
    const mg_source *product;   /* product manifest (YAML); NULL: none */
    const mg_source *mesh;      /* mesh.yaml (schema, actions); NULL: none */
} mg_compile_input;

/* Compiles policy sources against a product manifest into an immutable
 * policy set with a reference count of 1. On a compile error returns
 * MG_ESYNTAX or MG_ETYPE, and err->detail holds every diagnostic. */
mg_status mg_compile(mg_engine *e, const mg_compile_input *in,
                     mg_policy_set **out, mg_error *err);

/* Reference counting: a set is freed when its last reference is released. */
mg_policy_set *mg_policy_set_retain(mg_policy_set *set);
void mg_policy_set_release(mg_policy_set *set);

/* SHA-256 of the set's canonical compiled form, as 64 hex digits. Owned by
 * the set. */
const char *mg_policy_set_digest(const mg_policy_set *set);

/* Writes a disassembly of the compiled set's bytecode to a new string that
 * the caller frees with mg_free(). */
mg_status mg_policy_set_disasm(const mg_policy_set *set, char **out,
                               mg_error *err);

/* Serializes the compiled set as a bundle in a new buffer (*out, *len) that
 * the caller frees with mg_free(). With secret_key (a 64-byte Ed25519
 * secret key, libsodium layout), the bundle carries its signature. The
 * bundle's content address is mg_policy_set_digest(). */
mg_status mg_bundle_write(const mg_policy_set *set, const uint8_t *secret_key,
                          char **out, size_t *len, mg_error *err);

/* Loads a bundle written by mg_bundle_write, checking every field and the
 * bytecode before use. With trust_pk (32-byte Ed25519 public key), an
 * unsigned bundle or one not signed by that key is refused (MG_ECRYPTO).
 * The front end is not needed: this runs compiled bytecode as it is. */
mg_status mg_bundle_load(mg_engine *e, const void *data, size_t len,
                         const uint8_t *trust_pk, mg_policy_set **out,
                         mg_error *err);

/* Frees memory returned by meshgov with "frees with mg_free()". */
void mg_free(void *p);

/* ======================================================================
 * Resources and subjects as handles
 * ====================================================================== */

/* Resources of the set's product are addressed by small integers, stable for
 * the life of the set. Returns -1 when the name is unknown. */
int mg_port_id(const mg_policy_set *set, const char *port);
int mg_column_id(const mg_policy_set *set, int port, const char *column);
int mg_action_id(const mg_policy_set *set, const char *action);

/* Resolves a subject (a JSON object, e.g. {"id": "...", "roles": [...]})
 * against the set's attribute slots, once. The handle is tied to `set` and
 * may be used by any thread for decisions with that set. */
mg_status mg_subject_new(const mg_policy_set *set, const char *json,
                         size_t len, mg_subject **out, mg_error *err);
void mg_subject_free(mg_subject *s);

/* Same for the request context ({"purpose": "...", "region": "..."}). */
mg_status mg_context_new(const mg_policy_set *set, const char *json,
                         size_t len, mg_context **out, mg_error *err);
void mg_context_free(mg_context *c);

/* ======================================================================
 * Deciding
 * ====================================================================== */

typedef enum mg_effect {
    MG_DENY = 0,
    MG_ALLOW = 1,
    MG_PARTIAL = 2   /* some requested columns withheld */
} mg_effect;

typedef enum mg_mask {
    MG_MASK_NONE = 0,
    MG_MASK_YEAR = 1,   /* strength order: year < last4 < hash < redact < null */
    MG_MASK_LAST4 = 2,
    MG_MASK_HASH = 3,
    MG_MASK_REDACT = 4,
    MG_MASK_NULL = 5
} mg_mask;

typedef struct mg_request {
    const mg_subject *subject;
    int action;             /* from mg_action_id() */
    int port;               /* from mg_port_id() */
    const int *columns;     /* from mg_column_id(); NULL: the whole port */
    size_t n_columns;
    const mg_context *context;  /* may be NULL */
    int64_t now_us;         /* clock, microseconds since the epoch (UTC) */
} mg_request;

/* A decision is the caller's reusable scratch space and result: create one
 * per thread, reuse it for every call. Deciding never allocates. */
mg_status mg_decision_new(const mg_policy_set *set, mg_decision **out,
                          mg_error *err);
void mg_decision_free(mg_decision *d);

/* Decides a request: one call for the whole batch of columns. A forbid is a
 * decision (MG_OK with effect MG_DENY); errors in rules are reported in the
 * decision and fail closed. Returns an error status only for misuse
 * (MG_EINVAL: wrong set, ids out of range). */
mg_status mg_decide(const mg_policy_set *set, const mg_request *req,
                    mg_decision *d, mg_error *err);

/* With on, later decisions on d record the rule-by-rule trace that
 * mg_decision_json(..., explain) prints. Off by default (it costs time). */
void mg_decision_set_explain(mg_decision *d, bool on);

/* Conditions evaluated by decisions on d since it was created: proof that
 * the rule index keeps the work small. */
uint64_t mg_decision_rules_evaluated(const mg_decision *d);

/* Results of the last mg_decide on d. */
mg_effect mg_decision_effect(const mg_decision *d);
size_t mg_decision_column_count(const mg_decision *d);
/* Column i of the decision: its id, effect (MG_ALLOW or MG_DENY) and mask. */
void mg_decision_column(const mg_decision *d, size_t i, int *column,
                        mg_effect *effect, mg_mask *mask);

/* The decision as JSON (DESIGN.md "Access semantics"), in a new string the
 * caller frees with mg_free(). With explain, includes the rule trace. */
mg_status mg_decision_json(const mg_policy_set *set, const mg_decision *d,
                           bool explain, char **out, mg_error *err);

/* Decides a request given as JSON ({"subject": ..., "action": ...,
 * "product": ..., "port": ..., "columns": [...], "context": ...}). Builds the
 * subject and context for this one call (this path allocates). */
mg_status mg_decide_json(const mg_policy_set *set, const char *json,
                         size_t len, int64_t now_us, mg_decision *d,
                         mg_error *err);

/* ======================================================================
 * Retention, encryption and forget rules
 * ======================================================================
 * These evaluate the non-access rules of a set for one port (or column) of
 * its product. Their conditions read the manifest and the clock; a rule that
 * reads subject or context attributes sees them missing. An error in a
 * condition is returned as MG_EEVAL with the rule's location in err: the
 * caller skips the port and fails the run (DESIGN.md, fail closed). */

typedef enum mg_disposal {
    MG_KEEP = 0,
    MG_DELETE = 1,
    MG_ANONYMIZE = 2,
    MG_ARCHIVE = 3     /* tie order for equal due times: archive > anonymize > delete */
} mg_disposal;

/* The retention verdict for one row (column < 0) or one column value of a
 * port, given the row's time columns by name (e.g. "event_time",
 * "processing_time"). */
typedef struct mg_retention {
    mg_disposal disposal;   /* what to do now: MG_KEEP until due, or if held */
    mg_disposal at_due;     /* what falls due at due_us (MG_KEEP: no rule) */
    int64_t due_us;         /* latest due time of the applying rules */
    bool held;              /* a `hold` applies: nothing may change */
    char rule[128];         /* id of the deciding retain rule, or "" */
    char hold_rule[128];    /* id of the applying hold, or "" */
} mg_retention;

mg_status mg_retention_verdict(const mg_policy_set *set, int port, int column,
                               const char *const *time_names,
                               const int64_t *times, size_t ntimes,
                               int64_t now_us, mg_retention *out,
                               mg_error *err);

/* Whether a hold applies to the port (hold on product or port). */
mg_status mg_hold_applies(const mg_policy_set *set, int port, int64_t now_us,
                          bool *held, mg_error *err);

/* Encryption that `require encryption` rules demand of a port (column < 0)
 * or of one of its columns. */
mg_status mg_encryption_required(const mg_policy_set *set, int port,
                                 int column, int64_t now_us, bool *at_rest,
                                 bool *in_transit, mg_error *err);

/* The forget plan of a port: whether any `forget` rule covers it, what it
 * does (delete beats anonymize) and the deadline (the earliest `within`;
 * -1 when none is given). */
typedef struct mg_forget_plan {
    bool covered;
    mg_disposal disposal;   /* MG_DELETE or MG_ANONYMIZE */
    int64_t within_us;      /* -1: no deadline */
    char rule[128];
} mg_forget_plan;

mg_status mg_forget_plan_of(const mg_policy_set *set, int port,
                            int64_t now_us, mg_forget_plan *out,
                            mg_error *err);

/* ======================================================================
 * Audit log — see the section below (audit/)
 * ====================================================================== */

#ifdef __cplusplus
}
#endif
#endif /* MESHGOV_H */
