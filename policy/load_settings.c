/*
 * load_settings.c -- reads the top of the connectors file: the one document, its
 * top-level mapping, version, settings (paths resolved against the file's
 * directory, with the marks that later errors point at) and defaults; the
 * connectors list is handed to load_connector.c.
 * Never: opens a path it reads (policy_load.c loads the trust store after
 * reading) or includes yaml.h.
 */
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "load_int.h"
#include "load_values.h"

static const char *const settings_keys[] = {
    "mode", "trust_store", "intermediates", "header", "authserv_id", "log_json", "on_error",
    "hostname", "log_json_chain", "on_log_error", "pin_expiry_warn_days",
};
enum { SK_MODE, SK_TRUST, SK_INTER, SK_HEADER, SK_AUTHSERV, SK_LOG, SK_ON_ERROR,
       SK_HOSTNAME, SK_CHAIN, SK_ON_LOG_ERROR, SK_PIN_DAYS, SK_N };
static const struct section settings_sec = {
    "settings", settings_keys, SK_N,
    "mode, trust_store, intermediates, header, authserv_id, log_json, on_error, "
    "hostname, log_json_chain, on_log_error, pin_expiry_warn_days", NULL, NULL,
};

/* Replace *dst with a string read here (and checked). */
static int
read_setting_str(struct rd *r, const char *what, const char *(*check)(const char *),
                 const char *expected_noun, bool resolve, char **dst, struct load_mark *vm)
{
    char *s = NULL;
    const char *why;
    int rc = load_str(r, what, &s, vm);

    if (rc != RD_OK)
        return rc;
    if (check != NULL && (why = check(s)) != NULL) {
        err_at(r, *vm, "%s: '%s' is not %s (expected %s)", what, load_q(r, s), expected_noun, why);
        free(s);
        return RD_BAD;
    }
    if (resolve && s[0] != '\0') {
        char *abs = load_resolve_path(r->base_dir, s);
        free(s);
        if ((s = abs) == NULL) {
            load_oom(r);
            return RD_FATAL;
        }
    }
    free(*dst);
    *dst = s;
    return RD_OK;
}

/* The analyzer excuse of analyzer.h: r->inter_mark and p->intermediates are
 * freed by policy_load_buffer and policy_free_internal, in other files. */
ANALYZER_ARRAYS_BEGIN
static int
load_settings(struct rd *r)
{
    struct policy *p = r->p;
    unsigned first[SK_N] = { 0 };
    struct load_mark vm, km;
    int rc = load_enter_map(r, "settings", &vm), k, one, e;

    if (rc != RD_OK)
        return rc;
    while ((k = load_next_key(r, &settings_sec, first, &km, &rc)) >= 0) {
        struct strlist l = { 0 };

        switch (k) {
        case SK_MODE:
            e = POLICY_MODE_ENFORCE;
            one = load_enum(r, "mode", policy_mode_parse, "enforce or monitor", &e, &vm);
            p->settings.mode = (enum policy_mode)e;
            break;
        case SK_TRUST:
            one = read_setting_str(r, "trust_store", load_check_path, "a path", true,
                                   &p->trust_store_path, &vm);
            if (one == RD_OK) {
                r->have_trust = true;
                r->trust_mark = vm;
            }
            break;
        case SK_INTER:
            one = load_list(r, "intermediates", "a PEM file name", load_check_path, true, &l);
            if (one == RD_OK && l.n > 0) {
                p->intermediates = calloc(l.n, sizeof(char *));
                r->inter_mark = calloc(l.n, sizeof(struct load_mark));
                if (p->intermediates == NULL || r->inter_mark == NULL) {
                    load_strlist_free(&l);
                    load_oom(r);
                    return RD_FATAL;
                }
                for (size_t i = 0; i < l.n; i++) {
                    r->inter_mark[i] = l.mark[i];
                    if ((p->intermediates[i] = load_resolve_path(r->base_dir, l.v[i])) == NULL) {
                        load_strlist_free(&l);
                        load_oom(r);
                        return RD_FATAL;
                    }
                    p->nintermediates++;
                }
            }
            load_strlist_free(&l);
            break;
        case SK_HEADER:
            one = read_setting_str(r, "header", load_check_header, "a header field name the daemon may own",
                                   false,
                                   &p->header, &vm);
            break;
        case SK_AUTHSERV:
            one = read_setting_str(r, "authserv_id", load_check_authserv_id, "an authserv-id", false,
                                   &p->authserv_id, &vm);
            break;
        case SK_LOG:
            one = read_setting_str(r, "log_json", NULL, NULL, true, &p->log_json, &vm);
            break;
        case SK_ON_ERROR:
            e = POLICY_ON_ERROR_TEMPFAIL;
            one = load_enum(r, "on_error", load_parse_on_error, "tempfail or accept", &e, &vm);
            p->settings.on_error = (enum policy_on_error)e;
            break;
        case SK_HOSTNAME:
            one = read_setting_str(r, "hostname", load_check_hostname, "a host name",
                                   false, &p->hostname, &vm);
            break;
        case SK_CHAIN:
            one = load_bool(r, "log_json_chain", &p->settings.log_json_chain, &vm);
            break;
        case SK_ON_LOG_ERROR:
            e = POLICY_ON_LOG_ERROR_TEMPFAIL;
            one = load_enum(r, "on_log_error", load_parse_on_log_error, "tempfail or continue",
                            &e, &vm);
            p->settings.on_log_error = (enum policy_on_log_error)e;
            break;
        case SK_PIN_DAYS: {
            long days = 0;

            one = load_int(r, "pin_expiry_warn_days", 0, 3650, &days, &vm);
            if (one == RD_OK)
                p->pin_expiry_warn_days = (int)days;
            break;
        }
        default:
            one = RD_FATAL;
            break;
        }
        if (!load_fold(&rc, one))
            return RD_FATAL;
    }
    return k == KEY_FATAL ? RD_FATAL : rc;
}
ANALYZER_ARRAYS_END

