/*
 * report_parse.c -- one posture JSON line into a report_rec, and the UTC dates and
 * times of the report (record times, --since, --until).
 * The only file that includes jansson.h: JSON is parsed by the library, never by
 * hand. Never: prints, or keeps a record past the next line.
 * Diagnostics: a line that is not a JSON object, or has no valid "time", is
 * malformed, with the reason written for the caller to report with file:line.
 */
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "report.h"

struct report_parser {
    json_t     *root;           /* the last line's document, kept for rec's strings */
};

const char *const report_verdict_names[RV_N] = { "pass", "fail", "none", "error", "other" };
const char *const report_action_names[RA_N] = {
    "accept", "tag", "quarantine", "tempfail", "reject", "other"
};
const char *const report_tls_names[RT_N] = {
    "plaintext", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3", "other"
};

struct report_parser *
report_parser_new(void)
{
    return calloc(1, sizeof(struct report_parser));
}

void
report_parser_free(struct report_parser *p)
{
    if (p == NULL)
        return;
    json_decref(p->root);
    free(p);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's method). */
static long long
report_days_from_civil(long long y, unsigned m, unsigned d)
{
    long long era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (long long)doe - 719468;
}

long long
report_day_of(long long t)
{
    return t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

void
report_day_format(long long day, char buf[static 11])
{
    long long z = day + 719468, era = (z >= 0 ? z : z - 146096) / 146097, y;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;

    y = (long long)yoe + era * 400 + (m <= 2);
    if (y < 0 || y > 9999)
        y = 0;
    snprintf(buf, 11, "%04lld-%02u-%02u", y, m % 100, d % 100);
}

void
report_time_format(long long t, char buf[static 21])
{
    long long day = report_day_of(t);
    unsigned s = (unsigned)(t - day * 86400) % 86400;

    report_day_format(day, buf);
    snprintf(buf + 10, 11, "T%02u:%02u:%02uZ", s / 3600 % 24, s / 60 % 60, s % 60);
}

/* n digits at s, or -1. */
static long
report_digits(const char *s, int n)
{
    long v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int
report_parse_time(const char *s, long long *out, bool *date_only)
{
    long y = report_digits(s, 4), mo, d, h = 0, mi = 0, sec = 0;
    size_t n = strlen(s);

    if (n < 10 || y < 0 || s[4] != '-' || s[7] != '-')
        return -1;
    mo = report_digits(s + 5, 2);
    d = report_digits(s + 8, 2);
    if (mo < 1 || mo > 12 || d < 1 || d > 31)
        return -1;
    *date_only = n == 10;
    if (n > 10) {
        if ((s[10] != 'T' && s[10] != ' ') || n < 16 || s[13] != ':')
            return -1;
        h = report_digits(s + 11, 2);
        mi = report_digits(s + 14, 2);
        s += 16;
        if (*s == ':') {
            sec = report_digits(s + 1, 2);
            s += 3;
        }
        if (*s == 'Z')
            s++;
        if (*s != '\0' || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60)
            return -1;
    }
    *out = report_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60
           + sec;
    return 0;
}

static const char *
report_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int
report_index(const char *s, const char *const *names, int n, int other)
{
    int i;

    if (s == NULL)
        return other;
    for (i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return other;
}

static enum report_tls
report_tls_of(const char *v)
{
    if (v == NULL)
        return RT_PLAIN;
    /* Postfix says TLSv1.3, Sendmail TLSv1.3 too; "TLSv1" is 1.0. */
    if (strcmp(v, "TLSv1.3") == 0)
        return RT_13;
    if (strcmp(v, "TLSv1.2") == 0)
        return RT_12;
    if (strcmp(v, "TLSv1.1") == 0)
        return RT_11;
    if (strcmp(v, "TLSv1") == 0 || strcmp(v, "TLSv1.0") == 0)
        return RT_10;
    return RT_OTHER;
}

static bool
report_yes(json_t *o, const char *key)
{
    const char *v = report_str(o, key);

    return v != NULL && strcmp(v, "yes") == 0;
}

enum report_parse_rc
report_parse_line(struct report_parser *p, const char *line, size_t len, struct report_rec *rec,
                  char *why, size_t whylen)
{
    json_error_t e;
    json_t *o, *v, *reasons;
    const char *s;
    bool date_only;
    size_t i;

    json_decref(p->root);
    p->root = o = json_loadb(line, len, 0, &e);
    if (o == NULL) {
        snprintf(why, whylen, "not JSON (column %d: %s)", e.column, e.text);
        return RP_MALFORMED;
    }
    if (!json_is_object(o)) {
        snprintf(why, whylen, "expected a JSON object");
        return RP_MALFORMED;
    }
    memset(rec, 0, sizeof *rec);
    v = json_object_get(o, "schema");
    rec->schema = v == NULL ? 1 : json_is_integer(v) ? (long long)json_integer_value(v) : -1;
    if (rec->schema < 1) {
        snprintf(why, whylen, "\"schema\" is not a positive integer");
        return RP_MALFORMED;
    }
    s = report_str(o, "type");
    if (s != NULL && strcmp(s, "link") == 0)
        return RP_LINK;
    s = report_str(o, "time");
    if (s == NULL || strlen(s) != 20 || report_parse_time(s, &rec->time, &date_only) != 0) {
        snprintf(why, whylen, "expected \"time\" as YYYY-MM-DDTHH:MM:SSZ");
        return RP_MALFORMED;
    }
    rec->queue_id = report_str(o, "queue_id");
    rec->connector = report_str(o, "connector");
    rec->verdict = (enum report_verdict)report_index(report_str(o, "verdict"),
                                                     report_verdict_names, RV_OTHER, RV_OTHER);
    rec->action = (enum report_action)report_index(report_str(o, "action"),
                                                   report_action_names, RA_OTHER, RA_OTHER);
    s = report_str(o, "mode");
    rec->monitor = s != NULL && strcmp(s, "monitor") == 0;
    v = json_object_get(o, "rcpts");
    rec->rcpts = json_is_integer(v) && json_integer_value(v) > 0
                 ? (uint64_t)json_integer_value(v) : 0;
    rec->tls = report_tls_of(report_str(o, "tls"));
    v = json_object_get(o, "bits");
    rec->bits = json_is_integer(v) ? (long long)json_integer_value(v) : -1;
    rec->fs = report_yes(o, "fs");
    rec->verified = report_yes(o, "verified");
    rec->cert = report_str(o, "cert");
    rec->issuer = report_str(o, "issuer");
    rec->root = report_str(o, "root");
    rec->host = report_str(o, "host");
    rec->policy = report_str(o, "policy");
    reasons = json_object_get(o, "reasons");
    for (i = 0; json_is_array(reasons) && i < json_array_size(reasons)
                && rec->nreasons < REPORT_MAX_REASONS; i++) {
        s = json_string_value(json_array_get(reasons, i));
        if (s != NULL)
            rec->reasons[rec->nreasons++] = s;
    }
    return RP_MESSAGE;
}
