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
    MG_EBUSY = 13,      /* audit ring full: decision denied, not recorded;
                           or the audit log already has a writer */
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

/* One function does meshgov's own allocations (Lua style):
 *   nsize == 0: free ptr (osize is its size), return NULL;
 *   ptr == NULL: allocate nsize bytes;
 *   otherwise: resize ptr, of osize bytes, to nsize. Return NULL on failure.
 * osize is always the size the block was allocated or last resized to, so
 * the function may account bytes by it (a memory limit per tenant, say).
 * It serves everything an engine, policy set, decision, subject or context
 * holds (the mesh an engine keeps while its files do not change too), the
 * scratch memory of compiling, loading, deciding, checks, policy tests and
 * reports, and pcre2's compiled patterns and match data. An audit log
 * handle, opened without an engine, takes its own (mg_audit_config.alloc).
 * From malloc instead: what meshgov hands to the caller (freed with
 * mg_free, mg_error_clear or mg_adoption_free), and the auditor's side,
 * mg_audit_verify and proof checkers. Allocations made inside libyaml,
 * jansson, SQLite and libsodium use their own allocators; a failure there
 * is still reported as MG_ENOMEM. */
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
    uint32_t step_budget;     /* VM steps per evaluation of a condition (in a
                                 decision, a fact, a load-time conjunct);
                                 0: default (10,000) */
    /* The engine keeps the last mesh it loaded and reuses it while inotify
     * reports no change to its files, so loading and checking many products
     * of one mesh reads each manifest once. true: read every manifest again
     * on each load (for file systems that do not report changes, e.g. NFS). */
    bool no_mesh_cache;
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

/* The checkpoint origin of a product's audit log, "<mesh>/<domain>/<name>":
 * the mesh's name from its mesh.yaml and the parts of the product's URI
 * dp://<domain>/<name> (MG_ENOTFOUND for a product the mesh does not
 * hold). A new string the caller frees with mg_free(). */
mg_status mg_audit_origin(mg_engine *e, const char *mesh_dir,
                          const char *product_uri, char **origin,
                          mg_error *err);

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
 * against the set's attribute slots, once. The handle is tied to `set` (it
 * holds a reference: the set lives until the handle is freed) and
 * may be used by any thread for decisions with that set. Handles are made
 * and freed safely from any thread; their memory is the set's, packed so
 * that deciding for many subjects stays in cache, and goes back to the
 * allocator when the set is freed. */
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
 * Compliance checks
 * ======================================================================
 * Static checks of one product against its compiled policy set and the
 * mesh's catalogue (DESIGN.md "Adoption state"): encryption declared where a
 * `require encryption` rule applies, a retention rule for every output port
 * with personal data, a subject_key on every port a `forget` rule covers,
 * and adoption of the catalogue's `required` and `grace` policies. */

typedef enum mg_severity {
    MG_SEV_ERROR = 0,     /* a violation: CI fails */
    MG_SEV_WARNING = 1,   /* e.g. a `grace` policy not yet adopted */
    MG_SEV_NOTE = 2
} mg_severity;

/* One finding. Every string is valid during the callback only. */
typedef struct mg_finding {
    mg_severity severity;
    const char *check;    /* "encryption", "retention", "forget", "adoption",
                             or a lint: "lint-never-applies",
                             "lint-shadowed-permit", "lint-local-repermit" */
    const char *message;  /* one line, no file prefix */
    const char *file;     /* the manifest (or, for a lint, the policy file)
                             the finding is located in */
    int line, column;     /* 1-based; 0 when unknown */
    const char *product;  /* product URI */
    const char *policy;   /* the policy the finding is about (adoption,
                             forget, lints), or NULL when it concerns the
                             manifest as a whole (encryption, retention) */
} mg_finding;

/* Receives each finding; return nonzero to stop the checks early. */
typedef int (*mg_finding_fn)(void *ud, const mg_finding *f);

/* Checks product_uri of the mesh in mesh_dir against the engine's current
 * policy set, which must be that product's (load it first with
 * mg_engine_load: a set that does not compile is that call's error).
 * Findings go to fn, in manifest order: encryption and retention/forget per
 * port, then adoption per catalogue policy, then lints (warnings located at
 * the rule, in rule order: rules that can never apply, permits shadowed by
 * an unconditional forbid, local permits of what a global forbid forbids;
 * docs/cli.md "Lints"). `grace` deadlines are compared
 * with now_us. Returns MG_OK when the checks ran, whatever they found;
 * MG_EINVAL when no set or another product's set is loaded; the manifest
 * errors of mf_mesh_load; MG_EEVAL when a rule's condition fails. */
