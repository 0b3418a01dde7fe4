/* node/sandbox.c: bubblewrap's command line for a sandbox, and the check
 * that bwrap works here (see sandbox.h). The order of the words matters:
 * bwrap mounts in the order given, so the hidden paths' covers and /tmp's
 * tmpfs come after the read-only root, and the writable binds after them
 * all, keeping a directory under /tmp (or under a hidden one) visible.
 */
#include "node/sandbox.h"

#include "node/adapter.h"
#include "node/exec.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_BWRAP "bwrap"
#define S_FIXED_WORDS 32 /* the words besides the paths' */

/* The words being built, in room counted beforehand: after a failed copy
 * the rest are not made, and the caller frees what was. */
typedef struct {
    char **v;
    size_t len;
    bool failed;
} s_words_t;

static void
s_push(s_words_t *w, const char *word)
{
    if (!w->failed && !(w->v[w->len++] = strdup(word)))
        w->failed = true;
}

/* bwrap as an absolute path found in this process' PATH; NULL if none. */
static char *
s_bwrap_path(void)
{
    char *found = shoal_exec_lookup(S_BWRAP, NULL, NULL);
    if (found && found[0] != '/') { /* a relative PATH entry */
        char *absolute = realpath(found, NULL);
        free(found);
        found = absolute;
    }
    return found;
}

static void
s_push_pair(s_words_t *w, const char *option, const char *path)
{
    s_push(w, option);
    s_push(w, path);
    s_push(w, path);
}

/* A directory is covered by an empty tmpfs, anything else by /dev/null; a
 * path this process cannot see is skipped (its user, the sandbox's too on
 * the host, cannot reach it either). */
static void
s_push_hidden(s_words_t *w, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (S_ISDIR(st.st_mode)) {
        s_push(w, "--tmpfs");
        s_push(w, path);
    } else {
        s_push(w, "--ro-bind");
        s_push(w, "/dev/null");
        s_push(w, path);
    }
}

/* The first of spec's paths that is not absolute, or NULL. */
static const char *
s_relative_path(const shoal_sandbox_t *spec)
{
    if (!spec->dir || spec->dir[0] != '/')
        return spec->dir ? spec->dir : "(none)";
    for (size_t i = 0; i < spec->writable_count; i++)
        if (spec->writable[i][0] != '/')
            return spec->writable[i];
    for (size_t i = 0; i < spec->hidden_count; i++)
        if (spec->hidden[i][0] != '/')
            return spec->hidden[i];
    return NULL;
}

