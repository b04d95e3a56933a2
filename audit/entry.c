/*
 * entry.c — the canonical encoding of a log entry, the bytes the Merkle leaf
 * hashes. It binds the sequence number, so an entry replayed or moved to
 * another position no longer matches its leaf:
 *
 *   "MGA" 0x01                      magic and version (4 bytes)
 *   seq, event_time, proc_time      3 x 8 bytes, big-endian (times signed, us)
 *   10 x (u32 big-endian length, bytes)
 *        kind product port subject action effect rules mode digest payload
 *
 * Every length is exact and nothing follows the last field, so each entry
 * has exactly one encoding (docs/audit.md).
 */
#include <string.h>
#include "audit/audit.h"
#include "stdlib/stdlib.h"

const char *const audit_field_names[AUDIT_NFIELDS] = {
    "kind", "product", "port", "subject", "action",
    "effect", "rules", "mode", "digest", "payload",
};

const int audit_column_fields[AUDIT_NCOLS] = {
    AUDIT_F_KIND, AUDIT_F_PRODUCT, AUDIT_F_PORT, AUDIT_F_SUBJECT, AUDIT_F_ACTION, AUDIT_F_EFFECT,
};

const size_t audit_field_max[AUDIT_NFIELDS] = {
    32, 256, 128, 256, 64, 16, 1024, 16, 64, 4096,
};

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

size_t audit_entry_size(const audit_entry *e)
{
    size_t n = AUDIT_ENTRY_FIXED;
    for (int i = 0; i < AUDIT_NFIELDS; i++)
        n += e->n[i];
    return n;
}

void audit_entry_encode(const audit_entry *e, uint8_t *buf)
{
    memcpy(buf, AUDIT_ENTRY_MAGIC, 4);
    put64(buf + 4, e->seq);
    put64(buf + 12, (uint64_t)e->event_time);
    put64(buf + 20, (uint64_t)e->proc_time);
    uint8_t *p = buf + 28;
    for (int i = 0; i < AUDIT_NFIELDS; i++) {
        put32(p, (uint32_t)e->n[i]);
        if (e->n[i])
            memcpy(p + 4, e->f[i], e->n[i]);
        p += 4 + e->n[i];
    }
}

/* Fields are what a writer takes: C strings of UTF-8. They are mostly
 * short and ASCII, and the verifier decodes every entry on its reading
 * thread, so words of eight bytes are checked for a NUL or a byte above
 * 127 without a branch: the last word is the one that ends with the
 * field, its bytes before the field set to 1 (s - 8 is inside the entry:
 * every field starts 32 bytes or more into it). A word flagged, sometimes
 * wrongly (a borrow), sends the field the exact way. */
static bool field_text_ok(const uint8_t *s, size_t n)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t w, flagged = 0;
    size_t i = 0;
    for (; n - i >= 8; i += 8) {
        memcpy(&w, s + i, 8);
        flagged |= ((w - ones) | w) & highs;
    }
    if (i < n) {
        unsigned before = 8 * (unsigned)(8 - (n - i));     /* bits not of the field */
        memcpy(&w, s + n - 8, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        uint64_t field = ~0ull >> before;
#else
        uint64_t field = ~0ull << before;
#endif
        w = (w & field) | (ones & ~field);
        flagged |= ((w - ones) | w) & highs;
    }
    return !flagged || (!memchr(s, 0, n) && sl_utf8_valid((const char *)s, n));
}

bool audit_entry_decode(const uint8_t *buf, size_t n, audit_entry *out)
{
    memset(out, 0, sizeof *out);
    if (n < AUDIT_ENTRY_FIXED || memcmp(buf, AUDIT_ENTRY_MAGIC, 4) != 0)
        return false;
    out->seq = get64(buf + 4);
    out->event_time = (int64_t)get64(buf + 12);
    out->proc_time = (int64_t)get64(buf + 20);
    size_t at = 28;
    for (int i = 0; i < AUDIT_NFIELDS; i++) {
        if (n - at < 4)
            return false;
        uint32_t l = get32(buf + at);
        at += 4;
        if (l > audit_field_max[i] || n - at < l)
            return false;
        if (!field_text_ok(buf + at, l))
            return false;
        out->f[i] = (const char *)buf + at;
        out->n[i] = l;
        at += l;
    }
    return at == n;
}

/* The columns must hold exactly what the canonical entry encodes. */
bool audit_columns_match(sqlite3_stmt *st, const audit_entry *dec)
{
    if (sqlite3_column_type(st, 1) != SQLITE_INTEGER ||
        sqlite3_column_int64(st, 1) != dec->event_time)
        return false;
    for (int i = 0; i < AUDIT_NCOLS; i++) {
        int f = audit_column_fields[i];
        const char *t = (const char *)sqlite3_column_text(st, 2 + i);
        size_t n = (size_t)sqlite3_column_bytes(st, 2 + i);
        if (!t || sqlite3_column_type(st, 2 + i) != SQLITE_TEXT || n != dec->n[f] ||
            (n && memcmp(t, dec->f[f], n) != 0))
            return false;
    }
    return true;
}
