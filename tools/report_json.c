/*
 * report_json.c -- the report as one JSON document (json_write): the overall
 * figures, then per connector its totals, days, names, changes, downgrades and
 * reasons, then the bad input; with -c, the outbound contracts under "outbound".
 * Never: writes JSON by hand; every string goes through json_write.
 */
#include <stdio.h>

#include "json_write.h"
#include "report.h"

static void
report_json_counts(struct json_write *j, const struct report_counts *c)
{
    size_t k;
    double r = report_compliance(c);

    json_write_kv_int(j, "messages", (long long)c->msgs);
    json_write_kv_int(j, "recipients", (long long)c->rcpts);
    for (k = 0; k < RV_N; k++)
        json_write_kv_int(j, report_verdict_names[k], (long long)c->verdict[k]);
    /* json_write writes integers only: the rate as parts per million, null for 0/0. */
    json_write_key(j, "compliance_ppm");
    if (r < 0)
        json_write_null(j);
    else
        json_write_int(j, (long long)(r * 1e6 + 0.5));
    json_write_key(j, "actions");
    json_write_object_begin(j);
    for (k = 0; k < RA_N; k++)
        json_write_kv_int(j, report_action_names[k], (long long)c->action[k]);
    json_write_kv_int(j, "monitor", (long long)c->monitor);
    json_write_object_end(j);
    json_write_key(j, "tls");
    json_write_object_begin(j);
    for (k = 0; k < RT_N; k++)
        json_write_kv_int(j, report_tls_names[k], (long long)c->tls[k]);
    json_write_object_end(j);
    json_write_kv_int(j, "forward_secrecy", (long long)c->fs);
    json_write_kv_int(j, "verified", (long long)c->verified);
    json_write_key(j, "bits");
    json_write_object_begin(j);
    for (k = 0; k < RB_N; k++)
        json_write_kv_int(j, report_bits_names[k], (long long)c->bits[k]);
    json_write_object_end(j);
}

static void
report_json_time(struct json_write *j, const char *key, long long t)
{
    char buf[21];

    report_time_format(t, buf);
    json_write_kv_string(j, key, buf);
}

static void
report_json_downgrade(void *arg, long long first13, const struct report_day *d)
{
    struct json_write *j = arg;
    char buf[11];

    json_write_object_begin(j);
    report_day_format(d->day, buf);
    json_write_kv_string(j, "date", buf);
    report_day_format(first13, buf);
    json_write_kv_string(j, "tls13_since", buf);
    json_write_kv_int(j, "tls1_2", (long long)d->c.tls[RT_12]);
    json_write_kv_int(j, "older_tls", (long long)(d->c.tls[RT_10] + d->c.tls[RT_11]));
    json_write_kv_int(j, "plaintext", (long long)d->c.tls[RT_PLAIN]);
    json_write_object_end(j);
}

static void
report_json_change(void *arg, const char *day, const char *kind, const char *name)
{
    struct json_write *j = arg;

    json_write_object_begin(j);
    json_write_kv_string(j, "date", day);
    json_write_kv_string(j, "kind", kind);
    json_write_kv_string(j, "name", name);
    json_write_object_end(j);
}

static void
report_json_conn(struct json_write *j, const struct report_conn *c)
{
    const struct report_reason *rs[REPORT_MAX_REASONS];
    size_t i, k, n, e;
    char day[11];

    json_write_object_begin(j);
    json_write_kv_string(j, "connector", c->name);
    report_json_time(j, "first", c->first);
    report_json_time(j, "last", c->last);
    report_json_counts(j, &c->total);
    for (k = 0; k < RN_N; k++) {
        json_write_key(j, k == RN_CERT ? "certs" : k == RN_ISSUER ? "issuers" : k == RN_ROOT
                     ? "roots" : k == RN_HOST ? "hosts" : "policies");
        json_write_array_begin(j);
        for (i = 0; i < c->names[k].n; i++) {
            json_write_object_begin(j);
            json_write_kv_string(j, "name", c->names[k].v[i].name);
            json_write_kv_int(j, "count", (long long)c->names[k].v[i].count);
            report_json_time(j, "first", c->names[k].v[i].first);
            report_json_time(j, "last", c->names[k].v[i].last);
            json_write_object_end(j);
        }
        json_write_array_end(j);
    }
    json_write_key(j, "changes");
    json_write_array_begin(j);
    report_changes(c, report_json_change, j);
    json_write_array_end(j);
    json_write_key(j, "downgrades");
    json_write_array_begin(j);
    report_downgrades(c, report_json_downgrade, j);
    json_write_array_end(j);
    json_write_key(j, "reasons");
    json_write_array_begin(j);
    n = report_reasons_sorted(c, rs);
    for (i = 0; i < n; i++) {
        json_write_object_begin(j);
        json_write_kv_string(j, "reason", rs[i]->text);
        json_write_kv_int(j, "count", (long long)rs[i]->count);
        json_write_key(j, "examples");
        json_write_array_begin(j);
        for (e = 0; e < rs[i]->nexample; e++)
            json_write_string(j, rs[i]->example[e]);
        json_write_array_end(j);
        json_write_object_end(j);
    }
    json_write_array_end(j);
    json_write_kv_int(j, "reasons_dropped", (long long)c->reasons_dropped);
    json_write_kv_int(j, "timeline_dropped", (long long)c->days_dropped);
    json_write_key(j, "days");
    json_write_array_begin(j);
    for (i = 0; i < c->ndays; i++) {
        json_write_object_begin(j);
        report_day_format(c->days[i].day, day);
        json_write_kv_string(j, "date", day);
        report_json_counts(j, &c->days[i].c);
        json_write_object_end(j);
    }
    json_write_array_end(j);
    json_write_object_end(j);
}

