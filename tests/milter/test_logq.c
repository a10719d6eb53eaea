/*
 * test_logq.c -- the syslog writer thread against a datagram socket the test
 * binds itself: the exact RFC 3164 form, order from one thread and from many,
 * nothing left behind by logq_stop, a syslog daemon that is missing and then
 * comes back, a full queue, an idle writer waking up, and the -f stderr copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "logq.h"
#include "table_test.h"

static char tmpdir[64];
static char sockpath[96];

/* A receiver: a bound datagram socket; recv_line reads one datagram. */
static int
bind_socket(void)
{
    struct sockaddr_un sun;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", sockpath);
    unlink(sockpath);
    assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
    return fd;
}

/* Every test starts with a receiver, and with no writer left running by a
 * test that failed half-way. */
static int
bind_receiver(void)
{
    logq_stop();
    return bind_socket();
}

/* One datagram, NUL-terminated, within timeout_ms; returns its length or -1. */
static ssize_t
recv_line(int fd, char *buf, size_t cap, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    ssize_t n;

    if (poll(&pfd, 1, timeout_ms) != 1)
        return -1;
    n = recv(fd, buf, cap - 1, 0);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

/* The text after "ident[pid]: ", checking the whole prefix on the way. */
static const char *
want_form(const char *dgram, int pri)
{
    regex_t re;
    regmatch_t m[1];
    char pat[160];
    int rc;

    snprintf(pat, sizeof pat,
             "^<%d>[A-Z][a-z][a-z] [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] "
             "test-logq\\[%ld\\]: ", pri, (long)getpid());
    assert_int_equal(regcomp(&re, pat, REG_EXTENDED), 0);
    rc = regexec(&re, dgram, 1, m, 0);
    regfree(&re);
    if (rc != 0) {
        print_error("datagram \"%s\" does not match /%s/\n", dgram, pat);
        fail();
    }
    return dgram + m[0].rm_eo;
}

static int
setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test-logq.XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    snprintf(sockpath, sizeof sockpath, "%s/log", tmpdir);
    openlog("test-logq", LOG_NDELAY, LOG_MAIL);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    unlink(sockpath);
    rmdir(tmpdir);
    closelog();
    return 0;
}

static void
test_form_and_order(void **state)
{
    char buf[1024];
    int fd = bind_receiver();

    (void)state;
    assert_int_equal(logq_start("test-logq", sockpath, false, 1u << 20), 0);
    logq_line(LOG_INFO, "first line");
    logq_line(LOG_WARNING, "second: with \"quotes\" and 100% of it");
    logq_line(LOG_ERR, "third");
    assert_true(recv_line(fd, buf, sizeof buf, 2000) > 0);
    assert_string_equal(want_form(buf, LOG_MAIL | LOG_INFO), "first line");
    assert_true(recv_line(fd, buf, sizeof buf, 2000) > 0);
    assert_string_equal(want_form(buf, LOG_MAIL | LOG_WARNING),
                        "second: with \"quotes\" and 100% of it");
    assert_true(recv_line(fd, buf, sizeof buf, 2000) > 0);
    assert_string_equal(want_form(buf, LOG_MAIL | LOG_ERR), "third");
    logq_stop();
    assert_true(recv_line(fd, buf, sizeof buf, 50) < 0);    /* nothing more */
    close(fd);
}

/* ------------------------------------------------------------ many threads */

#define NTHREADS 8
#define PER_THREAD 500

static void *
producer(void *arg)
{
    long id = (long)(intptr_t)arg;
    char line[64];

    for (int i = 0; i < PER_THREAD; i++) {
        snprintf(line, sizeof line, "t%ld n%d", id, i);
        logq_line(LOG_INFO, line);
    }
    return NULL;
}

struct collector {
    int fd, want;
    int got[NTHREADS];          /* next number expected per thread */
    int total, disorder, foreign;
};

static void *
collect(void *arg)
{
    struct collector *c = arg;
    char buf[512];
    long t;
    int n;

    while (c->total < c->want && recv_line(c->fd, buf, sizeof buf, 5000) > 0) {
        const char *text = strstr(buf, "]: ");

        if (text == NULL || sscanf(text + 3, "t%ld n%d", &t, &n) != 2 || t < 0 ||
            t >= NTHREADS) {
            c->foreign++;
            continue;
        }
        if (n != c->got[t])
            c->disorder++;
        c->got[t] = n + 1;
        c->total++;
    }
    return NULL;
}

static void
test_threads_all_in_order(void **state)
{
    pthread_t th[NTHREADS], rt;
    struct collector c = { 0 };
    struct logq_stats before, after;

    (void)state;
    c.fd = bind_receiver();
    c.want = NTHREADS * PER_THREAD;
    logq_stats(&before);
    assert_int_equal(logq_start("test-logq", sockpath, false, 1u << 20), 0);
    assert_int_equal(pthread_create(&rt, NULL, collect, &c), 0);
    for (long i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, producer, (void *)(intptr_t)i), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    logq_stop();
    pthread_join(rt, NULL);
    logq_stats(&after);
    assert_int_equal(c.total, NTHREADS * PER_THREAD);
    assert_int_equal(c.disorder, 0);
    assert_int_equal(c.foreign, 0);
    assert_int_equal(after.sent - before.sent, NTHREADS * PER_THREAD);
    assert_int_equal(after.dropped - before.dropped, 0);
    assert_int_equal(after.overflowed - before.overflowed, 0);
    close(c.fd);
}

