/*
 * fuzz_sha256.c — libFuzzer target comparing the tree's two SHA-256 paths:
 * the CPU's SHA instructions (audit/sha256.c) against libsodium, on any
 * message split any way into the prefix byte and two parts. On a CPU
 * without the instructions both calls take libsodium and it checks nothing
 * beyond memory safety.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "audit/audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t prefix = data[0];
    size_t split = ((size_t)data[1] << 8 | data[2]) % (size - 2);
    const uint8_t *msg = data + 3;
    size_t n = size - 3;
    if (split > n)
        split = n;
    uint8_t cpu[AUDIT_HASH], sodium[AUDIT_HASH];
    audit_sha256_use_cpu(true);
    audit_sha256_prefixed(prefix, msg, split, msg + split, n - split, cpu);
    audit_sha256_use_cpu(false);
    audit_sha256_prefixed(prefix, msg, split, msg + split, n - split, sodium);
    if (memcmp(cpu, sodium, AUDIT_HASH) != 0)
        abort();
    return 0;
}
