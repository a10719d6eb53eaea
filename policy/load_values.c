/*
 * load_values.c -- the pure checks of single values of the connectors file:
 * connector names, header field names, authserv-ids, certificate names, SMTP
 * reply texts, enumerations, and where a relative path points.
 * Never: reads the file, touches the YAML reader or does I/O of any kind; each
 * check returns NULL when fine, or what was expected, for the caller's message.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "load_values.h"
#include "policy_int.h"

#define NAME_MAX_LEN     64
#define REPLY_MAX_LEN    400
#define HEADER_MAX_LEN   64

/*
 * The daemon deletes every inbound copy of its posture field, so the field must be
 * one nobody else writes. Refused: the fields of RFC 5322 (message), 6376 (DKIM)
 * and 8601 (Authentication-Results), their neighbours that mail systems add
 * (ARC, SPF, MIME), and the X- fields MTAs and filters add. Accepted: other X-
 * names, and the unprefixed names of this field (RFC 6648 retired the X- habit).
 */
static const char *const header_standard[] = {
    "Date", "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Message-ID", "In-Reply-To",
    "References", "Subject", "Comments", "Keywords", "Resent-Date", "Resent-From",
    "Resent-Sender", "Resent-To", "Resent-Cc", "Resent-Bcc", "Resent-Message-ID",
    "Return-Path", "Received", "DKIM-Signature", "Authentication-Results", "Received-SPF",
    "ARC-Seal", "ARC-Message-Signature", "ARC-Authentication-Results", "MIME-Version",
    "Delivered-To", "List-Id", "List-Unsubscribe",
};
static const char *const header_added_x[] = {
    "X-Original-To", "X-Envelope-From", "X-Envelope-To", "X-Authentication-Warning",
    "X-Mailer", "X-Received", "X-Originating-IP", "X-Sender", "X-Priority",
    "X-Virus-Scanned", "X-Forwarded-To", "X-Forwarded-For",
};
static const char *const header_added_x_prefix[] = {
    "X-Spam-", "X-Virus-", "X-Google-", "X-MS-", "X-Microsoft-", "X-Original-", "X-Amavis-",
    "X-Rspamd-", "X-DKIM-", "X-ARC-",
};
static const char *const header_allowed[] = { "TLS-Policy", "TLS-Posture" };

#define HEADER_ALL_NAMES(v) (sizeof(v) / sizeof((v)[0]))

static bool
header_in(const char *s, const char *const *v, size_t n, bool prefix)
{
    for (size_t i = 0; i < n; i++)
        if (prefix ? strncasecmp(s, v[i], strlen(v[i])) == 0 : strcasecmp(s, v[i]) == 0)
            return true;
    return false;
}

const char *
load_check_header(const char *s)
{
    size_t n = strlen(s);
    if (n > HEADER_MAX_LEN)
        return "a header field name of at most 64 characters";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 33 || c > 126 || c == ':')
            return "a header field name: printable ASCII without spaces or ':', or \"\" to disable";
    }
    if (n == 0 || header_in(s, header_allowed, HEADER_ALL_NAMES(header_allowed), false))
        return NULL;
    if (header_in(s, header_standard, HEADER_ALL_NAMES(header_standard), false))
        return "a field of its own, not a standard one (RFC 5322, 6376, 8601): the daemon "
               "deletes every inbound copy of its field; use an X- name such as X-TLS-Policy";
    if (header_in(s, header_added_x, HEADER_ALL_NAMES(header_added_x), false) ||
        header_in(s, header_added_x_prefix, HEADER_ALL_NAMES(header_added_x_prefix), true))
        return "a field of its own, not one that mail systems add: the daemon deletes every "
               "inbound copy of its field; use another X- name such as X-TLS-Policy";
    if (strncasecmp(s, "X-", 2) != 0 || n == 2)
        return "an X- name, TLS-Policy or TLS-Posture: the daemon deletes every inbound copy "
               "of its field, so it must be one that nothing else writes";
    return NULL;
}

