/*
 * test_sha256.c — the Merkle tree's SHA-256 on both of its paths (the CPU's
 * SHA instructions and libsodium): the FIPS 180-4 examples, and the two
 * compared on every message length up to five blocks, split every way a
 * leaf or a node is.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include "tests/audit/helpers.h"

static bool cpu_path_available(void)
{
    bool was = audit_sha256_use_cpu(true);
    bool has = strcmp(audit_sha256_impl(), "x86 SHA extensions") == 0;
    audit_sha256_use_cpu(was);
    return has;
}

static void hash_hex(uint8_t prefix, const char *rest, size_t n, char hex[2 * AUDIT_HASH + 1])
{
    uint8_t h[AUDIT_HASH];
    audit_sha256_prefixed(prefix, rest, n, NULL, 0, h);
    audit_hex_encode(h, AUDIT_HASH, hex);
}

/* FIPS 180-4 examples (one block, two blocks, a million bytes), each
 * message given as its first byte and the rest. */
static void check_fips_examples(void)
{
    char hex[2 * AUDIT_HASH + 1];
    hash_hex('a', "bc", 2, hex);
    cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hash_hex('a', two + 1, strlen(two) - 1, hex);
    cr_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(999999);
    cr_assert_not_null(million);
    memset(million, 'a', 999999);
    hash_hex('a', million, 999999, hex);
    free(million);
    cr_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

Test(sha256, fips_examples_with_libsodium)
{
    bool was = audit_sha256_use_cpu(false);
    cr_assert_str_eq(audit_sha256_impl(), "libsodium");
    check_fips_examples();
    audit_sha256_use_cpu(was);
}

Test(sha256, fips_examples_with_the_cpu)
{
    if (!cpu_path_available())
        cr_skip_test("this CPU has no SHA instructions");
    audit_sha256_use_cpu(true);
    check_fips_examples();
}

/* Every total length from 1 to 321 bytes (the padding's edge cases at 55,
 * 56 and 64 bytes into a block included), each split between the two
 * parts at every point within the first 70 bytes, and at the end. */
Test(sha256, cpu_equals_libsodium_on_every_length_and_split)
{
    if (!cpu_path_available())
        cr_skip_test("this CPU has no SHA instructions");
    uint8_t msg[320];
    randombytes_buf_deterministic(msg, sizeof msg, (const uint8_t[32]){"meshgov sha256 test"});
    size_t compared = 0;
    for (size_t n = 0; n <= sizeof msg; n++) {
        for (size_t split = 0; split <= n; split = split < 70 ? split + 1 : n + (split == n)) {
            uint8_t a[AUDIT_HASH], b[AUDIT_HASH];
            uint8_t prefix = (uint8_t)(n & 1);
            audit_sha256_use_cpu(true);
            audit_sha256_prefixed(prefix, msg, split, msg + split, n - split, a);
            audit_sha256_use_cpu(false);
            audit_sha256_prefixed(prefix, msg, split, msg + split, n - split, b);
            cr_assert_arr_eq(a, b, AUDIT_HASH, "length %zu split at %zu", n + 1, split);
            compared++;
            if (split == n)
                break;
        }
    }
    audit_sha256_use_cpu(true);
    cr_assert_gt(compared, 20000);
}

/* The RFC 9162 hashes of the tree do not depend on the path. */
Test(sha256, leaf_and_node_hashes_equal_on_both_paths)
{
    if (!cpu_path_available())
        cr_skip_test("this CPU has no SHA instructions");
    uint8_t l[AUDIT_HASH], r[AUDIT_HASH], cpu[2][AUDIT_HASH], sodium[2][AUDIT_HASH];
    memset(l, 0xab, sizeof l);
    memset(r, 0xcd, sizeof r);
    const char entry[] = "an entry of the log, 40 bytes long......";
    audit_sha256_use_cpu(true);
    audit_leaf_hash(entry, strlen(entry), cpu[0]);
    audit_node_hash(l, r, cpu[1]);
    audit_sha256_use_cpu(false);
    audit_leaf_hash(entry, strlen(entry), sodium[0]);
    audit_node_hash(l, r, sodium[1]);
    audit_sha256_use_cpu(true);
    cr_assert_arr_eq(cpu[0], sodium[0], AUDIT_HASH);
    cr_assert_arr_eq(cpu[1], sodium[1], AUDIT_HASH);
    /* And what libsodium says directly. */
    uint8_t buf[1 + 2 * AUDIT_HASH], want[AUDIT_HASH];
    buf[0] = 0x01;
    memcpy(buf + 1, l, AUDIT_HASH);
    memcpy(buf + 1 + AUDIT_HASH, r, AUDIT_HASH);
    crypto_hash_sha256(want, buf, sizeof buf);
    cr_assert_arr_eq(cpu[1], want, AUDIT_HASH);
}
