/*
 * fuzz_codec.c — libFuzzer target comparing the audit log's fast codecs
 * with libsodium's: the tree's SHA-256 by the CPU's SHA instructions
 * (audit/sha256.c) on any message split any way into the prefix byte and
 * two parts, and base64 by table (audit/base64.c) on any text, decoded and
 * encoded. On a CPU without SHA instructions both hashes come from
 * libsodium and that half checks only memory safety.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "audit/audit.h"

static void compare_sha256(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    uint8_t prefix = data[0];
    size_t split = ((size_t)data[1] << 8 | data[2]) % (size - 2);
    const uint8_t *msg = data + 3;
    size_t n = size - 3;
    uint8_t cpu[AUDIT_HASH], sodium[AUDIT_HASH];
    audit_sha256_use_cpu(true);
    audit_sha256_prefixed(prefix, msg, split, msg + split, n - split, cpu);
    audit_sha256_use_cpu(false);
    audit_sha256_prefixed(prefix, msg, split, msg + split, n - split, sodium);
    if (memcmp(cpu, sodium, AUDIT_HASH) != 0)
        abort();
}

/* Aborts unless both decoders give the same verdict and bytes; the bytes
 * are left in a, their count in *len. */
static bool same_decoding(const char *text, size_t n, uint8_t *a, uint8_t *b, size_t cap,
                          size_t *len)
{
    size_t la = 0, lb = 0;
    bool ok_a = audit_b64_decode(text, n, a, cap, &la);
    bool ok_b = audit_b64_decode_ct(text, n, b, cap, &lb);
    if (ok_a != ok_b || (ok_a && (la != lb || memcmp(a, b, la) != 0)))
        abort();
    *len = la;
    return ok_a;
}

static void compare_base64(const uint8_t *data, size_t size)
{
    enum { CAP = 4096 };
    if (size > CAP)
        return;
    static uint8_t a[CAP], b[CAP];
    static char ta[AUDIT_B64_LEN(CAP)], tb[AUDIT_B64_LEN(CAP)];
    size_t la;
    /* A text decoded is its only spelling: encoding gives it back. */
    if (same_decoding((const char *)data, size, a, b, CAP, &la)) {
        audit_b64_encode(a, la, ta, sizeof ta);
        if (strlen(ta) != size || memcmp(ta, data, size) != 0)
            abort();
    }
    audit_b64_encode(data, size, ta, sizeof ta);
    audit_b64_encode_ct(data, size, tb, sizeof tb);
    if (strcmp(ta, tb) != 0)
        abort();
    /* That text, valid, then with one character replaced (position and
     * character from the input's first bytes): near-valid texts reach
     * the checks of the last group that random text seldom does. */
    size_t n = strlen(ta);
    same_decoding(ta, n, a, b, CAP, &la);
    if (n && size >= 2) {
        ta[data[0] % n] = (char)data[1];
        same_decoding(ta, n, a, b, CAP, &la);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    compare_sha256(data, size);
    compare_base64(data, size);
    return 0;
}
