/* node/exec.c: fork/exec of one test process and the capture of its output
 * (see exec.h). The child gets its own process group; the parent observes its
 * exit with waitid(WNOWAIT) and reaps it only when finishing, so the group id
 * cannot be reused while we may still signal it. Finishing always SIGKILLs
 * the group, so nothing a test left behind outlives its batch.
 * States: running -> (exited | killed) -> finished; a spawn failure is born
 * finished. Only async-signal-safe calls run between fork and exec.
 */
#include "node/exec.h"
#include "node/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_READ_CHUNK 65536
#define S_READ_MAX_PER_POLL (4 * 1024 * 1024)

extern char **environ;

enum { S_STAGE_SETUP, S_STAGE_CHDIR, S_STAGE_EXEC };

typedef struct {
    int stage;
    int err;
} s_child_report_t;

struct shoal_exec {
    pid_t pid;
    int out_fd;  /* read end of the output pipe, -1 once closed */
    int chan_fd; /* our end of the channel, -1 if none */
    bool exited; /* the child's exit was observed (not reaped yet) */
    bool finished;
    bool killed; /* we sent SIGKILL to the group */
    bool share_group;
    void (*on_output)(void *arg, const char *data, size_t len);
    void *on_output_arg;
    uint64_t start, timeout_ms, exited_at;
    int code, signal; /* from the observed exit */
    /* capture: the first head_cap bytes, then a ring of the last tail_cap */
    char *head;
    size_t head_cap, head_len, head_alloc;
    char *tail;
    size_t tail_cap, tail_len, tail_pos;
    size_t total;
    char *output;
    shoal_exec_result_t result;
};

/* Moves a descriptor above stderr so dup2 onto 0-2 in the child never hits it. */
static int
s_fd_high(int fd)
{
    if (fd > 2)
        return fd;
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int saved = errno;
    close(fd);
    errno = saved;
    return high;
}

static int
s_socketpair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return -1;
    fds[0] = s_fd_high(fds[0]);
    fds[1] = s_fd_high(fds[1]);
    return fds[0] >= 0 && fds[1] >= 0 ? 0 : -1;
}

static int
s_pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        return -1;
    fds[0] = s_fd_high(fds[0]);
    fds[1] = s_fd_high(fds[1]);
    if (fds[0] < 0 || fds[1] < 0) {
        if (fds[0] >= 0)
            close(fds[0]);
        if (fds[1] >= 0)
            close(fds[1]);
        return -1;
    }
    return 0;
}

static bool
s_env_overridden(const char *entry, char *const *extra)
{
    size_t key = strcspn(entry, "=");
    for (size_t i = 0; extra && extra[i]; i++)
        if (strncmp(extra[i], entry, key) == 0 && extra[i][key] == '=')
            return true;
    return false;
}

/* The child's environment, built before fork (no malloc after it): base
 * (this process' environ when NULL) with extra's variables replaced or added. */
static char **
s_env_build(char *const *base, char *const *extra)
{
    char *const *from = base ? base : environ;
    size_t n = 0, m = 0;
    while (from && from[n])
        n++;
    while (extra && extra[m])
        m++;
    char **envp = calloc(n + m + 1, sizeof(*envp));
    if (!envp)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!s_env_overridden(from[i], extra))
            envp[k++] = from[i];
    for (size_t i = 0; i < m; i++)
        envp[k++] = extra[i];
    return envp;
}

const char *
shoal_exec_getenv(char *const *env, const char *key)
{
    if (!env)
        return getenv(key);
    size_t len = strlen(key);
    for (size_t i = 0; env[i]; i++)
        if (strncmp(env[i], key, len) == 0 && env[i][len] == '=')
            return env[i] + len + 1;
    return NULL;
}

/* execvpe searches the caller's PATH; a child's own environment needs its
 * own search, relative to its directory (see exec.h). */
char *
shoal_exec_lookup(const char *command, char *const *env, const char *cwd)
{
    const char *path = shoal_exec_getenv(env, "PATH");
    if (!path)
        path = "/bin:/usr/bin"; /* execvp's default */
    char candidate[PATH_MAX];
    while (true) {
        size_t len = strcspn(path, ":");
        const char *dir = len ? path : ".";
        int n =
            snprintf(candidate, sizeof(candidate), "%s%s%.*s/%s", cwd && dir[0] != '/' ? cwd : "",
                     cwd && dir[0] != '/' ? "/" : "", len ? (int)len : 1, dir, command);
        struct stat st;
        if (n > 0 && (size_t)n < sizeof(candidate) && stat(candidate, &st) == 0 &&
            S_ISREG(st.st_mode) && access(candidate, X_OK) == 0)
            return strdup(candidate);
        if (!path[len])
            return NULL;
        path += len + 1;
    }
}

