/*
 * program.c — life cycle of a compiled program, its line table, and the
 * disassembler. Shared by the compiler and the bundle reader; knows nothing
 * of the front end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "engine/program.h"

const uint8_t vm_op_bytes[OP__COUNT] = {
#define OP(name, bytes, effect, synopsis) bytes,
#include "engine/opcodes.h"
#undef OP
};

const char *const vm_op_names[OP__COUNT] = {
#define OP(name, bytes, effect, synopsis) #name,
#include "engine/opcodes.h"
#undef OP
};

void *prog_alloc(const vm_program *p, size_t n)
{
    return p->alloc(p->ud, NULL, 0, n);
}

void prog_dealloc(const vm_program *p, void *ptr, size_t n)
{
    if (ptr)
        p->alloc(p->ud, ptr, n, 0);
}

void *prog_array(vm_program *p, void **at, size_t *size, size_t n)
{
    *at = prog_alloc(p, n);
    *size = *at ? n : 0;
    return *at;
}

bool prog_resize(vm_program *p, void **at, size_t *size, size_t n)
{
    void *r = p->alloc(p->ud, *at, *size, n);
    if (!r)
        return false;
    *at = r;
    *size = n;
    return true;
}

/* Every array goes back with the size recorded when it was allocated or
 * last resized (vm_sizes). */
#define FREE(f) prog_dealloc(p, p->f, p->size.f)

void prog_free(vm_program *p)
{
    if (!p)
        return;
    for (uint32_t i = 0; p->regexes && i < p->nregexes; i++)   /* NULL: a bundle ran out of memory */
        sl_regex_free(p->regexes[i]);
    FREE(regexes);
    FREE(regex_src);
    FREE(code);
    FREE(consts);
    FREE(items);
    FREE(policies);
    FREE(rules);
    FREE(conj_pcs);
    for (int r = 0; r < ROOT_SLOTTED; r++) {
        FREE(slot_path[r]);
        FREE(slot_type[r]);
    }
    FREE(product_vals);
    FREE(ports);
    FREE(port_vals);
    FREE(col_names);
    FREE(col_vals);
    FREE(entries);
    FREE(hot);
    FREE(unless_forms);
    FREE(port_index);
    FREE(col_index);
    FREE(lines);
    for (int k = 0; k < 2; k++) {
        FREE(fact_pc[k]);
        FREE(null_facts[k]);
    }
    sl_intern_free(p->syms);
    p->alloc(p->ud, p, sizeof *p, 0);
}

/* ==========================================================================
 * Freezing: pointers into arrays that no longer move
 * ========================================================================== */

static void fix_strings(const vm_program *p, sl_value *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].kind == SL_STRING)
            v[i].u.s.ptr = sl_intern_str(p->syms, v[i].u.s.sym, NULL);
}

static void fix_sets(vm_program *p, sl_value *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].kind != SL_SET)
            continue;
        if (v[i].u.set.n == 0) {
            v[i].u.set.items = NULL;
            continue;
        }
        sl_value *items = p->items + (uintptr_t)v[i].u.set.items;
        v[i].u.set.items = items;
        v[i].u.set.n = sl_set_normalize(items, v[i].u.set.n);
    }
}

void prog_freeze(vm_program *p)
{
    for (uint32_t a = 0; a < p->nactions; a++) {
        p->action_vals[a] = (sl_value){ .kind = SL_STRING };
        p->action_vals[a].u.s.sym = p->actions[a];
        p->action_vals[a].u.s.ptr = sl_intern_str(p->syms, p->actions[a], &p->action_vals[a].u.s.len);
    }
    size_t np = p->nslots[ROOT_PRODUCT];
    size_t npt = (size_t)p->nports * p->nslots[ROOT_PORT];
    size_t nc = (size_t)p->ncols * p->nslots[ROOT_COLUMN];
    fix_strings(p, p->items, p->nitems);
    fix_strings(p, p->consts, p->nconsts);
    fix_strings(p, p->product_vals, np);
    fix_strings(p, p->port_vals, npt);
    fix_strings(p, p->col_vals, nc);
    fix_sets(p, p->consts, p->nconsts);
    fix_sets(p, p->product_vals, np);
    fix_sets(p, p->port_vals, npt);
    fix_sets(p, p->col_vals, nc);
}

/* ==========================================================================
 * Facts
 * ========================================================================== */