/* The characters of a connector name and an authserv-id: both end up in
 * header fields and log lines unquoted. */
static bool
load_is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
}

const char *
load_check_authserv_id(const char *s)
{
    for (size_t i = 0; s[i] != '\0'; i++)
        if (!load_is_name_char((unsigned char)s[i]))
            return "letters, digits, '.', '-' and '_' only, or \"\" to disable";
    return NULL;
}

const char *
load_check_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > NAME_MAX_LEN)
        return "1 to 64 characters";
    for (size_t i = 0; i < n; i++)
        if (!load_is_name_char((unsigned char)s[i]))
            return "only letters, digits, '.', '-' and '_'";
    return NULL;
}

/* A certificate CN or O as written by the administrator. */
const char *
load_check_text(const char *s)
{
    if (s[0] == '\0')
        return "a non-empty name";
    for (size_t i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return "a name without control characters";
    }
    return NULL;
}

int
load_parse_cert_req(const char *s)
{
    if (strcmp(s, "any") == 0)
        return POLICY_CERT_ANY;
    if (strcmp(s, "presented") == 0)
        return POLICY_CERT_PRESENTED;
    if (strcmp(s, "verified") == 0)
        return POLICY_CERT_VERIFIED;
    return -1;
}

int
load_parse_on_error(const char *s)
{
    if (strcmp(s, "tempfail") == 0)
        return POLICY_ON_ERROR_TEMPFAIL;
    if (strcmp(s, "accept") == 0)
        return POLICY_ON_ERROR_ACCEPT;
    return -1;
}

int
load_parse_on_log_error(const char *s)
{
    if (strcmp(s, "tempfail") == 0)
        return POLICY_ON_LOG_ERROR_TEMPFAIL;
    if (strcmp(s, "continue") == 0)
        return POLICY_ON_LOG_ERROR_CONTINUE;
    return -1;
}

/* The record's "host" is what a report groups by: a name without spaces or
 * control bytes keeps reports and csv columns unambiguous. */
const char *
load_check_hostname(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 253)
        return "1 to 253 characters";
    for (i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')
              || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '-' || s[i] == '_'))
            return "letters, digits, '.', '-' and '_' only";
    return NULL;
}

/* Relative paths in the file are relative to the file, not to wherever the
 * daemon happened to start. */
char *
load_resolve_path(const char *base_dir, const char *path)
{
    size_t nb, np;
    char *out;

    if (path[0] == '/' || base_dir == NULL || base_dir[0] == '\0')
        return strdup(path);
    nb = strlen(base_dir);
    np = strlen(path);
    while (nb > 1 && base_dir[nb - 1] == '/')
        nb--;
    if ((out = malloc(nb + 1 + np + 1)) == NULL)
        return NULL;
    memcpy(out, base_dir, nb);
    out[nb] = '/';
    memcpy(out + nb + 1, path, np + 1);
    return out;
}


/* "X.Y.Z " at the start of a reply: the enhanced status code's class digit. */
int
load_reply_class(const char *s)
{
    const char *p = s;
    int cls;

    if (*p < '2' || *p > '5' || p[1] != '.')
        return -1;
    cls = *p - '0';
    p += 2;
    for (int part = 0; part < 2; part++) {
        size_t n = 0;
        while (p[n] >= '0' && p[n] <= '9')
            n++;
        if (n < 1 || n > 3)
            return -1;
        p += n;
        if (part == 0 && *p++ != '.')
            return -1;
    }
    return (*p == ' ' || *p == '\0') ? cls : -1;
}

const char *
load_check_reply(const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return "a non-empty text";
    if (n > REPLY_MAX_LEN)
        return "at most 400 characters";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e)
            return "printable ASCII only: no CR, LF, tabs or other control characters";
    }
    return NULL;
}

const char *
load_check_path(const char *s)
{
    return s[0] == '\0' ? "a file or directory name" : NULL;
}
