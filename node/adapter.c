/* node/adapter.c: the pytest and plain-list adapters (see adapter.h).
 * The adapter owns the local command (pytest) or the parsed list; argv for a
 * batch is built only from those plus validated ids, never through a shell.
 * Results merge two sources for pytest: the JUnit report (authoritative) and,
 * when it is missing or partial, the per-test lines of pytest's verbose
 * output, so a crash is pinned on the test that was running, not the first of
 * its batch.
 */
#include "node/adapter.h"
#include "node/junit.h"
#include "node/words.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_ID_MAX 4096
#define S_PYTEST_BATCH_MAX 1000
#define S_COLLECT_OUTPUT_CAP (256 * 1024 * 1024)
#define S_ERR_TAIL 1500 /* bytes of pytest's output quoted in an error */

typedef enum { S_KIND_PYTEST, S_KIND_LIST } s_kind_t;

typedef struct {
    shoal_test_t test;
    char **argv;
    unsigned line;
} s_entry_t;

/* ---- sorted lookup tables ---- */

typedef struct {
    char *key; /* a list's name, a pytest id, or classname "\n" name as JUnit names it */
    size_t index;
} s_key_t;

static int
s_key_cmp(const void *a, const void *b)
{
    const s_key_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Index of the first key equal to `key` in sorted keys[0..count), or count. */
static size_t
s_key_find(const s_key_t *keys, size_t count, const char *key)
{
    s_key_t probe = {(char *)key, 0};
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s_key_cmp(&keys[mid], &probe) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < count && strcmp(keys[lo].key, key) == 0 ? lo : count;
}

struct shoal_adapter {
    s_kind_t kind;
    char **command;     /* pytest: the whole command after `--` */
    size_t prefix_len;  /* pytest: words that start pytest ("python3 -m pytest") */
    s_entry_t *entries; /* list: in file order */
    size_t count;
    s_key_t *by_name; /* list: names (borrowed) sorted */
    char digest[33];
};

const char *
shoal_outcome_str(shoal_outcome_t o)
{
    switch (o) {
        case SHOAL_OUTCOME_PASSED:
            return "passed";
        case SHOAL_OUTCOME_FAILED:
            return "failed";
        case SHOAL_OUTCOME_ERROR:
            return "error";
        case SHOAL_OUTCOME_SKIPPED:
            return "skipped";
        case SHOAL_OUTCOME_NOT_RUN:
            return "not-run";
    }
    return "unknown";
}

void
shoal_collection_clear(shoal_collection_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->count; i++) {
        free(c->tests[i].id);
        free(c->tests[i].file);
        free(c->tests[i].requires);
    }
    free(c->tests);
    c->tests = NULL;
    c->count = 0;
}

void
shoal_test_result_clear(shoal_test_result_t *r)
{
    if (!r)
        return;
    free(r->message);
    free(r->output);
    r->message = r->output = NULL;
}

void
shoal_adapter_argv_free(char ***argv_p)
{
    if (!argv_p || !*argv_p)
        return;
    for (char **p = *argv_p; *p; p++)
        free(*p);
    free(*argv_p);
    *argv_p = NULL;
}

/* ---- argv helpers ---- */

static char **
s_argv_copy(size_t argc, char *const *argv)
{
    char **copy = calloc(argc + 1, sizeof(*copy));
    if (!copy)
        return NULL;
    for (size_t i = 0; i < argc; i++)
        if (!(copy[i] = strdup(argv[i]))) {
            shoal_adapter_argv_free(&copy);
            return NULL;
        }
    return copy;
}

/* A growing NULL-terminated argv; after a failed push the vector is freed and
 * further pushes do nothing, so callers check once at the end. */
typedef struct {
    char **v;
    size_t len, cap;
    bool failed;
} s_argv_t;

