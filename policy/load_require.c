/*
 * load_require.c -- reads a require block (of a connector or of defaults): TLS
 * version, cipher bits, forward secrecy, certificate status, names, issuers and
 * roots in CN or DN form, with the warnings an administrator needs (what Postfix
 * cannot check, names of an unverified certificate).
 * Never: evaluates a requirement (policy_eval.c does) or includes yaml.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cert_dn.h"
#include "cert_name.h"
#include "load_int.h"
#include "load_values.h"
#include "tls_facts.h"

#define CIPHER_BITS_MAX  4096
#define POSTFIX_CN_ONLY  "on Postfix this requirement always fails: Postfix passes only the certificate CN"
#define UNVERIFIED_NAMES "names of an unverified certificate prove nothing " \
                         "(add 'certificate: verified' to this require block)"

static const char *const require_keys[] = {
    "tls", "min_version", "min_cipher_bits", "forward_secrecy", "certificate",
    "certificate_names", "issuers", "root_issuers", "organizations",
};
enum { RQ_TLS, RQ_MIN_VERSION, RQ_MIN_BITS, RQ_FS, RQ_CERT, RQ_NAMES, RQ_ISSUERS, RQ_ROOTS,
       RQ_ORGS, RQ_N };
static const struct section require_sec = {
    "require", require_keys, RQ_N,
    "tls, min_version, min_cipher_bits, forward_secrecy, certificate, certificate_names, "
    "issuers, root_issuers, organizations", NULL, NULL,
};

/* Move a checked list into a policy_names. */
static int
names_take(struct policy_names *n, struct strlist *l)
{
    n->n = l->n;
    n->v = l->v;
    l->v = NULL;
    l->n = 0;
    return 0;
}

/* issuers / root_issuers: an entry with '=' is a DN, stored canonical so the
 * evaluator compares like with like; anything else is a CN. */
static int
read_issuers(struct rd *r, const char *what, struct policy_names *out, bool warn_dn)
{
    struct strlist l = { 0 };
    int rc = load_list(r, what, "a certificate CN or DN", NULL, false, &l);
    bool any_dn = false;

    if (rc == RD_FATAL)
        goto out;
    for (size_t i = 0; i < l.n; i++)
        if (strchr(l.v[i], '=') != NULL)
            any_dn = true;
    if (any_dn && (out->is_dn = calloc(l.n ? l.n : 1, sizeof(bool))) == NULL) {
        load_oom(r);
        rc = RD_FATAL;
        goto out;
    }
    for (size_t i = 0; i < l.n; i++) {
        const char *why;
        if (strchr(l.v[i], '=') == NULL) {
            if ((why = load_check_text(l.v[i])) != NULL) {
                err_at(r, l.mark[i], "%s: '%s' is not a certificate name (expected %s)", what,
                       load_q(r, l.v[i]), why);
                rc = RD_BAD;
            }
            continue;
        }
        struct cert_dn dn = { 0 };
        char *canon;
        why = NULL;
        errno = 0;
        if (cert_dn_parse_config(l.v[i], &dn, &why) < 0) {
            if (errno == ENOMEM && why == NULL) {
                load_oom(r);
                rc = RD_FATAL;
                goto out;
            }
            err_at(r, l.mark[i], "%s: '%s' is not a valid DN: %s", what, load_q(r, l.v[i]),
                   why ? why : "malformed (expected \"CN=name,O=org,C=XX\" or a CN without '=')");
            rc = RD_BAD;
            continue;
        }
        canon = cert_dn_canonical(&dn);
        cert_dn_free(&dn);
        if (canon == NULL) {
            load_oom(r);
            rc = RD_FATAL;
            goto out;
        }
        free(l.v[i]);
        l.v[i] = canon;
        out->is_dn[i] = true;
        if (warn_dn)
            warn_at(r, l.mark[i], "%s: DN form: %s", what, POSTFIX_CN_ONLY);
    }
    names_take(out, &l);
out:
    load_strlist_free(&l);
    return rc;
}

