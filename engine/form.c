/*
 * form.c — conditions decided by bit tests.
 *
 * Once load-time evaluation has decided what reads only the manifest, most
 * conditions left in the index are chains of facts:
 *
 *     SFACT a; JUMP_IF_FALSE end; CFACT b; RET        a and b
 *     SFACT a; NOT; RET                               not a
 *     SFACT a; JUMP_IF_TRUE end; PORT v; CONST; EQ; RET
 *                                   a or port.visibility == "public"
 *
 * Each is a conjunction or a disjunction of fact literals, possibly ending
 * in an operand that reads only the manifest (decided here, per entry, for
 * the entry's resource). With a subject's and a context's facts as bit sets
 * such a condition is two masks and a compare: no interpreter.
 *
 * A form gives the value only when none of the facts it names is an error.
 * Otherwise the entry's code runs in the VM, which raises the error at the
 * place the source order puts it, exactly as without forms; likewise when
 * the code is longer than the step budget allows.
 */
#include <stdio.h>
#include <string.h>
#include "engine/program.h"

static uint16_t operand(const uint8_t *code, uint32_t pc)
{
    return (uint16_t)(code[pc] | code[pc + 1] << 8);
}

/* The pc of the condition's RET and its number of instructions. The
 * compiler emits each condition as straight-line code ending at its only
 * RET; forward jumps stay inside it. (The bundle reader's verifier refuses
 * code that can run past its end, so the scan stops; the bound is kept for
 * clarity.) */
static uint32_t end_of(const vm_program *p, uint32_t pc, uint32_t *steps)
{
    *steps = 0;
    while (pc < p->code_len && p->code[pc] != OP_RET) {
        pc += 1u + vm_op_bytes[p->code[pc]];
        ++*steps;
    }
    ++*steps;
    return pc;
}

/* Instructions a last operand may use to be decided per resource: loads of
 * the manifest and constants, and comparisons without side state. */
static bool manifest_only(const vm_program *p, uint32_t pc, uint32_t ret, const vm_frame *res)
{
    for (; pc < ret; pc += 1u + vm_op_bytes[p->code[pc]]) {
        switch (p->code[pc]) {
        case OP_COLUMN:
            if (!res->column)
                return false;
            break;
        case OP_CONST: case OP_TRUE: case OP_FALSE: case OP_PRODUCT: case OP_PORT:
        case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE:
        case OP_IN: case OP_HAS: case OP_NOT: case OP_PRESENT:
            break;
        default:
            return false;
        }
    }
    return true;
}

/* Adds fact k of kind op (SFACT/CFACT) as a literal. A fact named twice
 * with opposite signs makes the condition constant: left to the VM. */
static bool add_literal(vm_form *f, uint8_t op, uint32_t k, bool negated)
{
    if (k >= VM_FORM_FACTS)
        return false;
    uint32_t bit = (uint32_t)1 << k;
    uint32_t *mask = op == OP_SFACT ? &f->smask : &f->cmask;
    uint32_t *flip = op == OP_SFACT ? &f->sflip : &f->cflip;
    if ((*mask & bit) && ((*flip & bit) != 0) != negated)
        return false;
    *mask |= bit;
    if (negated)
        *flip |= bit;
    return true;
}

/* Decides a last operand for the resource in res: VM_TRUE, VM_FALSE, or
 * VM_ERROR when it cannot be decided without error. */
static vm_result decide_tail(vm_frame *res, uint32_t pc)
{
    sl_err e;
    uint32_t epc;
    res->budget = res->prog->step_budget;
    res->cx->scratch_len = 0;
    return vm_run(res, pc, &e, &epc);
}

/* Reads the code at pc as a form for the resource in res. Returns FORM_*,
 * FORM_NONE when the code is not a chain of facts. */
