/*
 * export_check.c -- reads a generated Postfix TLS policy table back, line by
 * line, against what Postfix 3.7 accepts: Postfix itself does not (a misspelt
 * attribute passes postmap and the map loader, then defers the whole domain
 * with "client TLS configuration problem"; protocols=>=TLSv1.4 fails only at
 * the handshake), so the exporter must not hand it such a line.
 * Never: accepts an attribute or value the exporter does not mean to write;
 * a new attribute is added here and in export_postfix.c together.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "export_mta.h"
#include "strfmt.h"

static bool
one_of(const char *v, const char *const *set)
{
    for (; *set != NULL; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

static bool
name_chars(const char *s, const char *extra)
{
    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || strchr(extra, *s) != NULL))
            return false;
    return true;
}

/* A tafile must hold at least one certificate, or Postfix trusts nothing there. */
static bool
pem_file_ok(const char *path)
{
    FILE *fp;
    X509 *x;

    if (path[0] != '/' || (fp = fopen(path, "re")) == NULL)
        return false;
    x = PEM_read_X509(fp, NULL, NULL, NULL);
    fclose(fp);
    ERR_clear_error();
    X509_free(x);
    return x != NULL;
}

static char *
check_value(char *v)
{
    static const char *const levels[] = { "may", "encrypt", "secure", NULL };
    static const char *const protocols[] = { ">=TLSv1", ">=TLSv1.1", ">=TLSv1.2", ">=TLSv1.3",
                                             NULL };
    static const char *const ciphers[] = { "high", NULL };
    static const char *const excludes[] = { "kRSA", NULL };
    char *save = NULL, *tok = strtok_r(v, " ", &save);
    bool secure;

    if (tok == NULL || !one_of(tok, levels))
        return strfmt("level '%s' is not may, encrypt or secure", tok ? tok : "");
    secure = strcmp(tok, "secure") == 0;
    while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
        char *eq = strchr(tok, '=');
        const char *val;

        if (eq == NULL)
            return strfmt("'%s' is not name=value", tok);
        *eq = '\0';
        val = eq + 1;
        if (strcmp(tok, "protocols") == 0 ? !one_of(val, protocols)
            : strcmp(tok, "ciphers") == 0 ? !one_of(val, ciphers)
            : strcmp(tok, "exclude") == 0 ? !one_of(val, excludes)
            : strcmp(tok, "match") == 0 ? !secure || !name_chars(val, ".-:")
            : strcmp(tok, "tafile") == 0 ? !secure || !pem_file_ok(val)
            : true)
            return strfmt("attribute '%s=%s' is not one Postfix 3.7 takes here", tok, val);
    }
    return NULL;
}

char *
export_postfix_check(const char *table)
{
    const char *line = table;
    char *prev = NULL;
    unsigned lineno = 0;

    while (*line != '\0') {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *copy = strndup(line, len), *tab, *why = NULL;

        lineno++;
        if (copy == NULL)
            return strfmt("out of memory");
        if (copy[0] != '#' && copy[0] != '\0') {
            if ((tab = strchr(copy, '\t')) == NULL)
                why = strfmt("no tab between key and value");
            else {
                *tab = '\0';
                /* Sorted: a key given twice sits next to itself. */
                if (prev != NULL && strcmp(prev, copy) == 0)
                    why = strfmt("key '%s' is given twice", copy);
                else if (!(name_chars(copy, ".-") ||
                      (copy[0] == '[' && name_chars(copy + 1, ".-:[]"))))
                    why = strfmt("key '%s' is not a domain, .domain or [host]:port", copy);
                else
                    why = check_value(tab + 1);
            }
        }
        if (copy[0] != '#' && copy[0] != '\0') {
            free(prev);
            prev = copy;
        } else {
            free(copy);
        }
        if (why != NULL) {
            free(prev);
            char *m = strfmt("line %u: %s", lineno, why);
            free(why);
            return m;
        }
        line += len + (nl != NULL);
    }
    free(prev);
    return NULL;
}
