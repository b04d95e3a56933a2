/*
 * compile.c — turns checked policy ASTs and a product manifest into a
 * program (program.h): bytecode for every condition, pooled constants,
 * attribute paths resolved to slots, the product's attribute values, and the
 * rule index specialized per resource and action.
 *
 * Conditions are compiled so that the parts reading only the manifest can be
 * decided once, at load: a `when` is a chain of conjuncts, and the leading
 * conjuncts that read only product/port/column/action also get a standalone
 * copy (`c; RET`) that specialize() runs per resource. Operands are never
 * reordered: only a prefix of conjuncts is folded, so the errors a decision
 * raises are those the source order would raise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine/compile.h"

/* ==========================================================================
 * Growable arrays through the program's allocator
 * ========================================================================== */

typedef struct comp {
    vm_program *p;
    diag_list *diags;
    const ast_file *file;      /* file of the policy being compiled */
    bool oom;
    int depth;                 /* current stack depth while emitting */
    /* constant dedup: open addressing over (kind, payload) -> index+1 */
    uint32_t *const_map;
    uint32_t const_map_cap;
    const mf_mesh *mesh;
    /* Facts found while compiling, compiled after the rules. */
    struct pending_fact { const ast_expr *e; const ast_file *file; int kind; } *facts;
    uint32_t nfacts;
    size_t facts_bytes;
    bool in_fact;
} comp;

/* Makes room for `need` elements of elem bytes in *arr, now *bytes long,
 * doubling its capacity; *bytes is the size the block has, and is what it
 * is given back with. */
static bool grow(comp *c, void **arr, size_t *bytes, size_t need, size_t elem)
{
    size_t cap = *bytes / elem;
    if (need <= cap)
        return true;
    size_t ncap = cap ? cap : 16;
    while (ncap < need)
        ncap *= 2;
    void *n = c->p->alloc(c->p->ud, *arr, *bytes, ncap * elem);
    if (!n) {
        c->oom = true;
        return false;
    }
    *arr = n;
    *bytes = ncap * elem;
    return true;
}
/* Room for element n of array f of the program, its size kept in
 * p->size.f (program.h). */
#define GROW(c, f, n) grow((c), (void **)&(c)->p->f, &(c)->p->size.f, (size_t)(n) + 1, sizeof *(c)->p->f)

static void error_at(comp *c, ast_span span, const char *hint, const char *fmt, const char *arg)
{
    if (!c->diags)
        return;
    diag_add(c->diags, DIAG_ERROR, c->file ? c->file->name : "<input>",
             c->file ? c->file->src : NULL, c->file ? c->file->src_len : 0,
             span, hint, fmt, arg);
}

static uint32_t intern(comp *c, const char *s, size_t len)
{
    uint32_t id = sl_intern_add(c->p->syms, s, (uint32_t)len);
    if (!id)
        c->oom = true;
    return id;
}

static uint32_t intern_cstr(comp *c, const char *s)
{
    return intern(c, s ? s : "", s ? strlen(s) : 0);
}

/* ==========================================================================
 * Emitting code
 * ========================================================================== */

static void emit_byte(comp *c, uint8_t b)
{
    if (GROW(c, code, c->p->code_len))
        c->p->code[c->p->code_len++] = b;
}

static void emit_u16(comp *c, uint32_t v)
{
    emit_byte(c, (uint8_t)(v & 0xff));
    emit_byte(c, (uint8_t)(v >> 8));
}

static const int8_t op_effect[OP__COUNT] = {
#define OP(name, bytes, effect, synopsis) effect,
#include "engine/opcodes.h"
#undef OP
};

/* Emits an opcode, records where it came from, and tracks stack depth. */
static void emit_op(comp *c, int op, ast_span span)
{
    vm_program *p = c->p;
    if (GROW(c, lines, p->nlines)) {
        p->lines[p->nlines].pc = p->code_len;
        p->lines[p->nlines].line = span.line;
        p->lines[p->nlines].col = span.col;
        p->nlines++;
    }
    emit_byte(c, (uint8_t)op);
    c->depth += op_effect[op];
    if (c->depth > (int)p->max_stack)
        p->max_stack = (uint32_t)c->depth;
}

static bool operand_fits(comp *c, uint32_t v, ast_span span, const char *what)
{
    if (v <= UINT16_MAX)
        return true;
    error_at(c, span, NULL, "too many %s in one policy set (limit 65535)", what);
    return false;
}

/* ==========================================================================
 * Constants
 * ========================================================================== */

static uint64_t const_key(const sl_value *v)
{
    uint64_t x = v->kind == SL_STRING ? v->u.s.sym : (uint64_t)v->u.i;
    if (v->kind == SL_BOOL)
        x = v->u.b;
    x ^= (uint64_t)v->kind * 0x9e3779b97f4a7c15ULL;
    x ^= x >> 31;
    x *= 0xbf58476d1ce4e5b9ULL;
    return x ^ (x >> 29);
}

static bool const_same(const sl_value *a, const sl_value *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == SL_STRING)
        return a->u.s.sym == b->u.s.sym;
    if (a->kind == SL_BOOL)
        return a->u.b == b->u.b;
    return a->u.i == b->u.i;
}

static bool const_map_grow(comp *c)
{
    uint32_t ncap = c->const_map_cap ? c->const_map_cap * 2 : 256;
    uint32_t *m = c->p->alloc(c->p->ud, NULL, 0, (size_t)ncap * sizeof *m);
    if (!m) {
        c->oom = true;
        return false;
    }
    memset(m, 0, (size_t)ncap * sizeof *m);
    for (uint32_t i = 0; i < c->p->nconsts; i++) {
        if (c->p->consts[i].kind == SL_SET)
            continue;
        uint32_t h = (uint32_t)const_key(&c->p->consts[i]) & (ncap - 1);
        while (m[h])
            h = (h + 1) & (ncap - 1);
        m[h] = i + 1;
    }
    c->p->alloc(c->p->ud, c->const_map, (size_t)c->const_map_cap * sizeof *m, 0);
    c->const_map = m;
    c->const_map_cap = ncap;
    return true;
}

