/*
 * report_html.c -- the report as one self-contained HTML file: inline CSS (with
 * print rules, so a browser prints it to PDF), an overall page, then one section
 * per connector with its charts drawn as inline SVG; with -c, a table of the
 * outbound contracts after the overview.
 * Never: refers to anything outside the file (no network, script, font or image),
 * or writes a record string without report_esc_html.
 */
#include <stdio.h>

#include "report.h"

#define CHART_W 720
#define CHART_H 160

static const char report_html_head[] =
    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>TLS compliance report</title>\n<style>\n"
    "body{font-family:sans-serif;margin:2em;color:#222;max-width:60em}\n"
    "table{border-collapse:collapse;margin:0.5em 0}\n"
    "th,td{border:1px solid #bbb;padding:2px 6px;text-align:right}\n"
    "th:first-child,td:first-child{text-align:left}\n"
    "td.l{text-align:left}\n.bad{color:#a00}\n"
    "h2,td,li{overflow-wrap:anywhere}\n"
    "section.conn{border-top:2px solid #444;margin-top:2em}\n"
    "svg{display:block;margin:0.5em 0}\n"
    "@media print{body{margin:0;max-width:none}section.conn{break-before:page}"
    "a{color:inherit;text-decoration:none}}\n"
    "</style></head><body>\n";

static const char *const report_html_tls_colors[RT_N] = {
    "#c62828", "#ef6c00", "#f9a825", "#7cb342", "#2e7d32", "#757575"
};

static void
report_html_pct(FILE *fp, double pct)
{
    if (pct < 0)
        fputs("-", fp);
    else
        fprintf(fp, "%.1f%%", pct);
}

/* Stacked bars per day: pass (green), fail (red), error and other (orange), none
 * (grey). */
static void
report_html_timeline(FILE *fp, const struct report_conn *c)
{
    uint64_t max = 1;
    size_t i;
    double w;
    char d0[11], d1[11];

    for (i = 0; i < c->ndays; i++)
        if (c->days[i].c.msgs > max)
            max = c->days[i].c.msgs;
    w = c->ndays > 0 ? (double)(CHART_W - 40) / (double)c->ndays : 1;
    fprintf(fp, "<svg class=\"chart timeline\" role=\"img\" width=\"%d\" height=\"%d\" "
            "viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\">"
            "<title>daily pass, fail and none</title>\n", CHART_W, CHART_H + 20, CHART_W,
            CHART_H + 20);
    fprintf(fp, "<text x=\"0\" y=\"12\" font-size=\"11\">%llu</text>"
            "<line x1=\"38\" y1=\"0\" x2=\"38\" y2=\"%d\" stroke=\"#888\"/>\n",
            (unsigned long long)max, CHART_H);
    for (i = 0; i < c->ndays; i++) {
        const struct report_counts *k = &c->days[i].c;
        const uint64_t part[4] = { k->verdict[RV_PASS], k->verdict[RV_FAIL],
                                   k->verdict[RV_ERROR] + k->verdict[RV_OTHER],
                                   k->verdict[RV_NONE] };
        static const char *const color[4] = { "#2e7d32", "#c62828", "#ef6c00", "#9e9e9e" };
        double y = CHART_H;
        size_t p;
        char day[11];

        report_day_format(c->days[i].day, day);
        for (p = 0; p < 4; p++) {
            double h = (double)CHART_H * (double)part[p] / (double)max;

            if (part[p] == 0)
                continue;
            y -= h;
            fprintf(fp, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                    "fill=\"%s\"><title>%s: %llu</title></rect>\n", 40 + w * (double)i, y,
                    w > 2 ? w - 1 : w, h, color[p], day, (unsigned long long)part[p]);
        }
    }
    if (c->ndays > 0) {
        report_day_format(c->days[0].day, d0);
        report_day_format(c->days[c->ndays - 1].day, d1);
        fprintf(fp, "<text x=\"40\" y=\"%d\" font-size=\"11\">%s</text>"
                "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%s</text>\n",
                CHART_H + 14, d0, CHART_W, CHART_H + 14, d1);
    }
    fputs("</svg>\n<p>green pass, red fail, orange error, grey none</p>\n", fp);
}

