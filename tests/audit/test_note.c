/*
 * test_note.c — keys, signed notes and checkpoints against the published
 * C2SP, Go sumdb and transparency-dev vectors, and the strict parser's
 * refusals.
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include "tests/audit/helpers.h"

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static audit_vkey vkey(const char *s)
{
    audit_vkey k;
    mg_error err = { 0 };
    cr_assert_eq(audit_vkey_parse(s, strlen(s), &k, &err), MG_OK, "%s: %s", s, err.message);
    return k;
}

Test(note, c2sp_example_verifies)
{
    json_t *v = load_vectors("signed-note.json");
    json_t *c = json_object_get(v, "c2sp");
    audit_vkey k = vkey(jstr(c, "vkey"));
    cr_assert_str_eq(k.name, "example.com/foo");
    cr_assert_eq(k.id, 0x530d903au);
    char back[512];
    cr_assert(audit_vkey_format(&k, back, sizeof back));
    cr_assert_str_eq(back, jstr(c, "vkey"));
    const char *note = jstr(c, "note");
    audit_note_result r;
    cr_assert_eq(audit_note_open(note, strlen(note), &k, 1, &r, NULL), MG_OK);
    cr_assert_eq(r.n_verified, 1);
    cr_assert_eq(r.text_len, strlen(jstr(c, "text")));
    cr_assert_eq(memcmp(note, jstr(c, "text"), r.text_len), 0);

    /* The opening example: well formed, but its key is not published. */
    mg_error err = { 0 };
    const char *intro = jstr(c, "introNote");
    cr_assert_eq(audit_note_open(intro, strlen(intro), &k, 1, &r, &err), MG_ECRYPTO);
    cr_assert_str_eq(err.message, "no verifiable signature");
    cr_assert_eq(r.n_unknown, 0); /* result is reset on failure */
    mg_error_clear(&err);
    json_decref(v);
}

Test(note, go_keys_and_signatures_reproduced)
{
    json_t *v = load_vectors("signed-note.json");
    json_t *g = json_object_get(v, "go");
    const char *skey = jstr(g, "peterSkey");
    audit_skey peter;
    cr_assert_eq(audit_skey_parse(skey, strlen(skey), &peter, NULL), MG_OK);
    char buf[512];
    audit_vkey pv;
    audit_skey_public(&peter, &pv);
    cr_assert(audit_vkey_format(&pv, buf, sizeof buf));
    cr_assert_str_eq(buf, jstr(g, "peterVkey"));
    cr_assert(audit_skey_format(&peter, buf, sizeof buf));
    cr_assert_str_eq(buf, skey);

    uint8_t seed[32] = { 0 };
    audit_skey enoch;
    cr_assert_eq(audit_skey_from_seed("EnochRoot", seed, &enoch, NULL), MG_OK);
    audit_vkey ev;
    audit_skey_public(&enoch, &ev);
    cr_assert(audit_vkey_format(&ev, buf, sizeof buf));
    cr_assert_str_eq(buf, jstr(g, "enochVkey"));

    const char *text = jstr(g, "text");
    audit_skey both[2] = { peter, enoch };
    char *note;
    cr_assert_eq(audit_note_sign(NULL, text, strlen(text), both, 2, &note, NULL), MG_OK);
    char want[1024];
    snprintf(want, sizeof want, "%s\n%s%s", text, jstr(g, "peterSigLine"), jstr(g, "enochSigLine"));
    cr_assert_str_eq(note, want);

    audit_vkey keys[2] = { vkey(jstr(g, "peterVkey")), vkey(jstr(g, "enochVkey")) };
    audit_note_result r;
    cr_assert_eq(audit_note_open(note, strlen(note), keys, 2, &r, NULL), MG_OK);
    cr_assert_eq(r.n_verified, 2);
    cr_assert_eq(r.verified[0], 0);
    cr_assert_eq(r.verified[1], 1);
    cr_assert_eq(audit_note_open(note, strlen(note), keys + 1, 1, &r, NULL), MG_OK);
    cr_assert_eq(r.n_verified, 1);
    cr_assert_eq(r.n_unknown, 1);
    free(note);
    json_decref(v);
}

