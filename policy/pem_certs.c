/*
 * pem_certs.c -- reads the X509 certificates of a PEM file, or of every PEM
 * file in a directory, into a list, for the trust store to link. Files are
 * opened through file_read, so a FIFO or device named anywhere is refused at
 * once instead of blocking a reload.
 * Never: judges what it read (CA or not, duplicates: trust_store.c does),
 * follows a symbolic link named by the caller, or logs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "analyzer.h"
#include "file_read.h"
#include "pem_certs.h"
#include "strfmt.h"

#define PEM_MAX_FILE   ((size_t)64 * 1024 * 1024)   /* refuse larger PEM files */
#define PEM_EXPECTED   "a PEM file"

static void
pem_errno(char **err, const char *what, const char *path, int e)
{
    char buf[256];

    strfmt_set(err, "%s: %s: %s", path, what, strerror_r(e, buf, sizeof buf));
}

static int
pem_push(struct pem_certs *ld, X509 *x)
{
    if (ld->n == ld->cap) {
        size_t cap = ld->cap ? ld->cap * 2 : 64;
        /* An array of pointers: sizeof *grown is a pointer's size, as meant. */
        X509 **grown = realloc(ld->x, cap * sizeof *grown); /* NOLINT(bugprone-sizeof-expression) */

        if (grown == NULL)
            return -1;
        ld->x = grown;
        ld->cap = cap;
    }
    ld->x[ld->n++] = x;
    return 0;
}


static const char *const pem_labels[] = {
    "CERTIFICATE-----", "X509 CERTIFICATE-----", "TRUSTED CERTIFICATE-----",
};
#define PEM_TRUSTED_LABEL 2

/*
 * Decode one PEM body (base64 between the BEGIN and END lines). Decoding here
 * rather than with PEM_read_bio halves the time for a system bundle: no BIO
 * line reads, no header parsing. Headers (RFC 1421 "Proc-Type:") only occur
 * on encrypted keys, never on certificates, and are refused.
 */
static X509 *
pem_decode_block(const char *body, size_t len, bool trusted)
{
    EVP_ENCODE_CTX *ctx = NULL;
    unsigned char *der = NULL;
    const unsigned char *q;
    X509 *x = NULL;
    int outl = 0, fin = 0;

    if (len == 0 || len > INT_MAX || memchr(body, ':', len) != NULL)
        goto out;
    if ((der = malloc(len)) == NULL || (ctx = EVP_ENCODE_CTX_new()) == NULL)
        goto out;
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, der, &outl, (const unsigned char *)body, (int)len) < 0 ||
        EVP_DecodeFinal(ctx, der + outl, &fin) != 1 || outl + fin <= 0)
        goto out;
    q = der;
    x = trusted ? d2i_X509_AUX(NULL, &q, outl + fin) : d2i_X509(NULL, &q, outl + fin);
    if (x != NULL && q != der + outl + fin) {     /* trailing bytes: not one cert */
        X509_free(x);
        x = NULL;
    }
out:
    EVP_ENCODE_CTX_free(ctx);
    free(der);
    ERR_clear_error();
    return x;
}

/*
 * Parse every certificate block of a PEM buffer. Blocks of other types (keys,
 * CRLs) are skipped; a certificate block that does not decode is an error, so
 * a damaged bundle is not silently half-loaded. *found counts certificates.
 */
int
pem_certs_parse(const char *path, const char *buf, size_t len, struct pem_certs *ld,
                size_t *found, char **err)
{
    static const char begin[] = "-----BEGIN ";
    static const char end[] = "-----END ";
    const char *p = buf, *lim = buf + len;
    size_t k = 0;
    int rc = -1;

    *found = 0;
    while ((size_t)(lim - p) >= sizeof begin - 1) {
        const char *b = memmem(p, (size_t)(lim - p), begin, sizeof begin - 1);
        const char *label, *body, *e = NULL;
        size_t i, li = 0, l = 0;
        X509 *x = NULL;

        if (b == NULL)
            break;
        label = b + sizeof begin - 1;
        for (i = 0; i < sizeof pem_labels / sizeof pem_labels[0]; i++) {
            size_t ll = strlen(pem_labels[i]);

            if ((size_t)(lim - label) >= ll && memcmp(label, pem_labels[i], ll) == 0) {
                li = i;
                l = ll;
            }
        }
        if (l == 0) {
            p = label;
            continue;
        }
        k++;
        body = label + l;
        e = memmem(body, (size_t)(lim - body), end, sizeof end - 1);
        /* the END line must name the same label as the BEGIN line, and no other
         * marker may sit in between (a lost END line would swallow a block) */
        if (e != NULL && (size_t)(lim - e) >= sizeof end - 1 + l &&
            memcmp(e + sizeof end - 1, pem_labels[li], l) == 0 &&
            memmem(body, (size_t)(e - body), "-----", 5) == NULL)
            x = pem_decode_block(body, (size_t)(e - body), li == PEM_TRUSTED_LABEL);
        if (x == NULL) {
            strfmt_set(err, "%s: certificate %zu: could not be parsed "
                    "(expected PEM -----BEGIN CERTIFICATE-----)", path, k);
            goto out;
        }
        if (pem_push(ld, x) < 0) {
            X509_free(x);
            strfmt_set(err, "%s: out of memory", path);
            goto out;
        }
        p = e + sizeof end - 1 + l;
    }
    rc = 0;
out:
    *found = k;
    return rc;
}

