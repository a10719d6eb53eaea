/*
 * report_text.c -- the terminal summary (the default format) and the CSV (one
 * row per connector per day, columns documented in tlspolicy(1)); with -c, the
 * outbound contracts in the summary (never in the CSV, whose rows are days).
 * Never: writes a record string without report_esc_term or report_esc_csv, or
 * changes the CSV columns without the man page (scripts parse them).
 */
#include <stdio.h>
#include <stdlib.h>

#include "report.h"

static void
report_text_pct(FILE *fp, double pct)
{
    if (pct < 0)
        fputs("     -", fp);
    else
        fprintf(fp, "%5.1f%%", pct);
}

static void
report_text_names(FILE *fp, const struct report_conn *c, enum report_namekind k)
{
    const struct report_nameset *s = &c->names[k];
    char f[21], l[21];
    size_t i;

    if (s->n == 0)
        return;
    fprintf(fp, "  %s:\n", report_namekind_names[k]);
    for (i = 0; i < s->n; i++) {
        report_time_format(s->v[i].first, f);
        report_time_format(s->v[i].last, l);
        fputs("    ", fp);
        report_esc_term(fp, s->v[i].name);
        fprintf(fp, "  (%llu, %s .. %s)\n", (unsigned long long)s->v[i].count, f, l);
    }
    if (s->dropped > 0)
        fprintf(fp, "    ... %llu more occurrence(s) of other names (cap %d names)\n",
                (unsigned long long)s->dropped, REPORT_MAX_NAMES);
}

/* A heading printed before the first item of a list of changes or downgrades. */
struct report_text_dg {
    FILE       *fp;
    bool        any;
};

static void
report_text_downgrade(void *arg, long long first13, const struct report_day *d)
{
    struct report_text_dg *dg = arg;
    FILE *fp = dg->fp;
    char a[11], b[11];

    if (!dg->any)
        fputs("  downgrades (TLSv1.3 seen, then older TLS or plaintext):\n", fp);
    dg->any = true;
    report_day_format(first13, a);
    report_day_format(d->day, b);
    fprintf(fp, "    %s: %llu on TLSv1.2, %llu on older TLS, %llu plaintext (TLSv1.3 since %s)\n",
            b, (unsigned long long)d->c.tls[RT_12],
            (unsigned long long)(d->c.tls[RT_10] + d->c.tls[RT_11]),
            (unsigned long long)d->c.tls[RT_PLAIN], a);
}

static void
report_text_change(void *arg, const char *day, const char *kind, const char *name)
{
    struct report_text_dg *dg = arg;

    if (!dg->any)
        fputs("  changes (rollovers):\n", dg->fp);
    dg->any = true;
    fprintf(dg->fp, "    %s: new %s ", day, kind);
    report_esc_term(dg->fp, name);
    fputc('\n', dg->fp);
}

static void
report_text_conn(FILE *fp, const struct report_conn *c)
{
    const struct report_counts *t = &c->total;
    const struct report_reason *rs[REPORT_MAX_REASONS];
    size_t i, k, n, e;
    uint64_t ntls = t->msgs - t->tls[RT_PLAIN];

    fputs("\n== ", fp);
    report_esc_term(fp, c->name);
    fputs(" ==\n", fp);
    fprintf(fp, "  messages %llu, recipients %llu; pass %llu, fail %llu, none %llu, error %llu, "
            "other %llu; compliance ", (unsigned long long)t->msgs,
            (unsigned long long)t->rcpts, (unsigned long long)t->verdict[RV_PASS],
            (unsigned long long)t->verdict[RV_FAIL], (unsigned long long)t->verdict[RV_NONE],
            (unsigned long long)t->verdict[RV_ERROR], (unsigned long long)t->verdict[RV_OTHER]);
    report_text_pct(fp, report_compliance(t) < 0 ? -1 : 100 * report_compliance(t));
    fputs("\n  actions:", fp);
    for (i = RA_OTHER; i-- > 0;)
        fprintf(fp, " %s %llu,", report_action_names[i], (unsigned long long)t->action[i]);
    fprintf(fp, " other %llu;", (unsigned long long)t->action[RA_OTHER]);
    fprintf(fp, " monitor-only %llu\n  TLS:", (unsigned long long)t->monitor);
    for (i = RT_OTHER; i-- > 0;)
        fprintf(fp, " %s %llu,", report_tls_names[i], (unsigned long long)t->tls[i]);
    fprintf(fp, " other %llu\n", (unsigned long long)t->tls[RT_OTHER]);
    fputs("  forward secrecy ", fp);
    report_text_pct(fp, report_pct(t->fs, ntls));
    fputs(" of TLS; cipher bits:", fp);
    for (i = 0; i < RB_N; i++)
        fprintf(fp, " %s %llu%s", report_bits_names[i], (unsigned long long)t->bits[i],
                i + 1 < RB_N ? "," : "\n");
    for (k = 0; k < RN_N; k++)
        report_text_names(fp, c, (enum report_namekind)k);
    report_changes(c, report_text_change, &(struct report_text_dg){ .fp = fp });
    report_downgrades(c, report_text_downgrade, &(struct report_text_dg){ .fp = fp });
    n = report_reasons_sorted(c, rs);
    if (n > 0)
        fputs("  top failure reasons:\n", fp);
    for (i = 0; i < n && i < 10; i++) {
        fprintf(fp, "    %llu  ", (unsigned long long)rs[i]->count);
        report_esc_term(fp, rs[i]->text);
        for (e = 0; e < rs[i]->nexample; e++) {
            fputs(e == 0 ? "  (e.g. " : ", ", fp);
            report_esc_term(fp, rs[i]->example[e]);
        }
        fputs(rs[i]->nexample > 0 ? ")\n" : "\n", fp);
    }
    if (c->reasons_dropped > 0)
        fprintf(fp, "    ... %llu more occurrence(s) of other reasons (cap %d)\n",
                (unsigned long long)c->reasons_dropped, REPORT_MAX_REASONS);
}

