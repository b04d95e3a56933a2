/*
 * utf8.c — strict UTF-8: well-formed sequences only, for every layer that
 * must refuse what is not text (bundle symbols, audit records and notes).
 */
#include <stdint.h>
#include <string.h>
#include "stdlib/stdlib.h"

/* Length of the well-formed UTF-8 sequence at s[i], or 0. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
size_t sl_utf8_decode(const unsigned char *s, size_t i, size_t n, uint32_t *cp)
{
    unsigned char c = s[i];
    size_t len;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        len = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n - i < len)
        return 0;
    for (size_t k = 1; k < len; k++) {
        if ((s[i + k] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i + k] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

bool sl_utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        /* Text is mostly ASCII: skip it eight bytes at a time. */
        uint64_t w;
        while (n - i >= 8 && (memcpy(&w, u + i, 8), (w & 0x8080808080808080ull) == 0))
            i += 8;
        if (i == n)
            break;
        size_t l = sl_utf8_decode(u, i, n, &cp);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}
