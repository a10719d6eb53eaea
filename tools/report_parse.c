/*
 * report_parse.c -- one posture JSON line into a report_rec, and the UTC dates and
 * times of the report (record times, --since, --until).
 * The only file that includes yajl: JSON is parsed (and its UTF-8 checked) by the
 * library, never by hand. yajl is event-driven, so the per-recipient array that
 * makes up most of a line is read without building anything: that is what keeps a
 * gigabyte of log inside the benchmark's time (jansson built a tree per line and
 * ran at jq's speed). Never: prints, or keeps a record past the next line.
 * Diagnostics: a line that is not a JSON object, or has no valid "time", is
 * malformed, with the reason written for the caller to report with file:line.
 */
#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "report.h"

/* The top-level keys the report reads; everything else is skipped. */
enum report_key {
    K_NONE, K_SCHEMA, K_TYPE, K_TIME, K_QUEUE_ID, K_CONNECTOR, K_VERDICT, K_ACTION, K_MODE,
    K_RCPTS, K_TLS, K_BITS, K_FS, K_CERT, K_ISSUER, K_ROOT, K_VERIFIED, K_HOST, K_POLICY,
    K_REASONS, K_N
};

static const char *const report_keys[K_N] = {
    [K_SCHEMA] = "schema", [K_TYPE] = "type", [K_TIME] = "time", [K_QUEUE_ID] = "queue_id",
    [K_CONNECTOR] = "connector", [K_VERDICT] = "verdict", [K_ACTION] = "action",
    [K_MODE] = "mode", [K_RCPTS] = "rcpts", [K_TLS] = "tls", [K_BITS] = "bits", [K_FS] = "fs",
    [K_CERT] = "cert", [K_ISSUER] = "issuer", [K_ROOT] = "root", [K_VERIFIED] = "verified",
    [K_HOST] = "host", [K_POLICY] = "policy", [K_REASONS] = "reasons",
};

static size_t report_key_len[K_N];

struct report_parser {
    char       *arena;          /* copies of the strings of the current line */
    size_t      used, cap;
    unsigned    depth;          /* 1: inside the top-level object */
    bool        toplevel_map;   /* the line's value is an object */
    enum report_key key;        /* the depth-1 key whose value comes next */
    const char *str[K_N];       /* depth-1 string values (NULL: absent or null) */
    bool        is_int[K_N];
    long long   num[K_N];       /* depth-1 integer values */
    bool        present[K_N];
    struct report_rec *rec;
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
    struct report_parser *p = calloc(1, sizeof *p);
    int i;

    for (i = 1; i < K_N; i++)
        report_key_len[i] = strlen(report_keys[i]);

    if (p != NULL && (p->arena = malloc(p->cap = 4096)) == NULL) {
        free(p);
        p = NULL;
    }
    return p;
}

