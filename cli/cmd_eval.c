/*
 * cmd_eval.c — `meshgov eval`: decide access requests given as JSON against
 * one product's policy set and print the decisions, as the library's JSON
 * or as a compact text form for people. One request (--request FILE or -)
 * or many, one per line (--requests FILE.jsonl).
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"

const char cmd_eval_usage[] =
    "usage: meshgov eval --mesh DIR --product URI (--request FILE|- | --requests FILE.jsonl)\n"
    "                    [--format json|text] [--explain] [--now TIME]\n"
    "\n"
    "Decides access requests against the policy set of one product of a mesh.\n"
    "\n"
    "  --mesh DIR          the mesh directory (holding mesh.yaml)\n"
    "  --product URI       the product whose policies decide (dp://<domain>/<name>)\n"
    "  --request FILE      one request as a JSON object; - reads stdin\n"
    "  --requests FILE     JSON Lines: one request per line, one decision per line\n"
    "  --format json|text  output format (default json)\n"
    "  --explain           include the rule-by-rule trace\n"
    "  --now TIME          the clock, RFC 3339 (default: the real clock)\n"
    "\n"
    "  --audit-log DB      record every decision (and the policy load) in this\n"
    "                      audit log, signed with --audit-key SKEY_FILE;\n"
    "                      subjects go to the --keystore DB as pseudonyms;\n"
    "                      --audit-mode all|denies (default all); --origin\n"
    "                      sets the checkpoint origin (default\n"
    "                      <mesh name>/<domain>/<product>, the mesh's name\n"
    "                      from mesh.yaml)\n"
    "\n"
    "Exit status: 0 for any decision, allow or deny; 2 for bad usage or input\n"
    "(with --requests: when any line was bad; the other lines are decided).\n";

static const cli_cmd eval_cmd = { "meshgov eval", cmd_eval_usage };

typedef struct eval_opts {
    const char *mesh, *product, *request, *requests, *format, *now;
    const char *audit_log, *audit_key, *keystore, *audit_mode, *origin;
    bool explain, text;
    int64_t now_us;
} eval_opts;

/* Everything one run needs, released by eval_close. */
typedef struct evaluator {
    const eval_opts *o;
    mg_engine *engine;
    mg_audit_log *log;
    mg_policy_set *set;
    mg_decision *d;
    int printed;          /* decisions printed so far */
} evaluator;

/* ==========================================================================
 * Text output
 * ========================================================================== */

static void text_columns(json_t *cols, FILE *out)
{
    size_t i, w = 0;
    json_t *c;
    json_array_foreach(cols, i, c)
        if (strlen(cli_json_str(c, "column")) > w)
            w = strlen(cli_json_str(c, "column"));
    json_array_foreach(cols, i, c) {
        const char *mask = cli_json_str(c, "mask");
        const char *rule = json_string_value(json_object_get(c, "rule"));
        fprintf(out, "  %-*s  %-5s  %s%-6s  (%s)\n", (int)w, cli_json_str(c, "column"), cli_json_str(c, "effect"),
                mask[0] ? "mask " : "     ", mask, rule ? rule : "default deny");
    }
}

static void text_rule(const char *label, json_t *r, FILE *out)
{
    if (json_is_object(r))
        fprintf(out, "%s%s (%s) at %s\n", label, cli_json_str(r, "rule"), cli_json_str(r, "kind"), cli_json_str(r, "location"));
    else
        fprintf(out, "%snone\n", label);
}

static void text_errors(json_t *o, FILE *out)
{
    size_t i;
    json_t *e;
    json_t *errs = json_object_get(o, "errors");
    json_array_foreach(errs, i, e) {
        fprintf(out, "error: %s: %s at %s", cli_json_str(e, "rule"), cli_json_str(e, "error"), cli_json_str(e, "location"));
        if (json_object_get(e, "column"))
            fprintf(out, " (column %s)", cli_json_str(e, "column"));
        fputc('\n', out);
    }
    json_int_t more = json_integer_value(json_object_get(o, "errors_not_shown"));
    if (more > 0)
        fprintf(out, "error: %lld more not shown\n", (long long)more);
}

static void text_trace(json_t *o, FILE *out)
{
    if (!json_object_get(o, "trace"))
        return;
    fputs("trace:\n", out);
    cli_print_trace(out, o, "  ");
}

/* The decision o (as mg_decision_json writes it) for people. */
static void print_text(json_t *o, FILE *out)
{
    fprintf(out, "%s  %s  %s  %s\n", cli_json_str(o, "effect"), cli_json_str(o, "product"), cli_json_str(o, "port"), cli_json_str(o, "action"));
    text_columns(json_object_get(o, "columns"), out);
    text_rule("deciding: ", json_object_get(o, "deciding"), out);
    fprintf(out, "reason: %s\n", cli_json_str(o, "reason"));
    text_errors(o, out);
    json_t *dry = json_object_get(o, "dry_run");
    if (dry) {
        fprintf(out, "dry run: would be %s\n", cli_json_str(dry, "effect"));
        text_rule("  deciding: ", json_object_get(dry, "deciding"), out);
        text_columns(json_object_get(dry, "columns"), out);
    }
    text_trace(o, out);
    fprintf(out, "policy set: %s\n", cli_json_str(o, "policy_set"));
}