static void
s_push(s_argv_t *a, const char *word)
{
    if (a->failed)
        return;
    if (a->len + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        char **grown = realloc(a->v, cap * sizeof(*grown));
        if (!grown)
            goto failed;
        a->v = grown;
        a->cap = cap;
    }
    if (!(a->v[a->len] = strdup(word)))
        goto failed;
    a->v[++a->len] = NULL;
    return;
failed:
    a->failed = true;
    if (a->v)
        a->v[a->len] = NULL;
    shoal_adapter_argv_free(&a->v);
}

static const char *
s_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Words that start pytest: "pytest", "py.test", "python3 [-X opt] -m pytest". 0 if none. */
static size_t
s_pytest_prefix(int argc, char *const *argv)
{
    const char *prog = s_basename(argv[0]);
    if (strcmp(prog, "pytest") == 0 || strcmp(prog, "py.test") == 0 ||
        strcmp(prog, "pytest-3") == 0 || strcmp(prog, "py.test-3") == 0)
        return 1;
    if (strncmp(prog, "python", 6) != 0)
        return 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-m") == 0)
            return i + 1 < argc && strcmp(argv[i + 1], "pytest") == 0 ? (size_t)i + 2 : 0;
        if (strcmp(argv[i], "-mpytest") == 0)
            return (size_t)i + 1;
        if (argv[i][0] != '-')
            return 0;
        if ((strcmp(argv[i], "-X") == 0 || strcmp(argv[i], "-W") == 0) && i + 1 < argc)
            i++;
    }
    return 0;
}

/* pytest options (core and common plugins) whose value is the next word when
 * not given as --opt=value; each between spaces. */
static const char s_with_value[] =
    " -k -m -p -o -c -W -r -n --rootdir --basetemp --confcutdir --deselect --ignore"
    " --ignore-glob --tb --maxfail --durations --durations-min --log-level --log-format"
    " --log-date-format --log-cli-level --log-cli-format --log-cli-date-format --log-file"
    " --log-file-level --log-file-format --log-file-date-format --import-mode --color"
    " --capture --override-ini --junitxml --junit-xml --junitprefix --junit-prefix"
    " --show-capture --code-highlight --doctest-glob --doctest-report --cov --cov-report"
    " --cov-config --cov-fail-under --dist --numprocesses --maxprocesses --timeout"
    " --timeout-method --reruns --reruns-delay --randomly-seed --html --css --verbosity"
    " --config-file --assert --report-log --tx --rsyncdir ";

static bool
s_takes_value(const char *opt)
{
    size_t len = strlen(opt);
    for (const char *p = strstr(s_with_value, opt); p; p = strstr(p + 1, opt))
        if (p[-1] == ' ' && p[len] == ' ')
            return true;
    return false;
}

/* The command's program and options into a, its positional arguments (test
 * paths; a batch's ids take their place) into paths (may be NULL: dropped).
 * --collect-only is dropped: the adapter decides whether it collects. */
static void
s_push_command(const shoal_adapter_t *self, s_argv_t *a, s_argv_t *paths, bool *has_rootdir)
{
    size_t i = 0;
    bool only_paths = false;
    *has_rootdir = false;
    for (; i < self->prefix_len; i++)
        s_push(a, self->command[i]);
    for (; self->command[i]; i++) {
        const char *w = self->command[i];
        if (!only_paths && strcmp(w, "--") == 0) {
            only_paths = true;
        } else if (only_paths || w[0] != '-' || w[1] == '\0') {
            if (paths)
                s_push(paths, w);
        } else if (strcmp(w, "--collect-only") == 0 || strcmp(w, "--co") == 0) {
            continue;
        } else {
            if (strncmp(w, "--rootdir", 9) == 0)
                *has_rootdir = true;
            s_push(a, w);
            if (s_takes_value(w) && self->command[i + 1])
                s_push(a, self->command[++i]);
        }
    }
}

/* Options every pytest run gets after the user's own (the last one wins). */
static void
s_push_options(s_argv_t *a, const char *const *options, size_t count, bool has_rootdir)
{
    for (size_t i = 0; i < count; i++)
        s_push(a, options[i]);
    s_push(a, "-p");
    s_push(a, "no:cacheprovider");
    s_push(a, "--color=no");
    if (!has_rootdir)
        s_push(a, "--rootdir=.");
}

