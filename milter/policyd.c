/*
 * policyd.c -- the policy delegation listener (-d): one thread polls the
 * listening socket and every Postfix policy connection, reads requests up to
 * their empty line, stores each RCPT request's certificate fingerprints in
 * policyd_table for the milter RCPT that follows it, and answers DUNNO.
 * Never: blocks (every socket is non-blocking), lets a peer hold more than one
 * request's worth of memory, follows a symlink at the socket path, or answers
 * anything but DUNNO; a malformed request is logged once and its connection closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "match_addr.h"
#include "policyd.h"
#include "policyd_req.h"
#include "policyd_table.h"
#include "posture_log.h"

/* Postfix opens one connection per smtpd process (default_process_limit 100). */
#define POLICYD_MAX_CONNS 256
/* A request begun and not finished within Postfix's own policy timeout
 * (smtpd_policy_service_timeout, 100 s) is never going to be. */
#define POLICYD_PARTIAL_TIMEOUT 100
/* Postfix closes an idle policy connection after 300 s (max_idle); this is a backstop. */
#define POLICYD_IDLE_TIMEOUT 3600
/* Replies a peer may leave unread (it pipelines and never reads): then it goes. */
#define POLICYD_MAX_UNREAD 64
/* The join table's bounds: the reply happens-before the milter RCPT, which
 * takes the record next (doc/mta-facts.md 12); what stays is a recipient some
 * later restriction rejected, or a request without a milter session. */
#define POLICYD_TABLE_MAX 8192
#define POLICYD_TABLE_AGE 120

static const char policyd_reply[] = "action=DUNNO\n\n";
#define POLICYD_REPLY_LEN (sizeof policyd_reply - 1)

struct pconn {
    int fd;
    unsigned long id;         /* for the log: connection number since start */
    char *buf;                /* POLICYD_REQ_MAX_BYTES + 1 */
    size_t len;
    size_t unsent;            /* bytes of replies not written yet */
    time_t active;            /* CLOCK_MONOTONIC of the last byte read */
};

static int policyd_listen_fd = -1;
/* Set once before any milter thread exists and never cleared: sessions read it
 * without a lock, even while the daemon stops. */
static bool policyd_on;
static int policyd_wake[2] = { -1, -1 };
static char *policyd_path;        /* the unix socket we created, or NULL */
static char *policyd_spec;
static pthread_t policyd_thread;
static bool policyd_running;
static struct pconn policyd_conns[POLICYD_MAX_CONNS];
static size_t policyd_nconns;
static unsigned long policyd_seq;
static size_t policyd_nbad;       /* connections closed for a bad request */
static size_t policyd_nrefused;   /* connections over POLICYD_MAX_CONNS */

bool
policyd_enabled(void)
{
    return policyd_on;
}

static const char *
policyd_unix_path(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return spec + 5;
    if (strncmp(spec, "local:", 6) == 0)
        return spec + 6;
    if (spec[0] == '/')
        return spec;
    return NULL;
}

/* inet:PORT@ADDR / inet6:PORT@ADDR into sa; NULL, or what was expected. */
static const char *
policyd_inet(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen)
{
    const char *rest, *at;
    unsigned char ip[16];
    char port_text[8];
    unsigned port;
    bool v6 = strncmp(spec, "inet6:", 6) == 0;

    rest = spec + (v6 ? 6 : 5);
    at = strchr(rest, '@');
    if (at == NULL || (size_t)(at - rest) >= sizeof port_text)
        return "expected inet:PORT@ADDR or inet6:PORT@ADDR";
    memcpy(port_text, rest, (size_t)(at - rest));
    port_text[at - rest] = '\0';
    if (policyd_port_parse(port_text, &port) != 0 || port == 0)
        return "expected a port number from 1 to 65535 before '@'";
    if (addr_parse(at + 1, strlen(at + 1), ip) != 0)
        return "expected a numeric IP address after '@'";
    /* Whoever can write to this socket decides which fingerprints a connection
     * seems to present: only the local Postfix may reach it. */
    if (!(memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff\x7f", 13) == 0 ||
          memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16) == 0))
        return "expected a loopback address (127.0.0.0/8 or ::1): whoever reaches this "
               "socket can claim a certificate for any connection";
    memset(ss, 0, sizeof *ss);
    if (memcmp(ip, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
        struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;

        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        memcpy(&in->sin_addr, ip + 12, 4);
        *sslen = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;

        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        memcpy(&in6->sin6_addr, ip, 16);
        *sslen = sizeof *in6;
    }
    return NULL;
}

