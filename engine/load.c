/*
 * load.c — from sources to a policy set: parse and check every policy file,
 * read the manifests, compile, and wrap the program in a policy set. Also
 * mg_engine_load, which finds a product's policies in a mesh directory.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "engine/compile.h"
#include "engine/engine.h"
#include "engine/meshcache.h"

/* ==========================================================================
 * Diagnostics to mg_error
 * ========================================================================== */

/* Moves the first error of diags into err (message and place) and the
 * whole rendered list into err->detail. */
static mg_status diags_to_error(const diag_list *d, mg_status code, mg_error *err)
{
    if (!err)
        return code;
    const diag *first = NULL;
    for (uint32_t i = 0; i < d->n && !first; i++)
        if (d->items[i].severity == DIAG_ERROR)
            first = &d->items[i];
    if (!first)
        return mg_error_set(err, code, NULL, 0, 0, "%s", mg_status_str(code));
    mg_error_set(err, code, first->file, (int)first->span.line, (int)first->span.col, "%s", first->message);
    mg_error_set_detail(err, diag_render(d, false, sl_default_alloc, NULL));
    return code;
}

/* ==========================================================================
 * Compiling a list of sources
 * ========================================================================== */

typedef struct build {
    mg_engine *e;
    arena *a;
    diag_list diags;
    comp_policy *pols;
    size_t npols, cap;
} build;

static const mf_adopt *adopt_of(const mf_product *pr, const ast_policy *ap)
{
    for (size_t i = 0; pr && i < pr->nadopts; i++)
        if (strlen(pr->adopts[i].policy) == ap->name.len &&
            memcmp(pr->adopts[i].policy, ap->name.ptr, ap->name.len) == 0)
            return &pr->adopts[i];
    return NULL;
}

static bool add_policy(build *b, const ast_file *f, const ast_policy *ap, const mf_product *pr)
{
    if (b->npols == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 16;
        comp_policy *n = arena_alloc(b->a, ncap * sizeof *n);
        if (!n)
            return false;
        if (b->npols)
            memcpy(n, b->pols, b->npols * sizeof *n);
        b->pols = n;
        b->cap = ncap;
    }
    const mf_adopt *ad = adopt_of(pr, ap);
    if (ad && ad->version != ap->version)
        diag_add(&b->diags, DIAG_ERROR, f->name, f->src, f->src_len, ap->span, NULL,
                 "product adopts `%s` at version %lld, but this source is version %lld",
                 ad->policy, (long long)ad->version, (long long)ap->version);
    b->pols[b->npols++] = (comp_policy){ ap, f, ad ? ad->mode : -1 };
    return true;
}

static void schema_env(const mf_mesh *m, check_env *env, arena *a)
{
    memset(env, 0, sizeof *env);
    if (!m)
        return;
    env->has_schema = m->has_schema;
    check_attr *attrs = arena_alloc(a, (m->nschema + 1) * sizeof *attrs);
    for (size_t i = 0; attrs && i < m->nschema; i++)
        attrs[i] = (check_attr){ m->schema[i].path, m->schema[i].type };
    env->attrs = attrs;
    env->nattrs = attrs ? m->nschema : 0;
    env->actions = (const char *const *)m->actions.v;
    env->nactions = m->actions.n;
}

/* Hands the set to the engine, which records its load when auditing. */
static mg_status adopt(mg_engine *e, const mg_source *srcs, size_t n, mg_policy_set *set, mg_error *err)
{
    json_t *names = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(names, json_string(srcs[i].name ? srcs[i].name : ""));
    char *text = json_dumps(names, JSON_COMPACT);
    json_decref(names);
    if (!text)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    mg_status s = mg__engine_adopt_set(e, set, text, err);
    free(text);
    return s;
}

