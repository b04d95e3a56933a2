/*
 * meshgov.c — the `meshgov` program: finds the subcommand in the table
 * below and hands it the rest of the command line. Each subcommand lives
 * in its own cli/cmd_<name>.c and parses its own flags.
 */
#include <string.h>
#include "cli/cli.h"

typedef struct subcommand {
    const char *name;
    cli_main_fn run;
    const char *usage;    /* full help, printed by `meshgov help NAME` */
    const char *summary;  /* one line for `meshgov --help` */
} subcommand;

/* Every subcommand, in the order `meshgov --help` lists them. Adding one is
 * one line here, plus its declarations in cli/cli.h. */
static const subcommand subcommands[] = {
    { "eval", cmd_eval, cmd_eval_usage, "decide access requests given as JSON" },
    { "disasm", cmd_disasm, cmd_disasm_usage, "print the bytecode of compiled policies" },
    { "audit", cmd_audit, cmd_audit_usage, "verify, query and prove the audit log" },
    { "adoption", cmd_adoption, cmd_adoption_usage, "report which product adopts which global policy" },
};

#define N_SUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

static void usage(FILE *out)
{
    fputs("usage: meshgov SUBCOMMAND [FLAGS...]\n"
          "       meshgov help SUBCOMMAND | --help | --version\n"
          "\n"
          "meshgov is a policy-as-code governance engine for data mesh.\n"
          "\n"
          "Subcommands:\n", out);
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        fprintf(out, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    fputs("\n"
          "Exit status: 0 ok; 1 policy violations; 2 bad usage or input;\n"
          "3 integrity failure. `meshgov help SUBCOMMAND` describes one.\n", out);
}

static const subcommand *find(const char *name)
{
    for (size_t i = 0; i < N_SUBCOMMANDS; i++)
        if (strcmp(subcommands[i].name, name) == 0)
            return &subcommands[i];
    return NULL;
}

static int usage_error(const char *fmt, const char *arg)
{
    fputs("meshgov: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n\n", stderr);
    usage(stderr);
    return CLI_USAGE;
}

/* meshgov help [SUBCOMMAND] */
static int help(int argc, char **argv)
{
    if (argc < 2) {
        usage(stdout);
        return CLI_OK;
    }
    if (argc > 2)
        return usage_error("help: unexpected argument `%s`", argv[2]);
    const subcommand *c = find(argv[1]);
    if (!c)
        return usage_error("help: unknown subcommand `%s`", argv[1]);
    fputs(c->usage, stdout);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("missing subcommand%s", "");
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("meshgov %s\n", MG_VERSION);
        return CLI_OK;
    }
    if (strcmp(name, "help") == 0)
        return help(argc - 1, argv + 1);
    if (name[0] == '-')
        return usage_error("unknown flag `%s`", name);
    const subcommand *c = find(name);
    if (!c)
        return usage_error("unknown subcommand `%s`", name);
    return c->run(argc - 1, argv + 1);
}
