/*
 * meshcache.c — an engine's loaded mesh, kept while its files are
 * unchanged, so that loading and checking product after product of one
 * mesh (policy-check, the adoption report) parses each manifest once
 * instead of once per product. Without it, checking a mesh of n products
 * reads n² manifests.
 *
 * Whether the files changed is known from Linux inotify, not from stat:
 * before the mesh is read, every directory mf_mesh_load reads from is
 * watched (the mesh directory, domains/, each domain and product
 * directory), and after it, the directories of every file it checked
 * (global, local policy and test files). Any change in them — a file
 * written, created, deleted, renamed, its attributes changed — queues an
 * event; a snapshot is reused only while the queue is empty, so a reuse
 * costs one read(2). A snapshot whose files changed while it was read is
 * not kept. When inotify is unavailable (no more watches, another OS, or
 * mg_config.no_mesh_cache) every load reads the mesh again, as before.
 * A file system that does not report changes made elsewhere (NFS) needs
 * no_mesh_cache.
 *
 * A snapshot is immutable and reference-counted: a load or check holds it
 * while it reads it, whatever other threads load meanwhile.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine/engine.h"
#include "engine/meshcache.h"

#ifdef __linux__
#include <sys/inotify.h>
#define WATCH_MASK                                                                                              \
    (IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB |          \
     IN_DELETE_SELF | IN_MOVE_SELF)
#endif

struct mg__mesh {
    atomic_int refs;
    mf_mesh *m;
};

void mg__mesh_cache_init(mg__mesh_cache *c, bool off, sl_alloc_fn alloc, void *ud)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->off = off;
    c->mem = (mf_mem){ alloc, ud };
    pthread_mutex_init(&c->lock, NULL);
}

void mg__mesh_release(mg__mesh *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        mf_mem mem = s->m->mem;     /* the snapshot came from there too */
        mf_mesh_free(s->m);
        mem.alloc(mem.ud, s, sizeof *s, 0);
    }
}

const mf_mesh *mg__mesh_get(const mg__mesh *s)
{
    return s->m;
}

static void drop(mg__mesh_cache *c)
{
    mg__mesh_release(c->snap);
    c->snap = NULL;
    if (c->dir)
        c->mem.alloc(c->mem.ud, c->dir, strlen(c->dir) + 1, 0);
    c->dir = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

void mg__mesh_cache_free(mg__mesh_cache *c)
{
    drop(c);
    pthread_mutex_destroy(&c->lock);
}

/* ==========================================================================
 * Watching
 * ========================================================================== */

#ifdef __linux__
static bool watch(int fd, const char *path)
{
    return inotify_add_watch(fd, path, WATCH_MASK) >= 0 || errno == ENOENT || errno == ENOTDIR;
}

/* Watches the directory holding a file. */
static bool watch_dir_of(int fd, const char *file)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(file, '/');
    if (!slash)
        return watch(fd, ".");
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - file) ? (int)(slash - file) : 1, file);
    return watch(fd, dir);
}

/* Watches path and, down to `depth` more levels, every subdirectory:
 * what load_products lists (domains/<domain>/<product>/). */
static bool watch_tree(int fd, const char *path, int depth)
{
    if (!watch(fd, path))
        return false;
    if (depth == 0)
        return true;
    DIR *d = opendir(path);
    if (!d)
        return true;   /* not there: the load reports it; creating it is an event */
    bool ok = true;
    struct dirent *de;
    while (ok && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;   /* load_products skips these too */
        char sub[PATH_MAX];
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) < sizeof sub)
            ok = watch_tree(fd, sub, depth - 1);
    }
    closedir(d);
    return ok;
}

/* The directories of every file the load checked but did not list. */
static bool watch_files(int fd, const mf_mesh *m)
{
    bool ok = watch(fd, m->global_dir);
    for (size_t i = 0; ok && i < m->nglobals; i++)
        ok = watch_dir_of(fd, m->globals[i].file);
    for (size_t i = 0; ok && i < m->nproducts; i++) {
        const mf_product *p = &m->products[i];
        for (size_t k = 0; ok && k < p->policies.n; k++)
            ok = watch_dir_of(fd, p->policies.v[k]);
        for (size_t k = 0; ok && k < p->tests.n; k++)
            ok = watch_dir_of(fd, p->tests.v[k]);
    }
    return ok;
}

/* Whether a change was reported since the watches were set. */
static bool changed(int fd)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n = read(fd, buf, sizeof buf);
    return n > 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static int watch_mesh(const char *dir)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0)
        return -1;
    char domains[PATH_MAX];
    snprintf(domains, sizeof domains, "%s/domains", dir);
    if (!watch(fd, dir) || !watch_tree(fd, domains, 2)) {
        close(fd);
        return -1;
    }
    return fd;
}
#else
static bool watch_files(int fd, const mf_mesh *m)
{
    (void)fd;
    (void)m;
    return false;
}
static bool changed(int fd)
{
    (void)fd;
    return true;
}
static int watch_mesh(const char *dir)
{
    (void)dir;
    return -1;
}
#endif

/* ==========================================================================
 * Acquiring a snapshot
 * ========================================================================== */

/* Reuses the cached snapshot of dir when nothing changed; else NULL. */
static mg__mesh *reuse(mg__mesh_cache *c, const char *dir)
{
    if (!c->snap || !c->dir || strcmp(c->dir, dir) != 0)
        return NULL;
    if (changed(c->fd)) {
        drop(c);
        return NULL;
    }
    atomic_fetch_add(&c->snap->refs, 1);
    return c->snap;
}

/* Keeps s (with the watches in fd) as the cache of dir, when nothing
 * changed while it was read. Takes fd. */
static void keep(mg__mesh_cache *c, const char *dir, mg__mesh *s, int fd)
{
    size_t size = strlen(dir) + 1;
    char *copy = fd >= 0 ? c->mem.alloc(c->mem.ud, NULL, 0, size) : NULL;
    if (copy)
        memcpy(copy, dir, size);
    if (!copy || !watch_files(fd, s->m) || changed(fd)) {
        if (copy)
            c->mem.alloc(c->mem.ud, copy, size, 0);
        if (fd >= 0)
            close(fd);
        return;
    }
    drop(c);
    c->dir = copy;
    c->fd = fd;
    c->snap = s;
    atomic_fetch_add(&s->refs, 1);
}

mg_status mg__mesh_acquire(mg__mesh_cache *c, const char *dir, mg__mesh **out, mg_error *err)
{
    *out = NULL;
    pthread_mutex_lock(&c->lock);
    mg__mesh *s = c->off ? NULL : reuse(c, dir);
    if (s) {
        pthread_mutex_unlock(&c->lock);
        *out = s;
        return MG_OK;
    }
    /* Watch first, then read: a change during the read is seen. */
    int fd = c->off ? -1 : watch_mesh(dir);
    mf_mesh *m = NULL;
    mg_status st = mf_mesh_load_in(&c->mem, dir, &m, err);
    if (st == MG_OK && !(s = c->mem.alloc(c->mem.ud, NULL, 0, sizeof *s))) {
        mf_mesh_free(m);
        st = mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    if (st == MG_OK) {
        atomic_init(&s->refs, 1);
        s->m = m;
        keep(c, dir, s, fd);
        *out = s;
    } else if (fd >= 0)
        close(fd);
    pthread_mutex_unlock(&c->lock);
    return st;
}
