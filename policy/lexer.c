/*
 * lexer.c — turns policy source into tokens, one at a time, on demand.
 * Lexical rules (see docs/language.md):
 *   comments   `#` to end of line; whitespace is space, tab, CR, LF
 *   identifier [A-Za-z_][A-Za-z0-9_]*  (keywords are reserved)
 *   integer    [0-9]+ , at most 9223372036854775807
 *   duration   [0-9]+ immediately followed by s, m, h, d or y
 *   timestamp  `@` then an RFC 3339 date or date-time with a zone
 *   string     "..." on one line; escapes \" \\ \n \t \u{X...}
 * The source was checked for NUL bytes and invalid UTF-8 before scanning.
 */
#include <string.h>
#include "policy/lexer.h"
#include "stdlib/stdlib.h"

void lex_init(lexer *lx, const char *src, uint32_t len)
{
    lx->src = src;
    lx->len = len;
    lx->pos = 0;
    lx->line = 1;
    lx->line_start = 0;
    /* A byte order mark, as some editors save UTF-8, is not text: skipped,
     * and columns count from after it. */
    if (len >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0)
        lx->pos = lx->line_start = 3;
}

static const struct { const char *word; lex_kind kind; } keywords[] = {
    { "policy", TOK_POLICY }, { "permit", TOK_PERMIT }, { "forbid", TOK_FORBID },
    { "mask", TOK_MASK }, { "retain", TOK_RETAIN }, { "hold", TOK_HOLD },
    { "require", TOK_REQUIRE }, { "forget", TOK_FORGET }, { "on", TOK_ON },
    { "when", TOK_WHEN }, { "unless", TOK_UNLESS }, { "with", TOK_WITH },
    { "for", TOK_FOR }, { "after", TOK_AFTER }, { "then", TOK_THEN },
    { "within", TOK_WITHIN }, { "and", TOK_AND }, { "or", TOK_OR },
    { "not", TOK_NOT }, { "in", TOK_IN }, { "has", TOK_HAS },
    { "matches", TOK_MATCHES }, { "like", TOK_LIKE }, { "true", TOK_TRUE },
    { "false", TOK_FALSE },
};

const char *lex_kind_name(lex_kind k)
{
    static const char *const names[TOK_COUNT] = {
        [TOK_EOF] = "end of file", [TOK_ERROR] = "an invalid character",
        [TOK_IDENT] = "a name", [TOK_INT] = "an integer", [TOK_STRING] = "a string",
        [TOK_DURATION] = "a duration", [TOK_TIMESTAMP] = "a timestamp",
        [TOK_LBRACE] = "`{`", [TOK_RBRACE] = "`}`", [TOK_LPAREN] = "`(`",
        [TOK_RPAREN] = "`)`", [TOK_LBRACKET] = "`[`", [TOK_RBRACKET] = "`]`",
        [TOK_COMMA] = "`,`", [TOK_DOT] = "`.`", [TOK_STAR] = "`*`",
        [TOK_PLUS] = "`+`", [TOK_MINUS] = "`-`", [TOK_EQ] = "`==`",
        [TOK_NE] = "`!=`", [TOK_LT] = "`<`", [TOK_LE] = "`<=`", [TOK_GT] = "`>`",
        [TOK_GE] = "`>=`",
    };
    if (k >= TOK_POLICY && k < TOK_COUNT) {
        for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
            if (keywords[i].kind == k)
                return keywords[i].word;
    }
    return (unsigned)k < TOK_COUNT && names[k] ? names[k] : "?";
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_alpha(c) || is_digit(c);
}

static char peek_at(const lexer *lx, uint32_t k)
{
    return lx->pos + k < lx->len ? lx->src[lx->pos + k] : 0;
}

static lex_token make(const lexer *lx, lex_kind kind, uint32_t start)
{
    lex_token t;
    memset(&t, 0, sizeof t);
    t.kind = kind;
    t.start = lx->src + start;
    t.len = lx->pos - start;
    t.off = start;
    t.line = lx->line;
    t.col = start - lx->line_start + 1;
    return t;
}

/* Attaches an error to t, spanning [off, off + len) of the source. */
static void fail(lex_token *t, uint32_t off, uint32_t len, const char *msg,
                 const char *hint)
{
    if (t->err)
        return;                    /* keep the first */
    t->err = msg;
    t->hint = hint;
    t->err_off = off - t->off;
    t->err_len = len;
}

static void skip_space(lexer *lx)
{
    while (lx->pos < lx->len) {
        char c = lx->src[lx->pos];
        if (c == '\n') {
            lx->pos++;
            lx->line++;
            lx->line_start = lx->pos;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            lx->pos++;
        } else if (c == '#') {
            while (lx->pos < lx->len && lx->src[lx->pos] != '\n')
                lx->pos++;
        } else {
            break;
        }
    }
}

