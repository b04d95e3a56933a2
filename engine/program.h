/*
 * program.h — a compiled policy set: bytecode, constants, rules, the
 * product's resources with their attribute values, and the rule index.
 *
 * A program is built by the compiler (compile.c) or read from a bundle
 * (bundle.c), then frozen: from then on it is only read, by any number of
 * threads. Everything it points to is owned by it and freed by
 * prog_free(). Strings are interned in `syms`; a string value's ptr points
 * into the intern table, so every string the program holds has sym != 0.
 */
#ifndef MG_ENGINE_PROGRAM_H
#define MG_ENGINE_PROGRAM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "meshgov.h"
#include "stdlib/stdlib.h"
#include "stdlib/error.h"

/* A growable string (or byte buffer) through a given allocator; `failed`
 * sticks once an allocation fails. */
typedef struct strbuf {
    char *s;
    size_t len, cap;
    bool failed;
    sl_alloc_fn alloc;
    void *ud;
} strbuf;

enum {
#define OP(name, bytes, effect, synopsis) OP_##name,
#include "engine/opcodes.h"
#undef OP
    OP__COUNT
};

/* Roots of attribute paths that have slots. */
enum { ROOT_SUBJECT, ROOT_CONTEXT, ROOT_PRODUCT, ROOT_PORT, ROOT_COLUMN, ROOT_SLOTTED };

#define VM_NO_CODE UINT32_MAX   /* no `when` / `unless` */
#define VM_ALWAYS (UINT32_MAX - 1) /* `when` statically true */
#define VM_MAX_ACTIONS 64
#define VM_BUILTIN_ACTIONS 3    /* read, write, delete */
#define VM_DEFAULT_BUDGET 10000u /* steps per condition evaluation */

/* Rule kinds, targets, masks, disposals: the values of policy/ast.h. */
enum { RK_PERMIT, RK_FORBID, RK_MASK, RK_RETAIN, RK_HOLD, RK_ENCRYPT, RK_FORGET };
enum { TG_PRODUCT, TG_PORT, TG_COLUMN, TG_SUBJECT };

typedef struct vm_policy {
    uint32_t name;         /* sym */
    int64_t version;
    bool global;
    bool dry_run;          /* effective mode (an `adopts` entry may set it) */
    uint32_t file;         /* sym */
    uint32_t first_rule, nrules;
} vm_policy;

typedef struct vm_rule {
    uint8_t kind, target, mask, disposal, encryption;
    bool dry_run, global;
    uint64_t actions;      /* bit per action id */
    uint32_t policy;       /* index in policies */
    uint32_t ordinal;
    uint32_t id;           /* sym of "<policy>@<version>#<ordinal>" */
    uint32_t line, col;
    uint32_t when_pc, unless_pc;  /* VM_NO_CODE when absent */
    uint32_t conj_first, nconj;   /* `when` conjuncts: pcs in conj_pcs */
    uint32_t conj_static;  /* leading conjuncts that read only the manifest */
    bool unless_static;    /* `unless` reads only the manifest */
    int64_t period_us;     /* retain `for`, forget `within`; -1 none */
    uint32_t time_col;     /* sym of the retain time column, 0 none */
} vm_rule;

/* One rule as it applies to one resource, its conditions specialized: the
 * parts that read only the manifest were decided at load. */
/* A condition that is a conjunction or disjunction of fact literals,
 * decided from the facts as bit sets: see form.c. */
typedef struct vm_form {
    uint32_t smask, sflip;  /* subject facts read; flip: those that decide
                               the chain when false (see form.c) */
    uint32_t cmask, cflip;  /* context facts */
} vm_form;

#define VM_FORM_FACTS 32    /* facts a form can name: one bit each */
/* How a form combines its literals, when none of its facts is an error.
 * FORM_FALSE / FORM_TRUE are chains whose last operand, decided for the
 * entry's resource, fixes the value (`f and false`, `f or true`), and with
 * no literals a condition decided at load. FORM_ABSENT: no `unless`.
 * FORM_NONE: the condition runs in the VM. */
enum { FORM_NONE, FORM_AND, FORM_OR, FORM_FALSE, FORM_TRUE, FORM_ABSENT };

typedef struct vm_entry {
    uint32_t rule;
    uint32_t when_pc;      /* VM_ALWAYS: applies with no evaluation */
    uint32_t unless_pc;    /* VM_NO_CODE: none */
    /* Copies of the rule's kind, mode and mask, so that deciding reads only
     * the contiguous entries and never the (larger) rules. */
    uint8_t kind, mask;
    bool dry_run;
} vm_entry;

/* What a decision reads of entry k, packed (form.c derives it at load):
 * hot[k] and entries[k] are the same entry. The `unless` form is apart,
 * in unless_forms[k]: it is read only when the `when` holds. */
