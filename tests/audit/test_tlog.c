/*
 * test_tlog.c — inclusion proofs in the C2SP tlog-proof format
 * (c2sp.org/tlog-proof): the exact text mg_audit_prove_tlog writes, that it
 * says what the JSON proof of the same entry says, that every proof of a
 * log checks, and the exact verdict on each kind of damage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "tests/audit/fixture.h"
#include "tests/audit/helpers.h"

static char *tlog_proof(mg_audit_log *log, uint64_t seq, uint64_t size)
{
    char *text = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_prove_tlog(log, seq, size, &text, &err), MG_OK, "%s", err.message);
    return text;
}

static char *json_proof(mg_audit_log *log, uint64_t seq, uint64_t size)
{
    char *text = NULL;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_prove(log, seq, size, &text, &err), MG_OK, "%s", err.message);
    return text;
}

/* The text a tlog-proof must be, built from the JSON proof of the entry. */
static char *expected_from_json(const char *json)
{
    json_t *o = json_loads(json, 0, NULL);
    cr_assert_not_null(o);
    size_t cap = strlen(json) + 64, k;
    char *t = malloc(cap);
    cr_assert_not_null(t);
    k = (size_t)snprintf(t, cap, "c2sp.org/tlog-proof@v1\nextra %s\nindex %lld\n",
                         json_string_value(json_object_get(o, "entry")),
                         (long long)json_integer_value(json_object_get(o, "leaf_index")));
    json_t *h;
    size_t i;
    json_array_foreach(json_object_get(o, "proof"), i, h)
        k += (size_t)snprintf(t + k, cap - k, "%s\n", json_string_value(h));
    snprintf(t + k, cap - k, "\n%s", json_string_value(json_object_get(o, "checkpoint")));
    json_decref(o);
    return t;
}

static mg_status check(const fixture *f, const char *text, mg_error *err)
{
    mg_error_clear(err);
    return mg_audit_check_proof(text, strlen(text), f->keys, err);
}

Test(tlog, says_what_the_json_proof_says_and_checks)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 37, 8);
    mg_audit_config cfg = { .path = f.db };
    mg_audit_log *log;
    mg_audit_checker *c;
    mg_error err = { 0 };
    cr_assert_eq(mg_audit_open(&cfg, &log, &err), MG_OK, "%s", err.message);
    cr_assert_eq(mg_audit_checker_open(f.keys, &c, &err), MG_OK, "%s", err.message);
    static const uint64_t sizes[] = { 8, 16, 24, 32, 37 };
    int checked = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (uint64_t seq = 0; seq < sizes[s]; seq++) {
            char *t = tlog_proof(log, seq, sizes[s]), *j = json_proof(log, seq, sizes[s]);
            char *want = expected_from_json(j);
            cr_assert_str_eq(t, want, "seq %llu size %llu", (unsigned long long)seq,
                             (unsigned long long)sizes[s]);
            cr_assert_eq(check(&f, t, &err), MG_OK, "%s", err.message);
            cr_assert_eq(mg_audit_checker_check(c, t, strlen(t), &err), MG_OK, "%s",
                         err.message);
            checked++;
            free(want);
            free(t);
            free(j);
        }
    cr_assert_eq(checked, 8 + 16 + 24 + 32 + 37);
    /* Size 0 is the latest checkpoint, as for JSON. */
    char *latest = tlog_proof(log, 36, 0), *at37 = tlog_proof(log, 36, 37);
    cr_assert_str_eq(latest, at37);
    free(latest);
    free(at37);
    mg_error_clear(&err);
    mg_audit_checker_close(c);
    mg_audit_close(log);
    fx_fini(&f);
}

Test(tlog, exact_layout)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 8, 8);
    mg_audit_log *log = fx_reader(&f);
    char *t = tlog_proof(log, 5, 8), *note = fx_note(&f, 8);
    /* Three path hashes for a leaf of a tree of 8, one per line. */
    const char *p = t;
    cr_assert_eq(strncmp(p, "c2sp.org/tlog-proof@v1\nextra TUdBAQ", 35), 0, "%s", t);
    p = strchr(p + 23, '\n') + 1;
    cr_assert_eq(strncmp(p, "index 5\n", 8), 0, "%s", t);
    p += 8;
    for (int i = 0; i < 3; i++, p += 45) {
        cr_assert_eq(p[44], '\n', "%s", t);
        cr_assert_eq(p[43], '=', "%s", t);
    }
    cr_assert_eq(*p, '\n', "%s", t);
    cr_assert_str_eq(p + 1, note);
    free(note);
    free(t);
    mg_audit_close(log);
    fx_fini(&f);
}

/* The proof with its line `line` (1-based) replaced by `with` (NULL drops
 * it). */
static char *with_line(const char *t, int line, const char *with)
{
    char *out = malloc(strlen(t) + (with ? strlen(with) : 0) + 2);
    cr_assert_not_null(out);
    size_t k = 0;
    int no = 1;
    for (const char *p = t; *p; no++) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (no != line) {
            memcpy(out + k, p, n);
            k += n;
        } else if (with) {
            k += (size_t)sprintf(out + k, "%s\n", with);
        }
        p += n;
    }
    out[k] = '\0';
    return out;
}

typedef struct damage {
    int line;                   /* 0: see `whole` */
    const char *with;
    mg_status status;
    int err_line;
    const char *message;
} damage;

