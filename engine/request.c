/*
 * request.c — requests as JSON: subjects and contexts resolved to attribute
 * slots once (so a sidecar can keep them as handles), and mg_decide_json for
 * a whole request given as text. This is the path that allocates; deciding
 * with resolved handles does not.
 *
 * JSON to values: string -> string (timestamp or duration when the schema
 * says so), integer -> int, true/false -> bool, array of scalars -> set,
 * object -> record (usable only through deeper paths), null or absent ->
 * missing. A floating-point number is a request error.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "engine/engine.h"

#define MAX_REQUEST_BYTES (1u << 20)

/* ==========================================================================
 * Attribute values
 * ========================================================================== */

typedef struct sizing {
    size_t items, bytes;
} sizing;

/* The JSON value at a dotted path below obj, or NULL. */
static json_t *lookup(json_t *obj, const char *path)
{
    char key[256];
    while (obj && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof key || !json_is_object(obj))
            return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        obj = json_object_get(obj, key);
        path += n + (dot ? 1 : 0);
    }
    return obj;
}

static void measure(json_t *v, sizing *sz)
{
    if (json_is_string(v)) {
        sz->bytes += json_string_length(v) + 1;
    } else if (json_is_array(v)) {
        size_t i;
        json_t *it;
        sz->items += json_array_size(v);
        json_array_foreach(v, i, it)
            if (json_is_string(it))
                sz->bytes += json_string_length(it) + 1;
    }
}

typedef struct filler {
    const vm_program *p;
    sl_value *items;
    char *bytes;
    const char *what;
    const char *path;
    mg_error *err;
} filler;

static sl_err string_value(filler *f, json_t *v, sl_value *out)
{
    size_t n = json_string_length(v);
    memcpy(f->bytes, json_string_value(v), n);
    f->bytes[n] = 0;
    *out = (sl_value){ .kind = SL_STRING };
    out->u.s.ptr = f->bytes;
    out->u.s.len = (uint32_t)n;
    out->u.s.sym = sl_intern_find(f->p->syms, f->bytes, (uint32_t)n);
    f->bytes += n + 1;
    return SL_OK;
}

static mg_status bad(filler *f, const char *fmt, const char *arg)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, arg);
    return mg_error_set(f->err, MG_EREQUEST, NULL, 0, 0, "%s.%s: %s", f->what, f->path, msg);
}

static mg_status type_mismatch(filler *f, sl_type want)
{
    char t[32];
    sl_type_format(want, t, sizeof t);
    return bad(f, "expected %s", t);
}

static mg_status scalar(filler *f, json_t *v, sl_type want, sl_value *out)
{
    const char *why = NULL;
    switch (json_typeof(v)) {
    case JSON_NULL: *out = sl_missing(); return MG_OK;
    case JSON_TRUE: case JSON_FALSE: *out = sl_bool(json_is_true(v)); return MG_OK;
    case JSON_INTEGER: *out = sl_int(json_integer_value(v)); return MG_OK;
    case JSON_REAL: return bad(f, "floating-point numbers are not supported%s", "");
    case JSON_STRING:
        if (want.kind == SL_TIMESTAMP || want.kind == SL_DURATION) {
            int64_t us;
            bool ok = want.kind == SL_TIMESTAMP
                ? sl_parse_timestamp(json_string_value(v), json_string_length(v), &us, &why)
                : sl_parse_duration(json_string_value(v), json_string_length(v), &us, &why);
            if (!ok)
                return bad(f, "%s", why);
            out->kind = want.kind;
            out->u.i = us;
            return MG_OK;
        }
        string_value(f, v, out);
        return MG_OK;
    default:
        return bad(f, "expected a scalar%s", "");
    }
}

static mg_status set_of(filler *f, json_t *arr, sl_type want, sl_value *out)
{
    size_t i;
    json_t *it;
    sl_value *first = f->items;
    sl_type elem = { want.elem, SL_ANY };
    json_array_foreach(arr, i, it) {
        if (json_is_array(it) || json_is_object(it) || json_is_null(it))
            return bad(f, "set elements must be strings, integers or booleans%s", "");
        mg_status s = scalar(f, it, elem, f->items);
        if (s)
            return s;
        if (f->items != first && f->items->kind != first->kind)
            return bad(f, "set elements must all have one type%s", "");
        if (want.kind == SL_SET && want.elem != SL_ANY && f->items->kind != want.elem)
            return type_mismatch(f, want);
        f->items++;
    }
    *out = (sl_value){ .kind = SL_SET };
    out->u.set.items = i ? first : NULL;
    out->u.set.n = i ? sl_set_normalize(first, (uint32_t)i) : 0;
    return MG_OK;
}

