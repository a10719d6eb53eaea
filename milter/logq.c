/*
 * logq.c -- the syslog writer thread: a lock-free queue that callbacks push
 * finished lines onto, and one thread that takes the whole queue every
 * LOGQ_FLUSH_MS and sends it to the syslog socket in sendmmsg(2) batches, in
 * the RFC 3164 form glibc's syslog(3) writes. Owns the syslog socket.
 * Never: formats or sanitises a line (policy/posture_render.c and esc.c do),
 * takes a lock on the callbacks' path (the only mutex is taken to wake an idle
 * writer), or drops a line silently (a line the syslog daemon does not take
 * is counted and the count is logged once it is back).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "logq.h"

/* Lines per sendmmsg(2); an idle writer sleeps on the condition variable
 * after this many empty rounds (one second), so a quiet daemon does not wake
 * up 200 times a second. */
#define LOGQ_BATCH       64
#define LOGQ_IDLE_ROUNDS (1000 / LOGQ_FLUSH_MS)
/* "<191>Nov 22 19:22:27 " plus ident and "[pid]: " */
#define LOGQ_PREFIX_MAX  160

struct logq_node {
    struct logq_node *next;
    int prio;
    size_t len;
    char text[];
};

/* The queue is a stack (push with compare-and-swap, the writer takes it all
 * with one exchange and reverses it): no ABA, since nothing is popped alone. */
static _Atomic(struct logq_node *) logq_head;
static atomic_size_t logq_pending;     /* bytes queued, nodes included */
static atomic_size_t logq_inflight;     /* producers between the running check and the push */
static atomic_bool logq_running;
static atomic_bool logq_idle;
static atomic_size_t logq_nsent, logq_noverflow, logq_ndropped;

static pthread_mutex_t logq_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t logq_cv;
static bool logq_stopping;              /* under logq_mu */
static pthread_t logq_thread;

/* Set by logq_start before the thread exists, read-only afterwards. */
static char logq_ident[64];
static char logq_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static long logq_pid;
static bool logq_stderr;
static size_t logq_max;
static int logq_fd = -1;                /* the writer thread's alone */
static size_t logq_unreported;          /* drops not yet reported; the writer's alone */

static void
logq_stderr_copy(const char *line)
{
    struct iovec iov[3];
    char tag[96];
    int n = snprintf(tag, sizeof tag, "%s[%ld]: ", logq_ident, logq_pid);

    if (n < 0 || (size_t)n >= sizeof tag)
        return;
    iov[0].iov_base = tag;
    iov[0].iov_len = (size_t)n;
    iov[1].iov_base = (void *)(uintptr_t)line;
    iov[1].iov_len = strlen(line);
    iov[2].iov_base = (void *)(uintptr_t)"\n";
    iov[2].iov_len = 1;
    (void)writev(STDERR_FILENO, iov, 3);
}

static void
logq_wake_if_idle(void)
{
    if (atomic_load(&logq_idle) && atomic_exchange(&logq_idle, false)) {
        pthread_mutex_lock(&logq_mu);
        pthread_cond_signal(&logq_cv);
        pthread_mutex_unlock(&logq_mu);
    }
}

/* A queue node holding a copy of text (len bytes), counted as pending. */
static struct logq_node *
logq_node_new(int prio, const char *text, size_t len)
{
    struct logq_node *n = malloc(sizeof *n + len + 1);

    if (n == NULL)
        return NULL;
    n->next = NULL;
    n->prio = prio;
    n->len = len;
    memcpy(n->text, text, len + 1);
    atomic_fetch_add(&logq_pending, sizeof *n + len);
    return n;
}

void
logq_line(int prio, const char *line)
{
    struct logq_node *n, *old;
    size_t len = strlen(line);

    atomic_fetch_add(&logq_inflight, 1);
    if (!atomic_load(&logq_running) || atomic_load(&logq_pending) + len >= logq_max ||
        (n = logq_node_new(prio, line, len)) == NULL) {
        if (atomic_load(&logq_running))
            atomic_fetch_add(&logq_noverflow, 1);
        atomic_fetch_sub(&logq_inflight, 1);
        syslog(LOG_MAIL | prio, "%s", line);
        return;
    }
    if (logq_stderr)
        logq_stderr_copy(line);
    old = atomic_load(&logq_head);
    do
        n->next = old;
    while (!atomic_compare_exchange_weak(&logq_head, &old, n));
    atomic_fetch_sub(&logq_inflight, 1);
    logq_wake_if_idle();
}

