/* node/adapter_list.c: a plain list of commands, one test per line as
 * `name<TAB>argv...[<TAB>requires]`, the argv quoted as sh quotes words
 * (words.h). The list is the collection; each test runs as its own process
 * (never through a shell) and its exit status is its outcome. The whole file
 * defines the runner: its bytes go into the adapter's digest, so participants
 * with different lists never meet.
 */
#include "node/adapter_impl.h"
#include "node/words.h"

#include <czmq.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    shoal_collection_t tests; /* in file order, indexed by name */
    char ***argv;             /* per test */
    unsigned *lines;          /* per test: its line in the file */
    size_t cap;               /* of argv and lines */
    zhashx_t *seen;           /* while loading: name -> index + 1, for duplicates */
} s_list_t;

static void
s_destroy(void *state)
{
    s_list_t *self = state;
    for (size_t i = 0; i < self->tests.count; i++)
        shoal_adapter_argv_free(&self->argv[i]);
    free(self->argv);
    free(self->lines);
    shoal_collection_clear(&self->tests);
    free(self);
}

/* "gpu,os=linux": comma separated terms, each `key` or `key=value`, no spaces. */
static bool
s_requires_ok(const char *requires)
{
    if (!*requires)
        return true;
    const char *p = requires;
    for (;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || p[0] == '=' || memchr(p, ' ', len))
            return false;
        if (!p[len])
            return true;
        p += len + 1;
    }
}

static int
s_add(s_list_t *self, const char *name, char **argv, const char *requires, unsigned line)
{
    if (self->tests.count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 64;
        char ***argvs = realloc(self->argv, cap * sizeof(*argvs));
        if (argvs)
            self->argv = argvs;
        unsigned *lines = realloc(self->lines, cap * sizeof(*lines));
        if (lines)
            self->lines = lines;
        if (!argvs || !lines)
            return -1;
        self->cap = cap;
    }
    if (shoal_collection_add(&self->tests, name, "", 0, requires) != 0 ||
        zhashx_insert(self->seen, name, (void *)(uintptr_t)self->tests.count) != 0)
        return -1;
    self->argv[self->tests.count - 1] = argv;
    self->lines[self->tests.count - 1] = line;
    return 0;
}

static int
s_line(s_list_t *self, const char *path, unsigned line, char *text, char *err, size_t err_size)
{
    char *fields[4] = {text, NULL, NULL, NULL};
    size_t nfields = 1;
    for (char *p = text; *p; p++)
        if (*p == '\t') {
            *p = '\0';
            if (nfields == 4)
                break;
            fields[nfields++] = p + 1;
        }
    if (nfields >= 2 && nfields <= 3 && fields[0][0] && shoal_has_control(fields[0])) {
        snprintf(err, err_size, "%s:%u: a test name may not contain control characters", path,
                 line);
        return -1;
    }
    if (nfields < 2 || nfields > 3 || !fields[0][0] || fields[0][0] == ' ') {
        snprintf(err, err_size,
                 "%s:%u: expected 'name<TAB>command[<TAB>requires]' (fields separated by tabs)",
                 path, line);
        return -1;
    }
    const char *requires = nfields == 3 ? fields[2] : "";
    if (!s_requires_ok(requires)) {
        snprintf(err, err_size,
                 "%s:%u: bad requirements '%s': expected 'key' or 'key=value' "
                 "terms separated by commas",
                 path, line, requires);
        return -1;
    }
    uintptr_t first = (uintptr_t)zhashx_lookup(self->seen, fields[0]);
    if (first) {
        snprintf(err, err_size, "%s:%u: duplicate test name '%s' (first on line %u)", path, line,
                 fields[0], self->lines[first - 1]);
        return -1;
    }
    char **argv, why[256];
    if (shoal_words_split(fields[1], &argv, why, sizeof(why)) != 0 || !argv[0]) {
        snprintf(err, err_size, "%s:%u: %s", path, line, argv ? "empty command" : why);
        shoal_words_free(&argv);
        return -1;
    }
    if (s_add(self, fields[0], argv, requires, line) != 0) {
        shoal_adapter_argv_free(&argv);
        snprintf(err, err_size, "%s:%u: out of memory", path, line);
        return -1;
    }
    return 0;
}

/* Reads the list and feeds its raw bytes to the digest. */
static int
s_load(s_list_t *self, const char *path, crypto_generichash_state *hash, char *err, size_t err_size)
{
    FILE *in = fopen(path, "r");
    if (!in) {
        snprintf(err, err_size, "cannot open test list '%s': %s", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned number = 0;
    self->seen = zhashx_new();
    if (!self->seen) {
        snprintf(err, err_size, "out of memory");
        rc = -1;
    }
    while (rc == 0 && (n = getline(&line, &cap, in)) >= 0) {
        number++;
        crypto_generichash_update(hash, (const unsigned char *)line, (size_t)n);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if ((size_t)n != strlen(line)) {
            snprintf(err, err_size, "%s:%u: NUL byte in line", path, number);
            rc = -1;
            break;
        }
        const char *p = line + strspn(line, " \t");
        if (*p == '\0' || *p == '#')
            continue;
        rc = s_line(self, path, number, line, err, err_size);
    }
    if (rc == 0 && ferror(in)) {
        snprintf(err, err_size, "cannot read test list '%s': %s", path, strerror(errno));
        rc = -1;
    }
    free(line);
    fclose(in);
    zhashx_destroy(&self->seen);
    if (rc == 0 && shoal_collection_index(&self->tests) != 0) {
        snprintf(err, err_size, "out of memory");
        rc = -1;
    }
    return rc;
}

static int
s_init(const void *ops, void **state, int argc, char *const *argv, const char *list_path,
       crypto_generichash_state *hash, char *err, size_t err_size)
{
    (void)ops;
    (void)argc;
    (void)argv;
    s_list_t *self = calloc(1, sizeof(*self));
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    if (s_load(self, list_path, hash, err, err_size) != 0) {
        s_destroy(self);
        return -1;
    }
    *state = self;
    return 0;
}

static int
s_collect(const void *state, shoal_collection_t *out, char *err, size_t err_size)
{
    const s_list_t *self = state;
    if (shoal_collection_copy(out, &self->tests) != 0) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    return 0;
}

static char **
s_argv(const void *state, const char *id)
{
    const s_list_t *self = state;
    size_t t = shoal_collection_find(&self->tests, id);
    if (t == SIZE_MAX)
        return NULL;
    size_t argc = 0;
    while (self->argv[t][argc])
        argc++;
    return shoal_argv_copy(argc, self->argv[t]);
}

/* A list of commands is bound to an operating system and architecture. */
static char **
s_toolchain_argv(const void *state)
{
    (void)state;
    static char *const uname[] = {"uname", "-sm", NULL};
    return shoal_argv_copy(2, uname);
}

const shoal_adapter_ops_t shoal_adapter_list_ops = {
    .name = "list",
    .init = s_init,
    .destroy = s_destroy,
    .collect = s_collect,
    .argv = s_argv,
    .batch_max = 1,
    .toolchain_argv = s_toolchain_argv,
};
