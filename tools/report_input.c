/*
 * report_input.c -- lines from a posture log: a plain or gzip-compressed file
 * (zlib reads both, so rotated logs need no flag) or stdin, in fixed blocks.
 * Never: follows a symlink, opens anything but a regular file, holds more than one
 * block and one line (capped at REPORT_MAX_LINE), or lets a truncated gzip stream
 * pass as a clean end of file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "report.h"

#define BLOCK (256 * 1024)

struct report_input {
    gzFile      gz;
    char       *block;
    size_t      pos, end;       /* unread bytes of block */
    char       *line;
    size_t      len, cap;
    uint64_t    lineno;
    bool        eof;
    char        error[160];
};

struct report_input *
report_input_open(const char *path, char *err, size_t errlen)
{
    struct report_input *in;
    struct stat st;
    int fd;

    if (strcmp(path, "-") == 0) {
        fd = dup(STDIN_FILENO);
    } else {
        /* O_NONBLOCK: a FIFO named here must not hang the open; it is refused below. */
        fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    }
    if (fd < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    if (strcmp(path, "-") != 0) {
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            snprintf(err, errlen, "not a regular file (pipe it to stdin instead)");
            close(fd);
            return NULL;
        }
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    }
    in = calloc(1, sizeof *in);
    if (in == NULL || (in->block = malloc(BLOCK)) == NULL
        || (in->line = malloc(in->cap = 4096)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    in->gz = gzdopen(fd, "rb");
    if (in->gz == NULL) {
        snprintf(err, errlen, "cannot read: out of memory");
        goto fail;
    }
    (void)gzbuffer(in->gz, BLOCK);
    return in;
fail:
    close(fd);
    if (in != NULL) {
        free(in->block);
        free(in->line);
        free(in);
    }
    return NULL;
}

/* Refill the block; false at the end of input or on an error (recorded). */
static bool
report_input_fill(struct report_input *in)
{
    int n, errnum;
    const char *msg;

    if (in->eof)
        return false;
    n = gzread(in->gz, in->block, BLOCK);
    if (n > 0) {
        in->pos = 0;
        in->end = (size_t)n;
        return true;
    }
    in->eof = true;
    msg = gzerror(in->gz, &errnum);
    if (n < 0 || errnum != Z_OK) {
        /* zlib says Z_BUF_ERROR ("unexpected end of file") for a cut-off stream. */
        snprintf(in->error, sizeof in->error, "%s after line %llu",
                 errnum == Z_BUF_ERROR ? "truncated gzip stream" : msg,
                 (unsigned long long)in->lineno);
    }
    return false;
}

static bool
report_input_append(struct report_input *in, const char *p, size_t n, bool *huge)
{
    if (*huge)
        return true;
    if (in->len + n > REPORT_MAX_LINE) {
        *huge = true;
        in->len = 0;
        return true;
    }
    if (in->len + n + 1 > in->cap) {
        size_t cap = in->cap;
        char *l;

        while (cap < in->len + n + 1)
            cap *= 2;
        if ((l = realloc(in->line, cap)) == NULL)
            return false;
        in->line = l;
        in->cap = cap;
    }
    memcpy(in->line + in->len, p, n);
    in->len += n;
    return true;
}

const char *
report_input_line(struct report_input *in, size_t *len, uint64_t *lineno, bool *huge)
{
    bool any = false;

    *huge = false;
    in->len = 0;
    for (;;) {
        char *nl;

        if (in->pos == in->end && !report_input_fill(in)) {
            if (!any)
                return NULL;
            break;          /* a last line without its newline */
        }
        any = true;
        nl = memchr(in->block + in->pos, '\n', in->end - in->pos);
        if (nl == NULL) {
            if (!report_input_append(in, in->block + in->pos, in->end - in->pos, huge))
                goto oom;
            in->pos = in->end;
            continue;
        }
        if (!report_input_append(in, in->block + in->pos, (size_t)(nl - in->block) - in->pos,
                                 huge))
            goto oom;
        in->pos = (size_t)(nl - in->block) + 1;
        break;
    }
    in->lineno++;
    *lineno = in->lineno;
    if (*huge)
        in->len = 0;
    in->line[in->len] = '\0';
    *len = in->len;
    return in->line;
oom:
    snprintf(in->error, sizeof in->error, "out of memory after line %llu",
             (unsigned long long)in->lineno);
    in->eof = true;
    return NULL;
}

const char *
report_input_error(const struct report_input *in)
{
    return in->error[0] != '\0' ? in->error : NULL;
}

void
report_input_close(struct report_input *in)
{
    if (in == NULL)
        return;
    gzclose(in->gz);
    free(in->block);
    free(in->line);
    free(in);
}
