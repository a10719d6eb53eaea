/*
 * export.c -- "tlspolicy export MTA": the dispatch, and the half of "tlspolicy export" every MTA shares: options,
 * reading and hashing the connectors file (the hash goes in the first line of
 * every generated file, so an administrator can tell which file a table came
 * from), diagnostics, and writing the output files whole.
 * Never: follows a symbolic link or opens a FIFO when writing (O_NOFOLLOW,
 * O_EXCL on a temporary name), or prints a byte of the input unescaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "esc.h"
#include "export.h"
#include "export_mta.h"
#include "file_read.h"
#include "strbuf.h"
#include "strfmt.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define EXPORT_DEFAULT_CONFIG SYSCONFDIR "/milter-tlspolicy/connectors.yaml"
#define EXPORT_MAX_BYTES ((size_t)256 * 1024 * 1024)

enum { EXPORT_FAIL = 1, EXPORT_USAGE = 2 };

/* Text from the input or the command line, safe on a terminal line. */
static void
put_safe(FILE *fp, const char *s)
{
    struct strbuf b;

    strbuf_init(&b);
    esc_putn(&b, s, strlen(s), ESC_TEXT);
    fputs(b.oom ? "(out of memory)" : strbuf_str(&b), fp);
    strbuf_free(&b);
}

static int
usage(const struct export_ctx *x, const char *mta, const char *what, const char *arg)
{
    fprintf(stderr, "%s: export %s: %s", x->progname, mta, what);
    if (arg != NULL) {
        fputs(": '", stderr);
        put_safe(stderr, arg);
        fputc('\'', stderr);
    }
    fprintf(stderr, "\nusage: %s export %s [-c FILE] [--dir DIR]\n", x->progname, mta);
    return EXPORT_USAGE;
}

static void
sha256_hex(const char *buf, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const char hex[] = "0123456789abcdef";

    out[0] = '\0';
    if (EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
        return;
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

int
export_open(struct export_ctx *x, const char *progname, const char *mta, int argc, char **argv,
            bool dir_ok)
{
    struct policy_diags d;
    char *buf = NULL, *why = NULL, *base = NULL;
    size_t len = 0;
    int rc = EXPORT_FAIL;

    memset(x, 0, sizeof(*x));
    x->progname = progname;
    x->config = EXPORT_DEFAULT_CONFIG;
    x->dir = ".";
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc)
            x->config = argv[++i];
        else if (dir_ok && strcmp(a, "--dir") == 0 && i + 1 < argc)
            x->dir = argv[++i];
        else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 || strcmp(a, "--dir") == 0)
            return usage(x, mta, "option needs a value", a);
        else
            return usage(x, mta, "unknown argument", a);
    }
    if (x->config[0] == '\0' || x->dir[0] == '\0')
        return usage(x, mta, "empty file or directory name", NULL);
    policy_diags_init(&d);
    /* The hash must be of the very bytes loaded: read once, load from memory. */
    if (file_read(x->config, FILE_READ_FOLLOW, EXPORT_MAX_BYTES, "a YAML connectors file", &buf,
                  &len, &why) < 0) {
        fprintf(stderr, "%s: export %s: the connectors file ", progname, mta);
        put_safe(stderr, x->config);
        fputc(' ', stderr);
        put_safe(stderr, why ? why : "cannot be read: out of memory");
        fputc('\n', stderr);
        goto out;
    }
    sha256_hex(buf, len, x->sha256);
    const char *slash = strrchr(x->config, '/');
    if (slash != NULL && (base = slash == x->config ? strdup("/")
                                 : strndup(x->config, (size_t)(slash - x->config))) == NULL)
        goto out;
    x->p = policy_load_buffer(x->config, buf, len, base, &d);
    for (size_t i = 0; i < d.n; i++) {
        char *s = policy_diag_format(&d.v[i]);
        put_safe(stderr, s ? s : "out of memory");
        fputc('\n', stderr);
        free(s);
    }
    if (x->p == NULL || x->sha256[0] == '\0')
        goto out;
    if ((x->absdir = realpath(x->dir, NULL)) == NULL) {
        fprintf(stderr, "%s: export %s: --dir ", progname, mta);
        put_safe(stderr, x->dir);
        fprintf(stderr, ": %s (expected an existing directory)\n", strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (rc != 0) {
        policy_unref(x->p);
        x->p = NULL;
    }
    policy_diags_free(&d);
    free(buf);
    free(why);
    free(base);
    return rc;
}

void
export_close(struct export_ctx *x)
{
    policy_unref(x->p);
    free(x->absdir);
    x->p = NULL;
    x->absdir = NULL;
}

static void
export_vdiag(struct export_ctx *x, const char *sev, const struct outbound_connector *c,
             const char *req, const char *fmt, va_list ap)
{
    char *msg = vstrfmt(fmt, ap);

    fprintf(stderr, "%s:%u:%u: %s: outbound connector '", policy_path(x->p), c->line, c->column,
            sev);
    put_safe(stderr, c->name);
    fprintf(stderr, "': %s: ", req);
    put_safe(stderr, msg ? msg : "out of memory");
    fputc('\n', stderr);
    free(msg);
}

void
export_error(struct export_ctx *x, const struct outbound_connector *c, const char *req,
             const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    export_vdiag(x, "error", c, req, fmt, ap);
    va_end(ap);
    x->nerrors++;
}

void
export_warn(struct export_ctx *x, const struct outbound_connector *c, const char *req,
            const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    export_vdiag(x, "warning", c, req, fmt, ap);
    va_end(ap);
    x->nwarnings++;
}

bool
export_owns(const struct export_ctx *x, const struct outbound_connector *c, const char *pattern)
{
    for (size_t i = 0; i < policy_outbound_count(x->p); i++) {
        const struct outbound_connector *o = policy_outbound_get(x->p, i);
        for (size_t k = 0; k < o->ndomains; k++)
            if (strcmp(o->domains[k].pattern, pattern) == 0)
                return o == c;
    }
    return false;
}

bool
export_under_smart_host(const struct export_ctx *x, const char *pattern)
{
    for (size_t j = 0; j < policy_outbound_count(x->p); j++) {
        const struct outbound_connector *h = policy_outbound_get(x->p, j);
        for (size_t b = 0; h->nhosts > 0 && b < h->ndomains; b++)
            if (outbound_pattern_covers(h->domains[b].pattern, pattern))
                return true;
    }
    return false;
}

void
export_table_add(struct export_table *t, char *key, char *value, char *comment)
{
    if (key == NULL || value == NULL || comment == NULL)
        goto oom;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct export_entry *v = realloc(t->v, cap * sizeof(*v));
        if (v == NULL)
            goto oom;
        t->v = v;
        t->cap = cap;
    }
    t->v[t->n++] = (struct export_entry){ key, value, comment };
    return;
oom:
    t->oom = true;
    free(key);
    free(value);
    free(comment);
}

