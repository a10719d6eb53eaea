/*
 * milterload.c -- a load driver that plays the MTA side of the milter protocol
 * (version 6) against a milter socket, with Postfix-like macro sets, and reports
 * messages/s, per-message latency and every reply by kind.
 * Never: links libmilter (it must test the milter, not share its bugs), waits
 * without a bound, or connects anywhere but the socket it is given.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "milter_wire.h"

/* Protocol constants, written out from the protocol description so that this
 * driver stays independent of libmilter's headers. */
#define MAX_PROGRESS   10000        /* SMFIR_PROGRESS packets tolerated per command */
#define NSTAGES        7            /* symlist stages: connect helo mail rcpt data eom eoh */

/* Session kinds selectable with --mix. */
enum kind { K_TLS, K_PLAIN, K_ANON, K_LEGACY, K_SENDMAIL, K_BADCERT, NKINDS };
static const char *const kind_names[NKINDS] = {
    "tls", "plain", "anon", "legacy", "sendmail", "badcert",
};

/* Message outcomes and reply kinds counted per worker, summed at the end. */
enum outcome { O_DELIVERED, O_REJECTED, O_TEMPFAILED, O_DISCARDED, O_ACCEPTED_EARLY, NOUTCOMES };
static const char *const outcome_names[NOUTCOMES] = {
    "delivered", "rejected", "tempfailed", "discarded", "accepted_early",
};

struct stats {
    uint64_t replies[256];        /* by reply byte */
    uint64_t outcome[NOUTCOMES];
    uint64_t rcpt_refused;
    uint64_t replycode_4xx, replycode_5xx;
    uint64_t quarantined;
    uint64_t addheader_bytes;     /* SMFIR_ADDHEADER payloads: name, value, two NULs */
    uint64_t sessions, sessions_refused, sessions_dropped;
    uint64_t messages;
    uint64_t *lat_ns;             /* one per completed message */
    size_t nlat, alat;
    char err[512];                /* first fatal error of this worker */
};

struct options {
    const char *socket;
    unsigned concurrency;
    unsigned conns;               /* sessions per worker */
    unsigned messages;            /* per session */
    unsigned rcpts;
    unsigned mix[NKINDS];         /* weights */
    unsigned mix_total;
    unsigned domains;             /* partner domains p<I>.bench.test, I < domains */
    unsigned hit_pct;
    size_t macro_size;
    size_t body_size;
    double time_limit;            /* seconds for the whole run */
    double io_timeout;            /* seconds per reply */
    bool forged_header;           /* every message carries a forged X-TLS-Policy header */
    unsigned seed;
    bool quiet;
};

static struct options opt;
static struct timespec t_start;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)(ts.tv_sec - t_start.tv_sec) + (double)(ts.tv_nsec - t_start.tv_nsec) / 1e9;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift: per-worker, reproducible from --seed, no shared state. */
static uint32_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return (uint32_t)(x >> 16);
}

/* ------------------------------------------------------------------ buffers */

struct buf {
    unsigned char *p;
    size_t len, cap;
    bool oom;
};

static void buf_reserve(struct buf *b, size_t extra)
{
    if (b->oom)
        return;
    if (b->len + extra <= b->cap)
        return;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + extra)
        ncap *= 2;
    unsigned char *np = realloc(b->p, ncap);
    if (np == NULL) {
        b->oom = true;
        return;
    }
    b->p = np;
    b->cap = ncap;
}

static void buf_add(struct buf *b, const void *d, size_t n)
{
    buf_reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, d, n);
    b->len += n;
}

static void buf_str0(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s) + 1);
}

static void buf_u32(struct buf *b, uint32_t v)
{
    uint32_t n = htonl(v);
    buf_add(b, &n, 4);
}

/* ------------------------------------------------------------------ one session */

struct macro {
    char *name;                   /* without braces */
    char *value;
};

struct session {
    int fd;
    struct stats *st;
    uint64_t *rng;
    uint32_t actions, protocol;   /* as the milter answered */
    char *symlist[NSTAGES];       /* requested macro names per stage, NULL = MTA default */
    struct macro env[32];         /* every macro value this session knows */
    size_t nenv;
    bool milter_done;             /* the milter said accept for the session */
    struct buf in;
    /* Buffered like Postfix's VSTREAM (4 KiB each way): commands the milter
     * does not answer travel with the next one that it does, and one read
     * takes every reply packet already there. */
    struct buf out;
    unsigned char rbuf[4096];
    size_t rpos, rlen;
    char reply_text[256];
};

