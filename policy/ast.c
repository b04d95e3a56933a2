/*
 * ast.c — names of the AST's enums, as the language spells them (used in
 * diagnostics, the disassembler and explanations).
 */
#include "policy/ast.h"

const char *ast_op_name(ast_op op)
{
    static const char *const names[] = {
        [AST_OP_OR] = "or", [AST_OP_AND] = "and", [AST_OP_NOT] = "not",
        [AST_OP_NEG] = "-", [AST_OP_EQ] = "==", [AST_OP_NE] = "!=",
        [AST_OP_LT] = "<", [AST_OP_LE] = "<=", [AST_OP_GT] = ">",
        [AST_OP_GE] = ">=", [AST_OP_IN] = "in", [AST_OP_HAS] = "has",
        [AST_OP_MATCHES] = "matches", [AST_OP_LIKE] = "like",
        [AST_OP_ADD] = "+", [AST_OP_SUB] = "-",
    };
    return (unsigned)op < sizeof names / sizeof *names ? names[op] : "?";
}

const char *ast_root_name(ast_root r)
{
    static const char *const names[] = {
        [AST_ROOT_SUBJECT] = "subject", [AST_ROOT_ACTION] = "action",
        [AST_ROOT_CONTEXT] = "context", [AST_ROOT_PRODUCT] = "product",
        [AST_ROOT_PORT] = "port", [AST_ROOT_COLUMN] = "column",
        [AST_ROOT_NOW] = "now",
    };
    return (unsigned)r < AST_ROOT_COUNT ? names[r] : "?";
}

const char *ast_rule_kind_name(ast_rule_kind k)
{
    static const char *const names[] = {
        [AST_PERMIT] = "permit", [AST_FORBID] = "forbid", [AST_MASK] = "mask",
        [AST_RETAIN] = "retain", [AST_HOLD] = "hold",
        [AST_REQUIRE_ENCRYPTION] = "require encryption", [AST_FORGET] = "forget",
    };
    return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

const char *ast_mask_name(ast_mask m)
{
    static const char *const names[] = {
        [AST_MASK_YEAR] = "year", [AST_MASK_LAST4] = "last4",
        [AST_MASK_HASH] = "hash", [AST_MASK_REDACT] = "redact",
        [AST_MASK_NULL] = "null",
    };
    return (unsigned)m < sizeof names / sizeof *names && names[m] ? names[m] : "?";
}

const char *ast_disposal_name(ast_disposal d)
{
    static const char *const names[] = {
        [AST_DISPOSE_DELETE] = "delete", [AST_DISPOSE_ANONYMIZE] = "anonymize",
        [AST_DISPOSE_ARCHIVE] = "archive",
    };
    return (unsigned)d < sizeof names / sizeof *names && names[d] ? names[d] : "?";
}