/* One horizontal bar split by TLS version, with a legend. */
static void
report_html_tls(FILE *fp, const struct report_counts *c)
{
    double x = 0;
    size_t k;

    fprintf(fp, "<svg class=\"chart tls\" role=\"img\" width=\"%d\" height=\"46\" "
            "viewBox=\"0 0 %d 46\" xmlns=\"http://www.w3.org/2000/svg\">"
            "<title>TLS versions</title>\n", CHART_W, CHART_W);
    for (k = 0; k < RT_N && c->msgs > 0; k++) {
        double w = (double)CHART_W * (double)c->tls[k] / (double)c->msgs;

        if (c->tls[k] == 0)
            continue;
        fprintf(fp, "<rect x=\"%.2f\" y=\"0\" width=\"%.2f\" height=\"20\" fill=\"%s\">"
                "<title>%s: %llu</title></rect>\n", x, w, report_html_tls_colors[k],
                report_tls_names[k], (unsigned long long)c->tls[k]);
        x += w;
    }
    for (k = 0; k < RT_N; k++)
        fprintf(fp, "<rect x=\"%zu\" y=\"30\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                "<text x=\"%zu\" y=\"40\" font-size=\"11\">%s %llu</text>\n", k * 120,
                report_html_tls_colors[k], k * 120 + 14, report_tls_names[k],
                (unsigned long long)c->tls[k]);
    fputs("</svg>\n", fp);
}

static void
report_html_names(FILE *fp, const struct report_conn *c, enum report_namekind k)
{
    const struct report_nameset *s = &c->names[k];
    char f[21], l[21];
    size_t i;

    if (s->n == 0)
        return;
    fprintf(fp, "<h4>%s</h4>\n<table><tr><th>name</th><th>messages</th><th>first seen</th>"
            "<th>last seen</th></tr>\n", report_namekind_names[k]);
    for (i = 0; i < s->n; i++) {
        report_time_format(s->v[i].first, f);
        report_time_format(s->v[i].last, l);
        fputs("<tr><td>", fp);
        report_esc_html(fp, s->v[i].name);
        fprintf(fp, "</td><td>%llu</td><td>%s</td><td>%s</td></tr>\n",
                (unsigned long long)s->v[i].count, f, l);
    }
    fputs("</table>\n", fp);
    if (s->dropped > 0)
        fprintf(fp, "<p>%llu more occurrence(s) of other names (cap %d)</p>\n",
                (unsigned long long)s->dropped, REPORT_MAX_NAMES);
}

static void
report_html_downgrade(void *arg, long long first13, const struct report_day *d)
{
    FILE *fp = arg;
    char a[11], b[11];

    report_day_format(first13, a);
    report_day_format(d->day, b);
    fprintf(fp, "<li class=\"bad\">%s: %llu on TLSv1.2, %llu on older TLS, %llu plaintext "
            "(TLSv1.3 since %s)</li>\n", b, (unsigned long long)d->c.tls[RT_12],
            (unsigned long long)(d->c.tls[RT_10] + d->c.tls[RT_11]),
            (unsigned long long)d->c.tls[RT_PLAIN], a);
}

static void
report_html_change(void *arg, const char *day, const char *kind, const char *name)
{
    FILE *fp = arg;

    fprintf(fp, "<li>%s: new %s ", day, kind);
    report_esc_html(fp, name);
    fputs("</li>\n", fp);
}

