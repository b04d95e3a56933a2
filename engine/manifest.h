/*
 * manifest.h — the mesh model read from YAML (libyaml): mesh.yaml and each
 * domains/<domain>/<product>/product.yaml. Everything a policy can read of a
 * product, port or column, plus what the CI checks need (adopts, tests,
 * lineage). One mf_mesh owns every string and array below; mf_mesh_free
 * releases it all.
 *
 * Errors: unknown keys, wrong types and missing required fields are reported
 * with file:line:col of the offending node (1-based).
 */
#ifndef MG_ENGINE_MANIFEST_H
#define MG_ENGINE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>
#include "meshgov.h"
#include "stdlib/value.h"
#include "stdlib/error.h"

/* Where a description's memory comes from: an allocator in the style of
 * mg_alloc_fn (the engine's), or malloc when alloc is NULL. Every string
 * and array of an mf_mesh or mf_product comes from the mem it was read
 * with, and goes back to it, each block with its exact size. */
typedef struct mf_mem {
    sl_alloc_fn alloc;
    void *ud;
} mf_mem;

/* Where a node was in its YAML file. */
typedef struct mf_loc {
    const char *file;
    int line, col;
} mf_loc;

typedef struct mf_strs {
    char **v;
    size_t n;
    mf_loc *locs;        /* where each item was; n entries (NULL if n == 0) */
} mf_strs;

/* A scalar or list from a free-form `attributes:` map. */
typedef struct mf_attr {
    char *key;
    sl_kind kind;       /* SL_STRING, SL_INT, SL_BOOL or SL_SET (of strings) */
    char *str;          /* SL_STRING */
    int64_t i;          /* SL_INT */
    bool b;             /* SL_BOOL */
    mf_strs list;       /* SL_SET */
    mf_loc loc;
} mf_attr;

typedef struct mf_column {
    char *name;
    char *type;          /* "string", "int", "timestamp", ... as declared */
    mf_strs tags;
    bool encrypted;      /* encryption: true */
    mf_loc loc;
} mf_column;

typedef struct mf_port {
    char *name;
    bool is_input;
    char *visibility;    /* "public" | "domain" | "private"; default "domain" */
    mf_strs tags;
    char *subject_key;   /* column naming the data subject, or "" */
    bool enc_at_rest, enc_in_transit;
    /* input ports: the upstream product URI and its output port */
    char *from_product, *from_port;
    mf_loc from_loc;     /* where `from:` was (input ports) */
    char *table;         /* SQLite table holding the port's rows, or NULL */
    mf_column *columns;
    size_t ncolumns;
    mf_attr *attrs;
    size_t nattrs;
    /* `slo:` entries, kept as written (kind SL_STRING, str = the scalar);
     * informative only, nothing enforces them. */
    mf_attr *slos;
    size_t nslos;
    mf_loc loc;
} mf_port;

typedef struct mf_adopt {
    char *policy;        /* global policy id */
    int64_t version;
    int mode;            /* -1: the policy's own; 0 enforce; 1 dry_run */
    mf_loc loc;
} mf_adopt;

typedef struct mf_product {
    char *uri;           /* dp://<domain>/<name> */
    char *name;
    char *domain;
    char *owner;
    char *lifecycle;     /* "active" default; "deprecated", "retired" */
    char *kind;          /* "source-aligned" | "aggregate" | "consumer-aligned" */
    mf_strs allowed_regions;
    bool legal_hold;
    mf_attr *attrs;
    size_t nattrs;
    mf_adopt *adopts;
    size_t nadopts;
    mf_strs policies;    /* local policy files, resolved relative to the
                            manifest's directory */
    mf_strs tests;       /* policy test files, resolved likewise */
    char *database;      /* SQLite file with the ports' data, or NULL */
    mf_port *ports;      /* input ports first, then output ports */
    size_t nports;
    char *dir;           /* directory of product.yaml */
    char *path;          /* path of product.yaml */
    mf_loc uri_loc;      /* where `uri:` was */
    mf_loc loc;
    mf_mem mem;          /* what it was read with */
} mf_product;

typedef enum mf_lifecycle { MF_DRAFT, MF_GRACE, MF_REQUIRED } mf_lifecycle;

/* A global policy published by the governance group. */
typedef struct mf_global {
    char *id;            /* policy name in the source */
    int64_t version;     /* latest version */
    mf_lifecycle lifecycle;
    int64_t grace_until_us;  /* MF_GRACE: deadline; else 0 */
    char *file;          /* source file, resolved */
    mf_loc file_loc;     /* where `file:` was, else the entry */
    mf_loc loc;
} mf_global;

/* Declared type of a subject/context attribute. */
typedef struct mf_schema_attr {
    char *path;          /* "subject.roles" */
    sl_type type;
    mf_loc loc;
} mf_schema_attr;

