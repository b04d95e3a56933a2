/*
 * stdlib.h — builtin functions of the policy language, and the helpers the
 * operators need: time and duration literals, `like` globs, `matches`
 * regexes (pcre2). Builtins are registered in one table (builtins.c) with
 * name, arity and argument types; the type checker reads the table, the
 * compiler emits the index, the VM calls the function.
 */
#ifndef MG_STDLIB_STDLIB_H
#define MG_STDLIB_STDLIB_H

#include "stdlib/value.h"

/* ---- builtins ------------------------------------------------------------ */

#define SL_MAX_ARGS 3

/* Computes a builtin. args holds nargs values whose kinds were checked
 * against the signature unless they are SL_MISSING or came from untyped
 * (SL_ANY) paths, so a function must still check kinds at run time. */
typedef sl_err (*sl_fn)(sl_ctx *cx, const sl_value *args, int nargs,
                        sl_value *out);

typedef struct sl_builtin {
    const char *name;
    uint8_t min_args, max_args;
    /* Accepted kinds of each argument, as a mask of SL_KIND_BIT(). */
    uint32_t params[SL_MAX_ARGS];
    /* Result type; kind SL_ANY means "same type as argument 0". */
    sl_type result;
    sl_fn fn;
    const char *doc;   /* one line: "lower(s) — s in lower case" */
} sl_builtin;

/* The table, terminated by an entry with name == NULL. */
extern const sl_builtin sl_builtins[];
/* Index of the named builtin in sl_builtins, or -1. */
int sl_builtin_find(const char *name, size_t len);
/* Builtin name closest to `name` by edit distance (for "did you mean"), or
 * NULL if none is close. */
const char *sl_builtin_suggest(const char *name, size_t len);

/* ---- time ---------------------------------------------------------------- */

/* RFC 3339 with `Z` or an offset, or a bare YYYY-MM-DD (00:00Z). A zoneless
 * date-time is an error. Fractional seconds up to microseconds. On error
 * returns false and sets *why to a static message. */
bool sl_parse_timestamp(const char *s, size_t len, int64_t *us,
                        const char **why);
/* Duration literal: digits then one of s m h d y (m = minute, d = 86,400 s,
 * y = 365 d). Overflow is an error. */
bool sl_parse_duration(const char *s, size_t len, int64_t *us,
                       const char **why);
/* Formats us as RFC 3339 UTC ("2026-01-01T00:00:00Z", with .ffffff when the
 * microseconds are not zero) into buf (>= 32 bytes). */
void sl_format_timestamp(int64_t us, char *buf, size_t cap);
/* Formats a duration in the largest exact unit among y d h m s ("30d",
 * "90m"), else as microseconds ("1500000us"). */
void sl_format_duration(int64_t us, char *buf, size_t cap);

/* ---- operators ----------------------------------------------------------- */

/* Checked int64 arithmetic: false on overflow. */
bool sl_add_overflow(int64_t a, int64_t b, int64_t *r);
bool sl_sub_overflow(int64_t a, int64_t b, int64_t *r);

/* `like`: case-sensitive glob over bytes; `*` any run, `?` one UTF-8
 * character; `\` escapes the next character. Linear time (no backtracking
 * blow-up). */
bool sl_like(const char *s, size_t slen, const char *pat, size_t plen);

/* Strict UTF-8 (utf8.c): the length of the well-formed sequence at s[i]
 * (i < n) with its code point in *cp, or 0 for an invalid, overlong or
 * surrogate sequence; and whether all of s is well formed. */
size_t sl_utf8_decode(const unsigned char *s, size_t i, size_t n, uint32_t *cp);
bool sl_utf8_valid(const char *s, size_t n);

/* ---- regex (pcre2) ------------------------------------------------------- */

typedef struct sl_regex sl_regex;

/* Compiles a `matches` pattern once, at load: PCRE2, UTF mode, unanchored
 * search; JIT-compiled where available. On error returns NULL and writes a
 * message with the offset into why (cap bytes). */
sl_regex *sl_regex_compile(const char *pat, size_t len, sl_alloc_fn alloc,
                           void *ud, char *why, size_t cap, size_t *err_offset);
void sl_regex_free(sl_regex *re);
/* Searches s. Returns SL_OK and sets *hit, or SL_E_REGEX_LIMIT when pcre2's
 * match/depth limit stops it. Uses cx->match_data / cx->match_ctx. */
sl_err sl_regex_match(const sl_regex *re, sl_ctx *cx, const char *s,
                      size_t len, bool *hit);

/* Per-thread regex scratch for sl_ctx: creates match data and a match
 * context with the limits below, their memory (and the interpreter's
 * backtracking frames, which the match data keeps) from alloc (NULL:
 * malloc). Returns false on out of memory. cx must not move until
 * sl_regex_ctx_fini. */
#define SL_REGEX_MATCH_LIMIT 100000u
#define SL_REGEX_DEPTH_LIMIT 1000u
bool sl_regex_ctx_init(sl_ctx *cx, sl_alloc_fn alloc, void *ud);
void sl_regex_ctx_fini(sl_ctx *cx);

#endif
