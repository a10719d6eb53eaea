/*
 * report_json.c -- the report as one JSON document (json_out): the overall
 * figures, then per connector its totals, days, names, changes, downgrades and
 * reasons, then the bad input.
 * Never: writes JSON by hand; every string goes through json_out.
 */
#include <stdio.h>

#include "json_out.h"
#include "report.h"

static void
report_json_counts(struct json_out *j, const struct report_counts *c)
{
    size_t k;
    double r = report_compliance(c);

    json_out_kv_int(j, "messages", (long long)c->msgs);
    json_out_kv_int(j, "recipients", (long long)c->rcpts);
    for (k = 0; k < RV_N; k++)
        json_out_kv_int(j, report_verdict_names[k], (long long)c->verdict[k]);
    /* json_out writes integers only: the rate as parts per million, null for 0/0. */
    json_out_key(j, "compliance_ppm");
    if (r < 0)
        json_out_null(j);
    else
        json_out_int(j, (long long)(r * 1e6 + 0.5));
    json_out_key(j, "actions");
    json_out_object_begin(j);
    for (k = 0; k < RA_N; k++)
        json_out_kv_int(j, report_action_names[k], (long long)c->action[k]);
    json_out_kv_int(j, "monitor", (long long)c->monitor);
    json_out_object_end(j);
    json_out_key(j, "tls");
    json_out_object_begin(j);
    for (k = 0; k < RT_N; k++)
        json_out_kv_int(j, report_tls_names[k], (long long)c->tls[k]);
    json_out_object_end(j);
    json_out_kv_int(j, "forward_secrecy", (long long)c->fs);
    json_out_kv_int(j, "verified", (long long)c->verified);
    json_out_key(j, "bits");
    json_out_object_begin(j);
    for (k = 0; k < RB_N; k++)
        json_out_kv_int(j, report_bits_names[k], (long long)c->bits[k]);
    json_out_object_end(j);
}

static void
report_json_time(struct json_out *j, const char *key, long long t)
{
    char buf[21];

    report_time_format(t, buf);
    json_out_kv_string(j, key, buf);
}

static void
report_json_downgrade(void *arg, long long first13, const struct report_day *d)
{
    struct json_out *j = arg;
    char buf[11];

    json_out_object_begin(j);
    report_day_format(d->day, buf);
    json_out_kv_string(j, "date", buf);
    report_day_format(first13, buf);
    json_out_kv_string(j, "tls13_since", buf);
    json_out_kv_int(j, "tls1_2", (long long)d->c.tls[RT_12]);
    json_out_kv_int(j, "older_tls", (long long)(d->c.tls[RT_10] + d->c.tls[RT_11]));
    json_out_kv_int(j, "plaintext", (long long)d->c.tls[RT_PLAIN]);
    json_out_object_end(j);
}

static void
report_json_change(void *arg, const char *day, const char *kind, const char *name)
{
    struct json_out *j = arg;

    json_out_object_begin(j);
    json_out_kv_string(j, "date", day);
    json_out_kv_string(j, "kind", kind);
    json_out_kv_string(j, "name", name);
    json_out_object_end(j);
}

