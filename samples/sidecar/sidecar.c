/*
 * sidecar.c — a minimal data product sidecar embedding libmeshgov, built
 * against the installed library with `pkg-config --cflags --libs meshgov`.
 *
 * It does what a real sidecar does on start-up and on every request: load
 * the product's policy set once, resolve the subjects and contexts it sees
 * to handles, look up port and column ids, then decide from several
 * threads at once, each with its own mg_decision (deciding allocates
 * nothing and shares the immutable policy set). At the end it prints what
 * each thread decided and one decision explained as JSON.
 *
 * usage: sidecar MESH_DIR [PRODUCT_URI [DECISIONS_PER_THREAD]]
 */
#include <meshgov.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 4

/* The people and services this sidecar sees, as its identity provider
 * would describe them. */
static const char *const subject_json[] = {
    "{\"id\": \"ann@corp.example\", \"roles\": [\"analyst\"], \"domain\": \"sales\"}",
    "{\"id\": \"fred@corp.example\", \"roles\": [\"pii-reader\", \"analyst\"], \"domain\": \"sales\"}",
    "{\"id\": \"ext-4711@partner.com\", \"roles\": [\"partner\"], \"domain\": \"sales\"}",
};
static const char *const context_json[] = {
    "{\"purpose\": \"fraud\", \"region\": \"eu-west-1\"}",
    "{\"purpose\": \"reporting\", \"region\": \"eu-central-1\"}",
    "{\"purpose\": \"reporting\", \"region\": \"us-east-1\"}",
};
#define NSUBJECTS (sizeof subject_json / sizeof subject_json[0])
#define NCONTEXTS (sizeof context_json / sizeof context_json[0])

/* Everything resolved once at start-up, shared read-only by the threads. */
typedef struct sidecar {
    mg_policy_set *set;
    mg_subject *subjects[NSUBJECTS];
    mg_context *contexts[NCONTEXTS];
    int read, port;
    int columns[4];
    size_t ncolumns;
    long per_thread;
} sidecar;

typedef struct worker {
    const sidecar *sc;
    pthread_t thread;
    long effects[3];        /* indexed by mg_effect */
    uint64_t rules;         /* conditions evaluated */
    mg_status status;
} worker;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, const mg_error *err)
{
    fprintf(stderr, "sidecar: %s: %s\n", what, err->message ? err->message : mg_status_str(err->code));
    if (err->detail)
        fputs(err->detail, stderr);
    return 1;
}

/* One thread: its own decision, every subject with every context in turn. */
static void *work(void *arg)
{
    worker *w = arg;
    const sidecar *sc = w->sc;
    mg_decision *d;
    if ((w->status = mg_decision_new(sc->set, &d, NULL)) != MG_OK)
        return NULL;
    mg_request r = { .action = sc->read, .port = sc->port, .columns = sc->columns,
                     .n_columns = sc->ncolumns, .now_us = now_us() };
    for (long i = 0; i < sc->per_thread; i++) {
        r.subject = sc->subjects[i % NSUBJECTS];
        r.context = sc->contexts[(i / NSUBJECTS) % NCONTEXTS];
        if ((w->status = mg_decide(sc->set, &r, d, NULL)) != MG_OK)
            break;
        w->effects[mg_decision_effect(d)]++;
    }
    w->rules = mg_decision_rules_evaluated(d);
    mg_decision_free(d);
    return NULL;
}

/* Subjects, contexts and ids: resolved once, used for every decision. */
static int resolve(sidecar *sc)
{
    mg_error err = { 0 };
    for (size_t i = 0; i < NSUBJECTS; i++)
        if (mg_subject_new(sc->set, subject_json[i], strlen(subject_json[i]), &sc->subjects[i], &err))
            return fail("subject", &err);
    for (size_t i = 0; i < NCONTEXTS; i++)
        if (mg_context_new(sc->set, context_json[i], strlen(context_json[i]), &sc->contexts[i], &err))
            return fail("context", &err);
    static const char *const names[] = { "order_id", "customer_id", "email", "amount_cents" };
    sc->read = mg_action_id(sc->set, "read");
    sc->port = mg_port_id(sc->set, "orders");
    for (size_t i = 0; i < 4; i++)
        if ((sc->columns[sc->ncolumns] = mg_column_id(sc->set, sc->port, names[i])) >= 0)
            sc->ncolumns++;
    if (sc->read < 0 || sc->port < 0 || sc->ncolumns == 0) {
        fprintf(stderr, "sidecar: the product has no port `orders` with the sample columns\n");
        return 1;
    }
    return 0;
}

