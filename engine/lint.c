/*
 * lint.c — rules that are written but cannot do what they say, read from
 * the compiled policy set of one product (DESIGN.md "Programs": lints):
 *
 *   lint-never-applies    a `when` conjunct tests a tag (`port.tags has "x"`,
 *                         `"x" in column.tags`) that no port (or column) of
 *                         any manifest of the mesh carries;
 *   lint-shadowed-permit  a permit whose target and actions are covered by
 *                         an unconditional forbid (no `when`, no `unless`)
 *                         that is enforced whenever the permit is;
 *   lint-local-repermit   a local permit for actions a global forbid forbids,
 *                         on data the forbid's tag tests select (the permit
 *                         tests every tag the forbid tests): the forbid
 *                         always wins, so the permit grants nothing there.
 *
 * The tag tests are recognized on the standalone copies of `when`
 * conjuncts that the compiler makes for conjuncts reading only the
 * manifest (vm_rule.conj_pcs): exactly "load tags, push string, HAS" or
 * "push string, load tags, IN". A tag test under `or` or `not` is not a
 * conjunct of its own and is left alone, so a lint never claims more than
 * the code shows. Working on bytecode keeps this file on the bytecode side
 * of the engine, like the compliance checks that call it.
 */
#include <stdio.h>
#include <string.h>
#include "engine/lint.h"

/* What every lint of one product shares. */
typedef struct lint {
    const vm_program *p;
    const mf_mesh *m;
    const mf_product *pr;
    mg_finding_fn fn;
    void *ud;
    bool stop;
} lint;

static const char *sym(const vm_program *p, uint32_t s)
{
    const char *str = s ? sl_intern_str(p->syms, s, NULL) : NULL;
    return str ? str : "";
}

static void warn(lint *l, const char *check, uint32_t rule, const char *msg)
{
    if (l->stop)
        return;
    const vm_rule *r = &l->p->rules[rule];
    const vm_policy *pol = &l->p->policies[r->policy];
    mg_finding f = {
        .severity = MG_SEV_WARNING,
        .check = check,
        .message = msg,
        .file = sym(l->p, pol->file),
        .line = (int)r->line,
        .column = (int)r->col,
        .product = l->pr->uri,
        .policy = sym(l->p, pol->name),
    };
    l->stop = l->fn(l->ud, &f) != 0;
}

/* ==========================================================================
 * Tag tests
 * ========================================================================== */

static uint32_t u16_at(const uint8_t *code, uint32_t pc)
{
    return (uint32_t)code[pc] | (uint32_t)code[pc + 1] << 8;
}

/* A tag test: the root (ROOT_PORT or ROOT_COLUMN) and the tag. */
typedef struct tag_test {
    int root;
    const char *tag;
} tag_test;

/* Whether the instruction at pc loads `tags` of a port or column; sets
 * *root. */
static bool loads_tags(const vm_program *p, uint32_t pc, int *root)
{
    uint8_t op = p->code[pc];
    int r = op == OP_PORT ? ROOT_PORT : op == OP_COLUMN ? ROOT_COLUMN : -1;
    if (r < 0)
        return false;
    uint32_t slot = u16_at(p->code, pc + 1);
    if (slot >= p->nslots[r] || strcmp(sym(p, p->slot_path[r][slot]), "tags") != 0)
        return false;
    *root = r;
    return true;
}

/* The string constant pushed at pc, or NULL. */
static const char *const_string(const vm_program *p, uint32_t pc)
{
    if (p->code[pc] != OP_CONST)
        return NULL;
    uint32_t k = u16_at(p->code, pc + 1);
    if (k >= p->nconsts || p->consts[k].kind != SL_STRING)
        return NULL;
    return sym(p, p->consts[k].u.s.sym);
}

/* Whether the code at pc is exactly a tag test followed by RET: "tags,
 * CONST s, HAS, RET" or "CONST s, tags, IN, RET" (3 + 3 + 1 + 1 bytes). */
static bool is_tag_test(const vm_program *p, uint32_t pc, tag_test *t)
{
    if (pc == VM_NO_CODE || pc + 8 > p->code_len || p->code[pc + 7] != OP_RET)
        return false;
    if (p->code[pc + 6] == OP_HAS && loads_tags(p, pc, &t->root))
        t->tag = const_string(p, pc + 3);
    else if (p->code[pc + 6] == OP_IN && loads_tags(p, pc + 3, &t->root))
        t->tag = const_string(p, pc);
    else
        return false;
    return t->tag != NULL;
}

/* Tag test i of rule r's `when` conjuncts (false when it is not one). */
static bool conj_tag(const vm_program *p, const vm_rule *r, uint32_t i, tag_test *t)
{
    return is_tag_test(p, p->conj_pcs[r->conj_first + 2 * i + 1], t);
}

static bool strs_have(const mf_strs *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return true;
    return false;
}

