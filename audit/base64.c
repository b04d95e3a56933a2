/*
 * base64.c — strict standard base64 (RFC 4648 section 4: its alphabet,
 * padding, unused bits zero) for public data: entries, hashes, roots,
 * signatures, proofs.
 *
 * libsodium's codec runs in constant time, as it must for keys, and costs
 * about 3 ns per character. A JSON inclusion proof at 10,000,000 entries
 * carries some 1,700 base64 characters, so the codec took 4.5 µs of its
 * generation and 6 µs of its check; by table it takes a tenth of that.
 * Keys keep libsodium's codec (audit_b64_decode_ct in note.c), which
 * accepts exactly the same texts: the tests and fuzz_codec compare them.
 */
#include <string.h>
#include "audit/audit.h"

static const char alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for the alphabet, 0xff for anything else ('=' included). */
static const uint8_t value_of[256] = {
#define X 0xff
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  62, X,  X,  X,  63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,  X,  X,  X,  X,
    X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,  X,  X,  X,
    X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
#undef X
};

void audit_b64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
    if (cap < AUDIT_B64_LEN(n)) {
        if (cap)
            out[0] = '\0';
        return;
    }
    size_t k = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[k++] = alphabet[v >> 18];
        out[k++] = alphabet[(v >> 12) & 63];
        out[k++] = alphabet[(v >> 6) & 63];
        out[k++] = alphabet[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        out[k++] = alphabet[v >> 18];
        out[k++] = alphabet[(v >> 12) & 63];
        out[k++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
        out[k++] = '=';
    }
    out[k] = '\0';
}

bool audit_b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len)
{
    const uint8_t *p = (const uint8_t *)s;
    if (n % 4)
        return false;
    size_t pad = n && p[n - 1] == '=' ? (p[n - 2] == '=' ? 2 : 1) : 0;
    size_t got = n / 4 * 3 - pad;
    if (got > cap)
        return false;
    size_t k = 0, i = 0;
    for (; i + 4 <= n - (pad ? 4 : 0); i += 4) {
        uint32_t a = value_of[p[i]], b = value_of[p[i + 1]], c = value_of[p[i + 2]],
                 d = value_of[p[i + 3]];
        if ((a | b | c | d) & 0x80)
            return false;
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        out[k++] = (uint8_t)(v >> 16);
        out[k++] = (uint8_t)(v >> 8);
        out[k++] = (uint8_t)v;
    }
    if (pad) {
        /* The last group: two or three characters, then its padding, with
         * the bits past the last byte zero (one spelling per value). */
        uint32_t a = value_of[p[i]], b = value_of[p[i + 1]];
        uint32_t c = pad == 1 ? value_of[p[i + 2]] : 0;
        if ((a | b | c) & 0x80)
            return false;
        uint32_t v = a << 18 | b << 12 | c << 6;
        if (v & (pad == 1 ? 0xffu : 0xffffu))
            return false;
        out[k++] = (uint8_t)(v >> 16);
        if (pad == 1)
            out[k++] = (uint8_t)(v >> 8);
    }
    *len = k;
    return true;
}
