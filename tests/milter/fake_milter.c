/*
 * fake_milter.c -- link-time fake of libmilter for the in-process tests of the
 * callback layer: records calls, refuses the ones libmilter refuses (wrong
 * stage, CR/LF in a reply, a bare '%'), and never opens a socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fake_milter.h"

int fake_fail_strdup, fake_fail_realloc;

char *__real_strdup(const char *s);
char *__wrap_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
char *__wrap_strndup(const char *s, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_realloc(void *p, size_t n);

/* Count one call down; true for the call that is to fail. */
static bool
fake_fails(int *countdown)
{
    return *countdown > 0 && --*countdown == 0;
}

char *
__wrap_strdup(const char *s)
{
    return fake_fails(&fake_fail_strdup) ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
    return fake_fails(&fake_fail_strdup) ? NULL : __real_strndup(s, n);
}

void *
__wrap_realloc(void *p, size_t n)
{
    return fake_fails(&fake_fail_realloc) ? NULL : __real_realloc(p, n);
}

/* The SMFIP_NR_* bit of a stage, 0 where the MTA always waits for an answer. */
static unsigned long
fake_nr_bit(enum fake_stage st)
{
    switch (st) {
    case FAKE_CONNECT: return SMFIP_NR_CONN;
    case FAKE_HELO:    return SMFIP_NR_HELO;
    case FAKE_MAIL:    return SMFIP_NR_MAIL;
    case FAKE_RCPT:    return SMFIP_NR_RCPT;
    case FAKE_HEADER:  return SMFIP_NR_HDR;
    default:           return 0;
    }
}

sfsistat
fake_ok(const SMFICTX *ctx)
{
    return (ctx->pflags & fake_nr_bit(ctx->stage)) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

SMFICTX *
fake_ctx_new(void)
{
    return calloc(1, sizeof(SMFICTX));
}

void
fake_ctx_free(SMFICTX *ctx)
{
    size_t i;

    if (ctx == NULL)
        return;
    for (i = 0; i < ctx->nmacros; i++) {
        free(ctx->mname[i]);
        free(ctx->mvalue[i]);
    }
    for (i = 0; i < 7; i++)
        free(ctx->symlist[i]);
    for (i = 0; i < ctx->nops; i++) {
        free(ctx->ops[i].name);
        free(ctx->ops[i].value);
    }
    free(ctx->reply_text);
    free(ctx->quarantine);
    free(ctx);
}

/* libmilter accepts "i" and "{i}" alike for one-letter names. */
static void
fake_norm(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);

    if (n == 3 && in[0] == '{' && in[2] == '}')
        snprintf(out, cap, "%c", in[1]);
    else
        snprintf(out, cap, "%s", in);
}

void
fake_macro(SMFICTX *ctx, const char *name, const char *value)
{
    char n[128];
    size_t i;

    fake_norm(name, n, sizeof n);
    for (i = 0; i < ctx->nmacros; i++) {
        if (strcmp(ctx->mname[i], n) == 0) {
            free(ctx->mvalue[i]);
            if (value != NULL) {
                ctx->mvalue[i] = strdup(value);
                return;
            }
            free(ctx->mname[i]);
            ctx->nmacros--;
            ctx->mname[i] = ctx->mname[ctx->nmacros];
            ctx->mvalue[i] = ctx->mvalue[ctx->nmacros];
            return;
        }
    }
    if (value == NULL || ctx->nmacros == FAKE_MAX)
        return;
    ctx->mname[ctx->nmacros] = strdup(n);
    ctx->mvalue[ctx->nmacros] = strdup(value);
    ctx->nmacros++;
}

void
fake_clear_reply(SMFICTX *ctx)
{
    free(ctx->reply_text);
    ctx->reply_text = NULL;
    ctx->rcode[0] = ctx->xcode[0] = '\0';
}

size_t
fake_count_ops(SMFICTX *ctx, char op, const char *name)
{
    size_t i, n = 0;

    for (i = 0; i < ctx->nops; i++)
        if (ctx->ops[i].op == op && strcasecmp(ctx->ops[i].name, name) == 0)
            n++;
    return n;
}

const char *
fake_op_value(SMFICTX *ctx, char op, const char *name)
{
    size_t i;

    for (i = 0; i < ctx->nops; i++)
        if (ctx->ops[i].op == op && strcasecmp(ctx->ops[i].name, name) == 0)
            return ctx->ops[i].value;
    return NULL;
}

static int
fake_violation(SMFICTX *ctx, const char *what)
{
    ctx->violations++;
    snprintf(ctx->violation, sizeof ctx->violation, "%s", what);
    return MI_FAILURE;
}

char *
smfi_getsymval(SMFICTX *ctx, char *name)
{
    char n[128];
    size_t i;

    fake_norm(name, n, sizeof n);
    for (i = 0; i < ctx->nmacros; i++)
        if (strcmp(ctx->mname[i], n) == 0)
            return ctx->mvalue[i];
    return NULL;
}

