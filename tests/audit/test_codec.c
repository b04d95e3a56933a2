/*
 * test_codec.c — the two codecs that have a fast path beside libsodium's.
 * SHA-256 of the tree (the CPU's SHA instructions and libsodium): the FIPS
 * 180-4 examples on both, and the two compared on every message length up
 * to five blocks, split every way a leaf or a node is. Base64 (by table,
 * and libsodium's constant-time codec used for keys): the RFC 4648
 * examples on both, and the two compared on every length and on texts
 * damaged at every position.
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

/* ======================================================================
 * Base64
 * ====================================================================== */

typedef struct {
    bool (*decode)(const char *, size_t, uint8_t *, size_t, size_t *);
    void (*encode)(const uint8_t *, size_t, char *, size_t);
} b64_codec;

static const b64_codec table_codec = { audit_b64_decode, audit_b64_encode };
static const b64_codec sodium_codec = { audit_b64_decode_ct, audit_b64_encode_ct };

static void check_rfc4648_examples(const b64_codec *c)
{
    static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                         "Zm9vYmFy" };
    for (size_t i = 0; i < 7; i++) {
        char text[16];
        uint8_t back[16];
        size_t n = strlen(plain[i]), got = 99;
        c->encode((const uint8_t *)plain[i], n, text, sizeof text);
        cr_assert_str_eq(text, coded[i]);
        cr_assert(c->decode(coded[i], strlen(coded[i]), back, sizeof back, &got), "%s", coded[i]);
        cr_assert_eq(got, n);
        cr_assert_arr_eq(back, plain[i], n);
    }
}

Test(base64, rfc4648_examples_by_table)
{
    check_rfc4648_examples(&table_codec);
}

Test(base64, rfc4648_examples_with_libsodium)
{
    check_rfc4648_examples(&sodium_codec);
}

Test(base64, refused_by_both)
{
    static const char *const bad[] = {
        "Zg=",      /* length not a multiple of 4 */
        "Zh==",     /* unused bits set */
        "Zm9=",     /* unused bits set */
        "Zm9v====", /* padding alone */
        "Z===",     /* one character of a group */
        "Zg==Zg==", /* padding in the middle */
        "Zm-v",     /* base64url */
        "Zm_v",
        "Zm9v\n",
        "Zm 9v",
        "====",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint8_t out[16];
        size_t got;
        cr_assert_not(audit_b64_decode(bad[i], strlen(bad[i]), out, sizeof out, &got), "%s",
                      bad[i]);
        cr_assert_not(audit_b64_decode_ct(bad[i], strlen(bad[i]), out, sizeof out, &got), "%s",
                      bad[i]);
    }
    /* Room for fewer bytes than the text holds. */
    uint8_t small[5];
    size_t got;
    cr_assert_not(audit_b64_decode("Zm9vYmFy", 8, small, sizeof small, &got));
    cr_assert_not(audit_b64_decode_ct("Zm9vYmFy", 8, small, sizeof small, &got));
    cr_assert(audit_b64_decode("Zm9vYmE=", 8, small, sizeof small, &got));
    cr_assert_eq(got, 5);
}

/* Same verdict and bytes from both decoders. */
static void same_decoding(const char *text, size_t n)
{
    uint8_t a[128], b[128];
    size_t la = 0, lb = 0;
    bool ok_a = audit_b64_decode(text, n, a, sizeof a, &la);
    bool ok_b = audit_b64_decode_ct(text, n, b, sizeof b, &lb);
    cr_assert_eq(ok_a, ok_b, "\"%.*s\": by table %d, libsodium %d", (int)n, text, ok_a, ok_b);
    if (ok_a) {
        cr_assert_eq(la, lb);
        cr_assert_arr_eq(a, b, la);
    }
}

/* Every length from 0 to 96 bytes: the same text from both encoders, and
 * the same verdict from both decoders on that text with each character
 * replaced by each of a set that covers the alphabet's edges, padding,
 * base64url, white space, NUL and a byte above 127. */