/* "outbound": the contracts of -c FILE, the same fields as the text form. */
static void
report_json_outbound(struct json_write *j, const struct report_view *v)
{
    json_write_key(j, "outbound");
    json_write_object_begin(j);
    json_write_kv_string(j, "config", v->config);
    json_write_kv_string(j, "sha256", v->config_sha256);
    json_write_key(j, "connectors");
    json_write_array_begin(j);
    for (size_t i = 0; i < v->noutbound; i++) {
        const struct report_outbound *ob = &v->outbound[i];
        const struct outbound_connector *c = ob->c;
        size_t k;

        json_write_object_begin(j);
        json_write_kv_string(j, "name", c->name);
        json_write_kv_string(j, "mode", policy_mode_name(c->mode));
        json_write_key(j, "domains");
        json_write_array_begin(j);
        for (k = 0; k < c->ndomains; k++)
            json_write_string(j, c->domains[k].pattern);
        json_write_array_end(j);
        json_write_key(j, "smart_hosts");
        json_write_array_begin(j);
        for (k = 0; k < c->nhosts; k++)
            json_write_string(j, c->hosts[k].text);
        json_write_array_end(j);
        json_write_key(j, "requires");
        json_write_array_begin(j);
        for (k = 0; k < ob->nreqs; k++)
            json_write_string(j, ob->reqs[k]);
        json_write_array_end(j);
        json_write_kv_string(j, "postfix", ob->postfix);
        json_write_kv_string(j, "postfix_enforce", ob->postfix_enforce);
        json_write_object_end(j);
    }
    json_write_array_end(j);
    json_write_object_end(j);
}

int
report_json(FILE *fp, const struct report_view *v)
{
    const struct report_agg *a = v->agg;
    struct json_write j;
    const char *doc;
    size_t i, len;

    json_write_init(&j);
    json_write_object_begin(&j);
    json_write_kv_int(&j, "report_schema", 1);
    json_write_kv_string(&j, "since", v->since);
    json_write_kv_string(&j, "until", v->until);
    json_write_key(&j, "input");
    json_write_object_begin(&j);
    json_write_kv_int(&j, "lines", (long long)a->lines);
    json_write_kv_int(&j, "filtered", (long long)a->filtered);
    json_write_kv_int(&j, "links", (long long)a->links);
    json_write_kv_int(&j, "malformed", (long long)a->malformed);
    json_write_kv_int(&j, "bad_files", (long long)a->bad_files);
    json_write_kv_int(&j, "future_schema", (long long)a->future_schema);
    json_write_kv_bool(&j, "caps_hit", a->caps_hit);
    json_write_key(&j, "malformed_lines");
    json_write_array_begin(&j);
    for (i = 0; i < a->nbad; i++) {
        json_write_object_begin(&j);
        json_write_kv_string(&j, "file", a->bad[i].file);
        json_write_kv_int(&j, "line", (long long)a->bad[i].line);
        json_write_kv_string(&j, "why", a->bad[i].why);
        json_write_object_end(&j);
    }
    json_write_array_end(&j);
    json_write_key(&j, "file_errors");
    json_write_array_begin(&j);
    for (i = 0; i < a->nfile_errors; i++)
        json_write_string(&j, a->file_errors[i]);
    json_write_array_end(&j);
    json_write_object_end(&j);
    json_write_key(&j, "overall");
    json_write_object_begin(&j);
    report_json_counts(&j, &a->total);
    json_write_object_end(&j);
    json_write_key(&j, "connectors");
    json_write_array_begin(&j);
    for (i = 0; i < v->nconn; i++)
        report_json_conn(&j, v->conn[i]);
    json_write_array_end(&j);
    if (v->config != NULL)
        report_json_outbound(&j, v);
    json_write_object_end(&j);
    doc = json_write_finish(&j, &len);
    if (doc == NULL) {
        json_write_free(&j);
        return -1;
    }
    fwrite(doc, 1, len, fp);
    fputc('\n', fp);
    json_write_free(&j);
    return 0;
}
