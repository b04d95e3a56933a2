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
 * A value is u8 kind then: bool u8 | int, duration, timestamp i64 |
 * string sym | set u32 first-item-index u32 count | missing, record nothing.
 */
#include <sodium.h>
#include <string.h>
#include "engine/program.h"

#define BUNDLE_MAGIC "MGBUNDLE"
#define BUNDLE_VERSION 1u

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
