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

static void compare_base64(const uint8_t *data, size_t size)
{
    enum { CAP = 4096 };
    if (size > CAP)
        return;
    static uint8_t a[CAP], b[CAP];
    static char ta[AUDIT_B64_LEN(CAP)], tb[AUDIT_B64_LEN(CAP)];
    size_t la = 0, lb = 0;
    bool ok_a = audit_b64_decode((const char *)data, size, a, CAP, &la);
    bool ok_b = audit_b64_decode_ct((const char *)data, size, b, CAP, &lb);
    if (ok_a != ok_b || (ok_a && (la != lb || memcmp(a, b, la) != 0)))
        abort();
    /* A text decoded is its only spelling: encoding gives it back. */
    if (ok_a) {
        audit_b64_encode(a, la, ta, sizeof ta);
        if (strlen(ta) != size || memcmp(ta, data, size) != 0)
            abort();
    }
    audit_b64_encode(data, size, ta, sizeof ta);
    audit_b64_encode_ct(data, size, tb, sizeof tb);
    if (strcmp(ta, tb) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    compare_sha256(data, size);
    compare_base64(data, size);
    return 0;
}
