/*
 * note.c — C2SP signed notes and tlog checkpoints with Ed25519 keys, and the
 * key text forms of Go's golang.org/x/mod/sumdb/note package:
 *
 *   verifier key  name+hex8(id)+base64(0x01 || public key)
 *   private key   PRIVATE+KEY+name+hex8(id)+base64(0x01 || seed)
 *   key id        SHA-256(name || 0x0A || 0x01 || public key)[0:4]
 *   signed note   text "\n" then lines "— name base64(id || signature)\n"
 *   checkpoint    origin "\n" decimal size "\n" base64(root) "\n" [extensions]
 *
 * Everything is parsed strictly: exact lengths, canonical base64 and
 * decimal, bounded lines, nothing after the last newline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "audit/audit.h"
#include "stdlib/error.h"
#include "stdlib/stdlib.h"

#define ALG_ED25519 0x01
#define EM_DASH "\xe2\x80\x94"

/* ======================================================================
 * Text helpers
 * ====================================================================== */


/* Unicode White_Space and controls: never inside a key name. */
static bool is_space_or_control(uint32_t cp)
{
    return cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff;
}

bool audit_valid_key_name(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n == 0 || n > AUDIT_MAX_NAME)
        return false;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        size_t l = sl_utf8_decode(u, i, n, &cp);
        if (l == 0 || cp == '+' || is_space_or_control(cp))
            return false;
        i += l;
    }
    return true;
}

/* Note text: UTF-8, no control characters except newline. */
static bool valid_note_text(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        size_t l = sl_utf8_decode(u, i, n, &cp);
        if (l == 0 || (cp < 0x20 && cp != '\n') || cp == 0x7f)
            return false;
        i += l;
    }
    return true;
}

bool audit_b64_decode_ct(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len)
{
    /* libsodium 1.0.18 reads some bytes outside the alphabet as '/': only
     * RFC 4648 text is accepted, so that a key has one spelling. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '='))
            return false;
    }
    const char *end = NULL;
    size_t got = 0;
    if (sodium_base642bin(out, cap, s, n, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || end != s + n)
        return false;
    *len = got;
    return true;
}

void audit_b64_encode_ct(const uint8_t *in, size_t n, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, in, n, sodium_base64_VARIANT_ORIGINAL);
}


void audit_hex_encode(const uint8_t *in, size_t n, char *out)
{
    sodium_bin2hex(out, 2 * n + 1, in, n);
}

/* ======================================================================
 * Keys
 * ====================================================================== */

uint32_t audit_key_id(const char *name, const uint8_t pk[32])
{
    crypto_hash_sha256_state st;
    uint8_t h[32];
    const uint8_t sep[2] = { '\n', ALG_ED25519 };
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
    crypto_hash_sha256_update(&st, sep, 2);
    crypto_hash_sha256_update(&st, pk, 32);
    crypto_hash_sha256_final(&st, h);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
}

/* Eight lowercase hex digits. */
static bool parse_id(const char *s, size_t n, uint32_t *out)
{
    if (n != 8)
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < 8; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

/* name+hex8+base64(0x01||32 bytes): the common tail of both key forms. */
static mg_status parse_key_parts(const char *s, size_t n, const char *what,
                                 char name[AUDIT_MAX_NAME + 1], uint32_t *id,
                                 uint8_t key[32], mg_error *err)
{
    const char *p1 = memchr(s, '+', n);
    const char *p2 = p1 ? memchr(p1 + 1, '+', (size_t)(s + n - p1 - 1)) : NULL;
    if (!p1 || !p2)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed %s: want name+id+key", what);
    size_t nl = (size_t)(p1 - s);
    if (!audit_valid_key_name(s, nl))
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0, "malformed %s: invalid key name", what);
    if (!parse_id(p1 + 1, (size_t)(p2 - p1 - 1), id))
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed %s: key id must be 8 lowercase hex digits", what);
    uint8_t raw[64];
    size_t rl;
    if (!audit_b64_decode_ct(p2 + 1, (size_t)(s + n - p2 - 1), raw, sizeof raw, &rl))
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0, "malformed %s: key is not base64", what);
    if (rl < 1 || raw[0] != ALG_ED25519)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed %s: unknown key algorithm", what);
    if (rl != 33)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed %s: Ed25519 key must be 32 bytes", what);
    memcpy(name, s, nl);
    name[nl] = '\0';
    memcpy(key, raw + 1, 32);
    sodium_memzero(raw, sizeof raw);
    return MG_OK;
}

