/*
 * nullmilter.c -- the benchmark baseline: a libmilter milter that negotiates like
 * milter-tlspolicy (same actions and macro lists) and continues at every callback,
 * so any difference in throughput is the cost of the policy work itself. With
 * -a BYTES it also adds one X-TLS-Policy header of BYTES value bytes at end of
 * message: the floor of the daemon's job, which must add one header per message.
 * Never: looks at a macro, changes or removes anything, or refuses anything.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

/* The no-reply steps milter-tlspolicy takes (SESSION_NOREPLY in milter/session.c).
 * Every MTA connection offers the same, so one process-wide copy will do. */
#define NM_NOREPLY (SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_HDR)
static atomic_ulong nm_noreply;

/* With -a: the header added at end of message, built once (every message gets
 * the same bytes, so no per-message work beside the add itself). */
#define NM_HDR_NAME "X-TLS-Policy"
static char *nm_hdr_value;

/* "continue", unanswered where negotiated so (libmilter insists) */
static sfsistat nm_continue(unsigned long nr_bit)
{
    return (atomic_load_explicit(&nm_noreply, memory_order_relaxed) & nr_bit) ? SMFIS_NOREPLY
                                                                              : SMFIS_CONTINUE;
}

static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                             unsigned long f2, unsigned long f3, unsigned long *pf0,
                             unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    (void)f2;
    (void)f3;
    unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
    *pf0 = f0 & want;
    /* The steps milter-tlspolicy declines (milter/session.c): a baseline that did
     * more round trips than the daemon would flatter the daemon. */
    *pf1 = f1 & (SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA | SMFIP_HDR_LEADSPC |
                 NM_NOREPLY);
    atomic_store_explicit(&nm_noreply, *pf1 & NM_NOREPLY, memory_order_relaxed);
    *pf2 = 0;
    *pf3 = 0;
    if (f0 & SMFIF_SETSYMLIST) {
        /* The same lists milter-tlspolicy asks for, so the MTA sends as much. */
        static const struct { int stage; const char *list; } lists[] = {
            { SMFIM_CONNECT, "j _ v {daemon_name} {client_addr} {client_name}" },
            { SMFIM_HELO, "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {verify}" },
            { SMFIM_ENVFROM, "i {mail_addr} {tls_version} {cipher} {cipher_bits} {cert_subject} "
                             "{cert_issuer} {verify}" },
            { SMFIM_ENVRCPT, "{rcpt_addr}" },
            { SMFIM_EOM, "i" },
        };
        for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
            if (smfi_setsymlist(ctx, lists[i].stage, (char *)(uintptr_t)lists[i].list) != MI_SUCCESS)
                return SMFIS_REJECT;  /* libmilter then fails the session: visible in the bench */
    }
    return SMFIS_CONTINUE;
}

static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    (void)ctx; (void)host; (void)sa;
    return SMFIS_CONTINUE;
}

static sfsistat nm_helo(SMFICTX *ctx, char *helo)
{
    (void)ctx; (void)helo;
    return nm_continue(SMFIP_NR_HELO);
}

static sfsistat nm_envfrom(SMFICTX *ctx, char **argv)
{
    (void)ctx; (void)argv;
    return nm_continue(SMFIP_NR_MAIL);
}

static sfsistat nm_envrcpt(SMFICTX *ctx, char **argv)
{
    (void)ctx; (void)argv;
    return SMFIS_CONTINUE;
}

static sfsistat nm_header(SMFICTX *ctx, char *name, char *value)
{
    (void)ctx; (void)name; (void)value;
    return nm_continue(SMFIP_NR_HDR);
}

static sfsistat nm_ctx_only(SMFICTX *ctx)
{
    (void)ctx;
    return SMFIS_CONTINUE;
}

/* Build a value of exactly n bytes shaped like the daemon's: a leading space
 * (libmilter hands the MTA's leading space through), space-separated fields,
 * folded with "\n\t" before a line would pass 78 columns (milter/posture_log.c
 * folds the same way, LF only: the MTA adds the CR). */