static void
report_html_conn(FILE *fp, const struct report_conn *c, size_t idx)
{
    const struct report_counts *t = &c->total;
    const struct report_reason *rs[REPORT_MAX_REASONS];
    size_t i, k, n, e;

    fprintf(fp, "<section class=\"conn\" id=\"c%zu\"><h2>", idx);
    report_esc_html(fp, c->name);
    fprintf(fp, "</h2>\n<p>messages %llu, recipients %llu; pass %llu, fail %llu, none %llu, "
            "error %llu; compliance ", (unsigned long long)t->msgs, (unsigned long long)t->rcpts,
            (unsigned long long)t->verdict[RV_PASS], (unsigned long long)t->verdict[RV_FAIL],
            (unsigned long long)t->verdict[RV_NONE],
            (unsigned long long)(t->verdict[RV_ERROR] + t->verdict[RV_OTHER]));
    report_html_pct(fp, report_compliance(t) < 0 ? -1 : 100 * report_compliance(t));
    fputs("</p>\n<p>actions:", fp);
    for (k = RA_N; k-- > 0;)
        fprintf(fp, " %s %llu,", report_action_names[k], (unsigned long long)t->action[k]);
    fprintf(fp, " monitor-only %llu</p>\n<p>forward secrecy ", (unsigned long long)t->monitor);
    report_html_pct(fp, report_pct(t->fs, t->msgs - t->tls[RT_PLAIN]));
    fputs(" of TLS; cipher bits:", fp);
    for (k = 0; k < RB_N; k++)
        fprintf(fp, " %s %llu", report_bits_names[k], (unsigned long long)t->bits[k]);
    fputs("</p>\n<h3>Daily timeline</h3>\n", fp);
    report_html_timeline(fp, c);
    fputs("<h3>TLS versions</h3>\n", fp);
    report_html_tls(fp, t);
    for (k = 0; k < RN_N; k++)
        report_html_names(fp, c, (enum report_namekind)k);
    fputs("<h4>Changes</h4>\n<ul>\n", fp);
    report_changes(c, report_html_change, fp);
    fputs("</ul>\n<h4>Downgrades</h4>\n<ul>\n", fp);
    report_downgrades(c, report_html_downgrade, fp);
    fputs("</ul>\n", fp);
    n = report_reasons_sorted(c, rs);
    if (n > 0)
        fputs("<h4>Top failure reasons</h4>\n<table><tr><th>reason</th><th>count</th>"
              "<th>example queue ids</th></tr>\n", fp);
    for (i = 0; i < n && i < 10; i++) {
        fputs("<tr><td>", fp);
        report_esc_html(fp, rs[i]->text);
        fprintf(fp, "</td><td>%llu</td><td class=\"l\">", (unsigned long long)rs[i]->count);
        for (e = 0; e < rs[i]->nexample; e++) {
            if (e > 0)
                fputs(", ", fp);
            report_esc_html(fp, rs[i]->example[e]);
        }
        fputs("</td></tr>\n", fp);
    }
    if (n > 0)
        fputs("</table>\n", fp);
    fputs("</section>\n", fp);
}

/* The k-th item of a table cell's list: a line of its own, escaped. */
static void
report_html_item(FILE *fp, size_t k, const char *s)
{
    fputs(k ? "<br>" : "", fp);
    report_esc_html(fp, s);
}

/* The outbound contracts of -c FILE: one table row per connector. */
static void
report_html_outbound(FILE *fp, const struct report_view *v)
{
    fputs("<section id=\"outbound\"><h2>Outbound contracts</h2>\n<p>", fp);
    report_esc_html(fp, v->config);
    fputs(" (sha256 ", fp);
    report_esc_html(fp, v->config_sha256);
    fprintf(fp, "): %zu connector(s)</p>\n<table><tr><th>connector</th><th>mode</th>"
            "<th>domains</th><th>smart hosts</th><th>requires</th><th>postfix</th></tr>\n",
            v->noutbound);
    for (size_t i = 0; i < v->noutbound; i++) {
        const struct report_outbound *ob = &v->outbound[i];
        const struct outbound_connector *c = ob->c;
        size_t k;

        fputs("<tr><td>", fp);
        report_esc_html(fp, c->name);
        fprintf(fp, "</td><td class=\"l\">%s</td>", policy_mode_name(c->mode));
        fputs("<td class=\"l\">", fp);
        for (k = 0; k < c->ndomains; k++)
            report_html_item(fp, k, c->domains[k].pattern);
        fputs("</td><td class=\"l\">", fp);
        for (k = 0; k < c->nhosts; k++)
            report_html_item(fp, k, c->hosts[k].text);
        fputs(c->nhosts == 0 ? "none (MX lookup)</td><td class=\"l\">" : "</td><td class=\"l\">",
              fp);
        for (k = 0; k < ob->nreqs; k++)
            report_html_item(fp, k, ob->reqs[k]);
        fputs(ob->nreqs == 0 ? "nothing</td>" : "</td>", fp);
        fputs(ob->postfix == NULL ? "<td class=\"l bad\">" : "<td class=\"l\">", fp);
        report_esc_html(fp, ob->postfix != NULL ? ob->postfix : "cannot be exported");
        if (ob->postfix_enforce != NULL) {
            fputs("<br>in enforce mode: ", fp);
            report_esc_html(fp, ob->postfix_enforce);
        }
        fputs("</td></tr>\n", fp);
    }
    fputs("</table>\n</section>\n", fp);
}

