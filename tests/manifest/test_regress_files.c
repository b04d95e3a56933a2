/*
 * test_regress_files.c — every input the manifest fuzzer found, kept in
 * tests/manifest/regress/, run through the same entry points as the fuzz
 * target (mf_product_parse, then mf_mesh_parse) with its exact outcomes.
 * Under ASan (make check) a leak fails the test. A file added to the
 * folder without an expectation here fails too, so none is skipped.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/manifest.h"

#define REGRESS_DIR "tests/manifest/regress"

typedef struct outcome {
    mg_status status;
    const char *message;   /* NULL when status is MG_OK */
    int line, column;
} outcome;

typedef struct expectation {
    const char *file;
    outcome product, mesh;
} expectation;

static const expectation expected[] = {
    /* A schema attribute whose name is not an identifier leaked the name. */
    { "schema-attribute-not-identifier.yaml",
      { MG_EMANIFEST, "unknown key `mesh` in product", 1, 1 },
      { MG_EMANIFEST,
        "invalid attribute name `1x`: use letters, digits and `_`, not starting with a digit",
        3, 26 } },
};

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_geq(n, 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void check(const char *file, const char *what, mg_status got, const mg_error *err,
                  const outcome *want)
{
    cr_assert_eq(got, want->status, "%s as %s: status %d, want %d (%s)", file, what, got,
                 want->status, err->message ? err->message : "");
    if (want->status == MG_OK)
        return;
    cr_assert_not_null(err->message, "%s as %s: no message", file, what);
    cr_assert_str_eq(err->message, want->message, "%s as %s: %s", file, what, err->message);
    cr_assert_eq(err->line, want->line, "%s as %s: line %d", file, what, err->line);
    cr_assert_eq(err->column, want->column, "%s as %s: column %d", file, what, err->column);
}

static void run_one(const char *file, const expectation *e)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", REGRESS_DIR, file);
    size_t len;
    char *text = slurp(path, &len);
    mg_error err = { 0 };
    mf_product *p = NULL;
    mg_status s = mf_product_parse("product.yaml", text, len, &p, &err);
    check(file, "product", s, &err, &e->product);
    mf_product_free(p);
    mg_error_clear(&err);
    mf_mesh *m = NULL;
    s = mf_mesh_parse("mesh.yaml", text, len, &m, &err);
    check(file, "mesh", s, &err, &e->mesh);
    mf_mesh_free(m);
    mg_error_clear(&err);
    free(text);
}

Test(regress_files, every_file_has_its_exact_outcome)
{
    DIR *d = opendir(REGRESS_DIR);
    cr_assert_not_null(d, "cannot open %s", REGRESS_DIR);
    size_t seen = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.')
            continue;
        const expectation *e = NULL;
        for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
            if (!strcmp(expected[i].file, de->d_name))
                e = &expected[i];
        cr_assert_not_null(e, "%s/%s has no expected outcome", REGRESS_DIR, de->d_name);
        run_one(de->d_name, e);
        seen++;
    }
    closedir(d);
    cr_assert_eq(seen, sizeof expected / sizeof expected[0], "a listed file is missing");
}
