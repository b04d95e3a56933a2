/*
 * bundle.c — the canonical serialized form of a compiled program. Its
 * SHA-256 is the policy set's digest, and written to a file it is a bundle:
 * a compiled policy set that a product can load without the front end.
 *
 * Layout (all integers little-endian; every count is u32):
 *   "MGBUNDLE" u32 format-version
 *   strings   count, then per string: u32 length, bytes      (sym i+1)
 *   code      count, bytes
 *   items     count, values          consts  count, values
 *   regexes   count, sym
 *   policies  count, {sym name, i64 version, u8 global, u8 dry_run, sym file,
 *                     u32 first_rule, u32 nrules}
 *   rules     count, {u8 kind target mask disposal encryption dry_run global,
 *                     u64 actions, u32 policy ordinal id line col when_pc
 *                     unless_pc conj_first nconj conj_static, u8 unless_static,
 *                     i64 period, sym time_col}
 *   conj_pcs  count, u32
 *   slots     per root (5): count, {sym path, u8 kind, u8 elem}
 *   actions   count, sym
 *   product   sym uri, values[nslots product]
 *   ports     count, {sym name, u32 first_col, u32 ncols}, values
 *   columns   count, sym names, values
 *   entries   count, {u32 rule when_pc unless_pc}
 *   index     ranges for ports x actions, then columns x actions {u32 first, n}
 *   lines     count, {u32 pc line col}
 *   u32 max_stack, u32 max_cols
 *   facts     subject count, u32 pcs; context count, u32 pcs
 * A value is u8 kind then: bool u8 | int, duration, timestamp i64 |
 * string sym | set u32 first-item-index u32 count | missing, record nothing.
 */
#include <sodium.h>
#include <string.h>
#include "engine/engine.h"

#define BUNDLE_MAGIC "MGBUNDLE"
#define BUNDLE_VERSION 1u
/* Bytes put_rule writes: 7 single bytes, actions, 10 words, one byte, the
 * period and the time column. */
#define RULE_WIRE_BYTES (7 + 8 + 10 * 4 + 1 + 8 + 4)

/* ==========================================================================
 * Writing
 * ========================================================================== */

static void put_u8(strbuf *b, uint8_t v) { sb_append(b, &v, 1); }

static void put_u32(strbuf *b, uint32_t v)
{
    uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    sb_append(b, x, 4);
}

