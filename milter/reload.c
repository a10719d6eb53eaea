/*
 * reload.c -- owns the current policy snapshot pointer and the daemon's signal
 * thread: SIGUSR1 replaces the snapshot, SIGUSR2 only reopens the JSON log (log
 * rotation must never apply a half-edited connectors file), SIGTERM, SIGINT and
 * SIGHUP call the stop hook main.c gives. A new file is parsed with no lock held;
 * the mutex covers only the pointer swap and the reference a new connection takes.
 * A file is read only once it has stopped changing, and read again when it
 * changed under the parser. Once a day the thread also logs the pinned
 * certificates that are about to expire (the load logged them the first time).
 * Never: frees a snapshot a connection still uses (references do that), never
 * calls libmilter (the stop hook does), applies a file that changed while it
 * was read.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "posture_log.h"
#include "reload.h"

/* A file counts as settled when nothing has written to it for one interval;
 * the wait for that is bounded (2 s), and so are the re-reads of a file that
 * changed while it was parsed. */
#define RELOAD_SETTLE_NS    100000000L
#define RELOAD_SETTLE_STEPS 20
#define RELOAD_READ_TRIES   3
#define RELOAD_PIN_CHECK_S  86400             /* pinned-certificate expiry: daily */

static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;
static struct policy *reload_policy;       /* guarded by reload_lock */
static char *reload_path;                  /* set once before the thread starts */
static pthread_t reload_thread;
static bool reload_started;
static atomic_bool reload_quit;
static void (*reload_stop_hook)(void);     /* set before the thread starts */

int
reload_init(struct policy *p, const char *path)
{
    char *copy = strdup(path);

    if (copy == NULL)
        return -1;
    free(reload_path);
    reload_path = copy;
    reload_swap(p);
    return 0;
}

struct policy *
reload_current(void)
{
    struct policy *p = NULL;

    pthread_mutex_lock(&reload_lock);
    if (reload_policy != NULL)
        p = policy_ref(reload_policy);
    pthread_mutex_unlock(&reload_lock);
    return p;
}

void
reload_swap(struct policy *p)
{
    struct policy *old;

    pthread_mutex_lock(&reload_lock);
    old = reload_policy;
    reload_policy = p;
    pthread_mutex_unlock(&reload_lock);
    /* connections still holding the old snapshot keep it alive */
    policy_unref(old);
}

void
reload_log_diags(const struct policy_diags *d)
{
    size_t i;

    for (i = 0; i < d->n; i++) {
        char *s = policy_diag_format(&d->v[i]);

        posture_log_msg(d->v[i].severity == POLICY_SEV_ERROR ? LOG_ERR : LOG_WARNING, "%s",
                        s != NULL ? s : "(out of memory formatting a diagnostic)");
        free(s);
    }
}

/* What says a file changed: another file renamed over it (device, inode), or
 * a write (size, mtime to the nanosecond). */
struct reload_stamp {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

static int
reload_stamp_of(const char *path, struct reload_stamp *st)
{
    struct stat sb;

    /* stat, not lstat: a symlink swapped by configuration management is
     * followed again at each reload (main.c) */
    if (stat(path, &sb) != 0)
        return -1;
    st->dev = sb.st_dev;
    st->ino = sb.st_ino;
    st->size = sb.st_size;
    st->mtime = sb.st_mtim;
    return 0;
}

static bool
reload_stamp_eq(const struct reload_stamp *a, const struct reload_stamp *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Nanoseconds from ts to now (negative when ts lies ahead, as a clock step
 * can make it). */
static long long
reload_age_ns(const struct timespec *ts)
{
    struct timespec now;

    clock_gettime(CLOCK_REALTIME, &now);
    return (long long)(now.tv_sec - ts->tv_sec) * 1000000000LL + (now.tv_nsec - ts->tv_nsec);
}

/* Wait (at most RELOAD_SETTLE_STEPS intervals) until path has not been written
 * for one whole interval: its mtime lies at least an interval back. Any write
 * moves the mtime, so an old mtime is the same proof as two equal stats an
 * interval apart, and costs no sleep for a file written long ago. A mtime in
 * the future (clock step, copied with -p) falls back to two equal stats.
 * 0 with the stamp it settled on, 1 when it kept changing, -1 when stat failed. */
static int
reload_wait_settled(const char *path, struct reload_stamp *out)
{
    struct timespec step = { 0, RELOAD_SETTLE_NS };
    struct reload_stamp prev, cur;
    int i;

    if (reload_stamp_of(path, &prev) != 0)
        return -1;
    if (reload_age_ns(&prev.mtime) >= RELOAD_SETTLE_NS) {
        *out = prev;
        return 0;
    }
    for (i = 0; i < RELOAD_SETTLE_STEPS; i++) {
        nanosleep(&step, NULL);
        if (reload_stamp_of(path, &cur) != 0)
            return -1;
        if (reload_stamp_eq(&prev, &cur) && (reload_age_ns(&cur.mtime) >= RELOAD_SETTLE_NS ||
                                             reload_age_ns(&cur.mtime) < 0)) {
            *out = cur;
            return 0;
        }
        prev = cur;
    }
    return 1;
}

/* Load path once it has settled, and again (RELOAD_READ_TRIES in all) when it
 * changed while it was parsed: an in-place rewrite must never be applied half
 * written. NULL when it cannot be read, has errors, or would not hold still;
 * each case is logged. */
static struct policy *
reload_load_settled(const char *path)
{
    struct policy_diags d;
    struct reload_stamp before, after;
    struct policy *p = NULL;
    int tries, w;

    for (tries = 0; tries < RELOAD_READ_TRIES; tries++) {
        if ((w = reload_wait_settled(path, &before)) > 0) {
            posture_log_msg(LOG_ERR, "%s is still being written after %ld ms; not reading "
                            "it (write a temporary file and rename it over the old one)",
                            path, RELOAD_SETTLE_STEPS * (RELOAD_SETTLE_NS / 1000000));
            return NULL;
        }
        /* w < 0: let policy_load report the missing or unreadable file */
        policy_diags_init(&d);
        p = policy_load(path, &d);
        if (w == 0 && (reload_stamp_of(path, &after) != 0 || !reload_stamp_eq(&before, &after))) {
            policy_diags_free(&d);
            policy_unref(p);
            p = NULL;
            posture_log_msg(LOG_WARNING, "%s changed while it was read; reading it again",
                            path);
            continue;
        }
        reload_log_diags(&d);
        policy_diags_free(&d);
        return p;
    }
    posture_log_msg(LOG_ERR, "%s changed every time it was read (%d times); not applying "
                    "it (write a temporary file and rename it over the old one)", path,
                    RELOAD_READ_TRIES);
    return NULL;
}

int
reload_now(void)
{
    struct policy *p;
    int rc = -1;

    if (reload_path == NULL)
        return -1;
    p = reload_load_settled(reload_path);
    if (p == NULL) {
        posture_log_msg(LOG_ERR, "reload of %s failed, keeping the previous policy",
                        reload_path);
    } else {
        posture_log_msg(LOG_INFO, "reloaded %s: %zu connectors", reload_path,
                        policy_connector_count(p));
        reload_swap(p);
        rc = 0;
    }
    /* the new file may name another JSON log */
    reload_reopen_log();
    return rc;
}

void
reload_reopen_log(void)
{
    struct policy *cur = reload_current();

    if (cur != NULL) {
        struct strbuf why;

        strbuf_init(&why);
        if (posture_log_json_open(policy_settings(cur), &why) != 0)
            posture_log_msg(LOG_ERR, "%s; keeping the previous JSON posture log",
                            why.oom ? "cannot open the JSON posture log" : strbuf_str(&why));
        strbuf_free(&why);
        policy_unref(cur);
    }
}

void
reload_sigset(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIGUSR2);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGHUP);
}

