/*
 * posture_log.c -- the daemon's sinks for what it says about a message: the
 * syslog lines (through logq's writer thread), the JSON posture log file, and
 * the general logger every milter/ file uses (posture_log_msg).
 * Owns: the JSON log file descriptor, the rules a JSON log file must meet, the
 * hash chain's last link, the once-a-minute report of records not written, and
 * the -v switch. Never: formats a posture field itself (policy/posture_render.c
 * does), calls libmilter, decides policy, writes a JSON line in more than one
 * write(2), follows a symbolic link or blocks on a FIFO to reach the JSON log.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "esc.h"
#include "line_hash.h"
#include "logq.h"
#include "posture.h"
#include "posture_log.h"
#include "posture_render.h"
#include "strbuf.h"

static atomic_bool posture_verbose;

/* The JSON log. Writers load the descriptor without any lock: a reopen
 * (SIGUSR1, logrotate) never closes it under them. Once a descriptor number is
 * in use, later files are dup3()ed onto that same number, which the kernel
 * swaps atomically, so a write goes to the old file or the new one, never to a
 * closed or reused descriptor; O_APPEND keeps each line's write(2) whole with
 * respect to the others. posture_json_fd is -1 while disabled;
 * posture_json_slot keeps the number. Only the start-up code and the reload
 * thread open, one at a time. */
static atomic_int posture_json_fd = -1;
static int posture_json_slot = -1;

/* One writer at a time: a chained line names the line written just before it,
 * and a line cut short by a full disk is cut off again before the next one.
 * Also held by the opener, so a link line goes in between two records, never
 * inside the chain of another. */
static pthread_mutex_t posture_json_mu = PTHREAD_MUTEX_INITIALIZER;
static bool posture_json_chain;                       /* under mu */
static char posture_json_last[LINE_HASH_HEX + 1];     /* under mu; "" none yet */
static char posture_json_host[256];                   /* the system's name */
/* Records not written, reported once a minute (under mu). */
static struct timespec posture_json_err_at;
static unsigned long posture_json_err_quiet, posture_json_err_total;
#define POSTURE_JSON_ERR_EVERY 60

void
posture_log_set_verbose(bool on)
{
    atomic_store(&posture_verbose, on);
}

bool
posture_log_verbose(void)
{
    return atomic_load(&posture_verbose);
}

/* Any byte a log line must not carry as it is? */
static bool
posture_log_unsafe(const struct strbuf *b)
{
    size_t i;

    for (i = 0; i < b->len; i++)
        if ((unsigned char)b->s[i] < 0x20 || (unsigned char)b->s[i] >= 0x7f)
            return true;
    return false;
}

void
posture_log_msg(int prio, const char *fmt, ...)
{
    struct strbuf b;
    va_list ap;

    if (prio == LOG_DEBUG && !posture_log_verbose())
        return;
    strbuf_init(&b);
    va_start(ap, fmt);
    strbuf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (!b.oom && posture_log_unsafe(&b)) {
        /* an argument came from the MTA as it is (a queue id, say): the
         * finished line is escaped here, once for every caller */
        struct strbuf safe;

        strbuf_init(&safe);
        esc_putn(&safe, b.s, b.len, ESC_LINE);
        strbuf_free(&b);
        b = safe;
    }
    if (b.oom) {
        /* no memory to format, nor to escape: the fixed text alone */
        syslog(LOG_MAIL | prio, "%s (line lost: out of memory)", fmt);
    } else
        logq_line(prio, strbuf_str(&b));
    strbuf_free(&b);
}

/* A record that was not written, under mu: the first of each minute is
 * logged with the count of those kept quiet since, so a full disk at a
 * thousand messages a minute is one line a minute, not a thousand. */
static void
posture_log_json_failed(const char *qid, const char *what, int err)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    posture_json_err_total++;
    if (posture_json_err_total > 1 && now.tv_sec - posture_json_err_at.tv_sec
                                      < POSTURE_JSON_ERR_EVERY) {
        posture_json_err_quiet++;
        return;
    }
    posture_log_msg(LOG_ERR, "%s: JSON posture log: record not written (%s: %s); "
                    "%lu more not written in the last minute, %lu since the first failure",
                    posture_qid(qid), what, strerror(err), posture_json_err_quiet,
                    posture_json_err_total);
    posture_json_err_at = now;
    posture_json_err_quiet = 0;
}

