/*
 * policy.h -- public interface of libpolicy, the pure TLS-connector policy library.
 *
 * Owns: the immutable policy snapshot (load, reference counting), the normalised
 * session record built from MTA macros, and evaluation of one recipient.
 * Never: includes libmilter, logs, exits, or keeps global mutable state; every
 * failure is returned to the caller with the input named.
 */
#ifndef POLICY_H
#define POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- diagnostics */

enum policy_severity { POLICY_SEV_ERROR, POLICY_SEV_WARNING };

/* One message about an input: "file:line:column: message". line/column are 1-based;
 * 0 means "not tied to a position" (e.g. an unreadable file). */
struct policy_diag {
    enum policy_severity severity;
    char   *file;
    unsigned line;
    unsigned column;
    char   *message;
};

struct policy_diags {
    size_t n;
    struct policy_diag *v;
    size_t nerrors;              /* count of POLICY_SEV_ERROR entries */
};

void   policy_diags_init(struct policy_diags *);
void   policy_diags_free(struct policy_diags *);
/* Append a diagnostic (printf-style message). Returns -1 only when out of memory. */
int    policy_diags_add(struct policy_diags *, enum policy_severity, const char *file,
                        unsigned line, unsigned column, const char *fmt, ...)
                        __attribute__((format(printf, 6, 7)));
/* "file:line:column: error: message" into a new string (caller frees). */
char  *policy_diag_format(const struct policy_diag *);

/* ---------------------------------------------------------------- enums */

enum policy_mode    { POLICY_MODE_ENFORCE = 0, POLICY_MODE_MONITOR };
enum policy_verdict { POLICY_VERDICT_NONE = 0, POLICY_VERDICT_PASS, POLICY_VERDICT_FAIL };
/* Ordered by severity: a larger value refuses more. */
enum policy_action  {
    POLICY_ACTION_ACCEPT = 0,
    POLICY_ACTION_TAG,
    POLICY_ACTION_QUARANTINE,
    POLICY_ACTION_TEMPFAIL,
    POLICY_ACTION_REJECT,
};
enum policy_on_error { POLICY_ON_ERROR_TEMPFAIL = 0, POLICY_ON_ERROR_ACCEPT };
/* settings.on_log_error: what a message gets when its JSON record cannot be written */
enum policy_on_log_error { POLICY_ON_LOG_ERROR_TEMPFAIL = 0, POLICY_ON_LOG_ERROR_CONTINUE };
enum policy_mta     { POLICY_MTA_AUTO = 0, POLICY_MTA_POSTFIX, POLICY_MTA_SENDMAIL };
/* Three-valued facts: the MTA told us yes, told us no, or cannot tell. */
enum policy_tri     { POLICY_TRI_UNKNOWN = -1, POLICY_TRI_NO = 0, POLICY_TRI_YES = 1 };

const char *policy_mode_name(enum policy_mode);
const char *policy_verdict_name(enum policy_verdict);
const char *policy_action_name(enum policy_action);
const char *policy_mta_name(enum policy_mta);
const char *policy_tri_name(enum policy_tri);         /* "yes" | "no" | "unknown" */
/* Parse names as written in the connectors file; return -1 when unknown. */
int policy_action_parse(const char *);
int policy_mode_parse(const char *);
int policy_mta_parse(const char *);                   /* postfix | sendmail | auto */

/* ---------------------------------------------------------------- the snapshot */

struct policy;                    /* opaque, immutable after load, reference counted */

struct policy_settings {
    enum policy_mode     mode;
    enum policy_on_error on_error;
    const char *trust_store;      /* as resolved (absolute or relative to the file) */
    const char *header;           /* "" disables the posture header */
    const char *authserv_id;      /* "" disables Authentication-Results */
    const char *log_json;         /* "" disables the JSON posture log */
    const char *hostname;         /* JSON "host"; NULL: the daemon uses the system's name */
    bool log_json_chain;          /* each JSON line carries the hash of the line before */
    enum policy_on_log_error on_log_error;
};

/* Load and validate a connectors file. On success returns a snapshot with one
 * reference. On failure returns NULL and leaves at least one error in diags;
 * warnings may be added in both cases. Relative paths inside the file are
 * resolved against the file's directory. */
struct policy *policy_load(const char *path, struct policy_diags *diags);
/* Same, from memory; name is used in diagnostics and base_dir resolves relative
 * paths (NULL: current directory). */
struct policy *policy_load_buffer(const char *name, const char *buf, size_t len,
                                  const char *base_dir, struct policy_diags *diags);

