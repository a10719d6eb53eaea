/*
 * load_yaml.c -- the loader's only contact with libyaml: parses the connectors
 * file event by event on demand, refuses anchors, aliases, tags and nesting
 * deeper than the schema can use, and hands out struct load_event.
 * Never: lets yaml.h out of this file (it is the only file that includes it),
 * reads ahead more than one event, or interprets a value.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "load_int.h"

/*
 * The schema nests at most five levels (top, connectors, connector, require,
 * a list), so 64 is never reached by a real file. libyaml's cost per event grows
 * with the depth (64,000 levels took 25.8 s), so the limit is enforced on each
 * collection start, as it is parsed, before any deeper event is asked for.
 */
#define LOAD_MAX_DEPTH 64

struct load_yaml {
    yaml_parser_t parser;
    yaml_event_t ev;
    bool have_ev;                 /* ev holds the event behind rd.ev */
    unsigned depth;               /* open mappings and lists */
};

static struct load_mark
mark_of(yaml_mark_t m)
{
    return (struct load_mark){ (unsigned)m.line + 1, (unsigned)m.column + 1 };
}

struct load_yaml *
load_yaml_open(const char *buf, size_t len)
{
    struct load_yaml *y = calloc(1, sizeof(*y));

    if (y == NULL)
        return NULL;
    if (!yaml_parser_initialize(&y->parser)) {
        free(y);
        return NULL;
    }
    /* libyaml asserts on a NULL input, even an empty one. */
    yaml_parser_set_input_string(&y->parser, (const unsigned char *)(buf ? buf : ""),
                                 buf ? len : 0);
    return y;
}

void
load_yaml_close(struct load_yaml *y)
{
    if (y == NULL)
        return;
    if (y->have_ev)
        yaml_event_delete(&y->ev);
    yaml_parser_delete(&y->parser);
    free(y);
}

static enum load_ev
kind_of(yaml_event_type_t t)
{
    switch (t) {
    case YAML_SCALAR_EVENT:
        return LOAD_EV_SCALAR;
    case YAML_SEQUENCE_START_EVENT:
        return LOAD_EV_SEQ_START;
    case YAML_SEQUENCE_END_EVENT:
        return LOAD_EV_SEQ_END;
    case YAML_MAPPING_START_EVENT:
        return LOAD_EV_MAP_START;
    case YAML_MAPPING_END_EVENT:
        return LOAD_EV_MAP_END;
    case YAML_STREAM_END_EVENT:
        return LOAD_EV_STREAM_END;
    case YAML_DOCUMENT_START_EVENT:
        return LOAD_EV_DOC_START;
    default:
        return LOAD_EV_OTHER;
    }
}

/* Anchors, aliases, tags and depth are refused here, once, for every node of
 * the file. */
struct load_event *
load_yaml_peek(struct rd *r)
{
    struct load_yaml *y = r->yaml;
    yaml_event_t *e = &y->ev;
    const yaml_char_t *anchor = NULL, *tag = NULL;

    if (r->fatal)
        return NULL;
    if (r->have)
        return &r->ev;
    if (!yaml_parser_parse(&y->parser, e)) {
        /* Reported once by load_yaml_report, which also drops what was said
         * about the file before the error. */
        if (y->parser.error == YAML_MEMORY_ERROR)
            load_oom(r);
        r->fatal = true;
        return NULL;
    }
    y->have_ev = true;
    r->have = true;
    r->ev = (struct load_event){ kind_of(e->type), mark_of(e->start_mark), NULL, 0, false };
    switch (e->type) {
    case YAML_ALIAS_EVENT:
        err_at(r, r->ev.mark, "anchors and aliases are not supported (found alias '*%s')",
               load_q(r, (const char *)e->data.alias.anchor));
        r->fatal = true;
        return NULL;
    case YAML_SCALAR_EVENT:
        anchor = e->data.scalar.anchor;
        tag = e->data.scalar.tag;
        r->ev.value = (const char *)e->data.scalar.value;
        r->ev.length = e->data.scalar.length;
        r->ev.plain = e->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        break;
    case YAML_SEQUENCE_START_EVENT:
        anchor = e->data.sequence_start.anchor;
        tag = e->data.sequence_start.tag;
        y->depth++;
        break;
    case YAML_MAPPING_START_EVENT:
        anchor = e->data.mapping_start.anchor;
        tag = e->data.mapping_start.tag;
        y->depth++;
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        y->depth--;
        break;
    default:
        break;
    }
    if (anchor != NULL) {
        err_at(r, r->ev.mark, "anchors and aliases are not supported (found anchor '&%s')",
               load_q(r, (const char *)anchor));
        r->fatal = true;
        return NULL;
    }
    if (tag != NULL) {
        err_at(r, r->ev.mark, "YAML tags are not supported (found tag '%s'; write the value "
               "without a tag)", load_q(r, (const char *)tag));
        r->fatal = true;
        return NULL;
    }
    if (y->depth > LOAD_MAX_DEPTH) {
        err_at(r, r->ev.mark, "%s nested %u levels deep (expected at most %d levels; the "
               "schema needs 5)", load_event_kind(&r->ev), y->depth, LOAD_MAX_DEPTH);
        r->fatal = true;
        return NULL;
    }
    return &r->ev;
}

void
load_yaml_advance(struct rd *r)
{
    if (r->have) {
        yaml_event_delete(&r->yaml->ev);
        r->yaml->have_ev = false;
        r->have = false;
    }
}

int
load_yaml_skip_node(struct rd *r)
{
    int depth = 0;
    do {
        struct load_event *e = load_yaml_peek(r);
        if (e == NULL)
            return RD_FATAL;
        switch (e->type) {
        case LOAD_EV_SEQ_START:
        case LOAD_EV_MAP_START:
            depth++;
            break;
        case LOAD_EV_SEQ_END:
        case LOAD_EV_MAP_END:
            depth--;
            break;
        default:
            break;
        }
        load_yaml_advance(r);
    } while (depth > 0);
    return RD_BAD;
}

/* libyaml's reader (encoding) errors carry a byte offset instead of a mark. */
static yaml_mark_t
mark_of_offset(const char *buf, size_t len, size_t off)
{
    yaml_mark_t m = { 0, 0, 0 };

    for (size_t i = 0; i < off && i < len; i++) {
        if (buf[i] == '\n') {
            m.line++;
            m.column = 0;
        } else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
            m.column++;
        }
    }
    m.index = off;
    return m;
}

void
load_yaml_report(struct rd *r, const char *buf, size_t len, size_t first_diag)
{
    const yaml_parser_t *ps;
    const char *problem;
    struct load_mark pm, cm;

    if (r->yaml == NULL || !r->fatal || r->yaml->parser.error == YAML_NO_ERROR ||
        r->yaml->parser.error == YAML_MEMORY_ERROR)
        return;
    /* A syntax error makes everything said before it about this file moot. */
    load_diags_truncate(r->diags, first_diag);
    ps = &r->yaml->parser;
    problem = ps->problem ? ps->problem : "malformed";
    pm = mark_of(ps->problem_mark);
    cm = mark_of(ps->context_mark);
    if (ps->error == YAML_READER_ERROR) {
        struct load_mark m = mark_of(mark_of_offset(buf, len, ps->problem_offset));

        err_at(r, m, "YAML syntax error: %s (the file must be UTF-8 text)", problem);
    } else if (ps->context != NULL) {
        err_at(r, pm, "YAML syntax error: %s (%s started at line %u, column %u)",
               problem, ps->context, cm.line, cm.column);
    } else {
        err_at(r, pm, "YAML syntax error: %s", problem);
    }
}