/* Returns the index of scalar constant v, adding it if new. */
static uint32_t add_const(comp *c, sl_value v)
{
    vm_program *p = c->p;
    if (v.kind != SL_SET) {
        if (p->nconsts * 2 >= c->const_map_cap && !const_map_grow(c))
            return 0;
        uint32_t h = (uint32_t)const_key(&v) & (c->const_map_cap - 1);
        while (c->const_map[h]) {
            if (const_same(&p->consts[c->const_map[h] - 1], &v))
                return c->const_map[h] - 1;
            h = (h + 1) & (c->const_map_cap - 1);
        }
        c->const_map[h] = p->nconsts + 1;
    }
    if (!GROW(c, consts, p->nconsts))
        return 0;
    p->consts[p->nconsts] = v;
    return p->nconsts++;
}

/* While compiling, a set's items field holds the index of its first item in
 * p->items; freeze() turns it into a pointer once the array stops moving. */
static uint32_t add_item(comp *c, sl_value v)
{
    vm_program *p = c->p;
    if (!GROW(c, items, p->nitems))
        return 0;
    p->items[p->nitems] = v;
    return p->nitems++;
}

static sl_value set_value(uint32_t first, uint32_t n)
{
    sl_value v = { .kind = SL_SET };
    v.u.set.items = (const sl_value *)(uintptr_t)first;
    v.u.set.n = n;
    return v;
}

static sl_value str_value(comp *c, const char *s, size_t len)
{
    sl_value v = { .kind = SL_STRING };
    v.u.s.sym = intern(c, s, len);
    v.u.s.len = (uint32_t)len;
    return v;   /* ptr is set by freeze() */
}

static sl_value literal_value(comp *c, const ast_expr *e)
{
    sl_value v = { .kind = SL_MISSING };
    switch (e->kind) {
    case AST_BOOL: v = sl_bool(e->u.b); break;
    case AST_INT: v = sl_int(e->u.i); break;
    case AST_DURATION: v.kind = SL_DURATION; v.u.i = e->u.i; break;
    case AST_TIMESTAMP: v.kind = SL_TIMESTAMP; v.u.i = e->u.i; break;
    case AST_STRING: v = str_value(c, e->u.str.ptr, e->u.str.len); break;
    default: break;
    }
    return v;
}

/* ==========================================================================
 * Attribute slots
 * ========================================================================== */

static int slot_root(ast_root r)
{
    switch (r) {
    case AST_ROOT_SUBJECT: return ROOT_SUBJECT;
    case AST_ROOT_CONTEXT: return ROOT_CONTEXT;
    case AST_ROOT_PRODUCT: return ROOT_PRODUCT;
    case AST_ROOT_PORT: return ROOT_PORT;
    case AST_ROOT_COLUMN: return ROOT_COLUMN;
    default: return -1;
    }
}

static sl_type schema_type(const comp *c, int root, const char *path)
{
    sl_type any = { SL_ANY, SL_ANY };
    if (!c->mesh || (root != ROOT_SUBJECT && root != ROOT_CONTEXT))
        return any;
    const char *prefix = root == ROOT_SUBJECT ? "subject." : "context.";
    size_t pl = strlen(prefix);
    for (size_t i = 0; i < c->mesh->nschema; i++) {
        const char *sp = c->mesh->schema[i].path;
        if (strncmp(sp, prefix, pl) == 0 && strcmp(sp + pl, path) == 0)
            return c->mesh->schema[i].type;
    }
    return any;
}

/* The slot of path (segments joined by '.') under root, added if new. */
static uint32_t path_slot(comp *c, int root, const ast_expr *e)
{
    char buf[512];
    size_t n = 0;
    for (uint32_t i = 0; i < e->u.path.nsegs; i++) {
        const ast_str *s = &e->u.path.segs[i];
        if (n + s->len + 2 > sizeof buf) {
            error_at(c, e->span, NULL, "attribute path `%s` is too long", "...");
            return 0;
        }
        if (i)
            buf[n++] = '.';
        memcpy(buf + n, s->ptr, s->len);
        n += s->len;
    }
    buf[n] = 0;
    uint32_t sym = intern(c, buf, n);
    vm_program *p = c->p;
    for (uint32_t i = 0; i < p->nslots[root]; i++)
        if (p->slot_path[root][i] == sym)
            return i;
    if (!GROW(c, slot_path[root], p->nslots[root]) || !GROW(c, slot_type[root], p->nslots[root]))
        return 0;
    p->slot_path[root][p->nslots[root]] = sym;
    p->slot_type[root][p->nslots[root]] = schema_type(c, root, buf);
    return p->nslots[root]++;
}

/* ==========================================================================
 * Expressions
 * ========================================================================== */

/* Bit per root (ast_root) that an expression reads. */
static unsigned roots_used(const ast_expr *e)
{
    if (!e)
        return 0;
    switch (e->kind) {
    case AST_PATH: return 1u << e->u.path.root;
    case AST_UNARY: return roots_used(e->u.op.lhs);
    case AST_BINARY: return roots_used(e->u.op.lhs) | roots_used(e->u.op.rhs);
    case AST_SET: {
        unsigned m = 0;
        for (uint32_t i = 0; i < e->u.set.n; i++)
            m |= roots_used(e->u.set.items[i]);
        return m;
    }
    case AST_CALL: {
        unsigned m = 0;
        for (uint32_t i = 0; i < e->u.call.nargs; i++)
            m |= roots_used(e->u.call.args[i]);
        return m;
    }
    default: return 0;
    }
}

/* Reads only what is fixed for one resource and action. */
static bool is_static(const ast_expr *e)
{
    unsigned dyn = (1u << AST_ROOT_SUBJECT) | (1u << AST_ROOT_CONTEXT) | (1u << AST_ROOT_NOW);
    return (roots_used(e) & dyn) == 0;
}

static void comp_expr(comp *c, const ast_expr *e);
static uint32_t comp_standalone(comp *c, const ast_expr *e);

static void emit_jump(comp *c, int op, ast_span span, uint32_t *patch)
{
    emit_op(c, op, span);
    *patch = c->p->code_len;
    emit_u16(c, 0);
}

static void patch_jump(comp *c, uint32_t at, ast_span span)
{
    if (c->oom)
        return;
    uint32_t off = c->p->code_len - (at + 2);
    if (!operand_fits(c, off, span, "instructions in a condition"))
        return;
    c->p->code[at] = (uint8_t)(off & 0xff);
    c->p->code[at + 1] = (uint8_t)(off >> 8);
}

