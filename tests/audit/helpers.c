/*
 * helpers.c — test helpers of the audit suite (see helpers.h).
 */
#include <stdio.h>
#include <unistd.h>
#include <criterion/criterion.h>
#include <sodium.h>
#include "stdlib/error.h"
#include "tests/audit/helpers.h"

json_t *load_vectors(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", VECTORS, name);
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    cr_assert_not_null(j, "%s: %s", path, je.text);
    return j;
}

blob b64(const char *s)
{
    size_t n = strlen(s);
    blob b = { malloc(n + 1), 0 };
    cr_assert_not_null(b.p);
    cr_assert_eq(sodium_base642bin(b.p, n + 1, s, n, NULL, &b.n, NULL,
                                   sodium_base64_VARIANT_ORIGINAL), 0, "bad base64 %s", s);
    return b;
}

blob unhex(const char *s)
{
    size_t n = strlen(s);
    blob b = { malloc(n / 2 + 1), 0 };
    cr_assert_not_null(b.p);
    cr_assert_eq(sodium_hex2bin(b.p, n / 2 + 1, s, n, NULL, &b.n, NULL), 0);
    return b;
}

void blob_free(blob *b)
{
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

audit_span span_of(blob b)
{
    return (audit_span){ b.p ? b.p : (const uint8_t *)"", b.n };
}

uint64_t json_u64(const json_t *v)
{
    if (json_is_integer(v))
        return (uint64_t)json_integer_value(v);
    cr_assert(json_is_string(v));
    return strtoull(json_string_value(v), NULL, 10);
}

mg_status mem_node(void *ud, unsigned level, uint64_t index,
                   uint8_t out[AUDIT_HASH], mg_error *err)
{
    mem_tree *t = ud;
    uint64_t lo = index << level, n = (uint64_t)1 << level;
    if (lo + n > t->size)
        return mg_error_set(err, MG_ENOTFOUND, NULL, 0, 0, "no node %u/%llu", level,
                            (unsigned long long)index);
    if (level == 0) {
        memcpy(out, t->leaf[lo], AUDIT_HASH);
        return MG_OK;
    }
    uint8_t l[AUDIT_HASH], r[AUDIT_HASH];
    mem_node(ud, level - 1, index * 2, l, err);
    mem_node(ud, level - 1, index * 2 + 1, r, err);
    audit_node_hash(l, r, out);
    return MG_OK;
}

char *make_tmpdir(void)
{
    char *d = strdup("/tmp/mgaudit-XXXXXX");
    cr_assert_not_null(mkdtemp(d));
    return d;
}

char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}
