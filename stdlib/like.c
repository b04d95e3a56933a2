/*
 * like.c — the `like` operator: a case-sensitive glob over UTF-8 strings.
 *
 *   *      any run of characters, including none
 *   ?      exactly one UTF-8 character (one byte of an ill-formed sequence)
 *   \c     the character c itself (so `\*`, `\?`, `\\`); a lone trailing
 *          backslash matches a backslash
 *   other  itself, byte for byte
 *
 * The whole string must match (there is no implicit leading or trailing
 * `*`). Matching is iterative: on a mismatch only the most recent `*` is
 * retried, one character further on. That is enough for globs, because an
 * earlier `*` can never need to absorb more once a later one has matched,
 * and it bounds the work by O(len(s) * len(pattern)) without recursion or
 * exponential backtracking; for a fixed pattern it is linear in the string.
 */
#include "stdlib/stdlib.h"
#include "stdlib/internal.h"

static bool is_cont(const char *s, size_t i, size_t n)
{
    return i < n && ((unsigned char)s[i] & 0xC0) == 0x80;
}

size_t sl_utf8_len(const char *s, size_t i, size_t n)
{
    unsigned char b = (unsigned char)s[i];
    size_t want = b >= 0xF0 && b <= 0xF4 ? 4
                : b >= 0xE0 && b <= 0xEF ? 3
                : b >= 0xC2 && b <= 0xDF ? 2 : 1;
    for (size_t k = 1; k < want; k++)
        if (!is_cont(s, i + k, n))
            return 1;
    return want;
}

bool sl_like(const char *s, size_t slen, const char *pat, size_t plen)
{
    size_t si = 0, pi = 0;
    size_t star_pi = (size_t)-1, star_si = 0;   /* retry point of the last `*` */
    while (si < slen) {
        if (pi < plen) {
            char c = pat[pi];
            size_t step = 1;
            if (c == '*') {
                star_pi = ++pi;
                star_si = si;
                continue;
            }
            if (c == '?') {
                si += sl_utf8_len(s, si, slen);
                pi++;
                continue;
            }
            if (c == '\\' && pi + 1 < plen) {
                c = pat[pi + 1];
                step = 2;
            }
            if (s[si] == c) {
                si++;
                pi += step;
                continue;
            }
        }
        if (star_pi == (size_t)-1)
            return false;
        star_si += sl_utf8_len(s, star_si, slen);
        si = star_si;
        pi = star_pi;
    }
    while (pi < plen && pat[pi] == '*')
        pi++;
    return pi == plen;
}