static void comp_set(comp *c, const ast_expr *e)
{
    uint32_t first = c->p->nitems;
    for (uint32_t i = 0; i < e->u.set.n; i++) {
        const ast_expr *it = e->u.set.items[i];
        if (it->kind > AST_TIMESTAMP) {
            error_at(c, it->span, "compute the set in the request instead",
                     "set literal elements must be literals%s", "");
            return;
        }
        add_item(c, literal_value(c, it));
    }
    uint32_t k = add_const(c, set_value(first, e->u.set.n));
    if (operand_fits(c, k, e->span, "constants")) {
        emit_op(c, OP_CONST, e->span);
        emit_u16(c, k);
    }
}

static void comp_path(comp *c, const ast_expr *e)
{
    if (e->u.path.root == AST_ROOT_ACTION) {
        emit_op(c, OP_ACTION, e->span);
        return;
    }
    if (e->u.path.root == AST_ROOT_NOW) {
        emit_op(c, OP_NOW, e->span);
        return;
    }
    int root = slot_root(e->u.path.root);
    static const int ops[ROOT_SLOTTED] = { OP_SUBJECT, OP_CONTEXT, OP_PRODUCT, OP_PORT, OP_COLUMN };
    uint32_t slot = path_slot(c, root, e);
    if (!operand_fits(c, slot, e->span, "attribute paths"))
        return;
    emit_op(c, ops[root], e->span);
    emit_u16(c, slot);
}

static void comp_regex(comp *c, const ast_expr *e)
{
    const ast_expr *pat = e->u.op.rhs;
    if (pat->kind != AST_STRING) {
        error_at(c, pat->span, NULL, "the pattern of `matches` must be a string literal%s", "");
        return;
    }
    vm_program *p = c->p;
    uint32_t sym = intern(c, pat->u.str.ptr, pat->u.str.len);
    uint32_t k = 0;
    while (k < p->nregexes && p->regex_src[k] != sym)
        k++;
    if (k == p->nregexes) {
        char why[256];
        size_t off = 0;
        sl_regex *re = sl_regex_compile(pat->u.str.ptr, pat->u.str.len, p->alloc,
                                        p->ud, why, sizeof why, &off);
        if (!re) {
            if (strcmp(why, "out of memory") == 0)
                c->oom = true;
            else
                error_at(c, pat->span, NULL, "invalid regular expression: %s", why);
            return;
        }
        if (!GROW(c, regexes, p->nregexes) || !GROW(c, regex_src, p->nregexes)) {
            sl_regex_free(re);
            return;
        }
        p->regexes[k] = re;
        p->regex_src[k] = sym;
        p->nregexes++;
    }
    comp_expr(c, e->u.op.lhs);
    if (operand_fits(c, k, pat->span, "regular expressions")) {
        emit_op(c, OP_MATCHES, e->span);
        emit_u16(c, k);
    }
}

static void comp_binary(comp *c, const ast_expr *e)
{
    static const int ops[] = {
        [AST_OP_EQ] = OP_EQ, [AST_OP_NE] = OP_NE, [AST_OP_LT] = OP_LT,
        [AST_OP_LE] = OP_LE, [AST_OP_GT] = OP_GT, [AST_OP_GE] = OP_GE,
        [AST_OP_IN] = OP_IN, [AST_OP_HAS] = OP_HAS, [AST_OP_LIKE] = OP_LIKE,
        [AST_OP_ADD] = OP_ADD, [AST_OP_SUB] = OP_SUB,
    };
    ast_op op = e->u.op.op;
    if (op == AST_OP_AND || op == AST_OP_OR) {
        uint32_t at;
        comp_expr(c, e->u.op.lhs);
        emit_jump(c, op == AST_OP_AND ? OP_JUMP_IF_FALSE : OP_JUMP_IF_TRUE, e->span, &at);
        c->depth--;                     /* the operand is popped on fall-through */
        comp_expr(c, e->u.op.rhs);
        patch_jump(c, at, e->span);
        return;
    }
    if (op == AST_OP_MATCHES) {
        comp_regex(c, e);
        return;
    }
    comp_expr(c, e->u.op.lhs);
    comp_expr(c, e->u.op.rhs);
    emit_op(c, ops[op], e->span);
}

static void comp_call(comp *c, const ast_expr *e)
{
    if (e->u.call.builtin < 0) {        /* present(path) */
        const ast_expr *arg = e->u.call.nargs == 1 ? e->u.call.args[0] : NULL;
        if (!arg || arg->kind != AST_PATH) {
            error_at(c, e->span, NULL, "present() takes one attribute path%s", "");
            return;
        }
        comp_path(c, arg);
        emit_op(c, OP_PRESENT, e->span);
        return;
    }
    for (uint32_t i = 0; i < e->u.call.nargs; i++)
        comp_expr(c, e->u.call.args[i]);
    emit_op(c, OP_CALL, e->span);
    emit_u16(c, (uint32_t)e->u.call.builtin);
    emit_byte(c, (uint8_t)e->u.call.nargs);
    c->depth += 1 - (int)e->u.call.nargs;
}

/* Whether e yields a bool by construction (not through and/or, whose parts
 * are facts on their own, keeping their short-circuit order). */
static bool yields_bool(const ast_expr *e)
{
    if (e->kind == AST_UNARY)
        return e->u.op.op == AST_OP_NOT;
    if (e->kind == AST_BINARY)
        return e->u.op.op >= AST_OP_EQ && e->u.op.op <= AST_OP_LIKE;
    if (e->kind == AST_CALL)
        return e->u.call.builtin < 0 || sl_builtins[e->u.call.builtin].result.kind == SL_BOOL;
    return false;
}

/* 0: a subject fact, 1: a context fact, -1: neither. A fact reads the
 * subject (or the context) and otherwise only the product, which is fixed
 * for the set, so its value is known once the subject is resolved. */
static int fact_kind(const ast_expr *e)
{
    if (!yields_bool(e))
        return -1;
    unsigned r = roots_used(e), prod = 1u << AST_ROOT_PRODUCT;
    unsigned subj = 1u << AST_ROOT_SUBJECT, ctx = 1u << AST_ROOT_CONTEXT;
    if ((r & subj) && !(r & ~(subj | prod)))
        return 0;
    if ((r & ctx) && !(r & ~(ctx | prod)))
        return 1;
    return -1;
}

