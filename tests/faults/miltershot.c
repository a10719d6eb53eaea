/*
 * miltershot.c -- plays one scripted MTA session of the milter protocol (version 6)
 * against a milter socket, with exactly the macro values, recipients and headers the
 * script gives (hostile bytes included), and prints every reply on one escaped line.
 * The hardening suite uses it where milterload's generated traffic cannot say what
 * to send. Never: links libmilter, waits for a reply without a bound, connects
 * anywhere but the unix socket it is given, or prints a raw control byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "milter_wire.h"

#define REPLY_TIMEOUT_MS 10000

struct buf {
    char *p;
    size_t len, cap;
};

static int fd = -1;
static uint32_t mflags;          /* protocol flags the milter asked for */

static void die(const char *what)
{
    printf("error %s\n", what);
    exit(1);
}

static void buf_add(struct buf *b, const void *d, size_t n)
{
    if (b->p == NULL || b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 256;
        while (ncap < b->len + n + 1)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (np == NULL)
            die("out of memory");
        b->p = np;
        b->cap = ncap;
    }
    if (n > 0)
        memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_u32(struct buf *b, uint32_t v)
{
    uint32_t n = htonl(v);
    buf_add(b, &n, 4);
}

/* Print bytes with everything outside printable ASCII (and the backslash) as \xHH,
 * so that what the milter sent can be checked for raw CR and LF. */
static void put_escaped(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c > 0x7e || c == '\\')
            printf("\\x%02x", c);
        else
            putchar(c);
    }
}

/* Decode a script token: \s space, \r \n \t \\ and \xHH; a NUL cannot travel inside a
 * NUL-terminated protocol string, so it is refused. */
static void unescape(const char *s, struct buf *out)
{
    out->len = 0;
    buf_add(out, "", 0);
    for (; *s; s++) {
        char c = *s;
        if (c == '\\' && s[1] != '\0') {
            s++;
            switch (*s) {
            case 's': c = ' '; break;
            case 'r': c = '\r'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case '\\': c = '\\'; break;
            case 'x': {
                unsigned v;
                if (sscanf(s + 1, "%2x", &v) != 1 || v == 0)
                    die("bad \\x escape in the script (NUL is not allowed)");
                c = (char)v;
                s += 2;
                break;
            }
            default: die("unknown escape in the script");
            }
        }
        buf_add(out, &c, 1);
    }
}

static void send_packet(char cmd, const struct buf *data)
{
    unsigned char hdr[5];
    uint32_t n = htonl((uint32_t)((data ? data->len : 0) + 1));
    memcpy(hdr, &n, 4);
    hdr[4] = (unsigned char)cmd;
    const char *parts[2] = { (const char *)hdr, data ? data->p : NULL };
    size_t lens[2] = { 5, data ? data->len : 0 };
    for (int i = 0; i < 2; i++) {
        const char *p = parts[i];
        size_t left = lens[i];
        while (left > 0) {
            ssize_t w = send(fd, p, left, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                printf("closed while sending '%c'\n", cmd);
                exit(1);
            }
            p += w;
            left -= (size_t)w;
        }
    }
}

static void recv_full(void *dst, size_t n)
{
    char *p = dst;
    while (n > 0) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = poll(&pfd, 1, REPLY_TIMEOUT_MS);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            die("no reply within 10 s");
        if (r < 0)
            die("poll failed");
        ssize_t got = recv(fd, p, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            printf("closed\n");
            exit(1);
        }
        p += got;
        n -= (size_t)got;
    }
}

/* One reply packet: its command byte, its data in *in. */
static int recv_packet(struct buf *in)
{
    uint32_t len;
    recv_full(&len, 4);
    len = ntohl(len);
    if (len == 0 || len > MAX_PACKET)
        die("protocol error: reply length");
    in->len = 0;
    char *tmp = malloc(len);
    if (tmp == NULL)
        die("out of memory");
    recv_full(tmp, len);
    buf_add(in, tmp + 1, len - 1);
    int c = (unsigned char)tmp[0];
    free(tmp);
    return c;
}

