/*
 * eval_outbound.c -- "tlspolicy eval direction=outbound rcpt=ADDR...": for each
 * recipient, which outbound connector its domain falls under (most specific
 * pattern), its mode and smart hosts, and the exact Postfix policy the export
 * writes for it, so an administrator can ask "what will Postfix require for
 * user@partner.test?" without exporting.
 * Never: writes a file (the tafile is named as export would name it), or
 * prints a byte of a recipient unescaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc.h"
#include "export.h"
#include "export_mta.h"
#include "strbuf.h"
#include "strfmt.h"

enum { EVAL_OK = 0, EVAL_FAIL = 1, EVAL_USAGE = 2 };

static void
put_text(const char *label, const char *s)
{
    struct strbuf b;

    strbuf_init(&b);
    esc_putn(&b, s, strlen(s), ESC_TEXT);
    printf("%s%s\n", label, b.oom ? "(out of memory)" : strbuf_str(&b));
    strbuf_free(&b);
}

static int
answer(struct export_ctx *x, const char *rcpt)
{
    const char *at = strrchr(rcpt, '@'), *domain = at ? at + 1 : rcpt, *pattern = NULL;
    const struct outbound_connector *c = policy_outbound_find(x->p, domain, &pattern);
    char *tafile = NULL, *value = NULL;

    put_text("recipient: ", rcpt);
    if (c == NULL) {
        printf("  outbound connector: none\n"
               "  postfix: no entry; the global smtp_tls_security_level applies\n");
        return 0;
    }
    put_text("  outbound connector: ", c->name);
    put_text("  matched pattern: ", pattern);
    printf("  mode: %s\n", policy_mode_name(c->mode));
    for (size_t i = 0; i < c->nhosts; i++)
        put_text("  smart host: ", c->hosts[i].text);
    if (c->nroots > 0 && c->mode == POLICY_MODE_ENFORCE &&
        (tafile = strfmt("%s/tafile-%s.pem", x->absdir, c->name)) == NULL)
        return -1;
    value = export_postfix_policy(x, c, tafile);
    free(tafile);
    if (value == NULL)
        return 1;                                   /* the error was printed */
    if (c->mode == POLICY_MODE_MONITOR) {
        printf("  postfix: may\n");
        put_text("  postfix in enforce mode: ", value);
    } else {
        put_text("  postfix: ", value);
    }
    printf("  postfix key: %s\n", c->nhosts > 0 ? "each smart host's [host]:port"
                                                : "the matched pattern");
    free(value);
    return 0;
}

int
eval_outbound_main(const char *progname, int argc, char **argv)
{
    struct export_ctx x;
    char *cargv[2];
    int cargc = 0, rc, nrcpt = 0;

    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            cargv[0] = argv[i];
            cargv[1] = argv[++i];
            cargc = 2;
        } else if (strncmp(argv[i], "rcpt=", 5) == 0 || strncmp(argv[i], "recipient=", 10) == 0) {
            nrcpt++;
        } else if (strcmp(argv[i], "direction=outbound") != 0) {
            fprintf(stderr, "%s: eval direction=outbound takes -c FILE and rcpt=ADDRESS "
                    "(repeatable); got another argument\n", progname);
            return EVAL_USAGE;
        }
    }
    if (nrcpt == 0) {
        fprintf(stderr, "%s: eval direction=outbound needs rcpt=ADDRESS\n", progname);
        return EVAL_USAGE;
    }
    if ((rc = export_open(&x, progname, "postfix", cargc, cargv, false)) != 0)
        return rc;
    rc = EVAL_OK;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        if (strncmp(a, "rcpt=", 5) != 0 && strncmp(a, "recipient=", 10) != 0)
            continue;
        int one = answer(&x, eq + 1);
        if (one < 0)
            fprintf(stderr, "%s: out of memory\n", progname);
        if (one != 0)
            rc = EVAL_FAIL;
    }
    export_close(&x);
    if (fflush(stdout) != 0)
        rc = EVAL_USAGE;
    return rc;
}
