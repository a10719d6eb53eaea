/*
 * policyd_req.c -- parses one Postfix policy delegation request: name=value
 * lines, the value everything after the first '=', an empty line at the end.
 * Keeps the connection, envelope and certificate attributes; counts the rest.
 * Never: reads a socket, logs, or puts a byte of the request into an error
 * message (the peer may be hostile; the caller logs the sentence as it is).
 */
#include <stdlib.h>
#include <string.h>

#include "match_addr.h"
#include "policyd_req.h"
#include "strfmt.h"

/* Attribute names are lower-case words with '_' in every Postfix version. */
static bool
name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

size_t
policyd_req_end(const char *buf, size_t len)
{
    /* a request that starts with its empty line is empty: the parser says so */
    if (len >= 1 && buf[0] == '\n')
        return 1;
    for (size_t i = 1; i < len; i++)
        if (buf[i] == '\n' && buf[i - 1] == '\n')
            return i + 1;
    return 0;
}

void
policyd_req_free(struct policyd_req *r)
{
    if (r == NULL)
        return;
    free(r->request);
    free(r->protocol_state);
    free(r->client_address);
    free(r->client_port);
    free(r->server_address);
    free(r->server_port);
    free(r->sender);
    free(r->recipient);
    free(r->ccert_fingerprint);
    free(r->ccert_pubkey_fingerprint);
    memset(r, 0, sizeof *r);
}

/* The field of r that keeps attribute name[0..n), or NULL for one not kept. */
static char **
req_slot(struct policyd_req *r, const char *name, size_t n)
{
    static const struct { const char *name; size_t off; } kept[] = {
        { "request", offsetof(struct policyd_req, request) },
        { "protocol_state", offsetof(struct policyd_req, protocol_state) },
        { "client_address", offsetof(struct policyd_req, client_address) },
        { "client_port", offsetof(struct policyd_req, client_port) },
        { "server_address", offsetof(struct policyd_req, server_address) },
        { "server_port", offsetof(struct policyd_req, server_port) },
        { "sender", offsetof(struct policyd_req, sender) },
        { "recipient", offsetof(struct policyd_req, recipient) },
        { "ccert_fingerprint", offsetof(struct policyd_req, ccert_fingerprint) },
        { "ccert_pubkey_fingerprint", offsetof(struct policyd_req, ccert_pubkey_fingerprint) },
    };

    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        if (strlen(kept[i].name) == n && memcmp(kept[i].name, name, n) == 0)
            return (char **)(void *)((char *)r + kept[i].off);
    return NULL;
}

/* One "name=value" line (without its '\n'). 0, 1 with *why, -1 out of memory. */
static int
req_line(struct policyd_req *r, const char *line, size_t len, unsigned lineno, char **why)
{
    const char *eq = memchr(line, '=', len);
    size_t n;
    char **slot;

    for (n = 0; n < len && line[n] != '='; n++) {
        if (!name_char(line[n])) {
            *why = strfmt("line %u, column %zu: expected name=value with a name of "
                          "a-z, 0-9 and _", lineno, n + 1);
            return *why != NULL ? 1 : -1;
        }
    }
    if (eq == NULL || n == 0) {
        *why = strfmt("line %u, column %zu: expected name=value", lineno, n + 1);
        return *why != NULL ? 1 : -1;
    }
    if (memchr(eq + 1, '\0', len - n - 1) != NULL) {
        *why = strfmt("line %u: expected text, got a NUL byte in the value", lineno);
        return *why != NULL ? 1 : -1;
    }
    if (++r->nattrs > POLICYD_REQ_MAX_ATTRS) {
        *why = strfmt("line %u: expected at most %d attributes", lineno, POLICYD_REQ_MAX_ATTRS);
        return *why != NULL ? 1 : -1;
    }
    if ((slot = req_slot(r, line, n)) == NULL)
        return 0;
    if (*slot != NULL) {
        /* a second value could make the two sides join on different ones */
        *why = strfmt("line %u: expected each attribute once, got %.*s again", lineno,
                      (int)n, line);
        return *why != NULL ? 1 : -1;
    }
    *slot = strndup(eq + 1, len - n - 1);
    return *slot != NULL ? 0 : -1;
}