mg_status mg_check_product(mg_engine *e, const char *mesh_dir,
                           const char *product_uri, int64_t now_us,
                           mg_finding_fn fn, void *ud, mg_error *err);

/* ======================================================================
 * Policy tests
 * ======================================================================
 * A product lists policy test files in its manifest (`tests:`); each test
 * is a request with a pinned clock and the decision it expects: the effect,
 * per-column effects and masks, the deciding rules or policies
 * (docs/policy-tests.md). Running them also measures rule coverage: which
 * access rules of the set some test's decision evaluated. */

/* The outcome of one test. Every string is valid during the callback only. */
typedef struct mg_test_result {
    const char *product;   /* product URI */
    const char *name;      /* the test's `name` */
    const char *file;      /* the test file */
    int line, column;      /* where the test starts in it */
    bool passed;
    const char *failure;   /* NULL when passed; otherwise every difference,
                              one per line ("effect: expected allow, got
                              deny"), or why the request was not decided */
    const char *decision;  /* the decision as JSON with its rule trace
                              (mg_decision_json with explain); NULL when the
                              request could not be decided */
} mg_test_result;

/* One access rule (permit, forbid, mask) of the set that can apply to some
 * request on the product, and whether a test's decision evaluated it. */
typedef struct mg_rule_coverage {
    const char *product;
    const char *rule;      /* "<policy>@<version>#<ordinal>" */
    const char *kind;      /* "permit", "forbid" or "mask" */
    const char *file;      /* the policy file */
    int line, column;
    bool covered;
} mg_rule_coverage;

/* Callbacks of mg_test_product, each may be NULL; return nonzero to stop. */
typedef struct mg_test_hooks {
    int (*test)(void *ud, const mg_test_result *r);     /* per test, in order */
    int (*rule)(void *ud, const mg_rule_coverage *c);   /* per rule, after all
                                                           tests, rule order */
    void *ud;
} mg_test_hooks;

/* Runs the policy tests of product_uri (the files its manifest lists, in
 * order) against the engine's current policy set, which must be that
 * product's (load it with mg_engine_load first), then reports coverage.
 * Only the product's own manifest (mesh_dir/domains/<domain>/<name>/
 * product.yaml) is read again: mg_engine_load has checked the mesh.
 * Returns MG_OK when the tests ran, whatever their outcome; MG_EINVAL when
 * no set or another product's set is loaded; the errors of reading that
 * manifest; MG_EMANIFEST for a malformed test file (located, with a
 * rendered detail); MG_EIO for an unreadable one. A request a test cannot
 * make (an unknown port, say) is a failed test, not an error. */
mg_status mg_test_product(mg_engine *e, const char *mesh_dir,
                          const char *product_uri, const mg_test_hooks *hooks,
                          mg_error *err);

/* ======================================================================
 * Adoption report
 * ======================================================================
 * For each product of a mesh and each global policy of its catalogue: the
 * version adopted and the latest, lifecycle and grace date, mode, a status
 * for the policy x product matrix, the static check results (the findings
 * of mg_check_product), its policy tests and their rule coverage
 * (mg_test_product) and, where the product has an audit log, its
 * decision counts and how many decisions dry-run policies would have
 * changed (docs/api.md "Adoption"). A product's log is
 * <audit dir>/<domain>/<name>.db, the audit dir being mesh.yaml's
 * `audit: { dir }` unless the caller gives another. */

typedef enum mg_adoption_status {
    MG_ADOPTED = 0,          /* adopted at the latest version, enforced */
    MG_OUTDATED = 1,         /* adopted at an older version */
    MG_ADOPTED_DRY_RUN = 2,  /* adopted at the latest version in dry_run */
    MG_MISSING_IN_GRACE = 3, /* `grace` policy not adopted, deadline ahead */
    MG_MISSING = 4,          /* `required` policy not adopted, or `grace`
                                policy not adopted past its deadline */
    MG_DRAFT = 5             /* `draft` policy, not adopted */
} mg_adoption_status;

