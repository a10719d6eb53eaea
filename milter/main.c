/*
 * main.c -- the milter-tlspolicy daemon: options, config check, socket,
 * privileges, daemonising, pidfile, signals, then smfi_main(). Owns process
 * start-up and shut-down only. Never: handles a message (callbacks.c and
 * session.c do), never keeps running as root unless told to with -R.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <paths.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "callbacks.h"
#include "logq.h"
#include "policyd.h"
#include "posture_log.h"
#include "reload.h"

#define MAIN_DEFAULT_SOCKET "unix:/run/milter-tlspolicy/milter.sock"
#define MAIN_DEFAULT_CONFIG SYSCONFDIR "/milter-tlspolicy/connectors.yaml"
/* Syslog text queued at most: about two seconds of lines at 10,000 messages
 * a second; beyond it callbacks log through syslog(3) themselves. */
#define MAIN_LOGQ_MAX (8u << 20)
/* How long libmilter waits for the MTA's next command before it drops the
 * connection (libmilter's own default is 7210 s). Postfix keeps the milter
 * connection idle for a whole DATA transfer, which can take many minutes on a
 * slow link, so this stays generous; it exists so that leaked or abandoned
 * connections give their descriptors back. */
#define MAIN_DEFAULT_TIMEOUT 1800
#define MAIN_MAX_TIMEOUT 86400
/* The stop hook re-sends the listener's wake-up at this period until the
 * listener has seen the stop (see main_stop). */
#define MAIN_WAKE_NS (50 * 1000 * 1000L)

/* Exit codes (documented in milter-tlspolicy.8). */
enum { MAIN_EXIT_OK = 0, MAIN_EXIT_FAIL = 1, MAIN_EXIT_CONFIG = 2 };

struct main_opts {
    const char *config;
    const char *socket;
    const char *policyd;         /* -d: Postfix policy delegation socket, or NULL */
    const char *user;            /* USER[:GROUP] */
    const char *pidfile;
    bool foreground;
    bool check_only;
    bool verbose;
    bool allow_root;
    int timeout;                 /* -T, seconds */
};

static void
main_usage(FILE *fp)
{
    fprintf(fp, "usage: milter-tlspolicy [-c FILE] [-p SOCKET] [-f] [-u USER[:GROUP]] "
                "[-P PIDFILE] [-T SECONDS] [-d SOCKET] [-n] [-R] [-v] [-V]\n"
                "  -c FILE    connectors file (default %s)\n"
                "  -p SOCKET  unix:/path, local:/path, inet:PORT@HOST, inet6:PORT@HOST\n"
                "             (default %s)\n"
                "  -f         stay in the foreground, log to stderr as well\n"
                "  -u USER[:GROUP]  drop privileges after creating the socket\n"
                "  -P PIDFILE write the process id there\n"
                "  -T SECONDS drop an MTA connection idle that long (default %d)\n"
                "  -d SOCKET  also listen for Postfix policy delegation (unix:/path or\n"
                "             inet:PORT@127.0.0.1), for the certificate fingerprints\n"
                "  -n         check the connectors file and exit (0 good, 2 bad)\n"
                "  -R         allow running as root without -u (not recommended)\n"
                "  -v         more logging\n"
                "  -V         print the version and exit\n",
            MAIN_DEFAULT_CONFIG, MAIN_DEFAULT_SOCKET, MAIN_DEFAULT_TIMEOUT);
}

/* The file system path of a unix socket spec, or NULL for inet sockets. */
static const char *
main_socket_path(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0)
        return spec + 5;
    if (strncmp(spec, "local:", 6) == 0)
        return spec + 6;
    if (spec[0] == '/')
        return spec;
    return NULL;
}

static bool
main_socket_valid(const char *spec)
{
    const char *p = main_socket_path(spec);

    if (p != NULL)
        return p[0] == '/';
    if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0)
        return strchr(spec, ':')[1] >= '0' && strchr(spec, ':')[1] <= '9';
    return false;
}

/* -n: the same output as "tlspolicy check". */
static int
main_check(const char *config)
{
    struct policy_diags d;
    struct policy *p;
    size_t i;
    int rc;

    policy_diags_init(&d);
    p = policy_load(config, &d);
    for (i = 0; i < d.n; i++) {
        char *s = policy_diag_format(&d.v[i]);

        fprintf(stderr, "%s\n", s != NULL ? s : "out of memory");
        free(s);
    }
    rc = MAIN_EXIT_CONFIG;
    if (p != NULL) {
        /* what the daemon would refuse at start-up, as far as it can be told
         * before -u: the owner rule needs the daemon's uid */
        struct strbuf why;

        strbuf_init(&why);
        if (posture_log_json_check(policy_settings(p)->log_json, &why) != 0) {
            fprintf(stderr, "%s: error: %s\n", config,
                    why.oom ? "out of memory" : strbuf_str(&why));
        } else {
            printf("OK: %zu connectors\n", policy_connector_count(p));
            rc = MAIN_EXIT_OK;
        }
        strbuf_free(&why);
    }
    policy_unref(p);
    policy_diags_free(&d);
    return rc;
}