static int fail(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct session *s, const char *fmt, ...)
{
    if (s->st->err[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->st->err, sizeof s->st->err, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int env_set(struct session *s, const char *name, const char *value)
{
    for (size_t i = 0; i < s->nenv; i++) {
        if (strcmp(s->env[i].name, name) == 0) {
            char *v = strdup(value);
            if (v == NULL)
                return fail(s, "out of memory");
            free(s->env[i].value);
            s->env[i].value = v;
            return 0;
        }
    }
    if (s->nenv == sizeof s->env / sizeof s->env[0])
        return fail(s, "internal: too many macros");
    s->env[s->nenv].name = strdup(name);
    s->env[s->nenv].value = strdup(value);
    if (s->env[s->nenv].name == NULL || s->env[s->nenv].value == NULL)
        return fail(s, "out of memory");
    s->nenv++;
    return 0;
}

static const char *env_get(const struct session *s, const char *name)
{
    for (size_t i = 0; i < s->nenv; i++)
        if (strcmp(s->env[i].name, name) == 0)
            return s->env[i].value;
    return NULL;
}

static void env_clear(struct session *s)
{
    for (size_t i = 0; i < s->nenv; i++) {
        free(s->env[i].name);
        free(s->env[i].value);
    }
    s->nenv = 0;
}

static int send_all(struct session *s, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write out what is buffered; -2 when the milter closed the connection. */
static int flush_out(struct session *s)
{
    if (s->out.len > 0 && send_all(s, s->out.p, s->out.len) < 0)
        return -2;
    s->out.len = 0;
    return 0;
}

/* Queue one packet: 4-byte length (command byte included), command, data. It
 * leaves when the buffer is full or before the next read (flush_out). */
static int send_packet(struct session *s, char cmd, const struct buf *data)
{
    size_t dlen = data ? data->len : 0;
    unsigned char hdr[5];
    uint32_t n = htonl((uint32_t)(dlen + 1));
    if (data && data->oom)
        return fail(s, "out of memory");
    memcpy(hdr, &n, 4);
    hdr[4] = (unsigned char)cmd;
    buf_add(&s->out, hdr, 5);
    if (dlen)
        buf_add(&s->out, data->p, dlen);
    if (s->out.oom)
        return fail(s, "out of memory");
    return s->out.len >= sizeof s->rbuf ? flush_out(s) : 0;
}

static int recv_full(struct session *s, unsigned char *p, size_t n)
{
    int flushed = flush_out(s);
    if (flushed < 0)
        return flushed;
    while (n > 0) {
        if (s->rpos < s->rlen) {
            size_t k = s->rlen - s->rpos < n ? s->rlen - s->rpos : n;
            memcpy(p, s->rbuf + s->rpos, k);
            s->rpos += k;
            p += k;
            n -= k;
            continue;
        }
        double left = opt.io_timeout;
        struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
        int r = poll(&pfd, 1, (int)(left * 1000));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return fail(s, "poll: %s", strerror(errno));
        }
        if (r == 0)
            return fail(s, "no reply from the milter within %.1f s", opt.io_timeout);
        ssize_t got = recv(s->fd, s->rbuf, sizeof s->rbuf, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -2;
        }
        if (got == 0)
            return -2;            /* closed by the milter */
        s->rpos = 0;
        s->rlen = (size_t)got;
    }
    return 0;
}

/* Read one reply packet into s->in; returns its command byte, -1 on a protocol
 * error or timeout, -2 when the milter closed the connection. */
static int recv_packet(struct session *s)
{
    unsigned char hdr[4];
    int r = recv_full(s, hdr, 4);
    if (r < 0)
        return r;
    uint32_t len;
    memcpy(&len, hdr, 4);
    len = ntohl(len);
    if (len == 0 || len > MAX_PACKET)
        return fail(s, "protocol error: reply packet length %" PRIu32, len);
    s->in.len = 0;
    buf_reserve(&s->in, len);
    if (s->in.oom)
        return fail(s, "out of memory");
    r = recv_full(s, s->in.p, len);
    if (r < 0)
        return r;
    s->in.len = len;
    s->st->replies[s->in.p[0]]++;
    return s->in.p[0];
}

/* How a command ended, from the milter's point of view. */
enum verdict { V_CONTINUE, V_ACCEPT, V_REJECT, V_TEMPFAIL, V_DISCARD, V_SKIP, V_CONNFAIL };

/* Wait for the final reply to one command. At end of message, modification
 * packets may come first; anywhere, progress packets may. */
static int await_reply(struct session *s, char cmd, enum verdict *v)
{
    for (int i = 0; i < MAX_PROGRESS; i++) {
        int c = recv_packet(s);
        if (c < 0)
            return c;
        switch (c) {
        case R_CONTINUE: *v = V_CONTINUE; return 0;
        case R_ACCEPT:   *v = V_ACCEPT;   return 0;
        case R_REJECT:   *v = V_REJECT;   return 0;
        case R_TEMPFAIL: *v = V_TEMPFAIL; return 0;
        case R_DISCARD:  *v = V_DISCARD;  return 0;
        case R_CONN_FAIL:
        case R_SHUTDOWN: *v = V_CONNFAIL; return 0;
        case R_SKIP:
            if (cmd != C_BODY)
                return fail(s, "protocol error: SMFIR_SKIP in reply to '%c'", cmd);
            *v = V_SKIP;
            return 0;
        case R_REPLYCODE: {
            size_t n = s->in.len - 1;
            const char *t = (const char *)s->in.p + 1;
            if (n < 4 || (t[0] != '4' && t[0] != '5') || memchr(t, '\0', n) == NULL)
                return fail(s, "protocol error: bad SMFIR_REPLYCODE text in reply to '%c'", cmd);
            snprintf(s->reply_text, sizeof s->reply_text, "%s", t);
            if (t[0] == '4') {
                s->st->replycode_4xx++;
                *v = V_TEMPFAIL;
            } else {
                s->st->replycode_5xx++;
                *v = V_REJECT;
            }
            return 0;
        }
        case R_PROGRESS:
            continue;
        case R_ADDHEADER: case R_INSHEADER: case R_CHGHEADER: case R_QUARANTINE:
        case R_ADDRCPT: case R_DELRCPT: case R_ADDRCPT_PAR: case R_REPLBODY:
        case R_CHGFROM:
            if (cmd != C_BODYEOB)
                return fail(s, "protocol error: modification '%c' in reply to '%c' "
                            "(only allowed at end of message)", c, cmd);
            if (c == R_QUARANTINE)
                s->st->quarantined++;
            /* A header modification carries NUL-terminated strings; a
             * malformed one would corrupt a real MTA's queue file. */
            if ((c == R_ADDHEADER || c == R_INSHEADER || c == R_CHGHEADER)
                && s->in.p[s->in.len - 1] != '\0')
                return fail(s, "protocol error: header modification '%c' not NUL-terminated", c);
            /* what a header costs on the wire: the bench sizes its null milter's
             * header after the daemon's (tests/bench/nullmilter.c) */
            if (c == R_ADDHEADER)
                s->st->addheader_bytes += s->in.len - 1;
            continue;
        default:
            return fail(s, "protocol error: unexpected reply byte 0x%02x in reply to '%c'",
                        (unsigned)c, cmd);
        }
    }
    return fail(s, "protocol error: more than %d progress packets", MAX_PROGRESS);
}

/* Does the milter want a reply-less command? */
static bool no_reply(const struct session *s, char cmd)
{
    switch (cmd) {
    case C_CONNECT: return s->protocol & P_NR_CONN;
    case C_HELO:    return s->protocol & P_NR_HELO;
    case C_MAIL:    return s->protocol & P_NR_MAIL;
    case C_RCPT:    return s->protocol & P_NR_RCPT;
    case C_DATA:    return s->protocol & P_NR_DATA;
    case C_HEADER:  return s->protocol & P_NR_HDR;
    case C_EOH:     return s->protocol & P_NR_EOH;
    case C_BODY:    return s->protocol & P_NR_BODY;
    default:        return false;
    }
}

static int command(struct session *s, char cmd, const struct buf *data, enum verdict *v)
{
    int r = send_packet(s, cmd, data);
    if (r < 0)
        return r;
    *v = V_CONTINUE;
    if (no_reply(s, cmd))
        return 0;
    return await_reply(s, cmd, v);
}

static int stage_of(char cmd)
{
    switch (cmd) {
    case C_CONNECT: return 0;
    case C_HELO:    return 1;
    case C_MAIL:    return 2;
    case C_RCPT:    return 3;
    case C_DATA:    return 4;
    case C_BODYEOB: return 5;
    case C_EOH:     return 6;
    default:        return -1;
    }
}

static void add_macro(struct buf *b, const char *name, const char *value)
{
    char wire[80];
    if (strlen(name) == 1)
        snprintf(wire, sizeof wire, "%s", name);
    else
        snprintf(wire, sizeof wire, "{%s}", name);
    buf_str0(b, wire);
    buf_str0(b, value);
}

/* Send the macro packet for a command: the milter's requested list for that stage
 * when it sent one (it replaces the MTA's list, as in Postfix), else the given
 * default list. Only macros with a value are sent, as Postfix does. */
static int send_macros(struct session *s, char cmd, const char *const *defaults)
{
    struct buf b = { 0 };
    int r;
    buf_add(&b, &cmd, 1);
    int st = stage_of(cmd);
    if (st >= 0 && s->symlist[st] != NULL) {
        char *copy = strdup(s->symlist[st]), *save = NULL;
        if (copy == NULL) {
            free(b.p);
            return fail(s, "out of memory");
        }
        for (char *tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            size_t n = strlen(tok);
            if (n > 2 && tok[0] == '{' && tok[n - 1] == '}') {
                tok[n - 1] = '\0';
                tok++;
            }
            const char *v = env_get(s, tok);
            if (v != NULL)
                add_macro(&b, tok, v);
        }
        free(copy);
    } else {
        for (size_t i = 0; defaults && defaults[i]; i++) {
            const char *v = env_get(s, defaults[i]);
            if (v != NULL)
                add_macro(&b, defaults[i], v);
        }
    }
    r = send_packet(s, C_MACRO, &b);
    free(b.p);
    return r;
}

static const char *const m_connect[] = { "j", "daemon_name", "daemon_addr", "v", "_", "if_name", NULL };
static const char *const m_helo[] = { "tls_version", "cipher", "cipher_bits", "cert_subject",
                                      "cert_issuer", "verify", NULL };
static const char *const m_mail[] = { "i", "auth_type", "auth_authen", "auth_author", "mail_addr",
                                      "mail_host", "mail_mailer", NULL };
static const char *const m_rcpt[] = { "i", "rcpt_addr", "rcpt_host", "rcpt_mailer", NULL };
static const char *const m_i[] = { "i", NULL };

/* Negotiate like Postfix; remember the milter's protocol flags and macro lists. */
static int negotiate(struct session *s)
{
    struct buf b = { 0 };
    buf_u32(&b, OFFER_VERSION);
    buf_u32(&b, OFFER_ACTIONS);
    buf_u32(&b, OFFER_PROTOCOL);
    int r = send_packet(s, C_OPTNEG, &b);
    free(b.p);
    if (r < 0)
        return r == -2 ? fail(s, "the milter closed the connection before negotiation") : r;
    int c = recv_packet(s);
    if (c == -2)
        return fail(s, "the milter closed the connection during negotiation");
    if (c < 0)
        return c;
    if (c != C_OPTNEG || s->in.len < 13)
        return fail(s, "protocol error: negotiation reply '%c' of %zu bytes", c, s->in.len);
    uint32_t v[3];
    memcpy(v, s->in.p + 1, 12);
    uint32_t version = ntohl(v[0]);
    s->actions = ntohl(v[1]);
    s->protocol = ntohl(v[2]);
    if (version < 2 || version > OFFER_VERSION)
        return fail(s, "protocol error: milter answered version %" PRIu32, version);
    if ((s->actions & ~OFFER_ACTIONS) != 0)
        return fail(s, "protocol error: milter asked for actions 0x%" PRIx32 " not offered (0x%x)",
                    s->actions, OFFER_ACTIONS);
    if ((s->protocol & ~OFFER_PROTOCOL) != 0)
        return fail(s, "protocol error: milter asked for protocol steps 0x%" PRIx32
                    " not offered (0x%x)", s->protocol, OFFER_PROTOCOL);
    /* Optional macro lists: (uint32 stage, NUL-terminated list)* */
    size_t off = 13;
    while (off < s->in.len) {
        if (s->in.len - off < 5)
            return fail(s, "protocol error: truncated macro list in negotiation reply");
        uint32_t stage;
        memcpy(&stage, s->in.p + off, 4);
        stage = ntohl(stage);
        off += 4;
        const char *list = (const char *)s->in.p + off;
        const char *nul = memchr(list, '\0', s->in.len - off);
        if (nul == NULL)
            return fail(s, "protocol error: macro list not NUL-terminated");
        if (stage >= NSTAGES)
            return fail(s, "protocol error: macro list for unknown stage %" PRIu32, stage);
        if (!(s->actions & 0x100u))
            return fail(s, "protocol error: macro list sent without SMFIF_SETSYMLIST");
        free(s->symlist[stage]);
        s->symlist[stage] = strdup(list);
        if (s->symlist[stage] == NULL)
            return fail(s, "out of memory");
        off += (size_t)(nul - list) + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ content */

static char *make_big(size_t n, const char *suffix)
{
    size_t sl = strlen(suffix);
    char *p = malloc(n + sl + 1);
    if (p == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + i % 26);
    memcpy(p + n, suffix, sl + 1);
    return p;
}

static enum kind pick_kind(uint64_t *rng)
{
    unsigned x = rnd(rng) % opt.mix_total;
    for (int k = 0; k < NKINDS; k++) {
        if (x < opt.mix[k])
            return (enum kind)k;
        x -= opt.mix[k];
    }
    return K_PLAIN;
}

/* A sender domain: a partner of the generated policy (genpolicy.sh writes
 * p<I>.bench.test for every I with I mod 10 < 7, and *.p<I>.bench.test for even I)
 * or a domain no connector knows. */
static void pick_domain(uint64_t *rng, char *out, size_t n)
{
    if (opt.domains > 0 && rnd(rng) % 100 < opt.hit_pct) {
        unsigned i = rnd(rng) % opt.domains;
        i -= i % 10;
        i += rnd(rng) % 7;
        if (i >= opt.domains)
            i = rnd(rng) % (opt.domains < 7 ? opt.domains : 7);
        if (i % 2 == 0 && rnd(rng) % 4 == 0)
            snprintf(out, n, "mx%u.p%u.bench.test", rnd(rng) % 10, i);
        else
            snprintf(out, n, "p%u.bench.test", i);
    } else {
        snprintf(out, n, "m%u.miss.test", rnd(rng) % 100000);
    }
}

static int setup_session_macros(struct session *s, enum kind k, const char *domain)
{
    char subj[300], tmp[300];
    bool sm = k == K_SENDMAIL;
    int r = 0;
    r |= env_set(s, "j", "mx.local.test");
    r |= env_set(s, "daemon_name", sm ? "MTA" : "mx.local.test");
    if (sm) {
        r |= env_set(s, "_", "localhost [127.0.0.1]");
        r |= env_set(s, "if_name", "localhost");
    } else {
        r |= env_set(s, "daemon_addr", "127.0.0.1");
        r |= env_set(s, "v", "Postfix 3.7.11");
        r |= env_set(s, "_", "localhost [127.0.0.1]");
    }
    if (k == K_PLAIN)
        return r;
    bool legacy = k == K_LEGACY;
    r |= env_set(s, "tls_version", legacy ? "TLSv1.1" : sm ? "TLSv1.2" : "TLSv1.3");
    r |= env_set(s, "cipher", legacy ? "ECDHE-RSA-AES256-SHA"
                 : sm ? "ECDHE-RSA-AES256-GCM-SHA384" : "TLS_AES_256_GCM_SHA384");
    r |= env_set(s, "cipher_bits", "256");
    if (k == K_TLS || k == K_BADCERT) {
        if (opt.macro_size > 0) {
            char *big = make_big(opt.macro_size, ".test");
            if (big == NULL)
                return fail(s, "out of memory");
            /* One oversized macro: libmilter drops packets over 65535 bytes,
             * so the macro packet, not the daemon, would be tested beyond that. */
            r |= env_set(s, "cert_subject", big);
            r |= env_set(s, "cert_issuer", "Test Issuing CA 1");
            free(big);
        } else {
            snprintf(subj, sizeof subj, "mail.%s", domain);
            r |= env_set(s, "cert_subject", k == K_BADCERT ? "mail.unrelated.test" : subj);
            r |= env_set(s, "cert_issuer", "Test Issuing CA 1");
        }
    } else if (sm) {
        snprintf(tmp, sizeof tmp, "/C=GB/O=Partner+20A+20Ltd/OU=Mail/CN=mail.%s", domain);
        r |= env_set(s, "cert_subject", tmp);
        r |= env_set(s, "cert_issuer", "/C=DE/O=Test+20PKI/CN=Test+20Issuing+20CA+201");
        r |= env_set(s, "verify", "OK");
    }
    return r;
}

static int helo_step(struct session *s, enum verdict *v)
{
    struct buf b = { 0 };
    buf_str0(&b, "client.bench.test");
    int r = 0;
    if (!(s->protocol & P_NOHELO))
        r = command(s, C_HELO, &b, v);
    else
        *v = V_CONTINUE;
    free(b.p);
    return r;
}

/* Connect and HELO (twice around STARTTLS, with an abort between, as Postfix
 * does). Returns 1 when the milter refused or accepted the whole session. */
static int open_session(struct session *s, enum kind k, const char *domain)
{
    enum verdict v = V_CONTINUE;
    int r;
    if ((r = setup_session_macros(s, k, domain)) != 0)
        return r;
    if ((r = negotiate(s)) != 0)
        return r;
    if ((r = send_macros(s, C_CONNECT, m_connect)) != 0)
        return r;
    if (!(s->protocol & P_NOCONNECT)) {
        struct buf b = { 0 };
        uint16_t port = htons(40000);
        buf_str0(&b, "localhost");
        buf_add(&b, "4", 1);
        buf_add(&b, &port, 2);
        buf_str0(&b, "127.0.0.1");
        r = command(s, C_CONNECT, &b, &v);
        free(b.p);
        if (r != 0)
            return r;
        if (v != V_CONTINUE)
            goto decided;
    }
    if (k == K_PLAIN) {
        /* Postfix sends an empty HELO macro packet before each HELO. */
        struct buf e = { 0 };
        buf_add(&e, "H", 1);
        if ((r = send_packet(s, C_MACRO, &e)) != 0 || (r = helo_step(s, &v)) != 0) {
            free(e.p);
            return r;
        }
        free(e.p);
        if (v != V_CONTINUE)
            goto decided;
        return 0;
    }
    {
        /* First EHLO, before STARTTLS: no TLS macros yet. */
        struct buf e = { 0 };
        buf_add(&e, "H", 1);
        r = send_packet(s, C_MACRO, &e);
        free(e.p);
        if (r != 0 || (r = helo_step(s, &v)) != 0)
            return r;
        if (v != V_CONTINUE)
            goto decided;
        if (k != K_SENDMAIL && (r = send_packet(s, C_ABORT, NULL)) != 0)
            return r;
        if ((r = send_macros(s, C_HELO, m_helo)) != 0 || (r = helo_step(s, &v)) != 0)
            return r;
        if (v != V_CONTINUE)
            goto decided;
    }
    return 0;
decided:
    if (v == V_ACCEPT) {
        s->milter_done = true;
        return 0;
    }
    s->st->sessions_refused++;
    return 1;
}

static void record_latency(struct stats *st, uint64_t ns)
{
    if (st->nlat == st->alat) {
        size_t n = st->alat ? st->alat * 2 : 1024;
        uint64_t *p = realloc(st->lat_ns, n * sizeof *p);
        if (p == NULL)
            return;               /* the figure is then computed from fewer samples */
        st->lat_ns = p;
        st->alat = n;
    }
    st->lat_ns[st->nlat++] = ns;
}

/* One message: MAIL, RCPT x n, DATA, headers, EOH, body, EOM. */
static int run_message(struct session *s, unsigned msgno, const char *domain, enum kind k)
{
    enum verdict v = V_CONTINUE;
    enum outcome oc = O_DELIVERED;
    char addr[300], arg[320], qid[32];
    struct buf b = { 0 };
    int r = 0;
    uint64_t t0 = now_ns();

    snprintf(addr, sizeof addr, "sender%u@%s", rnd(s->rng) % 1000, domain);
    snprintf(qid, sizeof qid, "4B%04X%05X", (unsigned)(rnd(s->rng) & 0xffff), msgno & 0xfffff);
    r |= env_set(s, "mail_addr", addr);
    r |= env_set(s, "mail_host", domain);
    r |= env_set(s, "mail_mailer", k == K_SENDMAIL ? "esmtp" : "smtp");
    if (k == K_SENDMAIL)
        r |= env_set(s, "i", qid);    /* Sendmail has the queue id at MAIL already */
    if (r != 0)
        goto out;

    if (s->milter_done)
        goto done;
    if ((r = send_macros(s, C_MAIL, m_mail)) != 0)
        goto out;
    if (!(s->protocol & P_NOMAIL)) {
        snprintf(arg, sizeof arg, "<%s>", addr);
        buf_str0(&b, arg);
        buf_str0(&b, "SIZE=1024");
        r = command(s, C_MAIL, &b, &v);
        b.len = 0;
        if (r != 0)
            goto out;
        if (v != V_CONTINUE)
            goto decided;
    }
    unsigned refused = 0;
    for (unsigned i = 0; i < opt.rcpts; i++) {
        char rcpt[64];
        snprintf(rcpt, sizeof rcpt, "user%u@example.test", i);
        r |= env_set(s, "rcpt_addr", rcpt);
        r |= env_set(s, "rcpt_host", "example.test");
        r |= env_set(s, "rcpt_mailer", "smtp");
        if (r != 0 || (r = send_macros(s, C_RCPT, m_rcpt)) != 0)
            goto out;
        if (s->protocol & P_NORCPT)
            continue;
        snprintf(arg, sizeof arg, "<%s>", rcpt);
        buf_str0(&b, arg);
        r = command(s, C_RCPT, &b, &v);
        b.len = 0;
        if (r != 0)
            goto out;
        if (v == V_REJECT || v == V_TEMPFAIL) {
            s->st->rcpt_refused++;
            refused++;
        } else if (v == V_DISCARD || v == V_CONNFAIL) {
            goto decided;
        }
    }
    if (refused == opt.rcpts && opt.rcpts > 0) {
        oc = v == V_TEMPFAIL ? O_TEMPFAILED : O_REJECTED;
        goto abort_msg;
    }
    if ((r = env_set(s, "i", qid)) != 0 || (r = send_macros(s, C_DATA, m_i)) != 0)
        goto out;
    if (!(s->protocol & P_NODATA)) {
        if ((r = command(s, C_DATA, NULL, &v)) != 0)
            goto out;
        if (v != V_CONTINUE)
            goto decided;
    }
    if (!(s->protocol & P_NOHDRS)) {
        static const char *const hdrs[][2] = {
            { "Received", "from client.bench.test (localhost [127.0.0.1])" },
            { "From", "<sender@bench.test>" },
            { "To", "<user0@example.test>" },
            { "Subject", "milterload message" },
            { "Message-ID", "<bench@client.bench.test>" },
            { "X-TLS-Policy", "pass (forged by the sender)" },
        };
        size_t nhdrs = sizeof hdrs / sizeof hdrs[0] - (opt.forged_header ? 0 : 1);
        for (size_t i = 0; i < nhdrs; i++) {
            char val[200];
            snprintf(val, sizeof val, "%s%s", (s->protocol & P_LEADSPC) ? " " : "", hdrs[i][1]);
            if ((r = send_macros(s, C_HEADER, m_i)) != 0)
                goto out;
            buf_str0(&b, hdrs[i][0]);
            buf_str0(&b, val);
            r = command(s, C_HEADER, &b, &v);
            b.len = 0;
            if (r != 0)
                goto out;
            if (v != V_CONTINUE)
                goto decided;
        }
    }
    if ((r = send_macros(s, C_EOH, m_i)) != 0)
        goto out;
    if (!(s->protocol & P_NOEOH)) {
        if ((r = command(s, C_EOH, NULL, &v)) != 0)
            goto out;
        if (v != V_CONTINUE)
            goto decided;
    }
    if (!(s->protocol & P_NOBODY) && opt.body_size > 0) {
        if ((r = send_macros(s, C_BODY, m_i)) != 0)
            goto out;
        for (size_t i = 0; i < opt.body_size; i++)
            buf_add(&b, (i % 64 == 63) ? "\n" : "x", 1);
        r = command(s, C_BODY, &b, &v);
        b.len = 0;
        if (r != 0)
            goto out;
        if (v != V_CONTINUE && v != V_SKIP)
            goto decided;
    }
    if ((r = send_macros(s, C_BODYEOB, m_i)) != 0)
        goto out;
    if ((r = send_packet(s, C_BODYEOB, NULL)) != 0)
        goto out;
    if ((r = await_reply(s, C_BODYEOB, &v)) != 0)
        goto out;
decided:
    switch (v) {
    case V_CONTINUE: case V_SKIP: oc = O_DELIVERED; break;
    case V_ACCEPT:   oc = O_ACCEPTED_EARLY; break;
    case V_REJECT:   oc = O_REJECTED; break;
    case V_TEMPFAIL: oc = O_TEMPFAILED; break;
    case V_DISCARD:  oc = O_DISCARDED; break;
    case V_CONNFAIL: oc = O_TEMPFAILED; break;
    }
abort_msg:
    /* Postfix ends every transaction with an abort, whatever happened. */
    if ((r = send_packet(s, C_ABORT, NULL)) != 0)
        goto out;
done:
    s->st->outcome[oc]++;
    s->st->messages++;
    record_latency(s->st, now_ns() - t0);
out:
    free(b.p);
    return r;
}

static int connect_socket(struct session *s)
{
    const char *spec = opt.socket;
    int fd = -1;
    if (strncmp(spec, "unix:", 5) == 0 || strncmp(spec, "local:", 6) == 0 || spec[0] == '/') {
        const char *path = spec[0] == '/' ? spec : strchr(spec, ':') + 1;
        struct sockaddr_un sun = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sun.sun_path)
            return fail(s, "socket path too long: %s", path);
        memcpy(sun.sun_path, path, strlen(path) + 1);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0)
            return fail(s, "socket: %s", strerror(errno));
        if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
            int e = errno;
            close(fd);
            return fail(s, "connect %s: %s", spec, strerror(e));
        }
    } else if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0) {
        /* Sendmail syntax: inet:PORT@HOST */
        char *copy = strdup(strchr(spec, ':') + 1);
        if (copy == NULL)
            return fail(s, "out of memory");
        char *at = strchr(copy, '@');
        const char *host = at ? at + 1 : "127.0.0.1";
        if (at)
            *at = '\0';
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
        struct addrinfo *ai = NULL;
        int e = getaddrinfo(host, copy, &hints, &ai);
        if (e != 0) {
            fail(s, "%s: %s (numeric loopback address and port expected)", spec, gai_strerror(e));
            free(copy);
            return -1;
        }
        fd = socket(ai->ai_family, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            e = errno;
            if (fd >= 0)
                close(fd);
            freeaddrinfo(ai);
            free(copy);
            return fail(s, "connect %s: %s", spec, strerror(e));
        }
        freeaddrinfo(ai);
        free(copy);
    } else {
        return fail(s, "unknown socket '%s' (expected unix:PATH or inet:PORT@ADDR)", spec);
    }
    s->fd = fd;
    return 0;
}

struct worker {
    pthread_t tid;
    unsigned id;
    struct stats st;
};

static void session_reset(struct session *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->out.len = 0;
    s->rpos = s->rlen = 0;
    for (int i = 0; i < NSTAGES; i++) {
        free(s->symlist[i]);
        s->symlist[i] = NULL;
    }
    env_clear(s);
    s->milter_done = false;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t rng = ((uint64_t)opt.seed << 32) ^ (0x9E3779B97F4A7C15ull * (w->id + 1));
    struct session s = { .fd = -1, .st = &w->st, .rng = &rng };
    unsigned msgno = 0;

    for (unsigned c = 0; c < opt.conns; c++) {
        if (now_s() > opt.time_limit)
            break;
        char domain[128];
        enum kind k = pick_kind(&rng);
        pick_domain(&rng, domain, sizeof domain);
        if (connect_socket(&s) != 0)
            break;
        w->st.sessions++;
        int r = open_session(&s, k, domain);
        for (unsigned m = 0; r == 0 && m < opt.messages; m++) {
            if (now_s() > opt.time_limit)
                break;
            r = run_message(&s, msgno++ + w->id * 100000u, domain, k);
        }
        if ((r == 0 || r == 1) && send_packet(&s, C_QUIT, NULL) == 0)
            flush_out(&s);
        if (r == -2)
            w->st.sessions_dropped++;
        session_reset(&s);
        if (r == -1)
            break;
    }
    session_reset(&s);
    free(s.in.p);
    free(s.out.p);
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int parse_mix(const char *s)
{
    char *copy = strdup(s), *save = NULL;
    int rc = -1;
    if (copy == NULL)
        return -1;
    memset(opt.mix, 0, sizeof opt.mix);
    opt.mix_total = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        char *end;
        int k;
        if (eq == NULL)
            goto out;
        *eq = '\0';
        for (k = 0; k < NKINDS; k++)
            if (strcmp(tok, kind_names[k]) == 0)
                break;
        if (k == NKINDS)
            goto out;
        unsigned long w = strtoul(eq + 1, &end, 10);
        if (*end != '\0' || end == eq + 1 || w > 1000000)
            goto out;
        opt.mix[k] = (unsigned)w;
        opt.mix_total += (unsigned)w;
    }
    rc = opt.mix_total > 0 ? 0 : -1;
out:
    free(copy);
    return rc;
}

static unsigned long num_arg(const char *name, const char *s, unsigned long max)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end != '\0' || end == s || v > max || s[0] == '-') {
        fprintf(stderr, "milterload: %s: '%s' is not a number in 0..%lu\n", name, s, max);
        exit(2);
    }
    return v;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: milterload -s SOCKET [options]\n"
        "  -s, --socket unix:PATH|inet:PORT@ADDR   milter socket\n"
        "  -c, --concurrency N    parallel sessions (threads), default 1\n"
        "  -n, --sessions N       sessions per worker, default 1\n"
        "  -m, --messages N       messages per session, default 10\n"
        "  -r, --rcpts N          recipients per message, default 1\n"
        "      --mix K=W,...      session kinds: tls plain anon legacy sendmail badcert\n"
        "                         (default tls=70,plain=30)\n"
        "      --domains N        partner domains p<I>.bench.test of genpolicy.sh (0: none)\n"
        "      --hit PCT          percent of senders from partner domains, default 50\n"
        "      --macro-size N     {cert_subject} of N bytes (hardening; libmilter drops\n"
        "                         packets over 65535 bytes: counted as dropped sessions)\n"
        "      --body-size N      body bytes per message, default 512\n"
        "      --forged-header    every message carries an X-TLS-Policy header of its own\n"
        "  -t, --time-limit S     stop starting messages after S seconds, default 60\n"
        "      --timeout S        seconds to wait for one reply, default 10\n"
        "      --seed N           random seed, default 1\n"
        "  -q, --quiet            only the RESULT line\n"
        "Prints a summary and one machine-readable line starting with RESULT.\n"
        "Exit status: 0 ok, 1 protocol error, timeout or unreachable socket, 2 usage.\n");
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        { "socket", required_argument, NULL, 's' },
        { "concurrency", required_argument, NULL, 'c' },
        { "sessions", required_argument, NULL, 'n' },
        { "messages", required_argument, NULL, 'm' },
        { "rcpts", required_argument, NULL, 'r' },
        { "mix", required_argument, NULL, 'X' },
        { "domains", required_argument, NULL, 'D' },
        { "hit", required_argument, NULL, 'H' },
        { "macro-size", required_argument, NULL, 'S' },
        { "body-size", required_argument, NULL, 'B' },
        { "time-limit", required_argument, NULL, 't' },
        { "timeout", required_argument, NULL, 'T' },
        { "seed", required_argument, NULL, 'R' },
        { "forged-header", no_argument, NULL, 'F' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    opt = (struct options){ .concurrency = 1, .conns = 1, .messages = 10, .rcpts = 1,
                            .hit_pct = 50, .body_size = 512, .time_limit = 60,
                            .io_timeout = 10, .seed = 1 };
    parse_mix("tls=70,plain=30");
    int c;
    while ((c = getopt_long(argc, argv, "s:c:n:m:r:t:qh", lopts, NULL)) != -1) {
        switch (c) {
        case 's': opt.socket = optarg; break;
        case 'c': opt.concurrency = (unsigned)num_arg("-c", optarg, 4096); break;
        case 'n': opt.conns = (unsigned)num_arg("-n", optarg, 10000000); break;
        case 'm': opt.messages = (unsigned)num_arg("-m", optarg, 10000000); break;
        case 'r': opt.rcpts = (unsigned)num_arg("-r", optarg, 1000); break;
        case 'X':
            if (parse_mix(optarg) != 0) {
                fprintf(stderr, "milterload: --mix '%s': expected KIND=WEIGHT,... with kinds "
                        "tls, plain, anon, legacy, sendmail, badcert\n", optarg);
                return 2;
            }
            break;
        case 'D': opt.domains = (unsigned)num_arg("--domains", optarg, 100000000); break;
        case 'H': opt.hit_pct = (unsigned)num_arg("--hit", optarg, 100); break;
        case 'S': opt.macro_size = num_arg("--macro-size", optarg, 16u << 20); break;
        case 'B': opt.body_size = num_arg("--body-size", optarg, 16u << 20); break;
        case 't': opt.time_limit = (double)num_arg("-t", optarg, 86400); break;
        case 'T': opt.io_timeout = (double)num_arg("--timeout", optarg, 3600); break;
        case 'R': opt.seed = (unsigned)num_arg("--seed", optarg, UINT_MAX); break;
        case 'q': opt.quiet = true; break;
        case 'F': opt.forged_header = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (opt.socket == NULL || optind != argc || opt.concurrency == 0 || opt.io_timeout <= 0) {
        usage(stderr);
        return 2;
    }

    struct worker *w = calloc(opt.concurrency, sizeof *w);
    if (w == NULL) {
        fprintf(stderr, "milterload: out of memory\n");
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    unsigned started = 0;
    for (unsigned i = 0; i < opt.concurrency; i++) {
        w[i].id = i;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 256 * 1024);
        int e = pthread_create(&w[i].tid, &a, worker_main, &w[i]);
        pthread_attr_destroy(&a);
        if (e != 0) {
            fprintf(stderr, "milterload: cannot start worker %u: %s\n", i, strerror(e));
            break;
        }
        started++;
    }
    for (unsigned i = 0; i < started; i++)
        pthread_join(w[i].tid, NULL);
    double elapsed = now_s();

    struct stats tot = { 0 };
    const char *first_err = NULL;
    unsigned nerr = 0;
    for (unsigned i = 0; i < started; i++) {
        struct stats *st = &w[i].st;
        for (int j = 0; j < 256; j++)
            tot.replies[j] += st->replies[j];
        for (int j = 0; j < NOUTCOMES; j++)
            tot.outcome[j] += st->outcome[j];
        tot.rcpt_refused += st->rcpt_refused;
        tot.replycode_4xx += st->replycode_4xx;
        tot.replycode_5xx += st->replycode_5xx;
        tot.quarantined += st->quarantined;
        tot.addheader_bytes += st->addheader_bytes;
        tot.sessions += st->sessions;
        tot.sessions_refused += st->sessions_refused;
        tot.sessions_dropped += st->sessions_dropped;
        tot.messages += st->messages;
        tot.nlat += st->nlat;
        if (st->err[0]) {
            nerr++;
            if (first_err == NULL)
                first_err = st->err;
        }
    }
    uint64_t *lat = malloc((tot.nlat ? tot.nlat : 1) * sizeof *lat);
    size_t nl = 0;
    for (unsigned i = 0; lat && i < started; i++) {
        if (w[i].st.nlat == 0)
            continue;
        memcpy(lat + nl, w[i].st.lat_ns, w[i].st.nlat * sizeof *lat);
        nl += w[i].st.nlat;
    }
    double p50 = 0, p99 = 0;
    if (lat && nl > 0) {
        qsort(lat, nl, sizeof *lat, cmp_u64);
        p50 = (double)lat[(nl - 1) / 2] / 1e3;
        p99 = (double)lat[(size_t)((double)(nl - 1) * 0.99)] / 1e3;
    }
    double rate = elapsed > 0 ? (double)tot.messages / elapsed : 0;

    if (!opt.quiet) {
        printf("milterload: %s concurrency=%u sessions=%" PRIu64 " messages=%" PRIu64
               " in %.3f s\n", opt.socket, started, tot.sessions, tot.messages, elapsed);
        printf("  rate %.1f msg/s, latency p50 %.1f us, p99 %.1f us\n", rate, p50, p99);
        printf("  outcomes:");
        for (int j = 0; j < NOUTCOMES; j++)
            printf(" %s=%" PRIu64, outcome_names[j], tot.outcome[j]);
        printf(" rcpt_refused=%" PRIu64 " sessions_refused=%" PRIu64 " dropped=%" PRIu64 "\n",
               tot.rcpt_refused, tot.sessions_refused, tot.sessions_dropped);
        printf("  replies:");
        for (int j = 0; j < 256; j++)
            if (tot.replies[j])
                printf(" '%c'=%" PRIu64, j, tot.replies[j]);
        printf("\n");
        if (first_err)
            printf("  errors in %u worker(s); first: %s\n", nerr, first_err);
    }
    printf("RESULT sessions=%" PRIu64 " messages=%" PRIu64 " secs=%.3f rate=%.1f p50_us=%.1f"
           " p99_us=%.1f", tot.sessions, tot.messages, elapsed, rate, p50, p99);
    for (int j = 0; j < NOUTCOMES; j++)
        printf(" %s=%" PRIu64, outcome_names[j], tot.outcome[j]);
    printf(" rcpt_refused=%" PRIu64 " reply_4xx=%" PRIu64 " reply_5xx=%" PRIu64
           " addheader=%" PRIu64 " addheader_bytes=%" PRIu64 " chgheader=%" PRIu64 " insheader=%" PRIu64
           " quarantine=%" PRIu64 " sessions_refused=%" PRIu64 " dropped=%" PRIu64
           " errors=%u\n",
           tot.rcpt_refused, tot.replycode_4xx, tot.replycode_5xx, tot.replies[R_ADDHEADER],
           tot.addheader_bytes, tot.replies[R_CHGHEADER], tot.replies[R_INSHEADER], tot.replies[R_QUARANTINE],
           tot.sessions_refused, tot.sessions_dropped, nerr);
    if (first_err)
        fprintf(stderr, "milterload: %s\n", first_err);
    for (unsigned i = 0; i < started; i++)
        free(w[i].st.lat_ns);
    free(w);
    free(lat);
    return nerr ? 1 : 0;
}
