/*
 * meshcache.h — an engine's loaded mesh, reused while its files are
 * unchanged (engine/meshcache.c).
 */
#ifndef MG_ENGINE_MESHCACHE_H
#define MG_ENGINE_MESHCACHE_H

#include <pthread.h>
#include <stdbool.h>
#include "engine/manifest.h"

/* A loaded mesh, immutable and shared; released with mg__mesh_release. */
typedef struct mg__mesh mg__mesh;

typedef struct mg__mesh_cache {
    pthread_mutex_t lock;
    char *dir;          /* the mesh directory as given, or NULL */
    mg__mesh *snap;     /* the snapshot of dir, or NULL */
    int fd;             /* inotify descriptor watching dir's files, or -1 */
    bool off;           /* mg_config.no_mesh_cache: always read again */
    mf_mem mem;         /* the engine's allocator: meshes and dir */
} mg__mesh_cache;

void mg__mesh_cache_init(mg__mesh_cache *c, bool off, sl_alloc_fn alloc, void *ud);
void mg__mesh_cache_free(mg__mesh_cache *c);

/* The mesh in dir as mf_mesh_load reads it: the cached snapshot when none
 * of its files changed since, else a fresh load (cached for next time).
 * Errors are mf_mesh_load's. Thread-safe. */
mg_status mg__mesh_acquire(mg__mesh_cache *c, const char *dir, mg__mesh **out, mg_error *err);
const mf_mesh *mg__mesh_get(const mg__mesh *s);
void mg__mesh_release(mg__mesh *s);   /* accepts NULL */

/* The engine's cache (engine.c). */
mg__mesh_cache *mg__engine_meshes(mg_engine *e);

#endif
