/*
 * export_postfix.c -- "tlspolicy export postfix": turns the outbound connectors
 * into Postfix 3.7 tables: the smtp_tls_policy_maps source (levels encrypt and
 * secure with match=, protocols=, ciphers=, exclude=, tafile=), one tafile= PEM
 * file of roots per connector that names roots, the transport_maps source for
 * smart hosts, and the main.cf lines to add (printed).
 * Never: leaves out a requirement Postfix cannot express without an error or a
 * warning naming connector and requirement, or writes a table it has not read
 * back: Postfix accepts a misspelt attribute when the map is built and then
 * defers every message of the domain (doc/mta-facts.md), so the tables are
 * checked here, attribute by attribute, before they are written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "export_mta.h"
#include "strbuf.h"
#include "strfmt.h"
#include "tls_facts.h"

/* OpenSSL's "high" grade is 128 bits and more: Postfix has no stricter grade, and
 * its grades do not govern TLS 1.3 suites at all. */
#define HIGH_GRADE_BITS 128

/* Sorted, so the same file gives the same bytes whatever its order of keys. */
static char *
table_render(const struct export_ctx *x, struct export_table *t, const char *what)
{
    struct strbuf b;
    char *head = export_header(x, "#", what);

    if (head == NULL)
        return NULL;
    export_table_sort(t);
    strbuf_init(&b);
    strbuf_puts(&b, head);
    free(head);
    for (size_t i = 0; i < t->n; i++)
        strbuf_printf(&b, "%s%s\t%s\n", t->v[i].comment, t->v[i].key, t->v[i].value);
    return strbuf_take(&b);
}

/* ---------------------------------------------------------------- one connector */

/* The domain as a Postfix table key: "*.x" is ".x" there. */
static char *
domain_key(const char *pattern)
{
    return strdup(pattern[0] == '*' ? pattern + 1 : pattern);
}

/* The tafile= of a connector: its roots, one PEM file, written before the map
 * that names it. NULL when it names none or on failure (*failed set). */
static char *
write_tafile(struct export_ctx *x, const struct outbound_connector *c, bool *failed)
{
    struct strbuf b;
    char *name = NULL, *path = NULL, *head;

    if (c->nroots == 0)
        return NULL;
    strbuf_init(&b);
    if ((head = export_header(x, "#", "trust anchors of one outbound connector")) != NULL)
        strbuf_puts(&b, head);
    free(head);
    for (size_t i = 0; i < c->nroots; i++)
        for (size_t k = 0; k < c->roots[i].n; k++) {
            strbuf_printf(&b, "# %s\n", c->roots[i].root_dn[k]);
            strbuf_puts(&b, c->roots[i].pem[k]);
        }
    name = strfmt("tafile-%s.pem", c->name);
    if (b.oom || name == NULL || export_write(x, name, b.s, b.len, &path) < 0)
        *failed = true;
    strbuf_free(&b);
    free(name);
    return path;
}

/* The policy of one connector as Postfix writes it ("secure match=... tafile=..."),
 * or NULL after an error about a requirement it cannot express. */
char *
export_postfix_policy(struct export_ctx *x, const struct outbound_connector *c,
                      const char *tafile)
{
    struct strbuf b;
    size_t errs = x->nerrors;

    strbuf_init(&b);
    /* secure, not verify: verify trusts the MX names DNS gives, secure matches
     * the certificate against names of the nexthop that DNS cannot change. */
    strbuf_puts(&b, c->verified ? "secure" : c->tls ? "encrypt" : "may");
    if (c->nnames > 0) {
        strbuf_puts(&b, " match=");
        for (size_t i = 0; i < c->nnames; i++) {
            const char *n = c->names[i];
            if (n[0] == '*') {
                export_warn(x, c, "certificate_names",
                            "'%s' is written '%s' for Postfix, which also accepts names more "
                            "than one label below '%s' (the file's '*.' means exactly one)",
                            n, n + 1, n + 2);
                n++;
            }
            strbuf_printf(&b, "%s%s", i ? ":" : "", n);
        }
    }
    if (c->min_version != TLS_VERSION_UNKNOWN)
        strbuf_printf(&b, " protocols=>=%s", tls_version_name(c->min_version));
    if (c->min_cipher_bits > HIGH_GRADE_BITS)
        export_error(x, c, "min_cipher_bits",
                     "%d bits cannot be asked of Postfix: its strongest cipher grade, high, "
                     "admits 128-bit ciphers, and TLS 1.3 suites follow no grade (expected "
                     "%d or less)", c->min_cipher_bits, HIGH_GRADE_BITS);
    else if (c->min_cipher_bits > 0)
        strbuf_puts(&b, " ciphers=high");
    /* TLS 1.3 suites all have forward secrecy; below it, only kRSA key exchange
     * lacks it among what OpenSSL 3 negotiates without a PSK. */
    if (c->forward_secrecy)
        strbuf_puts(&b, " exclude=kRSA");
    if (tafile != NULL)
        strbuf_printf(&b, " tafile=%s", tafile);
    if (x->nerrors > errs) {
        strbuf_free(&b);
        return NULL;
    }
    return strbuf_take(&b);
}

