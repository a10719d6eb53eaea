/*
 * trust.c -- "tlspolicy trust [PATTERN] [--json] [-c FILE]": the roots and
 * intermediates of the trust store a connectors file configures, with CN, OU,
 * DN, SHA-256 fingerprint and expiry, and what each issuers/root_issuers name of
 * the file resolved to, so an administrator can write names that hold.
 * Never: prints a certificate string unescaped (esc.c, ESC_TEXT; JSON through
 * json_write.c), or decides anything itself: the library resolved the names.
 * Exit: 0 listed, every name resolved; 1 listed, some name did not resolve;
 * 2 usage error, a file that does not load, or output failed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "esc.h"
#include "json_write.h"
#include "policy.h"
#include "strbuf.h"
#include "trust.h"
#include "trust_store.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define TRUST_DEFAULT_CONFIG SYSCONFDIR "/milter-tlspolicy/connectors.yaml"

enum { TRUST_EXIT_OK = 0, TRUST_EXIT_UNRESOLVED = 1, TRUST_EXIT_FAIL = 2 };

static void
trust_usage(FILE *fp, const char *progname)
{
    fprintf(fp, "usage: %s trust [PATTERN] [--json] [-c FILE]\n"
                "PATTERN: show only certificates whose CN, OU, DN or fingerprint contains it\n"
                "         (compared as names are: case, dashes and spaces folded)\n"
                "default FILE: %s\n", progname, TRUST_DEFAULT_CONFIG);
}

/* s escaped for a terminal: certificate names may carry control bytes. */
static void
put_text(FILE *fp, const char *s)
{
    struct strbuf b;

    strbuf_init(&b);
    esc_put(&b, s, 1024, ESC_TEXT);
    fputs(b.oom ? "(out of memory)" : strbuf_str(&b), fp);
    strbuf_free(&b);
}

static void
date_of(time_t t, char out[16])
{
    struct tm tm;

    if (t == (time_t)-1 || gmtime_r(&t, &tm) == NULL)
        snprintf(out, 16, "unknown");
    else
        snprintf(out, 16, "%04d-%02d-%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
                 tm.tm_mday % 100);
}

static bool
contains(const char *hay, const char *needle)
{
    char *h = trust_name_norm(hay);
    bool ok = h != NULL && strstr(h, needle) != NULL;

    free(h);
    return ok;
}

static bool
selected(const struct trust_cert *c, const char *pat)
{
    return pat == NULL || contains(trust_cert_cn(c), pat) || contains(trust_cert_ou(c), pat) ||
           contains(trust_cert_dn(c), pat) || strstr(trust_cert_sha256(c), pat) != NULL;
}

/* Roots first, then by CN, OU and fingerprint: a stable listing to diff. */
static int
cert_cmp(const void *a, const void *b)
{
    const struct trust_cert *x = *(const struct trust_cert *const *)a;
    const struct trust_cert *y = *(const struct trust_cert *const *)b;
    int c;

    if (trust_cert_self_signed(x) != trust_cert_self_signed(y))
        return trust_cert_self_signed(x) ? -1 : 1;
    if ((c = strcmp(trust_cert_cn(x), trust_cert_cn(y))) != 0)
        return c;
    if ((c = strcmp(trust_cert_ou(x), trust_cert_ou(y))) != 0)
        return c;
    return strcmp(trust_cert_sha256(x), trust_cert_sha256(y));
}

