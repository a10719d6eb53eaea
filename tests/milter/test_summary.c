/*
 * test_summary.c -- the daemon and `tlspolicy eval` must name the same result
 * for a message. Each row is one multi-recipient message (mixed verdicts,
 * actions and modes) driven twice: through the callback layer against the fake
 * libmilter (what the daemon sends and logs) and through eval's path
 * (policy_facts_build, policy_eval per recipient, posture_summary), then the
 * header values and the JSON record's top fields are compared, and both are
 * checked against the connector the row expects.
 * Never: compares a path with itself, or needs a running MTA.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "callbacks.h"
#include "fake_milter.h"
#include "posture.h"
#include "posture_log.h"
#include "posture_render.h"
#include "reload.h"
#include "table_test.h"

/* Recipient-keyed connectors with every action and both modes; the session is
 * TLS 1.2, so each one with min_version TLSv1.3 fails. */
static const char summary_cfg[] =
    "version: 1\n"
    "settings:\n"
    "  authserv_id: mx.local.test\n"
    "  log_json: /nonexistent/posture.jsonl\n"
    "defaults:\n"
    "  require: {}\n"
    "  on_fail: tag\n"
    "connectors:\n"
    "  - name: strict\n"
    "    match: {recipient_domains: [strict.example]}\n"
    "    require: {min_version: TLSv1.3}\n"
    "    on_fail: reject\n"
    "  - name: temp\n"
    "    match: {recipient_domains: [temp.example]}\n"
    "    require: {min_version: TLSv1.3}\n"
    "    on_fail: tempfail\n"
    "  - name: watch\n"
    "    mode: monitor\n"
    "    match: {recipient_domains: [watch.example]}\n"
    "    require: {min_version: TLSv1.3}\n"
    "    on_fail: reject\n"
    "  - name: quar\n"
    "    match: {recipient_domains: [q.example]}\n"
    "    require: {min_version: TLSv1.3}\n"
    "    on_fail: quarantine\n"
    "  - name: tagger\n"
    "    match: {recipient_domains: [tag.example]}\n"
    "    require: {min_version: TLSv1.3}\n"
    "    on_fail: tag\n"
    "  - name: tagmon\n"
    "    mode: monitor\n"
    "    match: {recipient_domains: [tagmon.example]}\n"
    "    require: {min_version: TLSv1.3}\n"
    "    on_fail: tag\n"
    "  - name: tls12\n"
    "    match: {recipient_domains: [ok.example]}\n"
    "    require: {min_version: TLSv1.2}\n"
    "    on_fail: reject\n"
    "  - name: bank\n"
    "    match: {sender_domains: [b\xc3\xa4nk.example], client_addresses: [198.51.100.0/24]}\n"
    "    restrict_sender_domains: true\n"
    "    require: {min_version: TLSv1.3}\n"
    "    on_fail: tag\n";

#define SUMMARY_HDR "X-TLS-Policy"

struct summary_row {
    const char *name;
    const char *rcpt[4];          /* NULL-terminated */
    const char *want;             /* connector both must name */
    const char *from;             /* a From: field body, or NULL */
};

static const struct summary_row summary_rows[] = {
    { "no recipient: the session's own result", { NULL }, "default", NULL },
    { "one recipient", { "a@ok.example" }, "tls12", NULL },
    { "pass and none: none outranks pass", { "a@ok.example", "b@other.test" }, "default", NULL },
    { "refused recipient left out of the header",
      { "a@other.test", "b@strict.example", "c@ok.example" }, "default", NULL },
    { "monitored reject outranks tag", { "t@tag.example", "w@watch.example" }, "watch", NULL },
    { "quarantine outranks tag", { "t@tag.example", "q@q.example" }, "quar", NULL },
    { "same action: enforce outranks monitor", { "m@tagmon.example", "t@tag.example" },
      "tagger", NULL },
    { "same action and mode: first wins", { "t@tag.example", "u@tag.example" }, "tagger", NULL },
    { "every recipient refused: reject outranks tempfail",
      { "x@temp.example", "b@strict.example" }, "strict", NULL },
    { "a refused reject stays out; the monitored reject of an accepted one shows",
      { "b@strict.example", "q@q.example", "w@watch.example" }, "watch", NULL },
    { "From: an owned domain's tag outranks the envelope's none", { "a@other.test" }, "bank",
      "Pay <pay@B\xc3\x84NK.example>" },
    { "From: a domain nobody owns changes nothing", { "a@ok.example" }, "tls12",
      "\"pay@b\xc3\xa4nk.example\" <x@other.test>" },
};