bool prog_eval_facts(const vm_program *p, int kind, const sl_value *attrs, uint8_t *out)
{
    if (p->nfacts[kind] == 0)
        return true;
    char scratch[4096];
    size_t stack_bytes = ((size_t)p->max_stack + 1) * sizeof(sl_value);
    /* The compiler never puts a fact inside a fact; a bundle that does gets
     * an error from it rather than a read of facts not yet decided. */
    size_t nnone = (p->nfacts[0] > p->nfacts[1] ? p->nfacts[0] : p->nfacts[1]) + 1;
    sl_value *stack = prog_alloc(p, stack_bytes);
    uint8_t *none = prog_alloc(p, nnone);
    sl_ctx cx = { .syms = p->syms, .scratch = scratch, .scratch_cap = sizeof scratch };
    /* Without a `matches` in the set no fact needs pcre2's match data. */
    if (!stack || !none || (p->nregexes && !sl_regex_ctx_init(&cx, p->alloc, p->ud))) {
        prog_dealloc(p, stack, stack_bytes);
        prog_dealloc(p, none, nnone);
        return false;
    }
    memset(none, FACT_ERROR + SL_E_TYPE, nnone);
    vm_frame f = { .prog = p, .product = p->product_vals, .action = sl_missing(), .cx = &cx, .stack = stack,
                   .sfacts = none, .cfacts = none };
    if (kind == 0)
        f.subject = attrs;
    else
        f.context = attrs;
    for (uint32_t i = 0; i < p->nfacts[kind]; i++) {
        sl_err e;
        uint32_t epc;
        cx.scratch_len = 0;
        f.budget = p->step_budget;
        vm_result v = vm_run(&f, p->fact_pc[kind][i], &e, &epc);
        out[i] = v == VM_ERROR ? (uint8_t)(FACT_ERROR + e) : (uint8_t)v;
    }
    sl_regex_ctx_fini(&cx);
    prog_dealloc(p, stack, stack_bytes);
    prog_dealloc(p, none, nnone);
    return true;
}

bool prog_null_facts(vm_program *p)
{
    for (int k = 0; k < 2; k++) {
        if (!PROG_ARRAY(p, null_facts[k], (size_t)p->nfacts[k] + 1) || !prog_eval_facts(p, k, NULL, p->null_facts[k]))
            return false;
        prog_fact_bits(p, k, p->null_facts[k], &p->null_bits[k], &p->null_errs[k]);
    }
    return true;
}

void prog_fact_bits(const vm_program *p, int kind, const uint8_t *facts, uint32_t *bits, uint32_t *errs)
{
    uint32_t n = p->nfacts[kind] < VM_FORM_FACTS ? p->nfacts[kind] : VM_FORM_FACTS;
    *bits = *errs = 0;
    for (uint32_t i = 0; i < n; i++) {
        *bits |= (uint32_t)(facts[i] == FACT_TRUE) << i;
        *errs |= (uint32_t)(facts[i] >= FACT_ERROR) << i;
    }
}

/* ==========================================================================
 * Line table
 * ========================================================================== */