static void
text_cert(const struct trust_cert *c)
{
    char date[16];

    date_of(trust_cert_not_after(c), date);
    printf("%s ", trust_cert_self_signed(c) ? "root" : "intermediate");
    put_text(stdout, trust_cert_cn(c)[0] != '\0' ? trust_cert_cn(c) : trust_cert_dn(c));
    if (trust_cert_ou(c)[0] != '\0') {
        fputs("\n  ou: ", stdout);
        put_text(stdout, trust_cert_ou(c));
    }
    fputs("\n  dn: ", stdout);
    put_text(stdout, trust_cert_dn(c));
    printf("\n  sha256: %s\n  expires: %s\n", trust_cert_sha256(c), date);
    if (!trust_cert_self_signed(c)) {
        fputs("  roots:", stdout);
        if (trust_cert_root_count(c) == 0)
            fputs(" none in the trust store", stdout);
        for (size_t i = 0; i < trust_cert_root_count(c); i++) {
            fputs(i ? ", " : " ", stdout);
            put_text(stdout, trust_cert_cn(trust_cert_root(c, i)));
        }
        fputc('\n', stdout);
    }
}

static const char *
found_name(const struct trust_match *m)
{
    if (m == NULL)
        return "unresolved";
    return m->found == TRUST_FOUND_ONE ? "resolved" :
           m->found == TRUST_FOUND_SEVERAL ? "ambiguous" : "none";
}

static void
text_name(const char *file, const struct policy_ca_name *n)
{
    const struct trust_match *m = n->match;

    put_text(stdout, file);
    printf(":%u:%u: %s ", n->line, n->column, n->key);
    put_text(stdout, n->text);
    printf(" (%s %s): %s\n", strcmp(n->connector, "defaults") == 0 ? "in" : "connector",
           n->connector, found_name(m));
    if (m == NULL)
        return;
    for (size_t i = 0; i < (m->found == TRUST_FOUND_ONE ? m->n : m->nclose); i++) {
        const struct trust_cert *c = m->found == TRUST_FOUND_ONE ? m->cert[i] : m->close[i];

        fputs(m->found == TRUST_FOUND_NONE ? "  closest: " : "  -> ", stdout);
        put_text(stdout, trust_cert_cn(c)[0] != '\0' ? trust_cert_cn(c) : trust_cert_dn(c));
        if (trust_cert_ou(c)[0] != '\0') {
            fputs(" / ", stdout);
            put_text(stdout, trust_cert_ou(c));
        }
        printf(" sha256:%s\n", trust_cert_sha256(c));
    }
}

static void
json_cert(struct json_write *j, const struct trust_cert *c)
{
    char date[16];

    date_of(trust_cert_not_after(c), date);
    json_write_object_begin(j);
    json_write_kv_string(j, "type", trust_cert_self_signed(c) ? "root" : "intermediate");
    json_write_kv_string(j, "cn", trust_cert_cn(c));
    json_write_kv_string(j, "ou", trust_cert_ou(c));
    json_write_kv_string(j, "dn", trust_cert_dn(c));
    json_write_kv_string(j, "sha256", trust_cert_sha256(c));
    json_write_kv_string(j, "expires", date);
    json_write_key(j, "roots");
    json_write_array_begin(j);
    for (size_t i = 0; i < trust_cert_root_count(c); i++)
        json_write_string(j, trust_cert_sha256(trust_cert_root(c, i)));
    json_write_array_end(j);
    json_write_object_end(j);
}

static void
json_name(struct json_write *j, const struct policy_ca_name *n)
{
    const struct trust_match *m = n->match;

    json_write_object_begin(j);
    json_write_kv_string(j, "connector", n->connector);
    json_write_kv_string(j, "key", n->key);
    json_write_kv_string(j, "name", n->text);
    json_write_kv_int(j, "line", n->line);
    json_write_kv_int(j, "column", n->column);
    json_write_kv_string(j, "found", found_name(m));
    json_write_key(j, "certificates");
    json_write_array_begin(j);
    for (size_t i = 0; m != NULL && m->found == TRUST_FOUND_ONE && i < m->n; i++)
        json_write_string(j, trust_cert_sha256(m->cert[i]));
    json_write_array_end(j);
    json_write_key(j, m != NULL && m->found == TRUST_FOUND_SEVERAL ? "candidates" : "closest");
    json_write_array_begin(j);
    for (size_t i = 0; m != NULL && m->found != TRUST_FOUND_ONE && i < m->nclose; i++)
        json_write_string(j, trust_cert_sha256(m->close[i]));
    json_write_array_end(j);
    json_write_object_end(j);
}

