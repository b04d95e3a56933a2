/*
 * decide.c — access decisions (DESIGN.md "Access semantics").
 *
 * Default deny; a column is allowed when a permit applies at the product,
 * port or column level and no forbid applies; a forbid always wins. An error
 * in a rule makes a permit not apply and a forbid or mask apply (fail
 * closed). Dry-run rules are evaluated into a second, "would-be" state that
 * never changes the decision. The deciding rule is the applying forbid with
 * the lowest priority index, else the applying permit with the lowest:
 * rules are stored in priority order (global first, then policy name, then
 * source order), so the index is the priority.
 *
 * Nothing here allocates: the caller's mg_decision holds every buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "engine/engine.h"

/* ==========================================================================
 * Decision objects
 * ========================================================================== */

mg_status mg_decision_new(const mg_policy_set *set, mg_decision **out, mg_error *err)
{
    (void)err;
    if (!out)
        return MG_EINVAL;
    *out = NULL;
    if (!set)
        return MG_EINVAL;
    const vm_program *p = set->prog;
    mg_decision *d = mg__alloc(set->alloc, set->ud, sizeof *d);
    if (!d)
        return MG_ENOMEM;
    memset(d, 0, sizeof *d);
    d->set = mg_policy_set_retain((mg_policy_set *)set);
    d->prog = p;
    d->audit = set->audit;
    d->audit_mode = set->audit_mode;
    d->alloc = set->alloc;
    d->ud = set->ud;
    d->cap_cols = p->max_cols ? p->max_cols : 1;
    d->stack_cap = p->max_stack + 1;
    d->scratch = mg__alloc(d->alloc, d->ud, MG_SCRATCH_BYTES);
    d->stack = mg__alloc(d->alloc, d->ud, d->stack_cap * sizeof *d->stack);
    d->cols = mg__alloc(d->alloc, d->ud, d->cap_cols * sizeof *d->cols);
    d->trace = mg__alloc(d->alloc, d->ud, MG_TRACE_CAP * sizeof *d->trace);
    d->cx.syms = p->syms;
    d->cx.scratch = d->scratch;
    d->cx.scratch_cap = MG_SCRATCH_BYTES;
    d->audit_seq = -1;
    d->deciding = d->would_deciding = RULE_NONE;
    if (!d->scratch || !d->stack || !d->cols || !d->trace || !sl_regex_ctx_init(&d->cx, d->alloc, d->ud)) {
        mg_decision_free(d);
        return MG_ENOMEM;
    }
    *out = d;
    return MG_OK;
}

void mg_decision_free(mg_decision *d)
{
    if (!d)
        return;
    sl_regex_ctx_fini(&d->cx);
    mg__free(d->alloc, d->ud, d->scratch, MG_SCRATCH_BYTES);
    mg__free(d->alloc, d->ud, d->stack, d->stack_cap * sizeof *d->stack);
    mg__free(d->alloc, d->ud, d->cols, d->cap_cols * sizeof *d->cols);
    mg__free(d->alloc, d->ud, d->trace, MG_TRACE_CAP * sizeof *d->trace);
    mg_policy_set *set = d->set;
    mg__free(d->alloc, d->ud, d, sizeof *d);
    mg_policy_set_release(set);
}

void mg_decision_set_explain(mg_decision *d, bool on)
{
    if (d)
        d->explain = on;
}

/* ==========================================================================
 * Evaluating one rule entry
 * ========================================================================== */

typedef struct run {
    mg_decision *d;
    const mg_request *req;
    uint32_t sbits, serrs, cbits, cerrs;    /* facts as bit sets (form.c) */
    uint64_t evaluated;     /* entries evaluated, added to the decision's count */
    bool no_errors;         /* no fact is an error: every form decides */
    bool explain;           /* the decision's, read once */
    bool framed;            /* f is filled: a condition has run in the VM */
    vm_frame f;
} run;

/* The VM's view of the request, filled the first time a condition needs
 * the VM: most decisions never do. */
