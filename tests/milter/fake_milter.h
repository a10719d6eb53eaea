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

#endif