/* ---- ids ---- */

static bool
s_has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

/* "dir/test_x.py::name..." with a clean relative path; the path's length in
 * *path_len. Files are not looked at. */
static bool
s_pytest_id_shape(const char *id, size_t *path_len)
{
    size_t len = strnlen(id, S_ID_MAX + 1);
    if (len == 0 || len > S_ID_MAX || id[0] == '-' || id[0] == '/' || s_has_control(id))
        return false;
    const char *sep = strstr(id, "::");
    if (!sep || sep[2] == '\0' || sep[2] == ':' || sep[2] == '[')
        return false;
    size_t plen = (size_t)(sep - id);
    if (plen < 4 || strncmp(sep - 3, ".py", 3) != 0)
        return false;
    /* every path component non-empty, and neither "." nor ".." */
    const char *c = id;
    while (c < sep) {
        const char *slash = memchr(c, '/', (size_t)(sep - c));
        size_t clen = slash ? (size_t)(slash - c) : (size_t)(sep - c);
        if (clen == 0 || (clen == 1 && c[0] == '.') || (clen == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        c += clen + 1;
    }
    if (sep[-4] == '/')
        return false; /* "dir/.py" */
    *path_len = plen;
    return true;
}

/* Index of the list test called name, or -1. */
static long
s_list_find(const shoal_adapter_t *self, const char *name)
{
    size_t k = s_key_find(self->by_name, self->count, name);
    return k < self->count ? (long)self->by_name[k].index : -1;
}

int
shoal_adapter_validate(const shoal_adapter_t *self, const char *cwd, const char *id)
{
    if (!id)
        return -1;
    if (self->kind == S_KIND_LIST)
        return s_list_find(self, id) >= 0 ? 0 : -1;
    size_t plen;
    if (!s_pytest_id_shape(id, &plen))
        return -1;
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%.*s", cwd ? cwd : ".", (int)plen, id);
    struct stat st;
    if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    return 0;
}

/* ---- the list file ---- */

static void
s_entries_free(s_entry_t *entries, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(entries[i].test.id);
        free(entries[i].test.file);
        free(entries[i].test.requires);
        shoal_adapter_argv_free(&entries[i].argv);
    }
    free(entries);
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
s_list_line(shoal_adapter_t *self, const char *path, unsigned line, char *text, char *err,
            size_t err_size)
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
    if (nfields < 2 || nfields > 3 || !fields[0][0] || fields[0][0] == ' ' ||
        s_has_control(fields[0])) {
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
    long dup = -1;
    for (size_t i = 0; i < self->count && dup < 0; i++)
        if (strcmp(self->entries[i].test.id, fields[0]) == 0)
            dup = (long)i;
    if (dup >= 0) {
        snprintf(err, err_size, "%s:%u: duplicate test name '%s' (first on line %u)", path, line,
                 fields[0], self->entries[dup].line);
        return -1;
    }
    char **argv, why[256];
    if (shoal_words_split(fields[1], &argv, why, sizeof(why)) != 0 || !argv[0]) {
        snprintf(err, err_size, "%s:%u: %s", path, line, argv ? "empty command" : why);
        shoal_words_free(&argv);
        return -1;
    }
    s_entry_t *grown = realloc(self->entries, (self->count + 1) * sizeof(*grown));
    if (!grown) {
        shoal_adapter_argv_free(&argv);
        snprintf(err, err_size, "%s:%u: out of memory", path, line);
        return -1;
    }
    self->entries = grown;
    s_entry_t *e = &self->entries[self->count];
    *e = (s_entry_t){{strdup(fields[0]), strdup(""), strdup(requires)}, argv, line};
    self->count++;
    if (!e->test.id || !e->test.file || !e->test.requires) {
        snprintf(err, err_size, "%s:%u: out of memory", path, line);
        return -1;
    }
    return 0;
}

/* Reads the list into self->entries and feeds the raw bytes to the digest. */
static int
s_list_load(shoal_adapter_t *self, const char *path, crypto_generichash_state *hash, char *err,
            size_t err_size)
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
        rc = s_list_line(self, path, number, line, err, err_size);
    }
    if (rc == 0 && ferror(in)) {
        snprintf(err, err_size, "cannot read test list '%s': %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && self->count == 0) {
        snprintf(err, err_size, "%s: no tests in the list", path);
        rc = -1;
    }
    free(line);
    fclose(in);
    if (rc != 0)
        return -1;
    self->by_name = calloc(self->count, sizeof(*self->by_name));
    if (!self->by_name) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < self->count; i++)
        self->by_name[i] = (s_key_t){self->entries[i].test.id, i};
    qsort(self->by_name, self->count, sizeof(*self->by_name), s_key_cmp);
    return 0;
}