Test(note, bad_verifier_keys)
{
    json_t *v = load_vectors("signed-note.json");
    json_t *bad = json_object_get(json_object_get(v, "go"), "badVkeys");
    /* The first is also non-canonical base64 (nonzero pad bits), which
     * the strict decoder refuses before looking at its length. */
    const char *want[] = {
        "malformed verifier key: key is not base64",
        "malformed verifier key: unknown key algorithm",
    };
    cr_assert_eq(json_array_size(bad), 2);
    for (size_t i = 0; i < 2; i++) {
        const char *s = jstr(json_array_get(bad, i), "vkey");
        audit_vkey k;
        mg_error err = { 0 };
        cr_assert_eq(audit_vkey_parse(s, strlen(s), &k, &err), MG_EFORMAT);
        cr_assert_str_eq(err.message, want[i]);
        mg_error_clear(&err);
    }
    const struct { const char *key, *msg; } more[] = {
        { "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
          "malformed verifier key: key id does not match the key" },
        { "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
          "malformed verifier key: key id must be 8 lowercase hex digits" },
        { "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
          "malformed verifier key: invalid key name" },
        { "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",
          "malformed verifier key: key is not base64" },
        { "PeterNeumann", "malformed verifier key: want name+id+key" },
        { "PeterNeumann+c74f20a3+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "malformed verifier key: Ed25519 key must be 32 bytes" },
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        audit_vkey k;
        mg_error err = { 0 };
        cr_assert_eq(audit_vkey_parse(more[i].key, strlen(more[i].key), &k, &err), MG_EFORMAT);
        cr_assert_str_eq(err.message, more[i].msg);
        mg_error_clear(&err);
    }
    json_decref(v);
}

Test(note, checkpoint_notes)
{
    json_t *v = load_vectors("checkpoint.json");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(v, "notes"), i, c) {
        json_t *vk = json_object_get(c, "vkeys");
        audit_vkey keys[8];
        size_t nk = json_array_size(vk);
        for (size_t k = 0; k < nk; k++)
            keys[k] = vkey(json_string_value(json_array_get(vk, k)));
        const char *note = jstr(c, "note");
        json_t *want = json_object_get(c, "want");
        audit_note_result r;
        mg_error err = { 0 };
        mg_status s = audit_note_open(note, strlen(note), keys, nk, &r, &err);
        const char *id = jstr(c, "id");
        if (json_is_true(json_object_get(want, "ok"))) {
            cr_assert_eq(s, MG_OK, "%s: %s", id, err.message);
            json_t *ver = json_object_get(want, "verified");
            cr_assert_eq(r.n_verified, json_array_size(ver), "%s", id);
            for (size_t k = 0; k < r.n_verified; k++) {
                char name[300];
                snprintf(name, sizeof name, "%s+%08x", keys[r.verified[k]].name,
                         (unsigned)keys[r.verified[k]].id);
                cr_assert_str_eq(name, json_string_value(json_array_get(ver, k)));
            }
            json_t *unk = json_object_get(want, "unknown");
            cr_assert_eq(r.n_unknown, unk ? (size_t)json_integer_value(unk) : 0, "%s", id);
        } else {
            cr_assert_eq(s, MG_ECRYPTO, "%s", id);
            cr_assert(strstr(err.message, jstr(want, "reason")), "%s: %s", id, err.message);
            r.text_len = strlen(note) - strlen(strstr(note, "\n\n")) + 1;
        }
        if (json_object_get(want, "origin")) {
            audit_checkpoint cp;
            cr_assert_eq(audit_checkpoint_parse(note, r.text_len, &cp, NULL), MG_OK, "%s", id);
            cr_assert_str_eq(cp.origin, jstr(want, "origin"));
            cr_assert_eq(cp.size, json_u64(json_object_get(want, "size")));
            if (json_object_get(want, "rootHash")) {
                blob root = b64(jstr(want, "rootHash"));
                cr_assert_eq(memcmp(root.p, cp.root, 32), 0);
                blob_free(&root);
            }
        }
        mg_error_clear(&err);
    }
    json_decref(v);
}

/* Signing the sumdb test bodies with the published test key gives back the
 * published notes, byte for byte (Ed25519 is deterministic). */