static uint8_t parse_form(const vm_program *p, uint32_t pc, vm_frame *res, vm_form *f)
{
    memset(f, 0, sizeof *f);
    uint32_t steps, ret = end_of(p, pc, &steps);
    if (ret >= p->code_len || steps > p->step_budget)
        return FORM_NONE;               /* the VM raises the budget error */
    const uint8_t *c = p->code;
    uint8_t sep = 0;                    /* the chain's jump: all alike */
    uint32_t nlits = 0;
    vm_result tail = VM_ERROR;          /* none */
    while (pc < ret) {
        if (c[pc] == OP_SFACT || c[pc] == OP_CFACT) {
            uint8_t op = c[pc];
            uint32_t k = operand(c, pc + 1);
            pc += 3;
            bool negated = c[pc] == OP_NOT;
            pc += negated;
            if (!add_literal(f, op, k, negated))
                return FORM_NONE;
            nlits++;
        } else if (nlits && sep == OP_JUMP_IF_FALSE && c[pc] == OP_FALSE && pc + 1 == ret) {
            tail = VM_FALSE;            /* a conjunct false for this resource */
            pc++;
        } else if (nlits && sep == OP_JUMP_IF_TRUE && manifest_only(p, pc, ret, res)) {
            if ((tail = decide_tail(res, pc)) == VM_ERROR)
                return FORM_NONE;
            pc = ret;
        } else {
            return FORM_NONE;
        }
        if (pc == ret)
            break;
        if ((c[pc] != OP_JUMP_IF_FALSE && c[pc] != OP_JUMP_IF_TRUE) || (sep && c[pc] != sep) ||
            pc + 3 + operand(c, pc + 1) != ret)
            return FORM_NONE;
        sep = c[pc];
        pc += 3;
    }
    if (nlits == 0)
        return FORM_NONE;
    if (sep == OP_JUMP_IF_TRUE)         /* `or`: a false last operand adds nothing */
        return tail == VM_TRUE ? FORM_TRUE : FORM_OR;
    /* In an `and` the literals that decide are the false ones: flip them
     * all, so that one test serves both (decide.c form_value). */
    f->sflip ^= f->smask;
    f->cflip ^= f->cmask;
    return tail == VM_FALSE ? FORM_FALSE : FORM_AND;
}

static uint8_t form_of(const vm_program *p, uint32_t pc, vm_frame *res, vm_form *f)
{
    memset(f, 0, sizeof *f);
    if (pc == VM_ALWAYS)
        return FORM_TRUE;               /* no literals: true */
    if (pc == VM_NO_CODE)
        return FORM_ABSENT;
    return parse_form(p, pc, res, f);
}

static void range_forms(vm_program *p, const vm_range *r, vm_frame *res)
{
    for (uint32_t k = r->first; k < r->first + r->n; k++) {
        const vm_entry *en = &p->entries[k];
        vm_hot *h = &p->hot[k];
        h->rule = en->rule;
        h->kind = en->kind;
        h->mask = en->mask;
        h->dry_run = en->dry_run;
        uint8_t when = form_of(p, en->when_pc, res, &h->when);
        uint8_t unless = form_of(p, en->unless_pc, res, &p->unless_forms[k]);
        h->how = (uint8_t)(when | unless << 4);
    }
}

static void port_forms(vm_program *p, uint32_t port, vm_frame *res)
{
    const vm_port *vp = &p->ports[port];
    res->port = p->port_vals + (size_t)port * p->nslots[ROOT_PORT];
    res->column = NULL;
    for (uint32_t a = 0; a < p->nactions; a++)
        range_forms(p, &p->port_index[port * p->nactions + a], res);
    for (uint32_t c = vp->first_col; c < vp->first_col + vp->ncols; c++) {
        res->column = p->col_vals + (size_t)c * p->nslots[ROOT_COLUMN];
        for (uint32_t a = 0; a < p->nactions; a++)
            range_forms(p, &p->col_index[c * p->nactions + a], res);
    }
}

