/*
 * session.c -- per-connection and per-message state: the policy snapshot
 * reference, the facts of the message, its recipients and their results, the
 * header copies to remove; and what each stage does with them (decide at RCPT,
 * judge From: and answer at end of message, where milter/msg_edits.c makes the
 * header edits and the quarantine). Never: keeps state between
 * connections, trusts a macro value, blocks on anything but logging, fetches
 * the current policy snapshot itself (callbacks.c hands it over), or formats a
 * posture field (policy/posture_render.c does).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "authres.h"
#include "esc.h"
#include "macros.h"
#include "msg_edits.h"
#include "posture.h"
#include "posture_log.h"
#include "posture_render.h"
#include "session.h"
#include "strbuf.h"

/* What the daemon asks for in negotiate; SETSYMLIST is optional (we live with
 * the MTA's default macros without it). */
#define SESSION_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE)
/* Stages it never needs; header values with their leading space (doc/mta-facts.md 4),
 * so that added headers get exactly one space after the colon on both MTAs. */
#define SESSION_PROTO (SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA | \
                       SMFIP_HDR_LEADSPC)
/* Stages whose answer is "continue" whenever nothing went wrong: the MTA need
 * not wait for it (SMFIP_NR_*), which saves a round trip per message and one
 * per header. A failure in one of them is answered at the next stage the MTA
 * waits for (RCPT, end of message); libmilter would drop an answer anyway.
 * Connect stays answered: Postfix holds unanswered commands back until it
 * needs an answer, and the connection must take its policy snapshot when it
 * connects, not at its first RCPT (one round trip per connection). */
#define SESSION_NOREPLY (SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_HDR)

static atomic_flag session_warned_symlist = ATOMIC_FLAG_INIT;
static atomic_flag session_warned_actions = ATOMIC_FLAG_INIT;
static atomic_flag session_warned_deleg = ATOMIC_FLAG_INIT;

struct session *
session_new(struct policy *p)
{
    struct session *s = calloc(1, sizeof(struct session));

    if (s != NULL)
        s->policy = p != NULL ? policy_ref(p) : NULL;
    return s;
}

void
session_reset_msg(struct session *s)
{
    size_t i;

    for (i = 0; i < s->nrcpts; i++) {
        free(s->rcpts[i].addr);
        policy_result_free(&s->rcpts[i].res);
    }
    free(s->rcpts);
    s->rcpts = NULL;
    s->nrcpts = s->caprcpts = 0;
    free(s->qid);
    s->qid = NULL;
    free(s->mail_arg);
    s->mail_arg = NULL;
    if (s->have_facts)
        policy_facts_free(&s->facts);
    s->have_facts = false;
    free(s->authres_ours);
    s->authres_ours = NULL;
    s->nauthres_ours = s->capauthres_ours = 0;
    s->nposture = 0;
    s->nauthres = 0;
    s->in_msg = false;
    s->msg_error = false;
    s->msg_tempfail = false;
}

/* The message as posture.c and the log see it: every recipient with its
 * result, and the one that summarises the message (posture_summary: the same
 * rule tlspolicy eval applies). *prp is the recipient array to free. Returns 0,
 * or -1 when out of memory. */
static int
session_describe(const struct session *s, bool delivered, struct posture_msg *m,
                 struct posture_rcpt **prp)
{
    const struct posture_rcpt *top;
    struct posture_rcpt *pr = NULL;
    size_t i;

    *prp = NULL;
    if (s->nrcpts > 0 && (pr = calloc(s->nrcpts, sizeof *pr)) == NULL)
        return -1;
    for (i = 0; i < s->nrcpts; i++) {
        pr[i].rcpt = s->rcpts[i].addr;
        pr[i].res = &s->rcpts[i].res;
        pr[i].refused = s->rcpts[i].refused;
    }
    top = posture_summary(pr, s->nrcpts, delivered);
    m->facts = &s->facts;
    m->summary = top != NULL ? top->res : NULL;
    m->rcpts = pr;
    m->nrcpts = s->nrcpts;
    m->naccepted = posture_naccepted(pr, s->nrcpts);
    m->delivered = delivered;
    *prp = pr;
    return 0;
}