Test(note, sumdb_checkpoints_resigned)
{
    json_t *v = load_vectors("checkpoint.json");
    json_t *signers = json_object_get(v, "signers");
    const char *sk = jstr(json_object_get(signers, "sumdbTest"), "skey");
    audit_skey key;
    cr_assert_eq(audit_skey_parse(sk, strlen(sk), &key, NULL), MG_OK);
    size_t i, done = 0;
    json_t *c;
    json_array_foreach(json_object_get(v, "notes"), i, c) {
        const char *id = jstr(c, "id");
        if (strcmp(id, "sumdb-test-5") != 0 && strcmp(id, "sumdb-test-6") != 0)
            continue;
        const char *note = jstr(c, "note");
        size_t tl = strlen(note) - strlen(strstr(note, "\n\n")) + 1;
        audit_checkpoint cp;
        cr_assert_eq(audit_checkpoint_parse(note, tl, &cp, NULL), MG_OK);
        char body[256];
        size_t bl = audit_checkpoint_format(cp.origin, cp.size, cp.root, -1, body, sizeof body);
        cr_assert_eq(bl, tl);
        cr_assert_eq(memcmp(body, note, tl), 0);
        char *out;
        cr_assert_eq(audit_note_sign(NULL, body, bl, &key, 1, &out, NULL), MG_OK);
        cr_assert_str_eq(out, note);
        free(out);
        done++;
    }
    cr_assert_eq(done, 2);
    /* The other published test keys round-trip too. */
    const char *names[] = { "formatsLog", "formatsKnown" };
    for (int k = 0; k < 2; k++) {
        json_t *s = json_object_get(signers, names[k]);
        audit_skey x;
        cr_assert_eq(audit_skey_parse(jstr(s, "skey"), strlen(jstr(s, "skey")), &x, NULL), MG_OK);
        audit_vkey pub;
        char buf[300];
        audit_skey_public(&x, &pub);
        cr_assert(audit_vkey_format(&pub, buf, sizeof buf));
        cr_assert_str_eq(buf, jstr(s, "vkey"));
    }
    json_decref(v);
}

Test(note, checkpoint_bodies)
{
    json_t *v = load_vectors("checkpoint.json");
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(v, "bodies"), i, c) {
        const char *body = jstr(c, "body");
        json_t *want = json_object_get(c, "want");
        audit_checkpoint cp;
        mg_error err = { 0 };
        mg_status s = audit_checkpoint_parse(body, strlen(body), &cp, &err);
        if (json_is_true(json_object_get(want, "ok"))) {
            cr_assert_eq(s, MG_OK, "%s: %s", jstr(c, "desc"), err.message);
            if (json_object_get(want, "origin"))
                cr_assert_str_eq(cp.origin, jstr(want, "origin"));
            if (json_object_get(want, "size"))
                cr_assert_eq(cp.size, json_u64(json_object_get(want, "size")));
            json_t *ext = json_object_get(want, "extensions");
            if (ext)
                cr_assert_eq(cp.n_ext, json_array_size(ext));
            const char *leaf = jstr(want, "rootIsLeafHashOf");
            if (leaf) {
                uint8_t h[32];
                audit_leaf_hash(leaf, strlen(leaf), h);
                cr_assert_eq(memcmp(h, cp.root, 32), 0);
            }
        } else {
            cr_assert_eq(s, MG_EFORMAT, "%s", jstr(c, "desc"));
            cr_assert(strstr(err.message, jstr(want, "reasonRe")), "%s: %s", jstr(c, "desc"),
                      err.message);
        }
        mg_error_clear(&err);
    }
    json_array_foreach(json_object_get(v, "consistency"), i, c) {
        blob r1 = b64(jstr(c, "root1")), r2 = b64(jstr(c, "root2"));
        json_t *pj = json_object_get(c, "proof");
        blob el[8];
        audit_span sp[8];
        size_t n = json_array_size(pj);
        for (size_t k = 0; k < n; k++) {
            el[k] = b64(json_string_value(json_array_get(pj, k)));
            sp[k] = span_of(el[k]);
        }
        bool ok = audit_verify_consistency(json_u64(json_object_get(c, "size1")),
                                           json_u64(json_object_get(c, "size2")),
                                           span_of(r1), span_of(r2), sp, n);
        cr_assert_eq(ok, !json_is_true(json_object_get(c, "wantErr")));
        for (size_t k = 0; k < n; k++)
            blob_free(&el[k]);
        blob_free(&r1);
        blob_free(&r2);
    }
    json_decref(v);
}

static const char BODY[] = "go.sum database tree\n5\nnWzN20+pwMt62p7jbv1/NlN95ePTlHijabv5zO/s36w=\n";

static void expect_body(const char *body, mg_status code, const char *msg)
{
    audit_checkpoint cp;
    mg_error err = { 0 };
    cr_assert_eq(audit_checkpoint_parse(body, strlen(body), &cp, &err), code, "%s", body);
    cr_assert_str_eq(err.message, msg);
    mg_error_clear(&err);
}