static char *nm_hdr_build(size_t n)
{
    static const char word[] = "bench=null;";
    char *v = malloc(n + 1);
    if (v == NULL)
        return NULL;
    size_t i = 0, col = strlen(NM_HDR_NAME) + 1;   /* after "X-TLS-Policy:" */
    while (i < n) {
        if (i > 0 && col + sizeof word > 78 && n - i > 2) {
            v[i++] = '\n';
            v[i++] = '\t';
            col = 8;
        } else {
            v[i++] = ' ';
            col++;
        }
        for (size_t k = 0; word[k] != '\0' && i < n; k++, col++)
            v[i++] = word[k];
    }
    /* no trailing white space: a fold with nothing after it is an empty line */
    if (v[n - 1] == ' ' || v[n - 1] == '\t')
        v[n - 1] = ';';
    v[n] = '\0';
    return v;
}

static sfsistat nm_eom(SMFICTX *ctx)
{
    if (nm_hdr_value == NULL)
        return SMFIS_CONTINUE;
    /* A failed add is a tempfail, so the bench counts it instead of measuring
     * a baseline that silently did less than asked. */
    if (smfi_addheader(ctx, (char *)(uintptr_t)NM_HDR_NAME, nm_hdr_value) != MI_SUCCESS)
        return SMFIS_TEMPFAIL;
    return SMFIS_CONTINUE;
}

static sfsistat nm_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
    (void)ctx; (void)p; (void)n;
    return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
    struct smfiDesc desc = {
        .xxfi_name = (char *)(uintptr_t)"nullmilter",
        .xxfi_version = SMFI_VERSION,
        .xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
        .xxfi_connect = nm_connect,
        .xxfi_helo = nm_helo,
        .xxfi_envfrom = nm_envfrom,
        .xxfi_envrcpt = nm_envrcpt,
        .xxfi_header = nm_header,
        .xxfi_eoh = nm_ctx_only,
        .xxfi_body = nm_body,
        .xxfi_eom = nm_eom,
        .xxfi_abort = nm_ctx_only,
        .xxfi_close = nm_ctx_only,
        .xxfi_data = nm_ctx_only,
        .xxfi_negotiate = nm_negotiate,
    };
    static const char usage[] = "usage: nullmilter [-a BYTES] unix:PATH|inet:PORT@ADDR [PIDFILE]\n"
                                "  -a BYTES  add one " NM_HDR_NAME " header of BYTES value bytes"
                                " (1..60000) at end of message\n";
    int c;
    while ((c = getopt(argc, argv, "a:")) != -1) {
        if (c != 'a') {
            fputs(usage, stderr);
            return 2;
        }
        /* 60000: the value must fit one milter packet (libmilter's limit is 65535) */
        char *end;
        errno = 0;
        unsigned long n = strtoul(optarg, &end, 10);
        if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-' || n < 1 || n > 60000) {
            fprintf(stderr, "nullmilter: -a '%s': expected a number of bytes in 1..60000\n", optarg);
            return 2;
        }
        free(nm_hdr_value);
        if ((nm_hdr_value = nm_hdr_build(n)) == NULL) {
            fprintf(stderr, "nullmilter: out of memory\n");
            return 1;
        }
    }
    if (argc - optind < 1 || argc - optind > 2) {
        fputs(usage, stderr);
        return 2;
    }
    const char *conn = argv[optind];
    /* The MTA (user postfix) must be able to connect to a unix socket. */
    umask(0111);
    if (argc - optind == 2) {
        const char *pidfile = argv[optind + 1];
        FILE *f = fopen(pidfile, "w");
        if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
            perror(pidfile);
            return 1;
        }
    }
    if (smfi_setconn((char *)(uintptr_t)conn) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS
        || smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "nullmilter: cannot listen on %s\n", conn);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
