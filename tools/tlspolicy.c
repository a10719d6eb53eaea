/*
 * tlspolicy.c -- the offline admin tool: "check" validates a connectors file,
 * "eval" replays MTA macro values through the same library the daemon uses and
 * shows the connector, verdict, action and TLS posture (text or JSON); with
 * several recipients, the top result is the one the daemon's header would
 * show (policy/posture.c decides for both).
 * Never: talks to an MTA or the daemon, picks a summary or escapes by its own
 * rule, or prints a byte from its input unescaped (certificate names can carry
 * CR LF).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esc.h"
#include "json_write.h"
#include "policy.h"
#include "posture.h"
#include "strbuf.h"
#include "report.h"
#include "verify_log.h"
#include "export_mta.h"
#include "trust.h"
#include "tools_install.h"
#include "check_pins.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/milter-tlspolicy/connectors.yaml"

enum { EXIT_ACCEPT = 0, EXIT_REFUSED = 1, EXIT_USAGE = 2 };
enum { EXIT_CHECK_WARNINGS = 1 };

static const char *progname = "tlspolicy";

static void
usage(FILE *fp)
{
    fprintf(fp,
        "usage: %s check [FILE | -c FILE]\n"
        "       %s eval [-c FILE] [--json] KEY=VALUE...\n"
        "       %s report [--help] [OPTIONS] [FILE...]\n"
        "       %s eval [-c FILE] [--json] direction=outbound rcpt=ADDRESS...\n"
        "       %s verify-log FILE...\n"
        "       %s export postfix|sendmail [-c FILE] [--dir DIR]\n"
        "       %s trust [PATTERN] [--json] [-c FILE]\n"
        "       %s install NEW TARGET   (check NEW, then replace TARGET atomically)\n"
        "       %s -h | --help | --version\n"
        "\n"
        "keys: mta (postfix|sendmail|auto), client_addr, client_name, helo, sender,\n"
        "      recipient (repeatable), tls_version, cipher, cipher_bits, cert_subject,\n"
        "      cert_issuer, verify, header_from (a From: field body; repeatable),\n"
        "      cert_fp, pubkey_fp (fingerprints as the MTA sends them: hex bytes with colons)\n"
        "A key given as KEY= is present but empty; a key not given is absent.\n"
        "default FILE: %s\n",
        progname, progname, progname, progname, progname, progname, progname, progname, progname, DEFAULT_CONFIG);
}

/* Write s so that nothing in it can fake or split a line: control bytes, DEL and
 * bytes outside well-formed UTF-8 become \xNN; with quote_backslash a literal
 * backslash becomes \\ so the escapes stay unambiguous (esc.c's ESC_TEXT). */
static void
put_printable(FILE *fp, const char *s, bool quote_backslash)
{
    struct strbuf b;

    strbuf_init(&b);
    esc_putn(&b, s, strlen(s), quote_backslash ? ESC_TEXT : ESC_DIAG);
    if (b.oom)
        fputs("(out of memory)", fp);
    else
        fwrite(strbuf_str(&b), 1, b.len, fp);
    strbuf_free(&b);
}

/* No program-name prefix: "file:line:column:" at the start of the line is what
 * editors and CI log parsers jump to. */
static void
diag_print(const struct policy_diag *d)
{
    char *text = policy_diag_format(d);

    if (text == NULL) {
        fprintf(stderr, "%s: out of memory formatting a diagnostic\n", progname);
        return;
    }
    put_printable(stderr, text, false);
    fputc('\n', stderr);
    free(text);
}

static void
diags_print(const struct policy_diags *diags)
{
    size_t i;

    for (i = 0; i < diags->n; i++)
        diag_print(&diags->v[i]);
}

static int
usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "%s: ", progname);
    fputs(what, stderr);
    if (arg != NULL) {
        fputs(": '", stderr);
        put_printable(stderr, arg, true);
        fputc('\'', stderr);
    }
    fprintf(stderr, "\nTry '%s --help'.\n", progname);
    return EXIT_USAGE;
}

/* Flush stdout and turn a write error (full disk, closed pipe) into exit 2. */
static int
finish_stdout(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: writing the output: %s\n", progname, strerror(errno));
        return EXIT_USAGE;
    }
    return rc;
}

/* ------------------------------------------------------------------ options */

struct opts {
    const char *config;
    bool config_given;             /* -c or --config appeared */
    bool json;
    int  nargs;                    /* positional arguments, copied to args */
    char **args;
};

