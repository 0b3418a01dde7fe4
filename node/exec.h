/* node/exec.h: running one test process, the only code in shoal that forks.
 * A child runs in its own process group (unless it shares its caller's) with stdin from /dev/null,
 * stdout and stderr merged into one pipe, no other inherited descriptor and default signal
 * dispositions. Time is passed in (`now`, monotonic ms): the executor never
 * reads a clock except in shoal_exec_run, which blocks by design.
 * Invariant: once shoal_exec_poll returned true the whole process group has
 * exited or been sent SIGKILL, the child is reaped and the result never changes.
 */
#ifndef SHOAL_NODE_EXEC_H
#define SHOAL_NODE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SHOAL_EXEC_DEFAULT_CAP (1024 * 1024) /* output_cap 0 means this */
#define SHOAL_EXEC_GRACE_MS 200              /* after the child exits, wait this long for EOF */
#define SHOAL_EXEC_CHANNEL_FD 3              /* the child's end of the channel, if asked for */

typedef struct {
    char *const *argv;      /* argv[0] looked up in PATH */
    char *const *wrap;      /* words run before argv (a sandbox, see sandbox.h); NULL or
                               empty: none. The child then execs wrap[0], looked up as
                               argv[0] would be, with wrap's words followed by argv's;
                               argv[0] is the wrapper's to find. A failure to start
                               names wrap[0]. */
    const char *cwd;        /* NULL: inherit */
    char *const *env;       /* the environment ("KEY=VALUE", NULL-terminated) env_extra
                               adds to, whose PATH finds argv[0]; NULL: this process' */
    char *const *env_extra; /* "KEY=VALUE" added to the environment (NULL-terminated) */
    uint64_t timeout_ms;    /* 0: none; on timeout the whole process group gets SIGKILL */
    size_t output_cap;      /* bytes of stdout+stderr (merged) kept; beyond it the first
                               cap/2 and the last cap/2 are kept with a marker line
                               between them, and truncated is set; 0: the default */
    bool channel;           /* a stream socket to talk with the child over; the child
                               has it as SHOAL_EXEC_CHANNEL_FD */
    bool share_group;       /* the child stays in the caller's process group (a
                               driver's framework: whoever kills the driver's group
                               kills it too); kills then target the child alone */
    /* Called with each chunk of output as it is read (before any cap), with
     * on_output_arg; NULL: none. */
    void (*on_output)(void *arg, const char *data, size_t len);
    void *on_output_arg;
} shoal_exec_spec_t;

typedef struct {
    int exit_code; /* valid when !signal && !spawn_failed */
    int signal;    /* signal that ended it, 0 if none */
    bool timed_out;
    bool spawn_failed; /* could not start: output holds the reason */
    uint64_t duration_ms;
    const char *output; /* NUL-terminated, borrowed from the exec object */
    size_t output_len;
    bool truncated;
} shoal_exec_result_t;

typedef struct shoal_exec shoal_exec_t;

/* Starts the child. NULL only if pipe/fork itself fails (reason in err); an
 * exec or chdir failure gives an object that is already finished with
 * spawn_failed set. */
shoal_exec_t *shoal_exec_start(const shoal_exec_spec_t *spec, uint64_t now, char *err,
                               size_t err_size);
/* The output pipe, to poll for POLLIN; -1 once closed. While the child runs
 * with the pipe closed (or idle), call shoal_exec_poll on a timer (e.g. every
 * 50 ms) so exit, grace and timeout are noticed. */
int shoal_exec_fd(const shoal_exec_t *self);
/* A descriptor that becomes readable whenever a child exits (a SIGCHLD
 * self-pipe, set up on first call); poll it with the others and drain it with
 * shoal_exec_wakeup_drain before polling the runners. -1 on failure. */
int shoal_exec_wakeup_fd(void);
void shoal_exec_wakeup_drain(void);
/* Non-blocking: reads what is there, reaps, enforces the timeout and the EOF
 * grace. True once finished (exited AND output drained, or killed). */
bool shoal_exec_poll(shoal_exec_t *self, uint64_t now);
/* Valid once finished; NULL before. */
const shoal_exec_result_t *shoal_exec_result(const shoal_exec_t *self);
pid_t shoal_exec_pid(const shoal_exec_t *self);
/* Our end of the channel (non-blocking), -1 without one. Poll it for POLLIN
 * and read it with recv; it stays open until destroy. */
int shoal_exec_channel(const shoal_exec_t *self);
/* Writes all of data to the channel, waiting up to timeout_ms for room.
 * 0, or -1 (no channel, the child closed it, or no room in time). */
int shoal_exec_channel_send(shoal_exec_t *self, const void *data, size_t len, int timeout_ms);
/* SIGKILLs the process group (the result then says signal 9, not timed out). */
void shoal_exec_kill(shoal_exec_t *self);
/* Kills the group if still running, reaps, frees. Idempotent. */
void shoal_exec_destroy(shoal_exec_t **self_p);

/* The value of key in env ("KEY=VALUE" strings, NULL-terminated), or in
 * this process' environment when env is NULL; NULL if it has none. */
const char *shoal_exec_getenv(char *const *env, const char *key);

/* The last line of r's output that is not blank, without its line end and
 * leading and trailing blanks, cut to fit out (out_size bytes with the NUL);
 * "" when there is none. For messages that quote why a program failed. */
void shoal_exec_last_line(const shoal_exec_result_t *r, char *out, size_t out_size);

/* The file a shell with environment env (NULL: this process') would run for
 * command, a name without '/': the first executable regular file named so
 * in env's PATH (/bin:/usr/bin when it has none), relative entries read
 * from cwd (NULL: this process' directory). The caller frees it; NULL when
 * none is found or out of memory. */
char *shoal_exec_lookup(const char *command, char *const *env, const char *cwd);

/* Addition: starts the child and blocks until it finished, reading the
 * monotonic clock itself. NULL as shoal_exec_start. For one-off runs (test
 * collection, tests). */
shoal_exec_t *shoal_exec_run(const shoal_exec_spec_t *spec, char *err, size_t err_size);

#endif
