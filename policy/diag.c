/*
 * diag.c — diagnostics: collecting them (capped, in the arena) and
 * rendering them compiler-style with the source line and a caret under
 * the span:
 *
 *   file:line:col: error: message
 *     12 |   permit read on colum
 *        |                  ^~~~~
 *   hint: did you mean `column`?
 *
 * Columns are 1-based byte columns; a tab counts as one column, and the
 * caret line repeats the source line's tabs so the caret still lines up.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "policy/internal.h"

void diag_init(diag_list *d, arena *a)
{
    memset(d, 0, sizeof *d);
    d->arena = a;
}

static char *vformat(arena *a, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = arena_alloc(a, (size_t)n + 1);
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

void diag_add(diag_list *d, diag_severity sev, const char *file,
              const char *src, uint32_t src_len, ast_span span,
              const char *hint, const char *fmt, ...)
{
    if (sev == DIAG_ERROR)
        d->errors++;
    else if (sev == DIAG_WARNING)
        d->warnings++;
    if (d->n >= DIAG_MAX_ERRORS) {
        d->dropped++;
        return;
    }
    if (d->n == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 8;
        diag *items = arena_alloc(d->arena, cap * sizeof *items);
        if (!items)
            return;
        if (d->n)
            memcpy(items, d->items, d->n * sizeof *items);
        d->items = items;
        d->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(d->arena, fmt, ap);
    va_end(ap);
    const char *h = hint ? arena_strndup(d->arena, hint, strlen(hint)) : NULL;
    if (!msg || (hint && !h))
        return;
    d->items[d->n++] = (diag){ sev, file, src, src_len, span, msg, h };
}

/* ---- rendering ------------------------------------------------------------ */

