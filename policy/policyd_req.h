/*
 * policyd_req.h -- one Postfix policy delegation request (SMTPD_POLICY_README:
 * name=value lines ended by an empty line), parsed into the few attributes the
 * daemon joins on and keeps, and the join key both sides build.
 * Never: reads a socket, logs, keeps state, or echoes request bytes in an error.
 * Diagnostics: a request that is not name=value lines (or too big) yields one
 * sentence with the line and column and what was expected.
 */
#ifndef POLICYD_REQ_H
#define POLICYD_REQ_H

#include <stdbool.h>
#include <stddef.h>

/* Postfix 3.7 sends 29 attributes, about 1 KB with two SHA-256 fingerprints
 * (doc/mta-facts.md 12): the bounds leave room for later versions and for long
 * certificate names, and stop a peer that never sends the empty line. */
#define POLICYD_REQ_MAX_BYTES 16384
#define POLICYD_REQ_MAX_ATTRS 128

/* The TCP connection both sides see: client and server address (IPv4 as
 * v4-mapped IPv6) and port. */
struct policyd_key {
    unsigned char client_ip[16];
    unsigned char server_ip[16];
    unsigned client_port;
    unsigned server_port;
};

/* What the daemon keeps of a request: allocated copies, NULL when the attribute
 * was not sent (Postfix sends every one, empty when it does not apply). */
struct policyd_req {
    char *request;                  /* "smtpd_access_policy" */
    char *protocol_state;           /* "RCPT" is the one that is joined */
    char *client_address, *client_port, *server_address, *server_port;
    char *sender, *recipient;
    char *ccert_fingerprint, *ccert_pubkey_fingerprint;
    size_t nattrs;
};

/* The length of the first complete request in buf[0..len), empty line included,
 * or 0 when it has not all arrived. */
size_t policyd_req_end(const char *buf, size_t len);

/* Parse one complete request (as delimited by policyd_req_end). Returns 0; 1 when
 * the request is malformed, with *why a sentence ("line 3, column 1: expected
 * name=value") the caller frees; -1 when out of memory. r is cleared first and
 * owned by the caller after 0 (policyd_req_free). */
int  policyd_req_parse(const char *buf, size_t len, struct policyd_req *r, char **why);
void policyd_req_free(struct policyd_req *r);

/* The join key of a request that carries all four connection attributes.
 * Returns 0, or 1 with *why naming the attribute and what was expected. */
int  policyd_req_key(const struct policyd_req *r, struct policyd_key *k, const char **why);

/* A decimal port 0..65535 from text ("25", not "+25" or "025x"). 0 / -1. */
int  policyd_port_parse(const char *text, unsigned *port);

bool policyd_key_equal(const struct policyd_key *a, const struct policyd_key *b);

#endif