Test(note, checkpoint_strictness)
{
    expect_body("o\n05\nnWzN20+pwMt62p7jbv1/NlN95ePTlHijabv5zO/s36w=\n", MG_EFORMAT,
                "checkpoint: tree size is not a canonical decimal number below 2^64");
    expect_body("o\n18446744073709551616\nnWzN20+pwMt62p7jbv1/NlN95ePTlHijabv5zO/s36w=\n",
                MG_EFORMAT, "checkpoint: tree size is not a canonical decimal number below 2^64");
    expect_body("o\n5\nnWzN20+pwMt62p7jbv1/NlN95ePTlHijabv5zO/s36x=\n", MG_EFORMAT,
                "checkpoint: root hash is not base64 of 32 bytes");
    expect_body("o\n5\nnWzN20+pwMt62p7jbv1/NlN95ePTlHijabv5zO/s36w=\n\n", MG_EFORMAT,
                "checkpoint: extension line 4 is empty");
    expect_body("o\t\n5\nnWzN20+pwMt62p7jbv1/NlN95ePTlHijabv5zO/s36w=\n", MG_EFORMAT,
                "checkpoint: not UTF-8 text without control characters");
    char big[AUDIT_MAX_LINE + 200];
    memset(big, 'a', AUDIT_MAX_LINE + 1);
    strcpy(big + AUDIT_MAX_LINE + 1, "\n5\nnWzN20+pwMt62p7jbv1/NlN95ePTlHijabv5zO/s36w=\n");
    expect_body(big, MG_ELIMIT, "checkpoint: line 1 is longer than 1024 bytes");
    audit_checkpoint cp;
    cr_assert_eq(audit_checkpoint_parse(BODY, strlen(BODY), &cp, NULL), MG_OK);
    cr_assert_eq(cp.size, 5);
}

static void expect_note(const char *note, const audit_vkey *k, mg_status code, const char *msg)
{
    audit_note_result r;
    mg_error err = { 0 };
    cr_assert_eq(audit_note_open(note, strlen(note), k, 1, &r, &err), code, "%s", note);
    cr_assert_str_eq(err.message, msg);
    mg_error_clear(&err);
}

Test(note, note_strictness)
{
    audit_vkey k = vkey("localhost.localdev/sumdb+00000c67+AcTrnkbUA+TU4heY3hkjiSES/DSQniBqIeQ/YppAUtK6");
    const char *sig = "\xe2\x80\x94 localhost.localdev/sumdb AAAMZ5/2FVAdMH58kmnz/0h299pwyskEbzDzoa2/YaPdhvLya4YWDFQQxu2TQb5GpwAH4NdWnTwuhILafisyf3CNbgg=\n";
    char note[1024];
    snprintf(note, sizeof note, "%s\n%s", BODY, sig);
    audit_note_result r;
    cr_assert_eq(audit_note_open(note, strlen(note), &k, 1, &r, NULL), MG_OK);

    char bad[2048];
    snprintf(bad, sizeof bad, "%s\n%sgarbage", BODY, sig);
    expect_note(bad, &k, MG_EFORMAT, "malformed note: no signature lines after a blank line");
    snprintf(bad, sizeof bad, "%s\n%s%s", BODY, sig, sig);
    expect_note(bad, &k, MG_EFORMAT, "malformed note: two signatures by the same key");
    snprintf(bad, sizeof bad, "%s%s", BODY, sig);
    expect_note(bad, &k, MG_EFORMAT, "malformed note: no signature lines after a blank line");
    snprintf(bad, sizeof bad, "%s\n- localhost.localdev/sumdb AAAA\n", BODY);
    expect_note(bad, &k, MG_EFORMAT, "malformed note: signature line does not start with \"— \"");
    snprintf(bad, sizeof bad, "%s\n\xe2\x80\x94 localhost.localdev/sumdb AAAMZ5/2FVAdMH58kmnz/0h299pwyskEbzDzoa2/YaPdhvLya4YWDFQQxu2TQb5GpwAH4NdWnTwuhILafisyf3CNbgh=\n", BODY);
    expect_note(bad, &k, MG_EFORMAT,
                "malformed note: signature is not base64 of a key id and a signature");
    snprintf(bad, sizeof bad, "%s\n\xe2\x80\x94 localhost.localdev/sumdb AAAMZ5/2FVAdMH58kmnz/0h299pwyskEbzDzoa2/YaPdhvLya4YWDFQQxu2TQb5GpwAH4NdWnTwuhILafisyf3CNbgg=\n", BODY);
    bad[2] ^= 1; /* text changed: the known key's signature no longer holds */
    expect_note(bad, &k, MG_ECRYPTO, "invalid signature by localhost.localdev/sumdb+00000c67");
    char longsig[AUDIT_MAX_LINE + 300];
    int w = snprintf(longsig, sizeof longsig, "%s\n\xe2\x80\x94 ", BODY);
    memset(longsig + w, 'a', AUDIT_MAX_LINE);
    strcpy(longsig + w + AUDIT_MAX_LINE, " AAAA\n");
    expect_note(longsig, &k, MG_ELIMIT, "malformed note: signature line longer than 1024 bytes");
}