static void put_u64(strbuf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_value(strbuf *b, const vm_program *p, const sl_value *v)
{
    put_u8(b, v->kind);
    switch (v->kind) {
    case SL_BOOL: put_u8(b, v->u.b); break;
    case SL_INT: case SL_DURATION: case SL_TIMESTAMP: put_u64(b, (uint64_t)v->u.i); break;
    case SL_STRING: put_u32(b, v->u.s.sym); break;
    case SL_SET:
        put_u32(b, v->u.set.n ? (uint32_t)(v->u.set.items - p->items) : 0);
        put_u32(b, v->u.set.n);
        break;
    default: break;
    }
}

static void put_values(strbuf *b, const vm_program *p, const sl_value *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put_value(b, p, &v[i]);
}

static void put_rule(strbuf *b, const vm_rule *r)
{
    uint8_t head[] = { r->kind, r->target, r->mask, r->disposal, r->encryption, r->dry_run, r->global };
    sb_append(b, head, sizeof head);
    put_u64(b, r->actions);
    uint32_t w[] = { r->policy, r->ordinal, r->id, r->line, r->col, r->when_pc, r->unless_pc,
                     r->conj_first, r->nconj, r->conj_static };
    for (size_t i = 0; i < sizeof w / sizeof *w; i++)
        put_u32(b, w[i]);
    put_u8(b, r->unless_static);
    put_u64(b, (uint64_t)r->period_us);
    put_u32(b, r->time_col);
}

static void put_header(strbuf *b, const vm_program *p)
{
    sb_append(b, BUNDLE_MAGIC, 8);
    put_u32(b, BUNDLE_VERSION);
    uint32_t n = sl_intern_count(p->syms);
    put_u32(b, n);
    for (uint32_t i = 1; i <= n; i++) {
        uint32_t len;
        const char *s = sl_intern_str(p->syms, i, &len);
        put_u32(b, len);
        sb_append(b, s, len);
    }
    put_u32(b, p->code_len);
    sb_append(b, p->code, p->code_len);
    put_u32(b, p->nitems);
    put_values(b, p, p->items, p->nitems);
    put_u32(b, p->nconsts);
    put_values(b, p, p->consts, p->nconsts);
    put_u32(b, p->nregexes);
    for (uint32_t i = 0; i < p->nregexes; i++)
        put_u32(b, p->regex_src[i]);
}

static void put_rules(strbuf *b, const vm_program *p)
{
    put_u32(b, p->npolicies);
    for (uint32_t i = 0; i < p->npolicies; i++) {
        const vm_policy *vp = &p->policies[i];
        put_u32(b, vp->name);
        put_u64(b, (uint64_t)vp->version);
        put_u8(b, vp->global);
        put_u8(b, vp->dry_run);
        put_u32(b, vp->file);
        put_u32(b, vp->first_rule);
        put_u32(b, vp->nrules);
    }
    put_u32(b, p->nrules);
    for (uint32_t i = 0; i < p->nrules; i++)
        put_rule(b, &p->rules[i]);
    put_u32(b, p->nconj_pcs);
    for (uint32_t i = 0; i < p->nconj_pcs; i++)
        put_u32(b, p->conj_pcs[i]);
    for (int r = 0; r < ROOT_SLOTTED; r++) {
        put_u32(b, p->nslots[r]);
        for (uint32_t i = 0; i < p->nslots[r]; i++) {
            put_u32(b, p->slot_path[r][i]);
            put_u8(b, p->slot_type[r][i].kind);
            put_u8(b, p->slot_type[r][i].elem);
        }
    }
    put_u32(b, p->nactions);
    for (uint32_t i = 0; i < p->nactions; i++)
        put_u32(b, p->actions[i]);
}

static void put_resources(strbuf *b, const vm_program *p)
{
    put_u32(b, p->product_uri);
    put_values(b, p, p->product_vals, p->nslots[ROOT_PRODUCT]);
    put_u32(b, p->nports);
    for (uint32_t i = 0; i < p->nports; i++) {
        put_u32(b, p->ports[i].name);
        put_u32(b, p->ports[i].first_col);
        put_u32(b, p->ports[i].ncols);
    }
    put_values(b, p, p->port_vals, (size_t)p->nports * p->nslots[ROOT_PORT]);
    put_u32(b, p->ncols);
    for (uint32_t i = 0; i < p->ncols; i++)
        put_u32(b, p->col_names[i]);
    put_values(b, p, p->col_vals, (size_t)p->ncols * p->nslots[ROOT_COLUMN]);
    put_u32(b, p->nentries);
    for (uint32_t i = 0; i < p->nentries; i++) {
        put_u32(b, p->entries[i].rule);
        put_u32(b, p->entries[i].when_pc);
        put_u32(b, p->entries[i].unless_pc);
    }
    size_t nr = (size_t)p->nports * p->nactions + (size_t)p->ncols * p->nactions;
    for (size_t i = 0; i < nr; i++) {
        const vm_range *r = i < (size_t)p->nports * p->nactions ? &p->port_index[i]
                                                                 : &p->col_index[i - (size_t)p->nports * p->nactions];
        put_u32(b, r->first);
        put_u32(b, r->n);
    }
    put_u32(b, p->nlines);
    for (uint32_t i = 0; i < p->nlines; i++) {
        put_u32(b, p->lines[i].pc);
        put_u32(b, p->lines[i].line);
        put_u32(b, p->lines[i].col);
    }
    put_u32(b, p->max_stack);
    put_u32(b, p->max_cols);
    for (int k = 0; k < 2; k++) {
        put_u32(b, p->nfacts[k]);
        for (uint32_t i = 0; i < p->nfacts[k]; i++)
            put_u32(b, p->fact_pc[k][i]);
    }
}

bool prog_serialize(const vm_program *p, strbuf *b)
{
    put_header(b, p);
    put_rules(b, p);
    put_resources(b, p);
    return !b->failed;
}

bool prog_digest(vm_program *p)
{
    strbuf b;
    sb_init(&b, p->alloc, p->ud);
    if (!prog_serialize(p, &b)) {
        sb_free(&b);
        return false;
    }
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const uint8_t *)b.s, b.len);
    sodium_bin2hex(p->digest, sizeof p->digest, h, sizeof h);
    sb_free(&b);
    return true;
}

