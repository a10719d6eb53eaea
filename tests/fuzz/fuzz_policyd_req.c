/*
 * fuzz_policyd_req.c -- fuzz target for the Postfix policy delegation request
 * parser: the input is a byte stream as the socket would read it, cut into
 * requests by policyd_req_end and each one parsed and keyed.
 * Never: trusts what it gets back; every kept string is walked and checked to
 * hold no line end, since a value is what lies between '=' and '\n'.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "policyd_req.h"

static void check(const char *s)
{
    if (s != NULL && strchr(s, '\n') != NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t pos = 0, end;

    while ((end = policyd_req_end(buf + pos, size - pos)) > 0) {
        struct policyd_req r;
        struct policyd_key k;
        const char *kwhy;
        char *why = NULL;
        int rc = policyd_req_parse(buf + pos, end, &r, &why);

        if (rc == 0) {
            if (why != NULL || r.request == NULL || r.nattrs == 0 ||
                r.nattrs > POLICYD_REQ_MAX_ATTRS)
                abort();
            check(r.request);
            check(r.protocol_state);
            check(r.client_address);
            check(r.client_port);
            check(r.server_address);
            check(r.server_port);
            check(r.sender);
            check(r.recipient);
            check(r.ccert_fingerprint);
            check(r.ccert_pubkey_fingerprint);
            if (policyd_req_key(&r, &k, &kwhy) == 0 &&
                (k.client_port > 65535 || k.server_port > 65535 || !policyd_key_equal(&k, &k)))
                abort();
            policyd_req_free(&r);
        } else if (rc == 1) {
            if (why == NULL || why[0] == '\0')
                abort();          /* a refusal always says what was expected */
            free(why);
        }
        pos += end;
    }
    /* what is left has no end: the parser must say so, not read past it */
    if (pos < size) {
        struct policyd_req r;
        char *why = NULL;

        if (policyd_req_parse(buf + pos, size - pos, &r, &why) == 0)
            abort();
        free(why);
    }
    return 0;
}
