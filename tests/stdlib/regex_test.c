/*
 * regex_test.c — `matches` on pcre2: search semantics, anchoring, UTF-8,
 * compile errors, limits, and the caller's allocator.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>
#include "helpers.h"

static sl_ctx cx;

static void setup(void)
{
    memset(&cx, 0, sizeof cx);
    cr_assert(sl_regex_ctx_init(&cx, NULL, NULL));
}

static void teardown(void)
{
    sl_regex_ctx_fini(&cx);
    cr_assert_null(cx.match_data);
    cr_assert_null(cx.match_ctx);
}

static sl_regex *compile(const char *pat)
{
    char why[128] = "";
    size_t off = 99;
    sl_regex *re = sl_regex_compile(pat, strlen(pat), NULL, NULL, why, sizeof why, &off);
    cr_assert_not_null(re, "%s: %s", pat, why);
    return re;
}

static sl_err run(const char *pat, const char *s, size_t len, bool *hit)
{
    sl_regex *re = compile(pat);
    sl_err e = sl_regex_match(re, &cx, s, len, hit);
    sl_regex_free(re);
    return e;
}

static bool matches(const char *pat, const char *s)
{
    bool hit = false;
    cr_assert_eq(run(pat, s, strlen(s), &hit), SL_OK, "%s on %s", pat, s);
    return hit;
}

TestSuite(regex, .init = setup, .fini = teardown);

Test(regex, unanchored_search)
{
    cr_assert(matches("ext", "user-ext-1"));
    cr_assert(matches("", "anything"));
    cr_assert(matches("", ""));
    cr_assert_not(matches("x", ""));
    cr_assert(matches("[0-9]+", "abc123"));
    cr_assert_not(matches("[0-9]+", "abc"));
    cr_assert_not(matches("ABC", "abc"), "case-sensitive by default");
    cr_assert(matches("(?i)ABC", "xabcx"), "inline flags work");
}

Test(regex, anchoring)
{
    const char *pat = "^ext-[0-9]+@partner\\.com$";
    cr_assert(matches(pat, "ext-42@partner.com"));
    cr_assert_not(matches(pat, "ext-42@partner.com.evil"));
    cr_assert_not(matches(pat, "xext-42@partner.com"));
    cr_assert_not(matches(pat, "ext-42@partnerXcom"));
    cr_assert(matches("^abc", "abcdef"));
    cr_assert_not(matches("^abc", "xabc"));
    cr_assert(matches("def$", "abcdef"));
    cr_assert(matches("def$", "abcdef\n"), "PCRE2 `$` also matches before a final newline");
    cr_assert_not(matches("def\\z", "abcdef\n"));
}

Test(regex, utf8_subjects)
{
    cr_assert(matches("^.$", "é"), "`.` is one character");
    cr_assert(matches("^...$", "€😀é"));
    cr_assert_not(matches("^..$", "é"));
    cr_assert(matches("^caf\\x{e9}$", "café"));
    cr_assert(matches("^\\w+$", "abc"));
    cr_assert(matches("ü", "Grüße"));
}

Test(regex, invalid_utf8_subject_is_searched)
{
    bool hit = true;
    cr_assert_eq(run("abc", "\xff" "abc", 4, &hit), SL_OK);
    cr_assert(hit);
    cr_assert_eq(run("^.$", "\xff", 1, &hit), SL_OK);
    cr_assert_not(hit, "an ill-formed byte is not a character");
    cr_assert_eq(run("x", "\xc3\x28", 2, &hit), SL_OK);
    cr_assert_not(hit);
}

Test(regex, embedded_nul)
{
    bool hit = false;
    cr_assert_eq(run("a\\x00b", "a\0b", 3, &hit), SL_OK);
    cr_assert(hit);
    cr_assert_eq(run("^a$", "a\0", 2, &hit), SL_OK);
    cr_assert_not(hit, "the length is honored, not the NUL");
}

Test(regex, groups_do_not_need_room)
{
    cr_assert(matches("(a)(b)(c)(d)", "xabcdx"));
}

Test(regex, compile_errors)
{
    char why[128] = "";
    size_t off = 99;
    sl_regex *re = sl_regex_compile("ab(c", 4, NULL, NULL, why, sizeof why, &off);
    cr_assert_null(re);
    cr_assert_eq(off, 4);
    cr_assert_str_eq(why, "missing closing parenthesis at offset 4");

    re = sl_regex_compile("a\\Cb", 4, NULL, NULL, why, sizeof why, &off);
    cr_assert_null(re, "\\C is refused");
    cr_assert_str_eq(why, "using \\C is disabled by the application at offset 3");

    re = sl_regex_compile("\xff", 1, NULL, NULL, why, sizeof why, &off);
    cr_assert_null(re, "the pattern itself must be UTF-8");
    cr_assert_eq(off, 0);
    cr_assert_str_eq(why, "UTF-8 error: illegal byte (0xfe or 0xff) at offset 0");

    re = sl_regex_compile("a[", 2, NULL, NULL, why, 8, &off);
    cr_assert_null(re);
    cr_assert_eq(strlen(why), 7, "message truncated to cap");
}

/* Exponential backtracking must stop at the match limit, quickly. */
Test(regex, catastrophic_backtracking_hits_limit)
{
    const char *s = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab";
    bool hit = true;
    clock_t t0 = clock();
    cr_assert_eq(run("(a+)+$", s, strlen(s), &hit), SL_E_REGEX_LIMIT);
    cr_assert_not(hit);
    cr_assert_eq(run("^(a|aa)+$", s, strlen(s), &hit), SL_E_REGEX_LIMIT);
    /* A required character absent from the subject fails before any
     * backtracking: a clean, immediate no-match. */
    cr_assert_eq(run("^(a|a)*c", s, strlen(s), &hit), SL_OK);
    cr_assert_not(hit);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    cr_assert_lt(secs, 1.0, "took %.3f s", secs);
    /* The context stays usable after a limit. */
    cr_assert(matches("b$", s));
}