int
smfi_setpriv(SMFICTX *ctx, void *priv)
{
    if (ctx->fail_setpriv)
        return MI_FAILURE;
    ctx->priv = priv;
    return MI_SUCCESS;
}

void *
smfi_getpriv(SMFICTX *ctx)
{
    return ctx->priv;
}

int
smfi_setsymlist(SMFICTX *ctx, int stage, char *macros)
{
    if (ctx->stage != FAKE_NEGOTIATE)
        return fake_violation(ctx, "smfi_setsymlist outside negotiate");
    if (stage < 0 || stage > 6 || macros == NULL || ctx->symlist[stage] != NULL)
        return MI_FAILURE;    /* libmilter refuses a second list for a stage */
    ctx->symlist[stage] = strdup(macros);
    ctx->nsymlist++;
    return MI_SUCCESS;
}

int
smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *message)
{
    const char *p;

    if (ctx->stage == FAKE_CONNECT)
        return fake_violation(ctx, "smfi_setreply in connect");
    /* the answer would never be sent, and would linger for a later stage */
    if ((ctx->pflags & fake_nr_bit(ctx->stage)) != 0)
        return fake_violation(ctx, "smfi_setreply at a stage negotiated as no-reply");
    if (rcode == NULL || strlen(rcode) != 3 || (rcode[0] != '4' && rcode[0] != '5'))
        return fake_violation(ctx, "bad rcode");
    if (xcode != NULL && xcode[0] != rcode[0])
        return fake_violation(ctx, "xcode class differs from rcode");
    if (message != NULL) {
        if (strpbrk(message, "\r\n") != NULL)
            return fake_violation(ctx, "CR/LF in reply");
        for (p = message; (p = strchr(p, '%')) != NULL; p += 2)
            if (p[1] != '%')
                return fake_violation(ctx, "single % in reply");
        for (p = message; *p != '\0'; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                return fake_violation(ctx, "non-printable byte in reply");
    }
    fake_clear_reply(ctx);
    snprintf(ctx->rcode, sizeof ctx->rcode, "%s", rcode);
    snprintf(ctx->xcode, sizeof ctx->xcode, "%s", xcode != NULL ? xcode : "");
    ctx->reply_text = message != NULL ? strdup(message) : NULL;
    ctx->nreply++;
    return MI_SUCCESS;
}

/* Header values: no CR, no NUL tricks, every LF must start a continuation line. */
static int
fake_check_value(SMFICTX *ctx, const char *v)
{
    const char *p;

    for (p = v; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '\r')
            return fake_violation(ctx, "CR in header value");
        if (c == '\n' && p[1] != ' ' && p[1] != '\t')
            return fake_violation(ctx, "LF not followed by white space in header value");
        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
            return fake_violation(ctx, "control byte in header value");
    }
    return MI_SUCCESS;
}

static int
fake_record(SMFICTX *ctx, char op, const char *name, int idx, const char *value)
{
    struct fake_hdr_op *o;

    if (ctx->stage != FAKE_EOM)
        return fake_violation(ctx, "header change outside eom");
    if (name == NULL || (value != NULL && fake_check_value(ctx, value) != MI_SUCCESS))
        return MI_FAILURE;
    if (ctx->nops == FAKE_MAX)
        return MI_FAILURE;
    o = &ctx->ops[ctx->nops++];
    o->op = op;
    o->name = strdup(name);
    o->idx = idx;
    o->value = value != NULL ? strdup(value) : NULL;
    return MI_SUCCESS;
}

int
smfi_addheader(SMFICTX *ctx, char *name, char *value)
{
    if (value == NULL)
        return MI_FAILURE;
    return fake_record(ctx, 'a', name, 0, value);
}

int
smfi_insheader(SMFICTX *ctx, int idx, char *name, char *value)
{
    if (value == NULL)
        return MI_FAILURE;
    return fake_record(ctx, 'i', name, idx, value);
}

int
smfi_chgheader(SMFICTX *ctx, char *name, int idx, char *value)
{
    if (idx < 1)
        return fake_violation(ctx, "chgheader index < 1");
    return fake_record(ctx, 'c', name, idx, value);
}

int
smfi_quarantine(SMFICTX *ctx, char *reason)
{
    if (ctx->stage != FAKE_EOM)
        return fake_violation(ctx, "quarantine outside eom");
    if (reason == NULL || reason[0] == '\0')
        return MI_FAILURE;
    free(ctx->quarantine);
    ctx->quarantine = strdup(reason);
    return MI_SUCCESS;
}

int
smfi_version(unsigned int *major, unsigned int *minor, unsigned int *pl)
{
    *major = 1;
    *minor = 0;
    *pl = 1;
    return MI_SUCCESS;
}