void
report_parser_free(struct report_parser *p)
{
    if (p == NULL)
        return;
    free(p->arena);
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

/* Copy a string of the line into the arena (sized to the line: no copy is longer
 * than its quoted form, quotes included). */
static const char *
report_arena(struct report_parser *p, const unsigned char *s, size_t n)
{
    char *d;

    if (p->used + n + 1 > p->cap)
        return NULL;
    d = p->arena + p->used;
    memcpy(d, s, n);
    d[n] = '\0';
    p->used += n + 1;
    return d;
}

static int
report_cb_string(void *ctx, const unsigned char *s, size_t n)
{
    struct report_parser *p = ctx;
    const char *c;

    if (p->depth == 1 && p->key != K_NONE) {
        if ((c = report_arena(p, s, n)) == NULL)
            return 0;
        p->str[p->key] = c;
        p->present[p->key] = true;
    } else if (p->depth == 2 && p->key == K_REASONS && p->rec->nreasons < REPORT_MAX_REASONS) {
        if ((c = report_arena(p, s, n)) == NULL)
            return 0;
        p->rec->reasons[p->rec->nreasons++] = c;
    }
    return 1;
}

static int
report_cb_integer(void *ctx, long long v)
{
    struct report_parser *p = ctx;

    if (p->depth == 1 && p->key != K_NONE) {
        p->num[p->key] = v;
        p->is_int[p->key] = true;
        p->present[p->key] = true;
    }
    return 1;
}

/* null, booleans and fractions: present, but neither a string nor an integer. */
static int
report_cb_other(void *ctx)
{
    struct report_parser *p = ctx;

    if (p->depth == 1 && p->key != K_NONE)
        p->present[p->key] = true;
    return 1;
}

static int
report_cb_bool(void *ctx, int v)
{
    (void)v;
    return report_cb_other(ctx);
}

static int
report_cb_double(void *ctx, double v)
{
    (void)v;
    return report_cb_other(ctx);
}

static int
report_cb_key(void *ctx, const unsigned char *k, size_t n)
{
    struct report_parser *p = ctx;
    int i;

    if (p->depth != 1)
        return 1;
    p->key = K_NONE;
    for (i = 1; i < K_N; i++)
        if (report_key_len[i] == n && report_keys[i][0] == k[0]
            && memcmp(report_keys[i], k, n) == 0) {
            p->key = (enum report_key)i;
            break;
        }
    return 1;
}

static int
report_cb_start(void *ctx, bool map)
{
    struct report_parser *p = ctx;

    if (p->depth == 0 && map)
        p->toplevel_map = true;
    if (p->depth == 1 && p->key != K_NONE)
        p->present[p->key] = true;
    /* Deeper than the daemon ever writes: refuse rather than recurse without end. */
    if (++p->depth > 64)
        return 0;
    return 1;
}

static int
report_cb_start_map(void *ctx)
{
    return report_cb_start(ctx, true);
}

static int
report_cb_start_array(void *ctx)
{
    return report_cb_start(ctx, false);
}

static int
report_cb_end(void *ctx)
{
    struct report_parser *p = ctx;

    p->depth--;
    return 1;
}

static const yajl_callbacks report_callbacks = {
    .yajl_null = report_cb_other,
    .yajl_boolean = report_cb_bool,
    .yajl_integer = report_cb_integer,
    .yajl_double = report_cb_double,
    .yajl_string = report_cb_string,
    .yajl_start_map = report_cb_start_map,
    .yajl_map_key = report_cb_key,
    .yajl_end_map = report_cb_end,
    .yajl_start_array = report_cb_start_array,
    .yajl_end_array = report_cb_end,
};

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
    /* Postfix and Sendmail both say TLSv1.3; "TLSv1" is 1.0. */
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
report_yes(const char *v)
{
    return v != NULL && strcmp(v, "yes") == 0;
}

/* Run yajl over the line; false with why filled when it is not one JSON value. */
static bool
report_yajl(struct report_parser *p, const char *line, size_t len, char *why, size_t whylen)
{
    yajl_handle h;
    yajl_status st;
    unsigned char *msg;
    bool ok;

    if ((h = yajl_alloc(&report_callbacks, NULL, p)) == NULL) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    /* Bytes outside UTF-8 (a certificate name can carry anything) do not make the
     * line unreadable: every output escapes them, and not checking saves a pass. */
    yajl_config(h, yajl_dont_validate_strings, 1);
    st = yajl_parse(h, (const unsigned char *)line, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(h);
    ok = st == yajl_status_ok;
    if (!ok) {
        msg = yajl_get_error(h, 0, (const unsigned char *)line, len);
        snprintf(why, whylen, "not JSON (%s)", msg != NULL ? (const char *)msg : "parse error");
        /* yajl's message may end in a newline: keep the reason on one line. */
        why[strcspn(why, "\n")] = '\0';
        if (msg != NULL)
            yajl_free_error(h, msg);
    }
    yajl_free(h);
    return ok;
}

enum report_parse_rc
report_parse_line(struct report_parser *p, const char *line, size_t len, struct report_rec *rec,
                  char *why, size_t whylen)
{
    bool date_only;

    if (len + 1 > p->cap) {
        char *a = realloc(p->arena, len + 1);

        if (a == NULL) {
            snprintf(why, whylen, "out of memory");
            return RP_MALFORMED;
        }
        p->arena = a;
        p->cap = len + 1;
    }
    p->used = 0;
    p->depth = 0;
    p->toplevel_map = false;
    p->key = K_NONE;
    memset(p->str, 0, sizeof p->str);
    memset(p->is_int, 0, sizeof p->is_int);
    memset(p->present, 0, sizeof p->present);
    memset(rec, 0, sizeof *rec);
    p->rec = rec;
    if (!report_yajl(p, line, len, why, whylen))
        return RP_MALFORMED;
    if (!p->toplevel_map) {
        snprintf(why, whylen, "expected a JSON object");
        return RP_MALFORMED;
    }
    rec->schema = !p->present[K_SCHEMA] ? 1 : p->is_int[K_SCHEMA] ? p->num[K_SCHEMA] : -1;
    if (rec->schema < 1) {
        snprintf(why, whylen, "\"schema\" is not a positive integer");
        return RP_MALFORMED;
    }
    if (p->str[K_TYPE] != NULL && strcmp(p->str[K_TYPE], "link") == 0)
        return RP_LINK;
    if (p->str[K_TIME] == NULL || strlen(p->str[K_TIME]) != 20
        || report_parse_time(p->str[K_TIME], &rec->time, &date_only) != 0) {
        snprintf(why, whylen, "expected \"time\" as YYYY-MM-DDTHH:MM:SSZ");
        return RP_MALFORMED;
    }
    rec->queue_id = p->str[K_QUEUE_ID];
    rec->connector = p->str[K_CONNECTOR];
    rec->verdict = (enum report_verdict)report_index(p->str[K_VERDICT], report_verdict_names,
                                                     RV_OTHER, RV_OTHER);
    rec->action = (enum report_action)report_index(p->str[K_ACTION], report_action_names,
                                                   RA_OTHER, RA_OTHER);
    rec->monitor = p->str[K_MODE] != NULL && strcmp(p->str[K_MODE], "monitor") == 0;
    rec->rcpts = p->is_int[K_RCPTS] && p->num[K_RCPTS] > 0 ? (uint64_t)p->num[K_RCPTS] : 0;
    rec->tls = report_tls_of(p->str[K_TLS]);
    rec->bits = p->is_int[K_BITS] ? p->num[K_BITS] : -1;
    rec->fs = report_yes(p->str[K_FS]);
    rec->verified = report_yes(p->str[K_VERIFIED]);
    rec->cert = p->str[K_CERT];
    rec->issuer = p->str[K_ISSUER];
    rec->root = p->str[K_ROOT];
    rec->host = p->str[K_HOST];
    rec->policy = p->str[K_POLICY];
    return RP_MESSAGE;
}
