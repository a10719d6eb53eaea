/*
 * export_sendmail.c -- "tlspolicy export sendmail": turns the outbound
 * connectors into the access-map source Sendmail 8.17 reads for outbound TLS
 * (TLS_Rcpt: per recipient domain, TLS_Srv: per smart host, right-hand sides
 * VERIFY[:bits] / ENCR:bits with +CN / ++CI extensions, as proto.m4's
 * TLS_connection and TLS_req rulesets parse them), the mailertable source that
 * routes a connector's domains to its smart hosts, and prints the .mc lines.
 * Never: leaves out a requirement Sendmail cannot express without an error or
 * a warning naming connector and requirement, or writes a key whose lookup
 * would reach other domains than the connector's: Sendmail's LookUpDomain
 * falls back from a.x to .x (FEATURE(lookupdotdomain)) and then to x, so an
 * exact pattern also gets a ".x" entry saying who owns its subdomains.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "export.h"
#include "export_mta.h"
#include "esc.h"
#include "strbuf.h"
#include "strfmt.h"
#include "tls_facts.h"

/* tls_rcpt answers "no requirement" for a right-hand side that is not
 * VERIFY/ENCR: the lookup stops there and the mail goes opportunistically. */
#define SM_NONE "OK"

/* Sendmail's xtextify() of ${cert_issuer}: what CI: is compared with, byte for
 * byte, so the DN must be spelt the way sendmail spells it. */
static void
xtext_put(struct strbuf *b, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < '!' || c > '~' || strchr("+\\(<>\")", c) != NULL)
            strbuf_printf(b, "+%02X", c);
        else
            strbuf_printf(b, "%c", c);
    }
}

/* The subject of a root as X509_NAME_oneline() prints it (sendmail's form). */
static char *
pem_subject_oneline(const char *pem)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *crt = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    char *s = crt ? X509_NAME_oneline(X509_get_subject_name(crt), NULL, 0) : NULL;
    char *out = s ? strdup(s) : NULL;

    OPENSSL_free(s);
    X509_free(crt);
    BIO_free(bio);
    ERR_clear_error();
    return out;
}

/* The connectors file's path (from the command line) in a map comment: a newline
 * in it would start a map entry, so it is escaped. NULL when out of memory. */
static char *
line_safe(const char *s)
{
    struct strbuf b;

    strbuf_init(&b);
    esc_putn(&b, s, strlen(s), ESC_LINE);
    return strbuf_take(&b);
}

static bool
name_ok(const char *s)
{
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
            return false;
    return true;
}

/* The right-hand side of one connector, or NULL after an error (printed). */
static char *
sm_requirement(struct export_ctx *x, const struct outbound_connector *c)
{
    struct strbuf b;
    size_t errs = x->nerrors;
    const char *sep = "+";

    if (c->min_version != TLS_VERSION_UNKNOWN)
        export_error(x, c, "min_version", "Sendmail 8.17's access map has no TLS version "
                     "requirement (expected no min_version for export sendmail)");
    if (c->forward_secrecy)
        export_error(x, c, "forward_secrecy", "Sendmail 8.17's access map cannot require a "
                     "key exchange (expected no forward_secrecy for export sendmail)");
    if (outbound_requires_nothing(c))
        return x->nerrors > errs ? NULL : strdup(SM_NONE);
    strbuf_init(&b);
    /* ENCR:1, not ENCR:0: with no TLS ${cipher_bits} is empty, which compares as
     * 0, so 0 bits would let a plain-text session through. */
    if (c->verified)
        strbuf_puts(&b, "VERIFY");
    else
        strbuf_printf(&b, "ENCR:%d", c->min_cipher_bits > 0 ? c->min_cipher_bits : 1);
    if (c->verified && c->min_cipher_bits > 0)
        strbuf_printf(&b, ":%d", c->min_cipher_bits);
    if (c->verified && c->nnames > 1)
        export_error(x, c, "certificate_names", "%zu names, but Sendmail's CN: takes one "
                     "and its extensions are all required (expected one name)", c->nnames);
    else if (c->verified && c->nnames == 1 && !name_ok(c->names[0]))
        export_error(x, c, "certificate_names", "'%s' cannot be matched by Sendmail's CN:, "
                     "which compares the subject CN literally (expected a host name "
                     "without '*')", c->names[0]);
    else if (c->verified) {
        /* Bare CN: the CN must be the name sendmail connected to (${server_name}). */
        if (c->nnames == 1)
            strbuf_printf(&b, "+CN:%s", c->names[0]);
        else
            strbuf_puts(&b, "+CN");
        export_warn(x, c, "certificate_names", "Sendmail 8.17 compares %s with the "
                    "certificate's subject CN only, never its subjectAltName",
                    c->nnames == 1 ? "the name" : "the server's name");
        sep = "++";
    }
    if (c->nroots > 1 || (c->nroots == 1 && c->roots[0].n != 1))
        export_error(x, c, "root_issuers", "Sendmail's CI: names exactly one issuer DN "
                     "(expected one root_issuers entry that resolves to one root)");
    else if (c->nroots == 1) {
        char *dn = pem_subject_oneline(c->roots[0].pem[0]);
        if (dn == NULL)
            b.oom = true;
        else {
            strbuf_printf(&b, "%sCI:", sep);
            xtext_put(&b, dn);
            export_warn(x, c, "root_issuers", "Sendmail's CI: compares the issuer of the "
                        "server's own certificate: a chain through an intermediate of '%s' "
                        "is refused", c->roots[0].name);
        }
        free(dn);
    }
    if (x->nerrors > errs || b.oom) {
        strbuf_free(&b);
        return NULL;
    }
    return strbuf_take(&b);
}

