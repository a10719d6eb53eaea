/*
 * load_require.c -- reads a require block (of a connector or of defaults): TLS
 * version, cipher bits, forward secrecy, certificate status, names, issuers and
 * roots in CN or DN form, pinned fingerprints and certificates and the key size
 * they must reach, with the warnings an administrator needs (what Postfix
 * cannot check, names of an unverified certificate, key sizes no MTA passes).
 * Never: evaluates a requirement (policy_eval.c does) or includes yaml.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cert_dn.h"
#include "cert_name.h"
#include "fingerprint.h"
#include "load_int.h"
#include "load_values.h"
#include "tls_facts.h"

#define CIPHER_BITS_MAX  4096
#define KEY_BITS_MIN     512
#define KEY_BITS_MAX     16384
#define POSTFIX_CN_ONLY  "on Postfix this requirement always fails: Postfix passes only the certificate CN"
#define UNVERIFIED_NAMES "names of an unverified certificate prove nothing " \
                         "(add 'certificate: verified' to this require block)"

static const char *const require_keys[] = {
    "tls", "min_version", "min_cipher_bits", "forward_secrecy", "certificate",
    "certificate_names", "issuers", "root_issuers", "organizations",
    "certificate_fingerprints", "public_key_fingerprints", "certificates", "min_key_bits",
};
enum { RQ_TLS, RQ_MIN_VERSION, RQ_MIN_BITS, RQ_FS, RQ_CERT, RQ_NAMES, RQ_ISSUERS, RQ_ROOTS,
       RQ_ORGS, RQ_CERT_FP, RQ_KEY_FP, RQ_CERTS, RQ_KEY_BITS, RQ_N };
static const struct section require_sec = {
    "require", require_keys, RQ_N,
    "tls, min_version, min_cipher_bits, forward_secrecy, certificate, certificate_names, "
    "issuers, root_issuers, organizations, certificate_fingerprints, public_key_fingerprints, "
    "certificates, min_key_bits", NULL, NULL,
};

static const char *
fingerprint_check(const char *s)
{
    char hex[FINGERPRINT_SIZE];

    return fingerprint_parse(s, hex);
}

int
load_fingerprints(struct rd *r, const char *what, bool pubkey, struct policy_pins *pins)
{
    struct strlist l = { 0 };
    char hex[FINGERPRINT_SIZE];
    int rc = load_list(r, what, "a SHA-256 fingerprint", fingerprint_check, false, &l);

    for (size_t i = 0; rc != RD_FATAL && i < l.n; i++)
        if (fingerprint_parse(l.v[i], hex) == NULL && pins_add(pins, pubkey, hex) < 0) {
            load_oom(r);
            rc = RD_FATAL;
        }
    load_strlist_free(&l);
    return rc;
}

/* require.certificates: each PEM file read now, so that a file that is wrong
 * stops the load rather than every message of that partner. */
static int
read_pin_files(struct rd *r, struct policy_pins *pins)
{
    struct strlist l = { 0 };
    int rc = load_list(r, "certificates", "a PEM file name", load_check_path, false, &l);

    for (size_t i = 0; rc != RD_FATAL && i < l.n; i++) {
        char *path = load_resolve_path(r->base_dir, l.v[i]), *err = NULL;

        if (path == NULL) {
            load_oom(r);
            rc = RD_FATAL;
            break;
        }
        if (pins_load_file(pins, path, l.mark[i].line, l.mark[i].column, &err) < 0) {
            err_at(r, l.mark[i], "certificates: %s", err ? err : "out of memory");
            rc = RD_BAD;
        }
        free(err);
        free(path);
    }
    load_strlist_free(&l);
    return rc;
}

/* A pinned certificate weaker than min_key_bits is refused here; for any other
 * certificate the MTA never says the key size, so the requirement can only fail. */
static int
check_key_bits(struct rd *r, const struct policy_require *rq, struct load_mark km,
               bool files_named)
{
    int rc = RD_OK;

    for (size_t i = 0; i < rq->pins.nfiles; i++) {
        const struct pin_cert *pc = &rq->pins.files[i];
        struct load_mark m = { pc->line, pc->column };

        if (pc->rsa_equiv >= rq->min_key_bits)
            continue;
        if (pc->rsa_equiv == pc->key_bits)
            err_at(r, m, "certificates: %s: the %s key has %d bits, below min_key_bits %d "
                   "(expected a key of at least %d bits)", pc->file, pc->key_type,
                   pc->key_bits, rq->min_key_bits, rq->min_key_bits);
        else
            err_at(r, m, "certificates: %s: the %s key is as strong as RSA %d bits, below "
                   "min_key_bits %d (expected a key as strong as RSA %d bits)", pc->file,
                   pc->key_type, pc->rsa_equiv, rq->min_key_bits, rq->min_key_bits);
        rc = RD_BAD;
    }
    if (!files_named)
        warn_at(r, km, "min_key_bits: no MTA passes the key size, so it is known only for "
                "certificates pinned with 'certificates' (none here): every session this "
                "block judges fails this requirement");
    return rc;
}

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
    struct load_mark vm, km, bits_mark = { 0, 0 }, names_mark[RQ_N] = { { 0 } };
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
            one = load_list(r, "certificate_names", "a certificate name pattern",
                            cert_name_pattern_check, false, &l);
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
        case RQ_CERT_FP:
            one = load_fingerprints(r, "certificate_fingerprints", false, &rq->pins);
            break;
        case RQ_KEY_FP:
            one = load_fingerprints(r, "public_key_fingerprints", true, &rq->pins);
            break;
        case RQ_CERTS:
            one = read_pin_files(r, &rq->pins);
            break;
        case RQ_KEY_BITS:
            one = load_int(r, "min_key_bits", KEY_BITS_MIN, KEY_BITS_MAX, &v, &bits_mark);
            if (one == RD_OK)
                rq->min_key_bits = (int)v;
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
    if (rq->min_key_bits > 0 && !load_fold(&rc, check_key_bits(r, rq, bits_mark, first[RQ_CERTS] != 0)))
        return RD_FATAL;
    rq->any = pins_any(&rq->pins) || rq->min_key_bits > 0 || rq->tls || rq->min_version != TLS_VERSION_UNKNOWN || rq->min_cipher_bits > 0 ||
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
