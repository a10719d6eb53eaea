/*
 * fuzz_facts.c -- fuzz target for the macro normaliser: an input becomes a
 * struct policy_macros (dialect, present/absent mask, NUL-separated values) and
 * goes through policy_mta_detect and policy_facts_build.
 * Never: trusts the record it gets back; every string is walked.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static size_t walk(const char *s)
{
    return s ? strlen(s) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct policy_macros m;
    struct policy_facts f;
    char *fields[FUZZ_NFIELDS] = { NULL };
    int n = fuzz_macros(data, size, &m, fields);
    if (n < 0)
        return 0;
    enum policy_mta d = policy_mta_detect(&m);
    if (d == POLICY_MTA_AUTO)
        abort();                  /* the contract: never AUTO */
    if (policy_facts_build(&f, &m) == 0) {
        if (f.mta == POLICY_MTA_AUTO || f.nnotes > sizeof f.notes / sizeof f.notes[0])
            abort();
        volatile size_t sink = walk(f.client_addr) + walk(f.client_name) + walk(f.helo)
                               + walk(f.sender) + walk(f.sender_domain) + walk(f.tls_version)
                               + walk(f.cipher) + walk(f.subject_cn) + walk(f.subject_dn)
                               + walk(f.subject_o) + walk(f.issuer_cn) + walk(f.issuer_dn)
                               + walk(f.verify);
        for (size_t i = 0; i < f.nnotes; i++)
            sink += walk(f.notes[i]);
        (void)sink;
        if (f.sender_domain != NULL && f.sender == NULL)
            abort();              /* a domain comes from a sender */
        policy_facts_free(&f);
    }
    fuzz_fields_free(fields, n);
    return 0;
}