static mg_status compile_all(mg_engine *e, const mg_source *srcs, size_t n,
                             const mf_product *pr, const mf_mesh *m,
                             mg_policy_set **out, mg_error *err)
{
    void *ud;
    sl_alloc_fn alloc = mg__engine_alloc(e, &ud);
    build b = { .e = e, .a = arena_new(alloc, ud) };
    if (!b.a)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    diag_init(&b.diags, b.a);
    check_env env;
    schema_env(m, &env, b.a);
    mg_status s = MG_OK;
    for (size_t i = 0; i < n; i++) {
        ast_file *f = parse_file(b.a, srcs[i].name, srcs[i].text, srcs[i].len, &b.diags);
        if (!f)
            break;
        if (b.diags.errors == 0 && check_file(b.a, f, &env, &b.diags))
            for (uint32_t k = 0; k < f->npolicies; k++)
                if (!add_policy(&b, f, &f->policies[k], pr))
                    break;
    }
    vm_program *prog = NULL;
    if (arena_failed(b.a))
        s = MG_ENOMEM;
    else if (b.diags.errors)
        s = MG_ESYNTAX;
    else {
        comp_input in = { b.pols, b.npols, pr, m, mg__engine_budget(e) };
        s = comp_program(&in, alloc, ud, &b.diags, &prog);
    }
    if (s == MG_OK)
        s = mg__policy_set_new(prog, alloc, ud, mg__engine_mask_key(e), out);
    if (s == MG_OK && (s = adopt(e, srcs, n, *out, err)) != MG_OK) {
        mg_policy_set_release(*out);
        *out = NULL;
        arena_free(b.a);
        return s;
    }
    if (s == MG_ENOMEM)
        mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    else if (s != MG_OK)
        diags_to_error(&b.diags, s, err);
    arena_free(b.a);
    return s;
}

mg_status mg_compile(mg_engine *e, const mg_compile_input *in, mg_policy_set **out, mg_error *err)
{
    if (!out)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "out is NULL");
    *out = NULL;
    if (!e || !in || (in->n_policies && !in->policies))
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    mf_product *pr = NULL;
    mf_mesh *m = NULL;
    mg_status s = MG_OK;
    mf_mem mem;
    mem.alloc = mg__engine_alloc(e, &mem.ud);
    if (in->product)
        s = mf_product_parse_in(&mem, in->product->name, in->product->text, in->product->len, &pr, err);
    if (s == MG_OK && in->mesh)
        s = mf_mesh_parse_in(&mem, in->mesh->name, in->mesh->text, in->mesh->len, &m, err);
    if (s == MG_OK)
        s = compile_all(e, in->policies, in->n_policies, pr, m, out, err);
    mf_product_free(pr);
    mf_mesh_free(m);
    return s;
}

/* ==========================================================================
 * Loading a product from a mesh directory
 * ========================================================================== */

#define MAX_POLICY_FILE (16u << 20)

/* Reads a whole file into a buffer of *len + 1 bytes (NUL-terminated) from
 * the engine's allocator. */
