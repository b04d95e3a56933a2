/*
 * regex.c — the `matches` operator on top of pcre2 (8-bit).
 *
 * Dialect: PCRE2 (Perl-compatible) in UTF mode; `.` and classes work on
 * characters, not bytes. A match is an unanchored search: the pattern may
 * match anywhere in the subject unless it uses ^ / $ (or \A, \z). `\C` is
 * refused at compile time because it can split a UTF-8 character. Subjects
 * that are not valid UTF-8 are searched anyway (PCRE2_MATCH_INVALID_UTF):
 * ill-formed bytes never match a character, so no request string can make
 * a match fail with an encoding error.
 *
 * Patterns are compiled once, at load, and JIT-compiled when the platform
 * supports it (a JIT failure just leaves the interpreter in use). All memory
 * of a compiled pattern comes from the caller's allocator through a
 * pcre2_general_context; pcre2 frees without a size, so each block carries
 * its size in a small header.
 *
 * Each thread brings its own match data and match context (sl_ctx), their
 * memory from the caller's allocator too; the match context holds the
 * limits that keep any match short: a match limit (applies to the
 * interpreter and the JIT) and a depth limit (interpreter). Hitting
 * either, or the JIT stack limit, is SL_E_REGEX_LIMIT.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stdlib/stdlib.h"

/* The caller's allocator, as pcre2's memory_data. */
typedef struct re_mem {
    sl_alloc_fn alloc;
    void *ud;
    bool failed;      /* the embedder's allocator refused a request */
} re_mem;

struct sl_regex {
    re_mem mem;        /* must outlive code: pcre2 keeps a pointer to it */
    pcre2_code *code;
};

/* Header in front of each pcre2 block, keeping max alignment. */
typedef union re_hdr {
    size_t size;
    max_align_t align;
} re_hdr;

static void *re_malloc(size_t n, void *data)
{
    re_mem *m = data;
    if (n > SIZE_MAX - sizeof(re_hdr))
        return NULL;
    re_hdr *h = m->alloc(m->ud, NULL, 0, n + sizeof(re_hdr));
    if (!h) {
        m->failed = true;
        return NULL;
    }
    h->size = n + sizeof(re_hdr);
    return h + 1;
}

static void re_free(void *p, void *data)
{
    re_mem *m = data;
    if (!p)
        return;
    re_hdr *h = (re_hdr *)p - 1;
    m->alloc(m->ud, h, h->size, 0);
}

/* The same for a match context and match data, whose allocator is in the
 * sl_ctx they belong to. */
static void *cx_malloc(size_t n, void *data)
{
    sl_ctx *cx = data;
    if (n > SIZE_MAX - sizeof(re_hdr))
        return NULL;
    re_hdr *h = cx->alloc(cx->alloc_ud, NULL, 0, n + sizeof(re_hdr));
    if (!h)
        return NULL;
    h->size = n + sizeof(re_hdr);
    return h + 1;
}

static void cx_free(void *p, void *data)
{
    sl_ctx *cx = data;
    if (!p)
        return;
    re_hdr *h = (re_hdr *)p - 1;
    cx->alloc(cx->alloc_ud, h, h->size, 0);
}

static void set_why(char *why, size_t cap, const char *msg, size_t off, bool with_off)
{
    if (!why || cap == 0)
        return;
    if (with_off)
        snprintf(why, cap, "%s at offset %zu", msg, off);
    else
        snprintf(why, cap, "%s", msg);
}

/* Compiles pat with memory from the regex's own allocator; the general and
 * compile contexts are only needed while compiling. */
static pcre2_code *compile(re_mem *mem, const char *pat, size_t len,
                           int *code, PCRE2_SIZE *off)
{
    pcre2_general_context *g = pcre2_general_context_create(re_malloc, re_free, mem);
    pcre2_compile_context *cc = g ? pcre2_compile_context_create(g) : NULL;
    pcre2_code *re = NULL;
    *code = PCRE2_ERROR_NOMEMORY;
    *off = 0;
    if (cc)
        re = pcre2_compile((PCRE2_SPTR)(pat ? pat : ""), len,
                           PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C,
                           code, off, cc);
    pcre2_compile_context_free(cc);
    pcre2_general_context_free(g);
    return re;
}