const char *
policyd_spec_check(const char *spec)
{
    const char *path = policyd_unix_path(spec);
    struct sockaddr_storage ss;
    socklen_t len;

    if (path != NULL) {
        if (path[0] != '/')
            return "expected an absolute path after unix:";
        if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            return "expected a unix socket path of at most 107 bytes";
        return NULL;
    }
    if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0)
        return policyd_inet(spec, &ss, &len);
    return "expected unix:/path, local:/path, inet:PORT@ADDR or inet6:PORT@ADDR";
}

/* A stale socket from an earlier run goes; anything else at the path stays
 * and the daemon does not start (never unlink or follow what is not ours). */
static int
policyd_clear_path(const char *path)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISSOCK(st.st_mode)) {
        syslog(LOG_ERR, "-d unix:%s: the path exists and is not a socket; not replacing it", path);
        return -1;
    }
    if (unlink(path) != 0) {
        syslog(LOG_ERR, "-d unix:%s: cannot remove the old socket: %m", path);
        return -1;
    }
    return 0;
}

int
policyd_open(const char *spec, const char **path_out)
{
    const char *path = policyd_unix_path(spec), *why = policyd_spec_check(spec);
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    int fd = -1, one = 1;

    *path_out = NULL;
    if (why != NULL) {
        syslog(LOG_ERR, "-d %s: %s", spec, why);
        return -1;
    }
    memset(&ss, 0, sizeof ss);
    if (path != NULL) {
        struct sockaddr_un *un = (struct sockaddr_un *)(void *)&ss;

        if (policyd_clear_path(path) != 0)
            return -1;
        un->sun_family = AF_UNIX;
        memcpy(un->sun_path, path, strlen(path) + 1);
        sslen = sizeof *un;
    } else {
        (void)policyd_inet(spec, &ss, &sslen);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        syslog(LOG_ERR, "-d %s: socket: %m", spec);
        return -1;
    }
    if (path == NULL)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, 128) != 0) {
        syslog(LOG_ERR, "-d %s: cannot listen: %m", spec);
        close(fd);
        return -1;
    }
    if (pipe2(policyd_wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        syslog(LOG_ERR, "-d %s: pipe: %m", spec);
        close(fd);
        return -1;
    }
    if ((policyd_spec = strdup(spec)) == NULL ||
        (path != NULL && (policyd_path = strdup(path)) == NULL)) {
        syslog(LOG_ERR, "out of memory");
        close(fd);
        return -1;
    }
    if (policyd_table_init(POLICYD_TABLE_MAX, POLICYD_TABLE_AGE) != 0) {
        close(fd);
        return -1;
    }
    policyd_listen_fd = fd;
    policyd_on = true;
    *path_out = policyd_path;
    return 0;
}

static time_t
policyd_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void
policyd_close(size_t i)
{
    close(policyd_conns[i].fd);
    free(policyd_conns[i].buf);
    policyd_conns[i] = policyd_conns[--policyd_nconns];
}

