/*
 * pinned.c -- the public view of the certificates pinned by require.certificates:
 * the list tlspolicy check shows, and the expiry warnings that the loader adds
 * and the daemon repeats once a day.
 * Never: changes the policy, logs, or reads the clock itself (the caller says
 * what "now" is, so a test can name any day).
 */
#include <stdio.h>
#include <time.h>

#include "policy_int.h"

#define DAY_SECONDS 86400

/* The require block holding pinned certificate number *i, and *i within it. */
static const struct policy_require *
pinned_block(const struct policy *p, size_t *i, const char **who)
{
    if (*i < p->default_require.pins.nfiles) {
        *who = "default";
        return &p->default_require;
    }
    *i -= p->default_require.pins.nfiles;
    for (size_t c = 0; c < p->nconn; c++) {
        if (*i < p->conn[c].require.pins.nfiles) {
            *who = p->conn[c].name;
            return &p->conn[c].require;
        }
        *i -= p->conn[c].require.pins.nfiles;
    }
    return NULL;
}

size_t
policy_pinned_count(const struct policy *p)
{
    size_t n = p->default_require.pins.nfiles;

    for (size_t c = 0; c < p->nconn; c++)
        n += p->conn[c].require.pins.nfiles;
    return n;
}

bool
policy_pinned_get(const struct policy *p, size_t i, struct policy_pinned_cert *out)
{
    const char *who = NULL;
    const struct policy_require *q = pinned_block(p, &i, &who);
    const struct pin_cert *pc;

    if (q == NULL)
        return false;
    pc = &q->pins.files[i];
    out->connector = who;
    out->file = pc->file;
    out->line = pc->line;
    out->column = pc->column;
    out->cert_sha256 = pc->cert.hex;
    out->pubkey_sha256 = pc->pubkey.hex;
    out->subject = pc->subject;
    out->organization = pc->o;
    out->unit = pc->ou;
    out->key_type = pc->key_type;
    out->key_bits = pc->key_bits;
    out->rsa_equiv = pc->rsa_equiv;
    out->sans = pc->sans;
    out->not_after = pc->not_after;
    return true;
}

int
policy_pins_expiry_check(const struct policy *p, int64_t now, struct policy_diags *d)
{
    size_t n = policy_pinned_count(p);
    int added = 0;

    for (size_t i = 0; i < n; i++) {
        struct policy_pinned_cert pc;
        char date[32];
        struct tm tm;
        time_t t;
        int64_t left;
        int rc;

        if (!policy_pinned_get(p, i, &pc))
            break;
        left = pc.not_after - now;
        if (left > (int64_t)p->pin_expiry_warn_days * DAY_SECONDS)
            continue;
        t = (time_t)pc.not_after;
        if (gmtime_r(&t, &tm) == NULL || strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", &tm) == 0)
            (void)snprintf(date, sizeof(date), "@%lld", (long long)pc.not_after);
        /* The pin still matches after the date: a pin is identity, and whether an
         * expired certificate may still send mail is the MTA's choice. */
        if (left < 0)
            rc = policy_diags_add(d, POLICY_SEV_WARNING, p->path, pc.line, pc.column,
                    "certificates: %s: the pinned certificate of connector '%s' (%s) expired "
                    "on %s; pin the partner's new certificate (public_key_fingerprints "
                    "survives a renewal that keeps the key)", pc.file, pc.connector,
                    pc.subject, date);
        else
            rc = policy_diags_add(d, POLICY_SEV_WARNING, p->path, pc.line, pc.column,
                    "certificates: %s: the pinned certificate of connector '%s' (%s) expires "
                    "on %s, in %lld days (pin_expiry_warn_days: %d); pin the partner's "
                    "renewed certificate before then (public_key_fingerprints survives a "
                    "renewal that keeps the key)", pc.file, pc.connector, pc.subject, date,
                    (long long)(left / DAY_SECONDS), p->pin_expiry_warn_days);
        if (rc < 0)
            return -1;
        added++;
    }
    return added;
}
