/*
 * check_pins.c -- the pinned certificates of a connectors file as `tlspolicy
 * check` shows them: where each is named, its subject, O, OU, key type and size,
 * SANs, expiry and both fingerprints, so an administrator can compare them with
 * what the partner announced before mail depends on them.
 * Never: prints a byte from a certificate unescaped (a subject can carry CR LF),
 * or judges expiry (the loader's warnings do, with the same rule as the daemon).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check_pins.h"
#include "esc.h"
#include "policy.h"
#include "strbuf.h"

static void
put_field(FILE *fp, const char *key, const char *val)
{
    struct strbuf b;

    fprintf(fp, "  %s: ", key);
    if (val == NULL) {
        fputs("-\n", fp);
        return;
    }
    strbuf_init(&b);
    esc_putn(&b, val, strlen(val), ESC_TEXT);
    fputs(b.oom ? "(out of memory)" : strbuf_str(&b), fp);
    fputc('\n', fp);
    strbuf_free(&b);
}

void
check_pins_print(const struct policy *p, FILE *fp)
{
    size_t n = policy_pinned_count(p);

    for (size_t i = 0; i < n; i++) {
        struct policy_pinned_cert pc;
        struct strbuf at;
        char line[160], date[32];
        struct tm tm;
        time_t t;

        if (!policy_pinned_get(p, i, &pc))
            break;
        /* the path may be of any length: a strbuf, not the fixed line below */
        strbuf_init(&at);
        strbuf_printf(&at, "%s:%u:%u", policy_path(p), pc.line, pc.column);
        fputs("pinned certificate:\n", fp);
        put_field(fp, "at", at.oom ? NULL : strbuf_str(&at));
        strbuf_free(&at);
        put_field(fp, "connector", pc.connector);
        put_field(fp, "file", pc.file);
        put_field(fp, "subject", pc.subject);
        put_field(fp, "organization", pc.organization);
        put_field(fp, "unit", pc.unit);
        /* key_type is one of OpenSSL's short names, so line always holds it */
        if (pc.rsa_equiv != pc.key_bits)
            (void)snprintf(line, sizeof(line), "%s, %d bits (as strong as RSA %d)", pc.key_type,
                           pc.key_bits, pc.rsa_equiv);
        else
            (void)snprintf(line, sizeof(line), "%s, %d bits", pc.key_type, pc.key_bits);
        put_field(fp, "key", line);
        put_field(fp, "sans", pc.sans);
        t = (time_t)pc.not_after;
        if (gmtime_r(&t, &tm) == NULL || strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
            (void)snprintf(date, sizeof(date), "@%lld", (long long)pc.not_after);
        put_field(fp, "expires", date);
        (void)snprintf(line, sizeof(line), "sha256:%s", pc.cert_sha256);
        put_field(fp, "certificate_fingerprint", line);
        (void)snprintf(line, sizeof(line), "sha256:%s", pc.pubkey_sha256);
        put_field(fp, "public_key_fingerprint", line);
    }
}