static void comp_fact_ref(comp *c, const ast_expr *e, int kind)
{
    if (!grow(c, (void **)&c->facts, &c->facts_bytes, (size_t)c->nfacts + 1, sizeof *c->facts))
        return;
    uint32_t k = c->p->nfacts[kind]++;
    c->facts[c->nfacts++] = (struct pending_fact){ e, c->file, kind };
    if (operand_fits(c, k, e->span, "facts")) {
        emit_op(c, kind == 0 ? OP_SFACT : OP_CFACT, e->span);
        emit_u16(c, k);
    }
}

/* Compiles the body `e; RET` of every fact, in the order they were met. */
static void comp_fact_bodies(comp *c)
{
    vm_program *p = c->p;
    uint32_t n[2] = { 0, 0 };
    for (int k = 0; k < 2; k++) {
        if (!PROG_ARRAY(p, fact_pc[k], (size_t)p->nfacts[k] + 1)) {
            c->oom = true;
            return;
        }
    }
    c->in_fact = true;
    for (uint32_t i = 0; i < c->nfacts && !c->oom; i++) {
        c->file = c->facts[i].file;
        int k = c->facts[i].kind;
        p->fact_pc[k][n[k]++] = comp_standalone(c, c->facts[i].e);
    }
    c->in_fact = false;
    c->file = NULL;
}

/* expr -> literal | set | path | unary | binary | call */
static void comp_expr(comp *c, const ast_expr *e)
{
    if (c->oom)
        return;
    int fk = c->in_fact ? -1 : fact_kind(e);
    if (fk >= 0) {
        comp_fact_ref(c, e, fk);
        return;
    }
    switch (e->kind) {
    case AST_BOOL:
        emit_op(c, e->u.b ? OP_TRUE : OP_FALSE, e->span);
        break;
    case AST_INT: case AST_DURATION: case AST_TIMESTAMP: case AST_STRING: {
        uint32_t k = add_const(c, literal_value(c, e));
        if (operand_fits(c, k, e->span, "constants")) {
            emit_op(c, OP_CONST, e->span);
            emit_u16(c, k);
        }
        break;
    }
    case AST_SET: comp_set(c, e); break;
    case AST_PATH: comp_path(c, e); break;
    case AST_UNARY:
        comp_expr(c, e->u.op.lhs);
        emit_op(c, e->u.op.op == AST_OP_NOT ? OP_NOT : OP_NEG, e->span);
        break;
    case AST_BINARY: comp_binary(c, e); break;
    case AST_CALL: comp_call(c, e); break;
    }
}

/* ==========================================================================
 * Rules
 * ========================================================================== */

#define MAX_CONJ 64

/* Flattens a left- or right-nested `and` chain into its conjuncts. */
static uint32_t conjuncts(const ast_expr *e, const ast_expr **out, uint32_t n)
{
    if (e->kind == AST_BINARY && e->u.op.op == AST_OP_AND && n < MAX_CONJ - 1) {
        n = conjuncts(e->u.op.lhs, out, n);
        return conjuncts(e->u.op.rhs, out, n);
    }
    if (n < MAX_CONJ)
        out[n++] = e;
    return n;
}

/* Emits `e; RET` and returns its pc. */
static uint32_t comp_standalone(comp *c, const ast_expr *e)
{
    uint32_t pc = c->p->code_len;
    c->depth = 0;
    comp_expr(c, e);
    emit_op(c, OP_RET, e->span);
    return pc;
}

/* when -> c1 JIF L c2 JIF L ... cn L: RET, plus `ci; RET` for the static
 * prefix. Folding only a prefix keeps the source's evaluation order. */
static void comp_when(comp *c, vm_rule *r, const ast_expr *when)
{
    const ast_expr *cs[MAX_CONJ];
    uint32_t n = conjuncts(when, cs, 0);
    if (n == MAX_CONJ) {            /* too long to split: one chunk */
        cs[0] = when;
        n = 1;
    }
    uint32_t patches[MAX_CONJ];
    vm_program *p = c->p;
    r->conj_first = p->nconj_pcs;
    r->nconj = n;
    r->when_pc = p->code_len;
    c->depth = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (GROW(c, conj_pcs, p->nconj_pcs + 1)) {
            p->conj_pcs[p->nconj_pcs++] = p->code_len;
            p->conj_pcs[p->nconj_pcs++] = VM_NO_CODE;
        }
        comp_expr(c, cs[i]);
        if (i + 1 < n) {
            emit_jump(c, OP_JUMP_IF_FALSE, cs[i]->span, &patches[i]);
            c->depth--;
        }
    }
    for (uint32_t i = 0; i + 1 < n; i++)
        patch_jump(c, patches[i], cs[i]->span);
    emit_op(c, OP_RET, when->span);
    /* Every conjunct that reads only the manifest gets a standalone copy;
     * conj_static counts those that lead the chain. */
    r->conj_static = 0;
    bool leading = true;
    for (uint32_t i = 0; i < n && !c->oom; i++) {
        if (!is_static(cs[i])) {
            leading = false;
            continue;
        }
        uint32_t pc = comp_standalone(c, cs[i]);
        if (!c->oom)
            p->conj_pcs[r->conj_first + 2 * i + 1] = pc;
        if (leading)
            r->conj_static++;
    }
}

static bool target_reads_ok(comp *c, const ast_rule *ar, const ast_expr *e)
{
    if (!e || ar->target == AST_ON_COLUMN)
        return true;
    if (roots_used(e) & (1u << AST_ROOT_COLUMN)) {
        error_at(c, e->span, "write the rule `on column`",
                 "`column` is not available in a rule on %s",
                 ar->target == AST_ON_PRODUCT ? "product" : ar->target == AST_ON_PORT ? "port" : "subject");
        return false;
    }
    return true;
}

static int action_id(const vm_program *p, uint32_t sym)
{
    for (uint32_t i = 0; i < p->nactions; i++)
        if (p->actions[i] == sym)
            return (int)i;
    return -1;
}

static uint64_t rule_actions(comp *c, const ast_rule *ar)
{
    uint64_t all = c->p->nactions >= 64 ? ~0ULL : (1ULL << c->p->nactions) - 1;
    if (ar->all_actions || (ar->kind != AST_PERMIT && ar->kind != AST_FORBID))
        return all;
    uint64_t m = 0;
    for (uint32_t i = 0; i < ar->nactions; i++) {
        int a = action_id(c->p, intern(c, ar->actions[i].ptr, ar->actions[i].len));
        if (a < 0) {
            error_at(c, ar->action_spans[i], "declare it under `actions:` in mesh.yaml",
                     "unknown action `%s`", arena_strndup(c->diags->arena, ar->actions[i].ptr, ar->actions[i].len));
            continue;
        }
        m |= 1ULL << a;
    }
    return m;
}


