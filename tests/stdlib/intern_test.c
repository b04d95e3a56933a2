/*
 * intern_test.c — the intern table: dense ids, lookups that never
 * allocate, out-of-memory at every allocation, growth, concurrent finds.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "helpers.h"

static uint32_t add(sl_intern *t, const char *s)
{
    return sl_intern_add(t, s, (uint32_t)strlen(s));
}

static uint32_t find(const sl_intern *t, const char *s)
{
    return sl_intern_find(t, s, (uint32_t)strlen(s));
}

Test(intern, dense_ids_and_strings)
{
    test_alloc a = { .fail_after = -1 };
    sl_intern *t = sl_intern_new(test_alloc_fn, &a);
    cr_assert_not_null(t);
    cr_assert_eq(sl_intern_count(t), 0);
    cr_assert_eq(find(t, "pii"), 0, "find on an empty table");
    cr_assert_eq(add(t, "pii"), 1);
    cr_assert_eq(add(t, "email"), 2);
    cr_assert_eq(add(t, ""), 3);
    cr_assert_eq(add(t, "pii"), 1, "adding again returns the same id");
    cr_assert_eq(sl_intern_add(t, "piiX", 3), 1, "length is honored");
    cr_assert_eq(sl_intern_add(t, "a\0b", 3), 4, "embedded NUL");
    cr_assert_eq(sl_intern_count(t), 4);

    uint32_t len = 99;
    cr_assert_str_eq(sl_intern_str(t, 2, &len), "email");
    cr_assert_eq(len, 5);
    cr_assert_str_eq(sl_intern_str(t, 3, &len), "");
    cr_assert_eq(len, 0);
    const char *s = sl_intern_str(t, 4, &len);
    cr_assert_eq(len, 3);
    cr_assert_eq(memcmp(s, "a\0b", 4), 0, "copied and NUL-terminated");
    cr_assert_null(sl_intern_str(t, 0, &len));
    cr_assert_eq(len, 0);
    cr_assert_null(sl_intern_str(t, 5, NULL));

    cr_assert_eq(find(t, "email"), 2);
    cr_assert_eq(find(t, ""), 3);
    cr_assert_eq(find(t, "emai"), 0);
    cr_assert_eq(find(t, "Email"), 0);
    sl_intern_free(t);
    cr_assert_eq(a.live_blocks, 0);
    cr_assert_eq(a.live_bytes, 0);
}

Test(intern, the_table_keeps_its_own_copy)
{
    sl_intern *t = sl_intern_new(NULL, NULL);   /* NULL: the C allocator */
    char buf[16];
    strcpy(buf, "steward");
    cr_assert_eq(add(t, buf), 1);
    strcpy(buf, "auditor");
    cr_assert_eq(find(t, "steward"), 1);
    cr_assert_eq(find(t, "auditor"), 0);
    cr_assert_str_eq(sl_intern_str(t, 1, NULL), "steward");
    sl_intern_free(t);
    sl_intern_free(NULL);
}

Test(intern, find_never_allocates)
{
    test_alloc a = { .fail_after = -1 };
    sl_intern *t = sl_intern_new(test_alloc_fn, &a);
    for (int k = 0; k < 1000; k++) {
        char s[16];
        snprintf(s, sizeof s, "s%d", k);
        cr_assert_eq(add(t, s), (uint32_t)k + 1);
    }
    long before = a.allocs;
    a.fail_after = 0;            /* any allocation from here on would fail */
    for (int k = 0; k < 2000; k++) {
        char s[16];
        snprintf(s, sizeof s, "s%d", k);
        cr_assert_eq(find(t, s), k < 1000 ? (uint32_t)k + 1 : 0);
    }
    cr_assert_eq(a.allocs, before);
    sl_intern_free(t);
    cr_assert_eq(a.live_blocks, 0);
}

/* Fail the n-th allocation for every n: add returns 0, the table stays
 * valid (earlier strings still found, later adds work) and nothing leaks. */
