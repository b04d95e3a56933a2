/*
 * error.c — mg_error helpers and status names.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "stdlib/error.h"

const char *mg_status_str(mg_status s)
{
    switch (s) {
    case MG_OK: return "ok";
    case MG_ENOMEM: return "out of memory";
    case MG_EINVAL: return "invalid argument";
    case MG_ESYNTAX: return "syntax error";
    case MG_ETYPE: return "type error";
    case MG_EMANIFEST: return "invalid manifest";
    case MG_EREQUEST: return "invalid request";
    case MG_EIO: return "i/o error";
    case MG_ENOTFOUND: return "not found";
    case MG_EBUDGET: return "step budget exhausted";
    case MG_EEVAL: return "evaluation error";
    case MG_EINTEGRITY: return "integrity failure";
    case MG_ECRYPTO: return "cryptographic failure";
    case MG_EBUSY: return "audit log busy";
    case MG_EDB: return "database error";
    case MG_ELIMIT: return "limit exceeded";
    case MG_EFORMAT: return "malformed file";
    }
    return "unknown status";
}

void mg_error_clear(mg_error *err)
{
    if (!err)
        return;
    free(err->message);
    free(err->file);
    free(err->detail);
    memset(err, 0, sizeof *err);
}

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

mg_status mg_error_set(mg_error *err, mg_status code, const char *file,
                       int line, int col, const char *fmt, ...)
{
    if (!err)
        return code;
    mg_error_clear(err);
    err->code = code;
    err->line = line;
    err->column = col;
    err->file = dup_or_null(file);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n >= 0 && (err->message = malloc((size_t)n + 1)) != NULL) {
        va_start(ap, fmt);
        vsnprintf(err->message, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    return code;
}

void mg_error_set_detail(mg_error *err, char *detail)
{
    if (!err) {
        free(detail);
        return;
    }
    free(err->detail);
    err->detail = detail;
}