/* ---- lifecycle ---- */

shoal_adapter_t *
shoal_adapter_new(int argc, char *const *argv, const char *list_path, char *err, size_t err_size)
{
    shoal_adapter_t *self = calloc(1, sizeof(*self));
    if (!self || sodium_init() < 0) {
        snprintf(err, err_size, self ? "cannot initialise libsodium" : "out of memory");
        free(self);
        return NULL;
    }
    crypto_generichash_state hash;
    crypto_generichash_init(&hash, NULL, 0, 16);
    self->kind = list_path ? S_KIND_LIST : S_KIND_PYTEST;
    const char *name = shoal_adapter_name(self);
    crypto_generichash_update(&hash, (const unsigned char *)name, strlen(name) + 1);
    if (list_path) {
        if (s_list_load(self, list_path, &hash, err, err_size) != 0)
            goto failed;
    } else {
        if (argc <= 0 || !argv || !argv[0]) {
            snprintf(err, err_size, "no test command: give one after -- or use --list FILE");
            goto failed;
        }
        self->prefix_len = s_pytest_prefix(argc, argv);
        if (self->prefix_len == 0) {
            snprintf(err, err_size, "no adapter for '%s': use --list FILE or pytest", argv[0]);
            goto failed;
        }
        if (!(self->command = s_argv_copy((size_t)argc, argv))) {
            snprintf(err, err_size, "out of memory");
            goto failed;
        }
        for (int i = 0; i < argc; i++)
            crypto_generichash_update(&hash, (const unsigned char *)argv[i], strlen(argv[i]) + 1);
    }
    unsigned char digest[16];
    crypto_generichash_final(&hash, digest, sizeof(digest));
    sodium_bin2hex(self->digest, sizeof(self->digest), digest, sizeof(digest));
    return self;
failed:
    shoal_adapter_destroy(&self);
    return NULL;
}

void
shoal_adapter_destroy(shoal_adapter_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    shoal_adapter_t *self = *self_p;
    shoal_adapter_argv_free(&self->command);
    s_entries_free(self->entries, self->count);
    free(self->by_name);
    free(self);
    *self_p = NULL;
}

const char *
shoal_adapter_name(const shoal_adapter_t *self)
{
    return self->kind == S_KIND_LIST ? "list" : "pytest";
}

const char *
shoal_adapter_digest(const shoal_adapter_t *self)
{
    return self->digest;
}

size_t
shoal_adapter_batch_max(const shoal_adapter_t *self)
{
    return self->kind == S_KIND_LIST ? 1 : S_PYTEST_BATCH_MAX;
}

/* ---- collection ---- */

static int
s_collection_add(shoal_collection_t *out, const char *id, size_t id_len, size_t file_len,
                 const char *requires)
{
    shoal_test_t *grown = realloc(out->tests, (out->count + 1) * sizeof(*grown));
    if (!grown)
        return -1;
    out->tests = grown;
    shoal_test_t *t = &out->tests[out->count];
    *t = (shoal_test_t){strndup(id, id_len), strndup(id, file_len), strdup(requires)};
    out->count++;
    return t->id && t->file && t->requires ? 0 : -1;
}

