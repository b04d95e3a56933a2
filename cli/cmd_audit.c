/*
 * cmd_audit.c — `meshgov audit ...`, the auditor's commands: keygen,
 * verify, query, prove, consistency, check-proof, checkpoint, export, and
 * rotate (the signing key of a log). Each is a thin layer over the "Audit
 * log" section of meshgov.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"

const char cmd_audit_usage[] =
    "usage: meshgov audit keygen --name NAME --out SKEY_FILE\n"
    "       meshgov audit verify --log DB --key VKEY_FILE [--trusted-checkpoint FILE] [--strict] [--format text|json]\n"
    "       meshgov audit query --log DB [--keystore DB] [--kind K] [--product URI] [--port P] [--subject ID]\n"
    "                           [--action A] [--effect E] [--from TIME] [--to TIME] [--limit N] [--format table|json]\n"
    "       meshgov audit prove --log DB --seq N [--size M] [--format json|tlog-proof]\n"
    "       meshgov audit consistency --log DB --from SIZE [--to SIZE]\n"
    "       meshgov audit check-proof --key VKEY_FILE PROOF\n"
    "       meshgov audit checkpoint --log DB\n"
    "       meshgov audit export --log DB\n"
    "       meshgov audit rotate --log DB --key OLD_SKEY_FILE --new-key NEW_SKEY_FILE [--keystore DB] [--origin ORIGIN]\n"
    "\n"
    "keygen writes a private key (mode 0600) to SKEY_FILE and its verifier key to\n"
    "SKEY_FILE.pub, and prints the verifier key. verify checks every entry, the\n"
    "Merkle tree and every checkpoint against the pinned keys in VKEY_FILE (lines\n"
    "\"vkey [until SIZE]\"): it prints OK, UNANCHORED (entries after the last\n"
    "checkpoint are not covered by a signature; exit 0, or 3 with --strict) or\n"
    "FAIL at the first bad entry (exit 3). query, prove, consistency, checkpoint\n"
    "and export open the log read-only. Proofs are JSON (docs/audit.md) or, with\n"
    "prove --format tlog-proof, C2SP tlog-proof text; check-proof verifies either\n"
    "without the database. rotate appends a key_rotation entry whose checkpoint\n"
    "both keys sign, and prints the two lines for VKEY_FILE: the old verifier key\n"
    "\"until\" that size, then the new one. Nothing else may write the log\n"
    "meanwhile.\n"
    "\n"
    "Exit status: 0 ok, 2 bad usage or input, 3 integrity failure.\n";

static const cli_cmd cmd = { "meshgov audit", cmd_audit_usage };

/* ---- helpers ---------------------------------------------------------------- */

static int fail(mg_status s, const mg_error *err)
{
    cli_print_error(stderr, cmd.name, err, NULL, 0);
    return s == MG_EINTEGRITY || s == MG_ECRYPTO ? CLI_INTEGRITY : CLI_USAGE;
}

static int open_read_only(const char *log, const char *keystore, mg_audit_log **out)
{
    if (!log)
        return cli_usage_error(&cmd, "--log is required");
    if (access(log, R_OK) != 0)
        return cli_error(cmd.name, "%s: cannot read the audit log", log);
    mg_audit_config cfg = { .path = log, .keystore = keystore };
    mg_error err = { 0 };
    mg_status s = mg_audit_open(&cfg, out, &err);
    if (s) {
        int rc = fail(s, &err);
        mg_error_clear(&err);
        return rc;
    }
    return CLI_OK;
}

/* A decimal that fits 64 bits: no sign, nothing after it. */
static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    *v = x;
    return *end == 0 && errno == 0;
}

static int print_row(void *ud, const char *json, size_t len)
{
    (void)ud;
    fwrite(json, 1, len, stdout);
    fputc('\n', stdout);
    return 0;
}

/* ---- keygen ----------------------------------------------------------------- */

