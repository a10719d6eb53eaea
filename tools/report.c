/*
 * report.c -- "tlspolicy report": options, the loop over the input files, the
 * filters (--since, --until, --connector, --host, --policy), the outbound
 * contracts of the connectors file given with -c, then one formatter.
 * Never: stops at a bad line or a bad file (each is counted and named in the
 * report), or prints a byte from the input unescaped.
 * Exit: 0 report written from clean input; 1 report written, but some input was
 * malformed or unreadable; 2 usage error, a -c file that does not load, out of
 * memory, or output failed.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "report.h"
#include "strbuf.h"
#include "tls_facts.h"

enum { REPORT_EXIT_OK = 0, REPORT_EXIT_BADINPUT = 1, REPORT_EXIT_FAIL = 2 };
enum report_format { RF_TEXT, RF_CSV, RF_JSON, RF_HTML };

struct report_opts {
    enum report_format format;
    const char *since, *until;
    long long   from, to;       /* from <= time < to */
    const char *connector;
    const char *host;
    const char *policy;
    char       *config;         /* -c FILE (from argv): show its outbound contracts */
    char      **files;
    size_t      nfiles;
};

static void
report_usage(FILE *fp, const char *progname)
{
    fprintf(fp,
        "usage: %s report [--format text|csv|json|html] [--since TIME] [--until TIME]\n"
        "                 [--connector NAME] [--host NAME] [--policy HASH] [-c CONFIG]\n"
        "                 [FILE...]\n"
        "TIME: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z], UTC; --until DATE includes that day.\n"
        "FILE: a posture JSON log, plain or gzip; - or none reads stdin.\n",
        progname);
}

static int
report_usage_error(const char *progname, const char *what, const char *arg)
{
    fprintf(stderr, "%s report: %s", progname, what);
    if (arg != NULL) {
        fputs(": '", stderr);
        report_esc_term(stderr, arg);
        fputc('\'', stderr);
    }
    fputc('\n', stderr);
    report_usage(stderr, progname);
    return REPORT_EXIT_FAIL;
}

/* Returns 0, 1 when help was printed, or an exit status after a usage error. */
static int
report_args(const char *progname, int argc, char **argv, struct report_opts *o)
{
    int i;
    long long t;
    bool date_only;

    o->from = LLONG_MIN;
    o->to = LLONG_MAX;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *val = NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            report_usage(stdout, progname);
            return 1;
        }
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || strcmp(a, "-") == 0)
            break;
        if (strcmp(a, "--format") != 0 && strcmp(a, "--since") != 0 && strcmp(a, "--until") != 0
            && strcmp(a, "--connector") != 0 && strcmp(a, "--host") != 0
            && strcmp(a, "--policy") != 0 && strcmp(a, "-c") != 0
            && strcmp(a, "--config") != 0)
            return report_usage_error(progname, "unknown option", a);
        if (i + 1 >= argc)
            return report_usage_error(progname, "option needs a value", a);
        val = argv[++i];
        if (strcmp(a, "--format") == 0) {
            if (strcmp(val, "text") == 0)
                o->format = RF_TEXT;
            else if (strcmp(val, "csv") == 0)
                o->format = RF_CSV;
            else if (strcmp(val, "json") == 0)
                o->format = RF_JSON;
            else if (strcmp(val, "html") == 0)
                o->format = RF_HTML;
            else
                return report_usage_error(progname, "--format must be text, csv, json or html",
                                          val);
        } else if (strcmp(a, "--connector") == 0) {
            o->connector = val;
        } else if (strcmp(a, "--host") == 0) {
            o->host = val;
        } else if (strcmp(a, "--policy") == 0) {
            o->policy = val;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            o->config = argv[i];
        } else if (report_parse_time(val, &t, &date_only) != 0) {
            return report_usage_error(progname, "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]Z",
                                      val);
        } else if (strcmp(a, "--since") == 0) {
            o->since = val;
            o->from = t;
        } else {
            o->until = val;
            o->to = date_only ? t + 86400 : t + 1;
        }
    }
    o->files = argv + i;
    o->nfiles = (size_t)(argc - i);
    return 0;
}

/* --policy: the record holds a shortened hash ("sha256:" and 16 digits), an
 * admin may paste more of `sha256sum` or less: one must begin the other. */
static bool
report_policy_match(const char *want, const char *have)
{
    size_t n;

    if (have == NULL)
        return strcmp(want, "-") == 0;
    n = strlen(want) < strlen(have) ? strlen(want) : strlen(have);
    return n > 0 && strncmp(want, have, n) == 0;
}