static lex_token word(lexer *lx, uint32_t start)
{
    while (lx->pos < lx->len && is_alnum(lx->src[lx->pos]))
        lx->pos++;
    lex_token t = make(lx, TOK_IDENT, start);
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
        if (strlen(keywords[i].word) == t.len && memcmp(keywords[i].word, t.start, t.len) == 0)
            t.kind = keywords[i].kind;
    return t;
}

/* number -> digits | digits unit, where unit is one of s m h d y. */
static lex_token number(lexer *lx, uint32_t start)
{
    while (lx->pos < lx->len && is_digit(lx->src[lx->pos]))
        lx->pos++;
    uint32_t digits_end = lx->pos;
    while (lx->pos < lx->len && is_alnum(lx->src[lx->pos]))
        lx->pos++;
    if (lx->pos > digits_end) {
        lex_token t = make(lx, TOK_DURATION, start);
        uint32_t ulen = lx->pos - digits_end;
        if (ulen != 1 || !strchr("smhdy", lx->src[digits_end])) {
            fail(&t, digits_end, ulen, "invalid duration unit `%.*s` (use s, m, h, d or y)",
                 ulen == 2 && lx->src[digits_end] == 'm' && lx->src[digits_end + 1] == 'o'
                     ? "there are no months: write days, e.g. 30d" : NULL);
            return t;
        }
        if (!sl_parse_duration(t.start, t.len, &t.value, NULL))
            fail(&t, start, t.len, "duration `%.*s` is too large", NULL);
        return t;
    }
    lex_token t = make(lx, TOK_INT, start);
    int64_t v = 0;
    for (uint32_t i = 0; i < t.len; i++) {
        int d = t.start[i] - '0';
        if (v > (INT64_MAX - d) / 10) {
            /* 2^63 is allowed only right after a minus sign; the parser
             * clears the error there. */
            bool min = t.len == 19 && memcmp(t.start, "9223372036854775808", 19) == 0;
            t.value = min ? INT64_MIN : 0;
            fail(&t, start, t.len, "integer literal `%.*s` is too large (the maximum is 9223372036854775807)", NULL);
            return t;
        }
        v = v * 10 + d;
    }
    t.value = v;
    return t;
}

/* Consumes the run of characters [0-9] and `chars`. */
static void take(lexer *lx, const char *chars)
{
    while (lx->pos < lx->len && (is_digit(lx->src[lx->pos]) || strchr(chars, lx->src[lx->pos])))
        lx->pos++;
}

/* timestamp -> "@" date ["T" time zone]; the shape is taken greedily,
 * then sl_parse_timestamp validates it. An offset is taken only in the
 * form ±HH:MM, so that `@2026-01-01T00:00:00Z-1d` is a subtraction. */
static lex_token timestamp(lexer *lx, uint32_t start)
{
    take(lx, "-");
    char c = peek_at(lx, 0);
    if (c == 'T' || c == 't') {
        lx->pos++;
        take(lx, ":.");
        c = peek_at(lx, 0);
        if (c == 'Z' || c == 'z')
            lx->pos++;
        else if ((c == '+' || c == '-') && is_digit(peek_at(lx, 1)) &&
                 is_digit(peek_at(lx, 2)) && peek_at(lx, 3) == ':')
            take(lx, "+-:");
    }
    /* Letters glued to the literal belong to it (and make it invalid). */
    while (lx->pos < lx->len && is_alnum(lx->src[lx->pos]))
        lx->pos++;
    lex_token t = make(lx, TOK_TIMESTAMP, start);
    const char *why = NULL;
    if (t.len == 1)
        fail(&t, start, 1, "expected a timestamp after `@`, e.g. @2026-01-01T00:00:00Z", NULL);
    else if (!sl_parse_timestamp(t.start + 1, t.len - 1, &t.value, &why))
        fail(&t, start, t.len, "invalid timestamp `%.*s`", why);
    return t;
}