/* The connector whose wildcard owns the subdomains of an exact pattern, as
 * policy_outbound_find decides: the longest covering wildcard, first in file. */
static size_t
sub_owner(const struct export_ctx *x, const char *exact, const char **pattern)
{
    size_t best = SIZE_MAX;
    char *sub = strfmt("*.%s", exact);
    size_t bestlen = 0;

    for (size_t i = 0; sub != NULL && i < policy_outbound_count(x->p); i++) {
        const struct outbound_connector *o = policy_outbound_get(x->p, i);
        for (size_t k = 0; k < o->ndomains; k++) {
            const char *p = o->domains[k].pattern;
            if (p[0] == '*' && strlen(p) > bestlen && outbound_pattern_covers(p, sub)) {
                best = i;
                bestlen = strlen(p);
                *pattern = p;
            }
        }
    }
    free(sub);
    return best;
}

struct sm_req {
    char *value;                  /* what goes in the map (OK in monitor mode) */
    char *comment;
};

static bool
connector_req(struct export_ctx *x, const struct outbound_connector *c, struct sm_req *r)
{
    char *req = sm_requirement(x, c), *path = line_safe(policy_path(x->p));

    r->value = r->comment = NULL;
    if (req == NULL || path == NULL) {
        free(req);
        free(path);
        return false;
    }
    if (c->mode == POLICY_MODE_MONITOR) {
        r->comment = strfmt("# outbound connector %s (%s line %u), mode monitor\n"
                            "# monitor: enforce would be: %s\n", c->name, path, c->line, req);
        r->value = strdup(SM_NONE);
        free(req);
    } else {
        r->comment = strfmt("# outbound connector %s (%s line %u)\n", c->name, path, c->line);
        r->value = req;
    }
    free(path);
    return r->value != NULL && r->comment != NULL;
}

static void
add_connector(struct export_ctx *x, const struct outbound_connector *c, const struct sm_req *rq,
              struct export_table *t)
{
    for (size_t i = 0; i < c->ndomains; i++) {
        const char *p = c->domains[i].pattern;
        if (!export_owns(x, c, p))
            continue;
        /* "*.x" is ".x" under FEATURE(lookupdotdomain). */
        export_table_add(t, strfmt("TLS_Rcpt:%s", p[0] == '*' ? p + 1 : p),
                         strdup(rq->value), strdup(rq->comment));
    }
    /* tls_server looks up the name sendmail connected to, else its address. */
    for (size_t i = 0; i < c->nhosts; i++)
        export_table_add(t, strfmt("TLS_Srv:%s", c->hosts[i].host), strdup(rq->value),
                         strdup(rq->comment));
}

/* The mailertable value of a smart-host connector: "esmtp:[h1]:[h2]", a host
 * list sendmail tries in order; brackets skip the MX lookup, as in Postfix's
 * notation. NULL after an error (printed) or when out of memory (*oom). */
