/*
 * internal.h — helpers shared between the files of stdlib/ only; the other
 * layers use value.h and stdlib.h.
 */
#ifndef MG_STDLIB_INTERNAL_H
#define MG_STDLIB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* Calendar year (proleptic Gregorian, UTC) of a timestamp in microseconds. */
int64_t sl_timestamp_year(int64_t us);

/* Length in bytes of the UTF-8 character starting at s[i] (i < n). A byte
 * that does not start a well-formed sequence counts as one character, so
 * invalid input is walked byte by byte and never overruns n. */
size_t sl_utf8_len(const char *s, size_t i, size_t n);

#endif
