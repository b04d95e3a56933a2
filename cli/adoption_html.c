/*
 * adoption_html.c — the adoption report as one self-contained HTML page an
 * auditor can open offline: a summary, a bar chart of adoption per global
 * policy (inline SVG), the policy x product matrix coloured by status with
 * each cell's policy test status, and each product's detail with its
 * findings, policy tests and decision counts.
 *
 * The page has inline CSS, inline SVG, no script and no external
 * reference (no URL at all: product URIs are text, never links). Every
 * value that comes from a manifest or a policy goes through esc().
 */
#include <string.h>
#include "cli/adoption.h"

/* Colours per mg_adoption_status: fill, text, and a label for people. */
static const struct {
    const char *bg, *fg, *bar, *on_bar, *label;
} status_style[ADOPTION_NSTATUS] = {
    { "#e6f4ea", "#1e6b34", "#34a853", "#fff", "adopted" },
    { "#fff1e0", "#9a4b00", "#f29900", "#fff", "outdated" },
    { "#e3efff", "#1a4f9c", "#4b8bf5", "#fff", "dry run" },
    { "#fff8d6", "#7a5d00", "#f5c518", "#3c4043", "missing, in grace" },
    { "#fde7e7", "#a31515", "#d93025", "#fff", "missing" },
    { "#f1f3f4", "#5f6368", "#bdc1c6", "#3c4043", "draft" },
};

static const char css[] =
    "*{box-sizing:border-box}"
    "body{margin:0;font:14px/1.45 -apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;"
    "color:#202124;background:#f6f7f9}"
    "main{max-width:1320px;margin:0 auto;padding:28px 32px 48px}"
    "header{display:flex;justify-content:space-between;align-items:flex-end;border-bottom:2px solid #202124;"
    "padding-bottom:12px;margin-bottom:20px}"
    "h1{font-size:24px;margin:0}h2{font-size:18px;margin:32px 0 12px}h3{font-size:16px;margin:0}"
    ".sub{color:#5f6368;font-size:13px}"
    ".cards{display:grid;grid-template-columns:repeat(6,1fr);gap:12px}"
    ".card{background:#fff;border:1px solid #dadce0;border-radius:8px;padding:12px 16px}"
    ".card b{display:block;font-size:24px}.card span{color:#5f6368;font-size:12px;text-transform:uppercase;"
    "letter-spacing:.04em}"
    ".panel{background:#fff;border:1px solid #dadce0;border-radius:8px;padding:16px 20px}"
    ".legend{display:flex;flex-wrap:wrap;gap:14px;margin:0 0 12px;font-size:12px}"
    ".legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:5px;"
    "vertical-align:-1px;border:1px solid rgba(0,0,0,.15)}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{padding:6px 8px;text-align:left;border-bottom:1px solid #e8eaed;vertical-align:middle}"
    "th{font-size:12px;color:#5f6368;font-weight:600}"
    ".matrix{table-layout:fixed}.matrix col.u{width:230px}.matrix col.k{width:76px}.matrix col.t{width:110px}"
    ".matrix td{vertical-align:middle}"
    ".matrix th.p{font-size:11px;text-align:center;vertical-align:bottom;overflow-wrap:anywhere}"
    ".matrix td.c{text-align:center;font-size:12px;font-weight:600;border:2px solid #fff;border-radius:4px}"
    ".matrix td.c small{display:block;font-weight:400;font-size:11px}"
    ".matrix td.u{white-space:nowrap;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}"
    ".chk{display:inline-block;padding:1px 8px;border-radius:10px;font-size:11px;font-weight:600}"
    ".chk.pass{background:#e6f4ea;color:#1e6b34}.chk.warn{background:#fff8d6;color:#7a5d00}"
    ".chk.fail{background:#fde7e7;color:#a31515}.chk.notrun{background:#f1f3f4;color:#5f6368}"
    ".chk.uncovered{background:#fff1e0;color:#9a4b00}"
    ".matrix td.c .t{display:block;margin:3px auto 0;width:max-content;padding:0 6px;border-radius:8px;"
    "background:rgba(255,255,255,.75);font-size:10px;font-weight:600}"
    ".t.pass{color:#1e6b34}.t.fail{color:#a31515}.t.uncovered{color:#9a4b00}.t.notrun{color:#80868b}"
    ".prod{background:#fff;border:1px solid #dadce0;border-radius:8px;padding:16px 20px;margin:0 0 16px;"
    "break-inside:avoid}"
    ".prod .head{display:flex;justify-content:space-between;align-items:baseline;gap:16px;margin-bottom:8px}"
    ".mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}.muted{color:#80868b}"
    "h3.mono{font-size:16px}pre.mono{white-space:pre-wrap;font-size:12px;margin:4px 0}"
    ".meta{display:flex;flex-wrap:wrap;gap:20px;color:#5f6368;font-size:12px;margin-bottom:10px}"
    ".meta b{color:#202124;font-weight:600}"
    ".st{display:inline-block;padding:1px 8px;border-radius:4px;font-size:12px;font-weight:600}"
    "ul.f{margin:8px 0 0;padding-left:18px;font-size:12px}ul.f li{margin:2px 0}"
    ".sev-error{color:#a31515;font-weight:600}.sev-warning{color:#7a5d00;font-weight:600}"
    "footer{margin-top:32px;color:#80868b;font-size:12px}";

