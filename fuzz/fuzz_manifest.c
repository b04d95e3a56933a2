/*
 * fuzz_manifest.c — libFuzzer target over the manifest loader: the input is
 * parsed both as a product.yaml and as a mesh.yaml.
 */
#include <stdint.h>
#include "engine/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mg_error err = { 0 };
    mf_product *p = NULL;
    if (mf_product_parse("product.yaml", (const char *)data, size, &p, &err) == MG_OK)
        mf_product_free(p);
    mg_error_clear(&err);
    mf_mesh *m = NULL;
    if (mf_mesh_parse("mesh.yaml", (const char *)data, size, &m, &err) == MG_OK)
        mf_mesh_free(m);
    mg_error_clear(&err);
    return 0;
}
