/*
 * policy_bench.c -- scale figures of libpolicy: load time, memory (VmRSS/VmHWM)
 * and nanoseconds per policy_eval for connectors files made by genpolicy.sh, with
 * a fixed set of sessions (partner hits and misses) built once.
 * Never: judges the figures (run-bench.sh compares them with the goals); it only
 * fails when the library fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy.h"

#define NSESSIONS 64

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One "VmRSS:" style field of /proc/self/status, in kB; -1 when unavailable. */
static long proc_status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

/* Sessions that exercise every index: sender domains of partners (exact and
 * wildcard), addresses and names of address/name-matched partners, misses. */
struct session_spec {
    char sender[128];
    char client_addr[64];
    char client_name[128];
    char subject[128];
    int tls;                      /* 0 plain, 1 TLS 1.3 with cert, 2 TLS 1.2 no cert */
};

static void make_spec(struct session_spec *s, unsigned k, size_t nconn)
{
    /* genpolicy.sh writes connectors in blocks of ten whose kind depends only on
     * the offset in the block; picking a random block and a fixed offset per
     * session gives every policy size the same mix of work. */
    unsigned blocks = nconn >= 10 ? (unsigned)(nconn / 10) : 1;
    unsigned base = ((k * 7919u) % blocks) * 10;
    unsigned kind = k % 8;
    unsigned i;
    memset(s, 0, sizeof *s);
    snprintf(s->client_addr, sizeof s->client_addr, "127.0.0.1");
    s->tls = (int)(k % 3);
    if (kind < 4 && nconn > 0) {
        i = base + (k / 8) % 7;
        if (i >= nconn)
            i = (unsigned)(k % nconn);
        if (i % 2 == 0 && kind == 3)
            snprintf(s->sender, sizeof s->sender, "user@mx.p%u.bench.test", i);
        else
            snprintf(s->sender, sizeof s->sender, "user@p%u.bench.test", i);
        snprintf(s->subject, sizeof s->subject, "mail.p%u.bench.test", i);
    } else if (kind == 4 && nconn >= 10) {
        i = base + 7;
        snprintf(s->sender, sizeof s->sender, "user@other%u.test", k);
        snprintf(s->client_addr, sizeof s->client_addr, "10.%u.%u.%u",
                 (i >> 16) & 255, (i >> 8) & 255, i & 255);
    } else if (kind == 5 && nconn >= 10) {
        i = base + 8;
        snprintf(s->sender, sizeof s->sender, "user@other%u.test", k);
        snprintf(s->client_name, sizeof s->client_name, "a.mx.p%u.bench.test", i);
    } else if (kind == 6) {
        snprintf(s->sender, sizeof s->sender, "<>");
    } else {
        snprintf(s->sender, sizeof s->sender, "user@m%u.miss.test", k);
        snprintf(s->subject, sizeof s->subject, "mail.m%u.miss.test", k);
    }
}

static int build_facts(struct policy_facts *f, const struct session_spec *s)
{
    struct policy_macros m = {
        .mta = POLICY_MTA_POSTFIX,
        .mta_version = "Postfix 3.7.11",
        .client_addr = s->client_addr,
        .client_name = s->client_name[0] ? s->client_name : NULL,
        .helo = "client.bench.test",
        .sender = s->sender,
    };
    if (s->tls == 1) {
        m.tls_version = "TLSv1.3";
        m.cipher = "TLS_AES_256_GCM_SHA384";
        m.cipher_bits = "256";
        m.cert_subject = s->subject[0] ? s->subject : "mail.unknown.test";
        m.cert_issuer = "Test Issuing CA 1";
    } else if (s->tls == 2) {
        m.tls_version = "TLSv1.2";
        m.cipher = "ECDHE-RSA-AES128-GCM-SHA256";
        m.cipher_bits = "128";
    }
    return policy_facts_build(f, &m);
}

static int bench_file(const char *path, unsigned long iters)
{
    struct policy_diags d;
    struct policy_facts facts[NSESSIONS];
    size_t nfacts = 0;
    struct policy *p = NULL;
    int rc = 1;
    uint64_t matched = 0, refused = 0;

    policy_diags_init(&d);
    long rss0 = proc_status_kb("VmRSS");
    double t0 = mono();
    p = policy_load(path, &d);
    double t_load = mono() - t0;
    long rss1 = proc_status_kb("VmRSS");
    long hwm = proc_status_kb("VmHWM");
    if (p == NULL) {
        fprintf(stderr, "policy_bench: %s did not load:\n", path);
        for (size_t i = 0; i < d.n && i < 10; i++) {
            char *msg = policy_diag_format(&d.v[i]);
            fprintf(stderr, "  %s\n", msg ? msg : "(out of memory)");
            free(msg);
        }
        goto out;
    }
    size_t nconn = policy_connector_count(p);
    for (unsigned k = 0; k < NSESSIONS; k++) {
        struct session_spec s;
        make_spec(&s, k, nconn);
        if (build_facts(&facts[nfacts], &s) != 0) {
            fprintf(stderr, "policy_bench: policy_facts_build failed (out of memory)\n");
            goto out;
        }
        nfacts++;
    }
    /* Warm up (first lookups touch cold index pages), then measure. */
    for (size_t k = 0; k < nfacts; k++) {
        struct policy_result r;
        if (policy_eval(p, &facts[k], "user@example.test", &r) != 0) {
            fprintf(stderr, "policy_bench: policy_eval failed (out of memory)\n");
            goto out;
        }
        if (!r.is_default)
            matched++;
        policy_result_free(&r);
    }
    double t1 = mono();
    for (unsigned long it = 0; it < iters; it++) {
        struct policy_result r;
        if (policy_eval(p, &facts[it % nfacts], "user@example.test", &r) != 0) {
            fprintf(stderr, "policy_bench: policy_eval failed (out of memory)\n");
            goto out;
        }
        refused += policy_result_refuses(&r);
        policy_result_free(&r);
    }
    double t_eval = mono() - t1;
    printf("POLICY file=%s connectors=%zu load_ms=%.1f rss_kb=%ld rss_delta_kb=%ld hwm_kb=%ld"
           " eval_ns=%.0f evals=%lu sessions=%zu matched=%" PRIu64 " refused=%" PRIu64 "\n",
           path, nconn, t_load * 1e3, rss1, rss1 - rss0, hwm,
           iters ? t_eval * 1e9 / (double)iters : 0.0, iters, nfacts, matched, refused);
    rc = 0;
out:
    for (size_t k = 0; k < nfacts; k++)
        policy_facts_free(&facts[k]);
    policy_unref(p);
    policy_diags_free(&d);
    return rc;
}

int main(int argc, char **argv)
{
    unsigned long iters = 1000000;
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "-i") == 0) {
        char *end;
        errno = 0;
        iters = strtoul(argv[2], &end, 10);
        if (errno || *end != '\0' || argv[2][0] == '-') {
            fprintf(stderr, "policy_bench: -i: '%s' is not a count\n", argv[2]);
            return 2;
        }
        i = 3;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: policy_bench [-i EVALUATIONS] CONNECTORS.yaml...\n"
                        "One POLICY line per file; run one file per process for a clean VmHWM.\n");
        return 2;
    }
    int rc = 0;
    for (; i < argc; i++)
        rc |= bench_file(argv[i], iters);
    return rc;
}