/* ==========================================================================
 * Reading: every count, index and jump is checked before use, since a
 * bundle is input like any other.
 * ========================================================================== */

typedef struct reader {
    const uint8_t *p, *end;
    bool bad;
    const char *why;
} reader;

static void fail(reader *r, const char *why)
{
    if (!r->bad) {
        r->bad = true;
        r->why = why;
    }
}

static uint8_t get_u8(reader *r)
{
    if (r->bad || r->p + 1 > r->end) {
        fail(r, "truncated");
        return 0;
    }
    return *r->p++;
}

static uint32_t get_u32(reader *r)
{
    if (r->bad || r->end - r->p < 4) {
        fail(r, "truncated");
        return 0;
    }
    uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4;
    return v;
}

static uint64_t get_u64(reader *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

/* A count of elements of elem_min bytes each must fit in what is left. */
static uint32_t get_count(reader *r, size_t elem_min)
{
    uint32_t n = get_u32(r);
    if (!r->bad && elem_min && (size_t)(r->end - r->p) / elem_min < n)
        fail(r, "count larger than the file");
    return r->bad ? 0 : n;
}

/* Allocates array *at of the program (its size recorded in *size) for n
 * elements, zeroed. */
static void *get_array(reader *r, vm_program *p, void **at, size_t *size, size_t n, size_t elem)
{
    if (r->bad)
        return NULL;
    void *a = prog_array(p, at, size, (n ? n : 1) * elem);
    if (!a)
        fail(r, "out of memory");
    else
        memset(a, 0, (n ? n : 1) * elem);
    return a;
}
#define GET_ARRAY(r, p, f, n) get_array((r), (p), (void **)&(p)->f, &(p)->size.f, (n), sizeof *(p)->f)

static uint32_t get_sym(reader *r, const vm_program *p, bool zero_ok)
{
    uint32_t s = get_u32(r);
    if (!r->bad && ((s == 0 && !zero_ok) || s > sl_intern_count(p->syms)))
        fail(r, "string id out of range");
    return s;
}

static void get_value(reader *r, const vm_program *p, sl_value *v, bool scalar_only)
{
    v->kind = get_u8(r);
    switch (v->kind) {
    case SL_MISSING: case SL_RECORD: break;
    case SL_BOOL: v->u.b = get_u8(r) != 0; break;
    case SL_INT: case SL_DURATION: case SL_TIMESTAMP: v->u.i = (int64_t)get_u64(r); break;
    case SL_STRING:
        v->u.s.sym = get_sym(r, p, false);
        if (!r->bad)
            sl_intern_str(p->syms, v->u.s.sym, &v->u.s.len);
        break;
    case SL_SET: {
        uint32_t first = get_u32(r), n = get_u32(r);
        if (scalar_only || (uint64_t)first + n > p->nitems)
            fail(r, "set out of range");
        v->u.set.items = (const sl_value *)(uintptr_t)first;
        v->u.set.n = n;
        break;
    }
    default: fail(r, "unknown value kind");
    }
}

static sl_value *get_values(reader *r, vm_program *p, sl_value **at, size_t *size, size_t n, bool scalar_only)
{
    if (!r->bad && (size_t)(r->end - r->p) < n)
        fail(r, "count larger than the file");
    sl_value *v = get_array(r, p, (void **)at, size, n, sizeof *v);
    for (size_t i = 0; v && i < n && !r->bad; i++)
        get_value(r, p, &v[i], scalar_only);
    return v;
}

static void read_header(reader *r, vm_program *p)
{
    if (r->end - r->p < 12 || memcmp(r->p, BUNDLE_MAGIC, 8) != 0) {
        fail(r, "not a meshgov bundle");
        return;
    }
    r->p += 8;
    if (get_u32(r) != BUNDLE_VERSION)
        fail(r, "unsupported bundle version");
    uint32_t n = get_count(r, 4);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint32_t len = get_count(r, 1);
        if (r->bad)
            break;
        if (!sl_utf8_valid((const char *)r->p, len)) {
            fail(r, "a string is not UTF-8");   /* the compiler writes only text */
            break;
        }
        uint32_t id = sl_intern_add(p->syms, (const char *)r->p, len);
        if (id != i + 1)     /* 0: the table could not grow */
            fail(r, id ? "duplicate string" : "out of memory");
        r->p += len;
    }
    p->code_len = get_count(r, 1);
    GET_ARRAY(r, p, code, p->code_len);
    if (p->code && !r->bad) {
        memcpy(p->code, r->p, p->code_len);
        r->p += p->code_len;
    }
    p->nitems = get_count(r, 1);
    get_values(r, p, &p->items, &p->size.items, p->nitems, true);
    p->nconsts = get_count(r, 1);
    get_values(r, p, &p->consts, &p->size.consts, p->nconsts, false);
    p->nregexes = get_count(r, 4);
    GET_ARRAY(r, p, regex_src, p->nregexes);
    GET_ARRAY(r, p, regexes, p->nregexes);
    for (uint32_t i = 0; i < p->nregexes && !r->bad; i++)
        p->regex_src[i] = get_sym(r, p, false);
}

