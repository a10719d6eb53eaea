/*
 * reload.c -- owns the current policy snapshot pointer and the daemon's signal
 * thread: SIGUSR1 replaces the snapshot, SIGUSR2 only reopens the JSON log (log
 * rotation must never apply a half-edited connectors file), SIGTERM, SIGINT and
 * SIGHUP call the stop hook main.c gives. A new file is parsed with no lock held;
 * the mutex covers only the pointer swap and the reference a new connection takes.
 * Never: frees a snapshot a connection still uses (references do that), never
 * calls libmilter (the stop hook does).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "posture_log.h"
#include "reload.h"

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

int
reload_now(void)
{
    struct policy_diags d;
    struct policy *p;
    int rc = -1;

    if (reload_path == NULL)
        return -1;
    policy_diags_init(&d);
    p = policy_load(reload_path, &d);
    reload_log_diags(&d);
    if (p == NULL) {
        posture_log_msg(LOG_ERR, "reload of %s failed, keeping the previous policy",
                        reload_path);
    } else {
        posture_log_msg(LOG_INFO, "reloaded %s: %zu connectors", reload_path,
                        policy_connector_count(p));
        reload_swap(p);
        rc = 0;
    }
    policy_diags_free(&d);
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
        if (posture_log_json_open(policy_settings(cur)->log_json, &why) != 0)
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

static void *
reload_main(void *arg)
{
    sigset_t set;
    bool stopping = false;
    int sig;

    (void)arg;
    reload_sigset(&set);
    for (;;) {
        if (sigwait(&set, &sig) != 0)
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