static mg_status convert(filler *f, json_t *v, sl_type want, sl_value *out)
{
    mg_status s = MG_OK;
    if (!v)
        *out = sl_missing();
    else if (json_is_array(v))
        s = set_of(f, v, want, out);
    else if (json_is_object(v))
        *out = (sl_value){ .kind = SL_RECORD };
    else
        s = scalar(f, v, want, out);
    if (s)
        return s;
    if (want.kind != SL_ANY && out->kind != SL_MISSING && out->kind != want.kind)
        return type_mismatch(f, want);
    return MG_OK;
}

mg_status mg__handle_from_json(const mg_policy_set *set, int root, const void *json_obj,
                               const char *what, mg_handle **out, mg_error *err)
{
    *out = NULL;
    const vm_program *p = set->prog;
    json_t *obj = (json_t *)json_obj;
    if (obj && !json_is_object(obj) && !json_is_null(obj))
        return mg_error_set(err, MG_EREQUEST, NULL, 0, 0, "%s must be a JSON object", what);
    uint32_t nslots = p->nslots[root];
    sizing sz = { 0, 0 };
    json_t *id = root == ROOT_SUBJECT ? lookup(obj, "id") : NULL;
    if (json_is_string(id))
        sz.bytes += json_string_length(id) + 1;
    for (uint32_t i = 0; i < nslots; i++)
        measure(lookup(obj, sl_intern_str(p->syms, p->slot_path[root][i], NULL)), &sz);
    int fk = root == ROOT_SUBJECT ? 0 : 1;
    size_t size = sizeof(mg_attrs) + (nslots + sz.items) * sizeof(sl_value) + sz.bytes + p->nfacts[fk];
    mg_attrs *a = mg__alloc(set->alloc, set->ud, size);
    if (!a)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    memset(a, 0, sizeof *a);
    a->prog = p;
    a->alloc = set->alloc;
    a->ud = set->ud;
    a->size = size;
    a->slots = (sl_value *)(a + 1);
    filler f = { p, a->slots + nslots, (char *)(a->slots + nslots + sz.items), what, "", err };
    a->facts = (uint8_t *)f.bytes + sz.bytes;
    if (json_is_string(id)) {
        a->raw_id = f.bytes;
        memcpy(f.bytes, json_string_value(id), json_string_length(id) + 1);
        f.bytes += json_string_length(id) + 1;
    }
    for (uint32_t i = 0; i < nslots; i++) {
        f.path = sl_intern_str(p->syms, p->slot_path[root][i], NULL);
        mg_status s = convert(&f, lookup(obj, f.path), p->slot_type[root][i], &a->slots[i]);
        if (s) {
            mg__free(a->alloc, a->ud, a, a->size);
            return s;
        }
    }
    mg_handle *h = NULL;
    if (!prog_eval_facts(p, fk, a->slots, a->facts) || !(h = mg__handle_new((mg_policy_set *)set, a))) {
        mg__free(a->alloc, a->ud, a, a->size);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    prog_fact_bits(p, fk, a->facts, &h->fact_bits, &h->fact_errs);
    *out = h;
    return MG_OK;
}

static mg_status parse_json(const char *json, size_t len, const char *what, json_t **out, mg_error *err)
{
    *out = NULL;
    if (!json)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "%s is NULL", what);
    if (len > MAX_REQUEST_BYTES)
        return mg_error_set(err, MG_ELIMIT, NULL, 0, 0, "%s is %zu bytes; the limit is %u", what, len,
                            MAX_REQUEST_BYTES);
    json_error_t je;
    *out = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!*out)
        return mg_error_set(err, MG_EREQUEST, NULL, je.line, je.column, "%s: %s", what, je.text);
    return MG_OK;
}

static mg_status attrs_new(const mg_policy_set *set, int root, const char *json, size_t len,
                           const char *what, mg_handle **out, mg_error *err)
{
    json_t *obj;
    mg_status s = parse_json(json, len, what, &obj, err);
    if (s == MG_OK)
        s = mg__handle_from_json(set, root, obj, what, out, err);
    json_decref(obj);
    return s;
}

mg_status mg_subject_new(const mg_policy_set *set, const char *json, size_t len, mg_subject **out, mg_error *err)
{
    if (!out || !set)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    return attrs_new(set, ROOT_SUBJECT, json, len, "subject", (mg_handle **)out, err);
}

void mg_subject_free(mg_subject *s)
{
    mg__handle_free((mg_handle *)s);
}

mg_status mg_context_new(const mg_policy_set *set, const char *json, size_t len, mg_context **out, mg_error *err)
{
    if (!out || !set)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    return attrs_new(set, ROOT_CONTEXT, json, len, "context", (mg_handle **)out, err);
}

void mg_context_free(mg_context *c)
{
    mg__handle_free((mg_handle *)c);
}

/* ==========================================================================
 * Whole requests
 * ========================================================================== */

static const char *const request_keys[] = { "subject", "action", "product", "port", "columns", "context", NULL };