typedef struct vm_hot {
    uint32_t rule;
    uint8_t kind, mask;
    bool dry_run;
    uint8_t how;            /* FORM_* of the when | of the unless << 4 */
    vm_form when;
} vm_hot;

typedef struct vm_range { uint32_t first, n; } vm_range;

typedef struct vm_port {
    uint32_t name;         /* sym */
    uint32_t first_col, ncols;   /* columns in cols[] */
} vm_port;

/* The bytes each array of a program was allocated with (0: none), so that
 * prog_free() gives every block back with its exact size: mg_alloc_fn is
 * told "osize is its size", and an embedder's allocator may account bytes
 * by it (a memory limit per tenant, say). Each size is recorded where the
 * array is allocated or resized (PROG_ARRAY, PROG_RESIZE, the compiler's
 * growth) rather than computed from the counts when the program is freed:
 * a program freed half built (out of memory, a malformed bundle) has counts
 * that do not match what was allocated, and the compiler grows arrays by
 * capacity. When a compile ends, the arrays it grew are shrunk to their
 * length (compile.c), so a set keeps no spare capacity; the bundle reader
 * allocates them at their length. */
typedef struct vm_sizes {
    size_t code, consts, hot, unless_forms, entries, port_index, col_index;
    size_t product_vals, port_vals, col_vals, ports, null_facts[2];
    size_t items, regexes, regex_src, policies, rules, conj_pcs;
    size_t slot_path[ROOT_SLOTTED], slot_type[ROOT_SLOTTED];
    size_t col_names, fact_pc[2], lines;
} vm_sizes;

typedef struct vm_program {
    /* ---- read by every decision: kept together, at the start ---------- */
    uint8_t *code;
    sl_value *consts;
    vm_hot *hot;           /* [nentries]: the entries as decisions read them */
    vm_form *unless_forms; /* [nentries] */
    vm_entry *entries;
    vm_range *port_index;  /* [port * nactions + action]: product- and
                              port-level access rules, in priority order */
    vm_range *col_index;   /* [col * nactions + action]: column-level rules,
                              masks last */
    sl_value *product_vals;            /* [nslots[ROOT_PRODUCT]] */
    sl_value *port_vals;               /* [nports][nslots[ROOT_PORT]] */
    sl_value *col_vals;                /* [ncols][nslots[ROOT_COLUMN]] */
    vm_port *ports;
    uint8_t *null_facts[2];            /* facts without a subject / context */
    uint32_t null_bits[2], null_errs[2];   /* the same as bit sets */
    /* Steps allowed to one evaluation of a condition: in a decision, when a
     * fact is decided, when a conjunct is decided at load. The engine's
     * setting, not part of the bundle. */
    uint32_t step_budget;
    uint32_t nslots[ROOT_SLOTTED];
    uint32_t nports;
    uint32_t nactions;
    uint32_t max_cols;                 /* widest port */
    uint32_t max_stack;
    sl_value action_vals[VM_MAX_ACTIONS];  /* the actions as string values */

    /* ---- the rest ------------------------------------------------------ */
    sl_alloc_fn alloc;
    void *ud;
    atomic_int refs;

    uint32_t code_len;
    uint32_t nconsts;
    sl_value *items;       /* elements of every set: constants and resources */
    uint32_t nitems;
    sl_intern *syms;
    sl_regex **regexes;
    uint32_t *regex_src;   /* sym of each pattern */
    uint32_t nregexes;

    vm_policy *policies;
    uint32_t npolicies;
    vm_rule *rules;        /* sorted: global first, then policy name, ordinal */
    uint32_t nrules;
    uint32_t *conj_pcs;
    uint32_t nconj_pcs;

    /* Attribute slots per root: the path (sym) and, with a schema, its
     * declared type (kind SL_ANY when untyped). */
    uint32_t *slot_path[ROOT_SLOTTED];
    sl_type *slot_type[ROOT_SLOTTED];

    uint32_t actions[VM_MAX_ACTIONS];   /* syms; 0..2 read, write, delete */

    uint32_t product_uri;  /* sym */
    uint32_t *col_names;               /* sym per column */
    uint32_t ncols;
    uint32_t nentries;

    /* Facts: boolean subexpressions that read only the subject (or only the
     * context) and the product. They are decided once, when a subject or
     * context is resolved, and read by SFACT/CFACT. fact_pc[0] are subject
     * facts, [1] context facts; null_facts (above) are their values for a
     * request without a subject or context. */
    uint32_t *fact_pc[2];
    uint32_t nfacts[2];

    /* Source place of each expression's instructions, sorted by pc. */
    struct vm_line { uint32_t pc, line, col; } *lines;
    uint32_t nlines;

    vm_sizes size;         /* of each array above, in bytes */

    char digest[65];
} vm_program;

