/*
 * policy_load.c -- loads a connectors file (schema version 1, see
 * milter-tlspolicy.yaml(5)): reads the file through file_read.c, has the
 * load_*.c readers check every value into the rule model of policy_int.h,
 * fills in defaults, freezes the match indexes and loads the trust store.
 * Never: includes yaml.h (load_yaml.c alone does), logs, or returns a
 * half-valid policy: any error means NULL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "analyzer.h"
#include "file_read.h"
#include "load_int.h"
#include "match_addr.h"
#include "match_domain.h"
#include "pin_index.h"
#include "tls_facts.h"
#include "trust_store.h"

#define LOAD_MAX_BYTES   ((size_t)256 * 1024 * 1024)
#define DEFAULT_TRUST    "/etc/ssl/certs/ca-certificates.crt"
#define DEFAULT_HEADER   "X-TLS-Policy"
#define PIN_EXPIRY_WARN_DAYS 30

/* The analyzer excuse of analyzer.h: *dst is a field of the policy, freed by
 * policy_free_internal in policy.c. */
ANALYZER_ARRAYS_BEGIN
static int
set_default_str(char **dst, const char *v)
{
    if (*dst == NULL && (*dst = strdup(v)) == NULL)
        return -1;
    return 0;
}
ANALYZER_ARRAYS_END

/* The trust store is loaded for every policy: the posture log names the root of
 * every message's issuer, not only of those a requirement looks at. */
static void
load_trust(struct rd *r)
{
    struct policy *p = r->p;
    char *err = NULL;
    struct load_mark m = r->have_trust ? r->trust_mark
                  : r->have_settings ? r->settings_mark : r->version_mark;

    p->trust = trust_store_load(p->trust_store_path, (const char *const *)p->intermediates,
                                p->nintermediates, &err);
    if (p->trust != NULL)
        return;
    /* Point at the intermediate the message names, if it names one. */
    for (size_t i = 0; err != NULL && i < p->nintermediates; i++)
        if (strstr(err, p->intermediates[i]) != NULL) {
            m = r->inter_mark[i];
            break;
        }
    /* Messages about what the path is already say what was expected. */
    err_at(r, m, "trust store: %s%s", err ? err : "cannot be loaded",
           err != NULL && strstr(err, "(expected ") != NULL ? ""
           : " (expected a PEM bundle or a directory of PEM certificates)");
    free(err);
}

static int
build_indexes(struct policy *p)
{
    if ((p->by_sender_domain = domain_table_new()) == NULL ||
        (p->by_client_name = domain_table_new()) == NULL ||
        (p->by_rcpt_domain = domain_table_new()) == NULL ||
        (p->by_cert_name = domain_table_new()) == NULL ||
        (p->by_restricted_sender = domain_table_new()) == NULL ||
        (p->by_client_addr = addr_table_new()) == NULL ||
        (p->by_fingerprint = pin_index_new()) == NULL)
        return -1;
    return 0;
}

static int
freeze_indexes(struct policy *p)
{
    if (domain_table_freeze(p->by_sender_domain) < 0 ||
        domain_table_freeze(p->by_client_name) < 0 ||
        domain_table_freeze(p->by_rcpt_domain) < 0 ||
        domain_table_freeze(p->by_cert_name) < 0 ||
        domain_table_freeze(p->by_restricted_sender) < 0 ||
        addr_table_freeze(p->by_client_addr) < 0 ||
        pin_index_freeze(p->by_fingerprint) < 0)
        return -1;
    return 0;
}

/* "sha256:" and the first 16 hex digits: 64 bits tell policies apart in a
 * report and keep the record short; the full digest is `sha256sum FILE`. */
static int
policy_hash_bytes(struct policy *p, const char *buf, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    size_t i;

    if (EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 8)
        return -1;
    memcpy(p->hash, "sha256:", 7);
    for (i = 0; i < 8; i++) {
        p->hash[7 + 2 * i] = hex[md[i] >> 4];
        p->hash[8 + 2 * i] = hex[md[i] & 15];
    }
    p->hash[7 + 16] = '\0';
    return 0;
}