/* Without this line an auditor reading log_json would never see a refused
 * attempt: the syslog "refused" lines are the only other trace. A transaction
 * without recipients is no attempt worth a line; after an internal error the
 * recipients are incomplete, and the error was logged when it happened. */
void
session_end_msg(struct session *s)
{
    const struct policy_settings *st;
    struct posture_rcpt *pr = NULL;
    struct posture_msg m;

    if (!s->in_msg || s->nrcpts == 0 || s->msg_error || !s->have_facts || s->policy == NULL)
        goto out;
    st = policy_settings(s->policy);
    if (st->log_json == NULL || st->log_json[0] == '\0')
        goto out;
    memset(&m, 0, sizeof m);
    if (session_describe(s, false, &m, &pr) != 0) {
        posture_log_msg(LOG_ERR, "%s: out of memory logging a transaction without a message",
                        posture_qid(s->qid));
        goto out;
    }
    m.queue_id = s->qid;
    m.json = true;
    m.host = st->hostname;
    m.policy = policy_hash(s->policy);
    /* nothing left to refuse: a failure was logged, and that is all */
    (void)posture_log_json_line(&m);
out:
    free(pr);
    session_reset_msg(s);
}

void
session_free(struct session *s)
{
    if (s == NULL)
        return;
    session_end_msg(s);
    free(s->conn_host);
    free(s->conn_addr);
    free(s->helo);
    policyd_conn_free(&s->deleg);
    policy_unref(s->policy);
    free(s);
}

static bool
session_on_error_accepts(const struct policy *p)
{
    return p != NULL && policy_settings(p)->on_error == POLICY_ON_ERROR_ACCEPT;
}

/* The answer to an internal error under on_error: tempfail. */
static sfsistat
session_tempfail(SMFICTX *ctx)
{
    (void)smfi_setreply(ctx, "451", "4.3.0",
                        "TLS policy: temporary internal error, try again later");
    return SMFIS_TEMPFAIL;
}

sfsistat
session_no_state(SMFICTX *ctx, const struct policy *p, bool can_reply)
{
    bool accept = session_on_error_accepts(p);

    posture_log_msg(LOG_ERR, "%s: internal error: no session state (on_error: %s)",
                    can_reply && macros_queue_id(ctx) ? macros_queue_id(ctx) : "NOQUEUE",
                    accept ? "accept" : "tempfail");
    if (accept)
        return SMFIS_ACCEPT;
    return can_reply ? session_tempfail(ctx) : SMFIS_TEMPFAIL;
}

/* The answer of a stage that went well: none where the MTA does not wait for
 * one (nr_bit is the stage's SMFIP_NR_* bit, 0 for stages always answered). */