struct main_ids {
    uid_t uid;
    gid_t gid;
    char *name;
};

/* Resolve USER[:GROUP] before anything is created. */
static int
main_lookup_user(const char *spec, struct main_ids *ids)
{
    char *copy = strdup(spec), *colon;
    struct passwd *pw;
    struct group *gr;
    int rc = -1;

    if (copy == NULL) {
        syslog(LOG_ERR, "out of memory");
        return -1;
    }
    colon = strchr(copy, ':');
    if (colon != NULL)
        *colon++ = '\0';
    /* Not reentrant, and need not be: this runs before the reload thread and
     * libmilter's threads exist. */
    /* cppcheck-suppress getpwnamCalled */
    pw = getpwnam(copy);
    if (pw == NULL) {
        syslog(LOG_ERR, "-u %s: no such user", copy);
        goto out;
    }
    ids->uid = pw->pw_uid;
    ids->gid = pw->pw_gid;
    if (colon != NULL && *colon != '\0') {
        /* cppcheck-suppress getgrnamCalled ; still single-threaded, as above */
        gr = getgrnam(colon);
        if (gr == NULL) {
            syslog(LOG_ERR, "-u %s: no such group '%s'", spec, colon);
            goto out;
        }
        ids->gid = gr->gr_gid;
    }
    ids->name = copy;
    copy = NULL;
    rc = 0;
out:
    free(copy);
    return rc;
}

static int
main_drop_privileges(const struct main_ids *ids)
{
    if (getuid() == ids->uid && geteuid() == ids->uid && getgid() == ids->gid &&
        getegid() == ids->gid)
        return 0;
    if (initgroups(ids->name, ids->gid) != 0 || setgid(ids->gid) != 0 ||
        setuid(ids->uid) != 0) {
        syslog(LOG_ERR, "cannot switch to user %s: %m", ids->name);
        return -1;
    }
    /* verify it stuck: a half-dropped process must not serve mail */
    if (getuid() != ids->uid || geteuid() != ids->uid || getgid() != ids->gid ||
        getegid() != ids->gid || (ids->uid != 0 && setuid(0) == 0)) {
        syslog(LOG_ERR, "privileges were not dropped completely; refusing to run");
        return -1;
    }
    return 0;
}

