/*
 * cli.h — what the meshgov and policy-check programs share: flag parsing,
 * reading inputs (a file or stdin), printing library errors compiler-style,
 * the clock, and the exit codes every program uses.
 *
 * The programs are thin: they parse arguments, call the public API in
 * include/meshgov.h and print what it returns. Nothing here keeps state
 * between calls except what the caller passes in.
 */
#ifndef MG_CLI_H
#define MG_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>
#include "meshgov.h"

/* Exit codes, the same for every program and subcommand. */
enum {
    CLI_OK = 0,          /* success; for eval: any decision, allow or deny */
    CLI_VIOLATIONS = 1,  /* policy violations, failed tests, policies that do not compile */
    CLI_USAGE = 2,       /* bad command line, unreadable or malformed input */
    CLI_INTEGRITY = 3    /* an audit log fails verification */
};

/* ---- subcommands -------------------------------------------------------- */

/* A subcommand of meshgov: argv[0] is the subcommand's name. Returns the
 * exit code. */
typedef int (*cli_main_fn)(int argc, char **argv);

int cmd_eval(int argc, char **argv);
int cmd_disasm(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_adoption(int argc, char **argv);

/* One-paragraph usage texts, printed by --help and after usage errors. */
extern const char cmd_eval_usage[];
extern const char cmd_disasm_usage[];
extern const char cmd_audit_usage[];
extern const char cmd_adoption_usage[];

/* ---- flags --------------------------------------------------------------- */

typedef enum cli_flag_kind {
    CLI_SWITCH,   /* --explain: sets a bool */
    CLI_VALUE,    /* --mesh DIR or --mesh=DIR: sets a const char * (last wins) */
    CLI_LIST      /* --product URI, repeatable: appends to a cli_list */
} cli_flag_kind;

/* Strings gathered from a repeatable flag or from positional arguments.
 * The strings point into argv; the array is the list's own. */
typedef struct cli_list {
    const char **v;
    size_t n, cap;
} cli_list;

typedef struct cli_flag {
    const char *name;      /* with its dashes: "--mesh" */
    cli_flag_kind kind;
    void *dst;             /* bool *, const char ** or cli_list * */
} cli_flag;

/* Who is speaking, for messages: "meshgov eval", and its usage text. */
typedef struct cli_cmd {
    const char *name;
    const char *usage;
} cli_cmd;

/* Parses argv[1..argc) against flags (a table ending with a NULL name).
 * Arguments that are not flags go to pos ("-" is one; "--" ends the flags);
 * with pos NULL they are usage errors. `--help`/`-h` prints the usage on
 * stdout. Returns CLI_OK; CLI_USAGE after printing what was wrong (naming
 * the flag) and the usage on stderr; or -1 after --help, when the caller
 * returns CLI_OK. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv,
              const cli_flag *flags, cli_list *pos);
bool cli_list_push(cli_list *l, const char *s);
void cli_list_free(cli_list *l);

/* Prints "<cmd>: <message>" and the usage to stderr; returns CLI_USAGE. */
int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- messages ------------------------------------------------------------ */

/* True when f is a terminal and NO_COLOR is not set: only then are
 * messages coloured. */
bool cli_color(FILE *f);

/* Prints "<prog>: error: <message>" to stderr; returns CLI_USAGE, the code
 * for bad input. */
int cli_error(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints doc (taking its reference) to out, indented, keys in insertion
 * order, then a newline: CLI_OK, or an out-of-memory error of prog. */
int cli_print_json(FILE *out, const char *prog, json_t *doc);

/* The string member key of JSON object o, or "" when absent or not a
 * string. */
const char *cli_json_str(json_t *o, const char *key);

/* The rule trace of a decision (mg_decision_json with explain), one aligned
 * row per step ("rule [column]  result  at file:line:col"), each row after
 * indent, and how many steps were not kept. */
void cli_print_trace(FILE *out, json_t *decision, const char *indent);

/* Prints a library error to out as "file:line:col: error: message"
 * (the place as far as it is known; "<prog>: error: message" without one),
 * then err->detail when the library rendered one (every diagnostic with its
 * source line and caret; it then replaces the one-line form, which it
 * repeats). file names the input when the library did not (a request file);
 * line > 0 replaces the error's line (the line of a JSON Lines file, since
 * the library saw that line alone). */
void cli_print_error(FILE *out, const char *prog, const mg_error *err,
                     const char *file, int line);

/* The exit code for a library failure: inputs that are wrong (syntax,
 * types, manifests) are violations for policy-check but bad input for
 * eval, so the caller says which it is. */
int cli_exit_for(mg_status s, bool compile_is_violation);

/* ---- inputs --------------------------------------------------------------- */

/* Reads a whole file ("-": stdin) into a new NUL-terminated buffer the
 * caller frees. Returns 0 or an errno value. */
int cli_read_file(const char *path, char **text, size_t *len);

/* Whether path names a directory (following symbolic links). */
bool cli_is_dir(const char *path);

/* RFC 3339 time to microseconds since the epoch. On failure returns false
 * and sets *why to a static message. */
bool cli_parse_time(const char *s, int64_t *us, const char **why);

/* The real clock, microseconds since the epoch (UTC). */
int64_t cli_now_us(void);

#endif /* MG_CLI_H */