static sfsistat
session_continue(const struct session *s, unsigned long nr_bit)
{
    return (s->noreply & nr_bit) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* An internal error in a message: settings.on_error decides. With accept the
 * message goes on without a decision (and the log says so); with tempfail a
 * stage without an answer leaves the refusal to the next answered one. */
static sfsistat
session_fail(SMFICTX *ctx, struct session *s, unsigned long nr_bit, const char *what)
{
    const char *qid = macros_queue_id(ctx);
    bool accept = session_on_error_accepts(s->policy);

    posture_log_msg(LOG_ERR, "%s: internal error: %s (on_error: %s)", qid ? qid : "NOQUEUE",
                    what, accept ? "accept" : "tempfail");
    if (accept) {
        s->msg_error = true;
        return session_continue(s, nr_bit);
    }
    if ((s->noreply & nr_bit) != 0) {
        s->msg_tempfail = true;     /* answered by the next stage the MTA waits for */
        return SMFIS_NOREPLY;
    }
    return session_tempfail(ctx);
}

sfsistat
session_negotiate(SMFICTX *ctx, struct session *s, unsigned long f0, unsigned long f1,
                  unsigned long *pf0, unsigned long *pf1, unsigned long *pf2,
                  unsigned long *pf3)
{
    s->actions = (SESSION_ACTIONS | SMFIF_SETSYMLIST) & f0;
    if ((SESSION_ACTIONS & ~f0) != 0 && !atomic_flag_test_and_set(&session_warned_actions))
        posture_log_msg(LOG_WARNING, "the MTA does not offer every action needed "
                        "(offered 0x%lx, wanted 0x%lx): header removal, headers or "
                        "quarantine may not work", f0, (unsigned long)SESSION_ACTIONS);
    s->leadspc = (f1 & SMFIP_HDR_LEADSPC) != 0;
    *pf0 = s->actions;
    *pf1 = (SESSION_PROTO | SESSION_NOREPLY) & f1;
    s->noreply = *pf1 & SESSION_NOREPLY;
    *pf2 = 0;
    *pf3 = 0;
    s->negotiated = true;
    posture_log_msg(LOG_DEBUG, "negotiate: MTA offers actions 0x%lx protocol 0x%lx; "
                    "using actions 0x%lx protocol 0x%lx", f0, f1, *pf0, *pf1);
    if (s->actions & SMFIF_SETSYMLIST) {
        if (macros_request(ctx) != 0)
            posture_log_msg(LOG_WARNING, "smfi_setsymlist failed: using the macros the "
                            "MTA sends by default");
    } else if (!atomic_flag_test_and_set(&session_warned_symlist))
        posture_log_msg(LOG_INFO, "the MTA does not offer SMFIF_SETSYMLIST: using the "
                        "macros it sends by default");
    return SMFIS_CONTINUE;
}

/* The connect address as text (inet_ntop), NULL for other families. */
static char *
session_addr_text(const struct sockaddr *sa)
{
    char buf[INET6_ADDRSTRLEN];
    const void *src;

    if (sa == NULL)
        return NULL;
    if (sa->sa_family == AF_INET)
        src = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa->sa_family == AF_INET6)
        src = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    else
        return NULL;
    if (inet_ntop(sa->sa_family, src, buf, sizeof buf) == NULL)
        return NULL;
    return strdup(buf);
}

sfsistat
session_connect(SMFICTX *ctx, struct session *s, const char *host, const struct sockaddr *sa)
{
    policyd_conn_connect(&s->deleg, ctx, sa);
    if (s->deleg.enabled && !s->deleg.keyed && !atomic_flag_test_and_set(&session_warned_deleg))
        posture_log_msg(LOG_WARNING, "policy delegation cannot be joined to this connection: "
                        "%s; Postfix certificate facts stay unknown", s->deleg.why_unkeyed);
    if (s->policy == NULL) {
        posture_log_msg(LOG_ERR, "NOQUEUE: internal error: no policy loaded");
        return SMFIS_TEMPFAIL;
    }
    free(s->conn_host);
    free(s->conn_addr);
    s->conn_host = host != NULL ? strdup(host) : NULL;
    s->conn_addr = session_addr_text(sa);
    if (host != NULL && s->conn_host == NULL) {
        posture_log_msg(LOG_ERR, "NOQUEUE: internal error: out of memory at connect");
        return session_on_error_accepts(s->policy) ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
    }
    return SMFIS_CONTINUE;
}

sfsistat
session_helo(SMFICTX *ctx, struct session *s, const char *helo)
{
    (void)ctx;
    /* Postfix calls HELO twice around STARTTLS: the last one counts. */
    free(s->helo);
    s->helo = helo != NULL ? strdup(helo) : NULL;
    return session_continue(s, SMFIP_NR_HELO);
}

/* (Re)build the message's facts from the macros and what policy delegation
 * said. 0, or -1 when out of memory (then there are none). */
static int
session_build_facts(SMFICTX *ctx, struct session *s)
{
    struct policy_macros m;

    if (s->have_facts)
        policy_facts_free(&s->facts);
    s->have_facts = false;
    macros_read(ctx, s->conn_host, s->conn_addr, s->helo, s->mail_arg, &m);
    policyd_conn_macros(&s->deleg, &m);
    if (policy_facts_build(&s->facts, &m) != 0)
        return -1;
    s->have_facts = true;
    return 0;
}