struct trust_opts {
    const char *config;
    const char *pattern;
    bool json;
};

/* 0, 1 when help was printed, or TRUST_EXIT_FAIL after a usage error. */
static int
trust_args(const char *progname, int argc, char **argv, struct trust_opts *o)
{
    o->config = TRUST_DEFAULT_CONFIG;
    o->pattern = NULL;
    o->json = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc)
                goto usage;
            o->config = argv[++i];
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            trust_usage(stdout, progname);
            return 1;
        } else if (a[0] == '-' || o->pattern != NULL) {
            goto usage;
        } else {
            o->pattern = a;
        }
    }
    if (o->config[0] != '\0')
        return 0;
usage:
    trust_usage(stderr, progname);
    return TRUST_EXIT_FAIL;
}

int
trust_main(const char *progname, int argc, char **argv)
{
    struct policy_diags diags;
    struct policy *p = NULL;
    const struct trust_store *ts;
    const struct trust_cert **list = NULL;
    struct policy_ca_name n;
    struct trust_opts o;
    struct json_write j;
    char *pat = NULL;
    size_t nl = 0, unresolved = 0;
    int rc = TRUST_EXIT_FAIL, r;

    policy_diags_init(&diags);
    json_write_init(&j);
    if ((r = trust_args(progname, argc, argv, &o)) != 0) {
        rc = r == 1 ? TRUST_EXIT_OK : r;
        goto out;
    }
    p = policy_load(o.config, &diags);
    if (p == NULL || diags.nerrors > 0) {
        for (size_t i = 0; i < diags.n; i++) {
            char *s = policy_diag_format(&diags.v[i]);

            put_text(stderr, s != NULL ? s : "out of memory");
            fputc('\n', stderr);
            free(s);
        }
        goto out;
    }
    ts = policy_trust_store(p);
    if ((o.pattern != NULL && (pat = trust_name_norm(o.pattern)) == NULL) ||
        (list = calloc(trust_store_ca_count(ts) + 1, sizeof *list)) == NULL) {
        fprintf(stderr, "%s trust: out of memory\n", progname);
        goto out;
    }
    for (size_t i = 0; i < trust_store_ca_count(ts); i++)
        if (selected(trust_store_cert(ts, i), pat))
            list[nl++] = trust_store_cert(ts, i);
    qsort(list, nl, sizeof *list, cert_cmp);
    if (o.json) {
        json_write_object_begin(&j);
        json_write_key(&j, "certificates");
        json_write_array_begin(&j);
    }
    for (size_t i = 0; i < nl; i++)
        o.json ? json_cert(&j, list[i]) : text_cert(list[i]);
    if (o.json) {
        json_write_array_end(&j);
        json_write_key(&j, "names");
        json_write_array_begin(&j);
    } else {
        printf("names of the file:%s\n", policy_ca_name(p, 0, &n) ? "" : " none");
    }
    for (size_t i = 0; policy_ca_name(p, i, &n); i++) {
        unresolved += n.match == NULL || n.match->found != TRUST_FOUND_ONE;
        o.json ? json_name(&j, &n) : text_name(o.config, &n);
    }
    if (o.json) {
        const char *out;
        size_t len;

        json_write_array_end(&j);
        json_write_object_end(&j);
        if ((out = json_write_finish(&j, &len)) == NULL) {
            fprintf(stderr, "%s trust: out of memory writing JSON\n", progname);
            goto out;
        }
        fwrite(out, 1, len, stdout);
        fputc('\n', stdout);
    }
    rc = unresolved > 0 ? TRUST_EXIT_UNRESOLVED : TRUST_EXIT_OK;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s trust: writing the output: %s\n", progname, strerror(errno));
        rc = TRUST_EXIT_FAIL;
    }
out:
    free(list);
    free(pat);
    json_write_free(&j);
    policy_unref(p);
    policy_diags_free(&diags);
    return rc;
}
