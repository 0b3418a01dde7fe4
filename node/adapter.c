/* node/adapter.c: what every adapter shares (see adapter.h): outcomes, the
 * collection and its index, per-test results, argv helpers, and the dispatch
 * to the framework's file through its table of operations. Nothing here
 * knows a framework.
 */
#include "node/adapter_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct shoal_adapter {
    const shoal_adapter_ops_t *ops;
    void *state;
    char digest[33];
};

/* Frameworks recognised from the command, in the order they are tried. */
static const shoal_adapter_ops_t *const s_detected[] = {
    &shoal_adapter_pytest_ops, &shoal_adapter_jest_ops,  &shoal_adapter_vitest_ops,
    &shoal_adapter_go_ops,     &shoal_adapter_cargo_ops, &shoal_adapter_mocha_ops,
    &shoal_adapter_ctest_ops,
};

const char *
shoal_outcome_str(shoal_outcome_t o)
{
    static const char *const names[] = {"passed",  "failed",  "error",  "skipped",
                                        "not-run", "xfailed", "xpassed"};
    _Static_assert(sizeof(names) / sizeof(names[0]) == SHOAL_OUTCOME_COUNT, "an outcome unnamed");
    return (unsigned)o < SHOAL_OUTCOME_COUNT ? names[o] : "unknown";
}

bool
shoal_outcome_failed(shoal_outcome_t o)
{
    return o == SHOAL_OUTCOME_FAILED || o == SHOAL_OUTCOME_ERROR;
}

/* ---- the collection ---- */

static void
s_test_clear(shoal_test_t *t)
{
    free(t->id);
    free(t->full);
    free(t->file);
    free(t->requires);
    free(t->message);
    free(t->output);
}

void
shoal_collection_clear(shoal_collection_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->count; i++)
        s_test_clear(&c->tests[i]);
    free(c->tests);
    free(c->interrupted);
    free(c->notice);
    free(c->sorted);
    memset(c, 0, sizeof(*c));
}