/* The session, as MTA macros (daemon) and as eval's KEY=VALUE (policy_macros). */
static const char *const summary_macros[][2] = {
    { "v", "Postfix 3.7.11" },
    { "{client_addr}", "198.51.100.7" },
    { "{client_name}", "mx.other.test" },
    { "{tls_version}", "TLSv1.2" },
    { "{cipher}", "ECDHE-RSA-AES256-GCM-SHA384" },
    { "{cipher_bits}", "256" },
    { "{mail_addr}", "s@other.test" },
};

static struct policy *summary_policy;

static int
summary_setup(void **state)
{
    struct policy_diags d;

    (void)state;
    policy_diags_init(&d);
    summary_policy = policy_load_buffer("summary.yaml", summary_cfg, sizeof summary_cfg - 1,
                                        NULL, &d);
    for (size_t k = 0; k < d.n; k++) {
        char *s = policy_diag_format(&d.v[k]);
        fprintf(stderr, "# %s\n", s ? s : "?");
        free(s);
    }
    policy_diags_free(&d);
    return summary_policy != NULL ? 0 : -1;
}

static int
summary_teardown(void **state)
{
    (void)state;
    reload_swap(NULL);
    policy_unref(summary_policy);
    return 0;
}

/* What the daemon adds and logs: the header value and the JSON line. */
static void
summary_daemon(const struct summary_row *row, char **hdr, char **json)
{
    char path[] = "/tmp/test_summary_XXXXXX";
    char host[] = "mx.other.test", helo[] = "client.example", mail[] = "<s@other.test>";
    char *argv[2] = { NULL, NULL }, buf[16384];
    unsigned long p0 = 0, p1 = 0, p2 = 0, p3 = 0;
    struct sockaddr_in sin;
    SMFICTX *ctx = fake_ctx_new();
    const char *v;
    ssize_t n;
    size_t i;
    int fd;

    assert_non_null(ctx);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(posture_log_json_open(&(struct policy_settings){ .log_json = path }, NULL), 0);
    reload_swap(policy_ref(summary_policy));
    ctx->stage = FAKE_NEGOTIATE;
    assert_int_equal(callbacks_negotiate(ctx, 0x1ff, 0x1fffff, 0, 0, &p0, &p1, &p2, &p3),
                     SMFIS_CONTINUE);
    ctx->pflags = p1;
    for (i = 0; i < sizeof summary_macros / sizeof summary_macros[0]; i++)
        fake_macro(ctx, summary_macros[i][0], summary_macros[i][1]);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, "198.51.100.7", &sin.sin_addr), 1);
    ctx->stage = FAKE_CONNECT;
    assert_int_equal(callbacks_connect(ctx, host, (struct sockaddr *)&sin), fake_ok(ctx));
    ctx->stage = FAKE_HELO;
    assert_int_equal(callbacks_helo(ctx, helo), fake_ok(ctx));
    ctx->stage = FAKE_MAIL;
    argv[0] = mail;
    assert_int_equal(callbacks_envfrom(ctx, argv), fake_ok(ctx));
    ctx->stage = FAKE_RCPT;
    for (i = 0; row->rcpt[i] != NULL; i++) {
        char arg[256];

        snprintf(arg, sizeof arg, "<%s>", row->rcpt[i]);
        fake_macro(ctx, "{rcpt_addr}", row->rcpt[i]);
        argv[0] = arg;
        (void)callbacks_envrcpt(ctx, argv);   /* refusals are the row's business */
    }
    if (row->from != NULL) {
        char name[] = "From", *value = strdup(row->from);

        assert_non_null(value);
        ctx->stage = FAKE_HEADER;
        assert_int_equal(callbacks_header(ctx, name, value), fake_ok(ctx));
        free(value);
    }
    ctx->stage = FAKE_EOM;
    fake_macro(ctx, "i", "QSUM");
    assert_int_equal(callbacks_eom(ctx), SMFIS_CONTINUE);
    v = fake_op_value(ctx, 'a', SUMMARY_HDR);
    assert_non_null(v);
    *hdr = strdup(v);
    ctx->stage = FAKE_CLOSE;
    assert_int_equal(callbacks_close(ctx), SMFIS_CONTINUE);
    fake_ctx_free(ctx);
    posture_log_json_close();
    n = pread(fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    buf[n] = '\0';
    *json = strdup(buf);
    close(fd);
    unlink(path);
    assert_non_null(*hdr);
    assert_non_null(*json);
}