const char *
shoal_output_tail(const char *text, size_t len, size_t max)
{
    if (len <= max)
        return text;
    const char *p = text + len - max;
    const char *nl = memchr(p, '\n', max / 4);
    return nl ? nl + 1 : p;
}

/* pytest -q --collect-only prints one node id per line, then a blank line and
 * a summary; anything not shaped like an id (warnings, plugin chatter) is
 * skipped. */
static int
s_parse_collected(const char *output, shoal_collection_t *out)
{
    const char *line = output;
    bool started = false;
    while (*line) {
        size_t len = strcspn(line, "\n");
        if (len == 0 && started)
            break;
        char id[S_ID_MAX + 1];
        size_t plen;
        if (len > 0 && len <= S_ID_MAX) {
            memcpy(id, line, len);
            id[len] = '\0';
            if (s_pytest_id_shape(id, &plen)) {
                started = true;
                if (s_collection_add(out, id, len, plen, "") != 0)
                    return -1;
            }
        }
        line += len;
        if (*line == '\n')
            line++;
    }
    return 0;
}

/* The user's command with `options` and its paths: what collects the whole
 * suite (the collection itself, and a worker). NULL out of memory. */
static char **
s_suite_argv(const shoal_adapter_t *self, const char *const *options, size_t count)
{
    s_argv_t a = {0}, paths = {0};
    bool has_rootdir;
    s_push_command(self, &a, &paths, &has_rootdir);
    s_push_options(&a, options, count, has_rootdir);
    if (paths.len) {
        s_push(&a, "--");
        for (size_t i = 0; i < paths.len; i++)
            s_push(&a, paths.v[i]);
    }
    bool oom = a.failed || paths.failed;
    shoal_adapter_argv_free(&paths.v);
    if (oom)
        shoal_adapter_argv_free(&a.v);
    return a.v;
}

char **
shoal_adapter_worker_argv(const shoal_adapter_t *self, const char *module)
{
    if (self->kind != S_KIND_PYTEST)
        return NULL;
    const char *options[] = {"--verbosity=-1", "-p", module};
    return s_suite_argv(self, options, 3);
}

static int
s_pytest_collect(shoal_adapter_t *self, const char *cwd, shoal_collection_t *out, char *err,
                 size_t err_size)
{
    const char *options[] = {"--collect-only", "--verbosity=-1"};
    char **argv = s_suite_argv(self, options, 2);
    if (!argv) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    shoal_exec_spec_t spec = {.argv = argv,
                              .cwd = cwd,
                              .timeout_ms = SHOAL_ADAPTER_COLLECT_TIMEOUT_MS,
                              .output_cap = S_COLLECT_OUTPUT_CAP};
    shoal_exec_t *exec = shoal_exec_run(&spec, err, err_size);
    shoal_adapter_argv_free(&argv);
    if (!exec)
        return -1;
    const shoal_exec_result_t *r = shoal_exec_result(exec);
    int rc = -1;
    const char *tail = shoal_output_tail(r->output, r->output_len, S_ERR_TAIL);
    if (r->spawn_failed)
        snprintf(err, err_size, "pytest collection: %s", r->output);
    else if (r->timed_out)
        snprintf(err, err_size, "pytest collection timed out after %d s:\n%s",
                 SHOAL_ADAPTER_COLLECT_TIMEOUT_MS / 1000, tail);
    else if (r->signal)
        snprintf(err, err_size, "pytest collection was killed by signal %d:\n%s", r->signal, tail);
    else if (r->exit_code != 0 && r->exit_code != 5) /* 5: no tests collected */
        snprintf(err, err_size, "pytest collection failed (exit status %d):\n%s", r->exit_code,
                 tail);
    else if (r->truncated)
        snprintf(err, err_size, "pytest collection printed more than %d MiB",
                 S_COLLECT_OUTPUT_CAP >> 20);
    else if (s_parse_collected(r->output, out) != 0)
        snprintf(err, err_size, "out of memory");
    else
        rc = 0;
    shoal_exec_destroy(&exec);
    if (rc != 0)
        shoal_collection_clear(out);
    return rc;
}

