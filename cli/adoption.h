/*
 * adoption.h — what cmd_adoption.c (text, JSON, the command) and
 * adoption_html.c (the HTML page) share.
 */
#ifndef MG_CLI_ADOPTION_H
#define MG_CLI_ADOPTION_H

#include <errno.h>
#include <stdarg.h>
#include "cli/cli.h"

#define ADOPTION_NSTATUS 6   /* values of mg_adoption_status */

/* How the products stand with one catalogue policy. */
typedef struct adoption_summary {
    size_t counts[ADOPTION_NSTATUS];   /* products per status */
    size_t adopting;                   /* products adopting it, any version or mode */
} adoption_summary;

/* Summarizes catalogue policy i over every product of the report. */
void adoption_policy_summary(const mg_adoption *a, size_t i, adoption_summary *s);

/* A time as RFC 3339 UTC; with day_if_midnight, YYYY-MM-DD at 00:00Z. */
void adoption_time(int64_t us, bool day_if_midnight, char *buf, size_t cap);

/* Writes the report as one self-contained HTML page: inline CSS and SVG,
 * no script, no external reference; every value from the manifests is
 * escaped. Returns CLI_OK. */
int adoption_html(FILE *out, const mg_adoption *a);

#endif
