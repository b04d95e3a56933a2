/*
 * common.c — helpers shared by the command-line programs: a table-driven
 * flag parser, reading files and stdin, compiler-style error messages with
 * colour on terminals only, exit codes and the clock.
 *
 * The flag parser is written out rather than built on getopt_long: every
 * message must name the flag in our own words, repeatable flags collect
 * lists, and subcommands parse their own argv without global state.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"
#include "stdlib/stdlib.h"

/* ==========================================================================
 * Flags
 * ========================================================================== */

bool cli_list_push(cli_list *l, const char *s)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        const char **v = realloc(l->v, ncap * sizeof *v);
        if (!v)
            return false;
        l->v = v;
        l->cap = ncap;
    }
    l->v[l->n++] = s;
    return true;
}

void cli_list_free(cli_list *l)
{
    if (!l)
        return;
    free(l->v);
    *l = (cli_list){ 0 };
}

int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n%s", cmd->usage);
    return CLI_USAGE;
}

/* The flag named by arg (up to a '=' if any), or NULL. */
static const cli_flag *find_flag(const cli_flag *flags, const char *arg, size_t n)
{
    for (const cli_flag *f = flags; f->name; f++)
        if (strlen(f->name) == n && memcmp(f->name, arg, n) == 0)
            return f;
    return NULL;
}

static bool store(const cli_flag *f, const char *value)
{
    switch (f->kind) {
    case CLI_SWITCH: *(bool *)f->dst = true; return true;
    case CLI_VALUE: *(const char **)f->dst = value; return true;
    case CLI_LIST: return cli_list_push(f->dst, value);
    }
    return false;
}

int cli_parse(const cli_cmd *cmd, int argc, char **argv, const cli_flag *flags, cli_list *pos)
{
    bool flags_done = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool is_flag = !flags_done && a[0] == '-' && a[1] != '\0';
        if (is_flag && strcmp(a, "--") == 0) {
            flags_done = true;
            continue;
        }
        if (!is_flag) {
            if (!pos)
                return cli_usage_error(cmd, "unexpected argument `%s`", a);
            if (!cli_list_push(pos, a))
                return cli_usage_error(cmd, "out of memory");
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(cmd->usage, stdout);
            return -1;
        }
        const char *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a) : strlen(a);
        const cli_flag *f = find_flag(flags, a, n);
        if (!f)
            return cli_usage_error(cmd, "unknown flag `%.*s`", (int)n, a);
        const char *value = NULL;
        if (f->kind == CLI_SWITCH) {
            if (eq)
                return cli_usage_error(cmd, "%s takes no value", f->name);
        } else if (eq) {
            value = eq + 1;
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            return cli_usage_error(cmd, "%s needs a value", f->name);
        }
        if (f->kind != CLI_SWITCH && value[0] == '\0')
            return cli_usage_error(cmd, "%s needs a non-empty value", f->name);
        if (!store(f, value))
            return cli_usage_error(cmd, "out of memory");
    }
    return CLI_OK;
}

/* ==========================================================================
 * Messages
 * ========================================================================== */

#define RED_BOLD "\033[1;31m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

bool cli_color(FILE *f)
{
    const char *no = getenv("NO_COLOR");
    return isatty(fileno(f)) && !(no && no[0]);
}

/* "error:" in bold red on a terminal. */
static void error_word(FILE *out)
{
    fputs(cli_color(out) ? RED_BOLD "error:" RESET : "error:", out);
}

int cli_error(const char *prog, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    error_word(stderr);
    fputc(' ', stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_USAGE;
}

void cli_print_error(FILE *out, const char *prog, const mg_error *err, const char *file, int line)
{
    if (err->detail && err->detail[0]) {
        /* Already compiler-style, one block per diagnostic. */
        size_t n = strlen(err->detail);
        fputs(err->detail, out);
        if (err->detail[n - 1] != '\n')
            fputc('\n', out);
        return;
    }
    /* An error in another file than the caller's (the audit log while a
     * request line was decided) keeps its own position, not the line's. */
    bool elsewhere = err->file && !(file && strcmp(err->file, file) == 0);
    const char *where = err->file ? err->file : file;
    int l = elsewhere ? err->line : line > 0 ? line : err->line;
    bool color = cli_color(out);
    if (color)
        fputs(BOLD, out);
    if (where && l > 0 && err->column > 0)
        fprintf(out, "%s:%d:%d: ", where, l, err->column);
    else if (where && l > 0)
        fprintf(out, "%s:%d: ", where, l);
    else if (where)
        fprintf(out, "%s: ", where);
    else
        fprintf(out, "%s: ", prog);
    if (color)
        fputs(RESET, out);
    error_word(out);
    fprintf(out, " %s\n", err->message ? err->message : mg_status_str(err->code));
}

int cli_exit_for(mg_status s, bool compile_is_violation)
{
    switch (s) {
    case MG_OK:
        return CLI_OK;
    case MG_ESYNTAX:
    case MG_ETYPE:
    case MG_EMANIFEST:
        return compile_is_violation ? CLI_VIOLATIONS : CLI_USAGE;
    case MG_EINTEGRITY:
        return CLI_INTEGRITY;
    default:
        return CLI_USAGE;
    }
}

/* ==========================================================================
 * Inputs and the clock
 * ========================================================================== */

int cli_read_file(const char *path, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f)
        return errno;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int e = buf ? 0 : ENOMEM;
    while (!e) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                e = ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            /* A directory opens but does not read: report why. */
            if (ferror(f))
                e = errno ? errno : EIO;
            break;
        }
    }
    if (!is_stdin)
        fclose(f);
    if (e) {
        free(buf);
        return e;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

bool cli_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool cli_parse_time(const char *s, int64_t *us, const char **why)
{
    return sl_parse_timestamp(s, strlen(s), us, why);
}

int64_t cli_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int cli_print_json(FILE *out, const char *prog, json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (!s)
        return cli_error(prog, "out of memory");
    fprintf(out, "%s\n", s);
    free(s);
    return CLI_OK;
}

const char *cli_json_str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* "rule [column]" and "result (dry run)" of one step. */
static void trace_cells(json_t *t, char *rule, size_t rcap, char *result, size_t ccap)
{
    if (json_object_get(t, "column"))
        snprintf(rule, rcap, "%s [%s]", cli_json_str(t, "rule"), cli_json_str(t, "column"));
    else
        snprintf(rule, rcap, "%s", cli_json_str(t, "rule"));
    snprintf(result, ccap, "%s%s", cli_json_str(t, "result"),
             json_is_true(json_object_get(t, "dry_run")) ? " (dry run)" : "");
}

void cli_print_trace(FILE *out, json_t *decision, const char *indent)
{
    json_t *trace = json_object_get(decision, "trace"), *t;
    size_t i, wr = 0, wres = 0;
    char rule[512], result[128];
    json_array_foreach(trace, i, t) {
        trace_cells(t, rule, sizeof rule, result, sizeof result);
        wr = strlen(rule) > wr ? strlen(rule) : wr;
        wres = strlen(result) > wres ? strlen(result) : wres;
    }
    json_array_foreach(trace, i, t) {
        trace_cells(t, rule, sizeof rule, result, sizeof result);
        fprintf(out, "%s%-*s  %-*s  at %s\n", indent, (int)wr, rule, (int)wres, result, cli_json_str(t, "location"));
    }
    json_int_t more = json_integer_value(json_object_get(decision, "trace_not_shown"));
    if (more > 0)
        fprintf(out, "%s%lld more steps not shown\n", indent, (long long)more);
}
