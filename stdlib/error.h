/*
 * error.h — filling an mg_error. Shared by every layer (the audit layer and
 * the loaders included), which is why it sits at the bottom, in stdlib/.
 */
#ifndef MG_STDLIB_ERROR_H
#define MG_STDLIB_ERROR_H

#include "meshgov.h"

/* Sets err (if not NULL): code, a printf-style message, and the place
 * (file may be NULL; line/col 0 when not applicable). Replaces what err
 * held. Returns code, so `return mg_error_set(err, MG_EIO, ...)` reads well.
 * Allocates with malloc: an mg_error outlives any engine. */
mg_status mg_error_set(mg_error *err, mg_status code, const char *file,
                       int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Takes ownership of detail (malloc'd) as err->detail. */
void mg_error_set_detail(mg_error *err, char *detail);

#endif
