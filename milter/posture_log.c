/*
 * posture_log.c -- the daemon's sinks for what it says about a message: the
 * syslog lines (through logq's writer thread), the JSON posture log file, and
 * the general logger every milter/ file uses (posture_log_msg).
 * Owns: the JSON log file descriptor, the rules a JSON log file must meet, and
 * the -v switch. Never: formats a posture field itself (policy/posture_render.c
 * does), calls libmilter, decides policy, writes a JSON line in more than one
 * write(2), follows a symbolic link or blocks on a FIFO to reach the JSON log.
 */
#include <errno.h>
#include <fcntl.h>
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

static void
posture_log_json_write(const struct strbuf *line)
{
    int fd = atomic_load(&posture_json_fd);
    ssize_t n;

    if (fd >= 0) {
        n = write(fd, line->s, line->len);
        if (n < 0 || (size_t)n != line->len)
            syslog(LOG_MAIL | LOG_ERR, "JSON posture log: short write (%zd of %zu bytes): %m",
                   n, line->len);
    }
}

void
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
    posture_log_json_line(m);
}

void
posture_log_json_line(const struct posture_msg *m)
{
    struct strbuf b;

    if (!m->json)
        return;
    strbuf_init(&b);
    posture_render_json(&b, m, (long long)time(NULL));
    if (b.oom)
        syslog(LOG_MAIL | LOG_ERR, "%s: out of memory formatting the JSON posture line",
               posture_qid(m->queue_id));
    else
        posture_log_json_write(&b);
    strbuf_free(&b);
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

    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
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

int
posture_log_json_open(const char *path, struct strbuf *why)
{
    int fd;

    if (path == NULL || path[0] == '\0') {
        /* Disabled: writers stop using it; the slot stays open (on /dev/null) so a
         * writer that loaded it a moment ago still writes somewhere harmless. */
        atomic_store(&posture_json_fd, -1);
        if (posture_json_slot >= 0 && (fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0) {
            (void)dup2(fd, posture_json_slot);
            close(fd);
        }
        return 0;
    }
    if ((fd = posture_log_json_open_checked(path, why)) < 0)
        return -1;
    if (posture_json_slot < 0) {
        posture_json_slot = fd;
    } else {
        int rc = dup3(fd, posture_json_slot, O_CLOEXEC);
        int saved = errno;

        close(fd);
        if (rc < 0) {
            posture_log_json_why(why, path, "cannot replace the previous log: %s",
                                 strerror(saved));
            return -1;
        }
    }
    atomic_store(&posture_json_fd, posture_json_slot);
    return 0;
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