static char *
sm_route(struct export_ctx *x, const struct outbound_connector *c, bool *oom)
{
    struct strbuf b;
    size_t errs = x->nerrors;

    strbuf_init(&b);
    strbuf_puts(&b, "esmtp:");
    for (size_t i = 0; i < c->nhosts; i++) {
        const struct outbound_host *h = &c->hosts[i];

        if (h->port != 0 && h->port != 25)
            export_error(x, c, "smart_hosts", "'%s': neither Sendmail's mailertable nor its "
                         "TLS_Srv: keys can name a port (expected port 25; for another, a "
                         "mailer of your own whose _MAILER_ARGS name it)", h->text);
        else if (h->is_ipv6)
            export_error(x, c, "smart_hosts", "'%s': not written for Sendmail, whose "
                         "mailertable splits its host list at ':' (expected a host name or an "
                         "IPv4 address)", h->text);
        else
            strbuf_printf(&b, "%s%s%s%s", i > 0 ? ":" : "", h->bracketed ? "[" : "", h->host,
                          h->bracketed ? "]" : "");
    }
    *oom = b.oom;
    if (x->nerrors > errs || b.oom) {
        strbuf_free(&b);
        return NULL;
    }
    return strbuf_take(&b);
}

/* The mailertable: a smart-host connector's domains go to its hosts; a domain
 * of a connector without them, under such a connector's wildcard, keeps its
 * own route. In a value %0 is the key looked up and %1 what a ".x" lookup
 * stripped before it, so "esmtp:%0" and "esmtp:%1%0" name the recipient's own
 * domain, whose MX sendmail looks up as if there were no entry. */
static void
add_routes(struct export_ctx *x, struct export_table *mt)
{
    char *path = line_safe(policy_path(x->p));

    if (path == NULL)
        mt->oom = true;
    for (size_t i = 0; i < policy_outbound_count(x->p) && path != NULL; i++) {
        const struct outbound_connector *c = policy_outbound_get(x->p, i);
        char *route = NULL;
        bool oom = false;

        if (c->nhosts > 0 && (route = sm_route(x, c, &oom)) == NULL) {
            mt->oom |= oom;
            continue;
        }
        for (size_t k = 0; k < c->ndomains; k++) {
            const char *p = c->domains[k].pattern;
            bool wild = p[0] == '*';

            if (route != NULL ? !export_owns(x, c, p) : !export_under_smart_host(x, p))
                continue;
            export_table_add(mt, strdup(wild ? p + 1 : p),
                             strdup(route ? route : wild ? "esmtp:%1%0" : "esmtp:%0"),
                             strfmt("# outbound connector %s (%s line %u)%s\n", c->name, path,
                                    c->line, route ? "" : ": its own route, not the smart "
                                    "host of a wider pattern"));
        }
        free(route);
    }
    free(path);
}

/* An exact pattern's key would also answer for its subdomains: give them
 * their own ".x" key with what the file decides for them. */
static void
add_subdomain_keys(struct export_ctx *x, const struct sm_req *reqs, struct export_table *t)
{
    for (size_t i = 0; i < policy_outbound_count(x->p); i++) {
        const struct outbound_connector *c = policy_outbound_get(x->p, i);
        for (size_t k = 0; k < c->ndomains; k++) {
            const char *p = c->domains[k].pattern, *wpat = NULL;
            char *wild = strfmt("*.%s", p);
            bool has_own = false;

            if (p[0] == '*' || !export_owns(x, c, p) || wild == NULL) {
                free(wild);
                continue;
            }
            for (size_t j = 0; j < policy_outbound_count(x->p) && !has_own; j++) {
                const struct outbound_connector *o = policy_outbound_get(x->p, j);
                for (size_t m = 0; m < o->ndomains && !has_own; m++)
                    has_own = strcmp(o->domains[m].pattern, wild) == 0;
            }
            free(wild);
            if (has_own)
                continue;
            size_t w = sub_owner(x, p, &wpat);
            char *why = w != SIZE_MAX
                ? strfmt("%s# subdomains of %s: pattern %s\n", reqs[w].comment, p, wpat)
                : strfmt("# subdomains of %s: no outbound connector (outbound connector %s "
                         "covers %s only)\n", p, c->name, p);
            export_table_add(t, strfmt("TLS_Rcpt:.%s", p),
                             strdup(w != SIZE_MAX ? reqs[w].value : SM_NONE), why);
        }
    }
}

/* Two connectors naming one smart host: one TLS_Srv key, one requirement. */
static void
check_duplicates(struct export_ctx *x, struct export_table *t)
{
    for (size_t i = 1; i < t->n; i++)
        if (strcmp(t->v[i - 1].key, t->v[i].key) == 0 &&
            strcmp(t->v[i - 1].value, t->v[i].value) != 0) {
            char *k = line_safe(t->v[i].key), *a = line_safe(t->v[i - 1].value),
                 *b = line_safe(t->v[i].value);
            fprintf(stderr, "%s: export sendmail: %s is asked both '%s' and '%s' by two "
                    "outbound connectors (expected one requirement per smart host)\n",
                    x->progname, k ? k : "?", a ? a : "?", b ? b : "?");
            free(k);
            free(a);
            free(b);
            x->nerrors++;
        }
}

