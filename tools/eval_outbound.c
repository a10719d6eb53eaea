/*
 * eval_outbound.c -- "tlspolicy eval direction=outbound rcpt=ADDR...": for each
 * recipient, which outbound connector its domain falls under (most specific
 * pattern), its mode and smart hosts, and the exact Postfix policy the export
 * writes for it, so an administrator can ask "what will Postfix require for
 * user@partner.test?" without exporting. With --json, the same answer as one
 * JSON document written by json_write.c.
 * Never: writes a file (the tafile is named as export would name it), or
 * prints a byte of a recipient unescaped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc.h"
#include "export.h"
#include "export_mta.h"
#include "json_write.h"
#include "report.h"
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

/* The policy export postfix writes for c, and the tafile it names; NULL after
 * an error (printed) or out of memory (*oom set). The report shows it too. */
char *
eval_outbound_postfix(struct export_ctx *x, const struct outbound_connector *c, bool *oom)
{
    char *tafile = NULL, *value;

    *oom = false;
    if (c->nroots > 0 && c->mode == POLICY_MODE_ENFORCE &&
        (tafile = strfmt("%s/tafile-%s.pem", x->absdir, c->name)) == NULL) {
        *oom = true;
        return NULL;
    }
    value = export_postfix_policy(x, c, tafile);
    free(tafile);
    return value;
}

static const char *
postfix_key(const struct outbound_connector *c)
{
    return c->nhosts > 0 ? "each smart host's [host]:port" : "the matched pattern";
}

static int
answer(struct export_ctx *x, const char *rcpt)
{
    const char *at = strrchr(rcpt, '@'), *domain = at ? at + 1 : rcpt, *pattern = NULL;
    const struct outbound_connector *c = policy_outbound_find(x->p, domain, &pattern);
    char *value;
    bool oom;

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
    if ((value = eval_outbound_postfix(x, c, &oom)) == NULL)
        return oom ? -1 : 1;                        /* an error was printed */
    if (c->mode == POLICY_MODE_MONITOR) {
        printf("  postfix: may\n");
        put_text("  postfix in enforce mode: ", value);
    } else {
        put_text("  postfix: ", value);
    }
    printf("  postfix key: %s\n", postfix_key(c));
    free(value);
    return 0;
}

/* One element of the "answers" array: the fields of the text form, with
 * "postfix" null when no connector applies (the global level does) and
 * "postfix_enforce" the enforce form in monitor mode, else null. */
static int
answer_json(struct export_ctx *x, struct json_write *j, const char *rcpt)
{
    const char *at = strrchr(rcpt, '@'), *domain = at ? at + 1 : rcpt, *pattern = NULL;
    const struct outbound_connector *c = policy_outbound_find(x->p, domain, &pattern);
    char *value = NULL;
    bool oom;

    if (c != NULL && (value = eval_outbound_postfix(x, c, &oom)) == NULL)
        return oom ? -1 : 1;
    json_write_object_begin(j);
    json_write_kv_string(j, "rcpt", rcpt);
    json_write_kv_string(j, "connector", c ? c->name : NULL);
    json_write_kv_string(j, "pattern", pattern);
    json_write_kv_string(j, "mode", c ? policy_mode_name(c->mode) : NULL);
    json_write_key(j, "smart_hosts");
    json_write_array_begin(j);
    for (size_t i = 0; c != NULL && i < c->nhosts; i++)
        json_write_string(j, c->hosts[i].text);
    json_write_array_end(j);
    if (c == NULL)
        json_write_kv_string(j, "postfix", NULL);
    else
        json_write_kv_string(j, "postfix", c->mode == POLICY_MODE_MONITOR ? "may" : value);
    json_write_kv_string(j, "postfix_enforce",
                         c && c->mode == POLICY_MODE_MONITOR ? value : NULL);
    json_write_kv_string(j, "postfix_key", c ? postfix_key(c) : NULL);
    json_write_object_end(j);
    free(value);
    return 0;
}

int
eval_outbound_main(const char *progname, int argc, char **argv)
{
    struct export_ctx x;
    char *cargv[2];
    struct json_write j;
    int cargc = 0, rc, nrcpt = 0;
    bool json = false;

    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            cargv[0] = argv[i];
            cargv[1] = argv[++i];
            cargc = 2;
        } else if (strncmp(argv[i], "rcpt=", 5) == 0 || strncmp(argv[i], "recipient=", 10) == 0) {
            nrcpt++;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "direction=outbound") != 0) {
            fprintf(stderr, "%s: eval direction=outbound takes -c FILE, --json and "
                    "rcpt=ADDRESS (repeatable); got another argument\n", progname);
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
    json_write_init(&j);
    json_write_object_begin(&j);
    json_write_kv_string(&j, "direction", "outbound");
    json_write_key(&j, "answers");
    json_write_array_begin(&j);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *eq = strchr(a, '=');
        if (strncmp(a, "rcpt=", 5) != 0 && strncmp(a, "recipient=", 10) != 0)
            continue;
        int one = json ? answer_json(&x, &j, eq + 1) : answer(&x, eq + 1);
        if (one < 0)
            fprintf(stderr, "%s: out of memory\n", progname);
        if (one != 0)
            rc = EVAL_FAIL;
    }
    json_write_array_end(&j);
    json_write_object_end(&j);
    export_close(&x);
    if (json) {
        /* A failed answer prints nothing: half a document is worse than none. */
        size_t len;
        const char *doc = json_write_finish(&j, &len);
        if (doc == NULL) {
            fprintf(stderr, "%s: out of memory\n", progname);
            rc = EVAL_FAIL;
        } else if (rc == EVAL_OK) {
            printf("%s\n", doc);
        }
    }
    json_write_free(&j);
    if (fflush(stdout) != 0)
        rc = EVAL_USAGE;
    return rc;
}
