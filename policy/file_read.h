/*
 * file_read.h -- the one way policy/ opens and reads a file named by the
 * operator: the connectors file, the trust store and the intermediates.
 * Never: blocks (a FIFO or a device is refused after a non-blocking open, not
 * read), follows a symbolic link unless the caller asks, or reads past a cap.
 * Diagnostics: every failure is one message naming what the path is and what
 * was expected; the caller prefixes the path and its config position.
 */
#ifndef FILE_READ_H
#define FILE_READ_H

#include <stddef.h>
#include <sys/stat.h>

enum {
    FILE_READ_FOLLOW = 1u << 0,   /* follow a symbolic link in the last component */
    FILE_READ_DIR_OK = 1u << 1,   /* a directory is accepted (file_read_open only) */
};

/* Open path read-only, close-on-exec and without blocking, and fstat it. Returns
 * the descriptor (st filled) when it is a regular file, or a directory allowed
 * by flags; otherwise -1 with *err a new message such as "is a FIFO, not a
 * regular file (expected a PEM file)". expected completes that sentence. */
int file_read_open(const char *path, unsigned flags, const char *expected, struct stat *st,
                   char **err);

/* Read the rest of a regular file opened by file_read_open, at most max bytes,
 * into a new NUL-terminated buffer (the NUL not counted in *len). 0, or -1 with
 * *err set. Does not close fd. */
int file_read_fd(int fd, const struct stat *st, size_t max, char **buf, size_t *len,
                 char **err);

/* Read a whole regular file of at most max bytes into a new NUL-terminated
 * buffer (the NUL is not counted in *len). 0, or -1 with *err set. */
int file_read(const char *path, unsigned flags, size_t max, const char *expected, char **buf,
              size_t *len, char **err);

#endif
