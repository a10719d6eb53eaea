/*
 * fuzz_eval.c -- fuzz target for the evaluator: a fixed policy touching every
 * match key and requirement is loaded once; each input becomes session macros
 * plus a recipient (see fuzz_macros) and is evaluated.
 * Never: lets an input change the policy; results are checked for the
 * invariants the daemon relies on (names, reasons, action ordering).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static const char policy_text[] =
    "version: 1\n"
    "settings: { mode: enforce, trust_store: trust.pem, intermediates: [ints.pem],\n"
    "            header: X-TLS-Policy, authserv_id: mx.local.test, on_error: tempfail }\n"
    "defaults: { require: { tls: true }, on_fail: tag }\n"
    "connectors:\n"
    "  - name: partner-a\n"
    "    match: { sender_domains: [partner-a.test, \"*.partner-a.test\"] }\n"
    "    require: { tls: true, min_version: TLSv1.2, min_cipher_bits: 128, forward_secrecy: true,\n"
    "               certificate: verified, certificate_names: [mail.partner-a.test, \"*.mx.partner-a.test\"],\n"
    "               issuers: [\"Test Issuing CA 1\", \"/C=DE/O=Test PKI/CN=Test Issuing CA 1\"],\n"
    "               root_issuers: [\"Test Root CA R1\"], organizations: [\"Partner A Ltd\"] }\n"
    "    restrict_sender_domains: true\n"
    "    on_fail: reject\n"
    "    reply: \"5.7.1 partner-a must use verified TLS\"\n"
    "  - name: partner-b\n"
    "    mode: monitor\n"
    "    match: { sender_domains: [partner-b.test], recipient_domains: [example.test] }\n"
    "    require: { certificate: presented, issuers: [\"CN=Other Issuing CA,O=Other PKI,C=US\"] }\n"
    "    on_fail: quarantine\n"
    "  - name: relay\n"
    "    match: { client_addresses: [127.0.0.0/8, \"::1\", 192.0.2.0/24, \"2001:db8::/32\"] }\n"
    "    require: { tls: true, min_version: TLSv1.3 }\n"
    "    on_fail: tempfail\n"
    "  - name: by-name\n"
    "    match: { client_names: [\"*.mx.partner-c.test\"] }\n"
    "    require: { certificate: verified, root_issuers: [\"Test Root CA R2\", \"Other Root CA\"] }\n"
    "    on_fail: tag\n"
    "  - name: by-cert\n"
    "    match: { certificate_names: [\"mail.partner-d.test\"] }\n"
    "    require: { certificate: verified }\n"
    "    on_fail: accept\n"
    "  - name: off\n"
    "    enabled: false\n"
    "    match: { sender_domains: [\"*.test\"] }\n"
    "    require: { tls: true }\n";

static struct policy *pol;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct policy_diags d;
    policy_diags_init(&d);
    pol = policy_load_buffer("fuzz_eval.yaml", policy_text, sizeof policy_text - 1,
                             fuzz_pki_dir(), &d);
    if (pol == NULL) {
        fprintf(stderr, "fuzz_eval: the fixed policy does not load (set TLSPOLICY_TEST_PKI "
                        "to the test PKI directory):\n");
        for (size_t i = 0; i < d.n; i++) {
            char *msg = policy_diag_format(&d.v[i]);
            fprintf(stderr, "  %s\n", msg ? msg : "(out of memory)");
            free(msg);
        }
        exit(1);
    }
    policy_diags_free(&d);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct policy_macros m;
    struct policy_facts f;
    char *fields[FUZZ_NFIELDS] = { NULL };
    int n = fuzz_macros(data, size, &m, fields);
    if (n < 0)
        return 0;
    if (policy_facts_build(&f, &m) == 0) {
        for (int pass = 0; pass < 2; pass++) {
            struct policy_result r;
            const char *rcpt = pass == 0 ? NULL : (n == FUZZ_NFIELDS ? fields[FUZZ_NFIELDS - 1] : "user@example.test");
            if (policy_eval(pol, &f, rcpt, &r) != 0)
                continue;
            if (r.connector == NULL || r.nreasons > POLICY_MAX_REASONS
                || (r.verdict == POLICY_VERDICT_FAIL) != (r.nreasons > 0))
                abort();
            volatile size_t sink = strlen(r.connector) + (r.reply ? strlen(r.reply) : 0)
                                   + (r.root ? strlen(r.root) : 0);
            for (size_t i = 0; i < r.nreasons; i++)
                sink += strlen(r.reasons[i]);
            (void)sink;
            (void)policy_result_refuses(&r);
            policy_result_free(&r);
        }
        policy_facts_free(&f);
    }
    fuzz_fields_free(fields, n);
    return 0;
}
