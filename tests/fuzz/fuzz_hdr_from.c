/*
 * fuzz_hdr_from.c -- fuzz target for hdr_from.c (the From: field reader) and the
 * facts step after it (IDNA conversion, sorting, de-duplication): the whole
 * input is one field body, NUL bytes included.
 * Never: accepts a parse that found no mailbox, an error without a reason, or a
 * domain that is empty or longer than the input it came from.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "hdr_from.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hdr_from hf;
    struct policy_macros m = { .mta = POLICY_MTA_POSTFIX, .sender = "<a@b.test>" };
    struct policy_facts f;
    char *s;

    if (hdr_from_parse((const char *)data, size, &hf) == 0) {
        if (hf.error == NULL && hf.n == 0)
            abort();
        if (hf.error != NULL && hf.error_at > size)
            abort();
        for (size_t i = 0; i < hf.n; i++)
            if (hf.domain[i][0] == '\0' || strlen(hf.domain[i]) > size)
                abort();
        hdr_from_free(&hf);
    }
    /* The facts take C strings: the field up to its first NUL. */
    if ((s = malloc(size + 1)) == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (policy_facts_build(&f, &m) == 0) {
        if (policy_facts_add_header_from(&f, s) == 0)
            for (size_t i = 1; i < f.nfrom; i++)
                if (strcmp(f.from_domains[i - 1], f.from_domains[i]) >= 0)
                    abort();            /* sorted and unique */
        policy_facts_free(&f);
    }
    free(s);
    return 0;
}