static void read_rule(reader *r, const vm_program *p, vm_rule *x)
{
    x->kind = get_u8(r);
    x->target = get_u8(r);
    x->mask = get_u8(r);
    x->disposal = get_u8(r);
    x->encryption = get_u8(r);
    x->dry_run = get_u8(r) != 0;
    x->global = get_u8(r) != 0;
    x->actions = get_u64(r);
    x->policy = get_u32(r);
    x->ordinal = get_u32(r);
    x->id = get_sym(r, p, false);
    x->line = get_u32(r);
    x->col = get_u32(r);
    x->when_pc = get_u32(r);
    x->unless_pc = get_u32(r);
    x->conj_first = get_u32(r);
    x->nconj = get_u32(r);
    x->conj_static = get_u32(r);
    x->unless_static = get_u8(r) != 0;
    x->period_us = (int64_t)get_u64(r);
    x->time_col = get_sym(r, p, true);
    if (x->kind > RK_FORGET || x->target > TG_SUBJECT || x->mask > 5 || x->policy >= p->npolicies ||
        x->conj_static > x->nconj)
        fail(r, "rule field out of range");
}

static void read_rules(reader *r, vm_program *p)
{
    p->npolicies = get_count(r, 26);
    GET_ARRAY(r, p, policies, p->npolicies);
    for (uint32_t i = 0; i < p->npolicies && !r->bad; i++) {
        vm_policy *vp = &p->policies[i];
        vp->name = get_sym(r, p, false);
        vp->version = (int64_t)get_u64(r);
        vp->global = get_u8(r) != 0;
        vp->dry_run = get_u8(r) != 0;
        vp->file = get_sym(r, p, false);
        vp->first_rule = get_u32(r);
        vp->nrules = get_u32(r);
    }
    p->nrules = get_count(r, RULE_WIRE_BYTES);
    GET_ARRAY(r, p, rules, p->nrules);
    for (uint32_t i = 0; i < p->nrules && !r->bad; i++)
        read_rule(r, p, &p->rules[i]);
    p->nconj_pcs = get_count(r, 4);
    GET_ARRAY(r, p, conj_pcs, p->nconj_pcs);
    for (uint32_t i = 0; i < p->nconj_pcs && !r->bad; i++)
        p->conj_pcs[i] = get_u32(r);
    for (int k = 0; k < ROOT_SLOTTED && !r->bad; k++) {
        p->nslots[k] = get_count(r, 6);
        GET_ARRAY(r, p, slot_path[k], p->nslots[k]);
        GET_ARRAY(r, p, slot_type[k], p->nslots[k]);
        for (uint32_t i = 0; i < p->nslots[k] && !r->bad; i++) {
            p->slot_path[k][i] = get_sym(r, p, false);
            p->slot_type[k][i].kind = get_u8(r);
            p->slot_type[k][i].elem = get_u8(r);
            if (p->slot_type[k][i].kind >= SL_KIND_COUNT || p->slot_type[k][i].elem >= SL_KIND_COUNT)
                fail(r, "slot type out of range");
        }
    }
    p->nactions = get_count(r, 4);
    if (p->nactions > VM_MAX_ACTIONS || p->nactions < VM_BUILTIN_ACTIONS)
        fail(r, "bad action count");
    for (uint32_t i = 0; i < p->nactions && !r->bad; i++)
        p->actions[i] = get_sym(r, p, false);
}