typedef struct buf {
    sl_alloc_fn alloc;
    void *ud;
    char *p;
    size_t len, cap;
    bool failed;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = b->alloc(b->ud, b->p, b->cap, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void puts_(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(buf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static const char *sev_name(diag_severity s)
{
    return s == DIAG_ERROR ? "error" : s == DIAG_WARNING ? "warning" : "note";
}

static const char *sev_color(diag_severity s)
{
    return s == DIAG_ERROR ? "\033[1;31m" : s == DIAG_WARNING ? "\033[1;35m" : "\033[1;36m";
}

uint32_t policy_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    uint32_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || len > n)
        return 0;
    for (uint32_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (uint32_t i = 1; i < len; i++)
        v = (v << 6) | (s[i] & 0x3Fu);
    static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (v < min[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;   /* overlong, out of range, or a surrogate */
    return len;
}

/* Bytes that cannot be shown as they are (control characters other than
 * tab, a NUL, invalid UTF-8 already reported) are shown as `?`, so the
 * rendered text is always valid UTF-8. */
static void put_line(buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        uint32_t k = c ? policy_utf8_len((const unsigned char *)s + i, n - i) : 0;
        if (k == 0 || (c < 0x20 && c != '\t')) {
            put(b, "?", 1);
            i++;
        } else {
            put(b, s + i, k);
            i += k;
        }
    }
}

/* A line longer than EXCERPT_WIDTH bytes is shown as a window around the
 * span, with "..." where it is cut: an error in a 15 MB line prints one
 * screen line, not the file. */
#define EXCERPT_WIDTH 160
#define EXCERPT_BEFORE 60

static bool utf8_continuation(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

/* Source line, then the caret line under the span (clipped to the line). */
static void render_excerpt(buf *b, const diag *g, bool color)
{
    if (!g->src || g->span.line == 0)
        return;
    uint32_t start = g->span.off > g->src_len ? g->src_len : g->span.off;
    while (start > 0 && g->src[start - 1] != '\n')
        start--;
    /* A byte order mark is not part of line 1 (the lexer skips it). */
    if (start == 0 && g->src_len >= 3 && memcmp(g->src, "\xEF\xBB\xBF", 3) == 0)
        start = 3;
    uint32_t end = start;
    while (end < g->src_len && g->src[end] != '\n' && g->src[end] != '\r')
        end++;
    uint32_t at = g->span.off < start ? start : g->span.off;
    if (at > end)
        at = end;
    uint32_t vs = start, ve = end;     /* the part of the line shown */
    if (end - start > EXCERPT_WIDTH) {
        vs = at - start > EXCERPT_BEFORE ? at - EXCERPT_BEFORE : start;
        while (vs > start && utf8_continuation(g->src[vs]))
            vs--;
        ve = end - vs > EXCERPT_WIDTH ? vs + EXCERPT_WIDTH : end;
        while (ve < end && utf8_continuation(g->src[ve]))
            ve++;
    }
    char num[16];
    int w = snprintf(num, sizeof num, "%u", (unsigned)g->span.line);
    putf(b, "  %s | %s", num, vs > start ? "..." : "");
    put_line(b, g->src + vs, ve - vs);
    puts_(b, ve < end ? "...\n  " : "\n  ");
    for (int i = 0; i < w; i++)
        puts_(b, " ");
    puts_(b, vs > start ? " |    " : " | ");
    for (uint32_t i = vs; i < at; i++) {
        unsigned char c = (unsigned char)g->src[i];
        if (c == '\t')
            puts_(b, "\t");
        else if (!utf8_continuation((char)c))     /* one space per character */
            puts_(b, " ");
    }
    uint32_t n = g->span.len;
    if (at + n > ve)
        n = ve > at ? ve - at : 1;
    uint32_t chars = 0;          /* one mark per character, not per byte */
    for (uint32_t i = at; i < at + n && i < ve; i++)
        chars += !utf8_continuation(g->src[i]);
    n = chars ? chars : 1;
    if (color)
        puts_(b, "\033[1;32m");
    puts_(b, "^");
    for (uint32_t i = 1; i < n; i++)
        puts_(b, "~");
    if (color)
        puts_(b, "\033[0m");
    puts_(b, "\n");
}

static void render_one(buf *b, const diag *g, bool color)
{
    if (color)
        puts_(b, "\033[1m");
    putf(b, "%s:%u:%u: ", g->file ? g->file : "<input>", (unsigned)g->span.line,
         (unsigned)g->span.col);
    if (color)
        puts_(b, sev_color(g->severity));
    putf(b, "%s:", sev_name(g->severity));
    if (color)
        puts_(b, "\033[0m\033[1m");
    puts_(b, " ");
    puts_(b, g->message);
    if (color)
        puts_(b, "\033[0m");
    puts_(b, "\n");
    render_excerpt(b, g, color);
    if (g->hint) {
        puts_(b, color ? "\033[1;36mhint:\033[0m " : "hint: ");
        puts_(b, g->hint);
        puts_(b, "\n");
    }
}

char *diag_render(const diag_list *d, bool color, sl_alloc_fn alloc, void *ud)
{
    if (!d)
        return NULL;
    if (!alloc)
        alloc = sl_default_alloc;
    buf b = { .alloc = alloc, .ud = ud };
    put(&b, "", 0);
    for (uint32_t i = 0; i < d->n; i++)
        render_one(&b, &d->items[i], color);
    if (d->errors > 1) {
        putf(&b, "%u errors generated", (unsigned)d->errors);
        if (d->dropped)
            putf(&b, " (%u not shown)", (unsigned)d->dropped);
        puts_(&b, ".\n");
    }
    if (b.failed) {
        if (b.p)
            alloc(ud, b.p, b.cap, 0);
        return NULL;
    }
    /* Shrink to strlen + 1, so the caller can free with that size. */
    char *p = alloc(ud, b.p, b.cap, b.len + 1);
    if (!p) {
        alloc(ud, b.p, b.cap, 0);
        return NULL;
    }
    return p;
}