static bool
report_keep(const struct report_opts *o, const struct report_rec *r)
{
    if (r->time < o->from || r->time >= o->to)
        return false;
    if (o->connector != NULL
        && strcmp(o->connector, r->connector != NULL ? r->connector : REPORT_DEFAULTS_NAME) != 0)
        return false;
    if (o->host != NULL && strcmp(o->host, r->host != NULL ? r->host : "-") != 0)
        return false;
    if (o->policy != NULL && !report_policy_match(o->policy, r->policy))
        return false;
    return true;
}

/* Read one file into the aggregate. -1 only when out of memory. */
static int
report_file(const char *progname, const char *path, const struct report_opts *o,
            struct report_parser *p, struct report_agg *a)
{
    char err[200], why[200];
    struct report_input *in;
    struct report_rec rec;
    const char *line, *name = strcmp(path, "-") == 0 ? "(stdin)" : path;
    uint64_t lineno;
    size_t len;
    bool huge;
    int rc = 0;

    if ((in = report_input_open(path, err, sizeof err)) == NULL)
        return report_agg_file_error(a, name, err);
    while (rc == 0 && (line = report_input_line(in, &len, &lineno, &huge)) != NULL) {
        a->lines++;
        if (huge) {
            snprintf(why, sizeof why, "line longer than %d bytes", REPORT_MAX_LINE);
            rc = report_agg_bad(a, name, lineno, why);
            continue;
        }
        switch (report_parse_line(p, line, len, &rec, why, sizeof why)) {
        case RP_MALFORMED:
            rc = report_agg_bad(a, name, lineno, why);
            break;
        case RP_LINK:
            a->links++;
            break;
        case RP_MESSAGE:
            if (rec.schema > REPORT_SCHEMA) {
                if (a->future_schema++ == 0) {
                    fprintf(stderr, "%s report: ", progname);
                    report_esc_term(stderr, name);
                    fprintf(stderr, ":%llu: schema %lld is newer than this reader (%d): "
                            "reporting the fields it knows\n",
                            (unsigned long long)lineno, rec.schema, REPORT_SCHEMA);
                }
                if (rec.schema > a->max_schema)
                    a->max_schema = rec.schema;
            }
            if (!report_keep(o, &rec))
                a->filtered++;
            else
                rc = report_agg_add(a, &rec);
            break;
        }
    }
    if (rc == 0 && report_input_error(in) != NULL)
        rc = report_agg_file_error(a, name, report_input_error(in));
    report_input_close(in);
    return rc;
}

/* Each requirement of c as "key: value", the order of milter-tlspolicy.yaml(5). */
static int
report_outbound_reqs(struct report_outbound *ob)
{
    const struct outbound_connector *c = ob->c;
    struct strbuf b[7];           /* one per requirement key below */
    size_t n = 0, i;
    int rc = 0;

    for (i = 0; i < sizeof b / sizeof b[0]; i++)
        strbuf_init(&b[i]);
    if (c->tls)
        strbuf_puts(&b[n++], "tls: true");
    if (c->min_version >= 0)
        strbuf_printf(&b[n++], "min_version: %s", tls_version_name(c->min_version));
    if (c->min_cipher_bits > 0)
        strbuf_printf(&b[n++], "min_cipher_bits: %d", c->min_cipher_bits);
    if (c->forward_secrecy)
        strbuf_puts(&b[n++], "forward_secrecy: true");
    if (c->verified)
        strbuf_puts(&b[n++], "certificate: verified");
    if (c->nnames > 0) {
        strbuf_puts(&b[n], "certificate_names:");
        for (i = 0; i < c->nnames; i++)
            strbuf_printf(&b[n], "%s %s", i ? "," : "", c->names[i]);
        n++;
    }
    if (c->nroots > 0) {
        strbuf_puts(&b[n], "root_issuers:");
        for (i = 0; i < c->nroots; i++)
            strbuf_printf(&b[n], "%s %s", i ? "," : "", c->roots[i].name);
        n++;
    }
    if (n > 0 && (ob->reqs = calloc(n, sizeof *ob->reqs)) == NULL)
        rc = -1;
    for (i = 0; i < n && rc == 0; i++) {
        if (!b[i].oom && (ob->reqs[i] = strbuf_take(&b[i])) != NULL)
            ob->nreqs++;
        else
            rc = -1;
    }
    for (i = 0; i < sizeof b / sizeof b[0]; i++)
        strbuf_free(&b[i]);
    return rc;
}

static void
report_outbound_free(struct report_outbound *ob, size_t n)
{
    for (size_t i = 0; ob != NULL && i < n; i++) {
        for (size_t k = 0; k < ob[i].nreqs; k++)
            free(ob[i].reqs[k]);
        free(ob[i].reqs);
        free(ob[i].postfix);
        free(ob[i].postfix_enforce);
    }
    free(ob);
}