/* Each entry belongs to one resource's range, as the compiler writes them:
 * an entry's form is decided for that resource (form.c), so an entry two
 * ranges shared would be decided with the other resource's manifest. */
static const char *overlap(const vm_program *p, size_t nranges)
{
    uint8_t *seen = prog_alloc(p, (size_t)p->nentries + 1);
    if (!seen)
        return "out of memory";
    memset(seen, 0, (size_t)p->nentries + 1);
    bool ok = true;
    size_t np = (size_t)p->nports * p->nactions;
    for (size_t i = 0; i < nranges && ok; i++) {
        const vm_range *x = i < np ? &p->port_index[i] : &p->col_index[i - np];
        for (uint32_t k = x->first; k < x->first + x->n && ok; k++)
            ok = !seen[k]++;
    }
    prog_dealloc(p, seen, (size_t)p->nentries + 1);
    return ok ? NULL : "index ranges overlap";
}

static void read_index(reader *r, vm_program *p)
{
    p->nentries = get_count(r, 12);
    GET_ARRAY(r, p, entries, p->nentries);
    for (uint32_t i = 0; i < p->nentries && !r->bad; i++) {
        p->entries[i].rule = get_u32(r);
        p->entries[i].when_pc = get_u32(r);
        p->entries[i].unless_pc = get_u32(r);
        if (p->entries[i].rule >= p->nrules) {
            fail(r, "entry names no rule");
            break;
        }
        const vm_rule *x = &p->rules[p->entries[i].rule];
        p->entries[i].kind = x->kind;
        p->entries[i].mask = x->mask;
        p->entries[i].dry_run = x->dry_run;
    }
    size_t np = (size_t)p->nports * p->nactions, nc = (size_t)p->ncols * p->nactions;
    GET_ARRAY(r, p, port_index, np + 1);
    GET_ARRAY(r, p, col_index, nc + 1);
    for (size_t i = 0; i < np + nc && !r->bad; i++) {
        vm_range *x = i < np ? &p->port_index[i] : &p->col_index[i - np];
        x->first = get_u32(r);
        x->n = get_u32(r);
        if ((uint64_t)x->first + x->n > p->nentries)
            fail(r, "index range out of bounds");
    }
    const char *why = r->bad ? NULL : overlap(p, np + nc);
    if (why)
        fail(r, why);
}

static void read_resources(reader *r, vm_program *p)
{
    p->product_uri = get_sym(r, p, true);
    get_values(r, p, &p->product_vals, &p->size.product_vals, p->nslots[ROOT_PRODUCT], false);
    p->nports = get_count(r, 12);
    GET_ARRAY(r, p, ports, p->nports);
    for (uint32_t i = 0; i < p->nports && !r->bad; i++) {
        p->ports[i].name = get_sym(r, p, false);
        p->ports[i].first_col = get_u32(r);
        p->ports[i].ncols = get_u32(r);
    }
    get_values(r, p, &p->port_vals, &p->size.port_vals, (size_t)p->nports * p->nslots[ROOT_PORT], false);
    p->ncols = get_count(r, 4);
    GET_ARRAY(r, p, col_names, p->ncols);
    for (uint32_t i = 0; i < p->ncols && !r->bad; i++)
        p->col_names[i] = get_sym(r, p, false);
    get_values(r, p, &p->col_vals, &p->size.col_vals, (size_t)p->ncols * p->nslots[ROOT_COLUMN], false);
    read_index(r, p);
    p->nlines = get_count(r, 12);
    GET_ARRAY(r, p, lines, p->nlines);
    for (uint32_t i = 0; i < p->nlines && !r->bad; i++) {
        p->lines[i].pc = get_u32(r);
        p->lines[i].line = get_u32(r);
        p->lines[i].col = get_u32(r);
    }
    p->max_stack = get_u32(r);
    p->max_cols = get_u32(r);
    if (p->max_stack > 4096)
        fail(r, "stack too deep");
    uint32_t widest = 0;
    for (uint32_t i = 0; i < p->nports && !r->bad; i++) {
        const vm_port *vp = &p->ports[i];
        if ((uint64_t)vp->first_col + vp->ncols > p->ncols)
            fail(r, "port columns out of range");
        widest = vp->ncols > widest ? vp->ncols : widest;
    }
    if (!r->bad && widest != p->max_cols)
        fail(r, "widest port does not match");
    for (int k = 0; k < 2 && !r->bad; k++) {
        p->nfacts[k] = get_count(r, 4);
        GET_ARRAY(r, p, fact_pc[k], p->nfacts[k]);
        for (uint32_t i = 0; i < p->nfacts[k] && !r->bad; i++)
            p->fact_pc[k][i] = get_u32(r);
    }
}

