/*
 * posture.c -- the rules that decide what is shown about a message: which
 * recipient's result summarises it (one severity order, used by the daemon's
 * header, log and JSON record and by tlspolicy eval alike) and how the issuer,
 * TLS version and queue id are displayed.
 * Never: does I/O, allocates, or formats text (posture_render.c does).
 */
#include "posture.h"

/* fail > none > pass */
static int
posture_verdict_rank(enum policy_verdict v)
{
    return v == POLICY_VERDICT_FAIL ? 2 : v == POLICY_VERDICT_NONE ? 1 : 0;
}

int
posture_severity_cmp(const struct posture_rcpt *a, const struct posture_rcpt *b)
{
    int d;

    if (a->refused != b->refused)
        return a->refused ? 1 : -1;
    if (a->res->action != b->res->action)
        return (int)a->res->action > (int)b->res->action ? 1 : -1;
    d = posture_verdict_rank(a->res->verdict) - posture_verdict_rank(b->res->verdict);
    if (d != 0)
        return d;
    if (a->res->mode != b->res->mode)
        return a->res->mode == POLICY_MODE_ENFORCE ? 1 : -1;
    return 0;
}

size_t
posture_naccepted(const struct posture_rcpt *v, size_t n)
{
    size_t i, k = 0;

    for (i = 0; i < n; i++)
        if (!v[i].refused)
            k++;
    return k;
}

const struct posture_rcpt *
posture_summary(const struct posture_rcpt *v, size_t n, bool delivered)
{
    const struct posture_rcpt *top = NULL;
    bool accepted_only = delivered && posture_naccepted(v, n) > 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (accepted_only && v[i].refused)
            continue;
        if (top == NULL || posture_severity_cmp(&v[i], top) > 0)
            top = &v[i];
    }
    return top;
}

const char *
posture_issuer(const struct policy_facts *f)
{
    if (f == NULL)
        return NULL;
    return f->issuer_cn != NULL ? f->issuer_cn : f->issuer_dn;
}

const char *
posture_tls_version(const struct policy_facts *f)
{
    if (f == NULL || !f->tls || f->tls_version == NULL || f->tls_version[0] == '\0')
        return "none";
    return f->tls_version;
}

const char *
posture_qid(const char *qid)
{
    return (qid != NULL && qid[0] != '\0') ? qid : "NOQUEUE";
}