mg_status audit_vkey_parse(const char *s, size_t n, audit_vkey *out, mg_error *err)
{
    memset(out, 0, sizeof *out);
    static const char priv[] = "PRIVATE+KEY+";
    if (n >= sizeof priv - 1 && memcmp(s, priv, sizeof priv - 1) == 0)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "this is a private key: pin its verifier key (the .pub file)");
    mg_status st = parse_key_parts(s, n, "verifier key", out->name, &out->id, out->pk, err);
    if (st != MG_OK)
        return st;
    if (audit_key_id(out->name, out->pk) != out->id)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed verifier key: key id does not match the key");
    return MG_OK;
}

mg_status audit_skey_from_seed(const char *name, const uint8_t seed[32],
                               audit_skey *out, mg_error *err)
{
    memset(out, 0, sizeof *out);
    size_t nl = strlen(name);
    if (!audit_valid_key_name(name, nl))
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0,
                            "invalid key name \"%s\": no spaces, no '+', at most %d bytes",
                            name, AUDIT_MAX_NAME);
    memcpy(out->name, name, nl + 1);
    crypto_sign_seed_keypair(out->pk, out->sk, seed);
    out->id = audit_key_id(out->name, out->pk);
    return MG_OK;
}

mg_status audit_skey_parse(const char *s, size_t n, audit_skey *out, mg_error *err)
{
    static const char prefix[] = "PRIVATE+KEY+";
    memset(out, 0, sizeof *out);
    if (n < sizeof prefix - 1 || memcmp(s, prefix, sizeof prefix - 1) != 0)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed private key: must start with PRIVATE+KEY+");
    char name[AUDIT_MAX_NAME + 1];
    uint32_t id;
    uint8_t seed[32];
    mg_status st = parse_key_parts(s + sizeof prefix - 1, n - (sizeof prefix - 1),
                                   "private key", name, &id, seed, err);
    if (st == MG_OK)
        st = audit_skey_from_seed(name, seed, out, err);
    sodium_memzero(seed, sizeof seed);
    if (st == MG_OK && out->id != id) {
        sodium_memzero(out, sizeof *out);
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed private key: key id does not match the key");
    }
    return st;
}

static bool format_key(const char *prefix, const char *name, uint32_t id,
                       const uint8_t key[32], char *buf, size_t cap)
{
    uint8_t raw[33];
    char b[AUDIT_B64_LEN(33)];
    raw[0] = ALG_ED25519;
    memcpy(raw + 1, key, 32);
    audit_b64_encode_ct(raw, 33, b, sizeof b);
    sodium_memzero(raw, sizeof raw);
    int w = snprintf(buf, cap, "%s%s+%08x+%s", prefix, name, (unsigned)id, b);
    sodium_memzero(b, sizeof b);
    return w > 0 && (size_t)w < cap;
}

bool audit_vkey_format(const audit_vkey *k, char *buf, size_t cap)
{
    return format_key("", k->name, k->id, k->pk, buf, cap);
}

bool audit_skey_format(const audit_skey *k, char *buf, size_t cap)
{
    return format_key("PRIVATE+KEY+", k->name, k->id, k->sk, buf, cap);
}

void audit_skey_public(const audit_skey *k, audit_vkey *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->name, k->name, sizeof out->name);
    out->id = k->id;
    memcpy(out->pk, k->pk, 32);
}

/* ======================================================================
 * Checkpoints
 * ====================================================================== */