/* Print the data of a reply: NUL-separated strings joined by spaces. */
static void put_fields(const struct buf *in)
{
    size_t i = 0;
    while (i < in->len) {
        size_t n = strnlen(in->p + i, in->len - i);
        putchar(' ');
        put_escaped(in->p + i, n);
        i += n + 1;
    }
}

/* Await the final reply of a command (modifications only at end of message) and
 * print "LABEL VERDICT [TEXT]" plus one "mod" line per modification. */
static void await(const char *label, bool eom)
{
    struct buf in = { 0 };
    for (;;) {
        int c = recv_packet(&in);
        const char *v = NULL;
        switch (c) {
        case 'p': continue;
        case 'c': v = "continue"; break;
        case 'a': v = "accept"; break;
        case 'r': v = "reject"; break;
        case 't': v = "tempfail"; break;
        case 'd': v = "discard"; break;
        case 'f': case '4': v = "connfail"; break;
        case 'y': v = "reply"; break;
        case 'h': case 'i': case 'm': case 'q': case '+': case '-': case '2':
        case 'b': case 'e':
            if (!eom)
                die("protocol error: modification outside end of message");
            printf("mod %c", c);
            if (c == 'i' || c == 'm') {
                uint32_t idx;
                if (in.len < 4)
                    die("protocol error: short header modification");
                memcpy(&idx, in.p, 4);
                printf(" %u", (unsigned)ntohl(idx));
                struct buf rest = { 0 };
                buf_add(&rest, in.p + 4, in.len - 4);
                put_fields(&rest);
                free(rest.p);
            } else {
                put_fields(&in);
            }
            putchar('\n');
            continue;
        default:
            printf("error unexpected reply 0x%02x\n", (unsigned)c);
            exit(1);
        }
        printf("%s %s", label, v);
        if (c == 'y')
            put_fields(&in);
        putchar('\n');
        break;
    }
    free(in.p);
}

static void negotiate(void)
{
    struct buf b = { 0 }, in = { 0 };
    buf_u32(&b, OFFER_VERSION);
    buf_u32(&b, OFFER_ACTIONS);
    buf_u32(&b, OFFER_PROTOCOL);
    send_packet('O', &b);
    if (recv_packet(&in) != 'O' || in.len < 12)
        die("protocol error: negotiation reply");
    uint32_t v[3];
    memcpy(v, in.p, 12);
    mflags = ntohl(v[2]);
    printf("negotiate version=%u actions=0x%x protocol=0x%x\n", (unsigned)ntohl(v[0]),
           (unsigned)ntohl(v[1]), (unsigned)mflags);
    free(b.p);
    free(in.p);
}

/* A command with NUL-terminated string arguments; skip/no-reply per the flags. */
static void command(const char *label, char cmd, uint32_t skip, uint32_t noreply,
                    const struct buf *data)
{
    if (mflags & skip) {
        printf("%s skipped\n", label);
        return;
    }
    send_packet(cmd, data);
    if (mflags & noreply)
        printf("%s sent\n", label);
    else
        await(label, cmd == 'E');
}

static void connect_unix(const char *spec)
{
    const char *path = strncmp(spec, "unix:", 5) == 0 ? spec + 5 : spec;
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sun.sun_path)
        die("socket path too long");
    memcpy(sun.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
        die("cannot connect to the milter socket");
}

