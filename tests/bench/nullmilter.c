/*
 * nullmilter.c -- the benchmark baseline: a libmilter milter that negotiates like
 * milter-tlspolicy (same actions and macro lists) and continues at every callback,
 * so any difference in throughput is the cost of the policy work itself.
 * Never: looks at a macro, modifies a message, or refuses anything.
 */
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
        .xxfi_eom = nm_ctx_only,
        .xxfi_abort = nm_ctx_only,
        .xxfi_close = nm_ctx_only,
        .xxfi_data = nm_ctx_only,
        .xxfi_negotiate = nm_negotiate,
    };
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: nullmilter unix:PATH|inet:PORT@ADDR [PIDFILE]\n");
        return 2;
    }
    /* The MTA (user postfix) must be able to connect to a unix socket. */
    umask(0111);
    if (argc == 3) {
        FILE *f = fopen(argv[2], "w");
        if (f == NULL || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
            perror(argv[2]);
            return 1;
        }
    }
    if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS
        || smfi_opensocket(1) != MI_SUCCESS) {
        fprintf(stderr, "nullmilter: cannot listen on %s\n", argv[1]);
        return 1;
    }
    return smfi_main() == MI_SUCCESS ? 0 : 1;
}