static mg_status check_keys(json_t *req, mg_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(req, key, v) {
        int i = 0;
        while (request_keys[i] && strcmp(request_keys[i], key) != 0)
            i++;
        if (!request_keys[i])
            return mg_error_set(err, MG_EREQUEST, NULL, 0, 0,
                                "request: unknown key `%s` (expected subject, action, product, port, columns, context)", key);
    }
    return MG_OK;
}

static mg_status string_field(json_t *req, const char *key, bool required, const char **out, mg_error *err)
{
    json_t *v = json_object_get(req, key);
    *out = NULL;
    if (!v && !required)
        return MG_OK;
    if (!json_is_string(v))
        return mg_error_set(err, MG_EREQUEST, NULL, 0, 0, "request: `%s` must be a string%s", key,
                            v ? "" : " and is required");
    *out = json_string_value(v);
    return MG_OK;
}

/* Resolves product, port, action and columns to ids. cols has room for
 * max_cols entries. */
static mg_status resolve_target(const mg_policy_set *set, json_t *req, mg_request *r, int *cols, mg_error *err)
{
    const vm_program *p = set->prog;
    const char *product, *port, *action;
    mg_status s;
    if ((s = string_field(req, "product", false, &product, err)) ||
        (s = string_field(req, "port", true, &port, err)) ||
        (s = string_field(req, "action", true, &action, err)))
        return s;
    const char *uri = sl_intern_str(p->syms, p->product_uri, NULL);
    if (product && (!uri || strcmp(product, uri) != 0))
        return mg_error_set(err, MG_EREQUEST, NULL, 0, 0, "request: product `%s` is not this policy set's product `%s`",
                            product, uri ? uri : "");
    if ((r->port = mg_port_id(set, port)) < 0)
        return mg_error_set(err, MG_EREQUEST, NULL, 0, 0, "request: unknown port `%s`", port);
    if ((r->action = mg_action_id(set, action)) < 0)
        return mg_error_set(err, MG_EREQUEST, NULL, 0, 0, "request: unknown action `%s`", action);
    json_t *jc = json_object_get(req, "columns");
    if (!jc || json_is_null(jc))
        return MG_OK;
    if (!json_is_array(jc))
        return mg_error_set(err, MG_EREQUEST, NULL, 0, 0, "request: `columns` must be an array of column names");
    if (json_array_size(jc) == 0)
        return mg_error_set(err, MG_EREQUEST, NULL, 0, 0,
                            "request: `columns` is empty; leave it out to request the whole port");
    size_t i;
    json_t *it;
    json_array_foreach(jc, i, it) {
        if (!json_is_string(it))
            return mg_error_set(err, MG_EREQUEST, NULL, 0, 0, "request: columns[%zu] must be a string", i);
        int c = mg_column_id(set, r->port, json_string_value(it));
        if (c < 0)
            return mg_error_set(err, MG_EREQUEST, NULL, 0, 0, "request: port `%s` has no column `%s`", port,
                                json_string_value(it));
        for (size_t k = 0; k < i; k++)
            if (cols[k] == c)
                return mg_error_set(err, MG_EREQUEST, NULL, 0, 0, "request: column `%s` is listed twice",
                                    json_string_value(it));
        cols[i] = c;
    }
    r->columns = cols;
    r->n_columns = json_array_size(jc);
    return MG_OK;
}

mg_status mg_decide_json(const mg_policy_set *set, const char *json, size_t len, int64_t now_us,
                         mg_decision *d, mg_error *err)
{
    if (!set || !d)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    json_t *req;
    mg_status s = parse_json(json, len, "request", &req, err);
    if (s)
        return s;
    mg_request r = { .now_us = now_us };
    mg_handle *subj = NULL, *ctx = NULL;
    size_t cols_bytes = ((size_t)set->prog->max_cols + 1) * sizeof(int);
    int *cols = mg__alloc(set->alloc, set->ud, cols_bytes);
    if (!cols)
        s = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    else if (!json_is_object(req))
        s = mg_error_set(err, MG_EREQUEST, NULL, 0, 0, "request must be a JSON object");
    if (s == MG_OK && (s = check_keys(req, err)) == MG_OK &&
        (s = resolve_target(set, req, &r, cols, err)) == MG_OK &&
        (s = mg__handle_from_json(set, ROOT_SUBJECT, json_object_get(req, "subject"), "subject", &subj, err)) == MG_OK &&
        (s = mg__handle_from_json(set, ROOT_CONTEXT, json_object_get(req, "context"), "context", &ctx, err)) == MG_OK) {
        r.subject = (const mg_subject *)subj;
        r.context = (const mg_context *)ctx;
        s = mg_decide(set, &r, d, err);
    }
    mg__handle_free(subj);
    mg__handle_free(ctx);
    mg__free(set->alloc, set->ud, cols, cols_bytes);
    json_decref(req);
    return s;
}
