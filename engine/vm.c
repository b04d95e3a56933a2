/*
 * vm.c — the bytecode interpreter. A stack machine over sl_value that runs
 * one condition (a `when`, a conjunct, an `unless`) to its RET and answers
 * true, false or error. It never allocates: the stack and the scratch space
 * for strings belong to the caller's frame. Jumps only go forward, so a run
 * ends within the condition's length; the step budget bounds it anyway.
 */
#include <string.h>
#include "engine/program.h"

static inline uint32_t u16_at(const uint8_t *code, uint32_t pc)
{
    return (uint32_t)code[pc] | (uint32_t)code[pc + 1] << 8;
}

/* Same kind, neither missing: the precondition of every binary operator. */
static inline sl_err same_kind(const sl_value *a, const sl_value *b)
{
    if (a->kind == SL_MISSING || b->kind == SL_MISSING)
        return SL_E_MISSING;
    return a->kind == b->kind ? SL_OK : SL_E_TYPE;
}

/* String equality under the interning invariant (value.h). */
static inline bool str_eq(const sl_value *a, const sl_value *b)
{
    if (a->u.s.sym | b->u.s.sym)
        return a->u.s.sym == b->u.s.sym;
    return a->u.s.len == b->u.s.len && memcmp(a->u.s.ptr, b->u.s.ptr, a->u.s.len) == 0;
}

static bool set_eq(const sl_value *a, const sl_value *b);

static bool scalar_eq(const sl_value *a, const sl_value *b)
{
    switch (a->kind) {
    case SL_STRING: return str_eq(a, b);
    case SL_BOOL: return a->u.b == b->u.b;
    case SL_SET: return set_eq(a, b);
    default: return a->u.i == b->u.i;
    }
}

static bool set_eq(const sl_value *a, const sl_value *b)
{
    if (a->u.set.n != b->u.set.n)
        return false;
    for (uint32_t i = 0; i < a->u.set.n; i++) {
        const sl_value *x = &a->u.set.items[i], *y = &b->u.set.items[i];
        if (x->kind != y->kind || !scalar_eq(x, y))
            return false;
    }
    return true;
}

/* x in s. A string with a sym can only equal items with the same sym, so a
 * short set is scanned by sym; otherwise binary search by bytes. */
static sl_err set_member(const sl_value *s, const sl_value *x, bool *hit)
{
    if (s->kind == SL_MISSING || x->kind == SL_MISSING)
        return SL_E_MISSING;
    if (s->kind != SL_SET || x->kind == SL_SET)
        return SL_E_TYPE;
    uint32_t n = s->u.set.n;
    if (n == 0) {
        *hit = false;
        return SL_OK;
    }
    if (s->u.set.items[0].kind != x->kind)
        return SL_E_TYPE;
    if (x->kind == SL_STRING && x->u.s.sym && n <= 16) {
        for (uint32_t i = 0; i < n; i++)
            if (s->u.set.items[i].u.s.sym == x->u.s.sym) {
                *hit = true;
                return SL_OK;
            }
        *hit = false;
        return SL_OK;
    }
    *hit = sl_set_has(s, x);
    return SL_OK;
}

static sl_err compare(int op, const sl_value *a, const sl_value *b, bool *r)
{
    sl_err e = same_kind(a, b);
    if (e)
        return e;
    if (a->kind != SL_INT && a->kind != SL_DURATION && a->kind != SL_TIMESTAMP)
        return SL_E_TYPE;
    switch (op) {
    case OP_LT: *r = a->u.i < b->u.i; break;
    case OP_LE: *r = a->u.i <= b->u.i; break;
    case OP_GT: *r = a->u.i > b->u.i; break;
    default: *r = a->u.i >= b->u.i; break;
    }
    return SL_OK;
}

