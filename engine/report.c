/*
 * report.c — a decision as JSON: effect, columns with masks, the deciding
 * rule and where it is written, errors, the dry-run difference, the policy
 * set digest and, with explain, the rule-by-rule trace.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include "engine/engine.h"

static const char *const effect_names[] = { "deny", "allow", "partial" };
static const char *const mask_names[] = { "none", "year", "last4", "hash", "redact", "null" };

static const char *sym(const vm_program *p, uint32_t s)
{
    const char *str = s ? sl_intern_str(p->syms, s, NULL) : NULL;
    return str ? str : "";
}

/* "file:line:col" of a rule, or of the instruction at pc when pc is set. */
static json_t *location(const vm_program *p, uint32_t rule, uint32_t pc)
{
    const vm_rule *r = &p->rules[rule];
    uint32_t line = r->line, col = r->col;
    if (pc != VM_NO_CODE)
        prog_locate(p, pc, &line, &col);
    char buf[512];
    snprintf(buf, sizeof buf, "%s:%u:%u", sym(p, p->policies[r->policy].file), line, col);
    return json_string(buf);
}

static json_t *rule_ref(const vm_program *p, uint32_t rule)
{
    if (rule == RULE_NONE)
        return json_null();
    static const char *const kinds[] = { "permit", "forbid", "mask", "retain", "hold", "encryption", "forget" };
    const vm_rule *r = &p->rules[rule];
    return json_pack("{s:s, s:s, s:s, s:o}", "rule", sym(p, r->id), "kind", kinds[r->kind],
                     "policy", sym(p, p->policies[r->policy].name), "location", location(p, rule, VM_NO_CODE));
}

static bool col_allowed(const dstate *st, bool would)
{
    return would ? st->would_permit != RULE_NONE && st->would_forbid == RULE_NONE
                 : st->permit != RULE_NONE && st->forbid == RULE_NONE;
}

static uint32_t col_rule(const dstate *st, bool would)
{
    uint32_t f = would ? st->would_forbid : st->forbid;
    return f != RULE_NONE ? f : would ? st->would_permit : st->permit;
}

static json_t *column_json(const vm_program *p, const dcol *c, bool would)
{
    bool allow = col_allowed(&c->st, would);
    uint8_t mask = would ? c->st.would_mask : c->st.mask;
    json_t *o = json_pack("{s:s, s:s}", "column", sym(p, p->col_names[c->col]), "effect", allow ? "allow" : "deny");
    if (allow && mask)
        json_object_set_new(o, "mask", json_string(mask_names[mask]));
    uint32_t r = col_rule(&c->st, would);
    json_object_set_new(o, "rule", r == RULE_NONE ? json_null() : json_string(sym(p, p->rules[r].id)));
    return o;
}

static json_t *errors_json(const vm_program *p, const mg_decision *d)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; i < d->nerrs; i++) {
        const derr *e = &d->errs[i];
        char msg[600];
        static const char *const roots[] = { "subject", "context", "product", "port", "column" };
        if (e->miss_root < ROOT_SLOTTED)
            snprintf(msg, sizeof msg, "missing attribute `%s.%s`", roots[e->miss_root],
                     sym(p, p->slot_path[e->miss_root][e->miss_slot]));
        else
            snprintf(msg, sizeof msg, "%s", sl_err_str((sl_err)e->err));
        json_t *o = json_pack("{s:s, s:o, s:s}", "rule", sym(p, p->rules[e->rule].id),
                              "location", location(p, e->rule, e->pc), "error", msg);
        if (e->col >= 0)
            json_object_set_new(o, "column", json_string(sym(p, p->col_names[e->col])));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* Columns whose would-be effect or mask differs from the decision's. */
static json_t *dry_run_json(const vm_program *p, const mg_decision *d)
{
    json_t *cols = json_array();
    for (uint32_t i = 0; i < d->ncols; i++) {
        const dcol *c = &d->cols[i];
        bool a = col_allowed(&c->st, false), w = col_allowed(&c->st, true);
        if (a != w || (w && c->st.mask != c->st.would_mask))
            json_array_append_new(cols, column_json(p, c, true));
    }
    if (d->effect == d->would_effect && json_array_size(cols) == 0) {
        json_decref(cols);
        return json_null();
    }
    return json_pack("{s:s, s:o, s:o}", "effect", effect_names[d->would_effect],
                     "deciding", rule_ref(p, d->would_deciding), "columns", cols);
}

static json_t *trace_json(const vm_program *p, const mg_decision *d)
{
    static const char *const results[] = { "does not apply", "applies", "error: applies if forbid or mask",
                                           "applies (decided at load)" };
    json_t *arr = json_array();
    for (uint32_t i = 0; i < d->ntrace; i++) {
        const dtrace *t = &d->trace[i];
        const vm_rule *r = &p->rules[t->rule];
        json_t *o = json_pack("{s:s, s:o, s:s}", "rule", sym(p, r->id), "location", location(p, t->rule, VM_NO_CODE),
                              "result", results[t->result]);
        if (r->dry_run)
            json_object_set_new(o, "dry_run", json_true());
        if (t->col >= 0)
            json_object_set_new(o, "column", json_string(sym(p, p->col_names[t->col])));
        json_array_append_new(arr, o);
    }
    return arr;
}

static const char *reason(const mg_decision *d)
{
    if (d->deciding == RULE_NONE)
        return "no permit applies (default deny)";
    const vm_rule *r = &d->prog->rules[d->deciding];
    if (r->kind == RK_FORBID)
        return d->effect == MG_PARTIAL ? "a forbid withholds some columns" : "a forbid applies";
    return "a permit applies and no forbid does";
}

mg_status mg_decision_json(const mg_policy_set *set, const mg_decision *d, bool explain, char **out, mg_error *err)
{
    if (!out || !set || !d || d->set != set)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "invalid argument");
    if (!d->decided)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "no request has been decided with this scratch");
    *out = NULL;
    const vm_program *p = set->prog;
    json_t *cols = json_array();
    for (uint32_t i = 0; i < d->ncols; i++)
        json_array_append_new(cols, column_json(p, &d->cols[i], false));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s}",
                          "effect", effect_names[d->effect],
                          "product", sym(p, p->product_uri),
                          "port", sym(p, p->ports[d->port_id].name),
                          "action", sym(p, p->actions[d->action]),
                          "columns", cols,
                          "deciding", rule_ref(p, d->deciding),
                          "reason", reason(d));
    if (!o)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    json_object_set_new(o, "errors", errors_json(p, d));
    if (d->nerrs_total > d->nerrs)
        json_object_set_new(o, "errors_not_shown", json_integer(d->nerrs_total - d->nerrs));
    json_t *dry = dry_run_json(p, d);
    if (!json_is_null(dry))
        json_object_set_new(o, "dry_run", dry);
    else
        json_decref(dry);
    json_object_set_new(o, "policy_set", json_string(p->digest));
    if (d->audit_seq >= 0)
        json_object_set_new(o, "audit_seq", json_integer(d->audit_seq));
    if (explain) {
        json_object_set_new(o, "trace", trace_json(p, d));
        if (d->ntrace_total > d->ntrace)
            json_object_set_new(o, "trace_not_shown", json_integer(d->ntrace_total - d->ntrace));
    }
    *out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return *out ? MG_OK : mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
}
