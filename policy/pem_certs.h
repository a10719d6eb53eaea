/*
 * pem_certs.h -- the certificates of a PEM file or a directory of PEM files,
 * gathered as read (not yet deduplicated or judged) for trust_store.c.
 * Never: blocks on a FIFO, follows a symbolic link named by the caller (links
 * inside a directory, the c_rehash layout, are followed), or logs.
 * Diagnostics: one message naming the file and, for a damaged certificate, its
 * number in the file.
 */
#ifndef PEM_CERTS_H
#define PEM_CERTS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

struct pem_certs {
    X509 **x;
    size_t n, cap;
};

/* Append every certificate of path: a PEM file, or when dir_ok a directory whose
 * regular files (dot files excepted) are read in name order. *found counts the
 * certificates appended, *is_dir says which it was. 0, or -1 with *err replaced
 * by a new message starting with the path at fault. */
int  pem_certs_load(struct pem_certs *ld, const char *path, bool dir_ok, size_t *found,
                    bool *is_dir, char **err);
/* Append every certificate block of a PEM buffer already read (path names it in
 * *err). Other blocks (keys, CRLs) are skipped; a certificate block that does not
 * decode is an error. *found counts the certificate blocks. 0, or -1. */
int  pem_certs_parse(const char *path, const char *buf, size_t len, struct pem_certs *ld,
                     size_t *found, char **err);
/* Free every certificate still in the list, and the list. */
void pem_certs_free(struct pem_certs *ld);

#endif
