/*
 * engine.c — engines and policy sets: allocation, reference counting, the
 * atomic swap of an engine's current set, and name-to-id lookups.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <jansson.h>
#include <sodium.h>
#include "engine/engine.h"
#include "engine/meshcache.h"

struct mg_engine {
    sl_alloc_fn alloc;
    void *ud;
    uint32_t step_budget;
    uint8_t mask_key[32];
    pthread_mutex_t lock;        /* guards current against acquire/swap */
    mg_policy_set *current;
    mg_audit_log *audit;
    mg_audit_mode audit_mode;
    mg__mesh_cache meshes;       /* the last mesh loaded (meshcache.c) */
};

/* ==========================================================================
 * Allocation
 * ========================================================================== */

void *mg__alloc(sl_alloc_fn alloc, void *ud, size_t n)
{
    return alloc(ud, NULL, 0, n);
}

void mg__free(sl_alloc_fn alloc, void *ud, void *p, size_t n)
{
    if (p)
        alloc(ud, p, n, 0);
}

void mg_free(void *p)
{
    free(p);
}

/* ==========================================================================
 * Engines
 * ========================================================================== */

mg_status mg_engine_new(const mg_config *cfg, mg_engine **out, mg_error *err)
{
    if (!out)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "out is NULL");
    *out = NULL;
    if (sodium_init() < 0)
        return mg_error_set(err, MG_ECRYPTO, NULL, 0, 0, "libsodium failed to initialize");
    sl_alloc_fn alloc = cfg && cfg->alloc ? cfg->alloc : sl_default_alloc;
    void *ud = cfg && cfg->alloc ? cfg->alloc_ud : NULL;
    mg_engine *e = mg__alloc(alloc, ud, sizeof *e);
    if (!e)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    memset(e, 0, sizeof *e);
    e->alloc = alloc;
    e->ud = ud;
    e->step_budget = cfg && cfg->step_budget ? cfg->step_budget : MG_DEFAULT_BUDGET;
    if (cfg && cfg->mask_key)
        memcpy(e->mask_key, cfg->mask_key, sizeof e->mask_key);
    else
        randombytes_buf(e->mask_key, sizeof e->mask_key);
    pthread_mutex_init(&e->lock, NULL);
    mg__mesh_cache_init(&e->meshes, cfg && cfg->no_mesh_cache, alloc, ud);
    *out = e;
    return MG_OK;
}

void mg_engine_free(mg_engine *e)
{
    if (!e)
        return;
    mg_policy_set_release(e->current);
    mg__mesh_cache_free(&e->meshes);
    pthread_mutex_destroy(&e->lock);
    sodium_memzero(e->mask_key, sizeof e->mask_key);
    mg__free(e->alloc, e->ud, e, sizeof *e);
}

mg__mesh_cache *mg__engine_meshes(mg_engine *e)
{
    return &e->meshes;
}

sl_alloc_fn mg__engine_alloc(const mg_engine *e, void **ud)
{
    *ud = e->ud;
    return e->alloc;
}

uint32_t mg__engine_budget(const mg_engine *e)
{
    return e->step_budget;
}

const uint8_t *mg__engine_mask_key(const mg_engine *e)
{
    return e->mask_key;
}

mg_status mg_engine_set_audit(mg_engine *e, mg_audit_log *log, mg_audit_mode mode)
{
    if (!e || mode > MG_AUDIT_DENIES)
        return MG_EINVAL;
    e->audit = mode == MG_AUDIT_OFF ? NULL : log;
    e->audit_mode = log ? mode : MG_AUDIT_OFF;
    return MG_OK;
}

static int64_t wall_clock_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "policy_load": which policies at which versions and modes, so that any
 * logged decision can be explained and replayed from its digest. */
/* {"sources":[...],"policies":["name@version",...]}. A source list longer
 * than half the record becomes {"source_count":N,...} and the policy list
 * ends in "..." where it stops fitting: the set's digest identifies it in
 * full either way, and the record stays valid JSON. */
static void load_payload(const vm_program *p, const char *sources_json, char *buf, size_t cap)
{
    const char *srcs = sources_json ? sources_json : "[]";
    size_t n;
    if (strlen(srcs) < cap / 2) {
        n = (size_t)snprintf(buf, cap, "{\"sources\":%s,\"policies\":[", srcs);
    } else {
        json_t *list = json_loads(srcs, 0, NULL);
        n = (size_t)snprintf(buf, cap, "{\"source_count\":%zu,\"policies\":[", json_array_size(list));
        json_decref(list);
    }
    for (uint32_t i = 0; i < p->npolicies && n < cap; i++) {
        const vm_policy *vp = &p->policies[i];
        size_t left = cap - n;
        int k = snprintf(buf + n, left, "%s\"%s@%lld%s\"", i ? "," : "", sl_intern_str(p->syms, vp->name, NULL),
                         (long long)vp->version, vp->dry_run ? " dry_run" : "");
        if (k < 0 || (size_t)k >= left - 16) {     /* keep room to close the JSON */
            n += (size_t)snprintf(buf + n, left, "%s\"...\"", i ? "," : "");
            break;
        }
        n += (size_t)k;
    }
    if (n < cap)
        snprintf(buf + n, cap - n, "]}");
}