/* "adopted", "outdated", "dry_run", "missing-in-grace", "missing",
 * "draft". Static. */
const char *mg_adoption_status_str(mg_adoption_status s);

/* Static check results of a product, or of one policy in it. */
typedef enum mg_check_result {
    MG_CHECK_PASS = 0,       /* no finding */
    MG_CHECK_WARN = 1,       /* warnings only */
    MG_CHECK_FAIL = 2,       /* at least one error finding */
    MG_CHECK_NOT_RUN = 3     /* the product's set does not load or compile */
} mg_check_result;

/* "pass", "warn", "fail", "not run". Static. */
const char *mg_check_result_str(mg_check_result r);

/* Policy test status of one global policy in a product: the product's
 * tests that bear on it (docs/api.md "Adoption"). A failed test bears on
 * a policy when a rule of that policy applied in its decision (its trace
 * shows the rule applying, in effect or in dry run). */
typedef enum mg_test_status {
    MG_TESTS_PASS = 0,       /* tests ran, none bearing on the policy
                                failed, some of its access rules covered */
    MG_TESTS_FAIL = 1,       /* a failed test bears on the policy */
    MG_TESTS_UNCOVERED = 2,  /* tests ran, none of its access rules covered */
    MG_TESTS_NONE = 3        /* no tests ran, or the policy has no access
                                rule in the product */
} mg_test_status;

/* "pass", "fail", "uncovered", "none". Static. */
const char *mg_test_status_str(mg_test_status s);

/* Whether a product's policy tests ran. */
typedef enum mg_tests_run {
    MG_TESTS_RAN = 0,        /* its test files ran (counts are valid) */
    MG_TESTS_NO_TESTS = 1,   /* its manifest lists no test file (coverage is
                                still counted: none of its rules covered) */
    MG_TESTS_MALFORMED = 2,  /* a test file is malformed or unreadable
                                (tests_error); counts are zero */
    MG_TESTS_NOT_RUN = 3     /* the product's set does not load or compile */
} mg_tests_run;

/* "ran", "no tests", "malformed", "not run". Static. */
const char *mg_tests_run_str(mg_tests_run r);

/* A finding of mg_check_product, kept (strings owned by the report). */
typedef struct mg_adoption_finding {
    mg_severity severity;
    char *check, *message, *file;   /* file may be NULL */
    int line, column;
    char *policy;                   /* may be NULL */
} mg_adoption_finding;

/* One cell of the matrix: one global policy in one product. */
typedef struct mg_adoption_cell {
    const char *policy;         /* the catalogue id (owned by the report) */
    int64_t adopted_version;    /* 0: not adopted */
    int64_t latest_version;
    const char *lifecycle;      /* "draft", "grace" or "required" (static) */
    int64_t grace_until_us;     /* `grace` only; else 0 */
    const char *mode;           /* "enforce" or "dry_run" as the product runs
                                   it; NULL when not adopted (static) */
    mg_adoption_status status;
    mg_check_result checks;     /* from the findings naming this policy */
    size_t errors, warnings;
    /* From the audit log (zero without one): decisions this policy's rule
     * decided, and decisions whose dry-run effect differs from the effect
     * where this policy's rule decided the dry-run outcome. */
    uint64_t decided, dry_run_changed;
    /* From the product's policy tests (mg_test_product): the policy's
     * access rules in the product (rules whose id names it), how many a
     * test covered, how many failed tests bear on it, and the status. */
    size_t rules_covered, rules_total, tests_failed;
    mg_test_status tests;
} mg_adoption_cell;

typedef struct mg_adoption_product {
    char *uri, *domain, *owner, *kind;   /* kind "" when not declared */
    mg_status load_status;      /* MG_OK, or why the set did not load */
    char *load_error;           /* its message (compiler-style detail when
                                   there is one), or NULL */
    mg_check_result checks;     /* over every finding of the product */
    size_t errors, warnings;
    mg_adoption_finding *findings;
    size_t nfindings;
    mg_adoption_cell *cells;    /* one per catalogue policy, in its order */
    size_t ncells;
    char *log;                  /* the audit log looked for */
    bool has_log;               /* it exists: the counts below are read */
    uint64_t decisions, allow, partial, deny, dry_run_changed;
    /* Policy tests, as policy-check runs them: tests run and failed, and
     * the coverage of every access rule of the set (all policies). */
    mg_tests_run tests;
    char *tests_error;          /* MG_TESTS_MALFORMED: the located message
                                   (compiler-style detail when there is
                                   one); else NULL */
    size_t tests_run, tests_failed;
    size_t rules_covered, rules_total;
    int coverage_percent;       /* covered * 100 / total rounded down; 100
                                   without access rules (0 when not run) */
} mg_adoption_product;