int
report_html(FILE *fp, const struct report_view *v)
{
    const struct report_agg *a = v->agg;
    const struct report_counts *t = &a->total;
    size_t i;

    fputs(report_html_head, fp);
    fputs("<h1>TLS compliance report</h1>\n<section id=\"overall\"><h2>Overall</h2>\n<p>", fp);
    if (v->since != NULL || v->until != NULL) {
        fputs("period ", fp);
        report_esc_html(fp, v->since != NULL ? v->since : "start");
        fputs(" .. ", fp);
        report_esc_html(fp, v->until != NULL ? v->until : "end");
        fputs("; ", fp);
    }
    fprintf(fp, "%llu messages, %llu recipients.</p>\n<table>"
            "<tr><td>over TLS</td><td>", (unsigned long long)t->msgs,
            (unsigned long long)t->rcpts);
    report_html_pct(fp, report_pct(t->msgs - t->tls[RT_PLAIN], t->msgs));
    fputs("</td></tr>\n<tr><td>over TLS 1.2 or later</td><td>", fp);
    report_html_pct(fp, report_pct(t->tls[RT_12] + t->tls[RT_13], t->msgs));
    fputs("</td></tr>\n<tr><td>with a verified certificate</td><td>", fp);
    report_html_pct(fp, report_pct(t->verified, t->msgs));
    fputs("</td></tr></table>\n", fp);
    report_html_tls(fp, t);
    fputs("<h3>Partners by compliance, worst first</h3>\n<table id=\"partners\"><tr>"
          "<th>connector</th><th>messages</th><th>pass</th><th>fail</th><th>none</th>"
          "<th>error</th><th>compliance</th></tr>\n", fp);
    for (i = 0; i < v->nconn; i++) {
        const struct report_counts *c = &v->conn[i]->total;

        fprintf(fp, "<tr><td><a href=\"#c%zu\">", i);
        report_esc_html(fp, v->conn[i]->name);
        fprintf(fp, "</a></td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td>"
                "<td>", (unsigned long long)c->msgs, (unsigned long long)c->verdict[RV_PASS],
                (unsigned long long)c->verdict[RV_FAIL], (unsigned long long)c->verdict[RV_NONE],
                (unsigned long long)(c->verdict[RV_ERROR] + c->verdict[RV_OTHER]));
        report_html_pct(fp, report_compliance(c) < 0 ? -1 : 100 * report_compliance(c));
        fputs("</td></tr>\n", fp);
    }
    fprintf(fp, "</table>\n<h3>Input</h3>\n<p>%llu lines, %llu filtered out, %llu link lines, "
            "%llu malformed, %llu bad files%s</p>\n<ul>\n", (unsigned long long)a->lines,
            (unsigned long long)a->filtered, (unsigned long long)a->links,
            (unsigned long long)a->malformed, (unsigned long long)a->bad_files,
            a->caps_hit ? "; a cap was hit (see tlspolicy(1))" : "");
    for (i = 0; i < a->nfile_errors; i++) {
        fputs("<li class=\"bad\">", fp);
        report_esc_html(fp, a->file_errors[i]);
        fputs("</li>\n", fp);
    }
    for (i = 0; i < a->nbad; i++) {
        fputs("<li class=\"bad\">", fp);
        report_esc_html(fp, a->bad[i].file);
        fprintf(fp, ":%llu: ", (unsigned long long)a->bad[i].line);
        report_esc_html(fp, a->bad[i].why);
        fputs("</li>\n", fp);
    }
    fputs("</ul>\n</section>\n", fp);
    /* Beside the overview, before the per-connector pages: both directions' contracts
     * are read together. */
    if (v->config != NULL)
        report_html_outbound(fp, v);
    for (i = 0; i < v->nconn; i++)
        report_html_conn(fp, v->conn[i], i);
    fputs("</body></html>\n", fp);
    return 0;
}