static void rule_id(comp *c, vm_rule *r, const ast_policy *ap)
{
    char buf[600];
    int n = snprintf(buf, sizeof buf, "%.*s@%lld#%u", (int)(ap->name.len > 500 ? 500 : ap->name.len),
                     ap->name.ptr, (long long)ap->version, (unsigned)r->ordinal);
    r->id = intern(c, buf, (size_t)n);
}

static void comp_rule(comp *c, vm_rule *r, uint32_t policy, const ast_policy *ap,
                      const ast_rule *ar, bool dry_run)
{
    memset(r, 0, sizeof *r);
    r->kind = (uint8_t)ar->kind;
    r->target = (uint8_t)ar->target;
    r->mask = (uint8_t)ar->mask;
    r->disposal = (uint8_t)ar->disposal;
    r->encryption = (uint8_t)ar->encryption;
    r->dry_run = dry_run;
    r->global = ap->scope == AST_SCOPE_GLOBAL;
    r->policy = policy;
    r->ordinal = ar->ordinal;
    r->line = ar->span.line;
    r->col = ar->span.col;
    r->when_pc = r->unless_pc = VM_NO_CODE;
    r->period_us = ar->period_us;
    if (ar->time_column.len)
        r->time_col = intern(c, ar->time_column.ptr, ar->time_column.len);
    rule_id(c, r, ap);
    r->actions = rule_actions(c, ar);
    if (!target_reads_ok(c, ar, ar->when) || !target_reads_ok(c, ar, ar->unless))
        return;
    if (ar->when)
        comp_when(c, r, ar->when);
    if (ar->unless) {
        r->unless_pc = comp_standalone(c, ar->unless);
        r->unless_static = is_static(ar->unless);
    }
}

/* ==========================================================================
 * Policies: order and modes
 * ========================================================================== */

static int cmp_policy(const void *a, const void *b)
{
    const ast_policy *x = ((const comp_policy *)a)->ast, *y = ((const comp_policy *)b)->ast;
    if (x->scope != y->scope)
        return x->scope == AST_SCOPE_GLOBAL ? -1 : 1;
    uint32_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int d = memcmp(x->name.ptr, y->name.ptr, n);
    if (d)
        return d;
    return (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

static bool same_name(const ast_policy *x, const ast_policy *y)
{
    return x->name.len == y->name.len && memcmp(x->name.ptr, y->name.ptr, x->name.len) == 0;
}

/* Compiles every policy, in priority order: global before local, then by
 * name; rule ids follow source order within a policy. */
static void comp_policies(comp *c, comp_policy *ps, size_t n)
{
    vm_program *p = c->p;
    if (n)   /* ps is NULL for a product without policies */
        qsort(ps, n, sizeof *ps, cmp_policy);
    uint32_t nrules = 0;
    for (size_t i = 0; i < n; i++)
        nrules += ps[i].ast->nrules;
    if (!PROG_ARRAY(p, policies, n ? n : 1) || !PROG_ARRAY(p, rules, nrules ? nrules : 1)) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < n && !c->oom; i++) {
        const ast_policy *ap = ps[i].ast;
        c->file = ps[i].file;
        if (i > 0 && same_name(ps[i - 1].ast, ap)) {
            error_at(c, ap->span, NULL, "policy `%s` is defined more than once in this set",
                     arena_strndup(c->diags->arena, ap->name.ptr, ap->name.len));
            continue;
        }
        vm_policy *vp = &p->policies[p->npolicies];
        vp->name = intern(c, ap->name.ptr, ap->name.len);
        vp->version = ap->version;
        vp->global = ap->scope == AST_SCOPE_GLOBAL;
        vp->dry_run = ps[i].mode >= 0 ? ps[i].mode == 1 : ap->mode == AST_MODE_DRY_RUN;
        vp->file = intern_cstr(c, ap->file ? ap->file : ps[i].file->name);
        vp->first_rule = p->nrules;
        vp->nrules = ap->nrules;
        for (uint32_t k = 0; k < ap->nrules; k++)
            comp_rule(c, &p->rules[p->nrules++], p->npolicies, ap, &ap->rules[k], vp->dry_run);
        p->npolicies++;
    }
    c->file = NULL;
}

static void add_actions(comp *c)
{
    static const char *const builtin[VM_BUILTIN_ACTIONS] = { "read", "write", "delete" };
    vm_program *p = c->p;
    for (int i = 0; i < VM_BUILTIN_ACTIONS; i++)
        p->actions[p->nactions++] = intern_cstr(c, builtin[i]);
    if (!c->mesh)
        return;
    for (size_t i = 0; i < c->mesh->actions.n && p->nactions < VM_MAX_ACTIONS; i++) {
        uint32_t sym = intern_cstr(c, c->mesh->actions.v[i]);
        if (action_id(p, sym) < 0)
            p->actions[p->nactions++] = sym;
    }
}

/* ==========================================================================
 * Resource attribute values from the manifest
 * ========================================================================== */

static sl_value strs_set(comp *c, const mf_strs *s)
{
    uint32_t first = c->p->nitems;
    for (size_t i = 0; i < s->n; i++)
        add_item(c, str_value(c, s->v[i], strlen(s->v[i])));
    return set_value(first, (uint32_t)s->n);
}

static sl_value cstr_value(comp *c, const char *s)
{
    return str_value(c, s ? s : "", s ? strlen(s) : 0);
}

static sl_value attr_value(comp *c, const mf_attr *attrs, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++) {
        const mf_attr *a = &attrs[i];
        if (strcmp(a->key, key) != 0)
            continue;
        switch (a->kind) {
        case SL_STRING: return cstr_value(c, a->str);
        case SL_INT: return sl_int(a->i);
        case SL_BOOL: return sl_bool(a->b);
        case SL_SET: return strs_set(c, &a->list);
        default: break;
        }
    }
    return sl_missing();
}

#define ATTR_PREFIX "attributes."

