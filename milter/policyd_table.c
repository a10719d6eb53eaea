/*
 * policyd_table.c -- the records of Postfix policy requests, waiting for the
 * milter RCPT of the same connection, sender and recipient. One mutex, held for
 * a hash-chain walk; records leave when taken, when their connection's 4-tuple
 * connects again, when older than the age bound, or (oldest first) when the
 * table is full. Never: blocks a milter thread on anything but that mutex,
 * logs (the callers do), or matches on anything weaker than the 4-tuple.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "policyd_table.h"

#define TABLE_BUCKETS 1024u

struct rec {
    struct rec *older, *newer;      /* the table's age order */
    struct rec *bprev, *bnext;      /* hash chain */
    struct policyd_key key;
    time_t stored;                  /* CLOCK_MONOTONIC seconds */
    unsigned bucket;
    char *sender, *rcpt, *fp, *pkfp;
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rec *table_oldest, *table_newest;
static struct rec *table_bucket[TABLE_BUCKETS];
static size_t table_max = 4096;
static unsigned table_max_age = 60;
static struct policyd_table_stats table_st;

static time_t
table_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* FNV-1a over the key's bytes that matter. */
static unsigned
table_hash(const struct policyd_key *k)
{
    uint32_t h = 2166136261u;
    unsigned char b[36];

    memcpy(b, k->client_ip, 16);
    memcpy(b + 16, k->server_ip, 16);
    b[32] = (unsigned char)(k->client_port >> 8);
    b[33] = (unsigned char)k->client_port;
    b[34] = (unsigned char)(k->server_port >> 8);
    b[35] = (unsigned char)k->server_port;
    for (size_t i = 0; i < sizeof b; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h % TABLE_BUCKETS;
}

static void
rec_free(struct rec *r)
{
    free(r->sender);
    free(r->rcpt);
    free(r->fp);
    free(r->pkfp);
    free(r);
}

/* Unlink r from both lists and free it (lock held). */
static void
table_unlink(struct rec *r)
{
    if (r->older != NULL)
        r->older->newer = r->newer;
    else
        table_oldest = r->newer;
    if (r->newer != NULL)
        r->newer->older = r->older;
    else
        table_newest = r->older;
    if (r->bprev != NULL)
        r->bprev->bnext = r->bnext;
    else
        table_bucket[r->bucket] = r->bnext;
    if (r->bnext != NULL)
        r->bnext->bprev = r->bprev;
    table_st.entries--;
    rec_free(r);
}

/* Drop what is too old (lock held). */
static void
table_expire(time_t now)
{
    while (table_oldest != NULL && now - table_oldest->stored > (time_t)table_max_age) {
        table_unlink(table_oldest);
        table_st.dropped_age++;
    }
}

int
policyd_table_init(size_t max_entries, unsigned max_age)
{
    if (max_entries == 0 || max_age == 0)
        return -1;
    pthread_mutex_lock(&table_lock);
    table_max = max_entries;
    table_max_age = max_age;
    pthread_mutex_unlock(&table_lock);
    return 0;
}

void
policyd_table_clear(void)
{
    pthread_mutex_lock(&table_lock);
    while (table_oldest != NULL)
        table_unlink(table_oldest);
    pthread_mutex_unlock(&table_lock);
}

static char *
dup_or_empty(const char *s)
{
    return strdup(s != NULL ? s : "");
}

int
policyd_table_put(const struct policyd_key *k, const struct policyd_req *q)
{
    struct rec *r = calloc(1, sizeof *r);

    if (r == NULL)
        return -1;
    r->key = *k;
    r->bucket = table_hash(k);
    r->sender = dup_or_empty(q->sender);
    r->rcpt = dup_or_empty(q->recipient);
    r->fp = dup_or_empty(q->ccert_fingerprint);
    r->pkfp = dup_or_empty(q->ccert_pubkey_fingerprint);
    if (r->sender == NULL || r->rcpt == NULL || r->fp == NULL || r->pkfp == NULL) {
        rec_free(r);
        return -1;
    }
    pthread_mutex_lock(&table_lock);
    r->stored = table_now();
    table_expire(r->stored);
    while (table_st.entries >= table_max && table_oldest != NULL) {
        table_unlink(table_oldest);
        table_st.dropped_full++;
    }
    r->older = table_newest;
    if (table_newest != NULL)
        table_newest->newer = r;
    else
        table_oldest = r;
    table_newest = r;
    r->bnext = table_bucket[r->bucket];
    if (r->bnext != NULL)
        r->bnext->bprev = r;
    table_bucket[r->bucket] = r;
    table_st.entries++;
    table_st.stored++;
    pthread_mutex_unlock(&table_lock);
    return 0;
}

void
policyd_table_forget(const struct policyd_key *k)
{
    struct rec *r, *next;

    pthread_mutex_lock(&table_lock);
    for (r = table_bucket[table_hash(k)]; r != NULL; r = next) {
        next = r->bnext;
        if (policyd_key_equal(&r->key, k)) {
            table_unlink(r);
            table_st.dropped_connect++;
        }
    }
    pthread_mutex_unlock(&table_lock);
}

int
policyd_table_take(const struct policyd_key *k, const char *sender, const char *rcpt,
                   char **fp, char **pkfp)
{
    struct rec *r, *best = NULL;
    int rc = 0;

    *fp = *pkfp = NULL;
    pthread_mutex_lock(&table_lock);
    table_expire(table_now());
    /* chains are newest first: the first match is the newest record */
    for (r = table_bucket[table_hash(k)]; r != NULL && best == NULL; r = r->bnext) {
        /* addresses compare without case: both sides print the same envelope,
         * and the 4-tuple alone already names the connection */
        if (policyd_key_equal(&r->key, k) && strcasecmp(r->sender, sender) == 0 &&
            strcasecmp(r->rcpt, rcpt) == 0)
            best = r;
    }
    if (best == NULL) {
        table_st.missed++;
        goto out;
    }
    /* hand the strings over rather than copy them under the lock */
    *fp = best->fp;
    *pkfp = best->pkfp;
    best->fp = best->pkfp = NULL;
    table_unlink(best);
    table_st.taken++;
    rc = 1;
out:
    pthread_mutex_unlock(&table_lock);
    return rc;
}

void
policyd_table_stats(struct policyd_table_stats *st)
{
    pthread_mutex_lock(&table_lock);
    *st = table_st;
    pthread_mutex_unlock(&table_lock);
}