static const char *const defaults_keys[] = { "require", "on_fail" };
static const struct section defaults_sec = {
    "defaults", defaults_keys, 2, "require, on_fail", "match",
    "match is not allowed in defaults (defaults apply to the mail that no connector "
    "matches; expected one of: require, on_fail)",
};

static int
load_defaults(struct rd *r)
{
    unsigned first[2] = { 0 };
    struct load_mark vm, km;
    int rc = load_enter_map(r, "defaults", &vm), k, one, e;

    if (rc != RD_OK)
        return rc;
    while ((k = load_next_key(r, &defaults_sec, first, &km, &rc)) >= 0) {
        if (k == 0) {
            one = load_require(r, &r->p->default_require);
        } else {
            e = POLICY_ACTION_TAG;
            one = load_enum(r, "on_fail", policy_action_parse,
                            "reject, tempfail, quarantine, tag or accept", &e, &vm);
            r->p->default_on_fail = (enum policy_action)e;
        }
        if (!load_fold(&rc, one))
            return RD_FATAL;
    }
    return k == KEY_FATAL ? RD_FATAL : rc;
}

/* ---------------------------------------------------------------- top level */

static const char *const top_keys[] = { "version", "settings", "defaults", "connectors",
                                         "outbound" };
enum { TK_VERSION, TK_SETTINGS, TK_DEFAULTS, TK_CONNECTORS, TK_OUTBOUND, TK_N };
static const struct section top_sec = {
    "the top level", top_keys, TK_N, "version, settings, defaults, connectors, outbound",
    NULL, NULL,
};

static int
read_version(struct rd *r)
{
    struct load_event *e = load_yaml_peek(r);

    if (e == NULL)
        return RD_FATAL;
    r->version_mark = e->mark;
    if (e->type != LOAD_EV_SCALAR || load_is_null(e))
        return load_wrong_node(r, "version", "1");
    if (load_is_plain(e) && strcmp(load_sval(e), "1") == 0) {
        load_yaml_advance(r);
        return RD_OK;
    }
    if (!load_is_plain(e))
        err_at(r, e->mark, "version: '%s' is quoted (expected the number 1 without quotes)",
               load_q(r, load_sval(e)));
    else
        err_at(r, e->mark, "version: '%s' is not a supported schema version (expected 1)",
           load_q(r, load_sval(e)));
    /* Another version may mean another schema: its other keys would only add noise. */
    r->fatal = true;
    return RD_FATAL;
}

static int
load_top(struct rd *r)
{
    unsigned first[TK_N] = { 0 };
    struct load_mark start, km;
    int k, one, rc = RD_OK;

    start = r->ev.mark;
    load_yaml_advance(r);
    /* A wrong key marks rc bad like any other problem; load_stream only looks
     * for RD_FATAL, and the error itself was reported. */
    while ((k = load_next_key(r, &top_sec, first, &km, &rc)) >= 0) {
        switch (k) {
        case TK_VERSION:
            one = read_version(r);
            break;
        case TK_SETTINGS:
            r->have_settings = true;
            r->settings_mark = km;
            one = load_settings(r);
            break;
        case TK_DEFAULTS:
            one = load_defaults(r);
            break;
        case TK_CONNECTORS:
            one = load_connectors(r);
            break;
        case TK_OUTBOUND:
            one = load_outbound(r);
            break;
        default:
            one = RD_FATAL;
            break;
        }
        if (!load_fold(&rc, one))
            return RD_FATAL;
    }
    if (k == KEY_FATAL)
        return RD_FATAL;
    if (first[TK_VERSION] == 0) {
        err_at(r, start, "missing version (expected 'version: 1' at the top of the file)");
        rc = RD_BAD;
    }
    return rc;
}

/* The stream: exactly one document whose root is a mapping. */
void
load_stream(struct rd *r)
{
    struct load_event *e;

    if (load_yaml_peek(r) == NULL)
        return;
    load_yaml_advance(r);                       /* STREAM-START */
    if ((e = load_yaml_peek(r)) == NULL)
        return;
    if (e->type == LOAD_EV_STREAM_END) {
        err_at(r, e->mark, "the file is empty (expected a mapping starting with "
               "'version: 1')");
        return;
    }
    load_yaml_advance(r);                       /* DOCUMENT-START */
    if ((e = load_yaml_peek(r)) == NULL)
        return;
    if (e->type != LOAD_EV_MAP_START) {
        err_at(r, e->mark, "the file holds %s (expected a mapping starting with "
               "'version: 1')", load_value_kind(e));
        r->fatal = true;
        return;
    }
    if (load_top(r) == RD_FATAL)
        return;
    if (load_yaml_peek(r) == NULL)
        return;
    load_yaml_advance(r);                       /* DOCUMENT-END */
    if ((e = load_yaml_peek(r)) == NULL)
        return;
    if (e->type == LOAD_EV_DOC_START) {
        err_at(r, e->mark, "a second YAML document (expected exactly one document; "
               "remove the '---' and what follows)");
        r->fatal = true;
    }
}