/* Write one whole line, under mu; 0, or -1 with errno. A short write (the
 * disk filled in the middle) is cut off again, so the next record starts on
 * a line of its own and the file holds no half record. */
static int
posture_log_json_put(int fd, const char *s, size_t len)
{
    off_t end = lseek(fd, 0, SEEK_END);
    ssize_t n = write(fd, s, len);
    int e = errno;

    if (n >= 0 && (size_t)n == len)
        return 0;
    if (n >= 0) {
        /* short: the kernel took what fitted and says why only on a retry */
        if (n > 0 && end >= 0)
            (void)ftruncate(fd, end);
        e = ENOSPC;
    }
    errno = e;
    return -1;
}

int
posture_log_message(const struct posture_msg *m)
{
    struct strbuf b;

    strbuf_init(&b);
    posture_render_line(&b, m);
    if (b.oom)
        syslog(LOG_MAIL | LOG_ERR, "%s: out of memory formatting the posture log line",
               posture_qid(m->queue_id));
    else
        logq_line(LOG_INFO, strbuf_str(&b));
    strbuf_free(&b);
    return posture_log_json_line(m);
}

int
posture_log_json_line(const struct posture_msg *m)
{
    struct posture_msg mm;
    struct strbuf b;
    int fd, rc = 0;

    if (!m->json)
        return 0;
    mm = *m;
    if (mm.host == NULL)
        mm.host = posture_json_host[0] != '\0' ? posture_json_host : NULL;
    strbuf_init(&b);
    pthread_mutex_lock(&posture_json_mu);
    if ((fd = atomic_load(&posture_json_fd)) < 0)
        goto out;                       /* disabled since the session looked */
    if (posture_json_chain)
        mm.prev = posture_json_last[0] != '\0' ? posture_json_last : LINE_HASH_GENESIS;
    posture_render_json(&b, &mm, (long long)time(NULL));
    if (b.oom) {
        posture_log_json_failed(m->queue_id, "formatting", ENOMEM);
        rc = -1;
    } else if (posture_log_json_put(fd, b.s, b.len) != 0) {
        posture_log_json_failed(m->queue_id, "writing", errno);
        rc = -1;
    } else {
        if (posture_json_chain && line_hash(b.s, b.len - 1, posture_json_last) != 0)
            posture_json_last[0] = '\0';
        if (posture_json_err_total > 0) {
            posture_log_msg(LOG_NOTICE, "%s: JSON posture log: written again; %lu records "
                            "were not written", posture_qid(m->queue_id),
                            posture_json_err_total);
            posture_json_err_total = posture_json_err_quiet = 0;
        }
    }
out:
    pthread_mutex_unlock(&posture_json_mu);
    strbuf_free(&b);
    return rc;
}

void
posture_log_refused(const char *queue_id, const char *rcpt, const struct policy_result *r)
{
    struct strbuf b;

    strbuf_init(&b);
    posture_render_refused(&b, queue_id, rcpt, r);
    if (!b.oom)
        logq_line(LOG_INFO, strbuf_str(&b));
    strbuf_free(&b);
}

/* The sentence about path, in why (NULL: the caller does not want it). */
static void
posture_log_json_why(struct strbuf *why, const char *path, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL)
        return;
    strbuf_puts(why, "JSON posture log \"");
    esc_put(why, path, 4096, ESC_QUOTED);
    strbuf_puts(why, "\" ");
    va_start(ap, fmt);
    strbuf_vprintf(why, fmt, ap);
    va_end(ap);
}