static int
logq_connect(void)
{
    struct sockaddr_un sun;

    if (logq_fd >= 0)
        return 0;
    if ((logq_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
        return -1;
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    memcpy(sun.sun_path, logq_path, sizeof logq_path);
    if (connect(logq_fd, (struct sockaddr *)&sun, sizeof sun) != 0) {
        close(logq_fd);
        logq_fd = -1;
        return -1;
    }
    return 0;
}

/* Send n datagrams; a syslog daemon that went away (restart, rotation) gets
 * one reconnect. Returns how many the socket took. */
static size_t
logq_sendmmsg(struct mmsghdr *mv, size_t n)
{
    size_t done = 0;
    int retried = 0, r;

    while (done < n) {
        if (logq_connect() != 0) {
            if (retried++)
                break;
            continue;
        }
        r = sendmmsg(logq_fd, mv + done, (unsigned)(n - done), 0);
        if (r > 0) {
            done += (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        close(logq_fd);
        logq_fd = -1;
        if (retried++)
            break;
    }
    return done;
}

/* Send a list in order, LOGQ_BATCH at a time, with one timestamp per batch. */
static void
logq_send(struct logq_node *list)
{
    char prefix[LOGQ_BATCH][LOGQ_PREFIX_MAX];
    struct mmsghdr mv[LOGQ_BATCH];
    struct iovec iov[LOGQ_BATCH][2];
    struct logq_node *batch[LOGQ_BATCH];
    char stamp[32];
    struct tm tm;
    time_t now;
    size_t n, i, sent, bytes;
    int plen;

    while (list != NULL) {
        now = time(NULL);
        if (localtime_r(&now, &tm) == NULL || strftime(stamp, sizeof stamp, "%h %e %T", &tm) == 0)
            stamp[0] = '\0';
        memset(mv, 0, sizeof mv);
        for (n = 0; n < LOGQ_BATCH && list != NULL; n++, list = list->next) {
            batch[n] = list;
            plen = snprintf(prefix[n], sizeof prefix[n], "<%d>%s %s[%ld]: ",
                            LOG_MAIL | list->prio, stamp, logq_ident, logq_pid);
            if (plen < 0 || (size_t)plen >= sizeof prefix[n])
                plen = 0;
            iov[n][0].iov_base = prefix[n];
            iov[n][0].iov_len = (size_t)plen;
            iov[n][1].iov_base = list->text;
            iov[n][1].iov_len = list->len;
            mv[n].msg_hdr.msg_iov = iov[n];
            mv[n].msg_hdr.msg_iovlen = 2;
        }
        sent = logq_sendmmsg(mv, n);
        atomic_fetch_add(&logq_nsent, sent);
        if (sent < n) {
            atomic_fetch_add(&logq_ndropped, n - sent);
            logq_unreported += n - sent;
        }
        for (bytes = 0, i = 0; i < n; i++) {
            bytes += sizeof *batch[i] + batch[i]->len;
            free(batch[i]);
        }
        atomic_fetch_sub(&logq_pending, bytes);
    }
}

/* Take the whole queue, oldest first. */
static struct logq_node *
logq_take(void)
{
    struct logq_node *list = atomic_exchange(&logq_head, NULL), *prev = NULL, *next;

    while (list != NULL) {
        next = list->next;
        list->next = prev;
        prev = list;
        list = next;
    }
    return prev;
}

static void
logq_report_drops(void)
{
    char line[128];
    struct logq_node *n;
    int len;

    if (logq_unreported == 0 || logq_connect() != 0)
        return;
    len = snprintf(line, sizeof line, "%zu syslog line(s) were lost while the syslog "
                   "daemon did not accept them", logq_unreported);
    if (len < 0 || (size_t)len >= sizeof line ||
        (n = logq_node_new(LOG_WARNING, line, (size_t)len)) == NULL)
        return;                 /* kept for the next batch */
    logq_unreported = 0;
    logq_send(n);
}

static void *
logq_main(void *arg)
{
    struct logq_node *list;
    struct timespec until;
    unsigned empty = 0;

    (void)arg;
    for (;;) {
        if ((list = logq_take()) != NULL) {
            logq_report_drops();
            logq_send(list);
            empty = 0;
        }
        pthread_mutex_lock(&logq_mu);
        if (logq_stopping && atomic_load(&logq_head) == NULL) {
            pthread_mutex_unlock(&logq_mu);
            break;
        }
        if (list == NULL && ++empty >= LOGQ_IDLE_ROUNDS) {
            /* idle: a producer wakes us (logq_wake_if_idle); the head is checked
             * under the mutex after idle is set, so no wake-up is lost */
            atomic_store(&logq_idle, true);
            while (atomic_load(&logq_head) == NULL && !logq_stopping)
                pthread_cond_wait(&logq_cv, &logq_mu);
            atomic_store(&logq_idle, false);
            empty = 0;
        } else if (!logq_stopping) {
            clock_gettime(CLOCK_MONOTONIC, &until);
            until.tv_nsec += LOGQ_FLUSH_MS * 1000000L;
            if (until.tv_nsec >= 1000000000L) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000L;
            }
            (void)pthread_cond_timedwait(&logq_cv, &logq_mu, &until);
        }
        pthread_mutex_unlock(&logq_mu);
    }
    return NULL;
}

int
logq_start(const char *ident, const char *path, bool stderr_copy, size_t max_bytes)
{
    pthread_condattr_t ca;
    sigset_t all, old;
    int err;

    if (atomic_load(&logq_running))
        return EALREADY;
    if (strlen(ident) >= sizeof logq_ident || strlen(path) >= sizeof logq_path)
        return ENAMETOOLONG;
    memcpy(logq_ident, ident, strlen(ident) + 1);
    memset(logq_path, 0, sizeof logq_path);
    memcpy(logq_path, path, strlen(path) + 1);
    logq_pid = (long)getpid();
    logq_stderr = stderr_copy;
    logq_max = max_bytes;
    logq_stopping = false;
    logq_unreported = 0;
    if ((err = pthread_condattr_init(&ca)) != 0)
        return err;
    if ((err = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) != 0 ||
        (err = pthread_cond_init(&logq_cv, &ca)) != 0) {
        pthread_condattr_destroy(&ca);
        return err;
    }
    pthread_condattr_destroy(&ca);
    (void)logq_connect();       /* as LOG_NDELAY: a chroot or sandbox later still works */
    /* The writer inherits a mask with every signal blocked: SIGTERM, SIGINT and
     * SIGHUP belong to libmilter's signal thread (as for the reload thread). */
    sigfillset(&all);
    if ((err = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0) {
        pthread_cond_destroy(&logq_cv);
        return err;
    }
    err = pthread_create(&logq_thread, NULL, logq_main, NULL);
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        pthread_cond_destroy(&logq_cv);
        if (logq_fd >= 0)
            close(logq_fd);
        logq_fd = -1;
        return err;
    }
    atomic_store(&logq_running, true);
    return 0;
}

void
logq_stop(void)
{
    if (!atomic_exchange(&logq_running, false))
        return;
    /* a producer that saw logq_running true finishes its push first */
    while (atomic_load(&logq_inflight) != 0)
        sched_yield();
    pthread_mutex_lock(&logq_mu);
    logq_stopping = true;
    pthread_cond_signal(&logq_cv);
    pthread_mutex_unlock(&logq_mu);
    pthread_join(logq_thread, NULL);
    pthread_cond_destroy(&logq_cv);
    if (logq_fd >= 0)
        close(logq_fd);
    logq_fd = -1;
}

void
logq_stats(struct logq_stats *st)
{
    st->sent = atomic_load(&logq_nsent);
    st->overflowed = atomic_load(&logq_noverflow);
    st->dropped = atomic_load(&logq_ndropped);
}