static int audit_keygen(int argc, char **argv)
{
    const char *name = NULL, *out = NULL;
    cli_flag flags[] = { { "--name", CLI_VALUE, &name }, { "--out", CLI_VALUE, &out }, { NULL, 0, NULL } };
    int rc = cli_parse(&cmd, argc, argv, flags, NULL);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (!name || !out)
        return cli_usage_error(&cmd, "keygen needs --name and --out");
    char *vkey = NULL;
    mg_error err = { 0 };
    mg_status s = mg_audit_keygen(name, out, &vkey, &err);
    if (s) {
        rc = fail(s, &err);
        mg_error_clear(&err);
        return rc;
    }
    char pub[4096];
    snprintf(pub, sizeof pub, "%s.pub", out);
    /* Never through a link, never over another file: a new key's .pub is
     * new too (the private key was created with O_EXCL). */
    int fd = open(pub, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f || fprintf(f, "%s\n", vkey) < 0 || fclose(f) != 0) {
        int e = errno;
        if (f == NULL && fd >= 0)
            close(fd);
        if (fd >= 0)
            unlink(pub);    /* ours, and partial: a retry must not find it */
        mg_free(vkey);
        unlink(out);
        return cli_error(cmd.name, "%s: cannot write the verifier key: %s (the private key was "
                         "removed)", pub, strerror(e));
    }
    printf("%s\n", vkey);
    mg_free(vkey);
    return CLI_OK;
}

/* ---- verify ------------------------------------------------------------------ */

static void progress(void *ud, uint64_t done, uint64_t total)
{
    (void)ud;
    fprintf(stderr, "\rverifying: %llu / %llu entries", (unsigned long long)done, (unsigned long long)total);
    if (done == total)
        fputc('\n', stderr);
}

static int audit_verify(int argc, char **argv)
{
    const char *log = NULL, *key = NULL, *trusted = NULL, *format = "text";
    bool strict = false;
    cli_flag flags[] = { { "--log", CLI_VALUE, &log }, { "--key", CLI_VALUE, &key },
                         { "--trusted-checkpoint", CLI_VALUE, &trusted }, { "--strict", CLI_SWITCH, &strict },
                         { "--format", CLI_VALUE, &format }, { NULL, 0, NULL } };
    int rc = cli_parse(&cmd, argc, argv, flags, NULL);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (!log || !key)
        return cli_usage_error(&cmd, "verify needs --log and --key");
    if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0)
        return cli_usage_error(&cmd, "--format: expected text or json, found `%s`", format);
    if (access(log, R_OK) != 0)
        return cli_error(cmd.name, "%s: cannot read the audit log", log);
    char *note = NULL;
    size_t note_len = 0;
    if (trusted && cli_read_file(trusted, &note, &note_len) != 0)
        return cli_error(cmd.name, "%s: cannot read the trusted checkpoint", trusted);
    mg_audit_verify_opts o = { .db = log, .keys = key, .trusted_checkpoint = note, .trusted_len = note_len,
                               .trusted_file = trusted, .progress = isatty(2) ? progress : NULL };
    mg_audit_report rep;
    mg_error err = { 0 };
    mg_status s = mg_audit_verify(&o, &rep, &err);
    free(note);
    if (s) {
        rc = fail(s, &err);
        mg_error_clear(&err);
        return rc;
    }
    static const char *const verdicts[] = { "OK", "UNANCHORED", "FAIL" };
    if (strcmp(format, "json") == 0) {
        printf("{\"verdict\": \"%s\", \"size\": %llu, \"verified_size\": %llu, \"checkpoints\": %llu, "
               "\"first_bad_seq\": %lld, \"message\": \"", verdicts[rep.verdict], (unsigned long long)rep.size,
               (unsigned long long)rep.verified_size, (unsigned long long)rep.checkpoints,
               (long long)rep.first_bad_seq);
        for (const char *c = rep.message; *c; c++)
            printf(*c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
        printf("\"}\n");
    } else if (rep.verdict == MG_AUDIT_FAIL) {
        printf("FAIL at seq %lld: %s\n", (long long)rep.first_bad_seq, rep.message);
    } else if (rep.verdict == MG_AUDIT_OK && rep.size == 0) {
        printf("OK: the log is empty (no entry, no checkpoint; only a trusted checkpoint tells it from a "
               "wiped log)\n");
    } else if (rep.verdict == MG_AUDIT_OK) {
        printf("OK: %llu entries verified, anchored to checkpoint of size %llu\n", (unsigned long long)rep.size,
               (unsigned long long)rep.verified_size);
    } else if (rep.verified_size > 0) {
        printf("UNANCHORED: %llu entries verified, anchored to checkpoint of size %llu; %s\n",
               (unsigned long long)rep.size, (unsigned long long)rep.verified_size, rep.message);
    } else {
        printf("UNANCHORED: %llu entries verified, no checkpoint; %s\n", (unsigned long long)rep.size, rep.message);
    }
    /* Unanchored is not tampering, so it exits 0; the warning keeps a
     * script that reads only the status from taking it for a clean OK. */
    if (rep.verdict == MG_AUDIT_UNANCHORED && !strict)
        fprintf(stderr, "%s: warning: %s: the tail is not signed yet; --strict makes this exit 3\n", cmd.name,
                log);
    if (rep.verdict == MG_AUDIT_FAIL || (strict && rep.verdict == MG_AUDIT_UNANCHORED))
        return CLI_INTEGRITY;
    return CLI_OK;
}