static void frame(run *r, int32_t col)
{
    const vm_program *p = r->d->prog;
    const mg_request *req = r->req;
    if (!r->framed) {
        r->framed = true;
        r->f.prog = p;
        r->f.subject = req->subject ? req->subject->h.attrs->slots : NULL;
        r->f.context = req->context ? req->context->h.attrs->slots : NULL;
        r->f.sfacts = req->subject ? req->subject->h.attrs->facts : p->null_facts[0];
        r->f.cfacts = req->context ? req->context->h.attrs->facts : p->null_facts[1];
        r->f.product = p->product_vals;
        r->f.port = p->port_vals + (size_t)req->port * p->nslots[ROOT_PORT];
        r->f.action = p->action_vals[req->action];
        r->f.cx = &r->d->cx;
        r->f.stack = r->d->stack;
        r->d->cx.now_us = r->d->now_us;
    }
    r->f.column = col < 0 ? NULL : p->col_vals + (size_t)col * p->nslots[ROOT_COLUMN];
    r->f.budget = p->step_budget;
    r->d->cx.scratch_len = 0;
}

static void note_error(const vm_frame *f, mg_decision *d, uint32_t rule, uint32_t start, uint32_t pc, int32_t col,
                       sl_err e)
{
    d->nerrs_total++;
    if (d->nerrs >= MG_MAX_ERRORS)
        return;
    derr *x = &d->errs[d->nerrs++];
    *x = (derr){ rule, pc, col, (uint8_t)e, 0xff, 0 };
    if (e == SL_E_MISSING && !vm_missing_attr(f, start, pc, &x->miss_root, &x->miss_slot))
        x->miss_root = 0xff;
}

static void note_trace(mg_decision *d, uint32_t rule, int32_t col, uint8_t result)
{
    d->ntrace_total++;
    if (d->ntrace < MG_TRACE_CAP)
        d->trace[d->ntrace++] = (dtrace){ rule, col, result };
}

/* The value of a form whose facts hold no error: a literal that decides
 * the chain (a false one in an `and`, a true one in an `or`) shows as a
 * bit after the flip (form.c). */
static inline vm_result form_value(uint8_t how, const vm_form *fm, uint32_t s, uint32_t c)
{
    if (how > FORM_OR)
        return how == FORM_TRUE ? VM_TRUE : VM_FALSE;
    bool decided = (((s ^ fm->sflip) & fm->smask) | ((c ^ fm->cflip) & fm->cmask)) != 0;
    return decided == (how == FORM_OR) ? VM_TRUE : VM_FALSE;
}

/* A condition in the VM, with the whole budget: out of line, so that the
 * common case below stays small. */
__attribute__((noinline)) static vm_result run_vm(run *r, uint32_t pc, uint32_t rule, int32_t col)
{
    sl_err e;
    uint32_t epc;
    frame(r, col);
    vm_result v = vm_run(&r->f, pc, &e, &epc);
    if (v == VM_ERROR)
        note_error(&r->f, r->d, rule, pc, epc, col, e);
    return v;
}

/* Condition `unless` (or `when`) of entry k: by its form when none of the
 * form's facts is an error, else in the VM. */
__attribute__((always_inline)) static inline vm_result run_cond(run *r, uint8_t how, const vm_form *fm, uint32_t k,
                                                                bool unless, int32_t col)
{
    if (__builtin_expect(how != FORM_NONE, 1) &&
        __builtin_expect(r->no_errors || ((r->serrs & fm->smask) | (r->cerrs & fm->cmask)) == 0, 1))
        return form_value(how, fm, r->sbits, r->cbits);
    const vm_entry *en = &r->d->prog->entries[k];
    return run_vm(r, unless ? en->unless_pc : en->when_pc, en->rule, col);
}

/* Evaluates entry k's `when` and `unless`. */
__attribute__((always_inline)) static inline vm_result eval_entry(run *r, const vm_hot *h, uint32_t k, int32_t col)
{
    mg_decision *d = r->d;
    r->evaluated++;
    vm_result v = run_cond(r, h->how & 15, &h->when, k, false, col);
    uint8_t unless = h->how >> 4;
    if (v == VM_TRUE && unless != FORM_ABSENT) {
        vm_result u = run_cond(r, unless, &d->prog->unless_forms[k], k, true, col);
        v = u == VM_ERROR ? VM_ERROR : u == VM_TRUE ? VM_FALSE : VM_TRUE;
    }
    if (__builtin_expect(r->explain, 0)) {
        const vm_entry *en = &d->prog->entries[k];
        bool decided_at_load = en->when_pc == VM_ALWAYS && en->unless_pc == VM_NO_CODE;
        note_trace(d, en->rule, col, decided_at_load ? TRACE_STATIC : (uint8_t)v);
    }
    return v;
}

