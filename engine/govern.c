/*
 * govern.c — the non-access rules of a policy set, evaluated for one port
 * or column: retention verdicts (DESIGN.md "Combining retention and
 * erasure"), holds, required encryption and forget plans. These run on the
 * same VM as access rules, with no subject or context (their attributes
 * read as missing), and may allocate: they are not on the decision path.
 */
#include <stdio.h>
#include <string.h>
#include "engine/engine.h"

typedef struct geval {
    const mg_policy_set *set;
    vm_frame f;
    sl_ctx cx;
    char scratch[MG_SCRATCH_BYTES];
    sl_value *stack;
} geval;

static mg_status geval_open(geval *g, const mg_policy_set *set, int port, int column, int64_t now_us,
                            mg_error *err)
{
    const vm_program *p = set->prog;
    memset(g, 0, sizeof *g);
    if (port < 0 || (uint32_t)port >= p->nports)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "port id %d out of range", port);
    const vm_port *vp = &p->ports[port];
    if (column >= 0 && (column < (int)vp->first_col || column >= (int)(vp->first_col + vp->ncols)))
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "column id %d is not a column of port %d", column, port);
    g->set = set;
    g->stack = mg__alloc(set->alloc, set->ud, (p->max_stack + 1) * sizeof *g->stack);
    g->cx.syms = p->syms;
    g->cx.scratch = g->scratch;
    g->cx.scratch_cap = sizeof g->scratch;
    g->cx.now_us = now_us;
    if (!g->stack || !sl_regex_ctx_init(&g->cx, set->alloc, set->ud)) {
        mg__free(set->alloc, set->ud, g->stack, (p->max_stack + 1) * sizeof *g->stack);
        g->stack = NULL;
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    g->f.prog = p;
    g->f.product = p->product_vals;
    g->f.port = p->port_vals + (size_t)port * p->nslots[ROOT_PORT];
    g->f.column = column >= 0 ? p->col_vals + (size_t)column * p->nslots[ROOT_COLUMN] : NULL;
    g->f.action = sl_missing();
    g->f.sfacts = p->null_facts[0];
    g->f.cfacts = p->null_facts[1];
    g->f.cx = &g->cx;
    g->f.stack = g->stack;
    return MG_OK;
}

static void geval_close(geval *g)
{
    if (!g->stack)
        return;
    sl_regex_ctx_fini(&g->cx);
    mg__free(g->set->alloc, g->set->ud, g->stack, (g->set->prog->max_stack + 1) * sizeof *g->stack);
}

static const char *rule_name(const vm_program *p, const vm_rule *r)
{
    return sl_intern_str(p->syms, r->id, NULL);
}

static mg_status eval_error(const geval *g, const vm_rule *r, uint32_t pc, sl_err e, mg_error *err)
{
    const vm_program *p = g->set->prog;
    uint32_t line = r->line, col = r->col;
    prog_locate(p, pc, &line, &col);
    return mg_error_set(err, MG_EEVAL, sl_intern_str(p->syms, p->policies[r->policy].file, NULL), (int)line,
                        (int)col, "rule %s: %s", rule_name(p, r), sl_err_str(e));
}

static mg_status run(geval *g, const vm_rule *r, uint32_t pc, vm_result *out, mg_error *err)
{
    sl_err e;
    uint32_t epc;
    g->cx.scratch_len = 0;
    g->f.budget = g->set->prog->step_budget;
    *out = vm_run(&g->f, pc, &e, &epc);
    return *out == VM_ERROR ? eval_error(g, r, epc, e, err) : MG_OK;
}

/* Whether rule r applies to the frame's resource: `when` and not `unless`. */
static mg_status applies(geval *g, const vm_rule *r, bool *yes, mg_error *err)
{
    vm_result v = VM_TRUE;
    mg_status s = MG_OK;
    *yes = false;
    if (r->when_pc != VM_NO_CODE && (s = run(g, r, r->when_pc, &v, err)) != MG_OK)
        return s;
    if (v == VM_TRUE && r->unless_pc != VM_NO_CODE) {
        vm_result u;
        if ((s = run(g, r, r->unless_pc, &u, err)) != MG_OK)
            return s;
        v = u == VM_TRUE ? VM_FALSE : VM_TRUE;
    }
    *yes = v == VM_TRUE;
    return MG_OK;
}

static void copy_id(char *dst, size_t cap, const vm_program *p, const vm_rule *r)
{
    snprintf(dst, cap, "%s", rule_name(p, r));
}

/* ==========================================================================
 * Holds
 * ========================================================================== */

static mg_status hold_of(geval *g, bool *held, char *rule, size_t cap, mg_error *err)
{
    const vm_program *p = g->set->prog;
    *held = false;
    for (uint32_t i = 0; i < p->nrules && !*held; i++) {
        const vm_rule *r = &p->rules[i];
        if (r->kind != RK_HOLD)
            continue;
        mg_status s = applies(g, r, held, err);
        if (s)
            *held = true;       /* a hold that cannot be decided holds */
        if (*held && rule)
            copy_id(rule, cap, p, r);
        if (s)
            return s;
    }
    return MG_OK;
}

mg_status mg_hold_applies(const mg_policy_set *set, int port, int64_t now_us, bool *held, mg_error *err)
{
    if (!set || !held)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    geval g;
    mg_status s = geval_open(&g, set, port, -1, now_us, err);
    if (s == MG_OK)
        s = hold_of(&g, held, NULL, 0, err);
    geval_close(&g);
    return s;
}

