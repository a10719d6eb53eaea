/*
 * reload.c -- owns the current policy snapshot pointer and the SIGUSR1 thread
 * that replaces it. A new file is parsed with no lock held; the mutex covers
 * only the pointer swap and the reference a new connection takes. Never: frees
 * a snapshot a connection still uses (references do that), never calls libmilter.
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
    struct policy *p, *cur;
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

    /* SIGUSR1 is also logrotate's signal: reopen the JSON log in any case. */
    cur = reload_current();
    if (cur != NULL) {
        const char *path = policy_settings(cur)->log_json;

        if (posture_log_json_open(path) != 0)
            posture_log_msg(LOG_ERR, "cannot open JSON posture log %s: %s", path,
                            strerror(errno));
        policy_unref(cur);
    }
    return rc;
}

static void *
reload_main(void *arg)
{
    sigset_t set;
    int sig;

    (void)arg;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (atomic_load(&reload_quit))
            break;
        (void)reload_now();
    }
    return NULL;
}

int
reload_start(void)
{
    sigset_t all, old;
    int rc;

    /* The thread inherits a mask with every signal blocked: SIGTERM, SIGINT and
     * SIGHUP belong to libmilter's signal thread, and a thread started before
     * smfi_main() that let them through would take their default action and
     * kill the process without a clean stop. */
    sigfillset(&all);
    if ((rc = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0)
        return rc;
    atomic_store(&reload_quit, false);
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