int
policyd_req_parse(const char *buf, size_t len, struct policyd_req *r, char **why)
{
    unsigned lineno = 0;
    size_t pos = 0;
    int rc;

    memset(r, 0, sizeof *r);
    *why = NULL;
    if (len > POLICYD_REQ_MAX_BYTES) {
        *why = strfmt("expected at most %d bytes, got %zu", POLICYD_REQ_MAX_BYTES, len);
        return *why != NULL ? 1 : -1;
    }
    for (;;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t n;

        lineno++;
        if (nl == NULL) {
            *why = strfmt("line %u: expected the empty line that ends a request", lineno);
            rc = *why != NULL ? 1 : -1;
            goto fail;
        }
        n = (size_t)(nl - (buf + pos));
        if (n == 0)
            break;
        /* Postfix writes bare LF; a CR before it belongs to no attribute */
        if (buf[pos + n - 1] == '\r') {
            *why = strfmt("line %u, column %zu: expected LF line ends, got CR LF", lineno, n);
            rc = *why != NULL ? 1 : -1;
            goto fail;
        }
        if ((rc = req_line(r, buf + pos, n, lineno, why)) != 0)
            goto fail;
        pos += n + 1;
    }
    if (pos + 1 != len) {
        *why = strfmt("line %u: expected the request to end at its empty line", lineno);
        rc = *why != NULL ? 1 : -1;
        goto fail;
    }
    if (r->nattrs == 0) {
        *why = strfmt("line 1: expected name=value lines, got an empty request");
        rc = *why != NULL ? 1 : -1;
        goto fail;
    }
    if (r->request == NULL || strcmp(r->request, "smtpd_access_policy") != 0) {
        *why = strfmt("expected request=smtpd_access_policy");
        rc = *why != NULL ? 1 : -1;
        goto fail;
    }
    return 0;
fail:
    policyd_req_free(r);
    memset(r, 0, sizeof *r);
    return rc;
}

int
policyd_port_parse(const char *text, unsigned *port)
{
    unsigned long v = 0;
    size_t i;

    if (text == NULL || text[0] == '\0')
        return -1;
    for (i = 0; text[i] != '\0'; i++) {
        if (text[i] < '0' || text[i] > '9' || i >= 5)
            return -1;
        v = v * 10 + (unsigned long)(text[i] - '0');
    }
    if (v > 65535)
        return -1;
    *port = (unsigned)v;
    return 0;
}

int
policyd_req_key(const struct policyd_req *r, struct policyd_key *k, const char **why)
{
    memset(k, 0, sizeof *k);
    if (r->client_address == NULL ||
        addr_parse(r->client_address, strlen(r->client_address), k->client_ip) != 0) {
        *why = "client_address: expected an IP address";
        return 1;
    }
    if (policyd_port_parse(r->client_port, &k->client_port) != 0) {
        *why = "client_port: expected a port number";
        return 1;
    }
    if (r->server_address == NULL ||
        addr_parse(r->server_address, strlen(r->server_address), k->server_ip) != 0) {
        *why = "server_address: expected an IP address";
        return 1;
    }
    if (policyd_port_parse(r->server_port, &k->server_port) != 0) {
        *why = "server_port: expected a port number";
        return 1;
    }
    return 0;
}

bool
policyd_key_equal(const struct policyd_key *a, const struct policyd_key *b)
{
    return a->client_port == b->client_port && a->server_port == b->server_port &&
           memcmp(a->client_ip, b->client_ip, 16) == 0 &&
           memcmp(a->server_ip, b->server_ip, 16) == 0;
}
