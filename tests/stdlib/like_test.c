/*
 * like_test.c — the `like` glob: literals, `*`, `?` on UTF-8, escapes, and
 * a pathological pattern that must stay fast.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>
#include "stdlib/stdlib.h"

static bool like(const char *s, const char *p)
{
    return sl_like(s, strlen(s), p, strlen(p));
}

Test(like, literals_and_anchoring)
{
    cr_assert(like("", ""));
    cr_assert(like("abc", "abc"));
    cr_assert_not(like("abc", "ab"));
    cr_assert_not(like("ab", "abc"));
    cr_assert_not(like("abc", "ABC"), "case-sensitive");
    cr_assert_not(like("xabc", "abc"), "whole string, not a search");
    cr_assert_not(like("", "a"));
}

Test(like, star)
{
    cr_assert(like("", "*"));
    cr_assert(like("", "***"));
    cr_assert(like("anything", "*"));
    cr_assert(like("sales-eu-orders", "sales-*"));
    cr_assert(like("sales-eu-orders", "*-orders"));
    cr_assert(like("sales-eu-orders", "sales*orders"));
    cr_assert(like("sales-eu-orders", "s*-*-*s"));
    cr_assert_not(like("sales-eu-orders", "*-order"));
    cr_assert(like("abab", "*ab"));
    cr_assert(like("aaab", "a*ab"));
    cr_assert(like("mississippi", "m*iss*ppi"));
    cr_assert_not(like("mississippi", "m*iss*ppix"));
    cr_assert(like("mississippi", "*sip*"));
}

Test(like, question_mark_is_one_character)
{
    cr_assert(like("a", "?"));
    cr_assert_not(like("", "?"));
    cr_assert_not(like("ab", "?"));
    cr_assert(like("é", "?"), "two-byte character");
    cr_assert(like("€", "?"), "three-byte character");
    cr_assert(like("😀", "?"), "four-byte character");
    cr_assert_not(like("é", "??"));
    cr_assert(like("café", "caf?"));
    cr_assert(like("naïve", "na?ve"));
    cr_assert(like("x€y", "*?y"));
    cr_assert_not(like("€", "*??"));
    cr_assert(like("éé", "*?é"));
    /* Ill-formed UTF-8: each stray byte is one character. */
    cr_assert(like("\xff\xfe", "??"));
    cr_assert(like("\xc3", "?"), "truncated sequence");
    cr_assert(like("\xe2\x82", "??"), "truncated three-byte sequence: two characters");
}

Test(like, escapes)
{
    cr_assert(like("a*b", "a\\*b"));
    cr_assert_not(like("axb", "a\\*b"));
    cr_assert(like("a?b", "a\\?b"));
    cr_assert_not(like("axb", "a\\?b"));
    cr_assert(like("a\\b", "a\\\\b"));
    cr_assert(like("ab", "\\a\\b"), "escaping an ordinary character");
    cr_assert(like("a\\", "a\\"), "lone trailing backslash is literal");
    cr_assert_not(like("a", "a\\"));
    cr_assert(like("x*", "*\\*"));
    cr_assert_not(like("x", "*\\*"));
}

Test(like, embedded_nul_and_lengths)
{
    cr_assert(sl_like("a\0b", 3, "a?b", 3));
    cr_assert(sl_like("a\0b", 3, "a\0b", 3));
    cr_assert_not(sl_like("a\0b", 3, "a", 1));
    cr_assert(sl_like("abcdef", 3, "abc", 3));
}

/* A pattern that is exponential for naive recursive matchers. */
Test(like, pathological_pattern_is_fast)
{
    static char s[20001], p[64];
    memset(s, 'a', 20000);
    strcpy(p, "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b");
    clock_t t0 = clock();
    cr_assert_not(like(s, p));
    s[19999] = 'b';
    cr_assert(like(s, p));
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    cr_assert_lt(secs, 0.5, "took %.3f s", secs);
}