/* The outbound contracts of -c FILE: one block per connector, what the partner's
 * servers must show and the Postfix policy that enforces it. */
static void
report_text_outbound(FILE *fp, const struct report_view *v)
{
    fputs("\noutbound contracts of ", fp);
    report_esc_term(fp, v->config);
    fprintf(fp, " (sha256 %s): %zu connector(s)\n", v->config_sha256, v->noutbound);
    for (size_t i = 0; i < v->noutbound; i++) {
        const struct report_outbound *ob = &v->outbound[i];
        const struct outbound_connector *c = ob->c;
        size_t k;

        fputs("\noutbound ", fp);
        report_esc_term(fp, c->name);
        fprintf(fp, ": mode %s\n  domains:", policy_mode_name(c->mode));
        for (k = 0; k < c->ndomains; k++) {
            fputs(k ? ", " : " ", fp);
            report_esc_term(fp, c->domains[k].pattern);
        }
        fputs("\n  smart hosts:", fp);
        for (k = 0; k < c->nhosts; k++) {
            fputs(k ? ", " : " ", fp);
            report_esc_term(fp, c->hosts[k].text);
        }
        fputs(c->nhosts == 0 ? " none (MX lookup)\n  requires:" : "\n  requires:", fp);
        for (k = 0; k < ob->nreqs; k++) {
            fputs(k ? "; " : " ", fp);
            report_esc_term(fp, ob->reqs[k]);
        }
        fputs(ob->nreqs == 0 ? " nothing\n  postfix: " : "\n  postfix: ", fp);
        report_esc_term(fp, ob->postfix != NULL ? ob->postfix
                                                : "(cannot be exported; the error is on stderr)");
        fputc('\n', fp);
        if (ob->postfix_enforce != NULL) {
            fputs("  postfix in enforce mode: ", fp);
            report_esc_term(fp, ob->postfix_enforce);
            fputc('\n', fp);
        }
    }
}