/* A group repeated 200,000 times needs one backtracking frame per
 * repetition: the depth limit (interpreter) or the JIT stack stops it. The
 * same language written as a class needs no frames and matches. */
Test(regex, deep_repetition_is_limited)
{
    static char s[200001];
    memset(s, 'a', 200000);
    bool hit = true;
    cr_assert_eq(run("^(a|b)*$", s, 200000, &hit), SL_E_REGEX_LIMIT);
    cr_assert_not(hit);
    cr_assert_eq(run("^[ab]*$", s, 200000, &hit), SL_OK);
    cr_assert(hit);
}

Test(regex, match_without_context_is_an_error)
{
    sl_ctx bare;
    memset(&bare, 0, sizeof bare);
    sl_regex *re = compile("a");
    bool hit = true;
    cr_assert_eq(sl_regex_match(re, &bare, "a", 1, &hit), SL_E_ARG);
    cr_assert_not(hit);
    sl_regex_free(re);
    sl_regex_free(NULL);
}

/* Every block a compiled pattern holds comes from, and goes back to, the
 * caller's allocator; failing any allocation fails cleanly. */
Test(regex, caller_allocator_and_failures)
{
    test_alloc a = { .fail_after = -1 };
    char why[128];
    size_t off;
    sl_regex *re = sl_regex_compile("^[a-z]+@example\\.com$", 21, test_alloc_fn, &a,
                                    why, sizeof why, &off);
    cr_assert_not_null(re);
    long needed = a.allocs;
    cr_assert_gt(needed, 1);
    bool hit = false;
    cr_assert_eq(sl_regex_match(re, &cx, "ann@example.com", 15, &hit), SL_OK);
    cr_assert(hit);
    sl_regex_free(re);
    cr_assert_eq(a.live_blocks, 0);
    cr_assert_eq(a.live_bytes, 0);

    for (long n = 0; n < needed; n++) {
        test_alloc f = { .fail_after = n };
        why[0] = 0;
        re = sl_regex_compile("^[a-z]+@example\\.com$", 21, test_alloc_fn, &f,
                              why, sizeof why, &off);
        if (re) {
            /* pcre2 may do without an optional block (the JIT). */
            cr_assert_eq(sl_regex_match(re, &cx, "ann@example.com", 15, &hit), SL_OK);
            cr_assert(hit);
            sl_regex_free(re);
        } else {
            cr_assert_str_eq(why, "out of memory");
        }
        cr_assert_eq(f.live_blocks, 0, "leak when failing allocation %ld", n);
    }
}

/* Match data and the match context come from the caller's allocator too,
 * and go back to it with their sizes; failing any of their allocations
 * fails cleanly. */
Test(regex, match_scratch_from_the_caller_allocator)
{
    test_alloc a = { .fail_after = -1 };
    sl_ctx mine;
    memset(&mine, 0, sizeof mine);
    cr_assert(sl_regex_ctx_init(&mine, test_alloc_fn, &a));
    cr_assert_eq(a.live_blocks, 2, "match data and match context: %ld blocks", a.live_blocks);
    long needed = a.allocs;
    sl_regex *re = compile("^(a|b)*c$");
    bool hit = false;
    cr_assert_eq(sl_regex_match(re, &mine, "ababc", 5, &hit), SL_OK);
    cr_assert(hit);
    sl_regex_free(re);
    sl_regex_ctx_fini(&mine);
    cr_assert_eq(a.live_blocks, 0);
    cr_assert_eq(a.live_bytes, 0);

    for (long n = 0; n < needed; n++) {
        test_alloc f = { .fail_after = n };
        memset(&mine, 0, sizeof mine);
        cr_assert_not(sl_regex_ctx_init(&mine, test_alloc_fn, &f), "allocation %ld failed", n);
        cr_assert_null(mine.match_data);
        cr_assert_null(mine.match_ctx);
        cr_assert_eq(f.live_blocks, 0, "leak when failing allocation %ld", n);
        cr_assert_eq(f.live_bytes, 0, "bytes left when failing allocation %ld", n);
    }
}