/* Operand sizes and names of the opcodes. */
extern const uint8_t vm_op_bytes[OP__COUNT];
extern const char *const vm_op_names[OP__COUNT];

void prog_free(vm_program *p);
/* Resolves string and set pointers once the arrays stop moving, and sorts
 * every set. Called by the compiler and the bundle reader. */
void prog_freeze(vm_program *p);
/* Computes p->digest: SHA-256 of the canonical serialized form. */
bool prog_digest(vm_program *p);
/* Appends the canonical serialized form (bundle.c) to b. */
bool prog_serialize(const vm_program *p, strbuf *b);
/* Reads a serialized program from data, checking every field and verifying
 * the code; *used is the number of bytes it took. */
mg_status prog_deserialize(const void *data, size_t len, sl_alloc_fn alloc, void *ud, uint32_t budget,
                           size_t *used, vm_program **out, mg_error *err);
/* Allocation through the program's allocator. */
void *prog_alloc(const vm_program *p, size_t n);
void prog_dealloc(const vm_program *p, void *ptr, size_t n);
/* Allocates n bytes for the array at *at, whose size is recorded in *size
 * (0 on failure). Returns the array, or NULL when out of memory. */
void *prog_array(vm_program *p, void **at, size_t *size, size_t n);
/* Resizes the array at *at (of *size bytes) to n bytes, recording the new
 * size. Returns false, leaving the array as it was, when out of memory. */
bool prog_resize(vm_program *p, void **at, size_t *size, size_t n);
/* The same for field f of p (`code`, `slot_path[r]`...), n elements. */
#define PROG_ARRAY(p, f, n) prog_array((p), (void **)&(p)->f, &(p)->size.f, (size_t)(n) * sizeof *(p)->f)
#define PROG_RESIZE(p, f, n) prog_resize((p), (void **)&(p)->f, &(p)->size.f, (size_t)(n) * sizeof *(p)->f)

/* ---- VM ------------------------------------------------------------------ */

/* Everything one evaluation reads. */
typedef struct vm_frame {
    const vm_program *prog;
    const sl_value *subject;   /* [nslots[ROOT_SUBJECT]], or NULL */
    const sl_value *context;
    const sl_value *product;
    const sl_value *port;
    const sl_value *column;    /* NULL outside column rules */
    sl_value action;
    const uint8_t *sfacts;     /* fact values: FACT_FALSE, FACT_TRUE, or */
    const uint8_t *cfacts;     /* FACT_ERROR + sl_err */
    sl_ctx *cx;
    sl_value *stack;           /* [prog->max_stack] */
    uint32_t budget;           /* steps left */
} vm_frame;

typedef enum vm_result { VM_FALSE = 0, VM_TRUE = 1, VM_ERROR = 2 } vm_result;
enum { FACT_FALSE = 0, FACT_TRUE = 1, FACT_ERROR = 2 };

/* Decides the facts of one kind (0 subject, 1 context) for the attribute
 * values given (NULL: none), into out[p->nfacts[kind]]. Returns false when
 * out of memory. */
bool prog_eval_facts(const vm_program *p, int kind, const sl_value *attrs, uint8_t *out);
/* Fills p->null_facts. Returns false when out of memory. */
bool prog_null_facts(vm_program *p);
/* The first VM_FORM_FACTS facts as bit sets: true ones, and errors. */
void prog_fact_bits(const vm_program *p, int kind, const uint8_t *facts, uint32_t *bits, uint32_t *errs);
/* Derives the forms of every entry (form.c). Returns false when out of
 * memory. */
bool prog_build_forms(vm_program *p);
/* Appends the index (resources, actions, their entries and forms) to a
 * disassembly. */
void form_disasm(const vm_program *p, strbuf *out);

/* Runs the code at pc to its RET. On VM_ERROR, *err holds the cause and
 * *err_pc the instruction that raised it. */
vm_result vm_run(vm_frame *f, uint32_t pc, sl_err *err, uint32_t *err_pc);

/* For an SL_E_MISSING raised at err_pc by code starting at start: the first
 * attribute load on the way (inside a fact's body when err_pc reads a fact)
 * whose value in f is missing. Returns false when none is found. Cold path:
 * only used to name the attribute in an error. */
bool vm_missing_attr(const vm_frame *f, uint32_t start, uint32_t err_pc, uint8_t *root, uint16_t *slot);

/* Where the instruction at pc came from, for error messages: line:col. */
bool prog_locate(const vm_program *p, uint32_t pc, uint32_t *line, uint32_t *col);

/* Writes a disassembly of every rule into out. */
void sb_init(strbuf *b, sl_alloc_fn alloc, void *ud);
void sb_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(strbuf *b);
void sb_append(strbuf *b, const void *data, size_t n);
void vm_disasm(const vm_program *p, strbuf *out);

#endif