/* The same warnings check and the loader give, so the log says it every day
 * until someone pins the renewed certificate. */
static void
reload_pin_expiry(void)
{
    struct policy *cur = reload_current();
    struct policy_diags d;

    if (cur == NULL)
        return;
    policy_diags_init(&d);
    if (policy_pins_expiry_check(cur, (int64_t)time(NULL), &d) < 0)
        posture_log_msg(LOG_ERR, "out of memory checking the expiry of pinned certificates");
    reload_log_diags(&d);
    policy_diags_free(&d);
    policy_unref(cur);
}

static time_t
reload_monotonic_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void *
reload_main(void *arg)
{
    sigset_t set;
    bool stopping = false;
    int sig;
    /* monotonic: a clock step must neither skip a day nor repeat one at once */
    time_t next_pin_check = reload_monotonic_s() + RELOAD_PIN_CHECK_S;

    (void)arg;
    reload_sigset(&set);
    for (;;) {
        struct timespec wait = { 0, 0 };
        time_t now = reload_monotonic_s();

        if (now >= next_pin_check) {
            reload_pin_expiry();
            next_pin_check = now + RELOAD_PIN_CHECK_S;
        }
        wait.tv_sec = next_pin_check - now;
        /* -1 is the timeout (EAGAIN) or an interruption: both go round again */
        if ((sig = sigtimedwait(&set, NULL, &wait)) < 0)
            continue;
        if (atomic_load(&reload_quit))
            break;
        switch (sig) {
        case SIGUSR1:
            (void)reload_now();
            break;
        case SIGUSR2:
            posture_log_msg(LOG_INFO, "SIGUSR2: reopening the JSON posture log");
            reload_reopen_log();
            break;
        default:
            /* SIGHUP too: libmilter has always stopped on it, and an admin who
             * sends it expecting a reload must not get a half-stopped daemon. */
            if (!stopping && reload_stop_hook != NULL) {
                stopping = true;
                posture_log_msg(LOG_INFO, "signal %d: stopping", sig);
                reload_stop_hook();
            }
            break;
        }
    }
    return NULL;
}

int
reload_start(void (*stop_hook)(void))
{
    sigset_t all, old;
    int rc;

    /* The thread inherits a mask with every signal blocked and takes its own
     * signals with sigwait(); a thread that let SIGTERM through would take its
     * default action and kill the process without a clean stop. */
    sigfillset(&all);
    if ((rc = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0)
        return rc;
    atomic_store(&reload_quit, false);
    reload_stop_hook = stop_hook;
    rc = pthread_create(&reload_thread, NULL, reload_main, NULL);
    if (rc == 0)
        reload_started = true;
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

void
reload_shutdown(void)
{
    if (reload_started) {
        /* wake the sigwait() with the signal it waits for */
        atomic_store(&reload_quit, true);
        pthread_kill(reload_thread, SIGUSR1);
        pthread_join(reload_thread, NULL);
        reload_started = false;
    }
    reload_swap(NULL);
    free(reload_path);
    reload_path = NULL;
}