static int
main_write_pidfile(const char *path)
{
    FILE *fp;
    int fd;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
        syslog(LOG_ERR, "cannot write pidfile %s: %m", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fprintf(fp, "%ld\n", (long)getpid());
    if (fclose(fp) != 0) {
        syslog(LOG_ERR, "cannot write pidfile %s: %m", path);
        return -1;
    }
    return 0;
}

/* Go to the background. The parent stays until the child reports that it is
 * ready (socket, pidfile, privileges, threads), so that an init system sees
 * the pidfile when the command returns and a failed start exits non-zero.
 * Returns, in the child, the fd to write one byte to when ready; -1 on error. */
/* Send what is queued, then say if syslog(3) had to stand in or lines were lost. */
static void
main_stop_logq(void)
{
    struct logq_stats st;

    logq_stop();
    logq_stats(&st);
    if (st.overflowed > 0 || st.dropped > 0)
        syslog(LOG_WARNING, "syslog writer: %zu line(s) sent, %zu written directly "
               "(queue full), %zu not accepted by the syslog daemon",
               st.sent, st.overflowed, st.dropped);
}

static int
main_daemonise(void)
{
    int p[2], fd;
    pid_t pid;
    char c = '1';

    if (pipe(p) != 0) {
        syslog(LOG_ERR, "cannot daemonise: pipe: %m");
        return -1;
    }
    pid = fork();
    if (pid < 0) {
        syslog(LOG_ERR, "cannot daemonise: fork: %m");
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid > 0) {
        close(p[1]);
        while (read(p[0], &c, 1) < 0 && errno == EINTR)
            ;
        /* EOF without the byte: the child failed and logged why */
        _exit(c == '0' ? MAIN_EXIT_OK : MAIN_EXIT_FAIL);
    }
    close(p[0]);
    if (setsid() < 0 || chdir("/") != 0) {
        syslog(LOG_ERR, "cannot daemonise: %m");
        close(p[1]);
        return -1;
    }
    /* stderr stays until main_detached(): an error before "ready" must reach
     * whoever started us, not only syslog */
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        (void)dup2(fd, STDIN_FILENO);
        (void)dup2(fd, STDOUT_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    return p[1];
}

/* The daemon is ready and its parent gone: from here on syslog only. */
static void
main_detached(void)
{
    int fd;

    closelog();
    openlog("milter-tlspolicy", LOG_PID | LOG_NDELAY, LOG_MAIL);
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        (void)dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
}

/* Idle connections each hold a descriptor; the soft limit (often 1024) runs
 * out long before the hard one. Failure only costs head-room: log, go on. */
static void
main_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        syslog(LOG_WARNING, "cannot raise the descriptor limit to %llu: %m",
               (unsigned long long)rl.rlim_max);
}

/* Give the socket libmilter just bound to the daemon's user. The daemon user
 * owns the socket directory in the documented layouts and can swap the socket
 * for a symlink at any moment; chown(2) would follow it and hand that user any
 * file root can reach. So: nothing here follows a link (lstat, then fchownat
 * with AT_SYMLINK_NOFOLLOW; a link swapped in between gets its own owner
 * changed, which grants nothing), and anything but a socket is refused. A hard
 * link to another file is what fs.protected_hardlinks stops. Returns 0 / -1. */
static int
main_own_socket(const char *path, const struct main_ids *ids, const char *user)
{
    struct stat st;

    if (lstat(path, &st) != 0) {
        syslog(LOG_ERR, "cannot give socket %s to %s: lstat: %m", path, user);
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        syslog(LOG_ERR, "cannot give socket %s to %s: it is no longer a socket "
               "(replaced while starting?); not following it", path, user);
        return -1;
    }
    if (fchownat(AT_FDCWD, path, ids->uid, ids->gid, AT_SYMLINK_NOFOLLOW) != 0) {
        syslog(LOG_ERR, "cannot chown %s to %s: %m", path, user);
        return -1;
    }
    return 0;
}

/* The kernel thread id of the thread that runs smfi_main(): the stop hook
 * wakes it there. Set after daemonising (fork changes it). */
static pid_t main_listener_tid;

static void
main_wake(int sig)
{
    (void)sig;                  /* only there so that poll() returns EINTR */
}

/* The stop hook, run by the signal thread (reload.c) on SIGTERM/SIGINT/SIGHUP.
 * libmilter's listener polls its socket with a 5 s tick while holding a lock
 * that smfi_stop() needs, so a stop used to wait for the tick: 4 s on average
 * on an idle daemon. A timer sends SIGALRM to the listener's own thread every
 * 50 ms until smfi_stop() returns; each one ends the poll with EINTR, the
 * listener sees the stop flag and leaves. Without the timer the stop is only
 * slower, never lost. */
static void
main_stop(void)
{
    struct sigevent sev;
    struct itimerspec its = { .it_interval = { 0, MAIN_WAKE_NS },
                              .it_value = { 0, MAIN_WAKE_NS / 10 } };
    timer_t timer;
    bool armed = false;

    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGALRM;
    /* glibc before 2.35 names the field only through this union member */
    sev._sigev_un._tid = main_listener_tid;
    if (timer_create(CLOCK_MONOTONIC, &sev, &timer) == 0) {
        armed = true;
        if (timer_settime(timer, 0, &its, NULL) != 0)
            syslog(LOG_WARNING, "cannot arm the stop timer (%m): stopping at "
                   "libmilter's next 5 s tick");
    } else
        syslog(LOG_WARNING, "cannot create the stop timer (%m): stopping at "
               "libmilter's next 5 s tick");
    (void)smfi_stop();          /* returns once the listener has let go */
    if (armed)
        (void)timer_delete(timer);
}

/* SIGALRM, with SA_RESTART so that nothing but the listener's poll() (which
 * Linux never restarts) notices it. Returns 0 / -1. */
static int
main_install_wake(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = main_wake;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGALRM, &sa, NULL);
}

/* cwd + "/" + path, allocated. */
static char *
main_absolute(const char *path)
{
    char *cwd = getcwd(NULL, 0), *abs = NULL;

    if (cwd != NULL && asprintf(&abs, "%s/%s", cwd, path) < 0)
        abs = NULL;
    free(cwd);
    return abs;
}

