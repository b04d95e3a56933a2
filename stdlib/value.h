/*
 * value.h — types and run-time values of the policy language.
 *
 * stdlib/ is the bottom layer: the type checker (policy/) reads the static
 * types and builtin signatures from here, and the VM (engine/) computes with
 * these values and calls these builtins. Nothing here allocates while
 * evaluating: strings produced at run time go to a caller-provided scratch
 * buffer (sl_ctx), and the intern table is read-only once built.
 */
#ifndef MG_STDLIB_VALUE_H
#define MG_STDLIB_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- types ------------------------------------------------------------- */

typedef enum sl_kind {
    SL_MISSING = 0,  /* absent attribute, JSON null */
    SL_BOOL,
    SL_INT,          /* int64; overflow is an evaluation error */
    SL_STRING,
    SL_DURATION,     /* int64 microseconds */
    SL_TIMESTAMP,    /* int64 microseconds since 1970-01-01T00:00:00Z */
    SL_SET,          /* of scalars; static element type in sl_type.elem */
    SL_RECORD,       /* static only: a path prefix such as `subject.org` */
    SL_ANY,          /* static only: typed at run time (no schema) */
    SL_KIND_COUNT
} sl_kind;

/* A static type: a kind, and for sets the element kind (SL_ANY if unknown). */
typedef struct sl_type {
    uint8_t kind;
    uint8_t elem;
} sl_type;

#define SL_KIND_BIT(k) (1u << (k))
const char *sl_kind_name(sl_kind k);          /* "string", "set", ... */
/* Writes e.g. "set<string>" into buf (always NUL-terminated). */
void sl_type_format(sl_type t, char *buf, size_t cap);

/* ---- values ------------------------------------------------------------ */

/*
 * A value is 24 bytes and never owns memory. Strings point into the compiled
 * program (constants), a subject/context handle, a manifest, or the
 * evaluation scratch buffer.
 *
 * Interning invariant: `sym` is the string's id in the policy set's intern
 * table, or 0 if the table does not hold it. Every string that enters the VM
 * is looked up once (sl_intern_find), so two strings with sym != 0 are equal
 * iff their syms are equal, and a string with sym != 0 never equals one with
 * sym == 0.
 */
typedef struct sl_value {
    uint8_t kind;          /* sl_kind */
    union {
        bool b;
        int64_t i;         /* INT, DURATION, TIMESTAMP */
        struct { const char *ptr; uint32_t len; uint32_t sym; } s;
        /* Set elements are sorted (sl_value_cmp) and unique. */
        struct { const struct sl_value *items; uint32_t n; } set;
    } u;
} sl_value;

static inline sl_value sl_missing(void) { sl_value v = { .kind = SL_MISSING }; return v; }
static inline sl_value sl_bool(bool b) { sl_value v = { .kind = SL_BOOL, .u.b = b }; return v; }
static inline sl_value sl_int(int64_t i) { sl_value v = { .kind = SL_INT, .u.i = i }; return v; }

/* Equality of two values of the same kind (uses the interning invariant). */
bool sl_value_equal(const sl_value *a, const sl_value *b);
/* Total order used to sort sets: by kind, then value (strings bytewise). */
int sl_value_cmp(const sl_value *a, const sl_value *b);
/* Membership of x in set s (binary search on sorted items). */
bool sl_set_has(const sl_value *s, const sl_value *x);
/* Sorts items in place and removes duplicates; returns the new count. */
uint32_t sl_set_normalize(sl_value *items, uint32_t n);

/* ---- intern table ------------------------------------------------------- */

/*
 * Maps strings to dense ids 1..n. Built while compiling (sl_intern_add may
 * allocate through the given allocator), then frozen and shared read-only by
 * all threads (sl_intern_find does not allocate).
 */
typedef void *(*sl_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);
/* The allocator used when none is given: realloc and free. */
void *sl_default_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
typedef struct sl_intern sl_intern;

sl_intern *sl_intern_new(sl_alloc_fn alloc, void *ud);
void sl_intern_free(sl_intern *t);
/* Returns the id of s (adding a copy if new), or 0 on out of memory. */
uint32_t sl_intern_add(sl_intern *t, const char *s, uint32_t len);
/* Returns the id of s, or 0 if absent. Never allocates. */
uint32_t sl_intern_find(const sl_intern *t, const char *s, uint32_t len);
/* The string of id (1..count), NUL-terminated, owned by the table. */
const char *sl_intern_str(const sl_intern *t, uint32_t id, uint32_t *len);
uint32_t sl_intern_count(const sl_intern *t);

/* ---- evaluation context ------------------------------------------------- */

/* Evaluation errors, as returned by builtins and operators. */
typedef enum sl_err {
    SL_OK = 0,
    SL_E_TYPE,        /* operand of the wrong kind at run time */
    SL_E_MISSING,     /* operand is a missing attribute */
    SL_E_OVERFLOW,    /* int64 overflow */
    SL_E_REGEX_LIMIT, /* pcre2 match or depth limit hit */
    SL_E_SCRATCH,     /* scratch buffer exhausted */
    SL_E_ARG,         /* argument out of domain */
    SL_E_BUDGET       /* evaluation step budget exhausted */
} sl_err;
const char *sl_err_str(sl_err e);

/* Per-call evaluation state, owned by the caller (one per thread). */
typedef struct sl_ctx {
    const sl_intern *syms;       /* to intern run-time strings (find only) */
    char *scratch;               /* buffer for strings built at run time */
    size_t scratch_len, scratch_cap;
    void *match_data;            /* pcre2_match_data_8*, one per thread */
    void *match_ctx;             /* pcre2_match_context_8*, with limits */
    /* Where match_data and match_ctx get their memory (sl_regex_ctx_init);
     * pcre2 keeps a pointer to these fields, so the context stays where it
     * is until sl_regex_ctx_fini. */
    sl_alloc_fn alloc;
    void *alloc_ud;
    int64_t now_us;
} sl_ctx;

/* Copies len bytes into the scratch buffer and returns a string value whose
 * sym is looked up in cx->syms; SL_E_SCRATCH if the buffer is full. */
sl_err sl_make_string(sl_ctx *cx, const char *p, uint32_t len, sl_value *out);

#endif