static sl_value product_value(comp *c, const mf_product *pr, const char *path)
{
    if (!strcmp(path, "uri")) return cstr_value(c, pr->uri);
    if (!strcmp(path, "name")) return cstr_value(c, pr->name);
    if (!strcmp(path, "domain")) return cstr_value(c, pr->domain);
    if (!strcmp(path, "owner")) return cstr_value(c, pr->owner);
    if (!strcmp(path, "lifecycle")) return cstr_value(c, pr->lifecycle ? pr->lifecycle : "active");
    if (!strcmp(path, "kind")) return cstr_value(c, pr->kind);
    if (!strcmp(path, "allowed_regions")) return strs_set(c, &pr->allowed_regions);
    if (!strcmp(path, "legal_hold")) return sl_bool(pr->legal_hold);
    if (!strcmp(path, "tags")) return set_value(c->p->nitems, 0);
    if (!strncmp(path, ATTR_PREFIX, strlen(ATTR_PREFIX)))
        return attr_value(c, pr->attrs, pr->nattrs, path + strlen(ATTR_PREFIX));
    return sl_missing();
}

static sl_value port_value(comp *c, const mf_product *pr, const mf_port *pt, const char *path)
{
    if (!strcmp(path, "name")) return cstr_value(c, pt->name);
    if (!strcmp(path, "visibility")) return cstr_value(c, pt->visibility ? pt->visibility : "domain");
    if (!strcmp(path, "subject_key")) return cstr_value(c, pt->subject_key);
    if (!strcmp(path, "tags")) return strs_set(c, &pt->tags);
    if (!strcmp(path, "domain")) return cstr_value(c, pr->domain);
    if (!strcmp(path, "encrypted_at_rest")) return sl_bool(pt->enc_at_rest);
    if (!strcmp(path, "encrypted_in_transit")) return sl_bool(pt->enc_in_transit);
    if (!strncmp(path, ATTR_PREFIX, strlen(ATTR_PREFIX)))
        return attr_value(c, pt->attrs, pt->nattrs, path + strlen(ATTR_PREFIX));
    return sl_missing();
}

static sl_value column_value(comp *c, const mf_product *pr, const mf_column *col, const char *path)
{
    if (!strcmp(path, "name")) return cstr_value(c, col->name);
    if (!strcmp(path, "type")) return cstr_value(c, col->type);
    if (!strcmp(path, "tags")) return strs_set(c, &col->tags);
    if (!strcmp(path, "domain")) return cstr_value(c, pr->domain);
    if (!strcmp(path, "encrypted")) return sl_bool(col->encrypted);
    return sl_missing();
}

/* Allocates values array *at (its size kept in *size) for n values,
 * zeroed. */
static void alloc_values(comp *c, sl_value **at, size_t *size, size_t n)
{
    sl_value *v = prog_array(c->p, (void **)at, size, (n ? n : 1) * sizeof *v);
    if (!v)
        c->oom = true;
    else
        memset(v, 0, (n ? n : 1) * sizeof *v);
}
#define ALLOC_VALUES(c, f, n) alloc_values((c), &(c)->p->f, &(c)->p->size.f, (n))

static const char *slot_name(const comp *c, int root, uint32_t i)
{
    return sl_intern_str(c->p->syms, c->p->slot_path[root][i], NULL);
}

static void resource_values(comp *c, const mf_product *pr)
{
    vm_program *p = c->p;
    uint32_t np = p->nslots[ROOT_PRODUCT], npt = p->nslots[ROOT_PORT], nc = p->nslots[ROOT_COLUMN];
    ALLOC_VALUES(c, product_vals, np);
    if (!pr || c->oom)
        return;
    p->product_uri = intern_cstr(c, pr->uri);
    for (uint32_t i = 0; i < np && !c->oom; i++)
        p->product_vals[i] = product_value(c, pr, slot_name(c, ROOT_PRODUCT, i));
    size_t ncols = 0;
    for (size_t k = 0; k < pr->nports; k++)
        ncols += pr->ports[k].ncolumns;
    PROG_ARRAY(p, ports, pr->nports ? pr->nports : 1);
    ALLOC_VALUES(c, port_vals, pr->nports * npt);
    PROG_ARRAY(p, col_names, ncols ? ncols : 1);
    ALLOC_VALUES(c, col_vals, ncols * nc);
    if (!p->ports || !p->col_names || c->oom) {
        c->oom = true;
        return;
    }
    for (size_t k = 0; k < pr->nports && !c->oom; k++) {
        const mf_port *pt = &pr->ports[k];
        vm_port *vp = &p->ports[p->nports++];
        vp->name = intern_cstr(c, pt->name);
        vp->first_col = p->ncols;
        vp->ncols = (uint32_t)pt->ncolumns;
        if (vp->ncols > p->max_cols)
            p->max_cols = vp->ncols;
        for (uint32_t i = 0; i < npt; i++)
            p->port_vals[k * npt + i] = port_value(c, pr, pt, slot_name(c, ROOT_PORT, i));
        for (size_t j = 0; j < pt->ncolumns; j++) {
            uint32_t ci = p->ncols++;
            p->col_names[ci] = intern_cstr(c, pt->columns[j].name);
            for (uint32_t i = 0; i < nc; i++)
                p->col_vals[(size_t)ci * nc + i] = column_value(c, pr, &pt->columns[j], slot_name(c, ROOT_COLUMN, i));
        }
    }
}

/* ==========================================================================
 * Specialization and the rule index
 * ========================================================================== */

#define MAX_VARIANTS 256

typedef struct spec {
    comp *c;
    vm_frame f;
    sl_ctx cx;
    char scratch[4096];
    /* Specialized `when` chains already emitted for the current rule:
     * key (first conjunct kept, static values) -> pc. */
    uint32_t variant_rule;
    uint32_t nvariants;
    struct variant { uint32_t first; uint64_t vals; uint32_t pc; } variants[MAX_VARIANTS];
} spec;

static vm_result run_static(spec *s, uint32_t pc)
{
    sl_err e;
    uint32_t epc;
    s->cx.scratch_len = 0;
    s->f.budget = s->c->p->step_budget;
    return vm_run(&s->f, pc, &e, &epc);
}

/* End of conjunct i of r's chain: where its JUMP_IF_FALSE starts, or for
 * the last conjunct, the chain's RET. */
static uint32_t conj_end(const vm_program *p, const vm_rule *r, uint32_t i)
{
    if (i + 1 < r->nconj)
        return p->conj_pcs[r->conj_first + 2 * (i + 1)] - 3;
    uint32_t pc = p->conj_pcs[r->conj_first + 2 * i];
    while (p->code[pc] != OP_RET)
        pc += 1u + vm_op_bytes[p->code[pc]];
    return pc;
}