int
report_text(FILE *fp, const struct report_view *v)
{
    const struct report_agg *a = v->agg;
    const struct report_counts *t = &a->total;
    size_t i;

    fputs("TLS compliance report\n", fp);
    fprintf(fp, "input: %llu lines, %llu messages, %llu filtered out, %llu link lines, "
            "%llu malformed, %llu bad files\n", (unsigned long long)a->lines,
            (unsigned long long)t->msgs, (unsigned long long)a->filtered,
            (unsigned long long)a->links, (unsigned long long)a->malformed,
            (unsigned long long)a->bad_files);
    if (v->since != NULL || v->until != NULL) {
        fputs("period: ", fp);
        report_esc_term(fp, v->since != NULL ? v->since : "start");
        fputs(" .. ", fp);
        report_esc_term(fp, v->until != NULL ? v->until : "end");
        fputc('\n', fp);
    }
    fputs("overall: over TLS ", fp);
    report_text_pct(fp, report_pct(t->msgs - t->tls[RT_PLAIN], t->msgs));
    fputs(", TLS 1.2 or later ", fp);
    report_text_pct(fp, report_pct(t->tls[RT_12] + t->tls[RT_13], t->msgs));
    fputs(", verified certificate ", fp);
    report_text_pct(fp, report_pct(t->verified, t->msgs));
    fputs("\n\n", fp);
    fprintf(fp, "%-32s %9s %9s %9s %9s %9s %10s\n", "CONNECTOR (worst first)", "MESSAGES", "PASS",
            "FAIL", "NONE", "ERROR", "COMPLIANCE");
    for (i = 0; i < v->nconn; i++) {
        const struct report_counts *c = &v->conn[i]->total;
        double r = report_compliance(c);

        /* Escaped first, then padded, so control bytes cannot shift the columns; a
         * name too long for its column gets a line of its own. */
        char *esc = NULL;
        size_t esclen = 0;
        FILE *m = open_memstream(&esc, &esclen);

        if (m == NULL)
            return -1;
        report_esc_term(m, v->conn[i]->name);
        if (fclose(m) != 0) {
            free(esc);
            return -1;
        }
        fprintf(fp, esclen <= 32 ? "%-32s" : "%s\n%32s", esc, "");
        free(esc);
        fprintf(fp, " %9llu %9llu %9llu %9llu %9llu     ",
                (unsigned long long)c->msgs, (unsigned long long)c->verdict[RV_PASS],
                (unsigned long long)c->verdict[RV_FAIL], (unsigned long long)c->verdict[RV_NONE],
                (unsigned long long)(c->verdict[RV_ERROR] + c->verdict[RV_OTHER]));
        report_text_pct(fp, r < 0 ? -1 : 100 * r);
        fputc('\n', fp);
    }
    if (v->config != NULL)
        report_text_outbound(fp, v);
    for (i = 0; i < v->nconn; i++)
        report_text_conn(fp, v->conn[i]);
    if (a->malformed > 0 || a->bad_files > 0)
        fputs("\nbad input:\n", fp);
    for (i = 0; i < a->nfile_errors; i++) {
        fputs("  ", fp);
        report_esc_term(fp, a->file_errors[i]);
        fputc('\n', fp);
    }
    for (i = 0; i < a->nbad; i++) {
        fputs("  ", fp);
        report_esc_term(fp, a->bad[i].file);
        fprintf(fp, ":%llu: ", (unsigned long long)a->bad[i].line);
        report_esc_term(fp, a->bad[i].why);
        fputc('\n', fp);
    }
    if (a->malformed > a->nbad)
        fprintf(fp, "  ... %llu more malformed line(s)\n",
                (unsigned long long)(a->malformed - a->nbad));
    if (a->future_schema > 0)
        fprintf(fp, "\nwarning: %llu line(s) of schema up to %lld (this reader knows %d); "
                "fields it does not know were ignored\n", (unsigned long long)a->future_schema,
                a->max_schema, REPORT_SCHEMA);
    if (a->caps_hit)
        fputs("\nwarning: a cap was hit (connectors, days, names or reasons); see tlspolicy(1)\n",
              fp);
    return 0;
}

int
report_csv(FILE *fp, const struct report_view *v)
{
    size_t i, d, k;

    fputs("date,connector,messages,recipients,pass,fail,none,error,other,compliance,"
          "reject,tempfail,quarantine,tag,accept,other_action,monitor,"
          "plaintext,tls1_0,tls1_1,tls1_2,tls1_3,tls_other,forward_secrecy,verified,"
          "bits_lt128,bits_128,bits_256,bits_unknown\r\n", fp);
    for (i = 0; i < v->nconn; i++) {
        const struct report_conn *c = v->conn[i];

        for (d = 0; d < c->ndays; d++) {
            const struct report_counts *t = &c->days[d].c;
            double r = report_compliance(t);
            char day[11];

            report_day_format(c->days[d].day, day);
            fprintf(fp, "%s,", day);
            report_esc_csv(fp, c->name);
            fprintf(fp, ",%llu,%llu", (unsigned long long)t->msgs, (unsigned long long)t->rcpts);
            for (k = 0; k < RV_N; k++)
                fprintf(fp, ",%llu", (unsigned long long)t->verdict[k]);
            if (r < 0)
                fputs(",", fp);
            else
                fprintf(fp, ",%.4f", r);
            for (k = RA_N; k-- > 0;)
                if (k != RA_OTHER)
                    fprintf(fp, ",%llu", (unsigned long long)t->action[k]);
            fprintf(fp, ",%llu,%llu", (unsigned long long)t->action[RA_OTHER],
                    (unsigned long long)t->monitor);
            for (k = 0; k < RT_N; k++)
                fprintf(fp, ",%llu", (unsigned long long)t->tls[k]);
            fprintf(fp, ",%llu,%llu", (unsigned long long)t->fs, (unsigned long long)t->verified);
            for (k = 0; k < RB_N; k++)
                fprintf(fp, ",%llu", (unsigned long long)t->bits[k]);
            fputs("\r\n", fp);
        }
    }
    return 0;
}