struct policy *policy_ref(struct policy *);           /* atomic; returns its argument */
void           policy_unref(struct policy *);         /* atomic; frees at zero; NULL ok */

const struct policy_settings *policy_settings(const struct policy *);

/* The CA certificates the policy loaded (trust_store.h reads them), and the issuer
 * and root names of the file with what each resolved to, for "tlspolicy trust". */
struct trust_store;
struct trust_match;
struct policy_ca_name {
    const char *connector;        /* connector name, or "defaults" */
    const char *key;              /* "issuers" or "root_issuers" */
    const char *text;             /* as written */
    unsigned line, column;
    const struct trust_match *match;   /* NULL when not resolved */
};
const struct trust_store *policy_trust_store(const struct policy *);
/* The i-th name: defaults, then connector by connector, issuers before
 * root_issuers; false past the last one. */
bool policy_ca_name(const struct policy *, size_t i, struct policy_ca_name *out);
size_t      policy_connector_count(const struct policy *);   /* enabled and disabled */
const char *policy_path(const struct policy *);
/* "sha256:" and the first 16 hex digits of the SHA-256 of the bytes the loader
 * parsed: the JSON record's "policy", naming the file that decided. */
const char *policy_hash(const struct policy *);

/* A certificate pinned by require.certificates, as `tlspolicy check` shows it.
 * Strings belong to the policy and come from the certificate (any byte but NUL):
 * escape them before showing them. */
struct policy_pinned_cert {
    const char *connector;        /* connector name, or "default" for defaults */
    const char *file;             /* the PEM file, as resolved */
    unsigned    line, column;     /* where the connectors file names it */
    const char *cert_sha256;      /* 64 lower-case hex digits */
    const char *pubkey_sha256;
    const char *subject;          /* RFC 2253 */
    const char *organization;     /* first O, or NULL */
    const char *unit;             /* first OU, or NULL */
    const char *key_type;         /* "RSA", "EC P-256", "ED25519", ... */
    int         key_bits;
    int         rsa_equiv;        /* RSA bits of equal strength, what min_key_bits compares */
    const char *sans;             /* "DNS:a, IP:192.0.2.1", or NULL */
    int64_t     not_after;        /* seconds since the epoch */
};

/* The pinned certificates: defaults first, then connectors in file order. */
size_t policy_pinned_count(const struct policy *);
/* The i-th (i < policy_pinned_count); false when there is none. */
bool   policy_pinned_get(const struct policy *, size_t i, struct policy_pinned_cert *out);
/* A warning in diags (at the line naming the file) for each pinned certificate
 * that has expired or expires within settings.pin_expiry_warn_days of now.
 * policy_load adds them; the daemon calls this once a day. Returns how many
 * were added, or -1 when out of memory. */
int    policy_pins_expiry_check(const struct policy *, int64_t now, struct policy_diags *);

/* ---------------------------------------------------------------- session facts */

/* Postfix gives a milter nothing about a certificate that did not verify; its
 * policy delegation request does (the fingerprints). OFF: the daemon does not
 * listen for it; MISSING: it does, but nothing arrived for this connection (a
 * restriction decided before check_policy_service); MATCHED: it arrived. */
enum policy_deleg { POLICY_DELEG_OFF = 0, POLICY_DELEG_MISSING, POLICY_DELEG_MATCHED };

/* Raw macro values exactly as the MTA sent them. NULL = macro absent, "" = present
 * but empty: the two mean different things (see doc/mta-facts.md). */
struct policy_macros {
    enum policy_mta mta;          /* AUTO: detect from the values */
    const char *mta_version;      /* "v" */
    const char *client_addr;      /* {client_addr} or the connect sockaddr as text */
    const char *client_name;      /* {client_name} or the connect host name */
    const char *helo;
    const char *sender;           /* {mail_addr} or the MAIL FROM argument; "<>" or "" = null */
    const char *tls_version;
    const char *cipher;
    const char *cipher_bits;
    const char *cert_subject;
    const char *cert_issuer;
    const char *verify;
    /* The certificate's fingerprint as the MTA gives it: Sendmail's {cert_fp}
     * (CertFingerprintAlgorithm) or {cert_md5}, or Postfix's ccert_fingerprint from
     * policy delegation. Hex bytes with colons, any case; the digest is told by
     * length. Unlike {cert_subject} on Postfix, it is sent for certificates that
     * did not verify. NULL = not given, "" = given: no certificate. */
    const char *cert_fp;
    const char *pubkey_fp;        /* ccert_pubkey_fingerprint (SPKI); Postfix only */
    /* Postfix only: whether the daemon listens for policy delegation (-d) and a
     * request of this connection arrived (then cert_fp/pubkey_fp come from it). */
    enum policy_deleg deleg;
};

