/*
 * install.c -- "tlspolicy install NEW TARGET": the atomic replace of a
 * connectors file. Reads NEW once, checks exactly those bytes as they will
 * load at TARGET (relative paths resolved against TARGET's directory), writes
 * them to a temporary file beside TARGET, fsyncs it, renames it over TARGET
 * and fsyncs the directory, so a reload sees the old file or the new one,
 * never a half-written one.
 * Never: writes when the check found an error, writes through a symbolic
 * link or over anything but a regular file at TARGET, or leaves its
 * temporary file behind.
 * Exit: 0 installed; 1 refused (the check failed, or TARGET is unfit); 2 usage
 * error or a system call failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esc.h"
#include "file_read.h"
#include "policy.h"
#include "strbuf.h"
#include "tools_install.h"

enum { INSTALL_OK = 0, INSTALL_REFUSED = 1, INSTALL_FAIL = 2 };

/* The loader's own cap: a bigger file would not load anyway. */
#define INSTALL_MAX_BYTES ((size_t)256 * 1024 * 1024)

/* Paths and diagnostics come from the operator and the file: escaped. */
static void
install_say(const char *progname, const char *what, const char *path, const char *why)
{
    struct strbuf b;

    strbuf_init(&b);
    esc_putn(&b, path, strlen(path), ESC_DIAG);
    fprintf(stderr, "%s: install: %s%s%s%s\n", progname, b.oom ? "(out of memory)" : strbuf_str(&b),
            what, why ? ": " : "", why ? why : "");
    strbuf_free(&b);
}

static void
install_diags(const struct policy_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        char *text = policy_diag_format(&d->v[i]);
        struct strbuf b;

        if (text == NULL)
            continue;
        strbuf_init(&b);
        esc_putn(&b, text, strlen(text), ESC_DIAG);
        fprintf(stderr, "%s\n", b.oom ? "(out of memory)" : strbuf_str(&b));
        strbuf_free(&b);
        free(text);
    }
}

static bool
write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        buf += w;
        len -= (size_t)w;
    }
    return true;
}

/* TARGET must be absent or a regular file, never a link: rename(2) would put
 * the file in the link's place, and writing through it is what we refuse. */
static int
install_target_ok(const char *progname, const char *target, struct stat *st, bool *exists)
{
    *exists = false;
    if (lstat(target, st) < 0) {
        if (errno == ENOENT)
            return INSTALL_OK;
        install_say(progname, "", target, strerror(errno));
        return INSTALL_FAIL;
    }
    if (S_ISLNK(st->st_mode)) {
        install_say(progname, " is a symbolic link (expected a regular file: install to the "
                    "file it points to)", target, NULL);
        return INSTALL_REFUSED;
    }
    if (!S_ISREG(st->st_mode)) {
        install_say(progname, " is not a regular file", target, NULL);
        return INSTALL_REFUSED;
    }
    *exists = true;
    return INSTALL_OK;
}

/* Write buf to a new file in dir and rename it over target. */
static int
install_write(const char *progname, const char *dir, const char *target, const char *buf,
              size_t len, const struct stat *old, bool exists)
{
    char *tmp = NULL;
    int fd = -1, dfd = -1, rc = INSTALL_FAIL;
    const char *step = "cannot create a temporary file";

    if (asprintf(&tmp, "%s/.tlspolicy-install.XXXXXX", dir) < 0) {
        tmp = NULL;
        goto out;
    }
    if ((fd = mkstemp(tmp)) < 0)
        goto out;
    /* Keep the old file's mode and owner, so the daemon can still read it. */
    step = "cannot set the mode of the temporary file";
    if (fchmod(fd, exists ? (old->st_mode & 07777) : 0644) < 0)
        goto out;
    step = "cannot set the owner of the temporary file";
    if (exists && (old->st_uid != geteuid() || old->st_gid != getegid()) &&
        fchown(fd, old->st_uid, old->st_gid) < 0)
        goto out;
    step = "cannot write the temporary file";
    if (!write_all(fd, buf, len) || fsync(fd) < 0)
        goto out;
    step = "cannot close the temporary file";
    if (close(fd) < 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    step = "cannot rename the temporary file over it";
    if (rename(tmp, target) < 0)
        goto out;
    free(tmp);
    tmp = NULL;
    /* The rename itself must survive a crash too. */
    step = "was replaced, but its directory could not be synced";
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) < 0)
        goto out;
    rc = INSTALL_OK;
out:
    if (rc != INSTALL_OK) {
        char msg[256];

        (void)snprintf(msg, sizeof(msg), "%s (%s)", step, strerror(errno));
        install_say(progname, "", target, msg);
    }
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (tmp != NULL) {
        unlink(tmp);
        free(tmp);
    }
    return rc;
}

int
install_main(const char *progname, int argc, char **argv)
{
    struct policy_diags d;
    struct policy *p = NULL;
    struct stat st;
    char *buf = NULL, *why = NULL, *tcopy = NULL;
    const char *dir;
    size_t len;
    bool exists;
    int rc = INSTALL_FAIL;

    policy_diags_init(&d);
    if (argc != 2 || argv[0][0] == '-' || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s install NEW TARGET\n", progname);
        goto out;
    }
    if ((tcopy = strdup(argv[1])) == NULL)
        goto out;
    dir = dirname(tcopy);
    if ((rc = install_target_ok(progname, argv[1], &st, &exists)) != INSTALL_OK)
        goto out;
    rc = INSTALL_FAIL;
    if (file_read(argv[0], FILE_READ_FOLLOW, INSTALL_MAX_BYTES, "a YAML connectors file", &buf,
                  &len, &why) < 0) {
        install_say(progname, "", argv[0], why ? why : "out of memory");
        goto out;
    }
    /* The bytes written are the bytes checked, read as they will be at TARGET. */
    p = policy_load_buffer(argv[0], buf, len, dir, &d);
    install_diags(&d);
    if (p == NULL || d.nerrors > 0) {
        install_say(progname, " has errors: nothing installed", argv[0], NULL);
        rc = INSTALL_REFUSED;
        goto out;
    }
    rc = install_write(progname, dir, argv[1], buf, len, &st, exists);
    if (rc == INSTALL_OK)
        printf("installed %s: %zu connectors\n", argv[1], policy_connector_count(p));
out:
    policy_unref(p);
    policy_diags_free(&d);
    free(buf);
    free(why);
    free(tcopy);
    return rc;
}