/* A require block (connector or defaults). RD_OK or RD_BAD after the block's end. */
int
load_require(struct rd *r, struct policy_require *rq)
{
    unsigned first[RQ_N] = { 0 };
    struct load_mark vm, km, names_mark[RQ_N] = { { 0 } };
    bool given[RQ_N] = { false };
    int rc = load_enter_map(r, "require", &vm), k, one;

    rq->min_version = TLS_VERSION_UNKNOWN;
    if (rc != RD_OK)
        return rc;
    while ((k = load_next_key(r, &require_sec, first, &km, &rc)) >= 0) {
        struct strlist l = { 0 };
        char *s = NULL;
        long v = 0;
        int e;

        names_mark[k] = km;
        switch (k) {
        case RQ_TLS:
            one = load_bool(r, "tls", &rq->tls, &vm);
            break;
        case RQ_MIN_VERSION:
            one = load_str(r, "min_version", &s, &vm);
            if (one == RD_OK && (rq->min_version = tls_version_parse(s)) == TLS_VERSION_UNKNOWN) {
                err_at(r, vm, "min_version: '%s' is not a TLS version (expected SSLv3, TLSv1, "
                       "TLSv1.1, TLSv1.2 or TLSv1.3)", load_q(r, s));
                one = RD_BAD;
            }
            free(s);
            break;
        case RQ_MIN_BITS:
            one = load_int(r, "min_cipher_bits", 1, CIPHER_BITS_MAX, &v, &vm);
            if (one == RD_OK)
                rq->min_cipher_bits = (int)v;
            break;
        case RQ_FS:
            one = load_bool(r, "forward_secrecy", &rq->forward_secrecy, &vm);
            break;
        case RQ_CERT:
            e = POLICY_CERT_ANY;
            one = load_enum(r, "certificate", load_parse_cert_req, "any, presented or verified", &e,
                            &vm);
            rq->certificate = (enum policy_cert_req)e;
            break;
        case RQ_NAMES:
            one = load_domain_list(r, "certificate_names", "a certificate name pattern",
                                   cert_name_pattern_check, &l);
            names_take(&rq->certificate_names, &l);
            load_strlist_free(&l);
            break;
        case RQ_ISSUERS:
            one = read_issuers(r, "issuers", &rq->issuers, true);
            break;
        case RQ_ROOTS:
            /* A DN-form root is answerable on Postfix too: the root comes from the
             * trust store, looked up by the issuer's CN. */
            one = read_issuers(r, "root_issuers", &rq->root_issuers, false);
            break;
        case RQ_ORGS:
            one = load_list(r, "organizations", "an organization name", load_check_text, false, &l);
            names_take(&rq->organizations, &l);
            load_strlist_free(&l);
            if (one == RD_OK)
                warn_at(r, km, "organizations: %s", POSTFIX_CN_ONLY);
            break;
        default:
            one = RD_FATAL;
            break;
        }
        if (!load_fold(&rc, one))
            return RD_FATAL;
        given[k] = one == RD_OK;
    }
    if (k == KEY_FATAL)
        return RD_FATAL;
    rq->any = rq->tls || rq->min_version != TLS_VERSION_UNKNOWN || rq->min_cipher_bits > 0 ||
              rq->forward_secrecy || rq->certificate != POLICY_CERT_ANY ||
              rq->certificate_names.n > 0 || rq->issuers.n > 0 || rq->root_issuers.n > 0 ||
              rq->organizations.n > 0;
    if (rq->certificate != POLICY_CERT_VERIFIED) {
        static const int name_keys[] = { RQ_NAMES, RQ_ISSUERS, RQ_ROOTS, RQ_ORGS };
        for (size_t i = 0; i < sizeof(name_keys) / sizeof(name_keys[0]); i++)
            if (given[name_keys[i]])
                warn_at(r, names_mark[name_keys[i]], "%s: %s", require_keys[name_keys[i]],
                        UNVERIFIED_NAMES);
    }
    return rc;
}