sl_regex *sl_regex_compile(const char *pat, size_t len, sl_alloc_fn alloc,
                           void *ud, char *why, size_t cap, size_t *err_offset)
{
    if (!alloc)
        alloc = sl_default_alloc;
    if (err_offset)
        *err_offset = 0;
    sl_regex *re = alloc(ud, NULL, 0, sizeof *re);
    if (!re) {
        set_why(why, cap, "out of memory", 0, false);
        return NULL;
    }
    re->mem.alloc = alloc;
    re->mem.ud = ud;
    int code;
    PCRE2_SIZE off;
    re->code = compile(&re->mem, pat, len, &code, &off);
    if (!re->code) {
        PCRE2_UCHAR msg[256];
        bool oom = code == PCRE2_ERROR_NOMEMORY || code == PCRE2_ERROR_HEAP_FAILED;
        if (oom)
            snprintf((char *)msg, sizeof msg, "out of memory");
        else if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "pcre2 error %d", code);
        set_why(why, cap, (const char *)msg, off, !oom);
        if (err_offset)
            *err_offset = off;
        alloc(ud, re, sizeof *re, 0);
        return NULL;
    }
    /* Best effort: without JIT (unsupported platform, no executable
     * memory) the interpreter runs the same pattern under the same limits.
     * But when the embedder's allocator refused memory, that is out of
     * memory like anywhere else, not a reason to run slower. */
    re->mem.failed = false;
    (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
    if (re->mem.failed) {
        set_why(why, cap, "out of memory", 0, false);
        sl_regex_free(re);
        return NULL;
    }
    return re;
}

void sl_regex_free(sl_regex *re)
{
    if (!re)
        return;
    pcre2_code_free(re->code);
    re->mem.alloc(re->mem.ud, re, sizeof *re, 0);
}

sl_err sl_regex_match(const sl_regex *re, sl_ctx *cx, const char *s,
                      size_t len, bool *hit)
{
    *hit = false;
    if (!re || !cx->match_data || !cx->match_ctx)
        return SL_E_ARG;
    int rc = pcre2_match(re->code, (PCRE2_SPTR)(s ? s : ""), len, 0, 0,
                         cx->match_data, cx->match_ctx);
    /* rc == 0: matched, but the one-pair ovector had no room for groups. */
    if (rc >= 0) {
        *hit = true;
        return SL_OK;
    }
    switch (rc) {
    case PCRE2_ERROR_NOMATCH:
        return SL_OK;
    case PCRE2_ERROR_MATCHLIMIT:
    case PCRE2_ERROR_DEPTHLIMIT:
    case PCRE2_ERROR_HEAPLIMIT:
    case PCRE2_ERROR_JIT_STACKLIMIT:
    case PCRE2_ERROR_NOMEMORY:
        /* The search could not finish within its resources. */
        return SL_E_REGEX_LIMIT;
    default:
        return SL_E_ARG;
    }
}

/* Match data holds one ovector pair: `matches` only asks whether there is
 * a match, never for groups. */
bool sl_regex_ctx_init(sl_ctx *cx, sl_alloc_fn alloc, void *ud)
{
    cx->alloc = alloc ? alloc : sl_default_alloc;
    cx->alloc_ud = ud;
    /* The general context is only needed to make the other two, which
     * copy its allocator. */
    pcre2_general_context *g = pcre2_general_context_create(cx_malloc, cx_free, cx);
    cx->match_data = g ? pcre2_match_data_create(1, g) : NULL;
    pcre2_match_context *mc = g ? pcre2_match_context_create(g) : NULL;
    pcre2_general_context_free(g);
    cx->match_ctx = mc;
    if (!cx->match_data || !mc) {
        sl_regex_ctx_fini(cx);
        return false;
    }
    pcre2_set_match_limit(mc, SL_REGEX_MATCH_LIMIT);
    pcre2_set_depth_limit(mc, SL_REGEX_DEPTH_LIMIT);
    return true;
}

void sl_regex_ctx_fini(sl_ctx *cx)
{
    pcre2_match_data_free(cx->match_data);
    pcre2_match_context_free(cx->match_ctx);
    cx->match_data = NULL;
    cx->match_ctx = NULL;
}
