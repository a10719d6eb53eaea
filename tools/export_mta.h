/*
 * export_mta.h -- the entry points of "tlspolicy export" per MTA, and the
 * checks that read a generated table back before it is written.
 * Never: holds state; each exporter is one file (export_<mta>.c).
 */
#ifndef EXPORT_MTA_H
#define EXPORT_MTA_H

/* tlspolicy export MTA ...: dispatches to the exporters below (export.c). */
int export_main(const char *progname, int argc, char **argv);
int export_postfix_main(const char *progname, int argc, char **argv);
int export_sendmail_main(const char *progname, int argc, char **argv);

/* The Postfix policy of one connector ("secure match=... tafile=TAFILE"), as
 * export writes it; NULL after an error about a requirement (printed). */
struct export_ctx;
struct outbound_connector;
char *export_postfix_policy(struct export_ctx *x, const struct outbound_connector *c,
                            const char *tafile);
/* tlspolicy eval direction=outbound ... (eval_outbound.c). */
int eval_outbound_main(const char *progname, int argc, char **argv);

/* Read a generated smtp_tls_policy_maps source back: NULL when every line is
 * a key, a level and attributes Postfix 3.7 knows with values it accepts (and
 * every tafile= a readable PEM file), else a new message naming the line. */
char *export_postfix_check(const char *table);

#endif