Test(intern, out_of_memory_at_every_allocation)
{
    test_alloc probe = { .fail_after = -1 };
    sl_intern *t = sl_intern_new(test_alloc_fn, &probe);
    for (int k = 0; k < 300; k++) {
        char s[16];
        snprintf(s, sizeof s, "k%d", k);
        add(t, s);
    }
    long total = probe.allocs;
    sl_intern_free(t);
    cr_assert_gt(total, 4);

    cr_assert_null(sl_intern_new(test_alloc_fn, &(test_alloc){ .fail_after = 0 }));
    for (long n = 1; n < total; n++) {
        test_alloc a = { .fail_after = n };
        t = sl_intern_new(test_alloc_fn, &a);
        cr_assert_not_null(t);
        int added = 0;
        for (; added < 300; added++) {
            char s[16];
            snprintf(s, sizeof s, "k%d", added);
            uint32_t id = add(t, s);
            if (id == 0)
                break;
            cr_assert_eq(id, (uint32_t)added + 1);
        }
        cr_assert_lt(added, 300, "allocation %ld never failed", n);
        cr_assert_eq(sl_intern_count(t), (uint32_t)added);
        for (int k = 0; k <= added; k++) {
            char s[16];
            snprintf(s, sizeof s, "k%d", k);
            cr_assert_eq(find(t, s), k < added ? (uint32_t)k + 1 : 0);
        }
        a.fail_after = -1;      /* memory is back: the table carries on */
        cr_assert_eq(add(t, "k299"), (uint32_t)added + 1);
        cr_assert_eq(find(t, "k0"), added > 0 ? 1u : 0u);
        sl_intern_free(t);
        cr_assert_eq(a.live_blocks, 0, "leak after failing allocation %ld", n);
        cr_assert_eq(a.live_bytes, 0);
    }
}

Test(intern, long_strings_get_their_own_block)
{
    test_alloc a = { .fail_after = -1 };
    sl_intern *t = sl_intern_new(test_alloc_fn, &a);
    static char big[200000];
    memset(big, 'x', sizeof big - 1);
    cr_assert_eq(add(t, "small"), 1);
    cr_assert_eq(add(t, big), 2);
    cr_assert_eq(add(t, "after"), 3);
    uint32_t len;
    cr_assert_eq(strlen(sl_intern_str(t, 2, &len)), sizeof big - 1);
    cr_assert_eq(len, sizeof big - 1);
    cr_assert_str_eq(sl_intern_str(t, 1, NULL), "small");
    cr_assert_str_eq(sl_intern_str(t, 3, NULL), "after");
    sl_intern_free(t);
    cr_assert_eq(a.live_bytes, 0);
}

Test(intern, grows_to_100000_strings)
{
    test_alloc a = { .fail_after = -1 };
    sl_intern *t = sl_intern_new(test_alloc_fn, &a);
    char s[32];
    for (uint32_t k = 0; k < 100000; k++) {
        snprintf(s, sizeof s, "tag-%u", k);
        cr_assert_eq(add(t, s), k + 1);
    }
    cr_assert_eq(sl_intern_count(t), 100000);
    for (uint32_t k = 0; k < 100000; k++) {
        snprintf(s, sizeof s, "tag-%u", k);
        cr_assert_eq(find(t, s), k + 1);
        cr_assert_str_eq(sl_intern_str(t, k + 1, NULL), s);
    }
    cr_assert_eq(find(t, "tag-100000"), 0);
    cr_assert_lt(a.allocs, 200, "strings are stored in blocks, not one by one");
    sl_intern_free(t);
    cr_assert_eq(a.live_blocks, 0);
}

typedef struct finder {
    const sl_intern *t;
    int bad;
} finder;

static void *find_all(void *arg)
{
    finder *f = arg;
    char s[32];
    for (int round = 0; round < 5; round++)
        for (uint32_t k = 0; k < 20000; k++) {
            snprintf(s, sizeof s, "subject-%u", k);
            f->bad += find(f->t, s) != k + 1;
        }
    return NULL;
}

Test(intern, concurrent_finds_on_a_frozen_table)
{
    sl_intern *t = sl_intern_new(NULL, NULL);
    char s[32];
    for (uint32_t k = 0; k < 20000; k++) {
        snprintf(s, sizeof s, "subject-%u", k);
        add(t, s);
    }
    pthread_t th[4];
    finder f[4];
    for (int k = 0; k < 4; k++) {
        f[k] = (finder){ t, 0 };
        cr_assert_eq(pthread_create(&th[k], NULL, find_all, &f[k]), 0);
    }
    for (int k = 0; k < 4; k++) {
        pthread_join(th[k], NULL);
        cr_assert_eq(f[k].bad, 0);
    }
    sl_intern_free(t);
}
