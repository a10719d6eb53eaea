/*
 * diags.c -- the diagnostics list that every loader error and warning goes into,
 * each naming file, line, column and what was expected.
 * Never: prints; the caller decides where messages go.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "strfmt.h"

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
    char *msg, *fcopy = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = vstrfmt(fmt, ap);
    va_end(ap);
    if (msg == NULL)
        goto fail;
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

    if (g->line > 0)
        return strfmt("%s:%u:%u: %s: %s", g->file, g->line, g->column, sev, g->message);
    return strfmt("%s: %s: %s", g->file, sev, g->message);
}