static inline void take_first(uint32_t *slot, uint32_t rule)
{
    if (rule < *slot)
        *slot = rule;
}

/* Folds the entries of one range into state st. */
__attribute__((always_inline)) static inline void eval_range(run *r, const vm_range *range, dstate *st,
                                                             int32_t col)
{
    const vm_hot *hot = r->d->prog->hot;
    for (uint32_t k = range->first, end = k + range->n; k < end; k++) {
        const vm_hot *en = &hot[k];
        uint32_t i = en->rule;
        bool dry = en->dry_run;
        if (en->kind == RK_FORBID) {
            if (!(i < st->would_forbid || (!dry && i < st->forbid)))
                continue;
            if (eval_entry(r, en, k, col) == VM_FALSE)
                continue;                       /* true or error: applies */
            if (!dry)
                take_first(&st->forbid, i);
            take_first(&st->would_forbid, i);
        } else if (en->kind == RK_PERMIT) {
            bool denied = st->forbid != RULE_NONE && st->would_forbid != RULE_NONE;
            if (denied || !(i < st->would_permit || (!dry && i < st->permit)))
                continue;
            if (eval_entry(r, en, k, col) != VM_TRUE)
                continue;                       /* error: does not apply */
            if (!dry)
                take_first(&st->permit, i);
            take_first(&st->would_permit, i);
        } else {                                /* mask */
            bool may = (st->permit != RULE_NONE && st->forbid == RULE_NONE) ||
                       (st->would_permit != RULE_NONE && st->would_forbid == RULE_NONE);
            if (!may || eval_entry(r, en, k, col) == VM_FALSE)
                continue;
            if (!dry && en->mask > st->mask) {
                st->mask = en->mask;
                st->mask_rule = i;
            }
            if (en->mask > st->would_mask) {
                st->would_mask = en->mask;
                st->would_mask_rule = i;
            }
        }
    }
}

/* ==========================================================================
 * Combining
 * ========================================================================== */

static bool allowed(const dstate *st) { return st->permit != RULE_NONE && st->forbid == RULE_NONE; }
static bool would_allow(const dstate *st) { return st->would_permit != RULE_NONE && st->would_forbid == RULE_NONE; }

static mg_effect combine(uint32_t n_allowed, uint32_t n)
{
    return n_allowed == n ? MG_ALLOW : n_allowed == 0 ? MG_DENY : MG_PARTIAL;
}

/* The deciding rule: the first applying forbid anywhere, else the first
 * applying permit. */
static uint32_t deciding_rule(const mg_decision *d, bool would)
{
    uint32_t forbid = would ? d->port.would_forbid : d->port.forbid;
    uint32_t permit = would ? d->port.would_permit : d->port.permit;
    for (uint32_t i = 0; i < d->ncols; i++) {
        const dstate *st = &d->cols[i].st;
        take_first(&forbid, would ? st->would_forbid : st->forbid);
        take_first(&permit, would ? st->would_permit : st->permit);
    }
    return forbid != RULE_NONE ? forbid : permit;
}

static void finish(mg_decision *d)
{
    if (d->ncols == 1) {    /* the common request; a column's state only
                               narrows the port's, so it alone decides */
        const dstate *st = &d->cols[0].st;
        d->effect = allowed(st) ? MG_ALLOW : MG_DENY;
        d->would_effect = would_allow(st) ? MG_ALLOW : MG_DENY;
        d->deciding = st->forbid != RULE_NONE ? st->forbid : st->permit;
        d->would_deciding = st->would_forbid != RULE_NONE ? st->would_forbid : st->would_permit;
        return;
    }
    if (d->ncols == 0) {
        d->effect = allowed(&d->port) ? MG_ALLOW : MG_DENY;
        d->would_effect = would_allow(&d->port) ? MG_ALLOW : MG_DENY;
    } else {
        uint32_t a = 0, w = 0;
        for (uint32_t i = 0; i < d->ncols; i++) {
            a += allowed(&d->cols[i].st);
            w += would_allow(&d->cols[i].st);
        }
        d->effect = combine(a, d->ncols);
        d->would_effect = combine(w, d->ncols);
    }
    d->deciding = deciding_rule(d, false);
    d->would_deciding = deciding_rule(d, true);
}