static const char *
summary_macro(const char *name)
{
    for (size_t i = 0; i < sizeof summary_macros / sizeof summary_macros[0]; i++)
        if (strcmp(summary_macros[i][0], name) == 0)
            return summary_macros[i][1];
    return NULL;
}

static void
run_summary(void **state)
{
    const struct summary_row *row = *state;
    struct policy_result res[4];
    struct posture_rcpt pr[4];
    const struct posture_rcpt *top;
    struct policy_macros m;
    struct policy_facts f;
    struct strbuf hdr;
    char *dhdr = NULL, *djson = NULL, want_json[512];
    size_t i, n = 0;

    summary_daemon(row, &dhdr, &djson);

    /* eval's path, as tools/tlspolicy.c takes it */
    memset(&m, 0, sizeof m);
    m.mta = POLICY_MTA_POSTFIX;
    m.mta_version = summary_macro("v");
    m.client_addr = summary_macro("{client_addr}");
    m.client_name = summary_macro("{client_name}");
    m.helo = "client.example";
    m.sender = summary_macro("{mail_addr}");
    m.tls_version = summary_macro("{tls_version}");
    m.cipher = summary_macro("{cipher}");
    m.cipher_bits = summary_macro("{cipher_bits}");
    assert_int_equal(policy_facts_build(&f, &m), 0);
    if (row->from != NULL)
        assert_int_equal(policy_facts_add_header_from(&f, row->from), 0);
    memset(res, 0, sizeof res);
    while (row->rcpt[n] != NULL)
        n++;
    for (i = 0; i < (n > 0 ? n : 1); i++) {
        assert_int_equal(policy_eval(summary_policy, &f, n > 0 ? row->rcpt[i] : NULL,
                                     &res[i]), 0);
        pr[i].rcpt = n > 0 ? row->rcpt[i] : NULL;
        pr[i].res = &res[i];
        pr[i].refused = policy_result_refuses(&res[i]);
    }
    top = posture_summary(pr, n > 0 ? n : 1, true);
    assert_non_null(top);
    if (strcmp(top->res->connector, row->want) != 0)
        fail_msg("%s: eval names %s, want %s", row->name, top->res->connector, row->want);

    strbuf_init(&hdr);
    posture_render_header(&hdr, strlen(SUMMARY_HDR), true, &f, top->res);
    if (strcmp(strbuf_str(&hdr), dhdr) != 0)
        fail_msg("%s: header differs\n# daemon: %s\n# eval:   %s", row->name, dhdr,
                 strbuf_str(&hdr));
    snprintf(want_json, sizeof want_json,
             "\"delivered\":true,\"connector\":\"%s\",\"verdict\":\"%s\",\"action\":\"%s\","
             "\"mode\":\"%s\",", top->res->connector, policy_verdict_name(top->res->verdict),
             policy_action_name(top->res->action), policy_mode_name(top->res->mode));
    if (strstr(djson, want_json) == NULL)
        fail_msg("%s: JSON top fields differ\n# daemon: %s# want:   %s", row->name, djson,
                 want_json);
    strbuf_free(&hdr);
    for (i = 0; i < (n > 0 ? n : 1); i++)
        policy_result_free(&res[i]);
    policy_facts_free(&f);
    free(dhdr);
    free(djson);
}

int
main(void)
{
    struct table_tests tt = { 0 };

    TABLE_TEST_ROWS(&tt, summary_rows, name, run_summary);
    return table_test_run(&tt, "summary", summary_setup, summary_teardown);
}