/* Writes s with &, <, >, " and ' escaped. */
static void esc(FILE *out, const char *s)
{
    for (; s && *s; s++)
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
}

/* An identifier with a break opportunity after each `_`, for narrow
 * matrix headers. */
static void esc_breakable(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        char one[2] = { *s, 0 };
        esc(out, one);
        if (*s == '_')
            fputs("<wbr>", out);
    }
}

static const char *check_class(mg_check_result r)
{
    return r == MG_CHECK_PASS ? "pass" : r == MG_CHECK_WARN ? "warn" : r == MG_CHECK_FAIL ? "fail" : "notrun";
}

/* Classes for a cell's test status and a product's test run. */
static const char *test_class(mg_test_status t)
{
    return t == MG_TESTS_PASS ? "pass" : t == MG_TESTS_FAIL ? "fail" : t == MG_TESTS_UNCOVERED ? "uncovered" : "notrun";
}

static const char *run_class(const mg_adoption_product *p)
{
    if (p->tests == MG_TESTS_MALFORMED || (p->tests == MG_TESTS_RAN && p->tests_failed))
        return "fail";
    return p->tests == MG_TESTS_RAN && p->tests_run ? "pass" : "notrun";
}

/* "tests pass 3/3", or "tests none". */
static void cell_tests(FILE *out, const mg_adoption_cell *c)
{
    fprintf(out, "tests %s", mg_test_status_str(c->tests));
    if (c->rules_total)
        fprintf(out, " %zu/%zu", c->rules_covered, c->rules_total);
}

/* "5 run, 1 failed", or why none ran. */
static void product_tests(FILE *out, const mg_adoption_product *p)
{
    if (p->tests == MG_TESTS_RAN)
        fprintf(out, "%zu run, %zu failed", p->tests_run, p->tests_failed);
    else
        fputs(mg_tests_run_str(p->tests), out);
}

static void status_badge(FILE *out, mg_adoption_status s)
{
    fprintf(out, "<span class=\"st\" style=\"background:%s;color:%s\">%s</span>", status_style[s].bg,
            status_style[s].fg, status_style[s].label);
}

static void legend(FILE *out)
{
    fputs("<div class=\"legend\">", out);
    for (int s = 0; s < ADOPTION_NSTATUS; s++)
        fprintf(out, "<span><i style=\"background:%s\"></i>%s</span>", status_style[s].bar, status_style[s].label);
    fputs("</div>\n", out);
}

/* ==========================================================================
 * Summary cards and chart
 * ========================================================================== */

