/* node/sandbox.h: the sandbox a serving daemon runs shipped work in,
 * bubblewrap (bwrap). Inside, the whole host file system is read-only, /tmp
 * is a private empty tmpfs, /dev and /proc are the sandbox's own, the user
 * is nobody (65534), every namespace is new (no network unless asked; the
 * host's loopback is not reachable either) and the command runs in a new
 * session, so it cannot push input into a terminal of the host's. Only the
 * session's directory and the paths the daemon names are writable. The
 * sandbox is a word prefix for shoal_exec_spec_t's wrap: killing the exec's
 * process group kills bwrap, and with it everything inside (its pid
 * namespace ends with its init, which dies with bwrap).
 * Note: the host's files stay readable as far as their modes let the
 * daemon's user read them; hide the daemon's secrets (shoal_sandbox_t.hidden).
 */
#ifndef SHOAL_NODE_SANDBOX_H
#define SHOAL_NODE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

#define SHOAL_SANDBOX_UID 65534 /* nobody, also the group id */
#define SHOAL_SANDBOX_CHECK_TIMEOUT_MS 10000

typedef struct {
    const char *dir;             /* the session's directory (absolute): writable, and HOME */
    const char *const *writable; /* other host paths (absolute) bound writable at the
                                    same path (the daemon's own working files) */
    size_t writable_count;
    const char *const *hidden; /* host paths (absolute) the sandbox must not read: a
                                  directory becomes an empty tmpfs, a file an empty
                                  one; a path that does not exist is skipped. Bound
                                  before dir and writable, so those stay visible
                                  inside a hidden directory */
    size_t hidden_count;
    bool network; /* share the host's network; false: a network namespace of its own */
} shoal_sandbox_t;

/* Whether bubblewrap can make a sandbox here: runs `bwrap --unshare-all
 * --die-with-parent --ro-bind / / --dev /dev --proc /proc --uid 65534 --gid
 * 65534 true`, bwrap found in this process' PATH, and waits for it (up to
 * SHOAL_SANDBOX_CHECK_TIMEOUT_MS; blocks: call it at start-up or beside the
 * loop). 0, or -1 with the reason in err: bwrap missing ("... install
 * bubblewrap"), or bwrap's own last line of output (user namespaces
 * disabled, ...) with the kernel setting that forbids them when one does. */
int shoal_sandbox_check(char *err, size_t err_size);

/* The words to run before a command to run it in the sandbox spec
 * describes (shoal_exec_spec_t.wrap): `/usr/bin/bwrap --die-with-parent
 * --unshare-all [--share-net] --ro-bind / / --dev /dev --proc /proc --tmpfs
 * /tmp [hidden...] --bind DIR DIR [--bind W W ...] --uid 65534 --gid 65534
 * --setenv HOME DIR --new-session --`. bwrap is the absolute path found in
 * this process' PATH now, so the environment a session runs in cannot put
 * another program in its place. The command's own argv[0] is found inside,
 * in the exec's environment's PATH; its directory is the exec's cwd (which
 * must be visible inside). A NULL-terminated array the caller frees with
 * shoal_adapter_argv_free (adapter.h). NULL with the reason in err: bwrap
 * not found, a path not absolute, or out of memory. */
char **shoal_sandbox_argv(const shoal_sandbox_t *spec, char *err, size_t err_size);

#endif