static mg_status read_file(mg_engine *e, const char *path, char **text, size_t *len, mg_error *err)
{
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return mg_error_set(err, MG_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return mg_error_set(err, MG_EIO, path, 0, 0, "not a regular file");
    }
    if ((uint64_t)st.st_size > MAX_POLICY_FILE) {
        fclose(f);
        return mg_error_set(err, MG_ELIMIT, path, 0, 0, "file is %lld bytes; the limit is %u",
                            (long long)st.st_size, MAX_POLICY_FILE);
    }
    void *ud;
    sl_alloc_fn alloc = mg__engine_alloc(e, &ud);
    size_t size = (size_t)st.st_size + 1;
    char *buf = mg__alloc(alloc, ud, size);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return mg_error_set(err, MG_ENOMEM, path, 0, 0, "out of memory");
    if (bad) {
        mg__free(alloc, ud, buf, size);
        return mg_error_set(err, MG_EIO, path, 0, 0, "read error");
    }
    if (n + 1 != size) {       /* the file shrank while being read */
        char *fit = alloc(ud, buf, size, n + 1);
        if (!fit) {
            mg__free(alloc, ud, buf, size);
            return mg_error_set(err, MG_ENOMEM, path, 0, 0, "out of memory");
        }
        buf = fit;
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return MG_OK;
}

/* The source file of global policy `id` at `version`: `<id>@<version>.policy`
 * beside the catalogue's file when it exists, else the catalogue's file when
 * it is that version. */
static mg_status global_path(const mf_mesh *m, const mf_adopt *ad, char *buf, size_t cap, mg_error *err)
{
    const mf_global *g = mf_mesh_global(m, ad->policy);
    if (!g)
        return mg_error_set(err, MG_EMANIFEST, ad->loc.file, ad->loc.line, ad->loc.col,
                            "adopted policy `%s` is not in the mesh's catalogue", ad->policy);
    snprintf(buf, cap, "%s/%s@%lld.policy", m->global_dir, ad->policy, (long long)ad->version);
    struct stat st;
    if (stat(buf, &st) == 0)
        return MG_OK;
    if (g->version != ad->version)
        return mg_error_set(err, MG_EMANIFEST, ad->loc.file, ad->loc.line, ad->loc.col,
                            "version %lld of `%s` is not published (latest is %lld; expected %s)",
                            (long long)ad->version, ad->policy, (long long)g->version, buf);
    snprintf(buf, cap, "%s", g->file);
    return MG_OK;
}

/* The sources of a product's set: names and texts from the engine's
 * allocator, given back with their sizes (strlen + 1, len + 1). */
static void free_sources(mg_engine *e, mg_source *srcs, size_t n, size_t cap)
{
    void *ud;
    sl_alloc_fn alloc = mg__engine_alloc(e, &ud);
    for (size_t i = 0; i < n; i++) {
        mg__free(alloc, ud, (char *)srcs[i].name, strlen(srcs[i].name) + 1);
        mg__free(alloc, ud, (char *)srcs[i].text, srcs[i].len + 1);
    }
    mg__free(alloc, ud, srcs, (cap ? cap : 1) * sizeof *srcs);
}

static mg_status add_source(mg_engine *e, mg_source *srcs, size_t *n, const char *path, mg_error *err)
{
    char *text;
    size_t len = 0;
    mg_status s = read_file(e, path, &text, &len, err);
    if (s)
        return s;
    void *ud;
    sl_alloc_fn alloc = mg__engine_alloc(e, &ud);
    size_t size = strlen(path) + 1;
    char *name = mg__alloc(alloc, ud, size);
    if (!name) {
        mg__free(alloc, ud, text, len + 1);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    memcpy(name, path, size);
    srcs[(*n)++] = (mg_source){ name, text, len };
    return MG_OK;
}

mg_status mg__load_product(mg_engine *e, const mf_mesh *m, const mf_product *pr,
                           mg_policy_set **out, mg_error *err)
{
    size_t cap = pr->nadopts + pr->policies.n, n = 0;
    void *ud;
    sl_alloc_fn alloc = mg__engine_alloc(e, &ud);
    mg_source *srcs = mg__alloc(alloc, ud, (cap ? cap : 1) * sizeof *srcs);
    if (!srcs)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    mg_status s = MG_OK;
    char path[4096];
    for (size_t i = 0; s == MG_OK && i < pr->nadopts; i++)
        if ((s = global_path(m, &pr->adopts[i], path, sizeof path, err)) == MG_OK)
            s = add_source(e, srcs, &n, path, err);
    for (size_t i = 0; s == MG_OK && i < pr->policies.n; i++)
        s = add_source(e, srcs, &n, pr->policies.v[i], err);
    if (s == MG_OK)
        s = compile_all(e, srcs, n, pr, m, out, err);
    free_sources(e, srcs, n, cap);
    return s;
}

/* The mesh at mesh_dir (the engine's cached copy) and its product `uri`.
 * *snap is to be released with mg__mesh_release whatever the result. */
static mg_status find_product(mg_engine *e, const char *mesh_dir, const char *uri, mg__mesh **snap,
                              const mf_mesh **m, const mf_product **pr, mg_error *err)
{
    *snap = NULL;
    if (!e || !mesh_dir || !uri)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    mg_status s = mg__mesh_acquire(mg__engine_meshes(e), mesh_dir, snap, err);
    if (s)
        return s;
    *m = mg__mesh_get(*snap);
    *pr = mf_mesh_product(*m, uri);
    return *pr ? MG_OK : mg_error_set(err, MG_ENOTFOUND, NULL, 0, 0, "no product `%s` in mesh %s", uri, mesh_dir);
}

mg_status mg_audit_origin(mg_engine *e, const char *mesh_dir, const char *product_uri, char **origin,
                          mg_error *err)
{
    *origin = NULL;
    mg__mesh *snap;
    const mf_mesh *m;
    const mf_product *pr;
    mg_status s = find_product(e, mesh_dir, product_uri, &snap, &m, &pr, err);
    if (s == MG_OK) {
        const char *uri = strncmp(product_uri, "dp://", 5) == 0 ? product_uri + 5 : product_uri;
        size_t n = strlen(m->name) + 1 + strlen(uri) + 1;
        if (!(*origin = malloc(n)))
            s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
        else
            snprintf(*origin, n, "%s/%s", m->name, uri);
    }
    mg__mesh_release(snap);
    return s;
}

mg_status mg_engine_load(mg_engine *e, const char *mesh_dir, const char *product_uri, mg_error *err)
{
    mg__mesh *snap;
    const mf_mesh *m;
    const mf_product *pr;
    mg_policy_set *set = NULL;
    mg_status s = find_product(e, mesh_dir, product_uri, &snap, &m, &pr, err);
    if (s == MG_OK)
        s = mg__load_product(e, m, pr, &set, err);
    mg__mesh_release(snap);
    if (s == MG_OK) {
        mg_engine_swap(e, set);
        mg_policy_set_release(set);
    }
    return s;
}
