/* node/fingerprint.c: a toolchain's line about itself, normalised, and the
 * digest of the files that pin a run's dependencies (see fingerprint.h).
 * The toolchain's output is made printable UTF-8 here (control bytes and
 * whitespace become one space, invalid bytes '?'), so a fingerprint can be
 * carried and quoted as it is.
 */
#include "node/fingerprint.h"

#include "node/exec.h"
#include "node/utf8.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_OUTPUT_CAP (64 * 1024)
#define S_WORD_SHOWN 24 /* a longer word (a script) is shown as "..." */
#define S_DIGEST 32     /* BLAKE2b-256 */

/* The command as messages name it: its words, up to one that is long or
 * has blanks ("python3 -c ..."). */
static void
s_describe(char *const *argv, char *out, size_t out_size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; argv[i] && used < out_size; i++) {
        bool shown = i == 0 || (strlen(argv[i]) <= S_WORD_SHOWN && !strpbrk(argv[i], " \t\n"));
        used += (size_t)snprintf(out + used, out_size - used, "%s%s", i ? " " : "",
                                 shown ? argv[i] : "...");
        if (!shown)
            break;
    }
}

/* out (size bytes with the NUL, at most SHOAL_FINGERPRINT_MAX) from text:
 * blanks and control bytes collapsed to one space, trimmed, invalid UTF-8
 * as '?', cut before a character that does not fit. */
static void
s_normalise(const char *text, char *out, size_t size)
{
    if (size > SHOAL_FINGERPRINT_MAX)
        size = SHOAL_FINGERPRINT_MAX;
    const unsigned char *p = (const unsigned char *)text;
    size_t used = 0;
    bool blank = false;
    while (*p) {
        if (*p <= ' ' || *p == 0x7f) {
            blank = true;
            p++;
            continue;
        }
        uint32_t cp;
        size_t len = shoal_utf8_next(p, &cp);
        const unsigned char *from = len ? p : (const unsigned char *)"?";
        size_t take = len ? len : 1;
        size_t space = blank && used > 0;
        if (used + space + take + 1 > size)
            break;
        if (space)
            out[used++] = ' ';
        memcpy(out + used, from, take);
        used += take;
        blank = false;
        p += take;
    }
    out[used] = '\0';
}

int
shoal_fingerprint_toolchain(char *const *argv, const char *cwd, char *const *env, char *out,
                            size_t out_size, char *err, size_t err_size)
{
    assert(out_size > 0);
    char command[128], why[256];
    s_describe(argv, command, sizeof(command));
    shoal_exec_spec_t spec = {.argv = argv,
                              .cwd = cwd,
                              .env = env,
                              .timeout_ms = SHOAL_FINGERPRINT_TIMEOUT_MS,
                              .output_cap = S_OUTPUT_CAP};
    shoal_exec_t *exec = shoal_exec_run(&spec, why, sizeof(why));
    if (!exec) {
        snprintf(err, err_size, "%s: %s", command, why);
        return -1;
    }
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    shoal_exec_last_line(r, why, sizeof(why));
    if (r->spawn_failed)
        snprintf(err, err_size, "%s: %s", command, r->output);
    else if (r->timed_out)
        snprintf(err, err_size, "%s: no answer in %d s", command,
                 SHOAL_FINGERPRINT_TIMEOUT_MS / 1000);
    else if (r->signal)
        snprintf(err, err_size, "%s: killed by signal %d", command, r->signal);
    else if (r->exit_code != 0)
        snprintf(err, err_size, "%s: exit %d%s%s", command, r->exit_code, why[0] ? ": " : "", why);
    else
        s_normalise(r->output, out, out_size);
    int rc = !r->spawn_failed && !r->timed_out && !r->signal && r->exit_code == 0 ? 0 : -1;
    shoal_exec_destroy(&exec);
    if (rc == 0 && !out[0]) {
        snprintf(err, err_size, "%s: printed nothing", command);
        rc = -1;
    }
    return rc;
}

