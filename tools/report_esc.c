/*
 * report_esc.c -- the report's escapers: every string that came from a record
 * (connector, certificate names, reasons, queue ids, hosts, file names) goes
 * through one of these before it reaches the terminal, a CSV cell or HTML. JSON
 * output uses json_write (esc.c).
 * Never: writes a control byte, DEL or a byte outside well-formed UTF-8 as is.
 */
#include <string.h>

#include "esc.h"
#include "report.h"

/* Walk s: well-formed printable text goes to put(), everything else becomes \xNN. */
static void
report_esc_walk(FILE *fp, const char *s, void (*put)(FILE *, unsigned char))
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, u, k;

    while (i < n) {
        unsigned char c = p[i];

        if (c >= 0x20 && c < 0x7F) {
            put(fp, c);
            i++;
        } else if (c >= 0x80 && (u = esc_utf8_len(p + i, n - i)) > 0) {
            for (k = 0; k < u; k++)
                fputc(p[i + k], fp);
            i += u;
        } else {
            fprintf(fp, "\\x%02X", c);
            i++;
        }
    }
}

static void
report_put_term(FILE *fp, unsigned char c)
{
    if (c == '\\')
        fputs("\\\\", fp);
    else
        fputc(c, fp);
}

static void
report_put_csv(FILE *fp, unsigned char c)
{
    if (c == '"')
        fputs("\"\"", fp);
    else
        fputc(c, fp);
}

static void
report_put_html(FILE *fp, unsigned char c)
{
    switch (c) {
    case '&':  fputs("&amp;", fp); break;
    case '<':  fputs("&lt;", fp); break;
    case '>':  fputs("&gt;", fp); break;
    case '"':  fputs("&quot;", fp); break;
    case '\'': fputs("&#39;", fp); break;
    default:   fputc(c, fp); break;
    }
}

void
report_esc_term(FILE *fp, const char *s)
{
    report_esc_walk(fp, s, report_put_term);
}

void
report_esc_csv(FILE *fp, const char *s)
{
    fputc('"', fp);
    if (strchr("=+-@", s[0]) != NULL && s[0] != '\0')
        fputc('\'', fp);
    report_esc_walk(fp, s, report_put_csv);
    fputc('"', fp);
}

void
report_esc_html(FILE *fp, const char *s)
{
    report_esc_walk(fp, s, report_put_html);
}