/* Whether any port (root ROOT_PORT) or column of the mesh carries the tag.
 * Stops at the first: tags that are used are usually found early. */
static bool mesh_uses(const mf_mesh *m, const tag_test *t)
{
    for (size_t i = 0; i < m->nproducts; i++)
        for (size_t k = 0; k < m->products[i].nports; k++) {
            const mf_port *pt = &m->products[i].ports[k];
            if (t->root == ROOT_PORT && strs_have(&pt->tags, t->tag))
                return true;
            for (size_t c = 0; t->root == ROOT_COLUMN && c < pt->ncolumns; c++)
                if (strs_have(&pt->columns[c].tags, t->tag))
                    return true;
        }
    return false;
}

/* ==========================================================================
 * The lints
 * ========================================================================== */

static void never_applies(lint *l, uint32_t i)
{
    const vm_rule *r = &l->p->rules[i];
    tag_test t;
    for (uint32_t k = 0; k < r->nconj; k++) {
        if (!conj_tag(l->p, r, k, &t) || mesh_uses(l->m, &t))
            continue;
        char msg[512];
        snprintf(msg, sizeof msg, "rule %s can never apply: no %s of the mesh is tagged `%s`",
                 sym(l->p, r->id), t.root == ROOT_PORT ? "port" : "column", t.tag);
        warn(l, LINT_NEVER_APPLIES, i, msg);
        return;
    }
}

static bool is_access(uint8_t target)
{
    return target == TG_PRODUCT || target == TG_PORT || target == TG_COLUMN;
}

/* Whether a rule on target `outer` applies to every request a rule on
 * target `inner` sees: targets nest product > port > column. */
static bool target_covers(uint8_t outer, uint8_t inner)
{
    return is_access(outer) && is_access(inner) && outer <= inner;
}

static const char *const target_names[] = { "product", "port", "column", "subject" };

static void shadowed(lint *l, uint32_t i)
{
    const vm_rule *pm = &l->p->rules[i];
    for (uint32_t j = 0; j < l->p->nrules; j++) {
        const vm_rule *f = &l->p->rules[j];
        if (f->kind != RK_FORBID || f->when_pc != VM_NO_CODE || f->unless_pc != VM_NO_CODE ||
            (f->dry_run && !pm->dry_run) || !target_covers(f->target, pm->target) ||
            (pm->actions & ~f->actions) != 0)
            continue;
        char msg[512];
        snprintf(msg, sizeof msg,
                 "permit %s is shadowed: the unconditional forbid %s on %s covers its target and actions",
                 sym(l->p, pm->id), sym(l->p, f->id), target_names[f->target]);
        warn(l, LINT_SHADOWED, i, msg);
        return;
    }
}

/* Whether every tag test of forbid f's `when` is also one of permit pm's,
 * and f has at least one. */
static bool tests_every_tag(const vm_program *p, const vm_rule *f, const vm_rule *pm, const char **first)
{
    size_t n = 0;
    tag_test ft, pt;
    for (uint32_t a = 0; a < f->nconj; a++) {
        if (!conj_tag(p, f, a, &ft))
            continue;
        bool found = false;
        for (uint32_t b = 0; !found && b < pm->nconj; b++)
            found = conj_tag(p, pm, b, &pt) && pt.root == ft.root && strcmp(pt.tag, ft.tag) == 0;
        if (!found)
            return false;
        if (n++ == 0)
            *first = ft.tag;
    }
    return n > 0;
}

static void repermit(lint *l, uint32_t i)
{
    const vm_rule *pm = &l->p->rules[i];
    if (pm->global)
        return;
    for (uint32_t j = 0; j < l->p->nrules; j++) {
        const vm_rule *f = &l->p->rules[j];
        const char *tag = NULL;
        if (f->kind != RK_FORBID || !f->global || f->dry_run || (pm->actions & f->actions) == 0 ||
            !is_access(f->target) || !is_access(pm->target) || !tests_every_tag(l->p, f, pm, &tag))
            continue;
        char msg[512];
        snprintf(msg, sizeof msg,
                 "local permit %s re-permits data tagged `%s` that global forbid %s forbids; the forbid wins",
                 sym(l->p, pm->id), tag, sym(l->p, f->id));
        warn(l, LINT_REPERMIT, i, msg);
        return;
    }
}

void lint_product(const mg_policy_set *set, const mf_mesh *m, const mf_product *pr, mg_finding_fn fn, void *ud,
                  bool *stop)
{
    lint l = { set->prog, m, pr, fn, ud, false };
    for (uint32_t i = 0; !l.stop && i < l.p->nrules; i++) {
        never_applies(&l, i);
        if (l.p->rules[i].kind != RK_PERMIT)
            continue;
        if (!l.stop)
            shadowed(&l, i);
        if (!l.stop)
            repermit(&l, i);
    }
    *stop = l.stop;
}