/* Start a message: the TLS facts are final at MAIL, so they are built once
 * (and again when policy delegation makes the certificate known at RCPT).
 * nr_bit: the no-reply bit of the calling stage. */
static sfsistat
session_start_msg(SMFICTX *ctx, struct session *s, unsigned long nr_bit, const char *mail_arg)
{
    session_end_msg(s);
    s->in_msg = true;
    if (s->policy == NULL)
        return session_fail(ctx, s, nr_bit, "no policy loaded");
    if (mail_arg != NULL && (s->mail_arg = strdup(mail_arg)) == NULL)
        return session_fail(ctx, s, nr_bit, "out of memory storing the sender");
    if (session_build_facts(ctx, s) != 0)
        return session_fail(ctx, s, nr_bit, "out of memory building the session facts");
    return session_continue(s, nr_bit);
}

/* The sender as Postfix's policy request spells it: "" for the null sender. */
static const char *
session_sender(const struct session *s)
{
    return s->facts.sender_null || s->facts.sender == NULL ? "" : s->facts.sender;
}

sfsistat
session_envfrom(SMFICTX *ctx, struct session *s, char **argv)
{
    return session_start_msg(ctx, s, SMFIP_NR_MAIL, argv != NULL ? argv[0] : NULL);
}

sfsistat
session_envrcpt(SMFICTX *ctx, struct session *s, char **argv)
{
    struct session_rcpt *r, *nv;
    struct posture_reply reply;
    const char *qid;
    sfsistat st;
    size_t ncap;
    char *addr;
    int jrc;

    if (!s->in_msg && (st = session_start_msg(ctx, s, 0, NULL)) != SMFIS_CONTINUE)
        return st;
    if (s->msg_tempfail)
        return session_tempfail(ctx);
    if (s->msg_error)
        return SMFIS_CONTINUE;
    if (s->nrcpts == s->caprcpts) {
        ncap = s->caprcpts ? s->caprcpts * 2 : 4;
        nv = realloc(s->rcpts, ncap * sizeof *nv);
        if (nv == NULL)
            return session_fail(ctx, s, 0, "out of memory storing a recipient");
        s->rcpts = nv;
        s->caprcpts = ncap;
    }
    addr = macros_rcpt(ctx, argv != NULL ? argv[0] : NULL);
    if (addr == NULL)
        return session_fail(ctx, s, 0, "out of memory reading a recipient");
    /* Postfix answered its policy request for this recipient before this RCPT
     * (doc/mta-facts.md 12): its certificate fingerprints are in the table now */
    /* Sendmail gives {cert_fp} itself and is never asked by Postfix's smtpd */
    jrc = s->facts.mta == POLICY_MTA_POSTFIX ?
          policyd_conn_rcpt(&s->deleg, session_sender(s), addr) : 0;
    if (jrc != 0 && (jrc < 0 || session_build_facts(ctx, s) != 0)) {
        free(addr);
        return session_fail(ctx, s, 0, "out of memory joining the policy delegation request");
    }
    r = &s->rcpts[s->nrcpts];
    memset(r, 0, sizeof *r);
    if (policy_eval(s->policy, &s->facts, addr, &r->res) != 0) {
        policy_result_free(&r->res);
        free(addr);
        return session_fail(ctx, s, 0, "out of memory evaluating a recipient");
    }
    r->addr = addr;
    r->refused = policy_result_refuses(&r->res);
    s->nrcpts++;
    qid = macros_queue_id(ctx);
    /* kept for the JSON line of a transaction that ends here; without memory
     * it is logged as null, which is what Postfix gives anyway */
    if (qid != NULL && s->qid == NULL)
        s->qid = strdup(qid);
    if (posture_log_verbose()) {
        struct strbuf b;

        strbuf_init(&b);
        esc_put(&b, r->addr, POSTURE_VALUE_MAX, ESC_BARE);
        posture_log_msg(LOG_DEBUG, "%s: rcpt=<%s> connector=%s verdict=%s action=%s mode=%s "
                        "cert_presented=%s cert_sha256=%s",
                        qid ? qid : "NOQUEUE", strbuf_str(&b), r->res.connector,
                        policy_verdict_name(r->res.verdict), policy_action_name(r->res.action),
                        policy_mode_name(r->res.mode),
                        policy_tri_name(s->facts.cert_presented),
                        s->facts.cert_sha256 ? s->facts.cert_sha256 : "-");
        strbuf_free(&b);
    }
    if (!r->refused)
        return SMFIS_CONTINUE;

    posture_log_refused(qid, r->addr, &r->res);
    if (posture_render_reply(&r->res, &reply) == 0) {
        if (smfi_setreply(ctx, reply.rcode, reply.xcode, reply.text) != MI_SUCCESS)
            posture_log_msg(LOG_WARNING, "%s: smfi_setreply refused the reply text",
                            qid ? qid : "NOQUEUE");
    }
    posture_render_reply_free(&reply);
    return r->res.action == POLICY_ACTION_TEMPFAIL ? SMFIS_TEMPFAIL : SMFIS_REJECT;
}

