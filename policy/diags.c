/*
 * diags.c -- the diagnostics list that every loader error and warning goes into,
 * each naming file, line, column and what was expected.
 * Never: prints; the caller decides where messages go.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

void
policy_diags_init(struct policy_diags *d)
{
    memset(d, 0, sizeof(*d));
}

void
policy_diags_free(struct policy_diags *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].message);
    }
    free(d->v);
    policy_diags_init(d);
}

int
policy_diags_add(struct policy_diags *d, enum policy_severity sev, const char *file,
                 unsigned line, unsigned column, const char *fmt, ...)
{
    struct policy_diag *v;
    char *msg = NULL, *fcopy = NULL;
    va_list ap;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0 || (msg = malloc((size_t)len + 1)) == NULL)
        goto fail;
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)len + 1, fmt, ap);
    va_end(ap);
    if ((fcopy = strdup(file ? file : "-")) == NULL)
        goto fail;
    if ((v = realloc(d->v, (d->n + 1) * sizeof(*v))) == NULL)
        goto fail;
    d->v = v;
    d->v[d->n] = (struct policy_diag){ sev, fcopy, line, column, msg };
    d->n++;
    if (sev == POLICY_SEV_ERROR)
        d->nerrors++;
    return 0;
fail:
    free(msg);
    free(fcopy);
    return -1;
}

char *
policy_diag_format(const struct policy_diag *g)
{
    const char *sev = g->severity == POLICY_SEV_ERROR ? "error" : "warning";
    char *out;
    int len;

    if (g->line > 0)
        len = snprintf(NULL, 0, "%s:%u:%u: %s: %s", g->file, g->line, g->column, sev, g->message);
    else
        len = snprintf(NULL, 0, "%s: %s: %s", g->file, sev, g->message);
    if (len < 0 || (out = malloc((size_t)len + 1)) == NULL)
        return NULL;
    if (g->line > 0)
        snprintf(out, (size_t)len + 1, "%s:%u:%u: %s: %s", g->file, g->line, g->column, sev, g->message);
    else
        snprintf(out, (size_t)len + 1, "%s: %s: %s", g->file, sev, g->message);
    return out;
}