/* Options may appear anywhere before "--"; everything else is positional.
 * Returns -1 after printing a usage error, 1 when help was printed. */
static int
opts_parse(int argc, char **argv, bool allow_json, struct opts *o)
{
    bool done = false;
    int i;

    o->config = DEFAULT_CONFIG;
    o->config_given = false;
    o->json = false;
    o->nargs = 0;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (done || a[0] != '-' || a[1] == '\0') {
            o->args[o->nargs++] = argv[i];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            done = true;
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (i + 1 >= argc) {
                usage_error("option needs a file name", a);
                return -1;
            }
            o->config = argv[++i];
            o->config_given = true;
        } else if (strncmp(a, "--config=", 9) == 0) {
            o->config = a + 9;
            o->config_given = true;
        } else if (strncmp(a, "-c", 2) == 0) {
            o->config = a + 2;
            o->config_given = true;
        } else if (allow_json && strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else {
            usage_error("unknown option", a);
            return -1;
        }
    }
    if (o->config[0] == '\0') {
        usage_error("empty configuration file name", NULL);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ check */

static int
cmd_check(int argc, char **argv)
{
    struct policy_diags diags;
    struct policy *p = NULL;
    struct opts o;
    int rc = EXIT_USAGE, r;

    policy_diags_init(&diags);
    o.args = calloc((size_t)argc + 1, sizeof(*o.args));
    if (o.args == NULL) {
        fprintf(stderr, "%s: out of memory\n", progname);
        goto out;
    }
    r = opts_parse(argc, argv, false, &o);
    if (r != 0) {
        rc = r > 0 ? finish_stdout(EXIT_ACCEPT) : EXIT_USAGE;
        goto out;
    }
    /* "check FILE" is what the example file and the demo tell admins to type;
     * "-c FILE" stays. Naming two files, or one each way, is ambiguous. */
    if (o.nargs > 1 || (o.nargs == 1 && o.config_given)) {
        usage_error("check takes one FILE, given once (either FILE or -c FILE)",
                    o.args[o.nargs > 1 ? 1 : 0]);
        goto out;
    }
    if (o.nargs == 1)
        o.config = o.args[0];
    if (o.config[0] == '\0') {
        usage_error("empty configuration file name", NULL);
        goto out;
    }
    p = policy_load(o.config, &diags);
    diags_print(&diags);
    if (p == NULL || diags.nerrors > 0) {
        if (diags.nerrors == 0) {
            fprintf(stderr, "%s: ", progname);
            put_printable(stderr, o.config, false);
            fputs(": could not be loaded\n", stderr);
        }
        goto out;
    }
    check_pins_print(p, stdout);
    /* 0 clean, 1 loads with warnings (the daemon would load it too), 2 errors:
     * a script can tell "fix this soon" from "this will not load". */
    if (diags.n > 0) {
        printf("OK: %zu connectors, %zu warnings\n", policy_connector_count(p), diags.n);
        rc = finish_stdout(EXIT_CHECK_WARNINGS);
    } else {
        printf("OK: %zu connectors\n", policy_connector_count(p));
        rc = finish_stdout(EXIT_ACCEPT);
    }
out:
    policy_unref(p);
    policy_diags_free(&diags);
    free(o.args);
    return rc;
}

/* ------------------------------------------------------------------ eval */

enum eval_key {
    K_MTA, K_CLIENT_ADDR, K_CLIENT_NAME, K_HELO, K_SENDER, K_RECIPIENT,
    K_TLS_VERSION, K_CIPHER, K_CIPHER_BITS, K_CERT_SUBJECT, K_CERT_ISSUER, K_VERIFY,
    K_HEADER_FROM, K_CERT_FP, K_PUBKEY_FP,
    K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "mta", "client_addr", "client_name", "helo", "sender", "recipient",
    "tls_version", "cipher", "cipher_bits", "cert_subject", "cert_issuer", "verify",
    "header_from", "cert_fp", "pubkey_fp",
};

struct eval_input {
    const char *val[K_COUNT];     /* NULL = not given */
    const char **rcpt;
    size_t nrcpt;
    const char **from;            /* header_from=, one per From: field */
    size_t nfrom;
};

/* Returns 0, or EXIT_USAGE after naming the offending argument. */
static int
eval_args(const struct opts *o, struct eval_input *in)
{
    int i, k;

    for (i = 0; i < o->nargs; i++) {
        const char *a = o->args[i];
        const char *eq = strchr(a, '=');
        size_t klen;

        if (eq == NULL)
            return usage_error("expected KEY=VALUE", a);
        klen = (size_t)(eq - a);
        for (k = 0; k < K_COUNT; k++)
            if (strlen(key_names[k]) == klen && strncmp(key_names[k], a, klen) == 0)
                break;
        if (k == K_COUNT)
            return usage_error("unknown key (see --help for the keys)", a);
        if (k == K_RECIPIENT) {
            in->rcpt[in->nrcpt++] = eq + 1;
            continue;
        }
        if (k == K_HEADER_FROM) {
            in->from[in->nfrom++] = eq + 1;
            continue;
        }
        if (in->val[k] != NULL)
            return usage_error("key given twice", a);
        in->val[k] = eq + 1;
    }
    if (in->val[K_MTA] != NULL && policy_mta_parse(in->val[K_MTA]) < 0)
        return usage_error("mta must be postfix, sendmail or auto", in->val[K_MTA]);
    return 0;
}

static void
text_kv(const char *indent, const char *key, const char *val)
{
    printf("%s%s: ", indent, key);
    if (val == NULL)
        fputs("-", stdout);
    else
        put_printable(stdout, val, true);
    fputc('\n', stdout);
}

static void
text_result(const char *indent, const struct policy_result *r)
{
    size_t i;

    text_kv(indent, "connector", r->connector);
    text_kv(indent, "verdict", policy_verdict_name(r->verdict));
    text_kv(indent, "action", policy_action_name(r->action));
    text_kv(indent, "mode", policy_mode_name(r->mode));
    text_kv(indent, "refused", policy_result_refuses(r) ? "yes" : "no");
    if (r->reply != NULL)
        text_kv(indent, "reply", r->reply);
    for (i = 0; i < r->nreasons; i++)
        text_kv(indent, "reason", r->reasons[i]);
}

static void
text_output(const struct policy_facts *f, const struct eval_input *in,
            const struct policy_result *res, size_t nres, size_t top)
{
    char bits[32];
    size_t i;

    if (in->nrcpt > 0)
        text_kv("", "recipient", in->rcpt[top]);
    text_result("", &res[top]);
    text_kv("", "mta", policy_mta_name(f->mta));
    fputs("posture:\n", stdout);
    text_kv("  ", "version", f->tls ? f->tls_version : NULL);
    text_kv("  ", "cipher", f->cipher);
    if (f->cipher_bits >= 0)
        (void)snprintf(bits, sizeof(bits), "%d", f->cipher_bits);
    text_kv("  ", "bits", f->cipher_bits >= 0 ? bits : NULL);
    text_kv("  ", "fs", policy_tri_name(f->fs));
    text_kv("  ", "presented", policy_tri_name(f->cert_presented));
    text_kv("  ", "cert", f->subject_cn);
    if (f->subject_dn != NULL)
        text_kv("  ", "subject_dn", f->subject_dn);
    if (f->subject_o != NULL)
        text_kv("  ", "organization", f->subject_o);
    text_kv("  ", "issuer", f->issuer_cn);
    if (f->issuer_dn != NULL)
        text_kv("  ", "issuer_dn", f->issuer_dn);
    text_kv("  ", "root", res[top].root);
    text_kv("  ", "verified", policy_tri_name(f->cert_verified));
    for (i = 0; i < f->nfrom; i++)
        text_kv("", "from_domain", f->from_domains[i]);
    text_kv("  ", "cert_sha256", f->cert_sha256);
    text_kv("  ", "pubkey_sha256", f->pubkey_sha256);
    for (i = 0; i < f->nnotes; i++)
        text_kv("", "note", f->notes[i]);
    if (nres > 1) {
        fputs("recipients:\n", stdout);
        for (i = 0; i < nres; i++) {
            text_kv("  ", "rcpt", in->rcpt[i]);
            text_result("    ", &res[i]);
        }
    }
}

static void
json_result(struct json_write *j, const struct policy_result *r)
{
    size_t i;

    json_write_kv_string(j, "connector", r->connector);
    json_write_kv_string(j, "verdict", policy_verdict_name(r->verdict));
    json_write_kv_string(j, "action", policy_action_name(r->action));
    json_write_kv_string(j, "mode", policy_mode_name(r->mode));
    json_write_kv_bool(j, "refused", policy_result_refuses(r));
    json_write_kv_string(j, "reply", r->reply);
    json_write_key(j, "reasons");
    json_write_array_begin(j);
    for (i = 0; i < r->nreasons; i++)
        json_write_string(j, r->reasons[i]);
    json_write_array_end(j);
}

/* Returns 0, or -1 when the document could not be built (out of memory). */
static int
json_writeput(const struct policy_facts *f, const struct eval_input *in,
            const struct policy_result *res, size_t nres, size_t top)
{
    struct json_write j;
    const char *text;
    size_t i, len;
    int rc = -1;

    json_write_init(&j);
    json_write_object_begin(&j);
    json_write_kv_string(&j, "mta", policy_mta_name(f->mta));
    json_write_kv_string(&j, "rcpt", in->nrcpt > 0 ? in->rcpt[top] : NULL);
    json_result(&j, &res[top]);
    json_write_key(&j, "posture");
    json_write_object_begin(&j);
    json_write_kv_string(&j, "version", f->tls ? f->tls_version : NULL);
    json_write_kv_string(&j, "cipher", f->cipher);
    json_write_key(&j, "bits");
    if (f->cipher_bits >= 0)
        json_write_int(&j, f->cipher_bits);
    else
        json_write_null(&j);
    json_write_kv_string(&j, "fs", policy_tri_name(f->fs));
    json_write_kv_string(&j, "presented", policy_tri_name(f->cert_presented));
    json_write_kv_string(&j, "cert", f->subject_cn);
    json_write_kv_string(&j, "subject_dn", f->subject_dn);
    json_write_kv_string(&j, "organization", f->subject_o);
    json_write_kv_string(&j, "issuer", f->issuer_cn);
    json_write_kv_string(&j, "issuer_dn", f->issuer_dn);
    json_write_kv_string(&j, "root", res[top].root);
    json_write_kv_string(&j, "verified", policy_tri_name(f->cert_verified));
    json_write_kv_string(&j, "cert_sha256", f->cert_sha256);
    json_write_kv_string(&j, "pubkey_sha256", f->pubkey_sha256);
    json_write_object_end(&j);
    json_write_key(&j, "from_domains");
    json_write_array_begin(&j);
    for (i = 0; i < f->nfrom; i++)
        json_write_string(&j, f->from_domains[i]);
    json_write_array_end(&j);
    json_write_key(&j, "notes");
    json_write_array_begin(&j);
    for (i = 0; i < f->nnotes; i++)
        json_write_string(&j, f->notes[i]);
    json_write_array_end(&j);
    if (nres > 1) {
        json_write_key(&j, "recipients");
        json_write_array_begin(&j);
        for (i = 0; i < nres; i++) {
            json_write_object_begin(&j);
            json_write_kv_string(&j, "rcpt", in->rcpt[i]);
            json_result(&j, &res[i]);
            json_write_object_end(&j);
        }
        json_write_array_end(&j);
    }
    json_write_object_end(&j);
    text = json_write_finish(&j, &len);
    if (text == NULL)
        goto out;
    fwrite(text, 1, len, stdout);
    fputc('\n', stdout);
    rc = 0;
out:
    json_write_free(&j);
    return rc;
}

static int
cmd_eval(int argc, char **argv)
{
    struct policy_diags diags;
    struct policy *p = NULL;
    struct policy_facts facts;
    struct policy_macros m;
    struct policy_result *res = NULL;
    struct posture_rcpt *pr = NULL;
    const struct posture_rcpt *sum;
    struct eval_input in;
    struct opts o;
    bool facts_built = false;
    size_t i, nres = 0, top = 0;
    int rc = EXIT_USAGE, r;

    policy_diags_init(&diags);
    memset(&in, 0, sizeof(in));
    memset(&m, 0, sizeof(m));
    o.args = calloc((size_t)argc + 1, sizeof(*o.args));
    in.rcpt = calloc((size_t)argc + 1, sizeof(*in.rcpt));
    in.from = calloc((size_t)argc + 1, sizeof(*in.from));
    if (o.args == NULL || in.rcpt == NULL || in.from == NULL) {
        fprintf(stderr, "%s: out of memory\n", progname);
        goto out;
    }
    r = opts_parse(argc, argv, true, &o);
    if (r != 0) {
        rc = r > 0 ? finish_stdout(EXIT_ACCEPT) : EXIT_USAGE;
        goto out;
    }
    if (eval_args(&o, &in) != 0)
        goto out;

    /* Only a file that does not load is worth the noise of its diagnostics
     * here; "check" shows the warnings. */
    p = policy_load(o.config, &diags);
    if (p == NULL || diags.nerrors > 0) {
        diags_print(&diags);
        if (diags.nerrors == 0) {
            fprintf(stderr, "%s: ", progname);
            put_printable(stderr, o.config, false);
            fputs(": could not be loaded\n", stderr);
        }
        goto out;
    }

    m.mta = in.val[K_MTA] != NULL ? (enum policy_mta)policy_mta_parse(in.val[K_MTA])
                                  : POLICY_MTA_AUTO;
    m.client_addr  = in.val[K_CLIENT_ADDR];
    m.client_name  = in.val[K_CLIENT_NAME];
    m.helo         = in.val[K_HELO];
    m.sender       = in.val[K_SENDER];
    m.tls_version  = in.val[K_TLS_VERSION];
    m.cipher       = in.val[K_CIPHER];
    m.cipher_bits  = in.val[K_CIPHER_BITS];
    m.cert_subject = in.val[K_CERT_SUBJECT];
    m.cert_issuer  = in.val[K_CERT_ISSUER];
    m.verify       = in.val[K_VERIFY];
    m.cert_fp      = in.val[K_CERT_FP];
    m.pubkey_fp    = in.val[K_PUBKEY_FP];
    if (policy_facts_build(&facts, &m) != 0) {
        fprintf(stderr, "%s: out of memory building the session facts\n", progname);
        goto out;
    }
    facts_built = true;
    /* As the daemon does with each From: field before its end-of-message answer. */
    for (i = 0; i < in.nfrom; i++)
        if (policy_facts_add_header_from(&facts, in.from[i]) != 0) {
            fprintf(stderr, "%s: out of memory reading header_from\n", progname);
            goto out;
        }

    nres = in.nrcpt > 0 ? in.nrcpt : 1;
    res = calloc(nres, sizeof(*res));
    pr = calloc(nres, sizeof(*pr));
    if (res == NULL || pr == NULL) {
        nres = 0;
        fprintf(stderr, "%s: out of memory\n", progname);
        goto out;
    }
    for (i = 0; i < nres; i++) {
        if (policy_eval(p, &facts, in.nrcpt > 0 ? in.rcpt[i] : NULL, &res[i]) != 0) {
            fprintf(stderr, "%s: out of memory evaluating the policy\n", progname);
            goto out;
        }
        pr[i].rcpt = in.nrcpt > 0 ? in.rcpt[i] : NULL;
        pr[i].res = &res[i];
        pr[i].refused = policy_result_refuses(&res[i]);
    }
    /* The result the daemon's posture header would carry: one rule for both. */
    sum = posture_summary(pr, nres, true);
    top = sum != NULL ? (size_t)(sum - pr) : 0;

    if (o.json) {
        if (json_writeput(&facts, &in, res, nres, top) != 0) {
            fprintf(stderr, "%s: out of memory writing JSON\n", progname);
            goto out;
        }
    } else {
        text_output(&facts, &in, res, nres, top);
    }
    rc = finish_stdout(posture_naccepted(pr, nres) < nres ? EXIT_REFUSED : EXIT_ACCEPT);
out:
    for (i = 0; i < nres; i++)
        policy_result_free(&res[i]);
    free(res);
    free(pr);
    if (facts_built)
        policy_facts_free(&facts);
    policy_unref(p);
    policy_diags_free(&diags);
    free(in.rcpt);
    free(in.from);
    free(o.args);
    return rc;
}

int
main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        usage(stdout);
        return finish_stdout(EXIT_ACCEPT);
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("%s %s\n", progname, PACKAGE_VERSION);
        return finish_stdout(EXIT_ACCEPT);
    }
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 2, argv + 2);
    if (strcmp(cmd, "eval") == 0) {
        for (int i = 2; i < argc; i++)
            if (strcmp(argv[i], "direction=outbound") == 0)
                return eval_outbound_main(progname, argc - 2, argv + 2);
        return cmd_eval(argc - 2, argv + 2);
    }
    if (strcmp(cmd, "report") == 0)
        return report_main(progname, argc - 2, argv + 2);
    if (strcmp(cmd, "verify-log") == 0)
        return verify_log_main(progname, argc - 2, argv + 2);
    if (strcmp(cmd, "export") == 0)
        return export_main(progname, argc - 2, argv + 2);
    if (strcmp(cmd, "trust") == 0)
        return trust_main(progname, argc - 2, argv + 2);
    if (strcmp(cmd, "install") == 0)
        return install_main(progname, argc - 2, argv + 2);
    return usage_error("unknown command (expected check, eval, report, verify-log, export, trust or install)", cmd);
}
