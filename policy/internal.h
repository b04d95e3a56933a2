/*
 * internal.h — helpers shared by the front end's files (arena internals,
 * "did you mean" suggestions, source positions). Not part of the interface
 * the engine sees (that is policy.h).
 */
#ifndef MG_POLICY_INTERNAL_H
#define MG_POLICY_INTERNAL_H

#include <stddef.h>
#include "policy/policy.h"

/* The allocator the arena was made with, for libraries that take one
 * (pcre2 through sl_regex_compile). */
sl_alloc_fn arena_allocator(const arena *a, void **ud);
/* Records an out-of-memory that happened outside the arena. */
void arena_mark_failed(arena *a);

/* Of the NULL-terminated names, the one closest to word by edit distance
 * when it is close enough to be a plausible typo, else NULL. */
const char *check_suggest(const char *word, size_t len,
                          const char *const *names, size_t n);

/* Edit distance between a and b, giving up (returning limit + 1) as soon
 * as it must exceed limit. */
size_t check_distance(const char *a, size_t n, const char *b, size_t m,
                      size_t limit);

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if it is
 * not one (truncated, overlong, a surrogate, beyond U+10FFFF). */
uint32_t policy_utf8_len(const unsigned char *s, size_t n);

#endif
