/*
 * load_outbound.c -- reads the `outbound:` list of the connectors file (mail our
 * users send to partners): each connector's name, mode, recipient domains, smart
 * hosts and the requirements an MTA can enforce on the partner's servers; once
 * the trust store is loaded, resolves root_issuers to root certificates and
 * warns about duplicate and overlapping recipient domains.
 * Never: includes yaml.h, touches the inbound connectors or their indexes, or
 * keeps a requirement it could not export: what no MTA can ask of a server is
 * an error here, naming the key.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "cert_dn.h"
#include "cert_name.h"
#include "load_int.h"
#include "load_values.h"
#include "match_domain.h"
#include "outbound_int.h"
#include "strfmt.h"
#include "tls_facts.h"

#define CIPHER_BITS_MAX 4096

static const char *const ob_keys[] = {
    "name", "mode", "recipient_domains", "smart_hosts", "require",
};
enum { OK_NAME, OK_MODE, OK_DOMAINS, OK_HOSTS, OK_REQUIRE, OK_N };
static const struct section ob_sec = {
    "outbound connector", ob_keys, OK_N, "name, mode, recipient_domains, smart_hosts, require",
    "match",
    "match is not an outbound key (an outbound connector is chosen by the recipient's "
    "domain: expected recipient_domains; the keys are name, mode, recipient_domains, "
    "smart_hosts, require)",
};

static const char *const obr_keys[] = {
    "tls", "min_version", "min_cipher_bits", "forward_secrecy", "certificate",
    "certificate_names", "root_issuers",
};
enum { OR_TLS, OR_MIN_VERSION, OR_MIN_BITS, OR_FS, OR_CERT, OR_NAMES, OR_ROOTS, OR_N };
static const struct section obr_sec = {
    "outbound require", obr_keys, OR_N,
    "tls, min_version, min_cipher_bits, forward_secrecy, certificate, certificate_names, "
    "root_issuers", "organizations",
    "organizations cannot be asked of a partner's server: neither Postfix nor Sendmail "
    "checks it when sending (expected one of: tls, min_version, min_cipher_bits, "
    "forward_secrecy, certificate, certificate_names, root_issuers)",
};

/* ---------------------------------------------------------------- smart hosts */