/* ==========================================================================
 * Deciding
 * ========================================================================== */

/* Removes the whitespace outside strings from JSON text, in place: the
 * indented output of mg_decision_json becomes one line, byte for byte what
 * jansson's JSON_COMPACT writes, without parsing it again. */
static void compact_json(char *s)
{
    char *w = s;
    bool in_string = false, escaped = false;
    for (; *s; s++) {
        if (in_string) {
            in_string = escaped || *s != '"';
            escaped = !escaped && *s == '\\';
        } else if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') {
            continue;
        } else {
            in_string = *s == '"';
        }
        *w++ = *s;
    }
    *w = '\0';
}

/* Prints the last decision in the chosen format; compact selects one line
 * of JSON (for JSON Lines). */
static int print_decision(evaluator *ev, bool compact)
{
    char *js = NULL;
    mg_error err = { 0 };
    mg_status s = mg_decision_json(ev->set, ev->d, ev->o->explain, &js, &err);
    if (s) {
        cli_print_error(stderr, "meshgov eval", &err, NULL, 0);
        mg_error_clear(&err);
        return CLI_USAGE;
    }
    if (!ev->o->text) {
        if (compact)
            compact_json(js);
        printf("%s\n", js);
        mg_free(js);
        return CLI_OK;
    }
    json_t *o = json_loads(js, 0, NULL);
    mg_free(js);
    if (!o)
        return cli_error("meshgov eval", "out of memory");
    if (ev->printed++ > 0)
        putchar('\n');   /* a blank line between decisions */
    print_text(o, stdout);
    json_decref(o);
    return CLI_OK;
}

/* Decides one request text; file and line say where it came from for
 * error messages (line 0: the whole file). */
static int decide_one(evaluator *ev, const char *text, size_t len, const char *file, int line, bool compact)
{
    mg_error err = { 0 };
    mg_status s = mg_decide_json(ev->set, text, len, ev->o->now_us, ev->d, &err);
    if (s) {
        cli_print_error(stderr, "meshgov eval", &err, file, line);
        mg_error_clear(&err);
        return cli_exit_for(s, false);
    }
    return print_decision(ev, compact);
}

static int eval_single(evaluator *ev)
{
    const char *path = ev->o->request;
    char *text;
    size_t len;
    int e = cli_read_file(path, &text, &len);
    if (e)
        return cli_error("meshgov eval", "--request: cannot read `%s`: %s", path, strerror(e));

    int rc = decide_one(ev, text, len, strcmp(path, "-") == 0 ? "<stdin>" : path, 0, false);
    free(text);
    return rc;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* One request per line; a bad line is reported and skipped. Blank lines
 * are skipped silently. */
static int eval_lines(evaluator *ev)
{
    const char *path = ev->o->requests;
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "r");
    if (!f)
        return cli_error("meshgov eval", "--requests: cannot read `%s`: %s", path, strerror(errno));

    const char *name = is_stdin ? "<stdin>" : path;
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, rc = CLI_OK;
    errno = 0;
    while ((n = getline(&buf, &cap, f)) >= 0) {
        lineno++;
        if (blank(buf, (size_t)n))
            continue;
        if (decide_one(ev, buf, (size_t)n, name, lineno, true) != CLI_OK) {
            rc = CLI_USAGE;
            /* Once the log cannot record, every later request would be
             * denied with the same error: stop, and say where. */
            if (ev->log && mg_audit_status(ev->log, NULL) != MG_OK) {
                cli_error("meshgov eval", "%s:%d: the audit log cannot record: the requests "
                          "from this line on were not decided", name, lineno);
                break;
            }
        }
    }
    if (ferror(f)) {
        cli_error("meshgov eval", "--requests: error reading `%s` after line %d: %s", path, lineno,
                  strerror(errno ? errno : EIO));
        rc = CLI_USAGE;
    }
    free(buf);
    if (!is_stdin)
        fclose(f);
    return rc;
}

/* ==========================================================================
 * Arguments and set-up
 * ========================================================================== */