sfsistat
session_header(SMFICTX *ctx, struct session *s, const char *name, const char *value)
{
    const struct policy_settings *st;
    const char *qid;
    size_t *nv, ncap;

    /* Postfix's queue id arrives with DATA: keep it for a message the client
     * abandons before its end (its JSON line then names it) */
    if (s->qid == NULL && s->in_msg && (qid = macros_queue_id(ctx)) != NULL)
        s->qid = strdup(qid);
    if (name == NULL || s->policy == NULL)
        return session_continue(s, SMFIP_NR_HDR);
    st = policy_settings(s->policy);
    /* Every From: field (RFC 5322 allows one; a message with more is judged on
     * all of them) goes into the facts; end of message decides. */
    if (strcasecmp(name, "From") == 0 && s->have_facts &&
        policy_facts_add_header_from(&s->facts, value) != 0)
        return session_fail(ctx, s, SMFIP_NR_HDR, "out of memory reading the From: header");
    if (st->header != NULL && st->header[0] != '\0' && strcasecmp(name, st->header) == 0)
        s->nposture++;
    if (strcasecmp(name, MSG_EDITS_AUTHRES) == 0) {
        s->nauthres++;
        if (st->authserv_id != NULL && authres_names_id(value, st->authserv_id)) {
            if (s->nauthres_ours == s->capauthres_ours) {
                ncap = s->capauthres_ours ? s->capauthres_ours * 2 : 4;
                nv = realloc(s->authres_ours, ncap * sizeof *nv);
                if (nv == NULL)
                    return session_fail(ctx, s, SMFIP_NR_HDR,
                                        "out of memory recording a header");
                s->authres_ours = nv;
                s->capauthres_ours = ncap;
            }
            s->authres_ours[s->nauthres_ours++] = s->nauthres;
        }
    }
    return session_continue(s, SMFIP_NR_HDR);
}

/*
 * The From: header is known only at end of message: judge every accepted
 * recipient again with it (policy_eval holds restricted sender domains for
 * the From: domains). When one is now refused, the whole message is, with
 * that result's reply, as a restricted envelope sender would have been at
 * RCPT; the refusal is logged like one, and the JSON line says not delivered.
 * Returns 0 (go on), 1 (rejected), 2 (tempfailed) or -1 (out of memory).
 */
static int
session_judge_from(SMFICTX *ctx, struct session *s, const struct policy_settings *st,
                   const char *qid)
{
    struct posture_rcpt *pr = NULL;
    struct posture_reply reply;
    struct posture_msg m;
    const struct policy_result *worst = NULL;
    size_t i;

    for (i = 0; i < s->nrcpts; i++) {
        struct session_rcpt *r = &s->rcpts[i];
        struct policy_result t;

        if (r->refused)
            continue;
        if (policy_eval(s->policy, &s->facts, r->addr, &t) != 0) {
            policy_result_free(&t);
            return -1;
        }
        policy_result_free(&r->res);
        r->res = t;
        if ((r->refused = policy_result_refuses(&r->res))) {
            posture_log_refused(qid, r->addr, &r->res);
            if (worst == NULL || r->res.action > worst->action)
                worst = &r->res;
        }
    }
    if (worst == NULL)
        return 0;
    memset(&m, 0, sizeof m);
    if (session_describe(s, false, &m, &pr) != 0)
        return -1;
    m.queue_id = macros_queue_id(ctx);
    m.json = st->log_json != NULL && st->log_json[0] != '\0';
    posture_log_message(&m);
    free(pr);
    if (posture_render_reply(worst, &reply) == 0 &&
        smfi_setreply(ctx, reply.rcode, reply.xcode, reply.text) != MI_SUCCESS)
        posture_log_msg(LOG_WARNING, "%s: smfi_setreply refused the reply text", qid);
    posture_render_reply_free(&reply);
    return worst->action == POLICY_ACTION_TEMPFAIL ? 2 : 1;
}

