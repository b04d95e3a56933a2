/*
 * ptest.h — the policy test file reader of ptest.c, on its own: what the
 * fuzz target drives. mg_test_product (meshgov.h) reads and runs the files.
 */
#ifndef MG_ENGINE_PTEST_H
#define MG_ENGINE_PTEST_H

#include <stddef.h>
#include "meshgov.h"

/* Reads a policy test file from memory and checks every test in it, as
 * mg_test_product does before running any (nothing is decided: requests
 * are only built). MG_OK, or MG_EMANIFEST (MG_ELIMIT, MG_ENOMEM) located in
 * `file` with a rendered detail. */
mg_status pt_check_text(const char *file, const char *text, size_t len,
                        mg_error *err);

#endif