/* ---- query, export, checkpoint ------------------------------------------------ */

typedef struct table {
    bool header;
} table;

/* One entry per line: seq, event time, kind, product, port, subject
 * pseudonym, action, effect, rules. Fields come from the JSON row. */
static int print_table_row(void *ud, const char *json, size_t len)
{
    table *t = ud;
    if (!t->header) {
        printf("%-6s %-20s %-12s %-22s %-12s %-34s %-8s %-8s %s\n", "seq", "event time", "kind", "product", "port",
               "subject", "action", "effect", "rules");
        t->header = true;
    }
    /* The rows are small, flat JSON objects written by the library; a
     * field is found by its key. */
    static const char *const keys[] = { "\"seq\":", "\"event_time_us\":", "\"kind\":", "\"product\":", "\"port\":",
                                         "\"subject\":", "\"action\":", "\"effect\":", "\"rules\":" };
    static const int widths[] = { 6, 20, 12, 22, 12, 34, 8, 8, 0 };
    char row[8192];
    snprintf(row, sizeof row, "%.*s", (int)len, json);
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        char val[512] = "-";
        const char *at = strstr(row, keys[i]);
        if (at) {
            at += strlen(keys[i]);
            while (*at == ' ')
                at++;
            if (*at == '"') {
                const char *end = strchr(at + 1, '"');
                snprintf(val, sizeof val, "%.*s", end ? (int)(end - at - 1) : 0, at + 1);
            } else {
                snprintf(val, sizeof val, "%.*s", (int)strcspn(at, ",}"), at);
            }
        }
        if (i == 1 && strcmp(val, "-") != 0) {
            time_t secs = (time_t)(strtoll(val, NULL, 10) / 1000000);
            struct tm tm;
            gmtime_r(&secs, &tm);
            strftime(val, sizeof val, "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        if (!val[0])
            snprintf(val, sizeof val, "-");
        printf(widths[i] ? "%-*s " : "%*s\n", widths[i], val);
    }
    return 0;
}

static int audit_query(int argc, char **argv)
{
    const char *log = NULL, *keystore = NULL, *from = NULL, *to = NULL, *limit = NULL, *format = "table";
    mg_audit_filter f = { 0 };
    cli_flag flags[] = { { "--log", CLI_VALUE, &log }, { "--keystore", CLI_VALUE, &keystore },
                         { "--kind", CLI_VALUE, &f.kind }, { "--product", CLI_VALUE, &f.product },
                         { "--port", CLI_VALUE, &f.port }, { "--subject", CLI_VALUE, &f.subject },
                         { "--action", CLI_VALUE, &f.action }, { "--effect", CLI_VALUE, &f.effect },
                         { "--from", CLI_VALUE, &from }, { "--to", CLI_VALUE, &to },
                         { "--limit", CLI_VALUE, &limit }, { "--format", CLI_VALUE, &format },
                         { NULL, 0, NULL } };
    int rc = cli_parse(&cmd, argc, argv, flags, NULL);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    const char *why;
    if (from && !(f.has_from = cli_parse_time(from, &f.from_us, &why)))
        return cli_usage_error(&cmd, "--from: %s", why);
    if (to && !(f.has_to = cli_parse_time(to, &f.to_us, &why)))
        return cli_usage_error(&cmd, "--to: %s", why);
    if (f.has_from && f.has_to && f.to_us < f.from_us)
        return cli_usage_error(&cmd, "--to (%s) is before --from (%s): the range is empty", to,
                               from);
    if (limit && !parse_u64(limit, &f.limit))
        return cli_usage_error(&cmd, "--limit: expected a count, found `%s`", limit);
    if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
        return cli_usage_error(&cmd, "--format: expected table or json, found `%s`", format);
    if (f.subject && !keystore)
        return cli_usage_error(&cmd, "--subject needs --keystore (subjects are stored as pseudonyms)");
    mg_audit_log *l;
    if ((rc = open_read_only(log, keystore, &l)) != CLI_OK)
        return rc;
    table t = { false };
    mg_error err = { 0 };
    mg_status s = strcmp(format, "json") == 0 ? mg_audit_query(l, &f, print_row, NULL, &err)
                                              : mg_audit_query(l, &f, print_table_row, &t, &err);
    rc = s ? fail(s, &err) : CLI_OK;
    mg_error_clear(&err);
    mg_audit_close(l);
    return rc;
}

static int audit_export(int argc, char **argv)
{
    const char *log = NULL;
    cli_flag flags[] = { { "--log", CLI_VALUE, &log }, { NULL, 0, NULL } };
    int rc = cli_parse(&cmd, argc, argv, flags, NULL);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    mg_audit_log *l;
    if ((rc = open_read_only(log, NULL, &l)) != CLI_OK)
        return rc;
    mg_error err = { 0 };
    mg_status s = mg_audit_export(l, print_row, NULL, &err);
    rc = s ? fail(s, &err) : CLI_OK;
    mg_error_clear(&err);
    mg_audit_close(l);
    return rc;
}

static int audit_checkpoint(int argc, char **argv)
{
    const char *log = NULL;
    cli_flag flags[] = { { "--log", CLI_VALUE, &log }, { NULL, 0, NULL } };
    int rc = cli_parse(&cmd, argc, argv, flags, NULL);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    mg_audit_log *l;
    if ((rc = open_read_only(log, NULL, &l)) != CLI_OK)
        return rc;
    char *note = NULL;
    mg_error err = { 0 };
    mg_status s = mg_audit_latest_checkpoint(l, &note, &err);
    if (s == MG_OK)
        fputs(note, stdout);
    rc = s ? fail(s, &err) : CLI_OK;
    mg_free(note);
    mg_error_clear(&err);
    mg_audit_close(l);
    return rc;
}

/* ---- proofs ------------------------------------------------------------------- */

/* A JSON proof gets a newline; a tlog-proof ends with its checkpoint's. */
static int print_proof(mg_audit_log *l, mg_status s, char *text, mg_error *err)
{
    int rc = CLI_OK;
    if (s == MG_OK && text) {
        fputs(text, stdout);
        if (text[0] == '{')
            putchar('\n');
    } else {
        rc = fail(s, err);
    }
    mg_free(text);
    mg_error_clear(err);
    mg_audit_close(l);
    return rc;
}

static int audit_prove(int argc, char **argv)
{
    const char *log = NULL, *seq = NULL, *size = NULL, *format = "json";
    cli_flag flags[] = { { "--log", CLI_VALUE, &log }, { "--seq", CLI_VALUE, &seq }, { "--size", CLI_VALUE, &size },
                         { "--format", CLI_VALUE, &format }, { NULL, 0, NULL } };
    int rc = cli_parse(&cmd, argc, argv, flags, NULL);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    bool tlog = strcmp(format, "tlog-proof") == 0;
    if (!tlog && strcmp(format, "json") != 0)
        return cli_usage_error(&cmd, "--format: expected json or tlog-proof, found `%s`", format);
    uint64_t n, m = 0;
    if (!parse_u64(seq, &n))
        return cli_usage_error(&cmd, "--seq: expected an entry number");
    if (size && (!parse_u64(size, &m) || m == 0))
        return cli_usage_error(&cmd, "--size: expected a tree size of 1 or more, found `%s`", size);
    mg_audit_log *l;
    if ((rc = open_read_only(log, NULL, &l)) != CLI_OK)
        return rc;
    char *json = NULL;
    mg_error err = { 0 };
    mg_status s = (tlog ? mg_audit_prove_tlog : mg_audit_prove)(l, n, m, &json, &err);
    return print_proof(l, s, json, &err);
}

static int audit_consistency(int argc, char **argv)
{
    const char *log = NULL, *from = NULL, *to = NULL;
    cli_flag flags[] = { { "--log", CLI_VALUE, &log }, { "--from", CLI_VALUE, &from }, { "--to", CLI_VALUE, &to },
                         { NULL, 0, NULL } };
    int rc = cli_parse(&cmd, argc, argv, flags, NULL);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    uint64_t a, b = 0;
    if (!parse_u64(from, &a))
        return cli_usage_error(&cmd, "--from: expected a tree size");
    if (to && !parse_u64(to, &b))
        return cli_usage_error(&cmd, "--to: expected a tree size, found `%s`", to);
    mg_audit_log *l;
    if ((rc = open_read_only(log, NULL, &l)) != CLI_OK)
        return rc;
    char *json = NULL;
    mg_error err = { 0 };
    mg_status s = mg_audit_consistency(l, a, b, &json, &err);
    return print_proof(l, s, json, &err);
}

static int audit_check_proof(int argc, char **argv)
{
    const char *key = NULL;
    cli_list pos = { 0 };
    cli_flag flags[] = { { "--key", CLI_VALUE, &key }, { NULL, 0, NULL } };
    int rc = cli_parse(&cmd, argc, argv, flags, &pos);
    if (rc) {
        cli_list_free(&pos);
        return rc < 0 ? CLI_OK : rc;
    }
    if (!key || pos.n != 1) {
        cli_list_free(&pos);
        return cli_usage_error(&cmd, "check-proof needs --key and one proof file");
    }
    char *json;
    size_t len;
    const char *path = pos.v[0];    /* an argv string: it outlives the list */
    cli_list_free(&pos);
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > MG_AUDIT_MAX_PROOF)
        return cli_error(cmd.name, "%s: larger than %d bytes: not a proof", path,
                         MG_AUDIT_MAX_PROOF);
    if (cli_read_file(path, &json, &len) != 0)
        return cli_error(cmd.name, "%s: cannot read the proof", path);
    mg_error err = { 0 };
    mg_status s = mg_audit_check_proof(json, len, key, &err);
    free(json);
    if (s == MG_OK) {
        printf("OK: the proof holds\n");
        return CLI_OK;
    }
    if (s == MG_EINTEGRITY || s == MG_ECRYPTO) {
        printf("FAIL: %s\n", err.message ? err.message : "the proof does not hold");
        rc = CLI_INTEGRITY;
    } else {
        cli_print_error(stderr, cmd.name, &err, path, 0);
        rc = CLI_USAGE;
    }
    mg_error_clear(&err);
    return rc;
}

