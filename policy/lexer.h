/*
 * lexer.h — tokens of the policy language. A token is a slice of the
 * source: scanning allocates nothing. Literal values (integers, durations,
 * timestamps) are computed while scanning; a malformed literal still comes
 * back as a token of its kind, with `err` set, so the parser reports it and
 * goes on without a cascade of follow-on errors.
 */
#ifndef MG_POLICY_LEXER_H
#define MG_POLICY_LEXER_H

#include <stdbool.h>
#include <stdint.h>

/* Token kinds; keywords are the words from TOK_POLICY on. */
typedef enum lex_kind {
    TOK_EOF, TOK_ERROR,
    TOK_IDENT, TOK_INT, TOK_STRING, TOK_DURATION, TOK_TIMESTAMP,
    TOK_LBRACE, TOK_RBRACE, TOK_LPAREN, TOK_RPAREN, TOK_LBRACKET,
    TOK_RBRACKET, TOK_COMMA, TOK_DOT, TOK_STAR, TOK_PLUS, TOK_MINUS,
    TOK_EQ, TOK_NE, TOK_LT, TOK_LE, TOK_GT, TOK_GE,
    /* keywords */
    TOK_POLICY, TOK_PERMIT, TOK_FORBID, TOK_MASK, TOK_RETAIN, TOK_HOLD,
    TOK_REQUIRE, TOK_FORGET, TOK_ON, TOK_WHEN, TOK_UNLESS, TOK_WITH,
    TOK_FOR, TOK_AFTER, TOK_THEN, TOK_WITHIN, TOK_AND, TOK_OR, TOK_NOT,
    TOK_IN, TOK_HAS, TOK_MATCHES, TOK_LIKE, TOK_TRUE, TOK_FALSE,
    TOK_COUNT
} lex_kind;

typedef struct lex_token {
    lex_kind kind;
    const char *start;       /* into the source */
    uint32_t len;
    uint32_t line, col;      /* 1-based; col in bytes */
    uint32_t off;            /* byte offset of start */
    /* INT, DURATION (us), TIMESTAMP (us); for STRING the number of source
     * bytes between the quotes (the closing quote may be missing). */
    int64_t value;
    /* A lexical error: message (a printf format taking the error span as
     * "%.*s"), optional hint, and the span inside the token. */
    const char *err;
    const char *hint;
    uint32_t err_off, err_len;
} lex_token;

typedef struct lexer {
    const char *src;
    uint32_t len, pos;
    uint32_t line, line_start;
} lexer;

void lex_init(lexer *lx, const char *src, uint32_t len);
lex_token lex_next(lexer *lx);
/* How a token kind is named in messages: "`{`", "a string". */
const char *lex_kind_name(lex_kind k);
/* Identifiers and keywords: anything that can name an attribute. */
static inline bool lex_is_word(lex_kind k)
{
    return k == TOK_IDENT || k >= TOK_POLICY;
}

#endif
