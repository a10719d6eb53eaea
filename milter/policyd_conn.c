/*
 * policyd_conn.c -- the milter side of the policy delegation join (doc/mta-facts.md
 * 12): the key is the TCP 4-tuple, records of the tuple are forgotten at connect so
 * only this connection's can be taken, and a record must name the recipient and
 * sender being decided. Once one matched, the fingerprints hold for the connection.
 * Never: keys state by the 4-tuple (the session is the milter context's), or lets
 * "no record" read as "no certificate".
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "macros.h"
#include "match_addr.h"
#include "policyd.h"
#include "policyd_conn.h"
#include "policyd_table.h"

/* The client half of the key from the connect address. 0 / -1. */
static int
conn_client(const struct sockaddr *sa, struct policyd_key *k)
{
    if (sa == NULL)
        return -1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

        memset(k->client_ip, 0, 10);
        k->client_ip[10] = k->client_ip[11] = 0xff;
        memcpy(k->client_ip + 12, &in->sin_addr, 4);
        k->client_port = ntohs(in->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

        memcpy(k->client_ip, &in6->sin6_addr, 16);
        k->client_port = ntohs(in6->sin6_port);
        return 0;
    }
    return -1;
}

void
policyd_conn_connect(struct policyd_conn *c, SMFICTX *ctx, const struct sockaddr *sa)
{
    const char *addr, *port;

    policyd_conn_free(c);
    c->enabled = policyd_enabled();
    if (!c->enabled)
        return;
    if (conn_client(sa, &c->key) != 0) {
        c->why_unkeyed = "the MTA gave no TCP client address";
        return;
    }
    addr = macros_get(ctx, "{daemon_addr}");
    port = macros_get(ctx, "{daemon_port}");
    if (addr == NULL || addr_parse(addr, strlen(addr), c->key.server_ip) != 0) {
        c->why_unkeyed = "the MTA sent no usable {daemon_addr}";
        return;
    }
    if (policyd_port_parse(port, &c->key.server_port) != 0) {
        c->why_unkeyed = "the MTA sent no usable {daemon_port}";
        return;
    }
    c->keyed = true;
    policyd_table_forget(&c->key);
}

int
policyd_conn_rcpt(struct policyd_conn *c, const char *sender, const char *rcpt)
{
    char *fp, *pkfp;
    int rc;

    if (!c->enabled || !c->keyed)
        return 0;
    /* every recipient takes its own record, so none is left to age out */
    rc = policyd_table_take(&c->key, sender != NULL ? sender : "", rcpt, &fp, &pkfp);
    if (rc <= 0 || c->matched) {
        free(fp);
        free(pkfp);
        return rc < 0 ? -1 : 0;
    }
    c->fp = fp;
    c->pkfp = pkfp;
    c->matched = true;
    return 1;
}

void
policyd_conn_macros(const struct policyd_conn *c, struct policy_macros *m)
{
    if (!c->enabled || policy_mta_detect(m) != POLICY_MTA_POSTFIX) {
        m->deleg = POLICY_DELEG_OFF;
        return;
    }
    if (!c->matched) {
        m->deleg = POLICY_DELEG_MISSING;
        return;
    }
    m->deleg = POLICY_DELEG_MATCHED;
    m->cert_fp = c->fp;
    m->pubkey_fp = c->pkfp;
}

void
policyd_conn_free(struct policyd_conn *c)
{
    free(c->fp);
    free(c->pkfp);
    memset(c, 0, sizeof *c);
}