static void
add_connector(struct export_ctx *x, const struct outbound_connector *c,
              struct export_table *pol, struct export_table *tra, bool *failed)
{
    char *tafile = c->mode == POLICY_MODE_ENFORCE ? write_tafile(x, c, failed) : NULL;
    char *value = export_postfix_policy(x, c, tafile);
    char *why = strfmt("# outbound connector %s (%s line %u)%s\n", c->name, policy_path(x->p),
                       c->line, c->mode == POLICY_MODE_MONITOR ? ", mode monitor" : "");
    char *enforce = NULL;

    if (value == NULL || why == NULL)
        goto out;
    /* Monitor: the mail leaves with opportunistic TLS, and smtp_tls_loglevel 1
     * logs what each session had; the comment keeps what enforce would ask. */
    if (c->mode == POLICY_MODE_MONITOR) {
        enforce = value;
        value = strdup("may");
        char *w = strfmt("%s# monitor: enforce would be: %s\n", why, enforce);
        free(why);
        why = w;
        if (value == NULL || why == NULL)
            goto out;
    }
    if (c->nhosts > 0) {
        struct strbuf hops;

        /* The policy is looked up under the exact next hop: key it by each host. */
        strbuf_init(&hops);
        for (size_t i = 0; i < c->nhosts; i++) {
            strbuf_printf(&hops, "%s%s", i ? ", " : "smtp:", c->hosts[i].text);
            export_table_add(pol, strdup(c->hosts[i].text), strdup(value), strdup(why));
        }
        for (size_t i = 0; i < c->ndomains; i++)
            if (export_owns(x, c, c->domains[i].pattern))
                export_table_add(tra, domain_key(c->domains[i].pattern),
                                 strdup(strbuf_str(&hops)), strdup(why));
        if (hops.oom)
            pol->oom = true;
        strbuf_free(&hops);
    } else {
        for (size_t i = 0; i < c->ndomains; i++)
            if (export_owns(x, c, c->domains[i].pattern))
                export_table_add(pol, domain_key(c->domains[i].pattern), strdup(value),
                                 strdup(why));
    }
out:
    if (value == NULL || why == NULL)
        *failed = true;
    free(tafile);
    free(value);
    free(enforce);
    free(why);
}

/* A domain whose connector has no smart host, under a wildcard of one that has:
 * without an entry of its own, the wildcard's transport entry would carry it to
 * the other partner's smart host. ":" is transport(5)'s "do not change". */
static void
add_default_routes(const struct export_ctx *x, struct export_table *tra)
{
    for (size_t i = 0; i < policy_outbound_count(x->p); i++) {
        const struct outbound_connector *c = policy_outbound_get(x->p, i);
        for (size_t a = 0; c->nhosts == 0 && a < c->ndomains; a++) {
            if (export_under_smart_host(x, c->domains[a].pattern))
                export_table_add(tra, domain_key(c->domains[a].pattern), strdup(":"),
                                 strfmt("# outbound connector %s (%s line %u): its own "
                                        "route, not the smart host of a wider pattern\n",
                                        c->name, policy_path(x->p), c->line));
        }
    }
}

int
export_postfix_main(const char *progname, int argc, char **argv)
{
    struct export_ctx x;
    struct export_table pol = { 0 }, tra = { 0 };
    char *pol_text = NULL, *tra_text = NULL, *pol_path = NULL, *tra_path = NULL, *bad = NULL;
    bool failed = false;
    int rc = export_open(&x, progname, "postfix", argc, argv, true);

    if (rc != 0)
        return rc;
    for (size_t i = 0; i < policy_outbound_count(x.p); i++)
        add_connector(&x, policy_outbound_get(x.p, i), &pol, &tra, &failed);
    if (failed || pol.oom || tra.oom || x.nerrors > 0) {
        rc = 1;
        goto out;
    }
    add_default_routes(&x, &tra);
    pol_text = table_render(&x, &pol, "smtp_tls_policy_maps source (postmap it)");
    tra_text = table_render(&x, &tra, "transport_maps source (postmap it)");
    if (pol_text == NULL || tra_text == NULL) {
        fprintf(stderr, "%s: export postfix: out of memory\n", progname);
        rc = 1;
        goto out;
    }
    if ((bad = export_postfix_check(pol_text)) != NULL) {
        fprintf(stderr, "%s: export postfix: the generated policy table is wrong, not "
                "written (a bug): %s\n", progname, bad);
        rc = 1;
        goto out;
    }
    if (export_write(&x, "tls_policy", pol_text, strlen(pol_text), &pol_path) < 0 ||
        export_write(&x, "transport", tra_text, strlen(tra_text), &tra_path) < 0) {
        rc = 1;
        goto out;
    }
    printf("# main.cf lines for %zu outbound connector(s); after writing them:\n"
           "#   postmap hash:%s && postmap hash:%s && postfix reload\n"
           "smtp_tls_policy_maps = hash:%s\n", policy_outbound_count(x.p), pol_path,
           tra_path, pol_path);
    if (tra.n > 0)
        printf("transport_maps = hash:%s\n", tra_path);
    printf("smtp_tls_loglevel = 1\n");
    rc = 0;
out:
    export_table_free(&pol);
    export_table_free(&tra);
    free(pol_text);
    free(tra_text);
    free(pol_path);
    free(tra_path);
    free(bad);
    export_close(&x);
    return rc;
}