struct policy *
policy_load_buffer(const char *name, const char *buf, size_t len, const char *base_dir,
                   struct policy_diags *diags)
{
    struct rd r;
    struct policy *p = NULL;
    size_t first_diag = diags->n;

    memset(&r, 0, sizeof(r));
    r.name = name ? name : "-";
    r.base_dir = base_dir;
    r.diags = diags;
    r.errors0 = diags->nerrors;

    if (len > LOAD_MAX_BYTES) {
        err_nopos(&r, "the connectors file is %zu bytes, more than the 256 MiB limit", len);
        goto out;
    }
    if ((p = calloc(1, sizeof(*p))) == NULL) {
        load_oom(&r);
        goto out;
    }
    atomic_init(&p->refs, 1);
    r.p = p;
    p->settings.mode = POLICY_MODE_ENFORCE;
    p->settings.on_error = POLICY_ON_ERROR_TEMPFAIL;
    p->default_on_fail = POLICY_ACTION_TAG;
    p->pin_expiry_warn_days = PIN_EXPIRY_WARN_DAYS;
    p->default_require.min_version = TLS_VERSION_UNKNOWN;
    if ((p->path = strdup(r.name)) == NULL || build_indexes(p) < 0) {
        load_oom(&r);
        goto out;
    }
    if ((r.yaml = load_yaml_open(buf, len)) == NULL) {
        load_oom(&r);
        goto out;
    }
    load_stream(&r);
    load_yaml_report(&r, buf, len, first_diag);
    /* The bytes parsed, not the file read again later: a record must name
     * the policy that decided it even if the file changed since. */
    if (policy_hash_bytes(p, buf, len) != 0) {
        load_oom(&r);
        goto out;
    }
    if (load_had_errors(&r))
        goto out;

    if (set_default_str(&p->trust_store_path, DEFAULT_TRUST) < 0 ||
        set_default_str(&p->header, DEFAULT_HEADER) < 0 ||
        set_default_str(&p->authserv_id, "") < 0 || set_default_str(&p->log_json, "") < 0) {
        load_oom(&r);
        goto out;
    }
    p->settings.trust_store = p->trust_store_path;
    p->settings.header = p->header;
    p->settings.authserv_id = p->authserv_id;
    p->settings.log_json = p->log_json;
    p->settings.hostname = p->hostname;

    if (freeze_indexes(p) < 0) {
        load_oom(&r);
        goto out;
    }
    load_trust(&r);
    load_resolve_names(&r);
    load_lint(&r);
    if (!load_had_errors(&r))
        load_outbound_finish(&r);
    if (policy_pins_expiry_check(p, (int64_t)time(NULL), diags) < 0)
        load_oom(&r);
out:
    load_yaml_close(r.yaml);
    free(r.scratch[0]);
    free(r.scratch[1]);
    free(r.inter_mark);
    free(r.names);
    load_match_free(&r);
    load_diags_sort(diags, first_diag);
    if (load_had_errors(&r)) {
        policy_free_internal(p);
        return NULL;
    }
    return p;
}

/* The directory part of path, or NULL for a bare file name (current directory). */
static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        return NULL;
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

struct policy *
policy_load(const char *path, struct policy_diags *diags)
{
    struct policy *p = NULL;
    char *buf = NULL, *dir = NULL, *why = NULL;
    size_t len;

    /* The path comes from the command line, not from a file: a link is followed
     * (reloads swap a link), but a FIFO or device fails at once. */
    if (file_read(path, FILE_READ_FOLLOW, LOAD_MAX_BYTES, "a YAML connectors file", &buf,
                  &len, &why) < 0) {
        policy_diags_add(diags, POLICY_SEV_ERROR, path, 0, 0, "the connectors file %s",
                         why ? why : "cannot be read: out of memory");
        goto out;
    }
    errno = 0;
    dir = dir_of(path);
    if (dir == NULL && errno == ENOMEM) {
        policy_diags_add(diags, POLICY_SEV_ERROR, path, 0, 0, "out of memory");
        goto out;
    }
    p = policy_load_buffer(path, buf, len, dir, diags);
out:
    free(why);
    free(buf);
    free(dir);
    return p;
}