/* The kind of a non-regular file, for the sentence. */
static const char *
posture_log_kind(mode_t m)
{
    if (S_ISLNK(m))
        return "a symbolic link";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

/* The rules a JSON log file must meet, on what stat said: a regular file,
 * writable by nobody but its owner, and (when owner) owned by the daemon's
 * effective uid, which is only known once privileges are dropped. */
static int
posture_log_json_judge(const struct stat *st, const char *path, bool owner,
                       struct strbuf *why)
{
    if (!S_ISREG(st->st_mode)) {
        posture_log_json_why(why, path, "is %s, not a regular file",
                             posture_log_kind(st->st_mode));
        return -1;
    }
    if (owner && st->st_uid != geteuid()) {
        posture_log_json_why(why, path, "is owned by uid %lu, not by the daemon's user "
                             "(uid %lu)", (unsigned long)st->st_uid, (unsigned long)geteuid());
        return -1;
    }
    if (st->st_mode & (S_IWGRP | S_IWOTH)) {
        posture_log_json_why(why, path, "is writable by %s (mode %04o): an audit "
                             "trail others can write proves nothing",
                             (st->st_mode & S_IWOTH) ? "others" : "its group",
                             (unsigned)(st->st_mode & 07777));
        return -1;
    }
    return 0;
}

int
posture_log_json_check(const char *path, struct strbuf *why)
{
    struct stat st;

    if (path == NULL || path[0] == '\0')
        return 0;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        posture_log_json_why(why, path, "cannot be examined: %s", strerror(errno));
        return -1;
    }
    return posture_log_json_judge(&st, path, false, why);
}

/* Open path for appending, and refuse what the daemon must not write into:
 * a symbolic link (O_NOFOLLOW: it may point at any file the daemon's user can
 * write), a FIFO or device (O_NONBLOCK: opening a FIFO must not block the
 * daemon; writing to one would), a file someone else owns or can write. */
static int
posture_log_json_open_checked(const char *path, struct strbuf *why)
{
    struct stat st;
    int fd;

    /* read too: the hash chain continues from the last line already there */
    fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
                    O_NOCTTY, 0640);
    if (fd < 0) {
        int e = errno;

        if (e == ELOOP)
            posture_log_json_why(why, path, "is a symbolic link; it must be a regular file");
        else if (e == ENXIO)
            posture_log_json_why(why, path, "is a FIFO or socket; it must be a regular file");
        else
            posture_log_json_why(why, path, "cannot be opened for appending: %s",
                                 strerror(e));
        return -1;
    }
    if (fstat(fd, &st) != 0) {
        posture_log_json_why(why, path, "cannot be examined: %s", strerror(errno));
        goto fail;
    }
    if (posture_log_json_judge(&st, path, true, why) != 0)
        goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

/* The hash of the last line of the file open on fd (its bytes without the
 * "\n"), read backwards in blocks so a line of any length costs one block of
 * memory. *partial: the file does not end in "\n" (a line cut short by a crash),
 * so the link line must begin with one. 0, or -1 with errno. */