/* The outbound contracts of x, each with the policy Postfix would get. A
 * connector Postfix cannot express keeps a NULL policy (export's error is on
 * stderr). 0, or -1 when out of memory. */
static int
report_outbound_build(struct export_ctx *x, struct report_outbound **out, size_t *nout)
{
    size_t n = policy_outbound_count(x->p), i;
    struct report_outbound *ob = calloc(n ? n : 1, sizeof *ob);
    bool oom = false;

    if (ob == NULL)
        return -1;
    for (i = 0; i < n && !oom; i++) {
        char *value;

        ob[i].c = policy_outbound_get(x->p, i);
        if (report_outbound_reqs(&ob[i]) != 0) {
            oom = true;
            break;
        }
        if ((value = eval_outbound_postfix(x, ob[i].c, &oom)) == NULL)
            continue;
        if (ob[i].c->mode != POLICY_MODE_MONITOR) {
            ob[i].postfix = value;
        } else {
            ob[i].postfix_enforce = value;
            oom = (ob[i].postfix = strdup("may")) == NULL;
        }
    }
    if (oom) {
        report_outbound_free(ob, n);
        return -1;
    }
    *out = ob;
    *nout = n;
    return 0;
}

int
report_main(const char *progname, int argc, char **argv)
{
    static char *stdin_only[] = { "-" };
    struct report_opts o = { 0 };
    struct report_agg a;
    struct report_parser *p = NULL;
    struct report_view v = { 0 };
    struct export_ctx x;
    struct report_outbound *ob = NULL;
    bool config_open = false;
    size_t i;
    int rc;

    if ((rc = report_args(progname, argc, argv, &o)) != 0)
        return rc == 1 ? REPORT_EXIT_OK : rc;
    if (o.nfiles == 0) {
        o.files = stdin_only;
        o.nfiles = 1;
    }
    if (o.config != NULL) {
        /* A connectors file that does not load is a usage error: the report
         * was asked to show its contracts and cannot. */
        char copt[] = "-c", *cargv[] = { copt, o.config };

        if (export_open(&x, progname, "postfix", 2, cargv, false) != 0)
            return REPORT_EXIT_FAIL;
        config_open = true;
        if (report_outbound_build(&x, &ob, &v.noutbound) != 0) {
            fprintf(stderr, "%s report: out of memory\n", progname);
            export_close(&x);
            return REPORT_EXIT_FAIL;
        }
        v.config = o.config;
        v.config_sha256 = x.sha256;
        v.outbound = ob;
    }
    if (report_agg_init(&a) != 0 || (p = report_parser_new()) == NULL) {
        fprintf(stderr, "%s report: out of memory\n", progname);
        report_agg_free(&a);
        report_outbound_free(ob, v.noutbound);
        if (config_open)
            export_close(&x);
        return REPORT_EXIT_FAIL;
    }
    rc = REPORT_EXIT_FAIL;
    for (i = 0; i < o.nfiles; i++)
        if (report_file(progname, o.files[i], &o, p, &a) != 0)
            goto oom;
    report_parser_free(p);
    p = NULL;
    v.agg = &a;
    v.since = o.since;
    v.until = o.until;
    if ((v.conn = report_agg_sorted(&a, &v.nconn)) == NULL)
        goto oom;
    switch (o.format) {
    case RF_TEXT: rc = report_text(stdout, &v); break;
    case RF_CSV:  rc = report_csv(stdout, &v); break;
    case RF_JSON: rc = report_json(stdout, &v); break;
    case RF_HTML: rc = report_html(stdout, &v); break;
    }
    if (rc != 0)
        goto oom;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("tlspolicy report: writing the report");
        rc = REPORT_EXIT_FAIL;
        goto out;
    }
    if (a.malformed > 0 || a.bad_files > 0) {
        fprintf(stderr, "%s report: %llu malformed line(s), %llu unreadable or truncated "
                "file(s): see the report\n", progname, (unsigned long long)a.malformed,
                (unsigned long long)a.bad_files);
        rc = REPORT_EXIT_BADINPUT;
    } else {
        rc = REPORT_EXIT_OK;
    }
    goto out;
oom:
    fprintf(stderr, "%s report: out of memory\n", progname);
    rc = REPORT_EXIT_FAIL;
out:
    free(v.conn);
    report_parser_free(p);
    report_agg_free(&a);
    report_outbound_free(ob, v.noutbound);
    if (config_open)
        export_close(&x);
    return rc;
}