/* + and -: int±int, duration±duration, timestamp±duration, timestamp-timestamp. */
static sl_err arith(int op, const sl_value *a, const sl_value *b, sl_value *out)
{
    if (a->kind == SL_MISSING || b->kind == SL_MISSING)
        return SL_E_MISSING;
    uint8_t kind;
    if (a->kind == b->kind && (a->kind == SL_INT || a->kind == SL_DURATION))
        kind = a->kind;
    else if (a->kind == SL_TIMESTAMP && b->kind == SL_DURATION)
        kind = SL_TIMESTAMP;
    else if (op == OP_SUB && a->kind == SL_TIMESTAMP && b->kind == SL_TIMESTAMP)
        kind = SL_DURATION;
    else
        return SL_E_TYPE;
    int64_t r;
    bool ok = op == OP_ADD ? sl_add_overflow(a->u.i, b->u.i, &r) : sl_sub_overflow(a->u.i, b->u.i, &r);
    if (!ok)
        return SL_E_OVERFLOW;
    out->kind = kind;
    out->u.i = r;
    return SL_OK;
}

static inline sl_err want_bool(const sl_value *v)
{
    if (v->kind == SL_BOOL)
        return SL_OK;
    return v->kind == SL_MISSING ? SL_E_MISSING : SL_E_TYPE;
}

vm_result vm_run(vm_frame *f, uint32_t pc, sl_err *err, uint32_t *err_pc)
{
    const vm_program *p = f->prog;
    const uint8_t *code = p->code;
    sl_value *sp = f->stack;          /* next free slot */
    uint32_t op_pc = pc;
    uint32_t budget = f->budget;      /* a local: the compiler keeps it in a register */
    sl_err e = SL_OK;
    for (;;) {
        op_pc = pc;
        if (budget == 0) {
            e = SL_E_BUDGET;
            goto fail;
        }
        budget--;
        uint8_t op = code[pc++];
        switch (op) {
        case OP_CONST: *sp++ = p->consts[u16_at(code, pc)]; pc += 2; break;
        case OP_TRUE: *sp++ = sl_bool(true); break;
        case OP_FALSE: *sp++ = sl_bool(false); break;
        case OP_SUBJECT: *sp++ = f->subject ? f->subject[u16_at(code, pc)] : sl_missing(); pc += 2; break;
        case OP_CONTEXT: *sp++ = f->context ? f->context[u16_at(code, pc)] : sl_missing(); pc += 2; break;
        case OP_PRODUCT: *sp++ = f->product[u16_at(code, pc)]; pc += 2; break;
        case OP_PORT: *sp++ = f->port ? f->port[u16_at(code, pc)] : sl_missing(); pc += 2; break;
        case OP_COLUMN: *sp++ = f->column ? f->column[u16_at(code, pc)] : sl_missing(); pc += 2; break;
        case OP_SFACT: case OP_CFACT: {
            uint8_t v = (op == OP_SFACT ? f->sfacts : f->cfacts)[u16_at(code, pc)];
            pc += 2;
            if (v >= FACT_ERROR) {
                e = (sl_err)(v - FACT_ERROR);
                goto fail;
            }
            *sp++ = sl_bool(v == FACT_TRUE);
            break;
        }
        case OP_ACTION: *sp++ = f->action; break;
        case OP_NOW: sp->kind = SL_TIMESTAMP; sp->u.i = f->cx->now_us; sp++; break;
        case OP_EQ: case OP_NE: {
            sl_value *b = --sp, *a = sp - 1;
            if ((e = same_kind(a, b)) != SL_OK)
                goto fail;
            bool eq = scalar_eq(a, b);
            *a = sl_bool(op == OP_EQ ? eq : !eq);
            break;
        }
        case OP_LT: case OP_LE: case OP_GT: case OP_GE: {
            sl_value *b = --sp, *a = sp - 1;
            bool r;
            if ((e = compare(op, a, b, &r)) != SL_OK)
                goto fail;
            *a = sl_bool(r);
            break;
        }
        case OP_IN: case OP_HAS: {
            sl_value *b = --sp, *a = sp - 1;
            bool hit;
            e = op == OP_IN ? set_member(b, a, &hit) : set_member(a, b, &hit);
            if (e)
                goto fail;
            *a = sl_bool(hit);
            break;
        }
        case OP_MATCHES: {
            sl_value *a = sp - 1;
            const sl_regex *re = p->regexes[u16_at(code, pc)];
            pc += 2;
            if (a->kind != SL_STRING) {
                e = a->kind == SL_MISSING ? SL_E_MISSING : SL_E_TYPE;
                goto fail;
            }
            bool hit;
            if ((e = sl_regex_match(re, f->cx, a->u.s.ptr, a->u.s.len, &hit)) != SL_OK)
                goto fail;
            *a = sl_bool(hit);
            break;
        }
        case OP_LIKE: {
            sl_value *b = --sp, *a = sp - 1;
            if ((e = same_kind(a, b)) != SL_OK)
                goto fail;
            if (a->kind != SL_STRING) {
                e = SL_E_TYPE;
                goto fail;
            }
            *a = sl_bool(sl_like(a->u.s.ptr, a->u.s.len, b->u.s.ptr, b->u.s.len));
            break;
        }
        case OP_ADD: case OP_SUB: {
            sl_value *b = --sp, *a = sp - 1;
            if ((e = arith(op, a, b, a)) != SL_OK)
                goto fail;
            break;
        }
        case OP_NEG: {
            sl_value *a = sp - 1;
            if (a->kind != SL_INT && a->kind != SL_DURATION) {
                e = a->kind == SL_MISSING ? SL_E_MISSING : SL_E_TYPE;
                goto fail;
            }
            if (!sl_sub_overflow(0, a->u.i, &a->u.i)) {
                e = SL_E_OVERFLOW;
                goto fail;
            }
            break;
        }
        case OP_NOT: {
            sl_value *a = sp - 1;
            if ((e = want_bool(a)) != SL_OK)
                goto fail;
            a->u.b = !a->u.b;
            break;
        }
        case OP_PRESENT: sp[-1] = sl_bool(sp[-1].kind != SL_MISSING); break;
        case OP_CALL: {
            const sl_builtin *fn = &sl_builtins[u16_at(code, pc)];
            int n = code[pc + 2];
            pc += 3;
            sl_value out;
            if ((e = fn->fn(f->cx, sp - n, n, &out)) != SL_OK)
                goto fail;
            sp -= n;
            *sp++ = out;
            break;
        }
        case OP_JUMP_IF_FALSE: case OP_JUMP_IF_TRUE: {
            if ((e = want_bool(sp - 1)) != SL_OK)
                goto fail;
            if (sp[-1].u.b == (op == OP_JUMP_IF_TRUE))
                pc += 2 + u16_at(code, pc);
            else {
                pc += 2;
                sp--;
            }
            break;
        }
        case OP_RET:
            if ((e = want_bool(sp - 1)) != SL_OK)
                goto fail;
            f->budget = budget;
            return sp[-1].u.b ? VM_TRUE : VM_FALSE;
        default:
            e = SL_E_TYPE;       /* unreachable for verified code */
            goto fail;
        }
    }
fail:
    f->budget = budget;
    *err = e;
    *err_pc = op_pc;
    return VM_ERROR;
}