static char *
sm_render(const struct export_ctx *x, struct export_table *t, const char *what)
{
    struct strbuf b;
    char *head = export_header(x, "#", what);

    if (head == NULL)
        return NULL;
    strbuf_init(&b);
    strbuf_puts(&b, head);
    free(head);
    for (size_t i = 0; i < t->n; i++) {
        if (i > 0 && strcmp(t->v[i - 1].key, t->v[i].key) == 0)
            continue;
        strbuf_printf(&b, "%s%s\t%s\n", t->v[i].comment, t->v[i].key, t->v[i].value);
    }
    return strbuf_take(&b);
}

int
export_sendmail_main(const char *progname, int argc, char **argv)
{
    struct export_ctx x;
    struct export_table t = { 0 }, mt = { 0 };
    struct sm_req *reqs = NULL;
    char *text = NULL, *path = NULL, *mt_text = NULL, *mt_path = NULL;
    bool failed = false;
    int rc = export_open(&x, progname, "sendmail", argc, argv, true);
    size_t n;

    if (rc != 0)
        return rc;
    n = policy_outbound_count(x.p);
    /* Once per connector, so each warning is printed once. */
    if (n > 0 && (reqs = calloc(n, sizeof(*reqs))) == NULL)
        failed = true;
    for (size_t i = 0; i < n && reqs != NULL; i++)
        if (!connector_req(&x, policy_outbound_get(x.p, i), &reqs[i]))
            failed = true;
    for (size_t i = 0; i < n && !failed; i++)
        add_connector(&x, policy_outbound_get(x.p, i), &reqs[i], &t);
    if (!failed && x.nerrors == 0)
        add_subdomain_keys(&x, reqs, &t);
    if (!failed)
        add_routes(&x, &mt);
    export_table_sort(&t);
    export_table_sort(&mt);
    if (!failed && !t.oom)
        check_duplicates(&x, &t);
    if (failed || t.oom || mt.oom || x.nerrors > 0) {
        rc = 1;
        goto out;
    }
    text = sm_render(&x, &t, "Sendmail access map source (makemap hash access < access)");
    mt_text = sm_render(&x, &mt, "Sendmail mailertable source (makemap hash mailertable "
                        "< mailertable)");
    if (text == NULL || mt_text == NULL) {
        fprintf(stderr, "%s: export sendmail: out of memory\n", progname);
        rc = 1;
        goto out;
    }
    if (export_write(&x, "access", text, strlen(text), &path) < 0 ||
        export_write(&x, "mailertable", mt_text, strlen(mt_text), &mt_path) < 0) {
        rc = 1;
        goto out;
    }
    const struct policy_settings *s = policy_settings(x.p);
    printf("dnl sendmail.mc lines for %zu outbound connector(s); after writing them:\n"
           "dnl   makemap hash %s < %s\n", policy_outbound_count(x.p), path, path);
    if (mt.n > 0)
        printf("dnl   makemap hash %s < %s\n", mt_path, mt_path);
    printf("dnl   then rebuild sendmail.cf and restart sendmail\n"
           "FEATURE(`access_db', `hash -T<TMPF> %s')dnl\n"
           "FEATURE(`lookupdotdomain')dnl\n", path);
    if (mt.n > 0)
        printf("FEATURE(`mailertable', `hash %s')dnl\n", mt_path);
    if (s != NULL && s->trust_store != NULL && s->trust_store[0] != '\0') {
        struct strbuf ts;
        /* A path from the file: escaped, it cannot start another .mc line. */
        strbuf_init(&ts);
        esc_putn(&ts, s->trust_store, strlen(s->trust_store), ESC_LINE);
        printf("define(`confCACERT', `%s')dnl\n", ts.oom ? "" : strbuf_str(&ts));
        strbuf_free(&ts);
    }
    printf("dnl confCACERT_PATH, confCLIENT_CERT and confCLIENT_KEY as for any STARTTLS\n");
    rc = 0;
out:
    for (size_t i = 0; reqs != NULL && i < n; i++) {
        free(reqs[i].value);
        free(reqs[i].comment);
    }
    free(reqs);
    export_table_free(&t);
    export_table_free(&mt);
    free(text);
    free(path);
    free(mt_text);
    free(mt_path);
    export_close(&x);
    return rc;
}
