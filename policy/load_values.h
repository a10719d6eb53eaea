/*
 * load_values.h -- checks of single values of the connectors file (see
 * load_values.c). A check returns NULL when the value is fine, else a static
 * text saying what was expected; a parse returns the enum value or -1.
 * Never: does I/O or keeps state.
 */
#ifndef LOAD_VALUES_H
#define LOAD_VALUES_H

/* A header field name (or "" for none): printable ASCII, no ':', <= 64. */
const char *load_check_header(const char *s);
/* An authserv-id (or "" for none): letters, digits, '.', '-', '_'. */
const char *load_check_authserv_id(const char *s);
/* A connector name: 1 to 64 of letters, digits, '.', '-', '_'. */
const char *load_check_name(const char *s);
/* A certificate CN or O: non-empty, no control characters. */
const char *load_check_text(const char *s);
/* An SMTP reply text: 1 to 400 printable ASCII characters. */
const char *load_check_reply(const char *s);
/* A path setting: non-empty. */
const char *load_check_path(const char *s);
/* "any", "presented", "verified" -> enum policy_cert_req, or -1. */
int load_parse_cert_req(const char *s);
/* "tempfail", "accept" -> enum policy_on_error, or -1. */
int load_parse_on_error(const char *s);
/* settings.on_log_error: tempfail | continue, or -1. */
int load_parse_on_log_error(const char *s);
/* settings.hostname: NULL when s is 1 to 253 letters, digits, '.', '-' or '_',
 * else what was expected. */
const char *load_check_hostname(const char *s);
/* The class digit (2..5) of an enhanced status code "X.Y.Z " leading a reply,
 * or -1 when the reply does not start with one. */
int load_reply_class(const char *s);
/* path relative to base_dir (the connectors file's directory) unless absolute;
 * a new string, or NULL when out of memory. */
char *load_resolve_path(const char *base_dir, const char *path);

#endif
