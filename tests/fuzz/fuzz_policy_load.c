/*
 * fuzz_policy_load.c -- fuzz target for the connectors-file loader: any bytes
 * through policy_load_buffer, then every accessor of a loaded snapshot and every
 * diagnostic formatted.
 * Never: opens a file the input names (fuzz_common.c guards the trust store).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct policy_diags d;
    policy_diags_init(&d);
    struct policy *p = policy_load_buffer("fuzz.yaml", (const char *)data, size,
                                          fuzz_pki_dir(), &d);
    if (p != NULL) {
        const struct policy_settings *s = policy_settings(p);
        size_t n = policy_connector_count(p);
        /* Touch what the daemon reads from a snapshot. */
        volatile size_t sink = strlen(s->trust_store) + strlen(s->header) + strlen(s->authserv_id)
                               + strlen(s->log_json) + strlen(policy_path(p)) + n;
        (void)sink;
        if (d.nerrors != 0)
            abort();              /* a snapshot must never come with errors */
        policy_unref(policy_ref(p));
        policy_unref(p);
    } else if (d.nerrors == 0) {
        abort();                  /* a refusal must say why */
    }
    for (size_t i = 0; i < d.n; i++) {
        char *msg = policy_diag_format(&d.v[i]);
        free(msg);
    }
    policy_diags_free(&d);
    return 0;
}
