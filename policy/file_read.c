/*
 * file_read.c -- opens an operator-named path without blocking, refuses what is
 * not a regular file (or an allowed directory) and reads it whole under a cap.
 * Shared by the loader (connectors file) and the trust store (PEM files), so a
 * FIFO named anywhere fails the same way, at once.
 * Never: blocks on open or read, logs, or trusts st_size (a file may grow or
 * shrink while it is read).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_read.h"
#include "strfmt.h"

static char *
errno_msg(const char *what, int e)
{
    char eb[256];

    return strfmt("%s: %s", what, strerror_r(e, eb, sizeof eb));
}

/* What a non-regular file is, in the words of ls(1)'s manual. */
static const char *
file_kind(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISLNK(m))
        return "a symbolic link";
    return "not a regular file";
}

int
file_read_open(const char *path, unsigned flags, const char *expected, struct stat *st,
               char **err)
{
    int oflags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
    int fd, e;
    struct stat lst;

    *err = NULL;
    if ((flags & FILE_READ_FOLLOW) == 0)
        oflags |= O_NOFOLLOW;
    if ((fd = open(path, oflags)) < 0) {
        e = errno;
        /* ELOOP from O_NOFOLLOW, ENXIO from a socket: say what the path is. */
        if ((e == ELOOP || e == ENXIO) && lstat(path, &lst) == 0 &&
            (S_ISLNK(lst.st_mode) || S_ISSOCK(lst.st_mode)))
            *err = S_ISLNK(lst.st_mode)
                ? strfmt("is a symbolic link, which is not followed here (expected %s; "
                         "name the file it points to)", expected)
                : strfmt("is a socket, not a regular file (expected %s)", expected);
        else
            *err = errno_msg("cannot be opened", e);
        return -1;
    }
    if (fstat(fd, st) < 0) {
        *err = errno_msg("cannot be examined", errno);
        goto fail;
    }
    if (S_ISREG(st->st_mode) || (S_ISDIR(st->st_mode) && (flags & FILE_READ_DIR_OK)))
        return fd;
    *err = strfmt("is %s, not a regular file (expected %s)", file_kind(st->st_mode), expected);
fail:
    close(fd);
    return -1;
}

int
file_read_fd(int fd, const struct stat *st, size_t max, char **buf, size_t *len, char **err)
{
    char *b = NULL;
    size_t cap, got = 0;
    int rc = -1;

    *buf = NULL;
    *len = 0;
    *err = NULL;
    if ((uintmax_t)st->st_size > max) {
        *err = strfmt("is %jd bytes, more than the %zu MiB limit", (intmax_t)st->st_size,
                      max >> 20);
        goto out;
    }
    /* The size may change under us: read until EOF, never past the cap. */
    /* Room for the NUL and one byte more, so the read that finds EOF needs no
     * growth when the size was right. */
    cap = (size_t)st->st_size + 2;
    if ((b = malloc(cap)) == NULL)
        goto nomem;
    for (;;) {
        ssize_t r;

        if (got == cap - 1) {
            /* Full: grow, but only to one byte past the cap, enough to tell. */
            size_t want = cap - 1 > max / 2 ? max + 2 : cap * 2;
            char *grown;

            if (got > max)
                goto toolarge;
            if ((grown = realloc(b, want)) == NULL)
                goto nomem;
            b = grown;
            cap = want;
        }
        r = read(fd, b + got, cap - 1 - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *err = errno_msg("cannot be read", errno);
            goto out;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    if (got > max)
        goto toolarge;
    b[got] = '\0';
    *buf = b;
    *len = got;
    b = NULL;
    rc = 0;
    goto out;
toolarge:
    *err = strfmt("grew past the %zu MiB limit while being read", max >> 20);
    goto out;
nomem:
    *err = strfmt("out of memory");
out:
    free(b);
    return rc;
}

int
file_read(const char *path, unsigned flags, size_t max, const char *expected, char **buf,
          size_t *len, char **err)
{
    struct stat st;
    int fd, rc;

    *buf = NULL;
    *len = 0;
    if ((fd = file_read_open(path, flags & ~(unsigned)FILE_READ_DIR_OK, expected, &st, err)) < 0)
        return -1;
    rc = file_read_fd(fd, &st, max, buf, len, err);
    close(fd);
    return rc;
}
