/*
 * macros.c -- the macro lists requested from the MTA in negotiate, and reading
 * the macros into struct policy_macros. Owns the knowledge of what Postfix and
 * Sendmail send at which stage (doc/mta-facts.md 3, 4.1, 6.2). Never: interprets a value
 * beyond absent/empty and the "no verified host name" spellings, never logs it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macros.h"

/* Postfix replaces its milter_*_macros with these lists (doc/mta-facts.md 4.1): every
 * macro we read must be in one. TLS macros arrive with the HELO after STARTTLS;
 * asking again at MAIL covers SMFIP_NOHELO, wrappermode and MTAs that send them
 * late. Sendmail sends {verify} only when asked (doc/mta-facts.md 6.2). Postfix sends "i"
 * from DATA on only, so it is asked for again at end of message. */
/* {daemon_addr} {daemon_port}: the server half of the policy delegation join key
 * (doc/mta-facts.md 12); the list replaces Postfix's, which had {daemon_addr}.
 * {cert_fp} (CertFingerprintAlgorithm set) or else {cert_md5}: Sendmail sends one,
 * never both, and neither unless asked (doc/mta-facts.md 6.3). */
const char *const macros_connect =
    "j _ v {daemon_name} {daemon_addr} {daemon_port} {client_addr} {client_name}";
const char *const macros_helo =
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify} "
    "{cert_fp} {cert_md5}";
const char *const macros_envfrom =
    "i {mail_addr} {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify} "
    "{cert_fp} {cert_md5}";
const char *const macros_envrcpt = "{rcpt_addr}";
const char *const macros_eom = "i";

/* smfi_* take char *: hand them a private copy of our constant. */
static int
macros_setsymlist(SMFICTX *ctx, int stage, const char *list)
{
    char *copy = strdup(list);
    int rc;

    if (copy == NULL)
        return -1;
    rc = smfi_setsymlist(ctx, stage, copy);
    free(copy);
    return rc == MI_SUCCESS ? 0 : -1;
}

int
macros_request(SMFICTX *ctx)
{
    int rc = 0;

    if (macros_setsymlist(ctx, SMFIM_CONNECT, macros_connect) != 0)
        rc = -1;
    if (macros_setsymlist(ctx, SMFIM_HELO, macros_helo) != 0)
        rc = -1;
    if (macros_setsymlist(ctx, SMFIM_ENVFROM, macros_envfrom) != 0)
        rc = -1;
    if (macros_setsymlist(ctx, SMFIM_ENVRCPT, macros_envrcpt) != 0)
        rc = -1;
    if (macros_setsymlist(ctx, SMFIM_EOM, macros_eom) != 0)
        rc = -1;
    return rc;
}

const char *
macros_get(SMFICTX *ctx, const char *name)
{
    char buf[64];
    int n;

    n = snprintf(buf, sizeof buf, "%s", name);
    if (n < 0 || (size_t)n >= sizeof buf)
        return NULL;
    return smfi_getsymval(ctx, buf);
}

const char *
macros_queue_id(SMFICTX *ctx)
{
    const char *i = macros_get(ctx, "i");

    return (i != NULL && i[0] != '\0') ? i : NULL;
}

void
macros_read(SMFICTX *ctx, const char *conn_host, const char *conn_addr,
            const char *helo, const char *mail_arg, struct policy_macros *m)
{
    const char *v;

    memset(m, 0, sizeof *m);
    m->mta = POLICY_MTA_AUTO;
    m->mta_version = macros_get(ctx, "v");
    v = macros_get(ctx, "{client_addr}");
    m->client_addr = (v != NULL && v[0] != '\0') ? v : conn_addr;
    v = macros_get(ctx, "{client_name}");
    /* as sent: policy_facts_build alone decides that "unknown" (Postfix) and
     * "[192.0.2.1]" (Sendmail) mean no name */
    m->client_name = v != NULL ? v : conn_host;
    m->helo = helo;
    v = macros_get(ctx, "{mail_addr}");
    m->sender = v != NULL ? v : mail_arg;
    m->tls_version = macros_get(ctx, "{tls_version}");
    m->cipher = macros_get(ctx, "{cipher}");
    m->cipher_bits = macros_get(ctx, "{cipher_bits}");
    m->cert_subject = macros_get(ctx, "{cert_subject}");
    m->cert_issuer = macros_get(ctx, "{cert_issuer}");
    m->verify = macros_get(ctx, "{verify}");
    m->cert_fp = macros_get(ctx, "{cert_fp}");
    if (m->cert_fp == NULL)
        m->cert_fp = macros_get(ctx, "{cert_md5}");
}

char *
macros_rcpt(SMFICTX *ctx, const char *rcpt_arg)
{
    const char *v = macros_get(ctx, "{rcpt_addr}");
    size_t len;

    if (v != NULL && v[0] != '\0')
        return strdup(v);
    if (rcpt_arg == NULL)
        return strdup("");
    len = strlen(rcpt_arg);
    if (len >= 2 && rcpt_arg[0] == '<' && rcpt_arg[len - 1] == '>')
        return strndup(rcpt_arg + 1, len - 2);
    return strdup(rcpt_arg);
}