int main(int argc, char **argv)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    struct buf arg = { 0 }, pkt = { 0 };

    if (argc != 2) {
        fprintf(stderr,
            "usage: miltershot unix:SOCKET < SCRIPT\n"
            "script lines (tokens separated by one space; in tokens \\s is a space,\n"
            "\\r \\n \\t \\\\ and \\xHH are bytes):\n"
            "  macro STAGE NAME=VALUE...   SMFIC_MACRO for stage C H M R T L N E\n"
            "  connect HOST ADDR | helo NAME | mail ARG... | rcpt ARG... | data\n"
            "  header NAME VALUE | eoh | body TEXT | eom | abort | quit\n"
            "Prints one line per reply: 'LABEL VERDICT [TEXT]', 'mod C FIELDS' for\n"
            "modifications; non-printable bytes as \\xHH. Exit 1 when the milter closes\n"
            "the connection or breaks the protocol.\n");
        return 2;
    }
    connect_unix(argv[1]);
    negotiate();
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (line[n - 1] == '\n')
            line[--n] = '\0';
        if (n == 0 || line[0] == '#')
            continue;
        char *save = NULL;
        char *verb = strtok_r(line, " ", &save);
        pkt.len = 0;
        if (strcmp(verb, "macro") == 0) {
            char *stage = strtok_r(NULL, " ", &save);
            if (stage == NULL || strlen(stage) != 1)
                die("macro needs a one-letter stage");
            buf_add(&pkt, stage, 1);
            for (char *t; (t = strtok_r(NULL, " ", &save)) != NULL;) {
                char *eq = strchr(t, '=');
                if (eq == NULL)
                    die("macro needs NAME=VALUE");
                *eq = '\0';
                buf_add(&pkt, t, strlen(t) + 1);
                unescape(eq + 1, &arg);
                buf_add(&pkt, arg.p, arg.len + 1);
            }
            send_packet('D', &pkt);
        } else if (strcmp(verb, "connect") == 0) {
            char *host = strtok_r(NULL, " ", &save), *addr = strtok_r(NULL, " ", &save);
            uint16_t port = htons(40000);
            if (host == NULL || addr == NULL)
                die("connect needs HOST ADDR");
            unescape(host, &arg);
            buf_add(&pkt, arg.p, arg.len + 1);
            buf_add(&pkt, "4", 1);
            buf_add(&pkt, &port, 2);
            buf_add(&pkt, addr, strlen(addr) + 1);
            command("connect", 'C', P_NOCONNECT, P_NR_CONN, &pkt);
        } else if (strcmp(verb, "helo") == 0 || strcmp(verb, "mail") == 0 ||
                   strcmp(verb, "rcpt") == 0) {
            for (char *t; (t = strtok_r(NULL, " ", &save)) != NULL;) {
                unescape(t, &arg);
                buf_add(&pkt, arg.p, arg.len + 1);
            }
            if (verb[0] == 'h')
                command("helo", 'H', P_NOHELO, P_NR_HELO, &pkt);
            else if (verb[0] == 'm')
                command("mail", 'M', P_NOMAIL, P_NR_MAIL, &pkt);
            else
                command("rcpt", 'R', P_NORCPT, P_NR_RCPT, &pkt);
        } else if (strcmp(verb, "data") == 0) {
            command("data", 'T', P_NODATA, P_NR_DATA, NULL);
        } else if (strcmp(verb, "header") == 0) {
            char *name = strtok_r(NULL, " ", &save), *value = strtok_r(NULL, "", &save);
            if (name == NULL)
                die("header needs NAME VALUE");
            unescape(name, &arg);
            buf_add(&pkt, arg.p, arg.len + 1);
            unescape(value ? value : "", &arg);
            buf_add(&pkt, arg.p, arg.len + 1);
            command("header", 'L', P_NOHDRS, P_NR_HDR, &pkt);
        } else if (strcmp(verb, "eoh") == 0) {
            command("eoh", 'N', P_NOEOH, P_NR_EOH, NULL);
        } else if (strcmp(verb, "body") == 0) {
            char *text = strtok_r(NULL, "", &save);
            unescape(text ? text : "", &arg);
            buf_add(&pkt, arg.p, arg.len);
            command("body", 'B', P_NOBODY, P_NR_BODY, &pkt);
        } else if (strcmp(verb, "eom") == 0) {
            command("eom", 'E', 0, 0, NULL);
        } else if (strcmp(verb, "abort") == 0) {
            send_packet('A', NULL);
        } else if (strcmp(verb, "quit") == 0) {
            send_packet('Q', NULL);
            break;
        } else {
            die("unknown script verb");
        }
        fflush(stdout);
    }
    free(line);
    free(arg.p);
    free(pkt.p);
    close(fd);
    return 0;
}