typedef struct mf_mesh {
    char *name;
    char *dir;           /* mesh directory */
    char *path;          /* path of mesh.yaml (the name given to mf_mesh_parse) */
    char *global_dir;    /* global policy directory, resolved */
    mf_global *globals;
    size_t nglobals;
    mf_schema_attr *schema;
    size_t nschema;
    bool has_schema;
    mf_strs actions;     /* extra actions beyond read, write, delete */
    /* audit settings */
    char *audit_dir;     /* where product logs live, resolved; may be NULL */
    int64_t checkpoint_every;      /* entries; default 1000 */
    int64_t checkpoint_ms;         /* default 1000 */
    mf_product *products;
    size_t nproducts;
    mf_mem mem;          /* what it was read with */
} mf_mesh;

/* Limits on one manifest file. A manifest needs none of YAML's anchors,
 * aliases or tags; they are rejected, which also rules out alias bombs. */
#define MF_MAX_FILE  (8u << 20)   /* bytes; larger is MG_ELIMIT */
#define MF_MAX_NODES 100000       /* YAML nodes per file; more is MG_ELIMIT */
#define MF_MAX_DEPTH 64           /* nesting of YAML collections; deeper is MG_ELIMIT */

/* Loads mesh_dir/mesh.yaml and every domains/<d>/<p>/product.yaml (sorted
 * by domain, then product directory), then checks what spans files: global
 * policy files exist, each product is unique and sits in
 * domains/<domain>/<name>/, adopts name catalogue policies at published
 * versions, local policy and test files exist, input ports read existing
 * output ports. On error returns MG_EMANIFEST (or MG_EIO naming the file,
 * MG_ELIMIT, MG_ENOMEM) with err located at the node. *out is NULL on
 * failure; free with mf_mesh_free. Format: docs/manifest.md. */
mg_status mf_mesh_load(const char *mesh_dir, mf_mesh **out, mg_error *err);
/* The same with memory from mem (NULL: malloc). */
mg_status mf_mesh_load_in(const mf_mem *mem, const char *mesh_dir, mf_mesh **out, mg_error *err);

/* Parses one product manifest from memory (for tests and mg_compile).
 * `name` is the file name used in errors and locations; the product's dir
 * is its directory ("." when it has none), and `policies`, `tests` and
 * `database` are resolved against it. Nothing is read from disk, so
 * cross-file checks (dangling input ports, missing policy files) are only
 * made by mf_mesh_load. *out is NULL on failure; free with mf_product_free. */
mg_status mf_product_parse(const char *name, const char *text, size_t len,
                           mf_product **out, mg_error *err);
/* Parses mesh.yaml from memory without loading products. */
mg_status mf_mesh_parse(const char *name, const char *text, size_t len,
                        mf_mesh **out, mg_error *err);
/* The same two with memory from mem (NULL: malloc). */
mg_status mf_product_parse_in(const mf_mem *mem, const char *name, const char *text, size_t len,
                              mf_product **out, mg_error *err);
mg_status mf_mesh_parse_in(const mf_mem *mem, const char *name, const char *text, size_t len,
                           mf_mesh **out, mg_error *err);

void mf_mesh_free(mf_mesh *m);
void mf_product_free(mf_product *p);   /* for mf_product_parse results */

/* ---- other YAML files under the same rules (policy tests) -------------- */

/* Reads a whole file (at most MF_MAX_FILE bytes) into a new NUL-terminated
 * buffer from mem (NULL: malloc) that the caller frees with mf_mem_free;
 * MG_EIO names the file. */
mg_status mf_read_text(const mf_mem *mem, const char *path, char **text, size_t *len, mg_error *err);
/* Frees a block of the manifest reader's (a text of mf_read_text) to mem,
 * which must be the one it came from. Accepts NULL. */
void mf_mem_free(const mf_mem *mem, void *p);

/* Parses one YAML document under the manifest rules (no anchors, aliases or
 * tags; size, node and depth limits) into *doc, which the caller deletes
 * with yaml_document_delete. `what` names the kind of file in messages
 * ("policy test file"). Errors are MG_EMANIFEST (or MG_ELIMIT, MG_ENOMEM)
 * located in file, with a rendered detail. */
mg_status mf_yaml_load(const char *file, const char *what, const char *text,
                       size_t len, yaml_document_t *doc, mg_error *err);

/* Sets err to code at file:line:col with the message and a rendered
 * detail (source line and caret) of text; returns code. */
mg_status mf_yaml_fail(const char *file, const char *text, size_t len,
                       mg_status code, int line, int col, mg_error *err,
                       const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

const mf_product *mf_mesh_product(const mf_mesh *m, const char *uri);
const mf_port *mf_product_port(const mf_product *p, const char *name);
const mf_global *mf_mesh_global(const mf_mesh *m, const char *id);

#endif