int
shoal_adapter_collect(shoal_adapter_t *self, const char *cwd, shoal_collection_t *out, char *err,
                      size_t err_size)
{
    out->tests = NULL;
    out->count = 0;
    if (self->kind == S_KIND_PYTEST)
        return s_pytest_collect(self, cwd, out, err, err_size);
    for (size_t i = 0; i < self->count; i++) {
        const shoal_test_t *t = &self->entries[i].test;
        if (s_collection_add(out, t->id, strlen(t->id), 0, t->requires) != 0) {
            shoal_collection_clear(out);
            snprintf(err, err_size, "out of memory");
            return -1;
        }
    }
    return 0;
}

/* ---- running ---- */

char **
shoal_adapter_argv(const shoal_adapter_t *self, const char *const *ids, size_t count,
                   const char *report_path)
{
    if (self->kind == S_KIND_LIST) {
        long e = count == 1 ? s_list_find(self, ids[0]) : -1;
        if (e < 0)
            return NULL;
        size_t argc = 0;
        while (self->entries[e].argv[argc])
            argc++;
        return s_argv_copy(argc, self->entries[e].argv);
    }
    s_argv_t a = {0};
    bool has_rootdir;
    s_push_command(self, &a, NULL, &has_rootdir);
    const char *options[] = {"--verbosity=1",         "-o", "junit_family=xunit1",          "-o",
                             "junit_logging=out-err", "-o", "junit_log_passing_tests=False"};
    s_push_options(&a, options, sizeof(options) / sizeof(options[0]), has_rootdir);
    size_t len = strlen("--junitxml=") + strlen(report_path) + 1;
    char *junit = malloc(len);
    if (junit) {
        snprintf(junit, len, "--junitxml=%s", report_path);
        s_push(&a, junit);
        free(junit);
    } else {
        a.failed = true;
        shoal_adapter_argv_free(&a.v);
    }
    s_push(&a, "--");
    for (size_t i = 0; i < count; i++)
        s_push(&a, ids[i]);
    return a.failed ? NULL : a.v;
}

/* ---- results ---- */

typedef struct {
    const char *const *ids;
    size_t count;
    s_key_t *keys;
    shoal_test_result_t *results;
    bool *have;
    bool oom;
} s_batch_t;

static char *
s_dup_capped(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > SHOAL_ADAPTER_OUTPUT_CAP)
        la = SHOAL_ADAPTER_OUTPUT_CAP;
    if (lb > SHOAL_ADAPTER_OUTPUT_CAP - la)
        lb = SHOAL_ADAPTER_OUTPUT_CAP - la;
    bool sep = la && lb;
    char *out = malloc(la + sep + lb + 1);
    if (!out)
        return NULL;
    memcpy(out, a, la);
    if (sep)
        out[la] = '\n';
    memcpy(out + la + sep, b, lb);
    out[la + sep + lb] = '\0';
    return out;
}

int
shoal_test_result_set(shoal_test_result_t *r, shoal_outcome_t outcome, double seconds,
                      const char *message, const char *output, const char *output2)
{
    char *m = strdup(message), *o = s_dup_capped(output, output2);
    if (!m || !o) {
        free(m);
        free(o);
        return -1;
    }
    shoal_test_result_clear(r);
    r->outcome = outcome;
    r->seconds = seconds;
    r->message = m;
    r->output = o;
    return 0;
}

/* Severity when one test is reported twice (e.g. teardown error after a pass). */
static int
s_severity(shoal_outcome_t o)
{
    return o == SHOAL_OUTCOME_FAILED    ? 4
           : o == SHOAL_OUTCOME_ERROR   ? 3
           : o == SHOAL_OUTCOME_SKIPPED ? 1
           : o == SHOAL_OUTCOME_PASSED  ? 2
                                        : 0;
}

