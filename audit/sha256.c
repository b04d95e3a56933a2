/*
 * sha256.c — SHA-256 of the Merkle tree's leaves and nodes.
 *
 * Verifying a log hashes every entry and every node of its tree again, so
 * SHA-256 is most of what verification and appends cost. libsodium's
 * SHA-256 is portable C: about 170 ns per 64-byte block here, which caps
 * verification below a million entries per second on two cores. x86 CPUs
 * since 2016 (Goldmont, Zen, Ice Lake) have instructions for the SHA-256
 * compression function, four to five times faster. This file uses them
 * for the compression function alone when the CPU has them; padding and
 * the message stream are the few lines below, and everything else (and
 * every other CPU) goes through libsodium. The tests compare the two on
 * every length up to several blocks and on the FIPS 180-4 examples.
 */
#include <stdatomic.h>
#include <string.h>
#include <sodium.h>
#include "audit/audit.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_SHA_NI_CODE 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define HAVE_SHA_NI_CODE 0
#endif

/* -1 not probed yet, 0 libsodium, 1 the CPU's SHA extensions. */
static atomic_int sha_path = -1;

#if HAVE_SHA_NI_CODE

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static bool cpu_has_sha_ni(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return false;
    bool ssse3 = c & (1u << 9), sse41 = c & (1u << 19);
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return false;
    return ssse3 && sse41 && (b & (1u << 29));
}

/* Four rounds: two sha256rnds2, each taking two of the words in wk. */
#define ROUNDS4(abef, cdgh, w, i)                                            \
    do {                                                                     \
        __m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)&K[4 * (i)])); \
        cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);                        \
        abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e)); \
    } while (0)

/* W[4i..4i+3] from the 16 words before them, held in w0 (oldest) to w3:
 * sigma0 and W[t-16] by sha256msg1, W[t-7] added, sigma1 by sha256msg2.
 * The result replaces w0, which is no longer needed. */
#define SCHEDULE(w0, w1, w2, w3)                                             \
    w0 = _mm_sha256msg2_epu32(                                               \
        _mm_add_epi32(_mm_sha256msg1_epu32(w0, w1), _mm_alignr_epi8(w3, w2, 4)), w3)

__attribute__((target("sha,ssse3,sse4.1")))
static void compress_ni(uint32_t state[8], const uint8_t *p, size_t blocks)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
    /* The instructions keep the state as (a, b, e, f) and (c, d, g, h). */
    __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);

    for (; blocks; blocks--, p += 64) {
        __m128i abef0 = abef, cdgh0 = cdgh;
        __m128i w0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), bswap);
        __m128i w1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), bswap);
        __m128i w2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), bswap);
        __m128i w3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), bswap);
        ROUNDS4(abef, cdgh, w0, 0);
        ROUNDS4(abef, cdgh, w1, 1);
        ROUNDS4(abef, cdgh, w2, 2);
        ROUNDS4(abef, cdgh, w3, 3);
        for (int i = 4; i < 16; i += 4) {
            SCHEDULE(w0, w1, w2, w3);
            ROUNDS4(abef, cdgh, w0, i);
            SCHEDULE(w1, w2, w3, w0);
            ROUNDS4(abef, cdgh, w1, i + 1);
            SCHEDULE(w2, w3, w0, w1);
            ROUNDS4(abef, cdgh, w2, i + 2);
            SCHEDULE(w3, w0, w1, w2);
            ROUNDS4(abef, cdgh, w3, i + 3);
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }

    __m128i feba = _mm_shuffle_epi32(abef, 0x1b);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(feba, dchg, 0xf0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(dchg, feba, 8));
}

/* The message stream: a prefix byte then up to two parts, whole blocks
 * compressed straight from the caller's memory. */
typedef struct {
    uint32_t h[8];
    uint8_t buf[64];
    size_t fill;
    uint64_t total;
} sha_stream;

static void stream_init(sha_stream *s)
{
    static const uint32_t iv[8] = {
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    };
    memcpy(s->h, iv, sizeof iv);
    s->fill = 0;
    s->total = 0;
}

static void stream_update(sha_stream *s, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;     /* p may be NULL then */
    s->total += n;
    if (s->fill) {
        size_t take = n < 64 - s->fill ? n : 64 - s->fill;
        memcpy(s->buf + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill < 64)
            return;
        compress_ni(s->h, s->buf, 1);
        s->fill = 0;
    }
    if (n >= 64) {
        compress_ni(s->h, p, n / 64);
        p += n & ~(size_t)63;
        n &= 63;
    }
    memcpy(s->buf, p, n);
    s->fill = n;
}

static void stream_final(sha_stream *s, uint8_t out[32])
{
    uint64_t bits = s->total * 8;
    s->buf[s->fill++] = 0x80;
    if (s->fill > 56) {
        memset(s->buf + s->fill, 0, 64 - s->fill);
        compress_ni(s->h, s->buf, 1);
        s->fill = 0;
    }
    memset(s->buf + s->fill, 0, 56 - s->fill);
    for (int i = 0; i < 8; i++)
        s->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress_ni(s->h, s->buf, 1);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

static void hash_ni(uint8_t prefix, const void *a, size_t na, const void *b, size_t nb,
                    uint8_t out[32])
{
    sha_stream s;
    stream_init(&s);
    stream_update(&s, &prefix, 1);
    stream_update(&s, a, na);
    stream_update(&s, b, nb);
    stream_final(&s, out);
}

#else
static bool cpu_has_sha_ni(void) { return false; }
#endif

static void hash_sodium(uint8_t prefix, const void *a, size_t na, const void *b, size_t nb,
                        uint8_t out[32])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, a, na);
    if (nb)
        crypto_hash_sha256_update(&st, b, nb);
    crypto_hash_sha256_final(&st, out);
}

static int current_path(void)
{
    int path = atomic_load_explicit(&sha_path, memory_order_relaxed);
    if (path < 0) {
        path = cpu_has_sha_ni();
        atomic_store_explicit(&sha_path, path, memory_order_relaxed);
    }
    return path;
}

void audit_sha256_prefixed(uint8_t prefix, const void *a, size_t na, const void *b,
                           size_t nb, uint8_t out[AUDIT_HASH])
{
#if HAVE_SHA_NI_CODE
    if (current_path()) {
        hash_ni(prefix, a, na, b, nb, out);
        return;
    }
#endif
    hash_sodium(prefix, a, na, b, nb, out);
}

const char *audit_sha256_impl(void)
{
    return current_path() ? "x86 SHA extensions" : "libsodium";
}

bool audit_sha256_use_cpu(bool on)
{
    int was = atomic_exchange_explicit(&sha_path, on && cpu_has_sha_ni(), memory_order_relaxed);
    return was < 0 ? cpu_has_sha_ni() : was == 1;
}
