/*
 * policy.h — the language front end as the engine sees it: an arena per
 * compilation, diagnostics, the parser and the type checker.
 *
 *   arena  := arena_new(alloc, ud)
 *   diags  := diag_list in the arena
 *   file   := parse_file(arena, name, src, len, diags)   -> ast_file*
 *   ok     := check_file(arena, file, env, diags)         annotates types
 *   text   := diag_render(diags, ...)                     compiler-style
 */
#ifndef MG_POLICY_POLICY_H
#define MG_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "policy/ast.h"

/* ---- arena ------------------------------------------------------------- */

typedef struct arena arena;
/* alloc follows mg_alloc_fn (see meshgov.h). */
arena *arena_new(sl_alloc_fn alloc, void *ud);
void arena_free(arena *a);
/* Aligned to 8; NULL on out of memory (and the arena records it). */
void *arena_alloc(arena *a, size_t n);
void *arena_zalloc(arena *a, size_t n);
char *arena_strndup(arena *a, const char *s, size_t n);
bool arena_failed(const arena *a);   /* an allocation has failed */

/* ---- diagnostics ------------------------------------------------------- */

typedef enum diag_severity { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } diag_severity;

typedef struct diag {
    diag_severity severity;
    const char *file;
    const char *src;         /* the file's source, to print the line */
    uint32_t src_len;
    ast_span span;
    const char *message;     /* arena-owned */
    const char *hint;        /* "did you mean `subject.roles`?", or NULL */
} diag;

#define DIAG_MAX_ERRORS 20   /* per list; later errors are counted, not kept */

typedef struct diag_list {
    arena *arena;
    diag *items;
    uint32_t n, cap;
    uint32_t errors, warnings, dropped;
} diag_list;

void diag_init(diag_list *d, arena *a);
/* Adds a diagnostic; message is printf-style. */
void diag_add(diag_list *d, diag_severity sev, const char *file,
              const char *src, uint32_t src_len, ast_span span,
              const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
/* Renders every diagnostic compiler-style:
 *   file:line:col: error: message
 *     12 |   permit read on colum
 *        |                  ^~~~~
 *   hint: did you mean `column`?
 * followed by "N errors generated." when there are several. color: ANSI
 * colours. Returns a string allocated with alloc (caller frees), or NULL. */
char *diag_render(const diag_list *d, bool color, sl_alloc_fn alloc, void *ud);

/* ---- parsing ----------------------------------------------------------- */

#define POLICY_MAX_SOURCE (16u << 20)  /* 16 MiB per file */
#define POLICY_MAX_DEPTH 200           /* expression nesting */

/* Parses one policy file. Always returns a file (possibly with fewer
 * policies) unless out of memory; errors go to diags. Rejects NUL bytes and
 * invalid UTF-8 with a located error. */
ast_file *parse_file(arena *a, const char *name, const char *src, size_t len,
                     diag_list *diags);

/* ---- type checking ----------------------------------------------------- */

/* A declared attribute: "subject.roles" : set<string>. */
typedef struct check_attr {
    const char *path;
    sl_type type;
} check_attr;

typedef struct check_env {
    /* Schema for subject.* and context.*; when has_schema is false those
     * paths are typed at run time (SL_ANY). */
    bool has_schema;
    const check_attr *attrs;
    size_t nattrs;
    /* Actions the mesh declares besides read, write, delete. */
    const char *const *actions;
    size_t nactions;
} check_env;

/* Type-checks every expression of file and resolves builtin calls. Returns
 * true when no error was added. Known roots: subject, action (string),
 * context, product, port, column, now (timestamp). Manifest roots have fixed
 * attributes (tags: set<string>, domain, lifecycle, visibility, subject_key,
 * name, uri, owner: string; legal_hold: bool; allowed_regions: set<string>)
 * and a free `attributes.*` map (SL_ANY). */
bool check_file(arena *a, ast_file *file, const check_env *env,
                diag_list *diags);

#endif