/* Records an outcome unless the test already has one at least as severe. */
static void
s_merge(s_batch_t *b, size_t i, shoal_outcome_t outcome, double seconds, const char *message,
        const char *text, const char *output)
{
    if (b->have[i] && s_severity(b->results[i].outcome) >= s_severity(outcome))
        return;
    if (b->have[i])
        seconds += b->results[i].seconds;
    bool quiet = outcome == SHOAL_OUTCOME_PASSED || outcome == SHOAL_OUTCOME_SKIPPED;
    if (shoal_test_result_set(&b->results[i], outcome, seconds, message, quiet ? "" : text,
                              quiet ? "" : output) != 0)
        b->oom = true;
    b->have[i] = true;
}

static void
s_on_record(void *ctx, const shoal_junit_record_t *rec)
{
    s_batch_t *b = ctx;
    size_t len = strlen(rec->classname) + 1 + strlen(rec->name) + 1;
    char *key = malloc(len);
    if (!key) {
        b->oom = true;
        return;
    }
    snprintf(key, len, "%s\n%s", rec->classname, rec->name);
    for (size_t k = s_key_find(b->keys, b->count, key);
         k < b->count && strcmp(b->keys[k].key, key) == 0; k++)
        s_merge(b, b->keys[k].index, rec->outcome, rec->seconds, rec->message, rec->text,
                rec->output);
    free(key);
}

/* Outcome words of pytest's verbose lines: "ID PASSED  [ 10%]". */
static const struct {
    const char *word;
    shoal_outcome_t outcome;
} s_words[] = {
    {" PASSED", SHOAL_OUTCOME_PASSED},   {" XPASS", SHOAL_OUTCOME_PASSED},
    {" FAILED", SHOAL_OUTCOME_FAILED},   {" ERROR", SHOAL_OUTCOME_ERROR},
    {" SKIPPED", SHOAL_OUTCOME_SKIPPED}, {" XFAIL", SHOAL_OUTCOME_SKIPPED},
};

/* Fills tests the report did not cover from pytest's verbose output: a line
 * that is an id of the batch, a space and an outcome word. */
static void
s_from_output(s_batch_t *b, const char *output)
{
    s_key_t *by_id = calloc(b->count, sizeof(*by_id));
    if (!by_id) {
        b->oom = true;
        return;
    }
    for (size_t i = 0; i < b->count; i++)
        by_id[i] = (s_key_t){(char *)b->ids[i], i};
    qsort(by_id, b->count, sizeof(*by_id), s_key_cmp);
    char id[S_ID_MAX + 1];
    for (const char *line = output; *line;) {
        size_t len = strcspn(line, "\n");
        for (size_t w = 0; w < sizeof(s_words) / sizeof(s_words[0]); w++) {
            size_t wlen = strlen(s_words[w].word);
            for (const char *at = line;
                 (at = memmem(at, (size_t)(line + len - at), s_words[w].word, wlen)); at++) {
                size_t ilen = (size_t)(at - line);
                char after = at[wlen];
                if (ilen > S_ID_MAX || (after != ' ' && after != '\n' && after != '\0'))
                    continue;
                memcpy(id, line, ilen);
                id[ilen] = '\0';
                for (size_t k = s_key_find(by_id, b->count, id);
                     k < b->count && strcmp(by_id[k].key, id) == 0; k++)
                    s_merge(b, by_id[k].index, s_words[w].outcome, 0, "", "", "");
            }
        }
        line += len;
        if (*line == '\n')
            line++;
    }
    free(by_id);
}

/* Why the first test without a result has none. */
static void
s_missing_reason(const shoal_exec_result_t *exec, bool report, char *out, size_t size)
{
    if (exec->spawn_failed)
        snprintf(out, size, "%s", exec->output);
    else if (exec->timed_out)
        snprintf(out, size, "timed out after %.1fs", (double)exec->duration_ms / 1000.0);
    else if (exec->signal)
        snprintf(out, size, "crashed: killed by signal %d", exec->signal);
    else if (!report)
        snprintf(out, size, "exit status %d without a report", exec->exit_code);
    else
        snprintf(out, size, "exit status %d and no result for this test in the report",
                 exec->exit_code);
}