typedef struct mg_adoption {
    char *mesh;                 /* the mesh's name */
    int64_t now_us;             /* the clock the report was made at */
    size_t npolicies;           /* catalogue size (= ncells of each product) */
    mg_adoption_product *products;   /* sorted by URI */
    size_t nproducts;
} mg_adoption;

/* Builds the adoption report of the products named in uris (n of them; 0:
 * every product of the mesh) of the mesh in mesh_dir at now_us (grace
 * deadlines, rule clocks). Each product's set is compiled with e (as
 * mg_engine_load; the engine's current set is replaced) and checked with
 * mg_check_product, and its policy tests run with mg_test_product; a set
 * that does not compile (load_status) or a malformed test file
 * (tests_error) is recorded in the product, not returned. audit_dir NULL: mesh.yaml's `audit: dir`
 * (no logs when it has none). The report is the caller's; free it with
 * mg_adoption_free. Errors: the manifest errors of mf_mesh_load,
 * MG_ENOTFOUND for an unknown URI, an audit log that exists but cannot be
 * read (MG_EDB, MG_EINTEGRITY...), MG_ENOMEM. */
mg_status mg_adoption_report(mg_engine *e, const char *mesh_dir,
                             const char *const *uris, size_t n,
                             int64_t now_us, const char *audit_dir,
                             mg_adoption **out, mg_error *err);

void mg_adoption_free(mg_adoption *a);

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
 * "processing_time"). An error in a rule fails safe: the status is the
 * error, disposal is MG_KEEP, and a hold whose condition fails counts as
 * held. */
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

/* Whether a hold applies to the port (hold on product or port). On an
 * error in a hold's condition, *held is true and the error is returned. */
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
 * ======================================================================
 * A signed, tamper-evident, append-only log on SQLite (docs/audit.md):
 * entries are leaves of an RFC 9162 Merkle tree; signed C2SP checkpoints
 * (Ed25519) anchor its head. Subjects are stored only as pseudonyms kept in
 * a separate key store.
 *
 * THREADS. A log handle serializes its own use: any thread may call any
 * function on it at any time (except mg_audit_close, which must be the
 * last call). mg_audit_record never waits for a disk: it copies the record
 * into a bounded in-memory ring (no allocation) that a writer thread owned
 * by the handle drains, pseudonymizes and group-commits.
 */

typedef struct mg_audit_log mg_audit_log;

/* Longest value of each record field, in bytes. A longer value is refused
 * (MG_ELIMIT), never truncated. */
#define MG_AUDIT_MAX_KIND 32
#define MG_AUDIT_MAX_PRODUCT 256
#define MG_AUDIT_MAX_PORT 128
#define MG_AUDIT_MAX_SUBJECT 256
#define MG_AUDIT_MAX_ACTION 64
#define MG_AUDIT_MAX_EFFECT 16
#define MG_AUDIT_MAX_RULES 1024
#define MG_AUDIT_MAX_MODE 16
#define MG_AUDIT_MAX_DIGEST 64
#define MG_AUDIT_MAX_PAYLOAD 4096