/* Decimal without sign, leading zeros or overflow. */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20 || (n > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

mg_status audit_checkpoint_parse(const char *body, size_t n, audit_checkpoint *out,
                                 mg_error *err)
{
    memset(out, 0, sizeof *out);
    if (n > AUDIT_MAX_NOTE)
        return mg_error_set(err, MG_ELIMIT, NULL, 0, 0, "checkpoint: longer than %d bytes",
                            AUDIT_MAX_NOTE);
    if (n == 0 || body[n - 1] != '\n')
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0, "checkpoint: must end with a newline");
    if (!valid_note_text(body, n))
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "checkpoint: not UTF-8 text without control characters");
    const char *line[3];
    size_t len[3], nl = 0;
    for (const char *p = body, *end = body + n; p < end;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        size_t l = (size_t)(e - p);
        if (l > AUDIT_MAX_LINE)
            return mg_error_set(err, MG_ELIMIT, NULL, 0, 0,
                                "checkpoint: line %zu is longer than %d bytes", nl + 1,
                                AUDIT_MAX_LINE);
        if (nl < 3) {
            line[nl] = p;
            len[nl] = l;
        } else if (l == 0) {
            return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                                "checkpoint: extension line %zu is empty", nl + 1);
        }
        nl++;
        p = e + 1;
    }
    if (nl < 3)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "checkpoint: too few lines (want origin, tree size, root hash)");
    if (len[0] == 0)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0, "checkpoint: empty origin");
    if (!parse_u64(line[1], len[1], &out->size))
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "checkpoint: tree size is not a canonical decimal number below 2^64");
    size_t rl;
    if (!audit_b64_decode(line[2], len[2], out->root, AUDIT_HASH, &rl) || rl != AUDIT_HASH)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "checkpoint: root hash is not base64 of 32 bytes");
    memcpy(out->origin, line[0], len[0]);
    out->origin[len[0]] = '\0';
    out->n_ext = nl - 3;
    out->body_len = n;
    return MG_OK;
}

size_t audit_checkpoint_format(const char *origin, uint64_t size,
                               const uint8_t root[AUDIT_HASH], int64_t time_us, char *buf,
                               size_t cap)
{
    char b[AUDIT_B64_LEN(AUDIT_HASH)];
    audit_b64_encode(root, AUDIT_HASH, b, sizeof b);
    char t[64] = "";
    if (time_us >= 0) {
        memcpy(t, "time ", 5);
        sl_format_timestamp(time_us - time_us % 1000000, t + 5, sizeof t - 6);
        strcat(t, "\n");
    }
    int w = snprintf(buf, cap, "%s\n%llu\n%s\n%s", origin, (unsigned long long)size, b, t);
    return w > 0 && (size_t)w < cap ? (size_t)w : 0;
}

/* ======================================================================
 * Signed notes
 * ====================================================================== */

#define SIG_B64 AUDIT_B64_LEN(4 + crypto_sign_BYTES)

mg_status audit_note_sign(const audit_mem *m, const char *text, size_t n, const audit_skey *keys,
                          size_t nkeys, char **out, mg_error *err)
{
    *out = NULL;
    if (n == 0 || text[n - 1] != '\n' || !valid_note_text(text, n))
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0,
                            "note text must be UTF-8 without control characters and end in a newline");
    if (nkeys == 0)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "no signing key");
    size_t cap = n + 1;
    for (size_t i = 0; i < nkeys; i++)
        cap += strlen(keys[i].name) + SIG_B64 + 8;
    char *buf = am_alloc(m, cap);
    if (!buf)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    memcpy(buf, text, n);
    size_t at = n;
    buf[at++] = '\n';
    for (size_t i = 0; i < nkeys; i++) {
        uint8_t sig[4 + crypto_sign_BYTES];
        sig[0] = (uint8_t)(keys[i].id >> 24);
        sig[1] = (uint8_t)(keys[i].id >> 16);
        sig[2] = (uint8_t)(keys[i].id >> 8);
        sig[3] = (uint8_t)keys[i].id;
        crypto_sign_detached(sig + 4, NULL, (const uint8_t *)text, n, keys[i].sk);
        char b[SIG_B64];
        audit_b64_encode(sig, sizeof sig, b, sizeof b);
        at += (size_t)snprintf(buf + at, cap - at, EM_DASH " %s %s\n", keys[i].name, b);
    }
    /* To its exact size: it goes back by its length (am_free_str). */
    char *exact = am_resize(m, buf, cap, at + 1);
    if (!exact) {
        am_free(m, buf, cap);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    *out = exact;
    return MG_OK;
}

/* Finds the start of the signature block: after the last "\n\n". */
static const char *sig_block(const char *note, size_t n)
{
    for (size_t i = n; i >= 2; i--)
        if (note[i - 1] == '\n' && note[i - 2] == '\n')
            return note + i;
    return NULL;
}