/* Appends code [from, to) and its line entries; jumps are relative and stay
 * inside a conjunct, so the copy needs no relocation. */
static void copy_code(comp *c, uint32_t from, uint32_t to)
{
    vm_program *p = c->p;
    uint32_t base = p->code_len, nl = p->nlines;
    for (uint32_t i = 0; i < nl; i++)
        if (p->lines[i].pc >= from && p->lines[i].pc < to && GROW(c, lines, p->nlines))
            p->lines[p->nlines++] = (struct vm_line){ base + p->lines[i].pc - from, p->lines[i].line,
                                                      p->lines[i].col };
    for (uint32_t pc = from; pc < to && !c->oom; pc++)
        emit_byte(c, p->code[pc]);
}

/* The chain from conjunct k on, with the conjuncts that read only the
 * manifest replaced by their value for this resource: a true one is
 * dropped, a false one ends the chain with `false`. Operands keep their
 * order, so the same errors are raised. Equal variants are shared. */
static uint32_t specialize_tail(spec *s, const vm_rule *r, uint32_t k, uint32_t chain_pc)
{
    comp *c = s->c;
    vm_program *p = c->p;
    uint64_t vals = 0;                  /* 2 bits per conjunct: 1 true, 2 false */
    uint32_t nstatic = 0, stop = r->nconj;
    if (r->nconj - k > 32)
        return chain_pc;
    for (uint32_t i = k; i < r->nconj; i++) {
        uint32_t alone = p->conj_pcs[r->conj_first + 2 * i + 1];
        if (alone == VM_NO_CODE)
            continue;
        vm_result v = run_static(s, alone);
        if (v == VM_ERROR)
            continue;                   /* evaluated at run time, in order */
        nstatic++;
        vals |= (uint64_t)(v == VM_TRUE ? 1 : 2) << (2 * (i - k));
        if (v == VM_FALSE) {
            stop = i;
            break;
        }
    }
    if (nstatic == 0)
        return chain_pc;
    uint32_t rule = (uint32_t)(r - p->rules);
    if (s->variant_rule != rule) {
        s->variant_rule = rule;
        s->nvariants = 0;
    }
    for (uint32_t i = 0; i < s->nvariants; i++)
        if (s->variants[i].first == k && s->variants[i].vals == vals)
            return s->variants[i].pc;
    uint32_t pc = p->code_len, patches[MAX_CONJ], npatch = 0;
    bool any = false;
    for (uint32_t i = k; i < stop && !c->oom; i++) {
        uint32_t bits = (uint32_t)(vals >> (2 * (i - k))) & 3;
        if (bits == 1)
            continue;                   /* statically true: dropped */
        if (any) {
            emit_byte(c, OP_JUMP_IF_FALSE);
            patches[npatch++] = p->code_len;
            emit_u16(c, 0);
        }
        copy_code(c, p->conj_pcs[r->conj_first + 2 * i], conj_end(p, r, i));
        any = true;
    }
    if (stop < r->nconj) {              /* statically false: the chain is false */
        if (any) {
            emit_byte(c, OP_JUMP_IF_FALSE);
            patches[npatch++] = p->code_len;
            emit_u16(c, 0);
        }
        emit_byte(c, OP_FALSE);
        any = true;
    }
    if (!any) {                         /* every remaining conjunct is true */
        p->code_len = pc;
        return VM_ALWAYS;
    }
    for (uint32_t i = 0; i < npatch && !c->oom; i++) {
        uint32_t off = p->code_len - (patches[i] + 2);
        p->code[patches[i]] = (uint8_t)(off & 0xff);
        p->code[patches[i] + 1] = (uint8_t)(off >> 8);
    }
    emit_byte(c, OP_RET);
    if (p->max_stack < 1)
        p->max_stack = 1;
    if (s->nvariants < MAX_VARIANTS)
        s->variants[s->nvariants++] = (struct variant){ k, vals, pc };
    return c->oom ? chain_pc : pc;
}

/* Decides what of rule r can be decided for the frame's resource and
 * action. Returns false when the rule cannot apply there. */
static bool specialize(spec *s, const vm_rule *r, vm_entry *out)
{
    const vm_program *p = s->c->p;
    out->rule = (uint32_t)(r - p->rules);
    out->kind = r->kind;
    out->mask = r->mask;
    out->dry_run = r->dry_run;
    out->when_pc = r->when_pc == VM_NO_CODE ? VM_ALWAYS : r->when_pc;
    out->unless_pc = r->unless_pc;
    if (r->when_pc != VM_NO_CODE) {
        uint32_t k = 0;
        for (; k < r->conj_static; k++) {
            vm_result v = run_static(s, p->conj_pcs[r->conj_first + 2 * k + 1]);
            if (v == VM_FALSE)
                return false;
            if (v == VM_ERROR)
                break;   /* raised again at run time, in source order */
        }
        out->when_pc = k == r->nconj ? VM_ALWAYS : p->conj_pcs[r->conj_first + 2 * k];
        if (k < r->nconj)
            out->when_pc = specialize_tail(s, r, k, out->when_pc);
    }
    if (out->when_pc == VM_ALWAYS && r->unless_static && r->unless_pc != VM_NO_CODE) {
        vm_result v = run_static(s, r->unless_pc);
        if (v == VM_TRUE)
            return false;
        if (v == VM_FALSE)
            out->unless_pc = VM_NO_CODE;
    }
    return true;
}

static void add_entries(spec *s, vm_range *range, uint32_t action, int target, bool masks)
{
    comp *c = s->c;
    vm_program *p = c->p;
    range->first = p->nentries;
    s->f.action = p->action_vals[action];
    for (uint32_t i = 0; i < p->nrules && !c->oom; i++) {
        const vm_rule *r = &p->rules[i];
        bool access = r->kind == RK_PERMIT || r->kind == RK_FORBID;
        if (masks ? r->kind != RK_MASK : !access)
            continue;
        bool level = target == TG_COLUMN ? r->target == TG_COLUMN : r->target != TG_COLUMN;
        if (!level || !(r->actions & (1ULL << action)))
            continue;
        vm_entry e;
        if (!specialize(s, r, &e))
            continue;
        if (GROW(c, entries, p->nentries))
            p->entries[p->nentries++] = e;
    }
    range->n = p->nentries - range->first;
}