/* ==========================================================================
 * Verifying code: valid opcodes and operands, jumps forward onto
 * instruction boundaries, a stack that never underflows or exceeds
 * max_stack, and entry points on instruction starts.
 * ========================================================================== */

#define UNSEEN INT32_MIN

static int pops(const vm_program *p, const uint8_t *c, uint8_t op)
{
    switch (op) {
    case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE:
    case OP_IN: case OP_HAS: case OP_LIKE: case OP_ADD: case OP_SUB: return 2;
    case OP_MATCHES: case OP_NEG: case OP_NOT: case OP_PRESENT:
    case OP_JUMP_IF_FALSE: case OP_JUMP_IF_TRUE: case OP_RET: return 1;
    case OP_CALL: (void)p; return c[3];
    default: return 0;
    }
}

static bool operand_ok(const vm_program *p, const uint8_t *c, uint32_t pc, uint8_t op)
{
    uint32_t k = vm_op_bytes[op] >= 2 ? (uint32_t)c[1] | (uint32_t)c[2] << 8 : 0;
    switch (op) {
    case OP_CONST: return k < p->nconsts;
    case OP_SUBJECT: return k < p->nslots[ROOT_SUBJECT];
    case OP_CONTEXT: return k < p->nslots[ROOT_CONTEXT];
    case OP_PRODUCT: return k < p->nslots[ROOT_PRODUCT];
    case OP_PORT: return k < p->nslots[ROOT_PORT];
    case OP_COLUMN: return k < p->nslots[ROOT_COLUMN];
    case OP_MATCHES: return k < p->nregexes;
    case OP_SFACT: return k < p->nfacts[0];
    case OP_CFACT: return k < p->nfacts[1];
    case OP_CALL: {
        uint32_t nb = 0;
        while (sl_builtins[nb].name)
            nb++;
        return k < nb && c[3] >= sl_builtins[k].min_args && c[3] <= sl_builtins[k].max_args;
    }
    case OP_JUMP_IF_FALSE: case OP_JUMP_IF_TRUE: return pc + 3 + k < p->code_len;
    default: return true;
    }
}

static bool set_depth(int32_t *depth, uint32_t pc, int32_t d)
{
    if (depth[pc] == UNSEEN)
        depth[pc] = d;
    return depth[pc] == d;
}

static bool entry_ok(int32_t *depth, uint32_t code_len, uint32_t pc)
{
    if (pc == VM_NO_CODE || pc == VM_ALWAYS)
        return true;
    return pc < code_len && set_depth(depth, pc, 0);
}

static bool mark_entries(const vm_program *p, int32_t *depth)
{
    for (uint32_t i = 0; i < p->nrules; i++) {
        const vm_rule *x = &p->rules[i];
        if (!entry_ok(depth, p->code_len, x->when_pc) || !entry_ok(depth, p->code_len, x->unless_pc) ||
            x->unless_pc == VM_ALWAYS || x->when_pc == VM_ALWAYS ||
            (uint64_t)x->conj_first + 2ull * x->nconj > p->nconj_pcs)
            return false;
    }
    for (uint32_t i = 0; i < p->nconj_pcs; i++)
        if (!entry_ok(depth, p->code_len, p->conj_pcs[i]))
            return false;
    for (int k = 0; k < 2; k++)
        for (uint32_t i = 0; i < p->nfacts[k]; i++)
            if (p->fact_pc[k][i] >= p->code_len || !entry_ok(depth, p->code_len, p->fact_pc[k][i]))
                return false;
    for (uint32_t i = 0; i < p->nentries; i++)
        if (!entry_ok(depth, p->code_len, p->entries[i].when_pc) || p->entries[i].when_pc == VM_NO_CODE ||
            !entry_ok(depth, p->code_len, p->entries[i].unless_pc) || p->entries[i].unless_pc == VM_ALWAYS)
            return false;
    return true;
}

