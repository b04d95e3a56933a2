/*
 * api.c — the public audit functions that read the log or its keys: key
 * generation and loading, checkpoints on demand, key rotation, forgetting a
 * subject, inclusion and consistency proofs as JSON (and their independent
 * check), queries and export as JSON lines. Every function takes the
 * handle's db_lock, so a handle serializes its own use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>
#include "audit/audit.h"
#include "stdlib/error.h"

#define B64_HASH sodium_base64_ENCODED_LEN(AUDIT_HASH, sodium_base64_VARIANT_ORIGINAL)

/* ======================================================================
 * Keys
 * ====================================================================== */

mg_status audit_skey_load(const char *path, audit_skey *out, mg_error *err)
{
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mg_error_set(err, MG_EIO, path, 0, 0, "cannot open private key file: %s",
                            strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mg_error_set(err, MG_EIO, path, 0, 0, "private key file is not a regular file");
    }
    if (st.st_mode & 077) {
        close(fd);
        return mg_error_set(err, MG_ECRYPTO, path, 0, 0,
                            "%s: private key file is readable by group or others (mode %04o); "
                            "run chmod 600 on it", path, (unsigned)(st.st_mode & 07777));
    }
    char buf[AUDIT_MAX_NAME + 128];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < 0)
        return mg_error_set(err, MG_EIO, path, 0, 0, "cannot read private key file: %s",
                            strerror(errno));
    size_t len = (size_t)n;
    if (len == sizeof buf)
        return mg_error_set(err, MG_EFORMAT, path, 0, 0, "private key file is too long");
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    mg_error e2 = { 0 };
    mg_status s = audit_skey_parse(buf, len, out, &e2);
    sodium_memzero(buf, sizeof buf);
    if (s != MG_OK)
        mg_error_set(err, s, path, 1, 0, "%s", e2.message ? e2.message : "bad private key");
    mg_error_clear(&e2);
    return s;
}

mg_status mg_audit_keygen(const char *name, const char *skey_file, char **vkey,
                          mg_error *err)
{
    *vkey = NULL;
    if (!name || !skey_file)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "keygen needs a name and a file");
    if (sodium_init() < 0)
        return mg_error_set(err, MG_ECRYPTO, NULL, 0, 0, "libsodium failed to initialize");
    uint8_t seed[32];
    audit_skey k;
    randombytes_buf(seed, sizeof seed);
    mg_status s = audit_skey_from_seed(name, seed, &k, err);
    sodium_memzero(seed, sizeof seed);
    if (s != MG_OK)
        return s;
    char text[AUDIT_MAX_NAME + 128], pub[AUDIT_MAX_NAME + 128];
    audit_vkey v;
    audit_skey_public(&k, &v);
    audit_skey_format(&k, text, sizeof text);
    audit_vkey_format(&v, pub, sizeof pub);
    sodium_memzero(&k, sizeof k);
    int fd = open(skey_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        sodium_memzero(text, sizeof text);
        return mg_error_set(err, MG_EIO, skey_file, 0, 0, "cannot create private key file: %s",
                            strerror(errno));
    }
    size_t len = strlen(text);
    text[len++] = '\n';
    bool ok = fchmod(fd, 0600) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    sodium_memzero(text, sizeof text);
    if (!ok) {
        unlink(skey_file);
        return mg_error_set(err, MG_EIO, skey_file, 0, 0, "cannot write private key file");
    }
    if (!(*vkey = strdup(pub)))
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    return MG_OK;
}

/* ======================================================================
 * Checkpoints, rotation, forgetting
 * ====================================================================== */

mg_status mg_audit_checkpoint(mg_audit_log *log, mg_error *err)
{
    if (!log->has_writer)
        return mg_error_set(err, MG_EINVAL, log->db.path, 0, 0,
                            "the audit log is open read-only (no signing key)");
    mg_status s = mg_audit_flush(log, err);
    if (s != MG_OK)
        return s;
    pthread_mutex_lock(&log->db_lock);
    s = audit_db_checkpoint(&log->db, audit_now(log), err);
    pthread_mutex_unlock(&log->db_lock);
    return s;
}

mg_status mg_audit_latest_checkpoint(mg_audit_log *log, char **note, mg_error *err)
{
    uint64_t size;
    uint8_t root[AUDIT_HASH];
    pthread_mutex_lock(&log->db_lock);
    mg_status s = audit_db_read_checkpoint(&log->db, 0, &size, root, note, err);
    pthread_mutex_unlock(&log->db_lock);
    return s;
}