/* The words the child runs when a wrapper comes first: wrap's, then argv's
 * (the strings borrowed). NULL without a wrapper, or out of memory. */
static char **
s_argv_join(char *const *wrap, char *const *argv)
{
    size_t n = 0, m = 0;
    while (wrap && wrap[n])
        n++;
    while (argv[m])
        m++;
    char **joined = n ? calloc(n + m + 1, sizeof(*joined)) : NULL;
    if (!joined)
        return NULL;
    memcpy(joined, wrap, n * sizeof(*joined));
    memcpy(joined + n, argv, m * sizeof(*joined));
    return joined;
}

static void __attribute__((noreturn)) s_child_report(int fd, int stage, int err)
{
    s_child_report_t report = {stage, err};
    ssize_t n = write(fd, &report, sizeof(report));
    (void)n;
    _exit(127);
}

/* Runs between vfork and exec, in the parent's memory while the parent's
 * thread waits: system calls only, nothing that writes memory the parent
 * reads. Signals arrive blocked (see shoal_exec_start); every disposition
 * goes back to the default before they are unblocked, so no handler of the
 * parent's ever runs here, and nothing ignored carries over into the test. */
static void __attribute__((noreturn))
s_child(const shoal_exec_spec_t *spec, char *const *argv, const char *program, char *const *envp,
        int out_w, int report_w, int chan)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            sigaction(sig, &dfl, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (!spec->share_group && setpgid(0, 0) != 0)
        s_child_report(report_w, S_STAGE_SETUP, errno);
    /* If this runner is killed, its test dies with it: a test re-dealt to a
     * survivor must not still be running here (I2). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(out_w, 1) < 0 || dup2(out_w, 2) < 0)
        s_child_report(report_w, S_STAGE_SETUP, errno);
    if (spec->cwd && chdir(spec->cwd) != 0)
        s_child_report(report_w, S_STAGE_CHDIR, errno);
    int first = 3;
    if (chan >= 0) {
        /* The channel becomes fd 3, kept open across exec; the report pipe
         * moves out of its way first. */
        if (report_w == SHOAL_EXEC_CHANNEL_FD &&
            (report_w = fcntl(report_w, F_DUPFD_CLOEXEC, SHOAL_EXEC_CHANNEL_FD + 1)) < 0)
            _exit(127);
        if ((chan == SHOAL_EXEC_CHANNEL_FD ? fcntl(chan, F_SETFD, 0)
                                           : dup2(chan, SHOAL_EXEC_CHANNEL_FD)) < 0)
            s_child_report(report_w, S_STAGE_SETUP, errno);
        first = SHOAL_EXEC_CHANNEL_FD + 1;
    }
    /* Everything above stderr (and the channel) closes at exec, the report
     * pipe included. */
    if (close_range((unsigned)first, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
        struct rlimit lim;
        int max =
            getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < 65536 ? (int)lim.rlim_cur : 65536;
        for (int fd = first; fd < max; fd++)
            if (fd != report_w)
                fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    if (program)
        execve(program, argv, envp);
    else
        execvpe(argv[0], argv, envp);
    s_child_report(report_w, S_STAGE_EXEC, errno);
}

/* vfork in a frame of its own, so nothing of the caller's lives across it. */
static pid_t __attribute__((noinline))
s_spawn(const shoal_exec_spec_t *spec, char *const *argv, const char *program, char *const *envp,
        int out_w, int report_w, int chan)
{
    pid_t pid = vfork();
    if (pid == 0)
        s_child(spec, argv, program, envp, out_w, report_w, chan);
    return pid;
}

static shoal_exec_t *
s_alloc(const shoal_exec_spec_t *spec, uint64_t now)
{
    shoal_exec_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    size_t cap = spec->output_cap ? spec->output_cap : SHOAL_EXEC_DEFAULT_CAP;
    self->head_cap = cap / 2;
    self->tail_cap = cap - self->head_cap;
    self->out_fd = -1;
    self->chan_fd = -1;
    self->pid = -1;
    self->start = now;
    self->timeout_ms = spec->timeout_ms;
    self->share_group = spec->share_group;
    self->on_output = spec->on_output;
    self->on_output_arg = spec->on_output_arg;
    return self;
}

static void
s_capture(shoal_exec_t *self, const char *data, size_t len)
{
    self->total += len;
    if (self->head_len < self->head_cap) {
        size_t take = self->head_cap - self->head_len;
        if (take > len)
            take = len;
        if (self->head_len + take > self->head_alloc) {
            size_t alloc = self->head_alloc ? self->head_alloc : 4096;
            while (alloc < self->head_len + take)
                alloc *= 2;
            if (alloc > self->head_cap)
                alloc = self->head_cap;
            char *grown = realloc(self->head, alloc);
            if (!grown)
                return; /* out of memory: this output is lost, the run is not */
            self->head = grown;
            self->head_alloc = alloc;
        }
        memcpy(self->head + self->head_len, data, take);
        self->head_len += take;
        data += take;
        len -= take;
    }
    if (len == 0 || self->tail_cap == 0)
        return;
    if (!self->tail && !(self->tail = malloc(self->tail_cap)))
        return;
    if (len > self->tail_cap) {
        data += len - self->tail_cap;
        len = self->tail_cap;
    }
    while (len > 0) {
        size_t take = self->tail_cap - self->tail_pos;
        if (take > len)
            take = len;
        memcpy(self->tail + self->tail_pos, data, take);
        self->tail_pos = (self->tail_pos + take) % self->tail_cap;
        self->tail_len =
            self->tail_len + take > self->tail_cap ? self->tail_cap : self->tail_len + take;
        data += take;
        len -= take;
    }
}

static void
s_close_fd(shoal_exec_t *self)
{
    if (self->out_fd >= 0)
        close(self->out_fd);
    self->out_fd = -1;
}

/* Reads what is available; closes the pipe at EOF. */
static void
s_drain(shoal_exec_t *self)
{
    char buf[S_READ_CHUNK];
    size_t got = 0;
    while (self->out_fd >= 0 && got < S_READ_MAX_PER_POLL) {
        ssize_t n = read(self->out_fd, buf, sizeof(buf));
        if (n > 0) {
            if (self->on_output)
                self->on_output(self->on_output_arg, buf, (size_t)n);
            s_capture(self, buf, (size_t)n);
            got += (size_t)n;
        } else if (n == 0) {
            s_close_fd(self);
        } else if (errno == EINTR) {
            continue;
        } else {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                s_close_fd(self);
            break;
        }
    }
}

/* Observes (without reaping) whether the child exited. */
static void
s_observe(shoal_exec_t *self, uint64_t now)
{
    if (self->exited || self->pid <= 0)
        return;
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid(P_PID, (id_t)self->pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        if (errno == ECHILD) { /* reaped behind our back (SIGCHLD ignored) */
            self->exited = true;
            self->exited_at = now;
            self->code = -1;
        }
        return;
    }
    if (info.si_pid == 0)
        return;
    self->exited = true;
    self->exited_at = now;
    if (info.si_code == CLD_EXITED)
        self->code = info.si_status;
    else
        self->signal = info.si_status;
}

static void
s_kill_group(shoal_exec_t *self)
{
    if (self->pid > 0)
        kill(self->share_group ? self->pid : -self->pid, SIGKILL);
}

static void
s_reap(shoal_exec_t *self)
{
    if (self->pid <= 0)
        return;
    int status;
    while (waitpid(self->pid, &status, 0) < 0 && errno == EINTR)
        ;
    self->pid = -self->pid; /* keep it for shoal_exec_pid, never signal it again */
}

static void
s_set_output(shoal_exec_t *self, const char *text)
{
    free(self->output);
    self->output = strdup(text ? text : "");
    self->result.output = self->output ? self->output : "";
    self->result.output_len = self->output ? strlen(self->output) : 0;
}

/* Head + marker + tail, NUL-terminated. */
static void
s_assemble(shoal_exec_t *self)
{
    char marker[96] = "";
    bool truncated = self->total > self->head_cap + self->tail_cap;
    if (truncated)
        snprintf(marker, sizeof(marker), "\n[... shoal dropped %zu bytes of output ...]\n",
                 self->total - self->head_len - self->tail_len);
    size_t mlen = strlen(marker);
    size_t len = self->head_len + mlen + self->tail_len;
    char *out = malloc(len + 1);
    if (!out) {
        s_set_output(self, NULL);
        return;
    }
    if (self->head_len)
        memcpy(out, self->head, self->head_len);
    memcpy(out + self->head_len, marker, mlen);
    char *t = out + self->head_len + mlen;
    if (self->tail_len < self->tail_cap) {
        if (self->tail_len)
            memcpy(t, self->tail, self->tail_len);
    } else if (self->tail_len) {
        size_t first = self->tail_cap - self->tail_pos;
        memcpy(t, self->tail + self->tail_pos, first);
        memcpy(t + first, self->tail, self->tail_pos);
    }
    out[len] = '\0';
    free(self->output);
    self->output = out;
    self->result.output = out;
    self->result.output_len = len;
    self->result.truncated = truncated;
}

/* The child exited (or was killed and exited): kill stragglers, reap, build
 * the result. */
static void
s_finish(shoal_exec_t *self, uint64_t now)
{
    s_drain(self);
    s_kill_group(self);
    s_close_fd(self);
    s_reap(self);
    uint64_t end = self->exited && !self->killed ? self->exited_at : now;
    self->result.duration_ms = end > self->start ? end - self->start : 0;
    self->result.exit_code = self->code;
    self->result.signal = self->signal;
    s_assemble(self);
    free(self->head);
    free(self->tail);
    self->head = self->tail = NULL;
    self->finished = true;
}

static void
s_spawn_failed(shoal_exec_t *self, const char *message)
{
    self->result.spawn_failed = true;
    self->result.exit_code = 127;
    s_set_output(self, message);
    self->finished = true;
}

shoal_exec_t *
shoal_exec_start(const shoal_exec_spec_t *spec, uint64_t now, char *err, size_t err_size)
{
    shoal_exec_t *self = s_alloc(spec, now);
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    if (!spec->argv || !spec->argv[0] || !spec->argv[0][0] ||
        (spec->wrap && spec->wrap[0] && !spec->wrap[0][0])) {
        s_spawn_failed(self, "cannot run an empty command");
        return self;
    }
    int out[2] = {-1, -1}, report[2] = {-1, -1}, chan[2] = {-1, -1};
    char *program = NULL;
    char **envp = s_env_build(spec->env, spec->env_extra);
    char **joined = s_argv_join(spec->wrap, spec->argv);
    char *const *argv = joined ? joined : spec->argv;
    if (!envp || (spec->wrap && spec->wrap[0] && !joined)) {
        snprintf(err, err_size, "out of memory");
        goto failed;
    }
    /* Another environment's PATH: the program is looked up here, before
     * vfork, and the child runs exactly that file. */
    if (spec->env && !strchr(argv[0], '/') &&
        !(program = shoal_exec_lookup(argv[0], envp, spec->cwd))) {
        char message[PATH_MAX + 128];
        snprintf(message, sizeof(message), "cannot run '%s': %s", argv[0], strerror(ENOENT));
        free(envp);
        free(joined);
        s_spawn_failed(self, message);
        return self;
    }
    if (s_pipe(out) != 0 || s_pipe(report) != 0 || (spec->channel && s_socketpair(chan) != 0)) {
        snprintf(err, err_size, "cannot create a pipe: %s", strerror(errno));
        goto failed;
    }
    /* vfork: a runner's process can be large (ZeroMQ, history, the plan) and
     * copying its page tables for every test cost more than the test itself
     * for short ones. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = s_spawn(spec, argv, program, envp, out[1], report[1], chan[1]);
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        snprintf(err, err_size, "cannot fork: %s", strerror(fork_errno));
        goto failed;
    }
    free(envp);
    envp = NULL;
    free(program);
    program = NULL;
    if (!spec->share_group)
        setpgid(pid, pid); /* also in the parent: no window where a kill misses it */
    close(out[1]);
    close(report[1]);
    if (chan[1] >= 0)
        close(chan[1]);
    self->chan_fd = chan[0];
    if (self->chan_fd >= 0)
        fcntl(self->chan_fd, F_SETFL, fcntl(self->chan_fd, F_GETFL) | O_NONBLOCK);
    self->pid = pid;
    self->out_fd = out[0];
    fcntl(self->out_fd, F_SETFL, fcntl(self->out_fd, F_GETFL) | O_NONBLOCK);

    s_child_report_t rep;
    ssize_t n;
    while ((n = read(report[0], &rep, sizeof(rep))) < 0 && errno == EINTR)
        ;
    close(report[0]);
    if (n == (ssize_t)sizeof(rep)) {
        char message[PATH_MAX + 128];
        if (rep.stage == S_STAGE_CHDIR)
            snprintf(message, sizeof(message), "cannot enter directory '%s': %s", spec->cwd,
                     strerror(rep.err));
        else if (rep.stage == S_STAGE_EXEC)
            snprintf(message, sizeof(message), "cannot run '%s': %s", argv[0], strerror(rep.err));
        else
            snprintf(message, sizeof(message), "cannot set up the child process: %s",
                     strerror(rep.err));
        s_close_fd(self);
        s_reap(self);
        s_spawn_failed(self, message);
    }
    free(joined);
    return self;

failed:
    free(envp);
    free(joined);
    free(program);
    for (int i = 0; i < 2; i++) {
        if (out[i] >= 0)
            close(out[i]);
        if (report[i] >= 0)
            close(report[i]);
        if (chan[i] >= 0)
            close(chan[i]);
    }
    free(self);
    return NULL;
}

/* SIGCHLD wakes the caller's poll through a self-pipe, so a finished runner is
 * noticed at once rather than at the next timer (the pipe's EOF can come a
 * moment before the exit can be reaped). */
static int s_wakeup[2] = {-1, -1};

static void
s_on_sigchld(int signum)
{
    (void)signum;
    int saved = errno;
    if (write(s_wakeup[1], "", 1) < 0) {
        /* full: a wake-up is already pending */
    }
    errno = saved;
}

int
shoal_exec_wakeup_fd(void)
{
    if (s_wakeup[0] >= 0)
        return s_wakeup[0];
    if (pipe2(s_wakeup, O_CLOEXEC | O_NONBLOCK) != 0)
        return -1;
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = s_on_sigchld;
    action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&action.sa_mask);
    sigaction(SIGCHLD, &action, NULL);
    return s_wakeup[0];
}