static void cards(FILE *out, const mg_adoption *a)
{
    size_t cells = 0, adopted = 0, failing = 0, logs = 0, tests_failing = 0;
    uint64_t decisions = 0, changed = 0;
    for (size_t i = 0; i < a->nproducts; i++) {
        const mg_adoption_product *p = &a->products[i];
        for (size_t k = 0; k < p->ncells; k++) {
            cells += strcmp(p->cells[k].lifecycle, "draft") != 0;
            adopted += p->cells[k].status == MG_ADOPTED && strcmp(p->cells[k].lifecycle, "draft") != 0;
        }
        failing += p->checks == MG_CHECK_FAIL || p->checks == MG_CHECK_NOT_RUN;
        tests_failing += strcmp(run_class(p), "fail") == 0;
        logs += p->has_log;
        decisions += p->decisions;
        changed += p->dry_run_changed;
    }
    fputs("<div class=\"cards\">\n", out);
    fprintf(out, "<div class=\"card\"><b>%zu</b><span>data products</span></div>\n", a->nproducts);
    fprintf(out, "<div class=\"card\"><b>%zu</b><span>global policies</span></div>\n", a->npolicies);
    fprintf(out, "<div class=\"card\"><b>%zu%%</b><span>non-draft adoptions current and enforced</span></div>\n",
            cells ? (adopted * 100 + cells / 2) / cells : 100);
    fprintf(out, "<div class=\"card\"><b>%zu</b><span>products failing checks</span></div>\n", failing);
    fprintf(out, "<div class=\"card\"><b>%zu</b><span>products with failed or malformed tests</span></div>\n",
            tests_failing);
    if (logs)
        fprintf(out, "<div class=\"card\"><b>%llu</b><span>decisions logged, %llu changed by dry-run</span></div>\n",
                (unsigned long long)decisions, (unsigned long long)changed);
    else
        fputs("<div class=\"card\"><b>&#8212;</b><span>no audit logs found</span></div>\n", out);
    fputs("</div>\n", out);
}

/* One stacked bar per global policy: products by status. */
static void chart(FILE *out, const mg_adoption *a)
{
    const int label_w = 230, bar_w = 760, row_h = 30, top = 8;
    int h = top + (int)a->npolicies * row_h + 24;
    fprintf(out,
            "<svg width=\"100%%\" viewBox=\"0 0 %d %d\" role=\"img\" "
            "aria-label=\"adoption per global policy\" font-family=\"sans-serif\" font-size=\"12\">\n",
            label_w + bar_w + 120, h);
    for (int t = 0; t <= 4; t++) {
        int x = label_w + bar_w * t / 4;
        fprintf(out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#e8eaed\"/>", x, top - 4, x, h - 20);
        fprintf(out, "<text x=\"%d\" y=\"%d\" fill=\"#80868b\" text-anchor=\"middle\">%d%%</text>\n", x, h - 6,
                t * 25);
    }
    for (size_t i = 0; a->nproducts && i < a->npolicies; i++) {
        adoption_summary s;
        adoption_policy_summary(a, i, &s);
        int y = top + (int)i * row_h;
        fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\" fill=\"#202124\">", label_w - 10, y + 16);
        esc(out, a->products[0].cells[i].policy);
        fputs("</text>\n", out);
        double x = label_w;
        for (int st = 0; st < ADOPTION_NSTATUS; st++) {
            if (!s.counts[st])
                continue;
            double w = (double)bar_w * (double)s.counts[st] / (double)a->nproducts;
            fprintf(out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"20\" fill=\"%s\"><title>%s: %zu</title>"
                         "</rect>",
                    x, y + 2, w, status_style[st].bar, status_style[st].label, s.counts[st]);
            if (w >= 24)
                fprintf(out, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\" font-weight=\"600\">%zu"
                             "</text>",
                        x + w / 2, y + 16, status_style[st].on_bar, s.counts[st]);
            x += w;
        }
        fprintf(out, "<text x=\"%d\" y=\"%d\" fill=\"#5f6368\">%zu/%zu adopted</text>\n", label_w + bar_w + 8, y + 16,
                s.counts[MG_ADOPTED], a->nproducts);
    }
    fputs("</svg>\n", out);
}

/* ==========================================================================
 * Matrix and product detail
 * ========================================================================== */