/* Trust passes from the key that has signed the log: rotating from another
 * key would have the auditor pin, "until" the rotation, a key that never
 * signed it. A log without a checkpoint has no such key yet. */
static mg_status check_current_signer(audit_db *d, mg_error *err)
{
    uint64_t size;
    uint8_t root[AUDIT_HASH];
    char *note = NULL;
    mg_status s = audit_db_read_checkpoint(d, 0, &size, root, &note, err);
    if (s == MG_ENOTFOUND) {
        mg_error_clear(err);
        return MG_OK;
    }
    if (s != MG_OK)
        return s;
    audit_vkey v;
    audit_note_result res;
    audit_skey_public(&d->signers[0], &v);
    s = audit_note_open(note, strlen(note), &v, 1, &res, NULL);
    free(note);
    if (s != MG_OK)
        return mg_error_set(err, MG_EINVAL, d->path, 0, 0,
                            "the latest checkpoint (size %llu) is not signed by the signing key "
                            "the log was opened with: rotate from the key that signs the log",
                            (unsigned long long)size);
    return MG_OK;
}

mg_status mg_audit_rotate_key(mg_audit_log *log, const char *new_key_file, mg_error *err)
{
    if (!log->has_writer)
        return mg_error_set(err, MG_EINVAL, log->db.path, 0, 0,
                            "the audit log is open read-only (no signing key)");
    audit_skey nk;
    mg_status s = audit_skey_load(new_key_file, &nk, err);
    if (s != MG_OK)
        return s;
    char oldv[AUDIT_MAX_NAME + 128], newv[AUDIT_MAX_NAME + 128], payload[1024];
    audit_vkey v;
    pthread_mutex_lock(&log->db_lock);
    /* The same key under any name would leave nothing revoked: the auditor
     * would pin the old key "until" a size and go on trusting it. */
    if (sodium_memcmp(log->db.signers[0].pk, nk.pk, sizeof nk.pk) == 0) {
        pthread_mutex_unlock(&log->db_lock);
        sodium_memzero(&nk, sizeof nk);
        return mg_error_set(err, MG_EINVAL, new_key_file, 0, 0,
                            "the new key is the log's current signing key");
    }
    if ((s = check_current_signer(&log->db, err)) != MG_OK) {
        pthread_mutex_unlock(&log->db_lock);
        sodium_memzero(&nk, sizeof nk);
        return s;
    }
    audit_skey *two = realloc(log->db.signers, 2 * sizeof *two);
    if (!two) {
        pthread_mutex_unlock(&log->db_lock);
        sodium_memzero(&nk, sizeof nk);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    two[1] = nk;
    log->db.signers = two;
    log->db.n_signers = 2;
    audit_skey_public(&two[0], &v);
    audit_vkey_format(&v, oldv, sizeof oldv);
    audit_skey_public(&nk, &v);
    audit_vkey_format(&v, newv, sizeof newv);
    pthread_mutex_unlock(&log->db_lock);
    snprintf(payload, sizeof payload, "{\"old_key\":\"%s\",\"new_key\":\"%s\"}", oldv, newv);
    mg_audit_record r = { .kind = "key_rotation", .payload = payload,
                          .event_time_us = audit_now(log), .governance = true };
    s = mg_audit_append(log, &r, NULL, err);
    /* The rotation's checkpoint carries both signatures; then only the new. */
    pthread_mutex_lock(&log->db_lock);
    if (s == MG_OK) {
        sodium_memzero(&log->db.signers[0], sizeof nk);
        log->db.signers[0] = log->db.signers[1];
    }
    sodium_memzero(&log->db.signers[1], sizeof nk);
    log->db.n_signers = 1;
    pthread_mutex_unlock(&log->db_lock);
    sodium_memzero(&nk, sizeof nk);
    return s;
}

mg_status mg_audit_forget_subject(mg_audit_log *log, const char *subject, mg_error *err)
{
    if (!log->ks)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "the log has no key store");
    pthread_mutex_lock(&log->db_lock);
    mg_status s = audit_keystore_forget(log->ks, subject, err);
    pthread_mutex_unlock(&log->db_lock);
    return s;
}

/* ======================================================================
 * Proofs
 * ====================================================================== */

static json_t *b64_json(const uint8_t *p, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *b = malloc(cap);
    if (!b)
        return NULL;
    audit_b64_encode(p, n, b, cap);
    json_t *j = json_string(b);
    free(b);
    return j;
}