static void reset(mg_decision *d, const mg_request *req)
{
    d->port = (dstate){ RULE_NONE, RULE_NONE, RULE_NONE, RULE_NONE, 0, 0, RULE_NONE, RULE_NONE };
    d->ncols = 0;
    d->nerrs = d->nerrs_total = 0;
    d->ntrace = d->ntrace_total = 0;
    d->action = req->action;
    d->port_id = req->port;
    d->now_us = req->now_us;
    d->audit_seq = -1;
    d->decided = true;
}

static mg_status check_request(const vm_program *p, const mg_decision *d, const mg_request *req, mg_error *err)
{
    if (req->port < 0 || (uint32_t)req->port >= p->nports)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "port id %d out of range", req->port);
    if (req->action < 0 || (uint32_t)req->action >= p->nactions)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "action id %d out of range", req->action);
    const vm_port *vp = &p->ports[req->port];
    /* No columns is not the whole port: deciding at port level only would
     * skip every column rule. */
    if (req->columns && req->n_columns == 0)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "no columns requested; columns = NULL requests the whole port");
    if (req->columns && req->n_columns > d->cap_cols)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "%zu columns requested; the widest port has %u",
                            req->n_columns, d->cap_cols);
    for (size_t i = 0; req->columns && i < req->n_columns; i++) {
        int c = req->columns[i];
        if (c < (int)vp->first_col || c >= (int)(vp->first_col + vp->ncols))
            return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "column id %d is not a column of port %d", c, req->port);
    }
    if ((req->subject && req->subject->h.set != d->set) || (req->context && req->context->h.set != d->set))
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "subject or context was resolved for another policy set");
    return MG_OK;
}

mg_status mg_decide(const mg_policy_set *set, const mg_request *req, mg_decision *d, mg_error *err)
{
    if (!set || !req || !d || d->set != set)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "decision scratch was made for another policy set");
    const vm_program *p = d->prog;
    mg_status s = check_request(p, d, req, err);
    if (s)
        return s;
    reset(d, req);
    run r;
    r.d = d;
    r.req = req;
    r.sbits = req->subject ? req->subject->h.fact_bits : p->null_bits[0];
    r.serrs = req->subject ? req->subject->h.fact_errs : p->null_errs[0];
    r.cbits = req->context ? req->context->h.fact_bits : p->null_bits[1];
    r.cerrs = req->context ? req->context->h.fact_errs : p->null_errs[1];
    r.no_errors = (r.serrs | r.cerrs) == 0;
    r.explain = d->explain;
    r.evaluated = 0;
    r.framed = false;
    uint32_t action = (uint32_t)req->action;
    /* The first column's rules are looked up after the port's are decided:
     * start that load now, so that it overlaps them. */
    if (req->columns)
        __builtin_prefetch(&p->col_index[(uint32_t)req->columns[0] * p->nactions + action]);
    eval_range(&r, &p->port_index[(uint32_t)req->port * p->nactions + action], &d->port, -1);

    const vm_port *vp = &p->ports[req->port];
    size_t n = req->columns ? req->n_columns : vp->ncols;
    for (size_t i = 0; i < n; i++) {
        int32_t c = req->columns ? req->columns[i] : (int32_t)(vp->first_col + i);
        dcol *dc = &d->cols[d->ncols++];
        dc->col = c;
        dc->st = d->port;
        eval_range(&r, &p->col_index[(uint32_t)c * p->nactions + action], &dc->st, c);
    }
    d->rules_evaluated += r.evaluated;
    finish(d);
    if (d->audit && (d->audit_mode == MG_AUDIT_ALL || d->effect != MG_ALLOW))
        return mg__audit_decision(set, req, d, err);
    return MG_OK;
}

/* ==========================================================================
 * Results
 * ========================================================================== */

mg_effect mg_decision_effect(const mg_decision *d)
{
    return d ? d->effect : MG_DENY;
}

size_t mg_decision_column_count(const mg_decision *d)
{
    return d ? d->ncols : 0;
}

void mg_decision_column(const mg_decision *d, size_t i, int *column, mg_effect *effect, mg_mask *mask)
{
    bool ok = d && i < d->ncols;
    const dstate *st = ok ? &d->cols[i].st : NULL;
    bool allow = ok && allowed(st);
    if (column)
        *column = ok ? d->cols[i].col : -1;
    if (effect)
        *effect = allow ? MG_ALLOW : MG_DENY;
    if (mask)
        *mask = allow ? (mg_mask)st->mask : MG_MASK_NONE;
}