char **
shoal_sandbox_argv(const shoal_sandbox_t *spec, char *err, size_t err_size)
{
    const char *relative = s_relative_path(spec);
    if (relative) {
        snprintf(err, err_size, "sandbox: the path '%s' is not absolute", relative);
        return NULL;
    }
    char *bwrap = s_bwrap_path();
    if (!bwrap) {
        snprintf(err, err_size, "sandbox: bwrap is not in PATH: install bubblewrap");
        return NULL;
    }
    char uid[16];
    snprintf(uid, sizeof(uid), "%d", SHOAL_SANDBOX_UID);
    s_words_t w = {.v = calloc(S_FIXED_WORDS + 3 * (spec->hidden_count + spec->writable_count),
                               sizeof(char *))};
    if (!w.v) {
        free(bwrap);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    s_push(&w, bwrap);
    free(bwrap);
    s_push(&w, "--die-with-parent");
    s_push(&w, "--unshare-all");
    if (spec->network)
        s_push(&w, "--share-net");
    s_push_pair(&w, "--ro-bind", "/");
    for (size_t i = 0; i < spec->hidden_count; i++)
        s_push_hidden(&w, spec->hidden[i]);
    s_push(&w, "--dev");
    s_push(&w, "/dev");
    s_push(&w, "--proc");
    s_push(&w, "/proc");
    s_push(&w, "--tmpfs");
    s_push(&w, "/tmp");
    s_push_pair(&w, "--bind", spec->dir);
    for (size_t i = 0; i < spec->writable_count; i++)
        s_push_pair(&w, "--bind", spec->writable[i]);
    s_push(&w, "--uid");
    s_push(&w, uid);
    s_push(&w, "--gid");
    s_push(&w, uid);
    s_push(&w, "--setenv");
    s_push(&w, "HOME");
    s_push(&w, spec->dir);
    /* Job control is the host's business: without a session of its own a
     * sandboxed process could inject input into the daemon's terminal
     * (TIOCSTI). The session leader is inside the pid namespace, which dies
     * with bwrap, so killing bwrap's process group still ends everything. */
    s_push(&w, "--new-session");
    s_push(&w, "--");
    assert(w.len < S_FIXED_WORDS + 3 * (spec->hidden_count + spec->writable_count));
    if (w.failed) {
        snprintf(err, err_size, "out of memory");
        shoal_adapter_argv_free(&w.v);
    }
    return w.v;
}

/* What forbids user namespaces here, from the kernel's settings; "" if
 * none of them does. */
static const char *
s_userns_hint(void)
{
    static const struct {
        const char *path, *forbids, *hint;
    } settings[] = {
        {"/proc/sys/kernel/unprivileged_userns_clone", "0",
         " (kernel.unprivileged_userns_clone is 0)"},
        {"/proc/sys/user/max_user_namespaces", "0", " (user.max_user_namespaces is 0)"},
        {"/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
         " (kernel.apparmor_restrict_unprivileged_userns is 1: AppArmor forbids user "
         "namespaces to programs without a profile)"},
    };
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        char value[32] = "";
        FILE *f = fopen(settings[i].path, "r");
        if (!f)
            continue;
        if (!fgets(value, sizeof(value), f))
            value[0] = '\0';
        fclose(f);
        value[strcspn(value, "\n")] = '\0';
        if (strcmp(value, settings[i].forbids) == 0)
            return settings[i].hint;
    }
    return "";
}

int
shoal_sandbox_check(char *err, size_t err_size)
{
    char *bwrap = s_bwrap_path();
    if (!bwrap) {
        snprintf(err, err_size, "bubblewrap (bwrap) is not in PATH: install bubblewrap");
        return -1;
    }
    char uid[16];
    snprintf(uid, sizeof(uid), "%d", SHOAL_SANDBOX_UID);
    char *argv[] = {bwrap,
                    "--unshare-all",
                    "--die-with-parent",
                    "--ro-bind",
                    "/",
                    "/",
                    "--dev",
                    "/dev",
                    "--proc",
                    "/proc",
                    "--uid",
                    uid,
                    "--gid",
                    uid,
                    "true",
                    NULL};
    shoal_exec_spec_t spec = {.argv = argv, .timeout_ms = SHOAL_SANDBOX_CHECK_TIMEOUT_MS};
    char why[256];
    shoal_exec_t *exec = shoal_exec_run(&spec, why, sizeof(why));
    free(bwrap);
    if (!exec) {
        snprintf(err, err_size, "cannot run bwrap: %s", why);
        return -1;
    }
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    int rc = r->exit_code == 0 && !r->signal && !r->timed_out && !r->spawn_failed ? 0 : -1;
    if (rc != 0) {
        shoal_exec_last_line(r, why, sizeof(why));
        if (r->timed_out)
            snprintf(why, sizeof(why), "no answer in %d s", SHOAL_SANDBOX_CHECK_TIMEOUT_MS / 1000);
        else if (r->signal)
            snprintf(why, sizeof(why), "killed by signal %d", r->signal);
        snprintf(err, err_size, "bubblewrap cannot make a sandbox here: %s%s",
                 why[0] ? why : "no reason given", s_userns_hint());
    }
    shoal_exec_destroy(&exec);
    return rc;
}