int
shoal_fingerprint_adapter(const shoal_adapter_t *adapter, const char *cwd, char *const *env,
                          char *out, size_t out_size, char *err, size_t err_size)
{
    char **argv = shoal_adapter_toolchain_argv(adapter);
    if (!argv) {
        snprintf(out, out_size, "%s", "");
        return 0;
    }
    int rc = shoal_fingerprint_toolchain(argv, cwd, env, out, out_size, err, err_size);
    shoal_adapter_argv_free(&argv);
    return rc;
}

static bool
s_matches(const char *const *patterns, const char *name)
{
    for (size_t i = 0; patterns && patterns[i]; i++)
        if (fnmatch(patterns[i], name, FNM_PERIOD) == 0)
            return true;
    return false;
}

static int
s_by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in d that match, sorted; *count of them. 0, or -1 out of
 * memory, with err. */
static int
s_list(const char *const *patterns, DIR *d, char ***names, size_t *count, char *err,
       size_t err_size)
{
    *names = NULL;
    *count = 0;
    size_t cap = 0;
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (!s_matches(patterns, e->d_name))
            continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 8;
            char **grown = realloc(*names, cap * sizeof(*grown));
            if (!grown) {
                rc = -1;
                break;
            }
            *names = grown;
        }
        if (!((*names)[*count] = strdup(e->d_name)))
            rc = -1;
        else
            (*count)++;
    }
    if (rc != 0)
        snprintf(err, err_size, "out of memory");
    else if (*count)
        qsort(*names, *count, sizeof(**names), s_by_name);
    return rc;
}

/* The digest of the bytes of the regular file name in dir (its descriptor
 * dir_fd) into digest; 1 when it is not one (a directory, a dangling link:
 * not a dependency file), 0, or -1 with err. */
static int
s_file_digest(int dir_fd, const char *dir, const char *name, unsigned char digest[S_DIGEST],
              char *err, size_t err_size)
{
    /* O_NONBLOCK: a FIFO by that name must not hang us */
    int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0 && errno == ENOENT)
        return 1;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, err_size, "cannot read '%s/%s': %s", dir, name, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return 1;
    }
    crypto_generichash_state hash;
    crypto_generichash_init(&hash, NULL, 0, S_DIGEST);
    unsigned char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            crypto_generichash_update(&hash, buf, (size_t)n);
    if (n < 0)
        snprintf(err, err_size, "cannot read '%s/%s': %s", dir, name, strerror(errno));
    close(fd);
    crypto_generichash_final(&hash, digest, S_DIGEST);
    return n < 0 ? -1 : 0;
}

int
shoal_fingerprint_deps(const char *const *dep_files, const char *dir,
                       char out[SHOAL_FINGERPRINT_DEPS_HEX], char *err, size_t err_size)
{
    if (sodium_init() < 0) {
        snprintf(err, err_size, "cannot initialise libsodium");
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, err_size, "cannot read directory '%s': %s", dir, strerror(errno));
        return -1;
    }
    char **names;
    size_t count;
    int rc = s_list(dep_files, d, &names, &count, err, err_size);
    crypto_generichash_state hash;
    crypto_generichash_init(&hash, NULL, 0, S_DIGEST);
    for (size_t i = 0; i < count && rc == 0; i++) {
        unsigned char digest[S_DIGEST];
        int got = s_file_digest(dirfd(d), dir, names[i], digest, err, err_size);
        if (got == 0) {
            crypto_generichash_update(&hash, (const unsigned char *)names[i], strlen(names[i]) + 1);
            crypto_generichash_update(&hash, digest, sizeof(digest));
        }
        rc = got < 0 ? -1 : 0;
    }
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    closedir(d);
    unsigned char digest[S_DIGEST];
    crypto_generichash_final(&hash, digest, sizeof(digest));
    if (rc == 0)
        sodium_bin2hex(out, SHOAL_FINGERPRINT_DEPS_HEX, digest, sizeof(digest));
    return rc;
}

int
shoal_fingerprint_compare(const char *ours, const char *theirs, char *why, size_t why_size)
{
    ours = ours ? ours : "";
    theirs = theirs ? theirs : "";
    if (strcmp(ours, theirs) == 0)
        return 0;
    snprintf(why, why_size, "toolchain differs: the session's is '%s', this daemon's is '%s'",
             theirs, ours);
    return -1;
}