/* One line "— name base64": name and decoded bytes. */
static mg_status parse_sig_line(const char *p, size_t l, const char **name,
                                size_t *name_len, uint8_t *sig, size_t *sig_len,
                                mg_error *err)
{
    static const char dash[] = EM_DASH " ";
    if (l > AUDIT_MAX_LINE)
        return mg_error_set(err, MG_ELIMIT, NULL, 0, 0,
                            "malformed note: signature line longer than %d bytes", AUDIT_MAX_LINE);
    if (l < sizeof dash - 1 || memcmp(p, dash, sizeof dash - 1) != 0)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed note: signature line does not start with \"— \"");
    p += sizeof dash - 1;
    l -= sizeof dash - 1;
    const char *sp = memchr(p, ' ', l);
    if (!sp)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed note: signature line has no signature");
    *name = p;
    *name_len = (size_t)(sp - p);
    if (!audit_valid_key_name(p, *name_len))
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed note: invalid key name in signature line");
    if (!audit_b64_decode(sp + 1, (size_t)(p + l - sp - 1), sig, 4 + crypto_sign_BYTES + 64,
                          sig_len) || *sig_len < 5)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed note: signature is not base64 of a key id and a signature");
    return MG_OK;
}

typedef struct seen_sig {
    const char *name;
    size_t len;
    uint32_t id;
} seen_sig;

static mg_status note_open(const char *note, size_t n, const audit_vkey *keys,
                           size_t nkeys, audit_note_result *res, mg_error *err)
{
    memset(res, 0, sizeof *res);
    if (n > AUDIT_MAX_NOTE)
        return mg_error_set(err, MG_ELIMIT, NULL, 0, 0, "note is longer than %d bytes",
                            AUDIT_MAX_NOTE);
    const char *sigs = sig_block(note, n);
    if (!sigs || sigs == note + n || note[n - 1] != '\n')
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed note: no signature lines after a blank line");
    size_t text_len = (size_t)(sigs - note) - 1;
    if (!valid_note_text(note, text_len) || !sl_utf8_valid(sigs, (size_t)(note + n - sigs)))
        return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                            "malformed note: not UTF-8 text without control characters");
    seen_sig seen[AUDIT_MAX_SIGS];
    size_t nseen = 0;
    for (const char *p = sigs, *end = note + n; p < end;) {
        const char *e = memchr(p, '\n', (size_t)(end - p));
        const char *name = NULL;
        size_t name_len = 0, sig_len = 0;
        uint8_t sig[4 + crypto_sign_BYTES + 64];
        mg_status st = parse_sig_line(p, (size_t)(e - p), &name, &name_len, sig, &sig_len, err);
        if (st != MG_OK)
            return st;
        if (nseen == AUDIT_MAX_SIGS)
            return mg_error_set(err, MG_ELIMIT, NULL, 0, 0,
                                "malformed note: more than %d signatures", AUDIT_MAX_SIGS);
        uint32_t id = (uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 | (uint32_t)sig[2] << 8 | sig[3];
        for (size_t i = 0; i < nseen; i++)
            if (seen[i].id == id && seen[i].len == name_len && memcmp(seen[i].name, name, name_len) == 0)
                return mg_error_set(err, MG_EFORMAT, NULL, 0, 0,
                                    "malformed note: two signatures by the same key");
        seen[nseen++] = (seen_sig){ name, name_len, id };
        size_t k = 0;
        while (k < nkeys && !(keys[k].id == id && strlen(keys[k].name) == name_len &&
                              memcmp(keys[k].name, name, name_len) == 0))
            k++;
        if (k == nkeys) {
            res->n_unknown++;
        } else if (sig_len != 4 + crypto_sign_BYTES ||
                   crypto_sign_verify_detached(sig + 4, (const uint8_t *)note, text_len,
                                               keys[k].pk) != 0) {
            return mg_error_set(err, MG_ECRYPTO, NULL, 0, 0, "invalid signature by %s+%08x",
                                keys[k].name, (unsigned)keys[k].id);
        } else {
            res->verified[res->n_verified++] = k;
        }
        p = e + 1;
    }
    if (res->n_verified == 0)
        return mg_error_set(err, MG_ECRYPTO, NULL, 0, 0, "no verifiable signature");
    res->text_len = text_len;
    return MG_OK;
}

mg_status audit_note_open(const char *note, size_t n, const audit_vkey *keys,
                          size_t nkeys, audit_note_result *res, mg_error *err)
{
    mg_status s = note_open(note, n, keys, nkeys, res, err);
    if (s != MG_OK)
        memset(res, 0, sizeof *res);
    return s;
}
