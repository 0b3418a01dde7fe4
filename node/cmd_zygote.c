/* `shoal zygote-attach`: a worker's stand-in (zygote.h). It hands its
 * descriptors (stdin, the output pipe, the channel) to the zygote, which
 * forks the worker with them; the stand-in then waits and exits as the
 * worker did. Whatever keeps the zygote from taking the worker, it runs
 * the worker's cold command itself, as the session would have. */
#include "node/commands.h"
#include "node/exec.h"
#include "node/loop.h"
#include "node/zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define S_FDS 4 /* stdin, stdout, stderr, the channel */
#define S_RETRY_MS 20

extern char **environ;

/* Connects to the socket at path, which may be longer than a socket
 * address holds: from its directory. -1 with errno. */
static int
s_connect_once(const char *path)
{
    const char *slash = strrchr(path, '/');
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    const char *name = slash ? slash + 1 : path;
    if (strlen(name) >= sizeof(addr.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr.sun_path, name);
    int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int rc = -1, saved = 0;
    if (here >= 0 && fd >= 0 && chdir(dir[0] ? dir : "/") == 0) {
        rc = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
        saved = errno;
        if (fchdir(here) != 0)
            rc = -1; /* the cold command needs the worker's directory */
    } else {
        saved = errno;
    }
    if (here >= 0)
        close(here);
    if (rc != 0 && fd >= 0)
        close(fd);
    errno = saved;
    return rc == 0 ? fd : -1;
}

/* Connects, waiting while the zygote is still starting (its marker is
 * there), up to SHOAL_ZYGOTE_START_WAIT_MS. -1 when it takes no work. */
static int
s_connect(const char *path)
{
    char marker[PATH_MAX + 16];
    snprintf(marker, sizeof(marker), "%s" SHOAL_ZYGOTE_STARTING, path);
    uint64_t until = shoal_clock_ms() + SHOAL_ZYGOTE_START_WAIT_MS;
    for (;;) {
        int fd = s_connect_once(path);
        if (fd >= 0 || (errno != ENOENT && errno != ECONNREFUSED))
            return fd;
        if (access(marker, F_OK) != 0 || shoal_clock_ms() >= until)
            return -1;
        struct timespec pause = {0, S_RETRY_MS * 1000000L};
        nanosleep(&pause, NULL);
    }
}

/* Appends field and its NUL to the buffer. */
static bool
s_put(char **buf, size_t *len, size_t *cap, const char *field)
{
    size_t n = strlen(field) + 1;
    if (*len + n > *cap) {
        size_t want = (*len + n) * 2;
        char *grown = realloc(*buf, want);
        if (!grown)
            return false;
        *buf = grown;
        *cap = want;
    }
    memcpy(*buf + *len, field, n);
    *len += n;
    return true;
}

/* The request (zygote.py): "length\n", then cwd, home, argc, argv and the
 * environment, each NUL-terminated, with our descriptors 0-3 alongside. */
static int
s_send_request(int fd, const char *home, char *const *argv)
{
    char cwd[PATH_MAX], count[32];
    if (!getcwd(cwd, sizeof(cwd)))
        return -1;
    size_t argc = 0;
    while (argv[argc])
        argc++;
    snprintf(count, sizeof(count), "%zu", argc);
    char *body = NULL;
    size_t len = 0, cap = 0;
    bool ok = s_put(&body, &len, &cap, cwd) && s_put(&body, &len, &cap, home) &&
              s_put(&body, &len, &cap, count);
    for (size_t i = 0; ok && i < argc; i++)
        ok = s_put(&body, &len, &cap, argv[i]);
    for (size_t i = 0; ok && environ[i]; i++)
        ok = s_put(&body, &len, &cap, environ[i]);
    char head[32];
    int head_len = snprintf(head, sizeof(head), "%zu\n", len);
    int fds[S_FDS] = {0, 1, 2, SHOAL_EXEC_CHANNEL_FD};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(fds))];
    } control;
    memset(&control, 0, sizeof(control));
    struct iovec iov[2] = {{head, (size_t)head_len}, {body, len}};
    struct msghdr msg = {.msg_iov = iov,
                         .msg_iovlen = 2,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf)};
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
    ssize_t sent = ok ? sendmsg(fd, &msg, MSG_NOSIGNAL) : -1;
    /* The rest goes without descriptors. */
    size_t total = (size_t)head_len + len;
    size_t done = sent > 0 ? (size_t)sent : 0;
    while (sent > 0 && done < total) {
        size_t off = done < (size_t)head_len ? 0 : done - (size_t)head_len;
        if (done < (size_t)head_len)
            sent = send(fd, head + done, (size_t)head_len - done, MSG_NOSIGNAL);
        else
            sent = send(fd, body + off, len - off, MSG_NOSIGNAL);
        done += sent > 0 ? (size_t)sent : 0;
    }
    free(body);
    return sent > 0 && done == total ? 0 : -1;
}