static json_t *proof_json(uint8_t (*proof)[AUDIT_HASH], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, b64_json(proof[i], AUDIT_HASH)) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static mg_status dump(json_t *o, char **out, mg_error *err)
{
    *out = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return *out ? MG_OK : mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
}

static mg_status prove_locked(audit_db *d, uint64_t seq, uint64_t size, char **out,
                              mg_error *err)
{
    char *note = NULL;
    uint8_t *entry = NULL, root[AUDIT_HASH], leaf[AUDIT_HASH];
    uint8_t proof[AUDIT_MAX_PROOF][AUDIT_HASH];
    size_t elen = 0, n = 0;
    /* The root is the one stored with the checkpoint: the checker compares
     * it with the signed note, so it need not be recomputed here. */
    mg_status s = audit_db_read_checkpoint(d, size, &size, root, &note, err);
    if (s == MG_OK && seq >= size)
        s = mg_error_set(err, MG_ENOTFOUND, d->path, 0, 0,
                         "entry %llu is not in the tree of size %llu",
                         (unsigned long long)seq, (unsigned long long)size);
    if (s == MG_OK)
        s = audit_db_entry(d, seq, &entry, &elen, err);
    if (s == MG_OK)
        s = audit_inclusion_proof(audit_db_node, d, seq, size, proof, &n, err);
    if (s == MG_OK) {
        audit_leaf_hash(entry, elen, leaf);
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:s}",
                              "type", "inclusion", "origin", d->origin,
                              "tree_size", (json_int_t)size, "leaf_index", (json_int_t)seq,
                              "entry", b64_json(entry, elen), "leaf_hash", b64_json(leaf, 32),
                              "root_hash", b64_json(root, 32), "proof", proof_json(proof, n),
                              "checkpoint", note);
        s = dump(o, out, err);
    }
    free(note);
    free(entry);
    return s;
}

mg_status mg_audit_prove(mg_audit_log *log, uint64_t seq, uint64_t tree_size,
                         char **json, mg_error *err)
{
    *json = NULL;
    pthread_mutex_lock(&log->db_lock);
    mg_status s = audit_db_read_begin(&log->db, err);
    if (s == MG_OK) {
        s = prove_locked(&log->db, seq, tree_size, json, err);
        audit_db_read_end(&log->db);
    }
    pthread_mutex_unlock(&log->db_lock);
    return s;
}

static mg_status consistency_locked(audit_db *d, uint64_t s1, uint64_t s2, char **out,
                                    mg_error *err)
{
    char *n1 = NULL, *n2 = NULL;
    uint8_t r1[AUDIT_HASH], r2[AUDIT_HASH], proof[AUDIT_MAX_PROOF][AUDIT_HASH];
    size_t n = 0;
    mg_status s = audit_db_read_checkpoint(d, s2, &s2, r2, &n2, err);
    if (s == MG_OK)
        s = audit_db_read_checkpoint(d, s1, &s1, r1, &n1, err);
    if (s == MG_OK && s1 > s2)
        s = mg_error_set(err, MG_EINVAL, NULL, 0, 0, "size1 %llu is above size2 %llu",
                         (unsigned long long)s1, (unsigned long long)s2);
    if (s == MG_OK && s1 < s2)
        s = audit_consistency_proof(audit_db_node, d, s1, s2, proof, &n, err);
    if (s == MG_OK) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:s, s:s}",
                              "type", "consistency", "origin", d->origin,
                              "size1", (json_int_t)s1, "size2", (json_int_t)s2,
                              "root1", b64_json(r1, 32), "root2", b64_json(r2, 32),
                              "proof", proof_json(proof, n), "checkpoint1", n1,
                              "checkpoint2", n2);
        s = dump(o, out, err);
    }
    free(n1);
    free(n2);
    return s;
}

mg_status mg_audit_consistency(mg_audit_log *log, uint64_t size1, uint64_t size2,
                               char **json, mg_error *err)
{
    *json = NULL;
    if (size1 == 0)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0,
                            "a consistency proof starts from a checkpoint of size 1 or more");
    pthread_mutex_lock(&log->db_lock);
    mg_status s = audit_db_read_begin(&log->db, err);
    if (s == MG_OK) {
        s = consistency_locked(&log->db, size1, size2, json, err);
        audit_db_read_end(&log->db);
    }
    pthread_mutex_unlock(&log->db_lock);
    return s;
}