/* ---- rotate --------------------------------------------------------------------- */

/* The key_rotation entry at seq, whose payload names both verifier keys. */
typedef struct rotation {
    uint64_t seq;
    char *old_key, *new_key;
} rotation;

static char *payload_key(json_t *payload, const char *name)
{
    const char *v = json_string_value(json_object_get(payload, name));
    return v ? strdup(v) : NULL;
}

static int take_rotation(void *ud, const char *json, size_t len)
{
    rotation *r = ud;
    json_t *row = json_loadb(json, len, 0, NULL);
    json_t *seq = json_object_get(row, "seq");
    bool found = json_is_integer(seq) && (uint64_t)json_integer_value(seq) == r->seq;
    if (found) {
        const char *text = json_string_value(json_object_get(row, "payload"));
        json_t *payload = text ? json_loads(text, 0, NULL) : NULL;
        r->old_key = payload_key(payload, "old_key");
        r->new_key = payload_key(payload, "new_key");
        json_decref(payload);
    }
    json_decref(row);
    return found;
}

/* Rotation has no verdict: every failure is bad input or an unwritable
 * log, so it exits 2 (even for a private key others may read, which the
 * library reports as a crypto error). */
static int rotate_fail(mg_error *err)
{
    cli_print_error(stderr, cmd.name, err, NULL, 0);
    mg_error_clear(err);
    return CLI_USAGE;
}