/* One line of the zygote's reply into line; false at EOF or on an error. */
static bool
s_read_line(int fd, char *line, size_t size)
{
    size_t n = 0;
    for (;;) {
        char c;
        ssize_t got = read(fd, &c, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        if (c == '\n')
            break;
        if (n + 1 < size)
            line[n++] = c;
    }
    line[n] = '\0';
    return true;
}

/* Runs the worker's cold command (the sandbox's words, then the worker's). */
static int
s_cold(char **words)
{
    execvp(words[0], words);
    fprintf(stderr, "shoal: cannot run %s: %s\n", words[0], strerror(errno));
    return 127;
}

int
shoal_cmd_zygote_attach(int argc, char **argv)
{
    char *end = NULL;
    unsigned long wrapped = argc >= 6 ? strtoul(argv[3], &end, 10) : 0;
    if (argc < 6 || strcmp(argv[4], "--") != 0 || !end || *end ||
        wrapped >= (unsigned long)(argc - 5)) {
        fprintf(stderr, "usage: shoal " SHOAL_ZYGOTE_COMMAND " SOCKET HOME COUNT -- WRAP... "
                        "COMMAND...\n  started by a serving daemon's session as a worker's "
                        "stand-in\n");
        return SHOAL_EXIT_USAGE;
    }
    char **words = argv + 5, **command = words + wrapped;
    signal(SIGPIPE, SIG_IGN);
    int fd = fcntl(SHOAL_EXEC_CHANNEL_FD, F_GETFD) >= 0 ? s_connect(argv[1]) : -1;
    char line[128];
    if (fd < 0 || s_send_request(fd, argv[2], command) != 0 ||
        !s_read_line(fd, line, sizeof(line)) || strncmp(line, "pid ", 4) != 0) {
        if (fd >= 0)
            close(fd);
        return s_cold(words);
    }
    /* The worker has them now: ours would keep its pipe and channel open
     * after it ended. A copy of stderr stays for our own last words. */
    int err = fcntl(2, F_DUPFD_CLOEXEC, 10);
    int null = open("/dev/null", O_RDWR);
    for (int i = 0; i < S_FDS && null >= 0; i++)
        dup2(null, i);
    if (null >= S_FDS)
        close(null);
    int code = -1, sig = 0;
    if (s_read_line(fd, line, sizeof(line))) {
        if (sscanf(line, "exit %d", &code) != 1 && sscanf(line, "signal %d", &sig) != 1)
            code = -1;
    }
    if (sig > 0) {
        signal(sig, SIG_DFL);
        raise(sig);
        _exit(128 + sig);
    }
    if (code >= 0)
        _exit(code & 0xff);
    if (err >= 0)
        dprintf(err, "shoal: the zygote that ran this worker ended (its daemon stopped, or it "
                     "was killed)\n");
    raise(SIGKILL);
    return 1;
}
