/*
 * ast.h — the syntax tree of a policy file, as the parser builds it and the
 * type checker annotates it. Every node lives in the compilation's arena and
 * is freed with it; only the compiled program outlives a compilation.
 */
#ifndef MG_POLICY_AST_H
#define MG_POLICY_AST_H

#include <stdbool.h>
#include <stdint.h>
#include "stdlib/value.h"

/* A place in the source: 1-based line and column (in bytes), byte offset and
 * length of the span. */
typedef struct ast_span {
    uint32_t line, col;
    uint32_t off, len;
} ast_span;

/* A string slice; for literals, the unescaped text (arena-owned). */
typedef struct ast_str {
    const char *ptr;
    uint32_t len;
} ast_str;

typedef enum ast_root {
    AST_ROOT_SUBJECT, AST_ROOT_ACTION, AST_ROOT_CONTEXT,
    AST_ROOT_PRODUCT, AST_ROOT_PORT, AST_ROOT_COLUMN, AST_ROOT_NOW,
    AST_ROOT_COUNT
} ast_root;

typedef enum ast_expr_kind {
    AST_BOOL, AST_INT, AST_STRING, AST_DURATION, AST_TIMESTAMP,
    AST_SET,        /* [a, b, c] */
    AST_PATH,       /* subject.roles, product.attributes.cost_center, now */
    AST_UNARY,      /* not x, -x */
    AST_BINARY,     /* x op y */
    AST_CALL        /* lower(x), present(subject.email) */
} ast_expr_kind;

typedef enum ast_op {
    AST_OP_OR, AST_OP_AND, AST_OP_NOT, AST_OP_NEG,
    AST_OP_EQ, AST_OP_NE, AST_OP_LT, AST_OP_LE, AST_OP_GT, AST_OP_GE,
    AST_OP_IN, AST_OP_HAS, AST_OP_MATCHES, AST_OP_LIKE,
    AST_OP_ADD, AST_OP_SUB
} ast_op;

typedef struct ast_expr ast_expr;
struct ast_expr {
    ast_expr_kind kind;
    ast_span span;
    sl_type type;          /* set by the checker; SL_ANY if untyped */
    union {
        bool b;
        int64_t i;         /* INT; DURATION and TIMESTAMP in microseconds */
        ast_str str;       /* STRING */
        struct { ast_expr **items; uint32_t n; } set;
        struct {
            ast_root root;
            ast_str *segs;     /* names after the root: roles, attributes.x */
            uint32_t nsegs;
            ast_str text;      /* whole path as written: "subject.roles" */
        } path;
        struct { ast_op op; ast_expr *lhs, *rhs; } op;  /* unary: lhs only */
        struct {
            ast_str name;
            ast_expr **args;
            uint32_t nargs;
            int builtin;       /* index in sl_builtins, set by the checker;
                                  -1 for the special form present() */
        } call;
    } u;
};

typedef enum ast_rule_kind {
    AST_PERMIT, AST_FORBID, AST_MASK, AST_RETAIN, AST_HOLD,
    AST_REQUIRE_ENCRYPTION, AST_FORGET
} ast_rule_kind;

typedef enum ast_target {
    AST_ON_PRODUCT, AST_ON_PORT, AST_ON_COLUMN, AST_ON_SUBJECT
} ast_target;

/* Masks in strength order, weakest first (matches mg_mask). */
typedef enum ast_mask {
    AST_MASK_YEAR = 1, AST_MASK_LAST4, AST_MASK_HASH, AST_MASK_REDACT,
    AST_MASK_NULL
} ast_mask;

/* What a retention or forget rule does to data. For retain, ties between
 * rules resolve archive > anonymize > delete. */
typedef enum ast_disposal {
    AST_DISPOSE_DELETE = 1, AST_DISPOSE_ANONYMIZE, AST_DISPOSE_ARCHIVE
} ast_disposal;

typedef enum ast_encryption { AST_AT_REST = 1, AST_IN_TRANSIT } ast_encryption;

typedef struct ast_rule {
    ast_rule_kind kind;
    ast_span span;           /* the rule keyword */
    uint32_t ordinal;        /* 1-based position in its policy */
    ast_target target;
    /* permit / forbid: actions; all_actions for `*`. */
    bool all_actions;
    ast_str *actions;
    ast_span *action_spans;
    uint32_t nactions;
    ast_mask mask;           /* mask */
    int64_t period_us;       /* retain: `for D`; forget: `within D` (-1 none) */
    ast_str time_column;     /* retain: `after event_time` */
    ast_span time_column_span;
    ast_disposal disposal;   /* retain / forget: `then delete|...` */
    ast_encryption encryption; /* require encryption at_rest|in_transit */
    ast_expr *when;          /* NULL: always */
    ast_expr *unless;        /* NULL: never */
} ast_rule;

typedef enum ast_scope { AST_SCOPE_LOCAL = 0, AST_SCOPE_GLOBAL } ast_scope;
typedef enum ast_mode { AST_MODE_ENFORCE = 0, AST_MODE_DRY_RUN } ast_mode;

typedef struct ast_policy {
    ast_str name;
    ast_span span;           /* the policy name */
    const char *file;        /* file name, for rule locations */
    int64_t version;         /* default 1 */
    ast_scope scope;         /* default local */
    ast_mode mode;           /* default enforce */
    ast_str owner, about;    /* may be empty */
    ast_rule *rules;
    uint32_t nrules;
} ast_policy;

typedef struct ast_file {
    const char *name;
    const char *src;         /* the source text, for diagnostics */
    uint32_t src_len;
    ast_policy *policies;
    uint32_t npolicies;
} ast_file;

const char *ast_op_name(ast_op op);           /* "==", "and", "matches" */
const char *ast_root_name(ast_root r);        /* "subject" */
const char *ast_rule_kind_name(ast_rule_kind k); /* "permit" ... "forget" */
const char *ast_mask_name(ast_mask m);        /* "hash" */
const char *ast_disposal_name(ast_disposal d);/* "delete" */

#endif