sfsistat
session_eom(SMFICTX *ctx, struct session *s)
{
    const struct policy_settings *st;
    struct policy_result none;
    struct posture_rcpt *pr = NULL;
    struct msg_edits e = { NULL, NULL, NULL };
    struct posture_msg m;
    const char *qid_raw = macros_queue_id(ctx);
    const char *qid = posture_qid(qid_raw);
    sfsistat rc = SMFIS_CONTINUE;
    bool have_none = false;

    memset(&none, 0, sizeof none);
    if (!s->in_msg && (rc = session_start_msg(ctx, s, 0, NULL)) != SMFIS_CONTINUE)
        goto out;
    if (s->msg_tempfail) {
        rc = session_tempfail(ctx);
        goto out;
    }
    if (s->policy == NULL) {
        rc = session_fail(ctx, s, 0, "no policy loaded");
        goto out;
    }
    st = policy_settings(s->policy);

    memset(&m, 0, sizeof m);
    m.queue_id = qid_raw;
    m.json = st->log_json != NULL && st->log_json[0] != '\0';
    m.delivered = true;
    m.host = st->hostname;
    m.policy = policy_hash(s->policy);
    if (s->msg_error) {
        m.error = "internal error earlier in this message; no decision";
        posture_log_message(&m);
        msg_edits_remove_forged(ctx, s, st, qid);
        goto out;
    }
    if (s->facts.nfrom > 0) {
        int from = session_judge_from(ctx, s, st, qid);

        if (from < 0) {
            rc = session_fail(ctx, s, 0, "out of memory judging the From: header");
            goto out;
        }
        if (from > 0) {
            rc = from == 2 ? SMFIS_TEMPFAIL : SMFIS_REJECT;
            goto out;
        }
    }
    /* Everything that can run out of memory comes first, so a message that is
     * then refused was never logged as delivered. */
    if (session_describe(s, true, &m, &pr) != 0) {
        rc = session_fail(ctx, s, 0, "out of memory logging the message");
        goto out;
    }
    if (m.summary == NULL) {
        /* no recipient reached us: describe the session itself */
        if (policy_eval(s->policy, &s->facts, NULL, &none) != 0) {
            policy_result_free(&none);
            rc = session_fail(ctx, s, 0, "out of memory evaluating the message");
            goto out;
        }
        have_none = true;
        m.summary = &none;
    }
    if (msg_edits_build(s, st, m.summary, &e) != 0) {
        rc = session_fail(ctx, s, 0, "out of memory building the headers");
        goto out;
    }
    if (posture_log_message(&m) != 0 && st->on_log_error == POLICY_ON_LOG_ERROR_TEMPFAIL) {
        /* settings.on_log_error: no mail without its record */
        (void)smfi_setreply(ctx, "451", "4.3.0", "TLS policy: the audit record of this "
                            "message cannot be written, try again later");
        rc = SMFIS_TEMPFAIL;
        goto out;
    }
    /* The edits go last: libmilter writes each one to the MTA at once, and
     * sent after the log line they reach it together with the final answer,
     * instead of waking it once more while the line is written. */
    msg_edits_remove_forged(ctx, s, st, qid);
    msg_edits_send(ctx, &e, qid);
    msg_edits_quarantine(ctx, s, qid);
out:
    msg_edits_free(&e);
    free(pr);
    if (have_none)
        policy_result_free(&none);
    session_reset_msg(s);
    return rc;
}