static int
main_parse(int argc, char **argv, struct main_opts *o)
{
    int c;

    memset(o, 0, sizeof *o);
    o->config = MAIN_DEFAULT_CONFIG;
    o->socket = MAIN_DEFAULT_SOCKET;
    o->timeout = MAIN_DEFAULT_TIMEOUT;
    while ((c = getopt(argc, argv, "c:p:d:fu:P:T:nRvVh")) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'p': o->socket = optarg; break;
        case 'd': o->policyd = optarg; break;
        case 'f': o->foreground = true; break;
        case 'u': o->user = optarg; break;
        case 'P': o->pidfile = optarg; break;
        case 'T': {
            char *end;
            long v;

            errno = 0;
            v = strtol(optarg, &end, 10);
            if (errno != 0 || end == optarg || *end != '\0' || v < 1 ||
                v > MAIN_MAX_TIMEOUT) {
                fprintf(stderr, "milter-tlspolicy: -T %s: expected whole seconds "
                                "from 1 to %d\n", optarg, MAIN_MAX_TIMEOUT);
                return -1;
            }
            o->timeout = (int)v;
            break;
        }
        case 'n': o->check_only = true; break;
        case 'R': o->allow_root = true; break;
        case 'v': o->verbose = true; break;
        case 'V': {
            unsigned int ma = 0, mi = 0, pl = 0;

            (void)smfi_version(&ma, &mi, &pl);
            printf("milter-tlspolicy %s (libmilter %u.%u.%u)\n", PACKAGE_VERSION, ma, mi, pl);
            exit(MAIN_EXIT_OK);
        }
        case 'h':
            main_usage(stdout);
            exit(MAIN_EXIT_OK);
        default:
            main_usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "milter-tlspolicy: unexpected argument '%s'\n", argv[optind]);
        main_usage(stderr);
        return -1;
    }
    if (!main_socket_valid(o->socket)) {
        fprintf(stderr, "milter-tlspolicy: -p %s: expected unix:/path, local:/path, "
                        "inet:PORT@HOST or inet6:PORT@HOST\n", o->socket);
        return -1;
    }
    if (o->policyd != NULL && policyd_spec_check(o->policyd) != NULL) {
        fprintf(stderr, "milter-tlspolicy: -d %s: %s\n", o->policyd,
                policyd_spec_check(o->policyd));
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct main_opts o;
    struct main_ids ids = { 0, 0, NULL };
    struct policy_diags d;
    struct policy *p = NULL;
    struct smfiDesc desc;
    const char *sock_path;
    char *conn = NULL, *config_abs = NULL;
    sigset_t set;
    bool pidfile_written = false;
    int rc = MAIN_EXIT_FAIL, err, ready_fd = -1;

    if (main_parse(argc, argv, &o) != 0)
        return MAIN_EXIT_CONFIG;
    if (o.check_only)
        return main_check(o.config);

    /* Every log line also goes to stderr until the daemon has detached (and
     * for good with -f): a start-up error must reach the admin's terminal or
     * the journal, not only syslog. */
    openlog("milter-tlspolicy", LOG_PID | LOG_NDELAY | LOG_PERROR, LOG_MAIL);
    posture_log_set_verbose(o.verbose);

    if (geteuid() == 0 && o.user == NULL && !o.allow_root) {
        syslog(LOG_ERR, "refusing to run as root: give -u USER (or -R to insist)");
        return MAIN_EXIT_CONFIG;
    }
    if (o.user != NULL && main_lookup_user(o.user, &ids) != 0)
        return MAIN_EXIT_CONFIG;

    /* The daemon moves to "/": a relative -c must still name the same file on
     * SIGUSR1. Not realpath(): a symlink swapped by configuration management
     * must be followed again at each reload. */
    /* o.config is never NULL: a default, or getopt's optarg for "c:", which
     * getopt always sets; clang's analyzer does not know getopt. */
    if (o.config[0] != '/') { /* NOLINT(clang-analyzer-core.NullDereference) */
        if ((config_abs = main_absolute(o.config)) == NULL) {
            syslog(LOG_ERR, "cannot make %s an absolute path: %m", o.config);
            goto out;             /* rc is MAIN_EXIT_FAIL; ids.name is freed there */
        }
        o.config = config_abs;
    }
    policy_diags_init(&d);
    p = policy_load(o.config, &d);
    reload_log_diags(&d);
    policy_diags_free(&d);
    if (p == NULL) {
        syslog(LOG_ERR, "cannot load %s; not starting", o.config);
        rc = MAIN_EXIT_CONFIG;
        goto out;
    }
    syslog(LOG_INFO, "loaded %s: %zu connectors", o.config, policy_connector_count(p));
    if (reload_init(p, o.config) != 0) {
        policy_unref(p);
        syslog(LOG_ERR, "out of memory");
        goto out;
    }

    /* USR1, USR2, TERM, INT and HUP are only ever taken by the signal thread
     * (reload.c); a dead MTA connection must not kill the daemon. Both before
     * any thread exists. */
    signal(SIGPIPE, SIG_IGN);
    reload_sigset(&set);
    if ((err = pthread_sigmask(SIG_BLOCK, &set, NULL)) != 0) {
        syslog(LOG_ERR, "pthread_sigmask: %s", strerror(err));
        goto out;
    }
    if (main_install_wake() != 0) {
        syslog(LOG_ERR, "sigaction(SIGALRM): %m");
        goto out;
    }
    main_raise_nofile();

    desc = callbacks_desc();
    if ((conn = strdup(o.socket)) == NULL || smfi_setconn(conn) != MI_SUCCESS ||
        smfi_register(desc) != MI_SUCCESS || smfi_settimeout(o.timeout) != MI_SUCCESS) {
        syslog(LOG_ERR, "cannot set up libmilter for %s", o.socket);
        goto out;
    }
    /* the MTA's group must be able to connect: rwxrwx--- */
    umask(007);
    if (smfi_opensocket(true) != MI_SUCCESS) {
        syslog(LOG_ERR, "cannot create socket %s", o.socket);
        goto out;
    }
    sock_path = main_socket_path(o.socket);
    if (sock_path != NULL && o.user != NULL && main_own_socket(sock_path, &ids, o.user) != 0)
        goto out;
    /* the same umask and ownership rule as the milter socket */
    if (o.policyd != NULL) {
        if (policyd_open(o.policyd, &sock_path) != 0)
            goto out;
        if (sock_path != NULL && o.user != NULL && main_own_socket(sock_path, &ids, o.user) != 0)
            goto out;
    }

    if (!o.foreground && (ready_fd = main_daemonise()) < 0)
        goto out;
    if (o.pidfile != NULL) {
        if (main_write_pidfile(o.pidfile) != 0)
            goto out;
        pidfile_written = true;
    }
    if (o.user != NULL && main_drop_privileges(&ids) != 0)
        goto out;
    /* the per-message lines go out in batches from here on (logq.h) */
    if ((err = logq_start("milter-tlspolicy", _PATH_LOG, o.foreground,
                          MAIN_LOGQ_MAX)) != 0)
        syslog(LOG_WARNING, "cannot start the syslog writer (%s): logging directly",
               strerror(err));

    /* opened as the final user, so that SIGUSR2 can reopen it after rotation;
     * a daemon without the audit trail it was told to keep does not start */
    p = reload_current();
    if (p != NULL) {
        struct strbuf why;
        int jrc;

        strbuf_init(&why);
        jrc = posture_log_json_open(policy_settings(p), &why);
        if (jrc != 0)
            syslog(LOG_ERR, "%s: not starting", why.oom ? "cannot open the JSON posture log"
                                                         : strbuf_str(&why));
        strbuf_free(&why);
        policy_unref(p);
        p = NULL;
        if (jrc != 0)
            goto out;
    }
    /* a thread does not survive main_daemonise's fork: started after it */
    if (policyd_start() != 0)
        goto out;
    main_listener_tid = gettid();
    if ((err = reload_start(main_stop)) != 0) {
        syslog(LOG_ERR, "cannot start the reload thread: %s", strerror(err));
        goto out;
    }
    syslog(LOG_INFO, "milter-tlspolicy %s listening on %s", PACKAGE_VERSION, o.socket);
    if (ready_fd >= 0) {
        /* the parent exits 0 now: pidfile written, privileges dropped */
        if (write(ready_fd, "0", 1) != 1)
            syslog(LOG_WARNING, "cannot tell the parent process we are ready: %m");
        close(ready_fd);
        ready_fd = -1;
        main_detached();
    }
    if (smfi_main() == MI_SUCCESS) {
        rc = MAIN_EXIT_OK;
        syslog(LOG_INFO, "stopped");
    } else
        syslog(LOG_ERR, "smfi_main failed");
out:
    policyd_stop();
    reload_shutdown();
    main_stop_logq();
    posture_log_json_close();
    if (pidfile_written && unlink(o.pidfile) != 0 && errno != ENOENT)
        syslog(LOG_WARNING, "cannot remove pidfile %s: %m", o.pidfile);
    free(conn);
    free(config_abs);
    free(ids.name);
    if (ready_fd >= 0)
        close(ready_fd);          /* the waiting parent reads EOF: start-up failed */
    closelog();
    return rc;
}