static void
policyd_accept(void)
{
    struct pconn *c;
    int fd;

    while ((fd = accept4(policyd_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        policyd_seq++;
        if (policyd_nconns == POLICYD_MAX_CONNS) {
            if (policyd_nrefused++ == 0)
                posture_log_msg(LOG_WARNING, "policy delegation: more than %d connections; "
                                "closing new ones (counted at stop)", POLICYD_MAX_CONNS);
            close(fd);
            continue;
        }
        c = &policyd_conns[policyd_nconns];
        memset(c, 0, sizeof *c);
        if ((c->buf = malloc(POLICYD_REQ_MAX_BYTES + 1)) == NULL) {
            posture_log_msg(LOG_ERR, "policy delegation: out of memory for connection %lu",
                            policyd_seq);
            close(fd);
            continue;
        }
        c->fd = fd;
        c->id = policyd_seq;
        c->active = policyd_now();
        policyd_nconns++;
    }
}

/* Log a bad request and count it: the connection is closed by the caller. */
static void
policyd_bad(const struct pconn *c, const char *what, const char *why)
{
    policyd_nbad++;
    posture_log_msg(LOG_WARNING, "policy delegation: connection %lu: %s: %s; closing it",
                    c->id, what, why);
}

/* One complete request. 0, or -1 when the connection must close. */
static int
policyd_request(struct pconn *c, size_t len)
{
    struct policyd_req r;
    struct policyd_key k;
    const char *kwhy;
    char *why = NULL;
    int rc = policyd_req_parse(c->buf, len, &r, &why);

    if (rc != 0) {
        policyd_bad(c, "malformed request", rc < 0 ? "out of memory" : why);
        free(why);
        return -1;
    }
    rc = 0;
    /* only RCPT requests are joined; a DATA/END-OF-MESSAGE one is answered alone */
    if (r.protocol_state != NULL && strcmp(r.protocol_state, "RCPT") == 0) {
        if (policyd_req_key(&r, &k, &kwhy) != 0) {
            policyd_bad(c, "request without its connection", kwhy);
            rc = -1;
        } else if (policyd_table_put(&k, &r) != 0) {
            posture_log_msg(LOG_ERR, "policy delegation: out of memory storing a request: "
                            "its recipient will find no record");
        } else if (posture_log_verbose()) {
            posture_log_msg(LOG_DEBUG, "policy delegation: %s:%s -> %s:%s rcpt=<%s> "
                            "ccert_fingerprint=\"%.100s\"", r.client_address, r.client_port,
                            r.server_address, r.server_port, r.recipient ? r.recipient : "",
                            r.ccert_fingerprint ? r.ccert_fingerprint : "");
        }
    }
    policyd_req_free(&r);
    if (rc == 0)
        c->unsent += POLICYD_REPLY_LEN;
    return rc;
}

/* Write what replies are pending. 0, or -1 when the connection is gone. */
static int
policyd_flush(struct pconn *c)
{
    while (c->unsent > 0) {
        /* every reply is the same: what is left of the current one is unsent mod LEN */
        size_t off = (POLICYD_REPLY_LEN - c->unsent % POLICYD_REPLY_LEN) % POLICYD_REPLY_LEN;
        size_t n = POLICYD_REPLY_LEN - off;
        ssize_t w = send(c->fd, policyd_reply + off, n, MSG_NOSIGNAL);

        if (w < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
        c->unsent -= (size_t)w;
    }
    return 0;
}

/* Read what the peer sent and handle every complete request. 0, or -1 to close. */
static int
policyd_read(struct pconn *c)
{
    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->len, POLICYD_REQ_MAX_BYTES + 1 - c->len, 0);
        size_t end;

        if (n < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
        if (n == 0) {
            if (c->len > 0) {
                char why[160];

                snprintf(why, sizeof why, "the peer closed after %zu bytes, expected the "
                         "empty line that ends a request", c->len);
                policyd_bad(c, "truncated request", why);
            }
            return -1;
        }
        c->len += (size_t)n;
        c->active = policyd_now();
        while ((end = policyd_req_end(c->buf, c->len)) > 0) {
            if (policyd_request(c, end) != 0)
                return -1;
            memmove(c->buf, c->buf + end, c->len - end);
            c->len -= end;
        }
        if (c->len > POLICYD_REQ_MAX_BYTES) {
            char why[160];

            snprintf(why, sizeof why, "more than %d bytes without the empty line that "
                     "ends a request", POLICYD_REQ_MAX_BYTES);
            policyd_bad(c, "oversized request", why);
            return -1;
        }
        if (c->unsent > POLICYD_MAX_UNREAD * POLICYD_REPLY_LEN) {
            policyd_bad(c, "too many requests", "the peer does not read the replies");
            return -1;
        }
        if (policyd_flush(c) != 0)
            return -1;
    }
}

static void
policyd_sweep(time_t now)
{
    for (size_t i = 0; i < policyd_nconns;) {
        struct pconn *c = &policyd_conns[i];

        if (c->len > 0 && now - c->active > POLICYD_PARTIAL_TIMEOUT) {
            policyd_bad(c, "truncated request", "nothing more arrived for 100 s, expected "
                        "the empty line that ends a request");
            policyd_close(i);
        } else if (now - c->active > POLICYD_IDLE_TIMEOUT) {
            policyd_close(i);
        } else {
            i++;
        }
    }
}

static void *
policyd_main(void *arg)
{
    struct pollfd pfd[POLICYD_MAX_CONNS + 2];

    (void)arg;
    for (;;) {
        size_t i, n = policyd_nconns;
        int rc;

        pfd[0].fd = policyd_wake[0];
        pfd[0].events = POLLIN;
        pfd[1].fd = policyd_listen_fd;
        pfd[1].events = POLLIN;
        for (i = 0; i < n; i++) {
            pfd[i + 2].fd = policyd_conns[i].fd;
            pfd[i + 2].events = (short)(POLLIN | (policyd_conns[i].unsent ? POLLOUT : 0));
        }
        rc = poll(pfd, n + 2, 1000);
        if (rc < 0 && errno != EINTR) {
            posture_log_msg(LOG_ERR, "policy delegation: poll: %s; stopping the listener",
                            strerror(errno));
            break;
        }
        if (rc > 0 && pfd[0].revents != 0)
            break;
        /* from the last so that policyd_close's swap never skips one */
        for (i = n; rc > 0 && i-- > 0;) {
            struct pconn *c = &policyd_conns[i];

            if (pfd[i + 2].revents == 0)
                continue;
            if ((pfd[i + 2].revents & POLLOUT) && policyd_flush(c) != 0)
                policyd_close(i);
            else if ((pfd[i + 2].revents & (POLLIN | POLLHUP | POLLERR)) && policyd_read(c) != 0)
                policyd_close(i);
        }
        if (rc > 0 && pfd[1].revents != 0)
            policyd_accept();
        policyd_sweep(policyd_now());
    }
    return NULL;
}

int
policyd_start(void)
{
    int err;

    if (policyd_listen_fd < 0)
        return 0;
    if ((err = pthread_create(&policyd_thread, NULL, policyd_main, NULL)) != 0) {
        syslog(LOG_ERR, "cannot start the policy delegation listener: %s", strerror(err));
        return -1;
    }
    policyd_running = true;
    syslog(LOG_INFO, "listening for Postfix policy delegation on %s", policyd_spec);
    return 0;
}

void
policyd_stop(void)
{
    struct policyd_table_stats st;

    if (policyd_running) {
        ssize_t w;

        do
            w = write(policyd_wake[1], "x", 1);
        while (w < 0 && errno == EINTR);
        (void)pthread_join(policyd_thread, NULL);
        policyd_running = false;
    }
    if (policyd_listen_fd < 0)
        return;
    while (policyd_nconns > 0)
        policyd_close(policyd_nconns - 1);
    close(policyd_listen_fd);
    policyd_listen_fd = -1;
    close(policyd_wake[0]);
    close(policyd_wake[1]);
    if (policyd_path != NULL) {
        struct stat st_path;

        if (lstat(policyd_path, &st_path) == 0 && S_ISSOCK(st_path.st_mode))
            (void)unlink(policyd_path);
    }
    policyd_table_stats(&st);
    syslog(LOG_INFO, "policy delegation: %zu request(s) stored, %zu taken by a milter RCPT, "
           "%zu RCPT(s) found none; dropped %zu unclaimed at reconnect, %zu by age, %zu by "
           "the table bound; %zu connection(s) closed for a bad request, %zu refused over "
           "the connection bound", st.stored, st.taken, st.missed, st.dropped_connect,
           st.dropped_age, st.dropped_full, policyd_nbad, policyd_nrefused);
    policyd_table_clear();
    free(policyd_path);
    free(policyd_spec);
    policyd_path = policyd_spec = NULL;
}
