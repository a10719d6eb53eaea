/*
 * load_require.c -- reads a require block (of a connector or of defaults): TLS
 * version, cipher bits, forward secrecy, certificate status, names, issuers and
 * roots in CN, OU, DN or sha256: form, pinned fingerprints and certificates and
 * the key size they must reach, with the warnings an administrator needs (what
 * Postfix cannot check, names of an unverified certificate, key sizes no MTA
 * passes); once the trust store loaded, resolves every issuer and root name to
 * its certificates and warns, with the closest certificates, about a name that
 * matches none or several CAs.
 * Never: evaluates a requirement (policy_eval.c does), includes yaml.h, or makes
 * an unresolved name an error: a ca-certificates update must never stop a load.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cert_dn.h"
#include "cert_name.h"
#include "esc.h"
#include "fingerprint.h"
#include "load_int.h"
#include "load_values.h"
#include "strbuf.h"
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

/* Keep each entry as written and where it was, for resolve_names. */
static int
issuers_keep(struct policy_names *out, const struct strlist *l)
{
    size_t n = l->n ? l->n : 1;

    if ((out->text = calloc(n, sizeof *out->text)) == NULL ||
        (out->line = calloc(n, sizeof *out->line)) == NULL ||
        (out->column = calloc(n, sizeof *out->column)) == NULL)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        if ((out->text[i] = strdup(l->v[i])) == NULL)
            return -1;
        out->line[i] = l->mark[i].line;
        out->column[i] = l->mark[i].column;
    }
    return 0;
}

/* issuers / root_issuers: an entry with '=' is a DN, stored canonical so the
 * evaluator compares like with like; "sha256:..." a fingerprint; anything else
 * a CN or an OU. Which certificates each means is settled by resolve_names. */