/* logq_stop right after a burst: every line is sent before it returns. */
static void
test_stop_drains(void **state)
{
    struct collector c = { 0 };
    pthread_t rt;

    (void)state;
    c.fd = bind_receiver();
    c.want = PER_THREAD;
    assert_int_equal(pthread_create(&rt, NULL, collect, &c), 0);
    assert_int_equal(logq_start("test-logq", sockpath, false, 1u << 20), 0);
    producer((void *)(intptr_t)3);
    logq_stop();
    pthread_join(rt, NULL);
    assert_int_equal(c.total, PER_THREAD);
    assert_int_equal(c.got[3], PER_THREAD);
    assert_int_equal(c.disorder, 0);
    close(c.fd);
}

/* No syslog daemon at first: lines are counted as dropped; once one listens,
 * the next batch starts with the count of what was lost. */
static void
test_missing_daemon_reported(void **state)
{
    struct logq_stats before, after;
    char buf[512];
    int fd, i;

    (void)state;
    logq_stop();
    unlink(sockpath);
    logq_stats(&before);
    assert_int_equal(logq_start("test-logq", sockpath, false, 1u << 20), 0);
    for (i = 0; i < 3; i++)
        logq_line(LOG_INFO, "into the void");
    for (i = 0; i < 200; i++) {             /* at most 2 s for the writer to try */
        logq_stats(&after);
        if (after.dropped - before.dropped == 3)
            break;
        usleep(10000);
    }
    assert_int_equal(after.dropped - before.dropped, 3);
    fd = bind_socket();
    logq_line(LOG_INFO, "back again");
    assert_true(recv_line(fd, buf, sizeof buf, 2000) > 0);
    assert_string_equal(want_form(buf, LOG_MAIL | LOG_WARNING),
                        "3 syslog line(s) were lost while the syslog daemon did not "
                        "accept them");
    assert_true(recv_line(fd, buf, sizeof buf, 2000) > 0);
    assert_string_equal(want_form(buf, LOG_MAIL | LOG_INFO), "back again");
    logq_stop();
    close(fd);
}

/* A syslog daemon that stops reading blocks the writer, not the callers: past
 * max_bytes, lines go to syslog(3) in the caller and are counted. */
static void
test_full_queue_overflows(void **state)
{
    struct logq_stats before, after;
    char buf[512];
    int fd = bind_receiver(), i, n = 0;

    (void)state;
    logq_stats(&before);
    assert_int_equal(logq_start("test-logq", sockpath, false, 2048), 0);
    for (i = 0; i < 200; i++)   /* beyond the socket's queue (net.unix.max_dgram_qlen) */
        logq_line(LOG_INFO, "flood");
    logq_stats(&after);
    assert_true(after.overflowed - before.overflowed > 0);
    /* the receiver reads again: everything queued arrives, then stop returns */
    while (recv_line(fd, buf, sizeof buf, 200) > 0)
        n++;
    logq_stop();
    while (recv_line(fd, buf, sizeof buf, 50) > 0)
        n++;
    logq_stats(&after);
    assert_int_equal((size_t)n, after.sent - before.sent);
    assert_int_equal((size_t)n + (after.overflowed - before.overflowed), 200);
    close(fd);
}

/* After a second without lines the writer sleeps until a line wakes it. */
static void
test_idle_writer_wakes(void **state)
{
    struct timespec t0, t1;
    char buf[512];
    int fd = bind_receiver();
    double ms;

    (void)state;
    assert_int_equal(logq_start("test-logq", sockpath, false, 1u << 20), 0);
    usleep((LOGQ_FLUSH_MS * 200 + 300) * 1000);     /* past the idle threshold */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    logq_line(LOG_INFO, "wake up");
    assert_true(recv_line(fd, buf, sizeof buf, 2000) > 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_string_equal(want_form(buf, LOG_MAIL | LOG_INFO), "wake up");
    ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    if (ms > 100) {
        print_error("an idle writer took %.1f ms to send a line\n", ms);
        fail();
    }
    logq_stop();
    close(fd);
}

/* -f: each line is on stderr at once, as "ident[pid]: text". */
static void
test_stderr_copy(void **state)
{
    char path[160], buf[512], want[128];
    int fd = bind_receiver(), saved, out;
    ssize_t n;

    (void)state;
    snprintf(path, sizeof path, "%s/stderr", tmpdir);
    out = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(out >= 0);
    saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(out, STDERR_FILENO) >= 0);
    assert_int_equal(logq_start("test-logq", sockpath, true, 1u << 20), 0);
    logq_line(LOG_INFO, "to both");
    n = pread(out, buf, sizeof buf - 1, 0);   /* before the writer even ran */
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    assert_true(n > 0);
    buf[n] = '\0';
    snprintf(want, sizeof want, "test-logq[%ld]: to both\n", (long)getpid());
    assert_string_equal(buf, want);
    assert_true(recv_line(fd, buf, sizeof buf, 2000) > 0);
    assert_string_equal(want_form(buf, LOG_MAIL | LOG_INFO), "to both");
    logq_stop();
    close(out);
    unlink(path);
    close(fd);
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_FN(&tt, test_form_and_order);
    TABLE_TEST_FN(&tt, test_threads_all_in_order);
    TABLE_TEST_FN(&tt, test_stop_drains);
    TABLE_TEST_FN(&tt, test_missing_daemon_reported);
    TABLE_TEST_FN(&tt, test_full_queue_overflows);
    TABLE_TEST_FN(&tt, test_idle_writer_wakes);
    TABLE_TEST_FN(&tt, test_stderr_copy);
    return table_test_run(&tt, "logq", setup, teardown);
}