typedef struct mg_audit_config {
    const char *path;          /* the audit database (created if missing) */
    const char *keystore;      /* pseudonym key store, a separate SQLite file;
                                  NULL: records with a subject are refused */
    const char *origin;        /* checkpoint origin, e.g. "acme/sales/orders";
                                  required to create a log, checked after */
    const char *signing_key;   /* private key file (mg_audit_keygen); NULL
                                  opens the log read-only: no writer thread,
                                  only queries and proofs */
    uint32_t checkpoint_every; /* checkpoint after this many entries; 0: 1000 */
    uint32_t checkpoint_ms;    /* ... or this long after the last one while
                                  entries wait; 0: 1000 */
    uint32_t idle_checkpoint_ms; /* with no entry waiting, the same tree head
                                  signed again this long after the last
                                  checkpoint (each checkpoint carries its
                                  time); 0: 3600000, hourly */
    uint32_t ring_capacity;    /* records held in memory; 0: 1024 */
    bool synchronous_normal;   /* SQLite synchronous=NORMAL instead of FULL
                                  (faster; a power loss may lose the last
                                  commits, never corrupt the log) */
    /* Processing clock in microseconds since the epoch; NULL: the system
     * clock. Tests inject one. Processing time never goes backwards: an
     * earlier reading is raised to the last one recorded. */
    int64_t (*clock)(void *ud);
    void *clock_ud;
    /* Allocator of the handle (see "Allocator hook"); NULL: malloc. It
     * serves everything the handle holds (the ring, the writer's staged
     * batch, the proof caches, up to 128 MiB, the key store's cache) and
     * the scratch memory of its calls; it is called from the writer thread
     * and the callers' threads, so it must be thread-safe. */
    mg_alloc_fn alloc;
    void *alloc_ud;
} mg_audit_config;

/* Opens (or creates) a log. With a signing key, takes the log's writer
 * lock and starts the writer thread: while another handle, in any process,
 * has the log open for writing, this fails with MG_EBUSY (one writer at a
 * time; readers, opened without a signing key, are never refused). The
 * lock is released by mg_audit_close or when the process dies. The handle
 * is the caller's; release it with mg_audit_close. */
mg_status mg_audit_open(const mg_audit_config *cfg, mg_audit_log **out,
                        mg_error *err);

/* Stops accepting records, flushes the ring, signs a final checkpoint so
 * the tail is anchored, stops the writer and frees the handle. Accepts
 * NULL. A flush failure is lost here: call mg_audit_flush first to see it. */
void mg_audit_close(mg_audit_log *log);

/* One event. Every string may be NULL (empty); none is kept after the call. */
typedef struct mg_audit_record {
    const char *kind;      /* "decision", "policy_load", "retention_sweep",
                              "forget", "key_rotation", "adoption_change"... */
    const char *product;   /* product URI */
    const char *port;
    const char *subject;   /* raw subject id: the log stores its pseudonym */
    const char *action;
    const char *effect;    /* "allow", "deny", "partial", ... */
    const char *rules;     /* deciding rule ids, space-separated */
    const char *mode;      /* "enforce" or "dry_run" */
    const char *digest;    /* policy set digest, 64 hex digits */
    const char *payload;   /* JSON text with the event's details */
    int64_t event_time_us; /* when it happened (may go backwards: late data) */
    bool governance;       /* a governance action: it ends its batch, and a
                              checkpoint of the tree size just after it is
                              signed at once */
} mg_audit_record;

/* Queues a record without waiting for a disk and without allocating; *seq
 * receives its sequence number (its leaf index, from 0). MG_EBUSY when the
 * ring is full: the record is not recorded and the caller must fail closed.
 * After a write failure every call returns that failure (MG_EIO, MG_EDB):
 * the log never drops records silently. Thread-safe. */
mg_status mg_audit_record_push(mg_audit_log *log, const mg_audit_record *rec,
                               uint64_t *seq, mg_error *err);

/* Waits until record `seq` is durable (its transaction committed). Returns
 * the writer's error if it failed before committing seq. Thread-safe. */
mg_status mg_audit_wait(mg_audit_log *log, uint64_t seq, mg_error *err);

/* mg_audit_record_push then mg_audit_wait: returns once durable. */
mg_status mg_audit_append(mg_audit_log *log, const mg_audit_record *rec,
                          uint64_t *seq, mg_error *err);

/* Waits until every record pushed before the call is durable. */
mg_status mg_audit_flush(mg_audit_log *log, mg_error *err);

/* Flushes, then signs a checkpoint of the current tree (if the last one
 * does not already cover it). For governance actions and on demand. */
mg_status mg_audit_checkpoint(mg_audit_log *log, mg_error *err);

/* Number of durable entries. Thread-safe. */
uint64_t mg_audit_size(mg_audit_log *log);

/* MG_OK while the writer records; after a write failure, that failure,
 * which every later record meets (for health checks: a log in this state
 * makes the engine deny). Thread-safe. */
mg_status mg_audit_status(mg_audit_log *log, mg_error *err);

/* The latest signed checkpoint (a C2SP signed note) in a new string the
 * caller frees with mg_free(); MG_ENOTFOUND when there is none. */