void
shoal_exec_wakeup_drain(void)
{
    char buf[256];
    while (s_wakeup[0] >= 0 && read(s_wakeup[0], buf, sizeof(buf)) > 0)
        ;
}

int
shoal_exec_fd(const shoal_exec_t *self)
{
    return self->out_fd;
}

int
shoal_exec_channel(const shoal_exec_t *self)
{
    return self->chan_fd;
}

int
shoal_exec_channel_send(shoal_exec_t *self, const void *data, size_t len, int timeout_ms)
{
    const char *p = data;
    while (self->chan_fd >= 0 && len > 0) {
        ssize_t n = send(self->chan_fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = self->chan_fd, .events = POLLOUT};
            if (poll(&pfd, 1, timeout_ms) > 0)
                continue;
        }
        return -1;
    }
    return self->chan_fd >= 0 ? 0 : -1;
}

bool
shoal_exec_poll(shoal_exec_t *self, uint64_t now)
{
    if (self->finished)
        return true;
    s_drain(self);
    s_observe(self, now);
    if (self->killed) {
        if (self->exited)
            s_finish(self, now);
        return self->finished;
    }
    if (self->exited) {
        /* A grandchild holding the pipe must not keep us waiting for EOF. */
        if (self->out_fd < 0 || now >= self->exited_at + SHOAL_EXEC_GRACE_MS)
            s_finish(self, now);
        return self->finished;
    }
    if (self->timeout_ms && now >= self->start + self->timeout_ms) {
        self->result.timed_out = true;
        self->killed = true;
        s_kill_group(self);
        s_observe(self, now);
        if (self->exited)
            s_finish(self, now);
    }
    return self->finished;
}

