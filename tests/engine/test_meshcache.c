/*
 * test_meshcache.c — the engine reuses the mesh it loaded while none of
 * its files changed, and sees every change: a manifest edited, a product
 * added, a local policy file removed, mesh.yaml edited. Each case runs on
 * a copy of tests/engine/compliance/mesh in a temporary directory, with
 * the cache on and off (mg_config.no_mesh_cache): both must agree.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "meshgov.h"

#define NOW 1793491200000000LL   /* 2026-11-01T00:00:00Z */

typedef struct fixture {
    char dir[64];
    mg_engine *e;
} fixture;

static void setup(fixture *f, bool cache_off)
{
    strcpy(f->dir, "/tmp/meshgov-meshcache-XXXXXX");
    cr_assert_not_null(mkdtemp(f->dir));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "cp -r tests/engine/compliance/mesh/. %s/", f->dir);
    cr_assert_eq(system(cmd), 0);
    mg_config cfg = { .no_mesh_cache = cache_off };
    cr_assert_eq(mg_engine_new(&cfg, &f->e, NULL), MG_OK);
}

static void teardown(fixture *f)
{
    char cmd[256];
    mg_engine_free(f->e);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    cr_assert_eq(system(cmd), 0);
}

static void write_at(const fixture *f, const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, rel);
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp, "%s", path);
    fputs(text, fp);
    cr_assert_eq(fclose(fp), 0);
}

static mg_status load(const fixture *f, const char *uri, mg_error *err)
{
    mg_error_clear(err);
    return mg_engine_load(f->e, f->dir, uri, err);
}

static int count(void *ud, const mg_finding *fd)
{
    (void)fd;
    ++*(size_t *)ud;
    return 0;
}

static size_t findings(const fixture *f, const char *uri)
{
    size_t n = 0;
    cr_assert_eq(load(f, uri, &(mg_error){ 0 }), MG_OK);
    cr_assert_eq(mg_check_product(f->e, f->dir, uri, NOW, count, &n, NULL), MG_OK);
    return n;
}

ParameterizedTestParameters(meshcache, sees_every_change)
{
    static bool modes[] = { false, true };
    return cr_make_param_array(bool, modes, 2);
}

ParameterizedTest(bool *cache_off, meshcache, sees_every_change)
{
    fixture f;
    mg_error err = { 0 };
    setup(&f, *cache_off);

    /* Loaded twice without a change: the same result. */
    cr_assert_eq(load(&f, "dp://shop/good", &err), MG_OK);
    cr_assert_eq(load(&f, "dp://shop/good", &err), MG_OK);
    cr_assert_eq(findings(&f, "dp://shop/bad"), 8);

    /* Another product's manifest edited: the whole mesh is read again,
     * so its error stops this load too. */
    write_at(&f, "domains/shop/bad/product.yaml", "uri: dp://shop/bad\ndomain: shop\nowner: [x]\n");
    cr_assert_eq(load(&f, "dp://shop/good", &err), MG_EMANIFEST);
    cr_expect_str_eq(err.message, "expected a string for `owner`, found a sequence");
    write_at(&f, "domains/shop/bad/product.yaml", "uri: dp://shop/bad\ndomain: shop\nowner: bad@example.org\n");
    cr_assert_eq(load(&f, "dp://shop/good", &err), MG_OK);
    cr_expect_eq(findings(&f, "dp://shop/bad"), 3, "enc and req missing, ret missing in grace");

    /* A product added in a new directory. */
    cr_assert_eq(load(&f, "dp://shop/extra", &err), MG_ENOTFOUND);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/domains/shop/extra", f.dir);
    cr_assert_eq(mkdir(dir, 0755), 0);
    write_at(&f, "domains/shop/extra/product.yaml", "uri: dp://shop/extra\ndomain: shop\nowner: x@example.org\n");
    cr_assert_eq(load(&f, "dp://shop/extra", &err), MG_OK, "%s", err.message ? err.message : "");

    /* A local policy file of another product removed. */
    char file[256];
    snprintf(file, sizeof file, "%s/domains/shop/tagged/policies/logs.policy", f.dir);
    cr_assert_eq(unlink(file), 0);
    cr_assert_eq(load(&f, "dp://shop/good", &err), MG_EMANIFEST);
    cr_expect(strstr(err.message, "local policy file") != NULL, "%s", err.message);

    /* mesh.yaml edited. */
    write_at(&f, "domains/shop/tagged/policies/logs.policy", "policy logs { version 1 scope local }\n");
    cr_assert_eq(load(&f, "dp://shop/good", &err), MG_OK, "%s", err.message ? err.message : "");
    write_at(&f, "mesh.yaml", "mesh: test\npolicies: [ { id: enc, version: 1, lifecycle: required } ]\n");
    cr_assert_eq(load(&f, "dp://shop/good", &err), MG_EMANIFEST);
    cr_expect_str_eq(err.message, "adopts version 2 of `enc`, but the latest is 1");

    mg_error_clear(&err);
    teardown(&f);
}

/* One engine, two meshes in turn: each load reads the mesh it names. */
Test(meshcache, another_directory_is_another_mesh)
{
    mg_engine *e = NULL;
    cr_assert_eq(mg_engine_new(NULL, &e, NULL), MG_OK);
    cr_assert_eq(mg_engine_load(e, "tests/engine/compliance/mesh", "dp://shop/good", NULL), MG_OK);
    cr_assert_eq(mg_engine_load(e, "samples/mesh", "dp://shop/good", NULL), MG_ENOTFOUND);
    cr_assert_eq(mg_engine_load(e, "samples/mesh", "dp://sales/orders", NULL), MG_OK);
    cr_assert_eq(mg_engine_load(e, "tests/engine/compliance/mesh", "dp://sales/orders", NULL), MG_ENOTFOUND);
    mg_engine_free(e);
}