static void matrix(FILE *out, const mg_adoption *a)
{
    fputs("<table class=\"matrix\"><colgroup><col class=\"u\"><col class=\"k\"><col class=\"t\"></colgroup>"
          "<thead><tr><th>product</th><th>checks</th><th>tests</th>", out);
    for (size_t i = 0; a->nproducts && i < a->npolicies; i++) {
        fputs("<th class=\"p\">", out);
        esc_breakable(out, a->products[0].cells[i].policy);
        fputs("</th>", out);
    }
    fputs("</tr></thead>\n<tbody>\n", out);
    for (size_t i = 0; i < a->nproducts; i++) {
        const mg_adoption_product *p = &a->products[i];
        fputs("<tr><td class=\"u\">", out);
        esc(out, p->uri);
        fprintf(out, "</td><td><span class=\"chk %s\">%s</span></td>", check_class(p->checks),
                mg_check_result_str(p->checks));
        fprintf(out, "<td><span class=\"chk %s\">", run_class(p));
        product_tests(out, p);
        fputs("</span></td>", out);
        for (size_t k = 0; k < p->ncells; k++) {
            const mg_adoption_cell *c = &p->cells[k];
            fprintf(out, "<td class=\"c\" style=\"background:%s;color:%s\">%s<small>", status_style[c->status].bg,
                    status_style[c->status].fg, status_style[c->status].label);
            if (c->adopted_version)
                fprintf(out, "v%lld of v%lld", (long long)c->adopted_version, (long long)c->latest_version);
            else
                fprintf(out, "latest v%lld", (long long)c->latest_version);
            fprintf(out, "</small><span class=\"t %s\">", test_class(c->tests));
            cell_tests(out, c);
            fputs("</span></td>", out);
        }
        fputs("</tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static void detail_cells(FILE *out, const mg_adoption_product *p)
{
    fputs("<table><thead><tr><th>policy</th><th>adopted</th><th>latest</th><th>lifecycle</th><th>grace until</th>"
          "<th>mode</th><th>status</th><th>checks</th><th>tests</th><th>decided</th><th>dry-run changed</th>"
          "</tr></thead><tbody>\n", out);
    for (size_t k = 0; k < p->ncells; k++) {
        const mg_adoption_cell *c = &p->cells[k];
        char grace[32] = "&#8212;";
        if (c->grace_until_us)
            adoption_time(c->grace_until_us, true, grace, sizeof grace);
        fputs("<tr><td class=\"mono\">", out);
        esc(out, c->policy);
        fputs("</td><td>", out);
        if (c->adopted_version)
            fprintf(out, "v%lld", (long long)c->adopted_version);
        else
            fputs("&#8212;", out);
        fprintf(out, "</td><td>v%lld</td><td>%s</td><td>%s</td><td>%s</td><td>", (long long)c->latest_version,
                c->lifecycle, grace, c->mode ? c->mode : "&#8212;");
        status_badge(out, c->status);
        fprintf(out, "</td><td><span class=\"chk %s\">%s</span></td><td><span class=\"chk %s\">",
                check_class(c->checks), mg_check_result_str(c->checks), test_class(c->tests));
        cell_tests(out, c);
        fputs("</span></td>", out);
        if (p->has_log)
            fprintf(out, "<td>%llu</td><td>%llu</td></tr>\n", (unsigned long long)c->decided,
                    (unsigned long long)c->dry_run_changed);
        else
            fputs("<td>&#8212;</td><td>&#8212;</td></tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
}

static void findings(FILE *out, const mg_adoption_product *p)
{
    if (p->load_status) {
        fputs("<ul class=\"f\"><li><span class=\"sev-error\">does not compile</span><pre class=\"mono\">", out);
        esc(out, p->load_error);
        fputs("</pre></li></ul>\n", out);
    }
    if (p->tests_error) {
        fputs("<ul class=\"f\"><li><span class=\"sev-error\">policy tests not run: a test file is malformed</span>"
              "<pre class=\"mono\">", out);
        esc(out, p->tests_error);
        fputs("</pre></li></ul>\n", out);
    }
    if (!p->nfindings)
        return;
    fputs("<ul class=\"f\">\n", out);
    for (size_t i = 0; i < p->nfindings; i++) {
        const mg_adoption_finding *f = &p->findings[i];
        const char *sev = f->severity == MG_SEV_ERROR ? "error" : f->severity == MG_SEV_WARNING ? "warning" : "note";
        fprintf(out, "<li><span class=\"sev-%s\">%s</span> ", sev, sev);
        esc(out, f->message);
        fputs(" <span class=\"sub mono\">[", out);
        esc(out, f->check);
        fputs("] ", out);
        esc(out, f->file);
        if (f->line > 0)
            fprintf(out, ":%d:%d", f->line, f->column);
        fputs("</span></li>\n", out);
    }
    fputs("</ul>\n", out);
}

static void product_detail(FILE *out, const mg_adoption_product *p)
{
    fputs("<section class=\"prod\"><div class=\"head\"><h3 class=\"mono\">", out);
    esc(out, p->uri);
    fprintf(out, "</h3><span><span class=\"chk %s\">checks: %s &#183; %zu error%s, %zu warning%s</span> ",
            check_class(p->checks), mg_check_result_str(p->checks), p->errors, p->errors == 1 ? "" : "s", p->warnings,
            p->warnings == 1 ? "" : "s");
    fprintf(out, "<span class=\"chk %s\">tests: ", run_class(p));
    product_tests(out, p);
    if (p->tests == MG_TESTS_RAN || p->tests == MG_TESTS_NO_TESTS)
        fprintf(out, " &#183; %zu of %zu rules covered (%d%%)", p->rules_covered, p->rules_total,
                p->coverage_percent);
    fputs("</span></span></div>\n", out);
    fputs("<div class=\"meta\"><span>domain <b>", out);
    esc(out, p->domain);
    fputs("</b></span><span>owner <b>", out);
    esc(out, p->owner);
    fputs("</b></span><span>kind <b>", out);
    esc(out, p->kind[0] ? p->kind : "unspecified");
    fputs("</b></span><span>audit log <b>", out);
    if (p->has_log)
        fprintf(out, "%llu decisions: %llu allow, %llu partial, %llu deny; %llu changed by dry-run",
                (unsigned long long)p->decisions, (unsigned long long)p->allow, (unsigned long long)p->partial,
                (unsigned long long)p->deny, (unsigned long long)p->dry_run_changed);
    else
        fputs("none", out);
    fputs("</b></span></div>\n", out);
    detail_cells(out, p);
    findings(out, p);
    fputs("</section>\n", out);
}

int adoption_html(FILE *out, const mg_adoption *a)
{
    char now[32];
    adoption_time(a->now_us, false, now, sizeof now);
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Adoption report: ", out);
    esc(out, a->mesh);
    fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n", css);
    fputs("<header><div><h1>Adoption of global policies &#8212; mesh ", out);
    esc(out, a->mesh);
    fprintf(out, "</h1><div class=\"sub\">Which data product adopts which global policy, at which version and in "
                 "which mode, with its static checks, policy tests and audit decisions.</div></div>"
                 "<div class=\"sub\">as of %s</div></header>\n", now);
    cards(out, a);
    fputs("<h2>Adoption per global policy</h2>\n<div class=\"panel\">\n", out);
    legend(out);
    chart(out, a);
    fputs("</div>\n<h2>Policy &#215; product matrix</h2>\n<div class=\"panel\">\n", out);
    legend(out);
    matrix(out, a);
    fputs("</div>\n<h2>Products</h2>\n", out);
    for (size_t i = 0; i < a->nproducts; i++)
        product_detail(out, &a->products[i]);
    fprintf(out, "<footer>Generated by meshgov %s. A cell's tests: the coverage of the policy's access rules by the "
                 "product's policy tests; fail when a failed test's decision applied a rule of the policy."
                 "</footer>\n", MG_VERSION);
    fputs("</main>\n</body>\n</html>\n", out);
    return CLI_OK;
}