const shoal_exec_result_t *
shoal_exec_result(const shoal_exec_t *self)
{
    return self->finished ? &self->result : NULL;
}

pid_t
shoal_exec_pid(const shoal_exec_t *self)
{
    return self->pid < 0 ? -self->pid : self->pid;
}

void
shoal_exec_kill(shoal_exec_t *self)
{
    if (self->finished || self->pid <= 0)
        return;
    self->killed = true;
    s_kill_group(self);
}

void
shoal_exec_destroy(shoal_exec_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    shoal_exec_t *self = *self_p;
    if (!self->finished) {
        s_kill_group(self);
        s_close_fd(self);
        s_reap(self);
    }
    if (self->chan_fd >= 0)
        close(self->chan_fd);
    free(self->head);
    free(self->tail);
    free(self->output);
    free(self);
    *self_p = NULL;
}

static bool
s_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void
shoal_exec_last_line(const shoal_exec_result_t *r, char *out, size_t out_size)
{
    const char *text = r->output ? r->output : "";
    size_t end = r->output ? r->output_len : 0;
    while (end > 0 && s_blank(text[end - 1]))
        end--;
    size_t start = end;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    while (start < end && s_blank(text[start]))
        start++;
    snprintf(out, out_size, "%.*s", (int)(end - start), text + start);
}

shoal_exec_t *
shoal_exec_run(const shoal_exec_spec_t *spec, char *err, size_t err_size)
{
    shoal_exec_t *self = shoal_exec_start(spec, shoal_clock_ms(), err, err_size);
    if (!self)
        return NULL;
    while (!shoal_exec_poll(self, shoal_clock_ms())) {
        struct pollfd p = {.fd = self->out_fd, .events = POLLIN};
        poll(&p, p.fd >= 0 ? 1 : 0, 20);
    }
    return self;
}