/* Opening a log for writing creates one, and would turn another SQLite
 * database into one given an origin: the log must read as one first. */
static int check_is_log(const char *log)
{
    if (access(log, R_OK | W_OK) != 0)
        return cli_error(cmd.name, "%s: cannot %s the audit log", log, access(log, R_OK) ? "read" : "write");
    mg_audit_config cfg = { .path = log };
    mg_audit_log *l;
    mg_error err = { 0 };
    mg_status s = mg_audit_open(&cfg, &l, &err);
    if (s == MG_EDB) {
        int rc = cli_error(cmd.name, "%s: not a meshgov audit log: %s", log, err.message);
        mg_error_clear(&err);
        return rc;
    }
    if (s)
        return rotate_fail(&err);
    mg_audit_close(l);
    return CLI_OK;
}

/* Rotates, then reads back the rotation entry: its checkpoint is the tree
 * of size seq + 1, since nothing else is recorded through this handle. */
static int rotate(const mg_audit_config *cfg, const char *new_key, rotation *r)
{
    mg_audit_log *l;
    mg_error err = { 0 };
    mg_status s = mg_audit_open(cfg, &l, &err);
    if (s)
        return rotate_fail(&err);
    if ((s = mg_audit_rotate_key(l, new_key, &err)) != MG_OK) {
        mg_audit_close(l);
        return rotate_fail(&err);
    }
    r->seq = mg_audit_size(l) - 1;
    mg_audit_filter f = { .kind = "key_rotation" };
    s = mg_audit_query(l, &f, take_rotation, r, &err);
    mg_audit_close(l);
    if (s == MG_OK && r->old_key && r->new_key)
        return CLI_OK;
    /* The rotation is durable: say so, and where the keys can be read. */
    if (s)
        cli_print_error(stderr, cmd.name, &err, NULL, 0);
    mg_error_clear(&err);
    return cli_error(cmd.name, "%s: rotated at size %llu, but the keys could not be read back: see `meshgov audit "
                     "query --log %s --kind key_rotation --format json`", cfg->path,
                     (unsigned long long)r->seq + 1, cfg->path);
}

