/*
 * suggest.c — "did you mean": the closest known name to a misspelt one,
 * by Levenshtein distance, for roots, keywords, attributes and actions.
 */
#include <string.h>
#include "policy/internal.h"

#define SUGGEST_MAX_LEN 64

size_t check_distance(const char *a, size_t n, const char *b, size_t m,
                      size_t limit)
{
    if (n > SUGGEST_MAX_LEN || m > SUGGEST_MAX_LEN)
        return limit + 1;
    size_t row[SUGGEST_MAX_LEN + 1];
    for (size_t j = 0; j <= m; j++)
        row[j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t corner = row[0], best_in_row;
        row[0] = best_in_row = i;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            size_t v = corner + (a[i - 1] != b[j - 1]);
            if (up + 1 < v)
                v = up + 1;
            if (row[j - 1] + 1 < v)
                v = row[j - 1] + 1;
            row[j] = v;
            corner = up;
            if (v < best_in_row)
                best_in_row = v;
        }
        if (best_in_row > limit)
            return limit + 1;
    }
    return row[m];
}

/* A typo is at most 2 edits, or 1 in words under 4 letters, so that `id`
 * does not suggest `os`. */
const char *check_suggest(const char *word, size_t len,
                          const char *const *names, size_t n)
{
    size_t limit = len < 4 ? 1 : 2;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        if (!names[i])
            continue;
        size_t d = check_distance(word, len, names[i], strlen(names[i]), limit);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    return best;
}
