/*
 * check.h — what policy-check gathers for each product (load errors,
 * compliance findings, policy test outcomes, rule coverage) and the report
 * writers that print it: text and JSON (policy_check.c), SARIF and JUnit
 * (check_formats.c).
 */
#ifndef MG_CLI_CHECK_H
#define MG_CLI_CHECK_H

#include "cli/cli.h"

/* A finding of mg_check_product, copied out of the callback. */
typedef struct finding {
    mg_severity severity;
    char *check, *message, *file;
    int line, column;
} finding;

/* A policy test's outcome, copied likewise. */
typedef struct ptest {
    char *name, *file;
    int line, column;
    bool passed;
    char *failure;          /* NULL when passed */
    char *decision;         /* JSON with the trace, or NULL */
} ptest;

/* An access rule and whether a test covered it. */
typedef struct prule {
    char *rule, *kind, *file;
    int line, column;
    bool covered;
} prule;

/* The outcome for one product. */
typedef struct result {
    const char *uri;
    char *manifest;         /* DIR/domains/<domain>/<name>/product.yaml */
    mg_status status;       /* load, compile, check or test file failure */
    mg_error err;
    char digest[65];
    finding *fs;
    size_t nfs;
    size_t errors, warnings;
    ptest *ts;
    size_t nts, tfailed;
    prule *rules;
    size_t nrules, covered;
    bool tested;            /* the tests ran (coverage is known) */
    bool below_min;         /* coverage under --min-coverage */
    bool oom;
} result;

/* The whole run, as the writers see it. */
typedef struct report {
    const char *mesh;
    const result *rs;
    size_t n;
    int min_coverage;       /* -1: not given */
} report;

bool check_passed(const result *r);
const char *check_severity_name(mg_severity s);
/* Coverage in whole percent, rounded down; 100 with no rules. */
int check_percent(const result *r);

int check_print_sarif(const report *rep);
int check_print_junit(const report *rep);

#endif