mg_status mg_audit_latest_checkpoint(mg_audit_log *log, char **note,
                                     mg_error *err);

/* Key rotation: a "key_rotation" governance entry is appended and its
 * checkpoint is signed by both the current and the new key; later
 * checkpoints by the new key only. MG_EINVAL, with nothing appended, when
 * the new key is the current one (under any name) or when the latest
 * checkpoint is not signed by the key the log was opened with. */
mg_status mg_audit_rotate_key(mg_audit_log *log, const char *new_key_file,
                              mg_error *err);

/* Forgets a subject: deletes its pseudonym from the key store, so its
 * entries can no longer be linked to it. MG_ENOTFOUND if it had none. */
mg_status mg_audit_forget_subject(mg_audit_log *log, const char *subject,
                                  mg_error *err);

/* Creates an Ed25519 key named `name` (e.g. "acme/sales/orders"): writes
 * the private key to skey_file (created with mode 0600; an existing file
 * is refused) and returns the verifier key "name+id+base64" in *vkey, a new
 * string the caller frees with mg_free(). Private key files readable by
 * group or others are refused when loaded (MG_ECRYPTO, naming the file). */
mg_status mg_audit_keygen(const char *name, const char *skey_file,
                          char **vkey, mg_error *err);

/* ---- verification ---------------------------------------------------- */

typedef enum mg_audit_verdict {
    MG_AUDIT_OK = 0,          /* every entry is covered by a valid checkpoint */
    MG_AUDIT_UNANCHORED = 1,  /* consistent, but entries after the last valid
                                 checkpoint are not anchored by any signature */
    MG_AUDIT_FAIL = 2         /* tampered, truncated, or otherwise invalid */
} mg_audit_verdict;

typedef struct mg_audit_verify_opts {
    const char *db;            /* the audit database, opened read-only */
    const char *keys;          /* pinned key file: "vkey [until SIZE]" lines */
    const char *trusted_checkpoint; /* a signed checkpoint the auditor kept
                                  (note text), or NULL; one that does not
                                  verify with the pinned keys, or names
                                  another log, is MG_EINVAL */
    size_t trusted_len;
    const char *trusted_file;  /* where it came from, for messages; or NULL */
    /* Called now and then with entries done and total; may be NULL. */
    void (*progress)(void *ud, uint64_t done, uint64_t total);
    void *progress_ud;
} mg_audit_verify_opts;

typedef struct mg_audit_report {
    mg_audit_verdict verdict;
    uint64_t size;             /* entries in the log */
    uint64_t verified_size;    /* entries proven by a valid checkpoint */
    uint64_t checkpoints;      /* valid checkpoints checked */
    int64_t first_bad_seq;     /* FAIL: first entry not proven good; else -1 */
    int64_t bad_checkpoint;    /* tree size of a failing checkpoint, or -1 */
    char message[512];         /* one line for people */
} mg_audit_report;

/* Verifies a log: every entry re-encoded from its columns, the tree
 * rebuilt, every checkpoint's signature (keys from the pinned file only,
 * never from the database), checkpoints mutually consistent, processing
 * time monotonic, sequence contiguous from 0, and, with a trusted
 * checkpoint, that the log extends it. Returns MG_OK when the verification
 * ran (the verdict is in *rep, MG_AUDIT_FAIL included); an error status
 * only when it could not run (unreadable key file, not an audit log). */
mg_status mg_audit_verify(const mg_audit_verify_opts *opts,
                          mg_audit_report *rep, mg_error *err);

/* ---- proofs ------------------------------------------------------------ */

/* Inclusion proof of entry `seq` in the tree of size tree_size (0: the
 * latest checkpoint) as JSON (docs/audit.md), with the entry, its leaf hash
 * and the signed checkpoint of that size; a new string the caller frees
 * with mg_free(). tree_size must be the size of a stored checkpoint. */
mg_status mg_audit_prove(mg_audit_log *log, uint64_t seq, uint64_t tree_size,
                         char **json, mg_error *err);

/* The same proof in the C2SP tlog-proof format (c2sp.org/tlog-proof): the
 * entry in its "extra" line, the index, the path, the signed checkpoint.
 * Smaller than the JSON and read by tlog tooling; checked by the same
 * functions below. A new string the caller frees with mg_free(). */