static int run_threads(sidecar *sc)
{
    worker w[THREADS] = { 0 };
    double t0 = seconds();
    for (int i = 0; i < THREADS; i++) {
        w[i].sc = sc;
        if (pthread_create(&w[i].thread, NULL, work, &w[i]) != 0) {
            fprintf(stderr, "sidecar: cannot start thread %d\n", i);
            for (int k = 0; k < i; k++)
                pthread_join(w[k].thread, NULL);
            return 1;
        }
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(w[i].thread, NULL);
    double dt = seconds() - t0;
    int rc = 0;
    for (int i = 0; i < THREADS; i++) {
        long n = w[i].effects[MG_ALLOW] + w[i].effects[MG_PARTIAL] + w[i].effects[MG_DENY];
        printf("thread %d: %ld decisions: %ld allow, %ld partial, %ld deny; %.1f conditions per decision\n",
               i, n, w[i].effects[MG_ALLOW], w[i].effects[MG_PARTIAL], w[i].effects[MG_DENY],
               n ? (double)w[i].rules / (double)n : 0.0);
        if (w[i].status != MG_OK) {
            fprintf(stderr, "sidecar: thread %d: %s\n", i, mg_status_str(w[i].status));
            rc = 1;
        }
    }
    printf("%d threads, %ld decisions in %.3f s (%.0f decisions/s)\n", THREADS, THREADS * sc->per_thread, dt,
           dt > 0 ? (double)(THREADS * sc->per_thread) / dt : 0.0);
    return rc;
}

/* One decision with its rule-by-rule trace: the partner reading orders. */
static int explain_one(const sidecar *sc)
{
    mg_error err = { 0 };
    mg_decision *d = NULL;
    char *json = NULL;
    mg_request r = { sc->subjects[2], sc->read, sc->port, sc->columns, sc->ncolumns, sc->contexts[1], now_us() };
    int rc = 0;
    if (mg_decision_new(sc->set, &d, &err) != MG_OK)
        rc = fail("decision", &err);
    if (rc == 0) {
        mg_decision_set_explain(d, true);
        if (mg_decide(sc->set, &r, d, &err) != MG_OK || mg_decision_json(sc->set, d, true, &json, &err) != MG_OK)
            rc = fail("explain", &err);
    }
    if (rc == 0)
        printf("explained decision for ext-4711@partner.com:\n%s\n", json);
    mg_free(json);
    mg_decision_free(d);
    mg_error_clear(&err);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: sidecar MESH_DIR [PRODUCT_URI [DECISIONS_PER_THREAD]]\n");
        return 2;
    }
    const char *uri = argc > 2 ? argv[2] : "dp://sales/orders";
    sidecar sc = { .per_thread = argc > 3 ? atol(argv[3]) : 250000 };
    mg_engine *e = NULL;
    mg_error err = { 0 };
    int rc = 0;
    double t0 = seconds();
    if (mg_engine_new(NULL, &e, &err) != MG_OK || mg_engine_load(e, argv[1], uri, &err) != MG_OK)
        rc = fail("load", &err);
    if (rc == 0) {
        sc.set = mg_engine_acquire(e);
        printf("loaded %s in %.1f ms, policy set %.16s...\n", uri, (seconds() - t0) * 1e3,
               mg_policy_set_digest(sc.set));
        rc = resolve(&sc);
    }
    if (rc == 0)
        rc = run_threads(&sc);
    if (rc == 0)
        rc = explain_one(&sc);
    for (size_t i = 0; i < NSUBJECTS; i++)
        mg_subject_free(sc.subjects[i]);
    for (size_t i = 0; i < NCONTEXTS; i++)
        mg_context_free(sc.contexts[i]);
    mg_policy_set_release(sc.set);
    mg_engine_free(e);
    mg_error_clear(&err);
    return rc;
}