static void
report_json_conn(struct json_out *j, const struct report_conn *c)
{
    const struct report_reason *rs[REPORT_MAX_REASONS];
    size_t i, k, n, e;
    char day[11];

    json_out_object_begin(j);
    json_out_kv_string(j, "connector", c->name);
    report_json_time(j, "first", c->first);
    report_json_time(j, "last", c->last);
    report_json_counts(j, &c->total);
    for (k = 0; k < RN_N; k++) {
        json_out_key(j, k == RN_CERT ? "certs" : k == RN_ISSUER ? "issuers" : k == RN_ROOT
                     ? "roots" : k == RN_HOST ? "hosts" : "policies");
        json_out_array_begin(j);
        for (i = 0; i < c->names[k].n; i++) {
            json_out_object_begin(j);
            json_out_kv_string(j, "name", c->names[k].v[i].name);
            json_out_kv_int(j, "count", (long long)c->names[k].v[i].count);
            report_json_time(j, "first", c->names[k].v[i].first);
            report_json_time(j, "last", c->names[k].v[i].last);
            json_out_object_end(j);
        }
        json_out_array_end(j);
    }
    json_out_key(j, "changes");
    json_out_array_begin(j);
    report_changes(c, report_json_change, j);
    json_out_array_end(j);
    json_out_key(j, "downgrades");
    json_out_array_begin(j);
    report_downgrades(c, report_json_downgrade, j);
    json_out_array_end(j);
    json_out_key(j, "reasons");
    json_out_array_begin(j);
    n = report_reasons_sorted(c, rs);
    for (i = 0; i < n; i++) {
        json_out_object_begin(j);
        json_out_kv_string(j, "reason", rs[i]->text);
        json_out_kv_int(j, "count", (long long)rs[i]->count);
        json_out_key(j, "examples");
        json_out_array_begin(j);
        for (e = 0; e < rs[i]->nexample; e++)
            json_out_string(j, rs[i]->example[e]);
        json_out_array_end(j);
        json_out_object_end(j);
    }
    json_out_array_end(j);
    json_out_kv_int(j, "reasons_dropped", (long long)c->reasons_dropped);
    json_out_kv_int(j, "timeline_dropped", (long long)c->days_dropped);
    json_out_key(j, "days");
    json_out_array_begin(j);
    for (i = 0; i < c->ndays; i++) {
        json_out_object_begin(j);
        report_day_format(c->days[i].day, day);
        json_out_kv_string(j, "date", day);
        report_json_counts(j, &c->days[i].c);
        json_out_object_end(j);
    }
    json_out_array_end(j);
    json_out_object_end(j);
}

int
report_json(FILE *fp, const struct report_view *v)
{
    const struct report_agg *a = v->agg;
    struct json_out j;
    const char *doc;
    size_t i, len;

    json_out_init(&j);
    json_out_object_begin(&j);
    json_out_kv_int(&j, "report_schema", 1);
    json_out_kv_string(&j, "since", v->since);
    json_out_kv_string(&j, "until", v->until);
    json_out_key(&j, "input");
    json_out_object_begin(&j);
    json_out_kv_int(&j, "lines", (long long)a->lines);
    json_out_kv_int(&j, "filtered", (long long)a->filtered);
    json_out_kv_int(&j, "links", (long long)a->links);
    json_out_kv_int(&j, "malformed", (long long)a->malformed);
    json_out_kv_int(&j, "bad_files", (long long)a->bad_files);
    json_out_kv_int(&j, "future_schema", (long long)a->future_schema);
    json_out_kv_bool(&j, "caps_hit", a->caps_hit);
    json_out_key(&j, "malformed_lines");
    json_out_array_begin(&j);
    for (i = 0; i < a->nbad; i++) {
        json_out_object_begin(&j);
        json_out_kv_string(&j, "file", a->bad[i].file);
        json_out_kv_int(&j, "line", (long long)a->bad[i].line);
        json_out_kv_string(&j, "why", a->bad[i].why);
        json_out_object_end(&j);
    }
    json_out_array_end(&j);
    json_out_key(&j, "file_errors");
    json_out_array_begin(&j);
    for (i = 0; i < a->nfile_errors; i++)
        json_out_string(&j, a->file_errors[i]);
    json_out_array_end(&j);
    json_out_object_end(&j);
    json_out_key(&j, "overall");
    json_out_object_begin(&j);
    report_json_counts(&j, &a->total);
    json_out_object_end(&j);
    json_out_key(&j, "connectors");
    json_out_array_begin(&j);
    for (i = 0; i < v->nconn; i++)
        report_json_conn(&j, v->conn[i]);
    json_out_array_end(&j);
    json_out_object_end(&j);
    doc = json_out_finish(&j, &len);
    if (doc == NULL) {
        json_out_free(&j);
        return -1;
    }
    fwrite(doc, 1, len, fp);
    fputc('\n', fp);
    json_out_free(&j);
    return 0;
}
