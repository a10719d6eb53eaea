/*
 * msg_edits.c -- the changes the daemon makes to a message at its end: every
 * forged copy of its own headers removed, the posture header and
 * Authentication-Results added, the message quarantined when an enforcing
 * connector says so. Each change is logged when the MTA refuses it.
 * Never: decides a verdict (session.c and policy/ do), formats a posture field
 * (policy/posture_render.c does), or changes a message the MTA did not allow
 * it to (the SMFIF_* actions negotiated).
 */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "msg_edits.h"
#include "posture_log.h"
#include "posture_render.h"
#include "strbuf.h"

/* Remove every copy of our headers that came with the message: a sender must not
 * be able to forge a pass. Highest index first, so the others keep theirs. */
void
msg_edits_remove_forged(SMFICTX *ctx, const struct session *s, const struct policy_settings *st,
                        const char *qid)
{
    char *name;
    size_t i;

    if (!(s->actions & SMFIF_CHGHDRS)) {
        if (s->nposture > 0 || s->nauthres_ours > 0)
            posture_log_msg(LOG_WARNING, "%s: the message carries forged posture headers "
                            "and the MTA does not allow removing them", qid);
        return;
    }
    if (s->nposture > 0 && st->header != NULL && st->header[0] != '\0' &&
        (name = strdup(st->header)) != NULL) {
        for (i = s->nposture; i >= 1; i--)
            if (smfi_chgheader(ctx, name, (int)i, NULL) != MI_SUCCESS)
                posture_log_msg(LOG_WARNING, "%s: could not remove %s #%zu", qid, name, i);
        posture_log_msg(LOG_INFO, "%s: removed %zu inbound %s header(s)", qid, s->nposture,
                        name);
        free(name);
    }
    for (i = s->nauthres_ours; i >= 1; i--)
        if (smfi_chgheader(ctx, MSG_EDITS_AUTHRES, (int)s->authres_ours[i - 1], NULL) !=
            MI_SUCCESS)
            posture_log_msg(LOG_WARNING, "%s: could not remove " MSG_EDITS_AUTHRES " #%zu",
                            qid, s->authres_ours[i - 1]);
}


void
msg_edits_free(struct msg_edits *e)
{
    free(e->name);
    free(e->posture);
    free(e->authres);
}

int
msg_edits_build(const struct session *s, const struct policy_settings *st,
                const struct policy_result *sum, struct msg_edits *e)
{
    struct strbuf b;

    memset(e, 0, sizeof *e);
    if (!(s->actions & SMFIF_ADDHDRS))
        return 0;
    if (st->header != NULL && st->header[0] != '\0') {
        strbuf_init(&b);
        posture_render_header(&b, strlen(st->header), s->leadspc, &s->facts, sum);
        e->posture = strbuf_take(&b);
        e->name = strdup(st->header);
        if (e->posture == NULL || e->name == NULL)
            goto fail;
    }
    if (st->authserv_id != NULL && st->authserv_id[0] != '\0') {
        strbuf_init(&b);
        posture_render_authres(&b, s->leadspc, st->authserv_id, &s->facts, sum);
        if ((e->authres = strbuf_take(&b)) == NULL)
            goto fail;
    }
    return 0;
fail:
    msg_edits_free(e);
    memset(e, 0, sizeof *e);
    return -1;
}

void
msg_edits_send(SMFICTX *ctx, const struct msg_edits *e, const char *qid)
{
    if (e->posture != NULL && smfi_addheader(ctx, e->name, e->posture) != MI_SUCCESS)
        posture_log_msg(LOG_WARNING, "%s: smfi_addheader(%s) failed", qid, e->name);
    /* Authentication-Results goes on top, like a trace field (RFC 8601 5). */
    if (e->authres != NULL && smfi_insheader(ctx, 0, MSG_EDITS_AUTHRES, e->authres) != MI_SUCCESS)
        posture_log_msg(LOG_WARNING, "%s: smfi_insheader(" MSG_EDITS_AUTHRES ") failed", qid);
}

/* Quarantine when an accepted recipient's connector says so in enforce mode:
 * quarantine holds the whole message, whatever the other recipients got. */
void
msg_edits_quarantine(SMFICTX *ctx, const struct session *s, const char *qid)
{
    static char quarantine_fallback[] = "TLS policy (reason lost: out of memory)";
    struct strbuf b;
    char *reason;
    size_t i;

    for (i = 0; i < s->nrcpts; i++) {
        const struct policy_result *r = &s->rcpts[i].res;

        if (s->rcpts[i].refused || r->action != POLICY_ACTION_QUARANTINE ||
            r->mode != POLICY_MODE_ENFORCE)
            continue;
        if (!(s->actions & SMFIF_QUARANTINE)) {
            posture_log_msg(LOG_WARNING, "%s: quarantine wanted but not offered by the MTA",
                            qid);
            return;
        }
        strbuf_init(&b);
        posture_render_reason_text(&b, r);
        /* without memory for the reason the message is still held */
        reason = b.oom ? quarantine_fallback : b.s;
        if (smfi_quarantine(ctx, reason) != MI_SUCCESS)
            posture_log_msg(LOG_WARNING, "%s: smfi_quarantine failed", qid);
        else
            posture_log_msg(LOG_INFO, "%s: quarantined: %s", qid, reason);
        strbuf_free(&b);
        return;
    }
}
