/*
 * fuzz_note.c — libFuzzer target over what an auditor feeds the verifier:
 * verifier keys and pinned key files, checkpoint bodies, signed notes, and
 * proofs (mg_audit_check_proof, against a key file written at start).
 * The key file pins the C2SP example key and a key derived from a fixed
 * seed; the proof seeds were signed by the latter, so mutations of them
 * reach the Merkle checks behind a valid signature.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "audit/audit.h"
#include "meshgov.h"

/* The C2SP signed-note example key (a public test key). */
static const char vkey[] = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";

/* The key of the proof seeds: "fuzz/mesh/log" from the seed bytes 1..32. */
static bool seeded_key(audit_vkey *out)
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(i + 1);
    audit_skey sk;
    if (audit_skey_from_seed("fuzz/mesh/log", seed, &sk, NULL) != MG_OK)
        return false;
    audit_skey_public(&sk, out);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char keys_file[64];
    static audit_vkey key[2];
    if (!keys_file[0]) {
        char line[512];
        if (audit_vkey_parse(vkey, sizeof vkey - 1, &key[0], NULL) != MG_OK ||
            !seeded_key(&key[1]) || !audit_vkey_format(&key[1], line, sizeof line))
            return 0;
        snprintf(keys_file, sizeof keys_file, "/tmp/mg-fuzz-note-%d.keys", (int)getpid());
        FILE *f = fopen(keys_file, "w");
        if (!f)
            return 0;
        fprintf(f, "%s\n%s\n", vkey, line);
        fclose(f);
    }
    const char *s = (const char *)data;
    mg_error err = { 0 };
    audit_vkey v;
    audit_vkey_parse(s, size, &v, &err);
    mg_error_clear(&err);
    audit_vkey *ks = NULL;
    size_t nks = 0;
    if (audit_keys_parse(s, size, "fuzz.keys", &ks, &nks, &err) == MG_OK)
        free(ks);
    mg_error_clear(&err);
    audit_checkpoint cp;
    audit_checkpoint_parse(s, size, &cp, &err);
    mg_error_clear(&err);
    audit_note_result res;
    audit_note_open(s, size, key, 2, &res, &err);
    mg_error_clear(&err);
    mg_audit_check_proof(s, size, keys_file, &err);
    mg_error_clear(&err);
    return 0;
}