Test(base64, table_equals_libsodium_on_every_length_and_damage)
{
    static const char subst[] = { 'A', 'Z', 'a', 'z', '0', '9', '+', '/', '=', '-', '_', ' ',
                                  '\n', '\0', '\x80', '\xff', '@', '[', '`', '{' };
    uint8_t bytes[96];
    randombytes_buf_deterministic(bytes, sizeof bytes, (const uint8_t[32]){"meshgov base64 test"});
    size_t compared = 0;
    for (size_t n = 0; n <= sizeof bytes; n++) {
        char ta[AUDIT_B64_LEN(96)], tb[AUDIT_B64_LEN(96)];
        audit_b64_encode(bytes, n, ta, sizeof ta);
        audit_b64_encode_ct(bytes, n, tb, sizeof tb);
        cr_assert_str_eq(ta, tb);
        size_t len = strlen(ta);
        cr_assert_eq(len + 1, AUDIT_B64_LEN(n));
        same_decoding(ta, len);
        for (size_t i = 0; i < len; i++) {
            char keep = ta[i];
            for (size_t k = 0; k < sizeof subst; k++) {
                ta[i] = subst[k];
                same_decoding(ta, len);
                compared++;
            }
            ta[i] = keep;
            same_decoding(ta, i);   /* cut short */
        }
    }
    cr_assert_gt(compared, 80000);
}

/* The empty leaf, given as no pointer at all, on both paths: RFC 6962's
 * hash of the empty entry. */
Test(sha256, empty_leaf_from_null_on_both_paths)
{
    bool was = audit_sha256_use_cpu(true);
    for (int cpu = 1; cpu >= 0; cpu--) {
        audit_sha256_use_cpu(cpu);
        uint8_t h[AUDIT_HASH];
        char hex[2 * AUDIT_HASH + 1];
        audit_leaf_hash(NULL, 0, h);
        audit_hex_encode(h, AUDIT_HASH, hex);
        cr_assert_str_eq(hex, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    }
    audit_sha256_use_cpu(was);
}

/* ======================================================================
 * Entry fields: UTF-8 with no NUL byte
 * ====================================================================== */

/* An entry whose product (an inner field) and payload (the last, which ends
 * the buffer) are `text`, every other field empty; true if it decodes. */
static bool decodes_with(const char *text, size_t n)
{
    audit_entry e = { .seq = 7, .event_time = 1, .proc_time = 2 };
    e.f[AUDIT_F_PRODUCT] = e.f[AUDIT_F_PAYLOAD] = text;
    e.n[AUDIT_F_PRODUCT] = e.n[AUDIT_F_PAYLOAD] = n;
    size_t len = audit_entry_size(&e);
    uint8_t *buf = malloc(len);
    cr_assert_not_null(buf);
    audit_entry_encode(&e, buf);
    audit_entry dec;
    bool ok = audit_entry_decode(buf, len, &dec);
    free(buf);
    return ok;
}

/* Every length up to 40 bytes, with a NUL, a byte above 127 that starts
 * no character, or a lone continuation byte at every position: refused;
 * plain ASCII, and a two-byte character at every position: accepted. */
Test(entry_text, nul_or_bad_utf8_anywhere_in_a_field_is_refused)
{
    static const char bad[] = { '\0', (char)0xff, (char)0x80, (char)0xc3 };
    char text[41];
    for (size_t n = 1; n <= 40; n++) {
        memset(text, 'a', n);
        cr_assert(decodes_with(text, n), "ASCII of %zu bytes", n);
        for (size_t at = 0; at < n; at++) {
            for (size_t b = 0; b < sizeof bad; b++) {
                memset(text, 'a', n);
                text[at] = bad[b];
                cr_assert_not(decodes_with(text, n), "byte %02x at %zu of %zu",
                              (unsigned char)bad[b], at, n);
            }
            if (at + 1 < n) {
                memset(text, 'a', n);
                memcpy(text + at, "\xc3\xa9", 2);        /* é */
                cr_assert(decodes_with(text, n), "é at %zu of %zu", at, n);
            }
        }
    }
}