mg_status mg_audit_prove_tlog(mg_audit_log *log, uint64_t seq, uint64_t tree_size,
                              char **text, mg_error *err);

/* Consistency proof from size1 to size2 (0: the latest checkpoint), both
 * checkpoint sizes, as JSON with both signed checkpoints. Caller frees. */
mg_status mg_audit_consistency(mg_audit_log *log, uint64_t size1,
                               uint64_t size2, char **json, mg_error *err);

/* Checks a proof made by mg_audit_prove, mg_audit_prove_tlog or
 * mg_audit_consistency against the pinned key file, without the database;
 * the format is told by the text (a tlog-proof starts with its first line,
 * anything else is read as JSON). MG_OK if it holds; MG_ECRYPTO for a bad
 * signature; MG_EINTEGRITY for a proof that does not hold; MG_EFORMAT for
 * a malformed text (err names its line and column). */
mg_status mg_audit_check_proof(const char *text, size_t len,
                               const char *keys_file, mg_error *err);
/* The longest proof text the checks read (MG_ELIMIT beyond). */
#define MG_AUDIT_MAX_PROOF (256 * 1024)

/* A proof checker for many proofs: the pinned key file is read once, and a
 * checkpoint note that verified is remembered byte for byte (the last
 * four), so proofs against the same checkpoint pay for its Ed25519
 * signature once. Results are those of mg_audit_check_proof. A checker is
 * not shared between threads without a lock. */
typedef struct mg_audit_checker mg_audit_checker;
mg_status mg_audit_checker_open(const char *keys_file, mg_audit_checker **out,
                                mg_error *err);
mg_status mg_audit_checker_check(mg_audit_checker *c, const char *text,
                                 size_t len, mg_error *err);
void mg_audit_checker_close(mg_audit_checker *c);

/* ---- queries ----------------------------------------------------------- */

/* Receives one JSON object per line (no newline), valid during the call.
 * Return nonzero to stop early. */
typedef int (*mg_audit_row_fn)(void *ud, const char *json, size_t len);

typedef struct mg_audit_filter {
    const char *kind, *product, *port, *action, *effect;  /* NULL: any */
    const char *subject;       /* raw id, looked up in the key store; a
                                  forgotten subject matches nothing */
    bool has_from, has_to;
    int64_t from_us, to_us;    /* event time in [from, to) */
    uint64_t limit;            /* 0: no limit */
} mg_audit_filter;

/* Entries matching every given filter, in sequence order. Subjects are
 * shown as pseudonyms. */
mg_status mg_audit_query(mg_audit_log *log, const mg_audit_filter *f,
                         mg_audit_row_fn fn, void *ud, mg_error *err);

/* Every entry with its canonical bytes (base64) and leaf hash, then every
 * checkpoint: JSON lines an independent verifier can check. */
mg_status mg_audit_export(mg_audit_log *log, mg_audit_row_fn fn, void *ud,
                          mg_error *err);


/* ---- recording decisions ---------------------------------------------- */

typedef enum mg_audit_mode {
    MG_AUDIT_OFF = 0,
    MG_AUDIT_ALL = 1,      /* every decision */
    MG_AUDIT_DENIES = 2    /* decisions that withhold something (deny, partial) */
} mg_audit_mode;

/* Records the decisions of every policy set the engine builds from now on
 * (mg_compile, mg_engine_load, mg_bundle_load) into log, and each of those
 * loads as a "policy_load" governance entry with the set's digest and
 * sources. The log stays the caller's and must outlive those sets. Deciding
 * then queues one "decision" record (no allocation, no disk wait) and sets
 * the decision's audit sequence number. When the record cannot be queued
 * (ring full, log failed), mg_decide denies every column (fail closed) and
 * returns that status (MG_EBUSY, MG_EIO, MG_EDB): nothing is decided
 * without a record. log NULL or mode MG_AUDIT_OFF turns recording off. */
mg_status mg_engine_set_audit(mg_engine *e, mg_audit_log *log,
                              mg_audit_mode mode);

/* The audit sequence number of the last decision on d, or -1 when it was
 * not recorded. mg_audit_wait(log, seq) waits until it is durable. */
int64_t mg_decision_audit_seq(const mg_decision *d);

#ifdef __cplusplus
}
#endif
#endif /* MESHGOV_H */