Test(tlog, exact_verdict_on_each_damage)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 8, 8);
    mg_audit_log *log = fx_reader(&f);
    mg_error err = { 0 };
    char *t = tlog_proof(log, 5, 8), *other = tlog_proof(log, 4, 8);
    cr_assert_eq(check(&f, t, &err), MG_OK, "%s", err.message);
    /* Line 4 of the proof of entry 4 is entry 5's leaf hash: a valid hash
     * of the tree, in the wrong place here. */
    char sibling[64];
    snprintf(sibling, sizeof sibling, "%.44s", strstr(other, "\nindex 4\n") + 9);
    static const char zero[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const damage cases[] = {
        { 1, "c2sp.org/tlog-proof@v2", MG_EFORMAT, 1,
          "proof: expected the line \"c2sp.org/tlog-proof@v1\" (this version, lines ended by "
          "LF)" },
        { 1, "c2sp.org/tlog-proof@v1\r", MG_EFORMAT, 1,
          "proof: expected the line \"c2sp.org/tlog-proof@v1\" (this version, lines ended by "
          "LF)" },
        { 2, NULL, MG_EFORMAT, 2,
          "proof: expected \"extra\" and the entry in base64 (a meshgov proof carries its "
          "entry)" },
        { 2, "extra ", MG_EFORMAT, 2,
          "proof: expected \"extra\" and the entry in base64 (a meshgov proof carries its "
          "entry)" },
        { 2, "extra AAAA", MG_EINTEGRITY, 0,
          "proof: the entry is not a canonical entry with seq 5" },
        { 2, "extra AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", MG_EINTEGRITY, 0,
          "proof: the entry is not a canonical entry with seq 5" },
        { 3, "index 4", MG_EINTEGRITY, 0, "proof: the entry is not a canonical entry with seq 4" },
        { 3, "index 05", MG_EFORMAT, 3,
          "proof: expected \"index\" and a decimal without leading zeros" },
        { 3, "index -5", MG_EFORMAT, 3,
          "proof: expected \"index\" and a decimal without leading zeros" },
        { 3, "index 5 ", MG_EFORMAT, 3,
          "proof: expected \"index\" and a decimal without leading zeros" },
        { 3, "index 18446744073709551621", MG_EFORMAT, 3,
          "proof: expected \"index\" and a decimal without leading zeros" },
        { 3, NULL, MG_EFORMAT, 3, "proof: expected \"index\" and a decimal without leading zeros" },
        { 4, zero, MG_EINTEGRITY, 0, "proof: entry 5 is not included in the tree of size 8" },
        { 4, sibling, MG_EINTEGRITY, 0, "proof: entry 5 is not included in the tree of size 8" },
        { 4, NULL, MG_EINTEGRITY, 0, "proof: entry 5 is not included in the tree of size 8" },
        { 4, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", MG_EFORMAT, 4,
          "proof: not a SHA-256 hash in base64" },
        { 4, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", MG_EFORMAT, 4,
          "proof: not a SHA-256 hash in base64" },
        { 4, " AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", MG_EFORMAT, 4,
          "proof: not a SHA-256 hash in base64" },
        /* A byte libsodium would read as '/': one spelling per proof. */
        { 4, "\xEC" "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", MG_EFORMAT, 4,
          "proof: not a SHA-256 hash in base64" },
        { 7, NULL, MG_EFORMAT, 7, "proof: not a SHA-256 hash in base64" },
        /* The key's hash after the "+" is the fixture's random key. */
        { 8, "acme/sales/other", MG_ECRYPTO, 0, "invalid signature by acme/sales/orders+" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const damage *d = &cases[i];
        char *bad = with_line(t, d->line, d->with);
        mg_status s = check(&f, bad, &err);
        cr_assert_eq(s, d->status, "case %zu: %d %s", i, s, err.message);
        size_t mn = strlen(d->message);
        if (d->message[mn - 1] == '+')
            cr_assert(strncmp(err.message, d->message, mn) == 0 && strlen(err.message) == mn + 8,
                      "case %zu: %s", i, err.message);
        else
            cr_assert_str_eq(err.message, d->message, "case %zu: %s", i, err.message);
        cr_assert_eq(err.line, d->err_line, "case %zu", i);
        free(bad);
    }
    /* An extra hash after the path, and the path cut after its hashes. */
    char *longer = with_line(t, 7, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
    cr_assert_eq(check(&f, longer, &err), MG_EINTEGRITY);
    cr_assert_str_eq(err.message, "proof: entry 5 is not included in the tree of size 8");
    free(longer);
    char *cut = strndup(t, (size_t)(strstr(t, "\n\n") - t) + 1);
    cr_assert_eq(check(&f, cut, &err), MG_EFORMAT);
    cr_assert_str_eq(err.message, "proof: expected an empty line, then the checkpoint");
    cr_assert_eq(err.line, 7);
    free(cut);
    /* A newline added after the checkpoint changes the signed note. */
    size_t n = strlen(t);
    char *trail = malloc(n + 2);
    memcpy(trail, t, n);
    memcpy(trail + n, "\n", 2);
    cr_assert_neq(check(&f, trail, &err), MG_OK);
    free(trail);
    mg_error_clear(&err);
    free(t);
    free(other);
    mg_audit_close(log);
    fx_fini(&f);
}

/* A tree of one entry: no path at all, the empty line right after the
 * index. */
Test(tlog, a_tree_of_one_has_no_path)
{
    fixture f;
    fx_init(&f);
    fx_build(&f, 1, 1);
    mg_audit_log *log = fx_reader(&f);
    char *t = tlog_proof(log, 0, 1);
    const char *ix = strstr(t, "\nindex 0\n\n");
    cr_assert_not_null(ix, "%s", t);
    char *note = fx_note(&f, 1);
    cr_assert_str_eq(ix + 10, note);
    mg_error err = { 0 };
    cr_assert_eq(check(&f, t, &err), MG_OK, "%s", err.message);
    mg_error_clear(&err);
    free(note);
    free(t);
    mg_audit_close(log);
    fx_fini(&f);
}