bool prog_build_forms(vm_program *p)
{
    size_t n = (size_t)p->nentries + 1;
    PROG_ARRAY(p, hot, n);
    PROG_ARRAY(p, unless_forms, n);
    char scratch[256];
    size_t stack_bytes = ((size_t)p->max_stack + 1) * sizeof(sl_value);
    sl_value *stack = prog_alloc(p, stack_bytes);
    if (!p->hot || !p->unless_forms || !stack) {
        prog_dealloc(p, stack, stack_bytes);
        return false;
    }
    memset(p->hot, 0, n * sizeof *p->hot);
    memset(p->unless_forms, 0, n * sizeof *p->unless_forms);
    sl_ctx cx = { .syms = p->syms, .scratch = scratch, .scratch_cap = sizeof scratch };
    vm_frame res = { .prog = p, .product = p->product_vals, .action = sl_missing(), .cx = &cx, .stack = stack,
                     .sfacts = p->null_facts[0], .cfacts = p->null_facts[1] };
    for (uint32_t port = 0; port < p->nports; port++)
        port_forms(p, port, &res);
    prog_dealloc(p, stack, stack_bytes);
    return true;
}

/* ==========================================================================
 * Disassembly
 * ========================================================================== */

static void describe_literals(const vm_form *f, bool any, strbuf *out)
{
    const char *sep = "";
    for (int kind = 0; kind < 2; kind++) {
        uint32_t mask = kind ? f->cmask : f->smask, flip = kind ? f->cflip : f->sflip;
        for (uint32_t k = 0; k < VM_FORM_FACTS; k++) {
            if (!(mask >> k & 1))
                continue;
            /* In an `and` the flip marks the plain literals (see parse_form). */
            bool negated = ((flip >> k & 1) != 0) == any;
            sb_printf(out, "%s%s%c#%u", sep, negated ? "not " : "", kind ? 'c' : 's', k);
            sep = any ? " or " : " and ";
        }
    }
}

/* One condition of an index entry as the decision takes it. */
static void describe(uint8_t how, const vm_form *f, uint32_t pc, strbuf *out)
{
    bool lits = f->smask || f->cmask;
    switch (how) {
    case FORM_NONE: sb_printf(out, "vm @%u", pc); break;
    case FORM_AND: case FORM_OR: describe_literals(f, how == FORM_OR, out); break;
    default:
        sb_printf(out, "%s", how == FORM_TRUE ? (lits ? "true" : "always") : "false");
        if (lits) {
            sb_printf(out, " (after ");
            describe_literals(f, how == FORM_TRUE, out);
            sb_printf(out, ")");
        }
    }
}

static void disasm_range(const vm_program *p, const char *what, uint32_t action, const vm_range *r, strbuf *out)
{
    if (r->n == 0)
        return;
    sb_printf(out, "%s  %s\n", what, sl_intern_str(p->syms, p->actions[action], NULL));
    for (uint32_t k = r->first; k < r->first + r->n; k++) {
        const vm_hot *h = &p->hot[k];
        const vm_entry *en = &p->entries[k];
        sb_printf(out, "  %-28s when ", sl_intern_str(p->syms, p->rules[h->rule].id, NULL));
        describe(h->how & 15, &h->when, en->when_pc, out);
        if (h->how >> 4 != FORM_ABSENT) {
            sb_printf(out, "; unless ");
            describe(h->how >> 4, &p->unless_forms[k], en->unless_pc, out);
        }
        sb_printf(out, "\n");
    }
}

void form_disasm(const vm_program *p, strbuf *out)
{
    if (p->nports == 0)
        return;                         /* compiled without a product */
    sb_printf(out, "\n; index: the rules a decision evaluates, per resource and action, in order;\n"
                   "; s#k / c#k: subject / context fact k, tested as bits; vm @pc: run in the VM\n");
    for (uint32_t port = 0; port < p->nports; port++) {
        const vm_port *vp = &p->ports[port];
        const char *pname = sl_intern_str(p->syms, vp->name, NULL);
        char what[512];
        snprintf(what, sizeof what, "port %s", pname);
        for (uint32_t a = 0; a < p->nactions; a++)
            disasm_range(p, what, a, &p->port_index[port * p->nactions + a], out);
        for (uint32_t c = vp->first_col; c < vp->first_col + vp->ncols; c++) {
            snprintf(what, sizeof what, "column %s.%s", pname, sl_intern_str(p->syms, p->col_names[c], NULL));
            for (uint32_t a = 0; a < p->nactions; a++)
                disasm_range(p, what, a, &p->col_index[c * p->nactions + a], out);
        }
    }
}