static int
posture_log_json_tail(int fd, off_t size, char out[LINE_HASH_HEX + 1], bool *partial)
{
    char blk[4096];
    off_t end = size, start = 0, pos;
    struct line_hash *h;
    ssize_t n;

    if (pread(fd, blk, 1, size - 1) != 1)
        return -1;
    *partial = blk[0] != '\n';
    if (!*partial)
        end = size - 1;
    for (pos = end; pos > 0 && start == 0;) {
        size_t want = pos > (off_t)sizeof blk ? sizeof blk : (size_t)pos;

        if (pread(fd, blk, want, pos - (off_t)want) != (ssize_t)want)
            return -1;
        for (size_t k = want; k > 0; k--)
            if (blk[k - 1] == '\n') {
                start = pos - (off_t)want + (off_t)k;
                break;
            }
        pos -= (off_t)want;
    }
    if ((h = line_hash_begin()) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (pos = start; pos < end; pos += n) {
        size_t want = end - pos > (off_t)sizeof blk ? sizeof blk : (size_t)(end - pos);

        if ((n = pread(fd, blk, want, pos)) <= 0) {
            (void)line_hash_end(h, out);
            errno = n < 0 ? errno : EIO;
            return -1;
        }
        line_hash_update(h, blk, (size_t)n);
    }
    if (line_hash_end(h, out) != 0) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

/* Under mu, on the newly opened fd: the link line that ties this file to the
 * chain. It names the last line already in the file; in an empty file (a
 * rotation) the last line this process wrote anywhere; else "genesis". */
static int
posture_log_json_link(int fd, const char *path, const char *host, struct strbuf *why)
{
    char tail[LINE_HASH_HEX + 1];
    bool partial = false;
    struct stat st;
    struct strbuf b;
    const char *prev;
    int rc;

    if (fstat(fd, &st) != 0) {
        posture_log_json_why(why, path, "cannot be examined: %s", strerror(errno));
        return -1;
    }
    if (st.st_size > 0) {
        if (posture_log_json_tail(fd, st.st_size, tail, &partial) != 0) {
            posture_log_json_why(why, path, "cannot be read back to continue the hash "
                                 "chain: %s", strerror(errno));
            return -1;
        }
        prev = tail;
    } else
        prev = posture_json_last[0] != '\0' ? posture_json_last : LINE_HASH_GENESIS;
    strbuf_init(&b);
    if (partial)
        strbuf_putc(&b, '\n');
    posture_render_link(&b, (long long)time(NULL), host, prev);
    if (b.oom) {
        posture_log_json_why(why, path, "cannot get its link line: out of memory");
        strbuf_free(&b);
        return -1;
    }
    if ((rc = posture_log_json_put(fd, b.s, b.len)) != 0)
        posture_log_json_why(why, path, "cannot take the hash chain's link line: %s",
                             strerror(errno));
    else if (line_hash(b.s + partial, b.len - 1 - partial, posture_json_last) != 0)
        posture_json_last[0] = '\0';
    strbuf_free(&b);
    return rc;
}

/* The system's name, for records whose settings name no host. */
static void
posture_log_json_default_host(void)
{
    if (posture_json_host[0] == '\0'
        && gethostname(posture_json_host, sizeof posture_json_host - 1) != 0)
        posture_json_host[0] = '\0';
    posture_json_host[sizeof posture_json_host - 1] = '\0';
}

int
posture_log_json_open(const struct policy_settings *st, struct strbuf *why)
{
    const char *path = st != NULL ? st->log_json : NULL;
    int fd, rc = -1;

    posture_log_json_default_host();
    pthread_mutex_lock(&posture_json_mu);
    if (path == NULL || path[0] == '\0') {
        /* Disabled: writers stop using it; the slot stays open (on /dev/null) so a
         * writer that loaded it a moment ago still writes somewhere harmless. */
        atomic_store(&posture_json_fd, -1);
        if (posture_json_slot >= 0 && (fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0) {
            (void)dup2(fd, posture_json_slot);
            close(fd);
        }
        rc = 0;
        goto out;
    }
    if ((fd = posture_log_json_open_checked(path, why)) < 0)
        goto out;
    /* the link goes in before the swap: a file that cannot take it is refused
     * and the previous one stays */
    if (st->log_json_chain
        && posture_log_json_link(fd, path, st->hostname != NULL ? st->hostname
                                 : posture_json_host, why) != 0) {
        close(fd);
        goto out;
    }
    if (posture_json_slot < 0) {
        posture_json_slot = fd;
    } else {
        int drc = dup3(fd, posture_json_slot, O_CLOEXEC);
        int saved = errno;

        close(fd);
        if (drc < 0) {
            posture_log_json_why(why, path, "cannot replace the previous log: %s",
                                 strerror(saved));
            goto out;
        }
    }
    posture_json_chain = st->log_json_chain;
    atomic_store(&posture_json_fd, posture_json_slot);
    rc = 0;
out:
    pthread_mutex_unlock(&posture_json_mu);
    return rc;
}

void
posture_log_json_close(void)
{
    /* Only at shut-down, after libmilter has stopped every session thread. */
    atomic_store(&posture_json_fd, -1);
    if (posture_json_slot >= 0)
        close(posture_json_slot);
    posture_json_slot = -1;
}