static void
s_list_result(const shoal_exec_result_t *exec, s_batch_t *b)
{
    if (exec->spawn_failed || exec->timed_out || exec->signal)
        return; /* handled as a missing result */
    if (exec->exit_code == 0) {
        if (shoal_test_result_set(&b->results[0], SHOAL_OUTCOME_PASSED, exec->duration_ms / 1000.0,
                                  "", "", "") != 0)
            b->oom = true;
    } else {
        char message[64];
        snprintf(message, sizeof(message), "exit status %d", exec->exit_code);
        const char *tail =
            shoal_output_tail(exec->output, exec->output_len, SHOAL_ADAPTER_OUTPUT_CAP);
        if (shoal_test_result_set(&b->results[0], SHOAL_OUTCOME_FAILED, exec->duration_ms / 1000.0,
                                  message, tail, "") != 0)
            b->oom = true;
    }
    b->have[0] = true;
}

static void
s_pytest_results(const char *const *ids, const shoal_exec_result_t *exec, const char *report_path,
                 s_batch_t *b, bool *report)
{
    for (size_t i = 0; i < b->count && !b->oom; i++) {
        size_t plen;
        char *classname, *name;
        char *file = s_pytest_id_shape(ids[i], &plen) ? strndup(ids[i], plen) : NULL;
        if (shoal_junit_names(ids[i], file, "", &classname, &name) != 0) {
            b->oom = true;
        } else {
            size_t len = strlen(classname) + strlen(name) + 2;
            if ((b->keys[i].key = malloc(len)))
                snprintf(b->keys[i].key, len, "%s\n%s", classname, name);
            else
                b->oom = true;
            free(classname);
            free(name);
        }
        b->keys[i].index = i;
        free(file);
    }
    if (b->oom)
        return;
    qsort(b->keys, b->count, sizeof(*b->keys), s_key_cmp);
    char err[256];
    *report = report_path && shoal_junit_parse(report_path, s_on_record, b, err, sizeof(err)) == 0;
    bool missing = false;
    for (size_t i = 0; i < b->count; i++)
        missing |= !b->have[i];
    if (missing && !exec->spawn_failed)
        s_from_output(b, exec->output);
}

int
shoal_adapter_results(const shoal_adapter_t *self, const char *const *ids, size_t count,
                      const shoal_exec_result_t *exec, const char *report_path,
                      shoal_test_result_t *results)
{
    s_batch_t b = {.ids = ids, .count = count, .results = results};
    for (size_t i = 0; i < count; i++)
        results[i] = (shoal_test_result_t){.index = i, .outcome = SHOAL_OUTCOME_NOT_RUN};
    b.have = calloc(count ? count : 1, sizeof(*b.have));
    b.keys = calloc(count ? count : 1, sizeof(*b.keys));
    if (!b.have || !b.keys)
        b.oom = true;
    bool report = false;
    if (!b.oom && count > 0) {
        if (self->kind == S_KIND_LIST)
            s_list_result(exec, &b);
        else
            s_pytest_results(ids, exec, report_path, &b, &report);
    }
    bool blamed = false;
    for (size_t i = 0; i < count && !b.oom; i++) {
        if (b.have[i])
            continue;
        if (!blamed) {
            char reason[512];
            s_missing_reason(exec, report, reason, sizeof(reason));
            const char *tail =
                shoal_output_tail(exec->output, exec->output_len, SHOAL_ADAPTER_OUTPUT_CAP);
            if (shoal_test_result_set(&results[i], SHOAL_OUTCOME_ERROR, 0, reason, tail, "") != 0)
                b.oom = true;
            blamed = true;
        } else if (shoal_test_result_set(&results[i], SHOAL_OUTCOME_NOT_RUN, 0, "", "", "") != 0) {
            b.oom = true;
        }
    }
    for (size_t i = 0; i < count; i++)
        free(b.keys ? b.keys[i].key : NULL);
    free(b.keys);
    free(b.have);
    if (b.oom) {
        for (size_t i = 0; i < count; i++)
            shoal_test_result_clear(&results[i]);
        return -1;
    }
    return 0;
}