static shoal_test_t *
s_collection_grow(shoal_collection_t *c)
{
    if (c->count >= c->cap) {
        /* geometric: a million tests are a million appends */
        size_t cap = c->count ? c->count * 2 : 64;
        shoal_test_t *grown = realloc(c->tests, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        c->tests = grown;
        c->cap = cap;
    }
    free(c->sorted); /* the index no longer covers every test */
    c->sorted = NULL;
    return &c->tests[c->count];
}

/* An id longer than the network carries: its head (cut at a character),
 * "…", and 32 hex digits of the BLAKE2b of the whole. Deterministic, so every
 * participant that collected it names it alike. NULL out of memory. */
static char *
s_short_id(const char *id)
{
    unsigned char digest[16];
    crypto_generichash(digest, sizeof(digest), (const unsigned char *)id, strlen(id), NULL, 0);
    char hex[33];
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    size_t head = SHOAL_TEST_ID_MAX - 3 - 32;
    while (head > 0 && ((unsigned char)id[head] & 0xC0) == 0x80)
        head--; /* not inside a UTF-8 sequence */
    char *out = malloc(head + 3 + 32 + 1);
    if (out)
        snprintf(out, head + 3 + 32 + 1, "%.*s\u2026%s", (int)head, id, hex);
    return out;
}

const char *
shoal_collection_framework_id(const shoal_collection_t *c, size_t t)
{
    return c->tests[t].full ? c->tests[t].full : c->tests[t].id;
}

const char *
shoal_collection_framework_id_of(const shoal_collection_t *c, const char *id)
{
    size_t t = shoal_collection_find(c, id);
    return t == SIZE_MAX ? id : shoal_collection_framework_id(c, t);
}

int
shoal_collection_add(shoal_collection_t *c, const char *id, const char *file, unsigned line,
                     const char *requires)
{
    shoal_test_t *t = s_collection_grow(c);
    if (!t)
        return -1;
    bool shorten = strlen(id) > SHOAL_TEST_ID_MAX;
    *t = (shoal_test_t){.id = shorten ? s_short_id(id) : strdup(id),
                        .full = shorten ? strdup(id) : NULL,
                        .file = strdup(file ? file : ""),
                        .line = line,
                        .requires = strdup(requires ? requires : "")};
    if (!t->id || (shorten && !t->full) || !t->file || !t->requires) {
        s_test_clear(t);
        return -1;
    }
    c->count++;
    return 0;
}

int
shoal_collection_add_preset(shoal_collection_t *c, const char *id, shoal_outcome_t outcome,
                            const char *message, const char *output)
{
    if (shoal_collection_add(c, id, NULL, 0, NULL) != 0)
        return -1;
    shoal_test_t *t = &c->tests[c->count - 1];
    t->preset = true;
    t->outcome = outcome;
    t->message = strdup(message ? message : "");
    t->output = strdup(output ? output : "");
    if (!t->message || !t->output) {
        s_test_clear(t);
        c->count--;
        return -1;
    }
    return 0;
}

static char *
s_strdup_or_null(const char *s, bool *oom)
{
    char *copy = s ? strdup(s) : NULL;
    *oom |= s && !copy;
    return copy;
}

int
shoal_collection_copy(shoal_collection_t *dst, const shoal_collection_t *src)
{
    shoal_collection_clear(dst);
    bool oom = false;
    for (size_t i = 0; i < src->count && !oom; i++) {
        const shoal_test_t *t = &src->tests[i];
        oom = t->preset ? shoal_collection_add_preset(dst, shoal_collection_framework_id(src, i),
                                                      t->outcome, t->message, t->output) != 0
                        : shoal_collection_add(dst, shoal_collection_framework_id(src, i), t->file,
                                               t->line, t->requires) != 0;
    }
    dst->maxfail = src->maxfail;
    dst->verbosity = src->verbosity;
    memcpy(dst->reportchars, src->reportchars, sizeof(dst->reportchars));
    dst->interrupted = s_strdup_or_null(src->interrupted, &oom);
    dst->notice = s_strdup_or_null(src->notice, &oom);
    if (oom) {
        shoal_collection_clear(dst);
        return -1;
    }
    return 0;
}

/* qsort_r: sorting runs beside the loop too (job.c), so no global context. */
static int
s_by_id(const void *a, const void *b, void *ctx)
{
    const shoal_collection_t *c = ctx;
    const size_t *x = a, *y = b;
    int order = strcmp(c->tests[*x].id, c->tests[*y].id);
    return order ? order : (*x > *y) - (*x < *y);
}

int
shoal_collection_index(shoal_collection_t *c)
{
    free(c->sorted);
    c->sorted = malloc((c->count ? c->count : 1) * sizeof(size_t));
    if (!c->sorted)
        return -1;
    for (size_t i = 0; i < c->count; i++)
        c->sorted[i] = i;
    qsort_r(c->sorted, c->count, sizeof(size_t), s_by_id, c);
    return 0;
}

const char *
shoal_collection_duplicate(const shoal_collection_t *c)
{
    for (size_t i = 1; c->sorted && i < c->count; i++)
        if (strcmp(c->tests[c->sorted[i - 1]].id, c->tests[c->sorted[i]].id) == 0)
            return c->tests[c->sorted[i]].id;
    return NULL;
}

size_t
shoal_collection_find(const shoal_collection_t *c, const char *id)
{
    if (!c->sorted || !id)
        return SIZE_MAX;
    size_t lo = 0, hi = c->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(c->tests[c->sorted[mid]].id, id) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->count && strcmp(c->tests[c->sorted[lo]].id, id) == 0 ? c->sorted[lo] : SIZE_MAX;
}

void
shoal_collection_digest(const shoal_collection_t *c, char out[33])
{
    crypto_generichash_state hash;
    crypto_generichash_init(&hash, NULL, 0, 16);
    for (size_t i = 0; i < c->count; i++) {
        const shoal_test_t *t = &c->tests[i];
        crypto_generichash_update(&hash, (const unsigned char *)t->id, strlen(t->id) + 1);
        unsigned char preset = t->preset ? (unsigned char)(1 + t->outcome) : 0;
        crypto_generichash_update(&hash, &preset, 1);
    }
    const char *why = c->interrupted ? c->interrupted : "";
    crypto_generichash_update(&hash, (const unsigned char *)why, strlen(why) + 1);
    unsigned char digest[16];
    crypto_generichash_final(&hash, digest, sizeof(digest));
    sodium_bin2hex(out, 33, digest, sizeof(digest));
}

/* ---- results ---- */

void
shoal_test_result_clear(shoal_test_result_t *r)
{
    if (!r)
        return;
    free(r->message);
    free(r->output);
    r->message = r->output = NULL;
}

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

const char *
shoal_output_tail(const char *text, size_t len, size_t max)
{
    if (len <= max)
        return text;
    const char *p = text + len - max;
    const char *nl = memchr(p, '\n', max / 4);
    return nl ? nl + 1 : p;
}

int
shoal_adapter_result(const shoal_exec_result_t *exec, shoal_test_result_t *result)
{
    char message[512];
    shoal_outcome_t outcome = SHOAL_OUTCOME_ERROR;
    if (exec->spawn_failed)
        snprintf(message, sizeof(message), "%s", exec->output);
    else if (exec->timed_out)
        snprintf(message, sizeof(message), "timed out after %.1fs",
                 (double)exec->duration_ms / 1000.0);
    else if (exec->signal)
        snprintf(message, sizeof(message), "crashed: killed by signal %d", exec->signal);
    else if (exec->exit_code != 0) {
        snprintf(message, sizeof(message), "exit status %d", exec->exit_code);
        outcome = SHOAL_OUTCOME_FAILED;
    } else {
        return shoal_test_result_set(result, SHOAL_OUTCOME_PASSED, exec->duration_ms / 1000.0, "",
                                     "", "");
    }
    const char *tail = exec->spawn_failed ? ""
                                          : shoal_output_tail(exec->output, exec->output_len,
                                                              SHOAL_ADAPTER_OUTPUT_CAP);
    return shoal_test_result_set(result, outcome, exec->duration_ms / 1000.0, message, tail, "");
}

/* ---- argv helpers ---- */

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

char **
shoal_argv_copy(size_t argc, char *const *argv)
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

void
shoal_argv_push(shoal_argv_t *a, const char *word)
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

const char *
shoal_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

bool
shoal_has_control(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return true;
    return false;
}

void *
shoal_adapter_command_new(size_t size, int argc, char *const *argv, char *err, size_t err_size)
{
    char ***self = calloc(1, size); /* the state's first member: char **command */
    if (!self || !(*self = shoal_argv_copy((size_t)argc, argv))) {
        free(self);
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    return self;
}

void
shoal_adapter_command_free(void *state)
{
    char ***self = state;
    shoal_adapter_argv_free(self);
    free(self);
}

char *const *
shoal_adapter_command(const void *state)
{
    return *(char *const *const *)state;
}

/* ---- toolchains ---- */

static char **
s_tool_argv(const char *program, const char *const *rest)
{
    shoal_argv_t a = {0};
    shoal_argv_push(&a, program);
    for (size_t i = 0; rest[i]; i++)
        shoal_argv_push(&a, rest[i]);
    return a.failed ? NULL : a.v;
}

char **
shoal_adapter_tool_argv(const void *state, const char *name, const char *const *rest)
{
    const char *first = shoal_adapter_command(state)[0];
    return s_tool_argv(strcmp(shoal_basename(first), name) == 0 ? first : name, rest);
}

char **
shoal_adapter_node_toolchain_argv(const void *state)
{
    static const char *const version[] = {"-v", NULL};
    const char *first = shoal_adapter_command(state)[0];
    bool own = strcmp(shoal_basename(first), "nodejs") == 0;
    return own ? s_tool_argv(first, version) : shoal_adapter_tool_argv(state, "node", version);
}

const char *const shoal_adapter_node_dep_files[] = {
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "package.json", NULL,
};

/* ---- the interface ---- */

/* "pytest, go, ...": the names of the adapters a command may name. */
static void
s_adapter_names(char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(s_detected) / sizeof(s_detected[0]) && used < size; i++)
        used +=
            (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "", s_detected[i]->name);
}

shoal_adapter_t *
shoal_adapter_new(int argc, char *const *argv, const char *list_path, char *err, size_t err_size)
{
    return shoal_adapter_new_named(NULL, argc, argv, list_path, err, err_size);
}

shoal_adapter_t *
shoal_adapter_new_named(const char *name, int argc, char *const *argv, const char *list_path,
                        char *err, size_t err_size)
{
    char names[256];
    s_adapter_names(names, sizeof(names));
    shoal_adapter_t *self = calloc(1, sizeof(*self));
    if (!self || sodium_init() < 0) {
        snprintf(err, err_size, self ? "cannot initialise libsodium" : "out of memory");
        free(self);
        return NULL;
    }
    if (list_path) {
        self->ops = &shoal_adapter_list_ops;
    } else if (argc <= 0 || !argv || !argv[0]) {
        snprintf(err, err_size, "no test command: give one after -- or use --list FILE");
        goto failed;
    } else if (name) {
        for (size_t i = 0; i < sizeof(s_detected) / sizeof(s_detected[0]) && !self->ops; i++)
            if (strcmp(s_detected[i]->name, name) == 0)
                self->ops = s_detected[i];
        if (!self->ops) {
            snprintf(err, err_size, "no adapter called '%s': shoal has %s (and --list FILE)", name,
                     names);
            goto failed;
        }
    } else {
        for (size_t i = 0; i < sizeof(s_detected) / sizeof(s_detected[0]) && !self->ops; i++)
            if (s_detected[i]->detect(argc, argv) > 0)
                self->ops = s_detected[i];
        if (!self->ops) {
            snprintf(err, err_size,
                     "no adapter for '%s': shoal recognises the commands of %s (e.g. pytest "
                     "..., go test ...), or give --adapter NAME, or a list of commands "
                     "(--list FILE)",
                     argv[0], names);
            goto failed;
        }
    }
    crypto_generichash_state hash;
    crypto_generichash_init(&hash, NULL, 0, 16);
    crypto_generichash_update(&hash, (const unsigned char *)self->ops->name,
                              strlen(self->ops->name) + 1);
    for (int i = 0; !list_path && i < argc; i++) /* a list's file defines it, not argv */
        crypto_generichash_update(&hash, (const unsigned char *)argv[i], strlen(argv[i]) + 1);
    if (self->ops->init(self->ops, &self->state, argc, argv, list_path, &hash, err, err_size) != 0)
        goto failed;
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
    if (self->ops && self->state)
        self->ops->destroy(self->state);
    free(self);
    *self_p = NULL;
}

const char *
shoal_adapter_name(const shoal_adapter_t *self)
{
    return self->ops->name;
}

const char *
shoal_adapter_digest(const shoal_adapter_t *self)
{
    return self->digest;
}

char **
shoal_adapter_worker_argv(const shoal_adapter_t *self, const char *plugin_dir, const char *module)
{
    return self->ops->worker_argv ? self->ops->worker_argv(self->state, plugin_dir, module) : NULL;
}

char **
shoal_adapter_zygote_argv(const shoal_adapter_t *self, const char *script)
{
    return self->ops->zygote_argv ? self->ops->zygote_argv(self->state, script) : NULL;
}

char **
shoal_adapter_worker_env(const shoal_adapter_t *self, const char *plugin_dir, unsigned slot,
                         unsigned slots, const char *run_id, char *const *env)
{
    return self->ops->worker_env
               ? self->ops->worker_env(self->state, plugin_dir, slot, slots, run_id, env)
               : NULL;
}

bool
shoal_adapter_has_worker(const shoal_adapter_t *self)
{
    return self->ops->worker_argv != NULL;
}

int
shoal_adapter_collect(shoal_adapter_t *self, shoal_collection_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    if (!self->ops->collect) {
        snprintf(err, err_size, "%s collects in its workers", self->ops->name);
        return -1;
    }
    return self->ops->collect(self->state, out, err, err_size);
}

double
shoal_adapter_invocation_seconds(const shoal_adapter_t *self)
{
    return self->ops->invocation_seconds;
}

size_t
shoal_adapter_batch_max(const shoal_adapter_t *self)
{
    return self->ops->batch_max;
}

char **
shoal_adapter_toolchain_argv(const shoal_adapter_t *self)
{
    return self->ops->toolchain_argv ? self->ops->toolchain_argv(self->state) : NULL;
}

const char *const *
shoal_adapter_dep_files(const shoal_adapter_t *self)
{
    return self->ops->dep_files;
}

char **
shoal_adapter_argv(const shoal_adapter_t *self, const char *id)
{
    return self->ops->argv ? self->ops->argv(self->state, id) : NULL;
}