static int check_opts(eval_opts *o)
{
    if (!o->mesh)
        return cli_usage_error(&eval_cmd, "missing --mesh");
    if (!o->product)
        return cli_usage_error(&eval_cmd, "missing --product");
    if (!cli_is_dir(o->mesh))
        return cli_error("meshgov eval", "--mesh: `%s` is not a directory", o->mesh);
    if (!o->request == !o->requests)
        return cli_usage_error(&eval_cmd, o->request ? "--request and --requests exclude each other"
                                                     : "missing --request or --requests");
    if (o->format && strcmp(o->format, "json") != 0 && strcmp(o->format, "text") != 0)
        return cli_usage_error(&eval_cmd, "--format: expected json or text, got `%s`", o->format);
    o->text = o->format && strcmp(o->format, "text") == 0;
    if (!o->audit_log != !o->audit_key)
        return cli_usage_error(&eval_cmd, "--audit-log and --audit-key go together");
    if (o->audit_mode && strcmp(o->audit_mode, "all") != 0 && strcmp(o->audit_mode, "denies") != 0)
        return cli_usage_error(&eval_cmd, "--audit-mode: expected all or denies, got `%s`", o->audit_mode);
    const char *why = NULL;
    if (!o->now)
        o->now_us = cli_now_us();
    else if (!cli_parse_time(o->now, &o->now_us, &why))
        return cli_usage_error(&eval_cmd, "--now: invalid time `%s`: %s", o->now, why);
    return CLI_OK;
}

static mg_status open_audit(evaluator *ev, mg_error *err)
{
    const eval_opts *o = ev->o;
    if (!o->audit_log)
        return MG_OK;
    char *origin = NULL;
    mg_status s = o->origin ? MG_OK : mg_audit_origin(ev->engine, o->mesh, o->product, &origin, err);
    mg_audit_config cfg = { .path = o->audit_log, .keystore = o->keystore,
                            .origin = o->origin ? o->origin : origin, .signing_key = o->audit_key };
    if (s == MG_OK)
        s = mg_audit_open(&cfg, &ev->log, err);
    mg_free(origin);
    if (s == MG_OK)
        s = mg_engine_set_audit(ev->engine, ev->log,
                                o->audit_mode && strcmp(o->audit_mode, "denies") == 0 ? MG_AUDIT_DENIES
                                                                                       : MG_AUDIT_ALL);
    return s;
}

static int eval_open(evaluator *ev)
{
    mg_error err = { 0 };
    mg_status s = mg_engine_new(NULL, &ev->engine, &err);
    if (s == MG_OK)
        s = open_audit(ev, &err);
    if (s == MG_OK)
        s = mg_engine_load(ev->engine, ev->o->mesh, ev->o->product, &err);
    if (s == MG_OK && !(ev->set = mg_engine_acquire(ev->engine)))
        s = MG_EINVAL;
    if (s == MG_OK)
        s = mg_decision_new(ev->set, &ev->d, &err);
    if (s) {
        cli_print_error(stderr, "meshgov eval", &err, NULL, 0);
        mg_error_clear(&err);
        return cli_exit_for(s, false);
    }
    mg_decision_set_explain(ev->d, ev->o->explain);
    return CLI_OK;
}

/* CLI_USAGE when the decisions printed could not all be recorded: an
 * unrecorded decision must not pass for a logged one. */
static int eval_close(evaluator *ev)
{
    int rc = CLI_OK;
    mg_decision_free(ev->d);
    mg_policy_set_release(ev->set);
    mg_engine_free(ev->engine);
    if (ev->log) {
        mg_error err = { 0 };
        if (mg_audit_flush(ev->log, &err) != MG_OK) {
            err.line = err.column = 0;
            cli_print_error(stderr, "meshgov eval", &err, ev->o->audit_log, 0);
            mg_error_clear(&err);
            uint64_t held = mg_audit_size(ev->log);
            if (held == 0)
                cli_error("meshgov eval", "the audit log holds no entry: no decision printed "
                          "was recorded");
            else
                cli_error("meshgov eval", "the audit log holds entries 0 to %llu: decisions "
                          "printed with a higher audit_seq were not recorded",
                          (unsigned long long)(held - 1));
            rc = CLI_USAGE;
        }
        mg_audit_close(ev->log);    /* signs a final checkpoint */
    }
    return rc;
}

int cmd_eval(int argc, char **argv)
{
    eval_opts o = { 0 };
    const cli_flag flags[] = {
        { "--mesh", CLI_VALUE, &o.mesh },
        { "--product", CLI_VALUE, &o.product },
        { "--request", CLI_VALUE, &o.request },
        { "--requests", CLI_VALUE, &o.requests },
        { "--format", CLI_VALUE, &o.format },
        { "--explain", CLI_SWITCH, &o.explain },
        { "--now", CLI_VALUE, &o.now },
        { "--audit-log", CLI_VALUE, &o.audit_log },
        { "--audit-key", CLI_VALUE, &o.audit_key },
        { "--keystore", CLI_VALUE, &o.keystore },
        { "--audit-mode", CLI_VALUE, &o.audit_mode },
        { "--origin", CLI_VALUE, &o.origin },
        { NULL, CLI_SWITCH, NULL },
    };
    int rc = cli_parse(&eval_cmd, argc, argv, flags, NULL);
    if (rc)
        return rc < 0 ? CLI_OK : rc;
    if ((rc = check_opts(&o)))
        return rc;
    evaluator ev = { .o = &o };
    rc = eval_open(&ev);
    if (rc == CLI_OK)
        rc = o.request ? eval_single(&ev) : eval_lines(&ev);
    int closed = eval_close(&ev);
    return rc != CLI_OK ? rc : closed;
}