uint64_t mg_decision_rules_evaluated(const mg_decision *d)
{
    return d ? d->rules_evaluated : 0;
}

int64_t mg_decision_audit_seq(const mg_decision *d)
{
    return d ? d->audit_seq : -1;
}

/* ==========================================================================
 * The audit record of a decision: fixed buffers, no allocation
 * ========================================================================== */

typedef struct fbuf {
    char *s;
    size_t n, cap;
    bool full;
} fbuf;

static void fb_put(fbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fb_put(fbuf *b, const char *fmt, ...)
{
    if (b->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= b->cap - b->n)
        b->full = true;     /* the caller writes a shorter form instead */
    else
        b->n += (size_t)k;
}

static const char *sym_of(const vm_program *p, uint32_t s)
{
    return sl_intern_str(p->syms, s, NULL);
}

/* {"columns":{"email":"allow/hash","card":"deny"},"dry_run":"deny","errors":1}
 * The names and effects are the decision; the would-be effect and the error
 * count let an auditor see dry-run impact and fail-closed outcomes. */
static void decision_payload(const vm_program *p, const mg_decision *d, char *buf, size_t cap)
{
    static const char *const eff[] = { "deny", "allow", "partial" };
    static const char *const masks[] = { "", "/year", "/last4", "/hash", "/redact", "/null" };
    fbuf b = { buf, 0, cap - 64, false };       /* room for the tail */
    fb_put(&b, "{\"columns\":{");
    for (uint32_t i = 0; i < d->ncols; i++) {
        const dstate *st = &d->cols[i].st;
        bool ok = allowed(st);
        fb_put(&b, "%s\"%s\":\"%s%s\"", i ? "," : "", sym_of(p, p->col_names[d->cols[i].col]),
               ok ? "allow" : "deny", ok ? masks[st->mask] : "");
    }
    if (b.full) {
        b.full = false;
        b.n = 0;
        fb_put(&b, "{\"columns\":{\"(%u columns)\":\"%s\"", d->ncols, eff[d->effect]);
    }
    b.cap = cap;
    fb_put(&b, "},\"dry_run\":\"%s\",\"errors\":%u}", eff[d->would_effect], d->nerrs_total);
}

mg_status mg__audit_decision(const mg_policy_set *set, const mg_request *req, mg_decision *d, mg_error *err)
{
    static const char *const eff[] = { "deny", "allow", "partial" };
    const vm_program *p = set->prog;
    /* Room for two ids of any length the log accepts: a longer id is
     * refused by the log (MG_ELIMIT), never cut here. */
    char rules[2 * MG_AUDIT_MAX_RULES + 2], payload[MG_AUDIT_MAX_PAYLOAD];
    snprintf(rules, sizeof rules, "%s%s%s", d->deciding == RULE_NONE ? "" : sym_of(p, p->rules[d->deciding].id),
             d->would_deciding != d->deciding && d->would_deciding != RULE_NONE ? " " : "",
             d->would_deciding != d->deciding && d->would_deciding != RULE_NONE
                 ? sym_of(p, p->rules[d->would_deciding].id) : "");
    decision_payload(p, d, payload, sizeof payload);
    mg_audit_record rec = {
        .kind = "decision",
        .product = sym_of(p, p->product_uri),
        .port = sym_of(p, p->ports[req->port].name),
        .subject = req->subject ? req->subject->h.attrs->raw_id : NULL,
        .action = sym_of(p, p->actions[req->action]),
        .effect = eff[d->effect],
        .rules = rules,
        .mode = "enforce",
        .digest = p->digest,
        .payload = payload,
        .event_time_us = req->now_us,
    };
    uint64_t seq;
    mg_status s = mg_audit_record_push(set->audit, &rec, &seq, err);
    if (s == MG_OK) {
        d->audit_seq = (int64_t)seq;
        return MG_OK;
    }
    /* No record, no decision: deny every column (fail closed). */
    for (uint32_t i = 0; i < d->ncols; i++)
        d->cols[i].st.permit = d->cols[i].st.would_permit = RULE_NONE;
    d->port.permit = d->port.would_permit = RULE_NONE;
    d->effect = d->would_effect = MG_DENY;
    d->deciding = d->would_deciding = RULE_NONE;
    return s;
}