static bool
parse_port(const char *s, unsigned *port)
{
    unsigned long v = 0;

    if (*s == '\0' || strlen(s) > 5)
        return false;
    for (const char *c = s; *c != '\0'; c++) {
        if (!(*c >= '0' && *c <= '9'))
            return false;
        v = v * 10 + (unsigned long)(*c - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *port = (unsigned)v;
    return true;
}

/*
 * "[host]", "[host]:port", "host", "host:port", "[ipv6:addr]:port", as Postfix
 * writes a next hop. Returns NULL and fills h, or what was expected.
 */
static const char *
host_parse(const char *s, struct outbound_host *h)
{
    const char *end, *rest;
    char *host;
    unsigned char buf[16];

    memset(h, 0, sizeof(*h));
    if (s[0] == '[') {
        if ((end = strchr(s, ']')) == NULL)
            return "a closing ']' ([host]:port)";
        h->bracketed = true;
        host = strndup(s + 1, (size_t)(end - s - 1));
        rest = end + 1;
    } else {
        end = strchr(s, ':');
        host = end != NULL ? strndup(s, (size_t)(end - s)) : strdup(s);
        rest = end != NULL ? end : "";
    }
    if (host == NULL)
        return "";                                  /* out of memory: the caller sees "" */
    if (rest[0] == ':' && !parse_port(rest + 1, &h->port)) {
        free(host);
        return "a port from 1 to 65535 after the ':'";
    }
    if (rest[0] != '\0' && rest[0] != ':') {
        free(host);
        return "nothing after ']' but ':port'";
    }
    for (char *c = host; *c != '\0'; c++)
        *c = (char)ascii_lower((unsigned char)*c);
    if (h->bracketed && strncmp(host, "ipv6:", 5) == 0) {
        memmove(host, host + 5, strlen(host + 5) + 1);
        if (inet_pton(AF_INET6, host, buf) != 1) {
            free(host);
            return "an IPv6 address after 'ipv6:'";
        }
        h->is_ip = h->is_ipv6 = true;
    } else if (inet_pton(AF_INET, host, buf) == 1) {
        if (!h->bracketed) {
            free(host);
            return "an IP address in brackets ([192.0.2.1]:25): without them it is looked "
                   "up as a domain";
        }
        h->is_ip = true;
    } else if (host[0] == '*' || domain_pattern_check(host) != NULL) {
        free(host);
        return "a host name, an IPv4 address or ipv6:ADDRESS, in brackets to skip the MX "
               "lookup, then an optional :port";
    }
    h->host = host;
    h->text = strfmt("%s%s%s%s%s", h->bracketed ? "[" : "", h->is_ipv6 ? "ipv6:" : "", host,
                     h->bracketed ? "]" : "", "");
    if (h->text != NULL && h->port != 0) {
        char *t = strfmt("%s:%u", h->text, h->port);
        free(h->text);
        h->text = t;
    }
    return h->text == NULL ? "" : NULL;
}

static void
host_clear(struct outbound_host *h)
{
    free(h->host);
    free(h->text);
    memset(h, 0, sizeof(*h));
}

static int
read_hosts(struct rd *r, struct outbound_connector *c)
{
    struct strlist l = { 0 };
    int rc = load_list(r, "smart_hosts", "a smart host", NULL, false, &l);

    if (rc == RD_FATAL)
        goto out;
    if ((c->hosts = calloc(l.n ? l.n : 1, sizeof(*c->hosts))) == NULL)
        goto oom;
    for (size_t i = 0; i < l.n; i++) {
        struct outbound_host h;
        const char *why = host_parse(l.v[i], &h);

        if (why != NULL && why[0] == '\0')
            goto oom;
        if (why != NULL) {
            err_at(r, l.mark[i], "smart_hosts: '%s' does not parse as a smart host (expected %s)",
                   load_q(r, l.v[i]), why);
            rc = RD_BAD;
            continue;
        }
        for (size_t k = 0; k < c->nhosts; k++)
            if (strcmp(c->hosts[k].text, h.text) == 0) {
                err_at(r, l.mark[i], "smart_hosts: '%s' is given twice (first at line %u)",
                       load_q(r, h.text), c->hosts[k].line);
                rc = RD_BAD;
            }
        h.line = l.mark[i].line;
        h.column = l.mark[i].column;
        if (rc == RD_BAD) {
            host_clear(&h);
            continue;
        }
        c->hosts[c->nhosts++] = h;
    }
    goto out;
oom:
    load_oom(r);
    rc = RD_FATAL;
out:
    load_strlist_free(&l);
    return rc;
}

/* ---------------------------------------------------------------- domains */

static int
read_domains(struct rd *r, struct outbound_connector *c)
{
    struct strlist l = { 0 };
    /* U-labels and A-labels in any case become one form, as inbound domains do */
    int rc = load_domain_list(r, "recipient_domains", "a domain pattern", NULL, &l);

    if (rc == RD_FATAL)
        goto out;
    if ((c->domains = calloc(l.n ? l.n : 1, sizeof(*c->domains))) == NULL)
        goto oom;
    for (size_t i = 0; i < l.n; i++) {
        const char *why;
        char *pat = l.v[i];
        size_t n = strlen(pat);

        /* ".x.test" is Postfix's way to say "*.x.test": accept both, store one. */
        if (pat[0] == '.') {
            char *star = strfmt("*%s", pat);
            if (star == NULL)
                goto oom;
            free(l.v[i]);
            l.v[i] = pat = star;
            n++;
        }
        if (n > 0 && pat[n - 1] == '.')
            pat[--n] = '\0';
        if ((why = domain_pattern_check(pat)) != NULL) {
            err_at(r, l.mark[i], "recipient_domains: '%s' is not a domain pattern (expected %s)",
                   load_q(r, pat), why);
            rc = RD_BAD;
            continue;
        }
        c->domains[c->ndomains].pattern = pat;
        c->domains[c->ndomains].line = l.mark[i].line;
        c->domains[c->ndomains].column = l.mark[i].column;
        c->ndomains++;
        l.v[i] = NULL;
    }
    goto out;
oom:
    load_oom(r);
    rc = RD_FATAL;
out:
    load_strlist_free(&l);
    return rc;
}

/* ---------------------------------------------------------------- require */

/* root_issuers: a CN, or a DN (holding '=') stored canonical as trust_store.c
 * keys it. Resolved to certificates later, once the trust store is loaded. */
static int
read_roots(struct rd *r, struct outbound_connector *c)
{
    struct strlist l = { 0 };
    int rc = load_list(r, "root_issuers", "a root CA's CN or DN", load_check_text, false, &l);

    if (rc == RD_FATAL)
        goto out;
    if ((c->roots = calloc(l.n ? l.n : 1, sizeof(*c->roots))) == NULL)
        goto oom;
    for (size_t i = 0; i < l.n; i++) {
        struct outbound_root *root = &c->roots[c->nroots];

        root->line = l.mark[i].line;
        root->column = l.mark[i].column;
        if (strchr(l.v[i], '=') != NULL) {
            struct cert_dn dn = { 0, NULL };
            const char *why = NULL;

            errno = 0;
            if (cert_dn_parse_config(l.v[i], &dn, &why) < 0) {
                if (errno == ENOMEM && why == NULL)
                    goto oom;
                err_at(r, l.mark[i], "root_issuers: '%s' is not a valid DN: %s", load_q(r, l.v[i]),
                       why ? why : "malformed (expected \"CN=name,O=org,C=XX\" or a CN)");
                rc = RD_BAD;
                continue;
            }
            root->name = cert_dn_canonical(&dn);
            root->is_dn = true;
            cert_dn_free(&dn);
            if (root->name == NULL)
                goto oom;
        } else {
            root->name = l.v[i];
            l.v[i] = NULL;
        }
        c->nroots++;
    }
    goto out;
oom:
    load_oom(r);
    rc = RD_FATAL;
out:
    load_strlist_free(&l);
    return rc;
}

static int
read_require(struct rd *r, struct outbound_connector *c)
{
    unsigned first[OR_N] = { 0 };
    struct load_mark vm, km, mark[OR_N] = { { 0 } };
    int rc = load_enter_map(r, "require", &vm), k, one;

    if (rc != RD_OK)
        return rc;
    while ((k = load_next_key(r, &obr_sec, first, &km, &rc)) >= 0) {
        struct strlist l = { 0 };
        long v = 0;
        int e;

        mark[k] = km;
        switch (k) {
        case OR_TLS:
            one = load_bool(r, "tls", &c->tls, &vm);
            break;
        case OR_MIN_VERSION:
            one = load_min_version(r, TLS_VERSION_TLS1, "cannot be asked when sending: Postfix "
                                   "and OpenSSL 3 no longer speak it", &c->min_version, &vm);
            break;
        case OR_MIN_BITS:
            one = load_int(r, "min_cipher_bits", 1, CIPHER_BITS_MAX, &v, &vm);
            if (one == RD_OK)
                c->min_cipher_bits = (int)v;
            break;
        case OR_FS:
            one = load_bool(r, "forward_secrecy", &c->forward_secrecy, &vm);
            break;
        case OR_CERT:
            e = POLICY_CERT_ANY;
            one = load_enum(r, "certificate", load_parse_cert_req, "any or verified", &e, &vm);
            if (one == RD_OK && e == POLICY_CERT_PRESENTED) {
                err_at(r, vm, "certificate: presented cannot be asked when sending (an MTA "
                       "either verifies the server's certificate or ignores it; expected any "
                       "or verified)");
                one = RD_BAD;
            }
            c->verified = e == POLICY_CERT_VERIFIED;
            break;
        case OR_NAMES:
            one = load_list(r, "certificate_names", "a certificate name pattern",
                            cert_name_pattern_check, false, &l);
            if (one == RD_OK) {
                c->names = l.v;
                c->nnames = l.n;
                l.v = NULL;
                l.n = 0;
            }
            load_strlist_free(&l);
            break;
        case OR_ROOTS:
            one = read_roots(r, c);
            break;
        default:
            one = RD_FATAL;
            break;
        }
        if (!load_fold(&rc, one))
            return RD_FATAL;
    }
    if (k == KEY_FATAL)
        return RD_FATAL;
    /* Names and roots are facts of a verified chain: an MTA checks them only
     * while verifying, so asking them alone would be dropped silently. */
    if (!c->verified && first[OR_NAMES] != 0) {
        err_at(r, mark[OR_NAMES], "certificate_names: needs 'certificate: verified' in this "
               "require block (an MTA checks names only while verifying the certificate)");
        rc = RD_BAD;
    }
    if (!c->verified && first[OR_ROOTS] != 0) {
        err_at(r, mark[OR_ROOTS], "root_issuers: needs 'certificate: verified' in this "
               "require block (an MTA checks the root only while verifying the certificate)");
        rc = RD_BAD;
    }
    /* Every other requirement is a property of a TLS session: it implies TLS. */
    if (c->min_version != TLS_VERSION_UNKNOWN || c->min_cipher_bits > 0 || c->forward_secrecy ||
        c->verified)
        c->tls = true;
    return rc;
}

/* ---------------------------------------------------------------- connectors */

static int
read_one(struct rd *r)
{
    unsigned first[OK_N] = { 0 };
    struct load_mark start, km, vm;
    struct outbound_connector *c, *v;
    struct policy *p = r->p;
    int rc = load_enter_map(r, "outbound connector", &start), k, one, e;

    if (rc != RD_OK)
        return rc;
    if ((v = realloc(p->out, (p->nout + 1) * sizeof(*v))) == NULL) {
        load_oom(r);
        return RD_FATAL;
    }
    p->out = v;
    c = &p->out[p->nout++];
    memset(c, 0, sizeof(*c));
    c->line = start.line;
    c->column = start.column;
    c->min_version = TLS_VERSION_UNKNOWN;
    c->mode = (enum policy_mode)-1;                 /* settings.mode, set once read */
    while ((k = load_next_key(r, &ob_sec, first, &km, &rc)) >= 0) {
        switch (k) {
        case OK_NAME:
            one = load_str(r, "name", &c->name, &vm);
            if (one == RD_OK) {
                const char *why = load_check_name(c->name);
                if (why != NULL) {
                    err_at(r, vm, "name: '%s' is not a connector name (expected %s)",
                           load_q(r, c->name), why);
                    one = RD_BAD;
                }
                for (size_t i = 0; one == RD_OK && i + 1 < p->nout; i++)
                    if (p->out[i].name != NULL && strcmp(p->out[i].name, c->name) == 0) {
                        err_at(r, vm, "duplicate outbound connector name '%s' (first at line %u)",
                               load_q(r, c->name), p->out[i].line);
                        one = RD_BAD;
                    }
            }
            break;
        case OK_MODE:
            e = POLICY_MODE_ENFORCE;
            one = load_enum(r, "mode", policy_mode_parse, "enforce or monitor", &e, &vm);
            if (one == RD_OK)
                c->mode = (enum policy_mode)e;
            break;
        case OK_DOMAINS:
            one = read_domains(r, c);
            break;
        case OK_HOSTS:
            one = read_hosts(r, c);
            break;
        case OK_REQUIRE:
            one = read_require(r, c);
            break;
        default:
            one = RD_FATAL;
            break;
        }
        if (!load_fold(&rc, one))
            return RD_FATAL;
    }
    if (k == KEY_FATAL)
        return RD_FATAL;
    if (first[OK_NAME] == 0) {
        err_at(r, start, "outbound connector has no name (expected name: followed by letters, "
               "digits, '.', '-' or '_')");
        rc = RD_BAD;
    }
    if (first[OK_DOMAINS] == 0) {
        err_at(r, start, "outbound connector '%s' has no recipient_domains (expected the "
               "partner's domains, e.g. [partner.test, \"*.partner.test\"])",
               load_q(r, c->name ? c->name : "?"));
        rc = RD_BAD;
    }
    /* A bracketed IP gives Postfix nothing to match a certificate name against. */
    for (size_t i = 0; c->verified && c->nnames == 0 && i < c->nhosts; i++)
        if (c->hosts[i].is_ip) {
            struct load_mark m = { c->hosts[i].line, c->hosts[i].column };
            err_at(r, m, "smart_hosts: '%s' is an IP address and 'certificate: verified' has "
                   "no certificate_names to match (expected certificate_names: the names "
                   "the host's certificate carries)", load_q(r, c->hosts[i].text));
            rc = RD_BAD;
        }
    return rc;
}

static int
read_one_at(struct rd *r, void *unused)
{
    (void)unused;
    return read_one(r);
}

int
load_outbound(struct rd *r)
{
    return load_each(r, "outbound", "a list of outbound connectors", read_one_at, NULL);
}

/* ---------------------------------------------------------------- after reading */

static void
lint_domains(struct rd *r)
{
    struct policy *p = r->p;

    for (size_t i = 0; i < p->nout; i++)
        for (size_t a = 0; a < p->out[i].ndomains; a++) {
            const struct outbound_domain *d = &p->out[i].domains[a];
            struct load_mark m = { d->line, d->column };
            bool dup = false;

            for (size_t j = 0; j <= i && !dup; j++)
                for (size_t b = 0; b < p->out[j].ndomains; b++) {
                    if (j == i && b >= a)
                        break;
                    if (strcmp(p->out[j].domains[b].pattern, d->pattern) == 0) {
                        warn_at(r, m, "recipient_domains: '%s' is also in outbound connector "
                                "'%s' (line %u): the first in the file wins, this entry is "
                                "never used", load_q(r, d->pattern), load_q(r, p->out[j].name),
                                p->out[j].domains[b].line);
                        dup = true;
                        break;
                    }
                }
            for (size_t j = 0; j < p->nout && !dup; j++) {
                if (j == i)
                    continue;
                for (size_t b = 0; b < p->out[j].ndomains; b++)
                    if (outbound_pattern_covers(p->out[j].domains[b].pattern, d->pattern))
                        warn_at(r, m, "recipient_domains: '%s' overlaps '%s' of outbound "
                                "connector '%s' (line %u): the most specific pattern wins, so "
                                "'%s' goes through '%s'", load_q(r, d->pattern),
                                load_q(r, p->out[j].domains[b].pattern), p->out[j].name,
                                p->out[j].domains[b].line, d->pattern, p->out[i].name);
            }
        }
}

/* A next hop carries one TLS policy in Postfix (FACTS: the policy is looked up
 * under the exact next hop), so two connectors cannot share a smart host. */
static void
check_shared_hosts(struct rd *r)
{
    struct policy *p = r->p;

    for (size_t i = 0; i < p->nout; i++)
        for (size_t a = 0; a < p->out[i].nhosts; a++)
            for (size_t j = 0; j < i; j++)
                for (size_t b = 0; b < p->out[j].nhosts; b++)
                    if (strcmp(p->out[i].hosts[a].text, p->out[j].hosts[b].text) == 0) {
                        struct load_mark m = { p->out[i].hosts[a].line, p->out[i].hosts[a].column };
                        err_at(r, m, "smart_hosts: '%s' is also the smart host of outbound "
                               "connector '%s' (line %u): an MTA keys its TLS policy by next "
                               "hop, so one host carries one policy (expected one connector "
                               "listing both partners' domains)",
                               load_q(r, p->out[i].hosts[a].text), load_q(r, p->out[j].name),
                               p->out[j].hosts[b].line);
                    }
}

void
load_outbound_finish(struct rd *r)
{
    struct policy *p = r->p;

    for (size_t i = 0; i < p->nout; i++) {
        struct outbound_connector *c = &p->out[i];

        if ((int)c->mode < 0)
            c->mode = p->settings.mode;
        for (size_t k = 0; k < c->nroots; k++) {
            char *why = NULL;
            struct load_mark m = { c->roots[k].line, c->roots[k].column };
            int e = outbound_roots_resolve(p, &c->roots[k], &why);

            if (e < 0) {
                free(why);
                load_oom(r);
                return;
            }
            if (e > 0)
                err_at(r, m, "root_issuers: '%s' resolves to no root certificate: %s",
                       load_q(r, c->roots[k].name), why);
            free(why);
        }
        if (outbound_requires_nothing(c)) {
            struct load_mark m = { c->line, c->column };
            warn_at(r, m, "outbound connector '%s' requires nothing: its mail leaves with "
                    "opportunistic TLS, as if it had no connector", load_q(r, c->name));
        }
    }
    check_shared_hosts(r);
    lint_domains(r);
}