/* One forward pass: jumps only go forward, so every predecessor of an
 * instruction is visited before it. */
static const char *verify_code(const vm_program *p)
{
    int32_t *depth = prog_alloc(p, ((size_t)p->code_len + 1) * sizeof *depth);
    if (!depth)
        return "out of memory";
    for (uint32_t i = 0; i <= p->code_len; i++)
        depth[i] = UNSEEN;
    const char *why = mark_entries(p, depth) ? NULL : "entry point out of range";
    bool *start = prog_alloc(p, (size_t)p->code_len + 1);
    if (!start)
        why = "out of memory";
    else
        memset(start, 0, (size_t)p->code_len + 1);
    for (uint32_t pc = 0; !why && pc < p->code_len;) {
        const uint8_t *c = p->code + pc;
        uint8_t op = c[0];
        start[pc] = true;
        if (op >= OP__COUNT || pc + 1u + vm_op_bytes[op] > p->code_len || !operand_ok(p, c, pc, op)) {
            why = "invalid instruction";
            break;
        }
        uint32_t next = pc + 1u + vm_op_bytes[op];
        int32_t d = depth[pc];
        if (d != UNSEEN) {
            int n = pops(p, c, op);
            int push = op == OP_JUMP_IF_FALSE || op == OP_JUMP_IF_TRUE || op == OP_RET ? 0 : 1;
            if (d < n || d - n + push > (int32_t)p->max_stack)
                why = "stack out of bounds";
            else if (op == OP_JUMP_IF_FALSE || op == OP_JUMP_IF_TRUE) {
                uint32_t target = next + ((uint32_t)c[1] | (uint32_t)c[2] << 8);
                if (!set_depth(depth, target, d) || !set_depth(depth, next, d - 1))
                    why = "inconsistent stack at a jump";
            } else if (op != OP_RET && !set_depth(depth, next, d - n + push))
                why = "inconsistent stack";
        }
        pc = next;
    }
    for (uint32_t pc = 0; !why && pc < p->code_len; pc++)
        if (depth[pc] != UNSEEN && !start[pc])
            why = "jump into the middle of an instruction";
    if (!why && depth[p->code_len] != UNSEEN)
        why = "code runs off its end";
    prog_dealloc(p, depth, ((size_t)p->code_len + 1) * sizeof *depth);
    prog_dealloc(p, start, (size_t)p->code_len + 1);
    return why;
}

static const char *compile_regexes(vm_program *p)
{
    for (uint32_t i = 0; i < p->nregexes; i++) {
        uint32_t len;
        const char *src = sl_intern_str(p->syms, p->regex_src[i], &len);
        char why[128];
        size_t off;
        p->regexes[i] = sl_regex_compile(src, len, p->alloc, p->ud, why, sizeof why, &off);
        if (!p->regexes[i])
            return strcmp(why, "out of memory") == 0 ? "out of memory" : "invalid regular expression";
    }
    return NULL;
}

mg_status prog_deserialize(const void *data, size_t len, sl_alloc_fn alloc, void *ud, uint32_t budget,
                           size_t *used, vm_program **out, mg_error *err)
{
    *out = NULL;
    vm_program *p = alloc(ud, NULL, 0, sizeof *p);
    if (!p)
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    memset(p, 0, sizeof *p);
    p->step_budget = budget ? budget : VM_DEFAULT_BUDGET;
    p->alloc = alloc;
    p->ud = ud;
    atomic_init(&p->refs, 1);
    reader r = { data, (const uint8_t *)data + len, false, NULL };
    if (!(p->syms = sl_intern_new(alloc, ud)))
        fail(&r, "out of memory");
    read_header(&r, p);
    read_rules(&r, p);
    read_resources(&r, p);
    const char *why = r.bad ? r.why : verify_code(p);
    if (!why)
        why = compile_regexes(p);
    if (why) {
        prog_free(p);
        return mg_error_set(err, strcmp(why, "out of memory") ? MG_EFORMAT : MG_ENOMEM, NULL, 0,
                            (int)(r.p - (const uint8_t *)data), "bundle: %s", why);
    }
    prog_freeze(p);
    if (!prog_null_facts(p) || !prog_build_forms(p)) {
        prog_free(p);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    *used = (size_t)(r.p - (const uint8_t *)data);
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, *used);
    sodium_bin2hex(p->digest, sizeof p->digest, h, sizeof h);
    *out = p;
    return MG_OK;
}