/* The normalised session record. Strings are owned by the record, NUL-terminated,
 * and may contain any byte from the network except NUL: sanitise before logging. */
struct policy_facts {
    enum policy_mta mta;          /* resolved dialect, never AUTO */

    bool  client_addr_valid;
    unsigned char client_ip[16];  /* IPv4 stored as v4-mapped IPv6 */
    char *client_addr;            /* canonical text, or NULL */
    char *client_name;            /* A-labels, lower case, no trailing dot; NULL if unknown */
    char *helo;

    bool  sender_null;            /* MAIL FROM:<> */
    char *sender;                 /* address without <>; NULL when absent */
    char *sender_domain;          /* A-labels, lower case, no trailing dot; NULL when none */

    bool  tls;                    /* a TLS version macro was present */
    char *tls_version;            /* as sent, or NULL */
    int   version;                /* enum tls_version (tls_facts.h); -1 unknown */
    char *cipher;                 /* as sent, or NULL */
    int   cipher_bits;            /* -1 when absent or not a number */
    enum policy_tri fs;           /* from OpenSSL's cipher table */

    enum policy_tri cert_presented;
    enum policy_tri cert_verified;
    char *subject_cn;             /* decoded; NULL when absent */
    char *subject_dn;             /* canonical one-line DN; NULL when the MTA gives no DN */
    char *subject_o;              /* first O of the subject DN; NULL when unknown */
    char *issuer_cn;
    char *issuer_dn;              /* canonical; NULL when the MTA gives no DN */
    char *verify;                 /* raw {verify}, or NULL */
    /* SHA-256 of the DER certificate and of its SubjectPublicKeyInfo: 64 lower-case
     * hex digits without colons. NULL when the MTA gave none, or gave another
     * digest (a note says which). */
    char *cert_sha256;
    char *pubkey_sha256;
    enum policy_deleg deleg;      /* as in policy_macros; OFF for Sendmail */

    /* The domains of every mailbox in the message's From: field(s) (RFC 5322), in
     * the form of sender_domain (A-labels, lower case), each once, sorted. Empty
     * until policy_facts_add_header_from; restricted sender domains hold for them
     * too. from_unparsed: a field did not parse, and from_domains holds what a
     * lenient reading of it found after each '@' (a note says why). */
    size_t nfrom;
    char **from_domains;
    bool  from_unparsed;

    /* Problems met while normalising (bad xtext, unparsable DN, unknown cipher...):
     * not fatal, they become reasons when a requirement needs the value. */
    size_t nnotes;
    char  *notes[8];
};

/* Build the record. Returns 0, or -1 when out of memory (then *facts is cleared). */
int  policy_facts_build(struct policy_facts *facts, const struct policy_macros *m);
void policy_facts_free(struct policy_facts *facts);
/* Add the domains of one From: field body (raw, folded or not) to the record; call
 * once per From: field. Returns 0, or -1 when out of memory. */
int  policy_facts_add_header_from(struct policy_facts *facts, const char *value);
/* Which dialect these macros look like (never returns AUTO). */
enum policy_mta policy_mta_detect(const struct policy_macros *m);

/* ---------------------------------------------------------------- evaluation */

#define POLICY_MAX_REASONS 16

struct policy_result {
    const char *connector;        /* connector name or "default"; owned by the policy */
    bool        is_default;
    enum policy_verdict verdict;
    enum policy_action  action;   /* what enforce mode does: accept on pass/none, on_fail on fail */
    enum policy_mode    mode;     /* effective mode (connector override or settings) */
    const char *reply;            /* connector reply text, or NULL; owned by the policy */
    const char *root;             /* root CA name(s) of the issuer, comma separated, or NULL */
    size_t      nreasons;
    char       *reasons[POLICY_MAX_REASONS];   /* one per failed requirement; allocated */
};

/* Evaluate one recipient (NULL when there is none yet). Takes no lock and allocates
 * only the reason strings. Returns 0, or -1 when out of memory (on_error applies). */
int  policy_eval(const struct policy *p, const struct policy_facts *f,
                 const char *recipient, struct policy_result *r);
void policy_result_free(struct policy_result *r);

/* True when the action, in the effective mode, refuses the recipient. */
bool policy_result_refuses(const struct policy_result *r);

#endif