/* One PEM file already opened: read it whole and parse it. */
static int
pem_load_fd(const char *path, int fd, const struct stat *st, struct pem_certs *ld,
            size_t *found, char **err)
{
    char *buf = NULL, *why = NULL;
    size_t len;
    int rc = -1;

    *found = 0;
    if (file_read_fd(fd, st, PEM_MAX_FILE, &buf, &len, &why) < 0) {
        strfmt_set(err, "%s: %s", path, why ? why : "out of memory");
        goto out;
    }
    rc = pem_certs_parse(path, buf, len, ld, found, err);
out:
    free(why);
    free(buf);
    return rc;
}

static int
pem_load_file(const char *path, unsigned flags, struct pem_certs *ld, size_t *found, char **err)
{
    struct stat st;
    char *why = NULL;
    int fd, rc;

    *found = 0;
    if ((fd = file_read_open(path, flags, PEM_EXPECTED, &st, &why)) < 0) {
        strfmt_set(err, "%s: %s", path, why ? why : "out of memory");
        free(why);
        return -1;
    }
    rc = pem_load_fd(path, fd, &st, ld, found, err);
    close(fd);
    return rc;
}

struct pem_inode {
    dev_t dev;
    ino_t ino;
};

static int
pem_strcmp_p(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every regular file of a directory, symbolic links followed (OpenSSL hash
 * links and Debian's *.pem links): each file is read once per inode, and the
 * same certificate in several files is removed later by hash. Files holding
 * no certificate are skipped; dot files (editor and package-manager leftovers)
 * are not read. Name order keeps errors reproducible.
 */
ANALYZER_ARRAYS_BEGIN
static int
pem_load_dir(const char *dir, DIR *d, struct pem_certs *ld, size_t *found, char **err)
{
    struct dirent *de;
    char **names = NULL, *path = NULL;
    struct pem_inode *seen = NULL;
    size_t n = 0, cap = 0, i, nseen = 0;
    int rc = -1;

    *found = 0;
    for (;;) {
        errno = 0;
        /* readdir is safe on a stream no other thread uses; glibc deprecates the
         * readdir_r that cppcheck suggests. */
        /* cppcheck-suppress readdirCalled */
        if ((de = readdir(d)) == NULL) {
            if (errno != 0) {
                pem_errno(err, "cannot read the directory", dir, errno);
                goto out;
            }
            break;
        }
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 64;
            char **grown = realloc(names, c * sizeof *grown);

            if (grown == NULL)
                goto nomem;
            names = grown;
            cap = c;
        }
        if ((names[n] = strdup(de->d_name)) == NULL)
            goto nomem;
        n++;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, pem_strcmp_p);
    for (i = 0; i < n; i++) {
        struct stat st;
        size_t plen = strlen(dir) + strlen(names[i]) + 2, f, j;
        int w;

        free(path);
        if ((path = malloc(plen)) == NULL)
            goto nomem;
        w = snprintf(path, plen, "%s/%s", dir, names[i]);
        if (w < 0 || (size_t)w >= plen)
            goto nomem;
        if (stat(path, &st) < 0) {
            if (errno == ENOENT)      /* dangling link: not a certificate */
                continue;
            pem_errno(err, "cannot stat", path, errno);
            goto out;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        /* Hash links and *.pem links name the same file: read it once. */
        for (j = 0; j < nseen; j++)
            if (seen[j].dev == st.st_dev && seen[j].ino == st.st_ino)
                break;
        if (j < nseen)
            continue;
        if (nseen == 0 && (seen = calloc(n, sizeof *seen)) == NULL)
            goto nomem;
        seen[nseen].dev = st.st_dev;
        seen[nseen++].ino = st.st_ino;
        if (pem_load_file(path, FILE_READ_FOLLOW, ld, &f, err) < 0)
            goto out;
        *found += f;
    }
    rc = 0;
    goto out;
nomem:
    strfmt_set(err, "%s: out of memory", dir);
out:
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(path);
    free(seen);
    return rc;
}
ANALYZER_ARRAYS_END

int
pem_certs_load(struct pem_certs *ld, const char *path, bool dir_ok, size_t *found, bool *is_dir,
               char **err)
{
    struct stat st;
    char *why = NULL;
    DIR *d;
    int fd, rc;

    *found = 0;
    *is_dir = false;
    /* The path itself comes from the connectors file: no link is followed. */
    fd = file_read_open(path, dir_ok ? FILE_READ_DIR_OK : 0,
                        dir_ok ? "a PEM file or a directory of PEM files" : PEM_EXPECTED, &st,
                        &why);
    if (fd < 0) {
        strfmt_set(err, "%s: %s", path, why ? why : "out of memory");
        free(why);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        rc = pem_load_fd(path, fd, &st, ld, found, err);
        close(fd);
        return rc;
    }
    *is_dir = true;
    if ((d = fdopendir(fd)) == NULL) {
        pem_errno(err, "cannot read the directory", path, errno);
        close(fd);
        return -1;
    }
    rc = pem_load_dir(path, d, ld, found, err);
    closedir(d);
    return rc;
}

void
pem_certs_free(struct pem_certs *ld)
{
    for (size_t i = 0; i < ld->n; i++)
        X509_free(ld->x[i]);
    free(ld->x);
    ld->x = NULL;
    ld->n = ld->cap = 0;
}