mg_status mg__engine_adopt_set(mg_engine *e, mg_policy_set *set, const char *sources_json, mg_error *err)
{
    set->audit = e->audit;
    set->audit_mode = e->audit_mode;
    if (!e->audit)
        return MG_OK;
    const vm_program *p = set->prog;
    char payload[MG_AUDIT_MAX_PAYLOAD];
    load_payload(p, sources_json, payload, sizeof payload);
    mg_audit_record rec = {
        .kind = "policy_load",
        .product = p->product_uri ? sl_intern_str(p->syms, p->product_uri, NULL) : NULL,
        .mode = "enforce",
        .digest = p->digest,
        .payload = payload,
        .event_time_us = wall_clock_us(),
        .governance = true,
    };
    uint64_t seq;
    return mg_audit_record_push(e->audit, &rec, &seq, err);
}

mg_status mg_engine_swap(mg_engine *e, mg_policy_set *set)
{
    if (!e)
        return MG_EINVAL;
    mg_policy_set_retain(set);
    pthread_mutex_lock(&e->lock);
    mg_policy_set *old = e->current;
    e->current = set;
    pthread_mutex_unlock(&e->lock);
    mg_policy_set_release(old);      /* threads still holding it keep it alive */
    return MG_OK;
}

mg_policy_set *mg_engine_acquire(mg_engine *e)
{
    if (!e)
        return NULL;
    pthread_mutex_lock(&e->lock);
    mg_policy_set *s = mg_policy_set_retain(e->current);
    pthread_mutex_unlock(&e->lock);
    return s;
}

mg_status mg__acquire_product_set(mg_engine *e, const char *product_uri, mg_policy_set **out, mg_error *err)
{
    *out = mg_engine_acquire(e);
    if (!*out)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "no policy set is loaded: load `%s` first", product_uri);
    const vm_program *p = (*out)->prog;
    const char *uri = sl_intern_str(p->syms, p->product_uri, NULL);
    if (!uri || strcmp(uri, product_uri) != 0) {
        mg_policy_set_release(*out);
        *out = NULL;
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "the loaded policy set is not that of `%s`", product_uri);
    }
    return MG_OK;
}

/* ==========================================================================
 * Policy sets
 * ========================================================================== */

mg_status mg__policy_set_new(vm_program *prog, sl_alloc_fn alloc, void *ud,
                             const uint8_t *mask_key, mg_policy_set **out)
{
    *out = NULL;
    mg_policy_set *s = mg__alloc(alloc, ud, sizeof *s);
    if (!s) {
        prog_free(prog);
        return MG_ENOMEM;
    }
    memset(s, 0, sizeof *s);
    atomic_init(&s->refs, 1);
    mg__handle_pool_init(&s->handles);
    s->prog = prog;
    s->alloc = alloc;
    s->ud = ud;
    if (mask_key)
        memcpy(s->mask_key, mask_key, sizeof s->mask_key);
    *out = s;
    return MG_OK;
}

mg_policy_set *mg_policy_set_retain(mg_policy_set *set)
{
    if (set)
        atomic_fetch_add_explicit(&set->refs, 1, memory_order_relaxed);
    return set;
}

void mg_policy_set_release(mg_policy_set *set)
{
    if (!set || atomic_fetch_sub_explicit(&set->refs, 1, memory_order_acq_rel) != 1)
        return;
    mg__handle_pool_free(set);
    prog_free(set->prog);
    sodium_memzero(set->mask_key, sizeof set->mask_key);
    mg__free(set->alloc, set->ud, set, sizeof *set);
}

const char *mg_policy_set_digest(const mg_policy_set *set)
{
    return set ? set->prog->digest : "";
}

mg_status mg_policy_set_disasm(const mg_policy_set *set, char **out, mg_error *err)
{
    if (!out || !set)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    *out = NULL;
    strbuf b;
    sb_init(&b, sl_default_alloc, NULL);
    vm_disasm(set->prog, &b);
    if (b.failed) {
        sb_free(&b);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    *out = b.s;      /* allocated by malloc: the caller frees with mg_free */
    return MG_OK;
}

/* ==========================================================================
 * Names to ids
 * ========================================================================== */

int mg_port_id(const mg_policy_set *set, const char *port)
{
    if (!set || !port)
        return -1;
    const vm_program *p = set->prog;
    uint32_t sym = sl_intern_find(p->syms, port, (uint32_t)strlen(port));
    for (uint32_t i = 0; sym && i < p->nports; i++)
        if (p->ports[i].name == sym)
            return (int)i;
    return -1;
}

int mg_column_id(const mg_policy_set *set, int port, const char *column)
{
    if (!set || !column || port < 0 || (uint32_t)port >= set->prog->nports)
        return -1;
    const vm_program *p = set->prog;
    const vm_port *vp = &p->ports[port];
    uint32_t sym = sl_intern_find(p->syms, column, (uint32_t)strlen(column));
    for (uint32_t i = vp->first_col; sym && i < vp->first_col + vp->ncols; i++)
        if (p->col_names[i] == sym)
            return (int)i;
    return -1;
}

int mg_action_id(const mg_policy_set *set, const char *action)
{
    if (!set || !action)
        return -1;
    const vm_program *p = set->prog;
    uint32_t sym = sl_intern_find(p->syms, action, (uint32_t)strlen(action));
    for (uint32_t i = 0; sym && i < p->nactions; i++)
        if (p->actions[i] == sym)
            return (int)i;
    return -1;
}