static int
entry_cmp(const void *a, const void *b)
{
    return strcmp(((const struct export_entry *)a)->key, ((const struct export_entry *)b)->key);
}

void
export_table_sort(struct export_table *t)
{
    if (t->n > 1)
        qsort(t->v, t->n, sizeof(t->v[0]), entry_cmp);
}

void
export_table_free(struct export_table *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].key);
        free(t->v[i].value);
        free(t->v[i].comment);
    }
    free(t->v);
    t->v = NULL;
    t->n = t->cap = 0;
}

char *
export_header(const struct export_ctx *x, const char *comment, const char *what)
{
    struct strbuf b;

    /* The path came from the command line: escaped, it cannot end the comment. */
    strbuf_init(&b);
    strbuf_printf(&b, "%s %s, generated by tlspolicy export from ", comment, what);
    esc_putn(&b, x->config, strlen(x->config), ESC_LINE);
    strbuf_printf(&b, " (sha256 %s); edit that file, not this one\n", x->sha256);
    return strbuf_take(&b);
}

int
export_write(struct export_ctx *x, const char *name, const char *data, size_t len, char **path)
{
    char *final = strfmt("%s/%s", x->absdir, name);
    char *tmp = strfmt("%s/.%s.tmp%ld", x->absdir, name, (long)getpid());
    int fd = -1, rc = -1;

    *path = NULL;
    if (final == NULL || tmp == NULL) {
        fprintf(stderr, "%s: export: out of memory\n", x->progname);
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail;
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto fail;
        off += (size_t)n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, final) < 0)
        goto fail;
    *path = final;
    final = NULL;
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "%s: export: writing ", x->progname);
    put_safe(stderr, final);
    fprintf(stderr, ": %s\n", strerror(errno));
    if (fd >= 0)
        close(fd);
    unlink(tmp);
out:
    free(final);
    free(tmp);
    return rc;
}

int
export_main(const char *progname, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "postfix") == 0)
        return export_postfix_main(progname, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "sendmail") == 0)
        return export_sendmail_main(progname, argc - 1, argv + 1);
    fprintf(stderr, "%s: export: expected the MTA to export for (postfix or sendmail)%s%s\n"
            "usage: %s export postfix|sendmail [-c FILE] [--dir DIR]\n", progname,
            argc >= 1 ? ", got " : "", argc >= 1 ? "another word" : "", progname);
    return EXPORT_USAGE;
}