static int audit_rotate(int argc, char **argv)
{
    const char *log = NULL, *key = NULL, *new_key = NULL, *keystore = NULL, *origin = NULL;
    cli_flag flags[] = { { "--log", CLI_VALUE, &log }, { "--key", CLI_VALUE, &key },
                         { "--new-key", CLI_VALUE, &new_key }, { "--keystore", CLI_VALUE, &keystore },
                         { "--origin", CLI_VALUE, &origin }, { NULL, 0, NULL } };
    int rc = cli_parse(&cmd, argc, argv, flags, NULL);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if (!log || !key || !new_key)
        return cli_usage_error(&cmd, "rotate needs --log, --key and --new-key");
    /* A key store given by mistake must not be created empty. */
    if (keystore && access(keystore, R_OK | W_OK) != 0)
        return cli_error(cmd.name, "%s: cannot %s the key store", keystore,
                         access(keystore, R_OK) ? "read" : "write");
    if ((rc = check_is_log(log)) != CLI_OK)
        return rc;
    mg_audit_config cfg = { .path = log, .keystore = keystore, .origin = origin, .signing_key = key };
    rotation r = { 0 };
    if ((rc = rotate(&cfg, new_key, &r)) == CLI_OK) {
        unsigned long long size = (unsigned long long)r.seq + 1;
        printf("rotated at size %llu: checkpoint %llu is signed by both keys\n", size, size);
        printf("pin in the verifier keys file:\n%s until %llu\n%s\n", r.old_key, size, r.new_key);
    }
    free(r.old_key);
    free(r.new_key);
    return rc;
}

/* ---- dispatch ----------------------------------------------------------------- */

int cmd_audit(int argc, char **argv)
{
    static const struct { const char *name; cli_main_fn run; } subs[] = {
        { "keygen", audit_keygen }, { "verify", audit_verify }, { "query", audit_query },
        { "prove", audit_prove }, { "consistency", audit_consistency }, { "check-proof", audit_check_proof },
        { "checkpoint", audit_checkpoint }, { "export", audit_export }, { "rotate", audit_rotate },
    };
    if (argc < 2)
        return cli_usage_error(&cmd, "missing subcommand");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(cmd_audit_usage, stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(argc - 1, argv + 1);
    return cli_usage_error(&cmd, "unknown subcommand `%s`", argv[1]);
}
