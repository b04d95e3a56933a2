/*
 * cmd_disasm.c — `meshgov disasm`: compile policy files (alone, or against
 * a product's manifest and the mesh's schema) or a product's whole policy
 * set, and print the bytecode the engine will run.
 */
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"

const char cmd_disasm_usage[] =
    "usage: meshgov disasm FILE.policy... [--mesh DIR --product URI]\n"
    "       meshgov disasm --mesh DIR --product URI\n"
    "\n"
    "Compiles policies and prints the disassembled bytecode of the policy set.\n"
    "With files only, they are compiled without a manifest. With files and\n"
    "--mesh/--product, against that product's manifest and the mesh's schema.\n"
    "With --mesh/--product only, the product's own policy set (the global\n"
    "policies it adopts and its local policies).\n"
    "\n"
    "  --mesh DIR      the mesh directory (holding mesh.yaml)\n"
    "  --product URI   a product of the mesh (dp://<domain>/<name>)\n"
    "\n"
    "Exit status: 0 when the policies compile; 2 for bad usage, unreadable\n"
    "input or policies that do not compile.\n";

static const cli_cmd disasm_cmd = { "meshgov disasm", cmd_disasm_usage };

/* Sources read from disk; names point into argv or into paths. */
typedef struct sources {
    mg_source *files;
    size_t n;
    mg_source product, mesh;
    char *product_path, *mesh_path;
    bool has_manifests;
} sources;

static void sources_free(sources *s)
{
    for (size_t i = 0; i < s->n; i++)
        free((char *)s->files[i].text);
    free(s->files);
    free((char *)s->product.text);
    free((char *)s->mesh.text);
    free(s->product_path);
    free(s->mesh_path);
}

static int read_source(const char *what, const char *path, mg_source *out)
{
    char *text;
    size_t len;
    int e = cli_read_file(path, &text, &len);
    if (e)
        return cli_error("meshgov disasm", "%scannot read `%s`: %s", what, path, strerror(e));

    *out = (mg_source){ path, text, len };
    return CLI_OK;
}

/* DIR/domains/<domain>/<name>/product.yaml for dp://<domain>/<name>: the
 * layout the manifest loader requires. NULL for a malformed URI. */
static char *manifest_path(const char *mesh, const char *uri)
{
    if (strncmp(uri, "dp://", 5) != 0)
        return NULL;
    const char *dom = uri + 5, *slash = strchr(dom, '/');
    if (!slash || slash == dom || !slash[1] || strchr(slash + 1, '/'))
        return NULL;
    size_t n = strlen(mesh) + strlen(uri) + 32;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/domains/%.*s/%s/product.yaml", mesh, (int)(slash - dom), dom, slash + 1);
    return p;
}

static int read_all(const cli_list *files, const char *mesh, const char *product, sources *s)
{
    if (!(s->files = calloc(files->n, sizeof *s->files)))
        return CLI_USAGE;
    for (size_t i = 0; i < files->n; i++, s->n++)
        if (read_source("", files->v[i], &s->files[i]))
            return CLI_USAGE;
    if (!mesh)
        return CLI_OK;
    s->has_manifests = true;
    if (!(s->product_path = manifest_path(mesh, product)))
        return cli_usage_error(&disasm_cmd, "--product: expected dp://<domain>/<name>, got `%s`", product);
    size_t n = strlen(mesh) + sizeof "/mesh.yaml";
    if (!(s->mesh_path = malloc(n)))
        return CLI_USAGE;
    snprintf(s->mesh_path, n, "%s/mesh.yaml", mesh);
    if (read_source("--product: ", s->product_path, &s->product) ||
        read_source("--mesh: ", s->mesh_path, &s->mesh))
        return CLI_USAGE;
    return CLI_OK;
}

/* The policy set to show: compiled from files, or the product's own. */
static mg_status build_set(mg_engine *e, const cli_list *files, const char *mesh, const char *product,
                           mg_policy_set **set, mg_error *err, int *rc)
{
    *set = NULL;
    if (files->n == 0) {
        mg_status s = mg_engine_load(e, mesh, product, err);
        if (s == MG_OK)
            *set = mg_engine_acquire(e);
        return s;
    }
    sources src = { 0 };
    mg_status s = MG_OK;
    if ((*rc = read_all(files, mesh, product, &src)) == CLI_OK) {
        mg_compile_input in = { src.files, src.n, src.has_manifests ? &src.product : NULL,
                                src.has_manifests ? &src.mesh : NULL };
        s = mg_compile(e, &in, set, err);
    }
    sources_free(&src);
    return s;
}

int cmd_disasm(int argc, char **argv)
{
    const char *mesh = NULL, *product = NULL;
    cli_list files = { 0 };
    const cli_flag flags[] = {
        { "--mesh", CLI_VALUE, &mesh },
        { "--product", CLI_VALUE, &product },
        { NULL, CLI_SWITCH, NULL },
    };
    int rc = cli_parse(&disasm_cmd, argc, argv, flags, &files);
    if (rc == CLI_OK && !mesh != !product)
        rc = cli_usage_error(&disasm_cmd, mesh ? "--mesh needs --product" : "--product needs --mesh");
    else if (rc == CLI_OK && mesh && !cli_is_dir(mesh))
        rc = cli_error("meshgov disasm", "--mesh: `%s` is not a directory", mesh);
    else if (rc == CLI_OK && files.n == 0 && !mesh)
        rc = cli_usage_error(&disasm_cmd, "no policy files (or --mesh and --product) given");
    mg_engine *e = NULL;
    mg_policy_set *set = NULL;
    mg_error err = { 0 };
    char *text = NULL;
    mg_status s = MG_OK;
    if (rc == CLI_OK && (s = mg_engine_new(NULL, &e, &err)) == MG_OK &&
        (s = build_set(e, &files, mesh, product, &set, &err, &rc)) == MG_OK && rc == CLI_OK &&
        (s = mg_policy_set_disasm(set, &text, &err)) == MG_OK)
        fputs(text, stdout);
    if (s) {
        cli_print_error(stderr, "meshgov disasm", &err, NULL, 0);
        rc = cli_exit_for(s, false);
    }
    mg_error_clear(&err);
    mg_free(text);
    mg_policy_set_release(set);
    mg_engine_free(e);
    cli_list_free(&files);
    return rc < 0 ? CLI_OK : rc;
}
