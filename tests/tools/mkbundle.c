/*
 * mkbundle.c — test tool: compiles policy files against a product manifest
 * and writes the bundle, for the suite that decides without the front end.
 *   mkbundle OUT.mgb PRODUCT.yaml FILE.policy...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "meshgov.h"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b) {
        b[n] = 0;
        *len = (size_t)n;
    }
    return b;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: mkbundle OUT.mgb PRODUCT.yaml FILE.policy...\n");
        return 2;
    }
    int n = argc - 3;
    mg_source *src = calloc((size_t)n, sizeof *src);
    mg_source product = { argv[2], NULL, 0 };
    if (!src || !(product.text = slurp(argv[2], &product.len))) {
        fprintf(stderr, "mkbundle: cannot read %s\n", argv[2]);
        return 2;
    }
    for (int i = 0; i < n; i++) {
        src[i].name = argv[3 + i];
        if (!(src[i].text = slurp(argv[3 + i], &src[i].len))) {
            fprintf(stderr, "mkbundle: cannot read %s\n", argv[3 + i]);
            return 2;
        }
    }
    mg_engine *e;
    mg_policy_set *set;
    mg_error err = { 0 };
    mg_compile_input in = { src, (size_t)n, &product, NULL };
    if (mg_engine_new(NULL, &e, &err) || mg_compile(e, &in, &set, &err)) {
        fprintf(stderr, "%s\n", err.detail ? err.detail : err.message ? err.message : "error");
        return 1;
    }
    char *buf;
    size_t len;
    FILE *f = fopen(argv[1], "wb");
    if (!f || mg_bundle_write(set, NULL, &buf, &len, &err) || fwrite(buf, 1, len, f) != len || fclose(f)) {
        fprintf(stderr, "mkbundle: cannot write %s\n", argv[1]);
        return 2;
    }
    mg_free(buf);
    mg_policy_set_release(set);
    mg_engine_free(e);
    for (int i = 0; i < n; i++)
        free((char *)src[i].text);
    free((char *)product.text);
    free(src);
    return 0;
}