/* ==========================================================================
 * Retention
 * ========================================================================== */

static int disposal_rank(mg_disposal d)
{
    return d == MG_ARCHIVE ? 3 : d == MG_ANONYMIZE ? 2 : d == MG_DELETE ? 1 : 0;
}

static mg_status row_time(const geval *g, const vm_rule *r, const char *const *names, const int64_t *times,
                          size_t n, int64_t *t, mg_error *err)
{
    const vm_program *p = g->set->prog;
    const char *want = r->time_col ? sl_intern_str(p->syms, r->time_col, NULL) : "event_time";
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], want) == 0) {
            *t = times[i];
            return MG_OK;
        }
    return mg_error_set(err, MG_EEVAL, sl_intern_str(p->syms, p->policies[r->policy].file, NULL), (int)r->line,
                        (int)r->col, "rule %s: the row has no time column `%s`", rule_name(p, r), want);
}

typedef struct due {
    bool any;
    int64_t due;
    mg_disposal disposal;
    const vm_rule *rule;
} due;

/* Latest due wins; on a tie, archive > anonymize > delete. */
static void consider(due *d, const vm_rule *r, int64_t when)
{
    mg_disposal disp = (mg_disposal)r->disposal;
    if (!d->any || when > d->due || (when == d->due && disposal_rank(disp) > disposal_rank(d->disposal))) {
        d->any = true;
        d->due = when;
        d->disposal = disp;
        d->rule = r;
    }
}

mg_status mg_retention_verdict(const mg_policy_set *set, int port, int column, const char *const *time_names,
                               const int64_t *times, size_t ntimes, int64_t now_us, mg_retention *out,
                               mg_error *err)
{
    if (!set || !out || (ntimes && (!time_names || !times)))
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    memset(out, 0, sizeof *out);
    geval g;
    mg_status s = geval_open(&g, set, port, column, now_us, err);
    const vm_program *p = set->prog;
    due global = { 0 }, local = { 0 };
    for (uint32_t i = 0; s == MG_OK && i < p->nrules; i++) {
        const vm_rule *r = &p->rules[i];
        if (r->kind != RK_RETAIN || (column >= 0) != (r->target == TG_COLUMN))
            continue;
        bool yes;
        int64_t t = 0, when;
        if ((s = applies(&g, r, &yes, err)) != MG_OK || !yes)
            continue;
        if ((s = row_time(&g, r, time_names, times, ntimes, &t, err)) != MG_OK)
            break;
        if (!sl_add_overflow(t, r->period_us, &when))
            when = INT64_MAX;
        consider(r->global ? &global : &local, r, when);
    }
    /* A local policy cannot postpone a global due time. */
    const due *win = global.any ? &global : &local;
    if (s == MG_OK && win->any) {
        out->at_due = win->disposal;
        out->due_us = win->due;
        copy_id(out->rule, sizeof out->rule, p, win->rule);
        out->disposal = now_us >= win->due ? win->disposal : MG_KEEP;
    }
    if (s == MG_OK) {
        geval_close(&g);
        s = geval_open(&g, set, port, -1, now_us, err);
        if (s == MG_OK)
            s = hold_of(&g, &out->held, out->hold_rule, sizeof out->hold_rule, err);
        if (out->held)
            out->disposal = MG_KEEP;     /* a hold always beats deletion */
    }
    geval_close(&g);
    return s;
}

/* ==========================================================================
 * Encryption and forget
 * ========================================================================== */

mg_status mg_encryption_required(const mg_policy_set *set, int port, int column, int64_t now_us, bool *at_rest,
                                 bool *in_transit, mg_error *err)
{
    if (!set || !at_rest || !in_transit)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    *at_rest = *in_transit = false;
    geval g;
    mg_status s = geval_open(&g, set, port, column, now_us, err);
    const vm_program *p = set->prog;
    for (uint32_t i = 0; s == MG_OK && i < p->nrules; i++) {
        const vm_rule *r = &p->rules[i];
        bool yes;
        if (r->kind != RK_ENCRYPT || (column >= 0) != (r->target == TG_COLUMN))
            continue;
        if ((s = applies(&g, r, &yes, err)) != MG_OK || !yes)
            continue;
        if (r->encryption == 1)
            *at_rest = true;
        else
            *in_transit = true;
    }
    geval_close(&g);
    return s;
}

mg_status mg_forget_plan_of(const mg_policy_set *set, int port, int64_t now_us, mg_forget_plan *out, mg_error *err)
{
    if (!set || !out)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    memset(out, 0, sizeof *out);
    out->within_us = -1;
    geval g;
    mg_status s = geval_open(&g, set, port, -1, now_us, err);
    const vm_program *p = set->prog;
    for (uint32_t i = 0; s == MG_OK && i < p->nrules; i++) {
        const vm_rule *r = &p->rules[i];
        bool yes;
        if (r->kind != RK_FORGET)
            continue;
        if ((s = applies(&g, r, &yes, err)) != MG_OK || !yes)
            continue;
        mg_disposal d = (mg_disposal)r->disposal;
        /* delete beats anonymize; the deadline is the earliest `within` */
        if (!out->covered || (d == MG_DELETE && out->disposal != MG_DELETE)) {
            out->disposal = d;
            copy_id(out->rule, sizeof out->rule, p, r);
        }
        out->covered = true;
        if (r->period_us >= 0 && (out->within_us < 0 || r->period_us < out->within_us))
            out->within_us = r->period_us;
    }
    geval_close(&g);
    return s;
}