/* ==========================================================================
 * Bundles: the serialized program, then optionally a signature block
 * "MGSIG001" || Ed25519 public key (32) || signature (64) over the program
 * bytes. The file is content-addressed by the digest of the program bytes.
 * ========================================================================== */

#define SIG_MAGIC "MGSIG001"
#define SIG_BLOCK (8 + crypto_sign_PUBLICKEYBYTES + crypto_sign_BYTES)

mg_status mg_bundle_write(const mg_policy_set *set, const uint8_t *secret_key, char **out, size_t *len,
                          mg_error *err)
{
    if (!set || !out || !len)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    *out = NULL;
    *len = 0;
    strbuf b;
    sb_init(&b, sl_default_alloc, NULL);
    prog_serialize(set->prog, &b);
    if (secret_key && !b.failed) {
        size_t payload = b.len;
        uint8_t sig[crypto_sign_BYTES];
        crypto_sign_detached(sig, NULL, (const uint8_t *)b.s, payload, secret_key);
        sb_append(&b, SIG_MAGIC, 8);
        sb_append(&b, secret_key + crypto_sign_SEEDBYTES, crypto_sign_PUBLICKEYBYTES);
        sb_append(&b, sig, sizeof sig);
    }
    if (b.failed) {
        sb_free(&b);
        return mg_error_set(err, MG_ENOMEM, NULL, 0, 0, "out of memory");
    }
    *out = b.s;      /* malloc'd: sl_default_alloc */
    *len = b.len;
    return MG_OK;
}

static mg_status check_signature(const uint8_t *data, size_t used, size_t len, const uint8_t *trust_pk,
                                 mg_error *err)
{
    const uint8_t *tail = data + used;
    size_t rest = len - used;
    if (rest == 0)
        return trust_pk ? mg_error_set(err, MG_ECRYPTO, NULL, 0, 0,
                                       "bundle is not signed, and a trust key is configured")
                        : MG_OK;
    if (rest != SIG_BLOCK || memcmp(tail, SIG_MAGIC, 8) != 0)
        return mg_error_set(err, MG_EFORMAT, NULL, 0, (int)used, "bundle: trailing bytes after the program");
    if (!trust_pk)
        return MG_OK;
    if (sodium_memcmp(tail + 8, trust_pk, crypto_sign_PUBLICKEYBYTES) != 0)
        return mg_error_set(err, MG_ECRYPTO, NULL, 0, 0, "bundle is signed by a key that is not trusted");
    if (crypto_sign_verify_detached(tail + 8 + crypto_sign_PUBLICKEYBYTES, data, used, trust_pk) != 0)
        return mg_error_set(err, MG_ECRYPTO, NULL, 0, 0, "bundle signature does not verify");
    return MG_OK;
}

mg_status mg_bundle_load(mg_engine *e, const void *data, size_t len, const uint8_t *trust_pk,
                         mg_policy_set **out, mg_error *err)
{
    if (!out)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "out is NULL");
    *out = NULL;
    if (!e || !data)
        return mg_error_set(err, MG_EINVAL, NULL, 0, 0, "NULL argument");
    void *ud;
    sl_alloc_fn alloc = mg__engine_alloc(e, &ud);
    vm_program *p;
    size_t used;
    mg_status s = prog_deserialize(data, len, alloc, ud, mg__engine_budget(e), &used, &p, err);
    if (s)
        return s;
    if ((s = check_signature(data, used, len, trust_pk, err)) != MG_OK) {
        prog_free(p);
        return s;
    }
    s = mg__policy_set_new(p, alloc, ud, mg__engine_mask_key(e), out);
    if (s)
        return mg_error_set(err, s, NULL, 0, 0, "out of memory");
    if ((s = mg__engine_adopt_set(e, *out, "[\"bundle\"]", err)) != MG_OK) {
        mg_policy_set_release(*out);
        *out = NULL;
    }
    return s;
}