static void build_index(comp *c)
{
    vm_program *p = c->p;
    spec *s = prog_alloc(p, sizeof *s);
    PROG_ARRAY(p, port_index, (size_t)p->nports * p->nactions + 1);
    PROG_ARRAY(p, col_index, (size_t)p->ncols * p->nactions + 1);
    if (!s || !p->port_index || !p->col_index) {
        c->oom = true;
        prog_dealloc(p, s, sizeof *s);
        return;
    }
    memset(s, 0, sizeof *s);
    s->c = c;
    s->cx.syms = p->syms;
    s->cx.scratch = s->scratch;
    s->cx.scratch_cap = sizeof s->scratch;
    sl_value stack[256];
    if (p->max_stack > 256 || !sl_regex_ctx_init(&s->cx, p->alloc, p->ud)) {
        c->oom = p->max_stack <= 256;
        if (!c->oom)
            error_at(c, (ast_span){ 0, 0, 0, 0 }, NULL, "%s", "expression too deep to evaluate");
        prog_dealloc(p, s, sizeof *s);
        return;
    }
    s->f.prog = p;
    s->f.cx = &s->cx;
    s->f.stack = stack;
    s->f.product = p->product_vals;
    s->f.sfacts = p->null_facts[0];
    s->f.cfacts = p->null_facts[1];
    uint32_t npt = p->nslots[ROOT_PORT], nc = p->nslots[ROOT_COLUMN];
    for (uint32_t k = 0; k < p->nports; k++) {
        s->f.port = p->port_vals + (size_t)k * npt;
        s->f.column = NULL;
        for (uint32_t a = 0; a < p->nactions; a++)
            add_entries(s, &p->port_index[k * p->nactions + a], a, TG_PORT, false);
        const vm_port *vp = &p->ports[k];
        for (uint32_t j = vp->first_col; j < vp->first_col + vp->ncols; j++) {
            s->f.column = p->col_vals + (size_t)j * nc;
            for (uint32_t a = 0; a < p->nactions; a++) {
                vm_range *r = &p->col_index[j * p->nactions + a];
                vm_range m;
                add_entries(s, r, a, TG_COLUMN, false);
                add_entries(s, &m, a, TG_COLUMN, true);
                r->n += m.n;   /* masks follow the permits and forbids */
            }
        }
    }
    sl_regex_ctx_fini(&s->cx);
    prog_dealloc(p, s, sizeof *s);
}

/* ==========================================================================
 * Shrinking to length
 * ========================================================================== */

/* Shrinks array f, grown by doubling, to its n elements (at least one), so
 * that a compiled set keeps no spare capacity and its sizes are those a
 * bundle of it would have. A shrink the allocator refuses is out of memory
 * like any other refusal. */
static void trim(comp *c, void **arr, size_t *bytes, size_t n, size_t elem)
{
    size_t want = (n ? n : 1) * elem;
    if (c->oom || !*arr || *bytes == want)
        return;
    if (!prog_resize(c->p, arr, bytes, want))
        c->oom = true;
}
#define TRIM(c, f, n) trim((c), (void **)&(c)->p->f, &(c)->p->size.f, (n), sizeof *(c)->p->f)

/* The arrays complete once every rule and fact is compiled. Before
 * prog_freeze, which points sets into items. */
static void trim_compiled(comp *c)
{
    vm_program *p = c->p;
    TRIM(c, consts, p->nconsts);
    TRIM(c, items, p->nitems);
    TRIM(c, conj_pcs, p->nconj_pcs);
    TRIM(c, regexes, p->nregexes);
    TRIM(c, regex_src, p->nregexes);
    for (int r = 0; r < ROOT_SLOTTED; r++) {
        TRIM(c, slot_path[r], p->nslots[r]);
        TRIM(c, slot_type[r], p->nslots[r]);
    }
}

/* Those the index adds to: specialized code, its lines, the entries. */
static void trim_indexed(comp *c)
{
    vm_program *p = c->p;
    TRIM(c, code, p->code_len);
    TRIM(c, lines, p->nlines);
    TRIM(c, entries, p->nentries);
}

/* ==========================================================================
 * Entry point
 * ========================================================================== */

static void free_const_map(comp *c)
{
    if (c->const_map)
        c->p->alloc(c->p->ud, c->const_map, (size_t)c->const_map_cap * sizeof *c->const_map, 0);
    c->const_map = NULL;
    c->const_map_cap = 0;
}

mg_status comp_program(const comp_input *in, sl_alloc_fn alloc, void *ud,
                       diag_list *diags, vm_program **out)
{
    *out = NULL;
    vm_program *p = alloc(ud, NULL, 0, sizeof *p);
    if (!p)
        return MG_ENOMEM;
    memset(p, 0, sizeof *p);
    p->alloc = alloc;
    p->ud = ud;
    p->step_budget = in->step_budget ? in->step_budget : VM_DEFAULT_BUDGET;
    atomic_init(&p->refs, 1);
    comp c = { .p = p, .diags = diags, .mesh = in->mesh };
    comp_policy *ps = NULL;
    p->syms = sl_intern_new(alloc, ud);
    if (!p->syms || (in->n && !(ps = alloc(ud, NULL, 0, in->n * sizeof *ps))))
        goto oom;
    if (in->n)   /* a product without policies: ps and in->policies may be NULL */
        memcpy(ps, in->policies, in->n * sizeof *ps);
    add_actions(&c);
    add_const(&c, sl_bool(false));   /* keeps constant 0 valid for empty sets */
    comp_policies(&c, ps, in->n);
    comp_fact_bodies(&c);
    if (ps)
        alloc(ud, ps, in->n * sizeof *ps, 0);
    if (c.facts)
        alloc(ud, c.facts, c.facts_bytes, 0);
    free_const_map(&c);
    if (c.oom)
        goto oom;
    if (diags->errors) {
        prog_free(p);
        return MG_ETYPE;
    }
    resource_values(&c, in->product);
    trim_compiled(&c);
    if (c.oom)
        goto oom;
    prog_freeze(p);
    if (!prog_null_facts(p))
        goto oom;
    build_index(&c);
    trim_indexed(&c);
    if (c.oom || !prog_build_forms(p) || !prog_digest(p))
        goto oom;
    if (diags->errors) {
        prog_free(p);
        return MG_ETYPE;
    }
    *out = p;
    return MG_OK;
oom:
    free_const_map(&c);
    prog_free(p);
    return MG_ENOMEM;
}
