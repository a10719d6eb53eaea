/*
 * fake_milter.h -- a link-time stand-in for libmilter: the smfi_* functions the
 * callback layer calls, recording every call so tests can assert on them.
 */
#ifndef FAKE_MILTER_H
#define FAKE_MILTER_H

#include <stdbool.h>
#include <stddef.h>

#include <libmilter/mfapi.h>

enum fake_stage { FAKE_NEGOTIATE, FAKE_CONNECT, FAKE_HELO, FAKE_MAIL, FAKE_RCPT,
                  FAKE_HEADER, FAKE_EOM, FAKE_ABORT, FAKE_CLOSE };

#define FAKE_MAX 64

struct fake_hdr_op {
    char op;                     /* 'a' add, 'i' insert, 'c' change (value NULL: delete) */
    char *name;
    int   idx;
    char *value;
};

struct smfi_str {
    enum fake_stage stage;
    void *priv;
    size_t nmacros;
    char *mname[FAKE_MAX], *mvalue[FAKE_MAX];
    /* recorded calls */
    char *symlist[7];
    int   nsymlist;
    int   nreply;
    char  rcode[8], xcode[16];
    char *reply_text;
    size_t nops;
    struct fake_hdr_op ops[FAKE_MAX];
    char *quarantine;
    unsigned long pflags;        /* protocol steps negotiated (SMFIP_*), set by the test */
    int   violations;            /* calls made where libmilter would refuse them */
    char  violation[256];
    bool  fail_setpriv;
};

SMFICTX *fake_ctx_new(void);
void fake_ctx_free(SMFICTX *ctx);
/* Set (value non-NULL) or remove (NULL) a macro; names as libmilter spells them. */
void fake_macro(SMFICTX *ctx, const char *name, const char *value);
/* Forget the recorded reply (between recipients). */
void fake_clear_reply(SMFICTX *ctx);
/* Number of header operations of kind op on name (case-insensitive). */
size_t fake_count_ops(SMFICTX *ctx, char op, const char *name);
/* Value of the first op of kind op on name, or NULL. */
const char *fake_op_value(SMFICTX *ctx, char op, const char *name);
/* What a callback must return at ctx's stage when all went well: SMFIS_NOREPLY
 * where ctx->pflags has the stage's SMFIP_NR_* bit, else SMFIS_CONTINUE. */
sfsistat fake_ok(const SMFICTX *ctx);

/* Allocation failures on demand (the test links with --wrap for strdup,
 * strndup and realloc): n > 0 makes the n-th call from now fail, once;
 * fake_fail_strdup counts strdup and strndup calls together. */
extern int fake_fail_strdup, fake_fail_realloc;

#endif