/* ==========================================================================
 * Naming a missing attribute (errors only)
 * ========================================================================== */

static const sl_value *slot_values(const vm_frame *f, uint8_t op)
{
    switch (op) {
    case OP_SUBJECT: return f->subject;
    case OP_CONTEXT: return f->context;
    case OP_PRODUCT: return f->product;
    case OP_PORT: return f->port;
    case OP_COLUMN: return f->column;
    default: return NULL;
    }
}

bool vm_missing_attr(const vm_frame *f, uint32_t start, uint32_t err_pc, uint8_t *root, uint16_t *slot)
{
    const vm_program *p = f->prog;
    for (uint32_t pc = start; pc < p->code_len && pc <= err_pc;) {
        uint8_t op = p->code[pc];
        uint32_t k = vm_op_bytes[op] >= 2 ? u16_at(p->code, pc + 1) : 0;
        if (op == OP_SFACT || op == OP_CFACT) {
            if (pc == err_pc) {         /* the error is the fact's: look inside it */
                int kind = op == OP_CFACT;
                uint32_t body = p->fact_pc[kind][k], end = body;
                while (end < p->code_len && p->code[end] != OP_RET)
                    end += 1u + vm_op_bytes[p->code[end]];
                return vm_missing_attr(f, body, end, root, slot);
            }
        } else if (op >= OP_SUBJECT && op <= OP_COLUMN) {
            const sl_value *vals = slot_values(f, op);
            if (!vals || vals[k].kind == SL_MISSING) {
                *root = (uint8_t)(op - OP_SUBJECT);   /* ROOT_* follow the opcodes' order */
                *slot = (uint16_t)k;
                return true;
            }
        }
        pc += 1u + vm_op_bytes[op];
    }
    return false;
}