static int hexval(char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Checks a \u{X...} escape at pos (just after the `u`); returns its end. */
static uint32_t unicode_escape(lexer *lx, lex_token *t, uint32_t esc, uint32_t pos, uint32_t end)
{
    static const char *const msg = "invalid unicode escape `%.*s` (use \\u{X} with 1 to 6 hex digits, at most 10FFFF, no surrogates)";
    if (pos >= end || lx->src[pos] != '{') {
        fail(t, esc, pos - esc, msg, NULL);
        return pos;
    }
    uint32_t p = pos + 1, n = 0, v = 0;
    while (p < end && hexval(lx->src[p]) >= 0) {
        if (n < 7)
            v = v * 16 + (uint32_t)hexval(lx->src[p]);
        n++;
        p++;
    }
    bool closed = p < end && lx->src[p] == '}';
    if (closed)
        p++;
    if (!closed || n == 0 || n > 6 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        fail(t, esc, p - esc, msg, NULL);
    return p;
}

/* string -> '"' { char | escape } '"', on one line. */
static lex_token string(lexer *lx, uint32_t start)
{
    uint32_t end = lx->pos;
    while (end < lx->len && lx->src[end] != '\n' && lx->src[end] != '"') {
        if (lx->src[end] == '\\' && end + 1 < lx->len && lx->src[end + 1] != '\n')
            end++;
        end++;
    }
    bool closed = end < lx->len && lx->src[end] == '"';
    lx->pos = closed ? end + 1 : end;
    if (!closed && lx->pos > start + 1 && lx->src[lx->pos - 1] == '\r')
        lx->pos--;
    lex_token t = make(lx, TOK_STRING, start);
    t.value = (closed ? end : lx->pos) - start - 1;
    if (!closed) {
        fail(&t, start, 1, "unterminated string", "close it with `\"` on the same line");
        return t;
    }
    for (uint32_t p = start + 1; p < end; p++) {
        if (lx->src[p] != '\\')
            continue;
        char e = lx->src[p + 1];
        if (e == 'u') {
            p = unicode_escape(lx, &t, p, p + 2, end) - 1;
        } else if (e == '"' || e == '\\' || e == 'n' || e == 't') {
            p++;
        } else {
            uint32_t n = 2;            /* the escaped character may be multibyte */
            while (p + n < end && ((unsigned char)lx->src[p + n] & 0xC0) == 0x80)
                n++;
            fail(&t, p, n, "invalid escape `%.*s` in string", "use \\\", \\\\, \\n, \\t or \\u{XXXX}");
            p += n - 1;
        }
    }
    return t;
}

static lex_token two(lexer *lx, uint32_t start, char next, lex_kind yes, lex_kind no)
{
    if (peek_at(lx, 0) == next) {
        lx->pos++;
        return make(lx, yes, start);
    }
    return make(lx, no, start);
}

/* A character that starts no token. */
static lex_token stray(lexer *lx, uint32_t start, char c)
{
    if ((unsigned char)c >= 0x80)      /* a whole UTF-8 character */
        while (lx->pos < lx->len && ((unsigned char)lx->src[lx->pos] & 0xC0) == 0x80)
            lx->pos++;
    lex_token t = make(lx, TOK_ERROR, start);
    const char *hint = NULL;
    switch (c) {
    case '=': hint = "use `==` to compare"; break;
    case '!': hint = "use `!=` or `not`"; break;
    case '&': hint = "use `and`"; break;
    case '|': hint = "use `or`"; break;
    case '\'': hint = "strings are written in double quotes"; break;
    case ';': hint = "rules need no separator"; break;
    default: break;
    }
    fail(&t, start, t.len, "unexpected character `%.*s`", hint);
    return t;
}

lex_token lex_next(lexer *lx)
{
    skip_space(lx);
    uint32_t start = lx->pos;
    if (lx->pos >= lx->len) {
        /* At the end, point just after the last line's text rather than at
         * an empty line after the final newline. */
        lex_token t = make(lx, TOK_EOF, start);
        if (start > 0 && lx->src[start - 1] == '\n' && lx->line > 1) {
            uint32_t ls = start - 1;
            while (ls > 0 && lx->src[ls - 1] != '\n')
                ls--;
            uint32_t e = start - 1;
            if (e > ls && lx->src[e - 1] == '\r')
                e--;
            t.line = lx->line - 1;
            t.col = e - ls + 1;
            t.off = e;
            t.start = lx->src + e;
        }
        return t;
    }
    char c = lx->src[lx->pos++];
    if (is_alpha(c))
        return word(lx, start);
    if (is_digit(c))
        return number(lx, start);
    switch (c) {
    case '"': return string(lx, start);
    case '@': return timestamp(lx, start);
    case '{': return make(lx, TOK_LBRACE, start);
    case '}': return make(lx, TOK_RBRACE, start);
    case '(': return make(lx, TOK_LPAREN, start);
    case ')': return make(lx, TOK_RPAREN, start);
    case '[': return make(lx, TOK_LBRACKET, start);
    case ']': return make(lx, TOK_RBRACKET, start);
    case ',': return make(lx, TOK_COMMA, start);
    case '.': return make(lx, TOK_DOT, start);
    case '*': return make(lx, TOK_STAR, start);
    case '+': return make(lx, TOK_PLUS, start);
    case '-': return make(lx, TOK_MINUS, start);
    case '<': return two(lx, start, '=', TOK_LE, TOK_LT);
    case '>': return two(lx, start, '=', TOK_GE, TOK_GT);
    case '=':
        if (peek_at(lx, 0) == '=') {
            lx->pos++;
            return make(lx, TOK_EQ, start);
        }
        return stray(lx, start, c);
    case '!':
        if (peek_at(lx, 0) == '=') {
            lx->pos++;
            return make(lx, TOK_NE, start);
        }
        return stray(lx, start, c);
    default:
        return stray(lx, start, c);
    }
}