bool prog_locate(const vm_program *p, uint32_t pc, uint32_t *line, uint32_t *col)
{
    uint32_t lo = 0, hi = p->nlines;
    while (lo < hi) {                  /* last entry with .pc <= pc */
        uint32_t mid = (lo + hi) / 2;
        if (p->lines[mid].pc <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    *line = p->lines[lo - 1].line;
    *col = p->lines[lo - 1].col;
    return true;
}

/* ==========================================================================
 * Growable strings
 * ========================================================================== */

void sb_init(strbuf *b, sl_alloc_fn alloc, void *ud)
{
    memset(b, 0, sizeof *b);
    b->alloc = alloc;
    b->ud = ud;
}

static bool sb_reserve(strbuf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + extra + 1)
        ncap *= 2;
    char *n = b->alloc(b->ud, b->s, b->cap, ncap);
    if (!n) {
        b->failed = true;
        return false;
    }
    b->s = n;
    b->cap = ncap;
    return true;
}

void sb_append(strbuf *b, const void *data, size_t n)
{
    if (n == 0 || !sb_reserve(b, n))
        return;
    memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = 0;
}

void sb_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !sb_reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sb_free(strbuf *b)
{
    if (b->s)
        b->alloc(b->ud, b->s, b->cap, 0);
    memset(b, 0, sizeof *b);
}

/* ==========================================================================
 * Disassembler
 * ========================================================================== */

static void print_value(const vm_program *p, const sl_value *v, strbuf *out)
{
    char buf[64];
    switch (v->kind) {
    case SL_MISSING: sb_printf(out, "missing"); break;
    case SL_BOOL: sb_printf(out, v->u.b ? "true" : "false"); break;
    case SL_INT: sb_printf(out, "%lld", (long long)v->u.i); break;
    case SL_DURATION: sl_format_duration(v->u.i, buf, sizeof buf); sb_printf(out, "%s", buf); break;
    case SL_TIMESTAMP: sl_format_timestamp(v->u.i, buf, sizeof buf); sb_printf(out, "@%s", buf); break;
    case SL_STRING: sb_printf(out, "\"%.*s\"", (int)v->u.s.len, v->u.s.ptr); break;
    case SL_SET:
        sb_printf(out, "[");
        for (uint32_t i = 0; i < v->u.set.n; i++) {
            if (i)
                sb_printf(out, ", ");
            print_value(p, &v->u.set.items[i], out);
        }
        sb_printf(out, "]");
        break;
    default: sb_printf(out, "?"); break;
    }
}

static uint32_t operand(const vm_program *p, uint32_t pc)
{
    return (uint32_t)p->code[pc] | (uint32_t)p->code[pc + 1] << 8;
}

static void disasm_op(const vm_program *p, uint32_t pc, strbuf *out)
{
    uint8_t op = p->code[pc];
    sb_printf(out, "  %5u  %-14s", pc, vm_op_names[op]);
    uint32_t k = vm_op_bytes[op] >= 2 ? operand(p, pc + 1) : 0;
    static const int slot_root_of[OP__COUNT] = {
        [OP_SUBJECT] = ROOT_SUBJECT + 1, [OP_CONTEXT] = ROOT_CONTEXT + 1,
        [OP_PRODUCT] = ROOT_PRODUCT + 1, [OP_PORT] = ROOT_PORT + 1, [OP_COLUMN] = ROOT_COLUMN + 1,
    };
    if (op == OP_CONST) {
        sb_printf(out, "#%-5u ", k);
        print_value(p, &p->consts[k], out);
    } else if (slot_root_of[op]) {
        sb_printf(out, "#%-5u %s", k, sl_intern_str(p->syms, p->slot_path[slot_root_of[op] - 1][k], NULL));
    } else if (op == OP_SFACT || op == OP_CFACT) {
        sb_printf(out, "#%-5u", k);
    } else if (op == OP_MATCHES) {
        sb_printf(out, "#%-5u /%s/", k, sl_intern_str(p->syms, p->regex_src[k], NULL));
    } else if (op == OP_CALL) {
        sb_printf(out, "%s/%u", sl_builtins[k].name, p->code[pc + 3]);
    } else if (op == OP_JUMP_IF_FALSE || op == OP_JUMP_IF_TRUE) {
        sb_printf(out, "-> %u", pc + 3 + k);
    }
    sb_printf(out, "\n");
}

static const char *const kind_names[] = { "permit", "forbid", "mask", "retain", "hold", "require encryption", "forget" };
static const char *const target_names[] = { "product", "port", "column", "subject" };

static void disasm_code(const vm_program *p, const char *label, uint32_t pc, strbuf *out)
{
    if (pc == VM_NO_CODE)
        return;
    sb_printf(out, "  %s:\n", label);
    while (pc < p->code_len) {
        uint8_t op = p->code[pc];
        disasm_op(p, pc, out);
        if (op == OP_RET)
            break;
        pc += 1u + vm_op_bytes[op];
    }
}

/* Rules with their code, then the constant pool. Deterministic, so tests
 * compare it against golden files. */
void vm_disasm(const vm_program *p, strbuf *out)
{
    sb_printf(out, "; policy set %s\n; %u policies, %u rules, %u bytes of code, %u constants\n",
              p->digest, p->npolicies, p->nrules, p->code_len, p->nconsts);
    for (uint32_t i = 0; i < p->nrules; i++) {
        const vm_rule *r = &p->rules[i];
        const vm_policy *vp = &p->policies[r->policy];
        sb_printf(out, "\nrule %s  %s on %s%s  (%s:%u:%u)\n", sl_intern_str(p->syms, r->id, NULL),
                  kind_names[r->kind], target_names[r->target], r->dry_run ? "  [dry_run]" : "",
                  sl_intern_str(p->syms, vp->file, NULL), r->line, r->col);
        disasm_code(p, "when", r->when_pc, out);
        for (uint32_t k = 0; k < r->conj_static; k++) {
            char label[64];
            snprintf(label, sizeof label, "conjunct %u alone (decided at load)", k + 1);
            disasm_code(p, label, p->conj_pcs[r->conj_first + 2 * k + 1], out);
        }
        disasm_code(p, "unless", r->unless_pc, out);
    }
    static const char *const fact_kind[2] = { "subject", "context" };
    for (int k = 0; k < 2; k++)
        for (uint32_t i = 0; i < p->nfacts[k]; i++) {
            char label[48];
            snprintf(label, sizeof label, "%s fact #%u", fact_kind[k], i);
            sb_printf(out, "\n");
            disasm_code(p, label, p->fact_pc[k][i], out);
        }
    form_disasm(p, out);
}
