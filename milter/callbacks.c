/*
 * callbacks.c -- the xxfi_* functions libmilter calls: fetch the session from
 * the context and hand over to session.c. Owns only the smfiDesc table and the
 * NULL-private-data cases; the one place that hands a session its policy
 * snapshot (reload_current), so session.c never reaches for a global.
 * Never: decides policy, formats text, or assumes a previous callback ran
 * (xxfi_close may be the only call a connection gets).
 */
#include <stdbool.h>
#include <string.h>

#include "callbacks.h"
#include "posture_log.h"
#include "reload.h"
#include "session.h"

/* The session of this connection, created on first use (negotiate or connect). */
static struct session *
callbacks_session(SMFICTX *ctx, bool create)
{
    struct session *s = smfi_getpriv(ctx);

    if (s == NULL && create) {
        /* The connection's one snapshot: taken here, dropped in close, so a
         * reload in the middle of a session never mixes two policies. */
        struct policy *p = reload_current();

        s = session_new(p);
        policy_unref(p);
        if (s != NULL && smfi_setpriv(ctx, s) != MI_SUCCESS) {
            session_free(s);
            s = NULL;
        }
    }
    return s;
}

/* No session state: the current snapshot's on_error decides. */
static sfsistat
callbacks_no_state(SMFICTX *ctx, bool can_reply)
{
    struct policy *p = reload_current();
    sfsistat rc = session_no_state(ctx, p, can_reply);

    policy_unref(p);
    return rc;
}

sfsistat
callbacks_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                    unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                    unsigned long *pf2, unsigned long *pf3)
{
    struct session *s = callbacks_session(ctx, true);

    (void)f2;
    (void)f3;
    if (s == NULL)
        return SMFIS_REJECT;   /* the MTA applies its milter default action */
    return session_negotiate(ctx, s, f0, f1, pf0, pf1, pf2, pf3);
}

sfsistat
callbacks_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
    struct session *s = callbacks_session(ctx, true);

    if (s == NULL)
        return callbacks_no_state(ctx, false);
    return session_connect(ctx, s, host, sa);
}

sfsistat
callbacks_helo(SMFICTX *ctx, char *helo)
{
    struct session *s = callbacks_session(ctx, false);

    return s != NULL ? session_helo(ctx, s, helo) : callbacks_no_state(ctx, true);
}

sfsistat
callbacks_envfrom(SMFICTX *ctx, char **argv)
{
    struct session *s = callbacks_session(ctx, false);

    return s != NULL ? session_envfrom(ctx, s, argv) : callbacks_no_state(ctx, true);
}

sfsistat
callbacks_envrcpt(SMFICTX *ctx, char **argv)
{
    struct session *s = callbacks_session(ctx, false);

    return s != NULL ? session_envrcpt(ctx, s, argv) : callbacks_no_state(ctx, true);
}

sfsistat
callbacks_header(SMFICTX *ctx, char *name, char *value)
{
    struct session *s = callbacks_session(ctx, false);

    return s != NULL ? session_header(ctx, s, name, value) : callbacks_no_state(ctx, true);
}

sfsistat
callbacks_eom(SMFICTX *ctx)
{
    struct session *s = callbacks_session(ctx, false);

    return s != NULL ? session_eom(ctx, s) : callbacks_no_state(ctx, true);
}

sfsistat
callbacks_abort(SMFICTX *ctx)
{
    struct session *s = callbacks_session(ctx, false);

    if (s != NULL)
        session_end_msg(s);
    return SMFIS_CONTINUE;
}

sfsistat
callbacks_close(SMFICTX *ctx)
{
    struct session *s = callbacks_session(ctx, false);

    if (s != NULL) {
        (void)smfi_setpriv(ctx, NULL);
        session_free(s);
    }
    return SMFIS_CONTINUE;
}

struct smfiDesc
callbacks_desc(void)
{
    static char name[] = "milter-tlspolicy";
    struct smfiDesc d;

    memset(&d, 0, sizeof d);
    d.xxfi_name = name;
    d.xxfi_version = SMFI_VERSION;
    d.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
    d.xxfi_connect = callbacks_connect;
    d.xxfi_helo = callbacks_helo;
    d.xxfi_envfrom = callbacks_envfrom;
    d.xxfi_envrcpt = callbacks_envrcpt;
    d.xxfi_header = callbacks_header;
    d.xxfi_eom = callbacks_eom;
    d.xxfi_abort = callbacks_abort;
    d.xxfi_close = callbacks_close;
    d.xxfi_negotiate = callbacks_negotiate;
    return d;
}