static int
read_issuers(struct rd *r, const char *what, struct policy_names *out)
{
    struct strlist l = { 0 };
    int rc = load_list(r, what, "a certificate CN, OU, DN or sha256: fingerprint", NULL, false,
                       &l);
    bool any_dn = false;

    if (rc == RD_FATAL)
        goto out;
    for (size_t i = 0; i < l.n; i++)
        if (strchr(l.v[i], '=') != NULL)
            any_dn = true;
    if ((any_dn && (out->is_dn = calloc(l.n ? l.n : 1, sizeof(bool))) == NULL) ||
        issuers_keep(out, &l) < 0) {
        load_oom(r);
        rc = RD_FATAL;
        goto out;
    }
    for (size_t i = 0; i < l.n; i++) {
        const char *why;
        char fp[FINGERPRINT_HEX_LEN + 1];

        if (fingerprint_is(l.v[i])) {
            if ((why = fingerprint_parse(l.v[i], fp)) != NULL) {
                err_at(r, l.mark[i], "%s: '%s' is not a fingerprint: %s", what,
                       load_q(r, l.v[i]), why);
                rc = RD_BAD;
            }
            continue;
        }
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
        long v = 0;
        int e;

        names_mark[k] = km;
        switch (k) {
        case RQ_TLS:
            one = load_bool(r, "tls", &rq->tls, &vm);
            break;
        case RQ_MIN_VERSION:
            one = load_min_version(r, TLS_VERSION_SSL3, "", &rq->min_version, &vm);
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
            /* A DN-form issuer is answerable on Postfix too: the issuer CN Postfix
             * passes is looked up in the trust store, and so is the DN. */
            one = read_issuers(r, "issuers", &rq->issuers);
            break;
        case RQ_ROOTS:
            one = read_issuers(r, "root_issuers", &rq->root_issuers);
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

/* ---- resolution against the trust store */

/* "CN" (OU "ou", DN dn, sha256:hex, expires YYYY-MM-DD): every certificate
 * string escaped for a terminal or a log, whichever shows the diagnostic. */
static void
describe_cert(struct strbuf *b, const struct trust_cert *c)
{
    const char *cn = trust_cert_cn(c), *ou = trust_cert_ou(c);
    time_t t = trust_cert_not_after(c);
    struct tm tm;

    strbuf_putc(b, '"');
    esc_put(b, cn[0] != '\0' ? cn : trust_cert_dn(c), 128, ESC_TEXT);
    strbuf_puts(b, "\" (");
    if (ou[0] != '\0') {
        strbuf_puts(b, "OU \"");
        esc_put(b, ou, 128, ESC_TEXT);
        strbuf_puts(b, "\", ");
    }
    strbuf_puts(b, "DN ");
    esc_put(b, trust_cert_dn(c), 256, ESC_TEXT);
    strbuf_printf(b, ", sha256:%s, ", trust_cert_sha256(c));
    if (t != (time_t)-1 && gmtime_r(&t, &tm) != NULL)
        strbuf_printf(b, "expires %04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    else
        strbuf_puts(b, "expiry unreadable");
    strbuf_putc(b, ')');
}

static void
describe_list(struct strbuf *b, const struct trust_cert *const *c, size_t n, size_t total)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strbuf_puts(b, "; ");
        describe_cert(b, c[i]);
    }
    if (total > n)
        strbuf_printf(b, "; and %zu more", total - n);
}

/* A root_issuers name that matches no root may name an intermediate: say so,
 * with the roots it is under, which is what the administrator should write. */
static int
note_intermediate(const struct trust_store *ts, const char *name, struct strbuf *b)
{
    struct trust_match any;
    const char *why;

    if (trust_store_resolve(ts, name, 0, &any, &why) < 0)
        return why == NULL ? -1 : 0;
    if (any.found == TRUST_FOUND_ONE && trust_cert_root_count(any.cert[0]) > 0) {
        const struct trust_cert *c = any.cert[0];
        size_t nr = trust_cert_root_count(c);

        strbuf_puts(b, "; it is an intermediate CA, under the root");
        strbuf_puts(b, nr > 1 ? "s " : " ");
        for (size_t i = 0; i < nr && i < TRUST_CLOSE_MAX; i++) {
            const struct trust_cert *rt = trust_cert_root(c, i);

            if (i > 0)
                strbuf_puts(b, ", ");
            strbuf_putc(b, '"');
            esc_put(b, trust_cert_ou(rt)[0] != '\0' && trust_cert_cn(rt)[0] == '\0' ?
                    trust_cert_ou(rt) : trust_cert_cn(rt), 128, ESC_TEXT);
            strbuf_putc(b, '"');
        }
    }
    trust_match_free(&any);
    return 0;
}

/* One name: resolve it, and warn when it means no CA or several. */
static int
resolve_one(struct rd *r, const char *what, struct policy_names *ns, size_t i, bool roots)
{
    const struct trust_store *ts = r->p->trust;
    struct trust_match *m = &ns->match[i];
    struct load_mark at = { ns->line[i], ns->column[i] };
    struct strbuf b;
    const char *why;
    int rc = 0;

    if (trust_store_resolve(ts, ns->text[i], roots ? TRUST_RESOLVE_ROOTS : 0, m, &why) < 0) {
        if (why == NULL)
            return -1;
        /* read_issuers checked the syntax; whatever is left fails closed. */
        m->found = TRUST_FOUND_NONE;
        warn_at(r, at, "%s: '%s' cannot be looked up: %s", what, load_q(r, ns->text[i]), why);
        return 0;
    }
    strbuf_init(&b);
    strbuf_printf(&b, "%s: '", what);
    esc_put(&b, ns->text[i], 128, ESC_TEXT);
    if (m->found == TRUST_FOUND_NONE) {
        strbuf_printf(&b, "' matches no %s in the trust store, so messages under this "
                      "requirement fail", roots ? "root" : "CA certificate");
        if (roots && note_intermediate(ts, ns->text[i], &b) < 0)
            rc = -1;
        if (m->nclose > 0) {
            strbuf_puts(&b, "; closest: ");
            describe_list(&b, m->close, m->nclose, m->nclose);
        }
    } else if (m->found == TRUST_FOUND_SEVERAL) {
        strbuf_printf(&b, "' matches %zu certificates of different CAs in the trust store, so "
                      "messages under this requirement fail (name one by its OU, DN or sha256: "
                      "fingerprint): ", m->n);
        describe_list(&b, m->close, m->nclose, m->n);
    } else if (!roots && trust_cert_root_count(m->cert[0]) == 0) {
        strbuf_puts(&b, "' chains to no root in the trust store, so root_issuers cannot be "
                    "met under it (add the CA that issued it to trust_store or intermediates): ");
        describe_list(&b, m->cert, 1, 1);
    } else {
        strbuf_free(&b);
        return 0;
    }
    if (b.oom || rc < 0)
        rc = -1;
    else
        warn_at(r, at, "%s", strbuf_str(&b));
    strbuf_free(&b);
    return rc;
}

static int
resolve_list(struct rd *r, const char *what, struct policy_names *ns, bool roots)
{
    if (ns->n == 0 || ns->text == NULL)
        return 0;
    if ((ns->match = calloc(ns->n, sizeof *ns->match)) == NULL)
        return -1;
    for (size_t i = 0; i < ns->n; i++)
        if (resolve_one(r, what, ns, i, roots) < 0)
            return -1;
    return 0;
}

/* After the trust store loaded: every issuer and root name of the defaults and
 * of every connector (disabled ones too: check is asked about the whole file). */
void
load_resolve_names(struct rd *r)
{
    struct policy *p = r->p;

    if (p == NULL || p->trust == NULL)
        return;
    if (resolve_list(r, "issuers", &p->default_require.issuers, false) < 0 ||
        resolve_list(r, "root_issuers", &p->default_require.root_issuers, true) < 0)
        goto oom;
    for (size_t i = 0; i < p->nconn; i++)
        if (resolve_list(r, "issuers", &p->conn[i].require.issuers, false) < 0 ||
            resolve_list(r, "root_issuers", &p->conn[i].require.root_issuers, true) < 0)
            goto oom;
    return;
oom:
    load_oom(r);
}
