/* node/driver_cargo.c: `cargo test` (Rust's libtest), as an adapter and its
 * driver (driver.h).
 *
 * Listing: `cargo test ARGS --no-run --message-format=json` builds what the
 * user's command would and names each test binary (compiler-artifact
 * messages of the test profile); `cargo test ARGS -- --list --format terse`
 * then lists every binary's tests, and the doc tests rustdoc would run, with
 * cargo's own environment, attributed by cargo's "Running BINARY" and
 * "Doc-tests CRATE" lines. A test's id is PACKAGE/KIND:TARGET::NAME (KIND one
 * of lib, bin, test, bench, example): binary paths carry build hashes, so ids
 * name the package and the target instead, and stay unique when two binaries
 * have a test of the same name. A library's doc tests are one test,
 * PACKAGE/doc:CRATE: cargo hands each word after `--` to rustdoc, which
 * splits it at spaces, and a doc test's name ("src/lib.rs - f (line 3)")
 * has spaces, so no filter names one doc test alone.
 *
 * Running: one `cargo test ARGS -p PACKAGE --lib|--test NAME|... --
 * --test-threads=1 --exact NAMES` per binary of the batch (`--doc --
 * FILTERS` for doc tests, with the user's filters), so cargo sets the
 * working directory, CARGO_MANIFEST_DIR, CARGO_PKG_*, its [env], runner and
 * library path as it does alone (a fresh check costs it tens of ms). Stable
 * libtest says `test NAME ... ` as a test starts and ends that line with
 * ok, FAILED or ignored when it ends (durations are timed here); a failure's
 * output follows in its `---- NAME stdout ----` section. cargo runs the
 * binary it built for the listing, or the batch errors: narrowing to one
 * package must not build something else (features unify per selection).
 */
#include "node/adapter_impl.h"
#include "node/driver.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_BATCH_MAX 1000
/* cargo test per batch: 32 ms on a small crate (scripts/bench-batch) */
#define S_INVOCATION_SECONDS 0.04
#define S_ARGV_BYTES (1024 * 1024) /* names per invocation: well under the 2 MiB argv */

/* ---- the user's command ---- */

/* Where a word of the user's arguments goes. */
typedef enum {
    S_KEEP,    /* every invocation */
    S_SELECT,  /* cargo's packages and targets: the listing; each run names its own */
    S_FILTER,  /* a test name filter (TESTNAME, --exact): the listing only */
    S_DISPLAY, /* how output looks (-q, --format, --message-format): dropped, shoal reads it */
    S_THREADS, /* --test-threads: overridden, shoal's slots are the parallelism */
    S_REFUSE,  /* cannot work distributed */
} s_class_t;

typedef struct {
    const char *name;
    bool value;
    s_class_t class;
    const char *why; /* S_REFUSE */
} s_option_t;

static const s_option_t s_cargo_options[] = {
    {"--package", true, S_SELECT, NULL},
    {"-p", true, S_SELECT, NULL},
    {"--exclude", true, S_SELECT, NULL},
    {"--workspace", false, S_SELECT, NULL},
    {"--all", false, S_SELECT, NULL},
    {"--lib", false, S_SELECT, NULL},
    {"--bins", false, S_SELECT, NULL},
    {"--bin", true, S_SELECT, NULL},
    {"--tests", false, S_SELECT, NULL},
    {"--test", true, S_SELECT, NULL},
    {"--benches", false, S_SELECT, NULL},
    {"--bench", true, S_SELECT, NULL},
    {"--examples", false, S_SELECT, NULL},
    {"--example", true, S_SELECT, NULL},
    {"--all-targets", false, S_SELECT, NULL},
    {"--doc", false, S_SELECT, NULL},
    {"--quiet", false, S_DISPLAY, NULL},
    {"-q", false, S_DISPLAY, NULL},
    {"--message-format", true, S_DISPLAY, NULL},
    {"--features", true, S_KEEP, NULL},
    {"-F", true, S_KEEP, NULL},
    {"--jobs", true, S_KEEP, NULL},
    {"-j", true, S_KEEP, NULL},
    {"--profile", true, S_KEEP, NULL},
    {"--target", true, S_KEEP, NULL},
    {"--target-dir", true, S_KEEP, NULL},
    {"--manifest-path", true, S_KEEP, NULL},
    {"--lockfile-path", true, S_KEEP, NULL},
    {"--color", true, S_KEEP, NULL},
    {"--config", true, S_KEEP, NULL},
    {"-Z", true, S_KEEP, NULL},
    {"--no-run", false, S_REFUSE, "builds without running: there is nothing to distribute"},
    {NULL, false, S_KEEP, NULL},
};

static const s_option_t s_libtest_options[] = {
    {"--skip", true, S_KEEP, NULL},
    {"--shuffle-seed", true, S_KEEP, NULL},
    {"-Z", true, S_KEEP, NULL},
    {"--exact", false, S_FILTER, NULL},
    {"--format", true, S_DISPLAY, NULL},
    {"--quiet", false, S_DISPLAY, NULL},
    {"-q", false, S_DISPLAY, NULL},
    {"--color", true, S_DISPLAY, NULL},
    {"--test-threads", true, S_THREADS, NULL},
    {"--list", false, S_REFUSE, "lists tests: shoal lists them itself (shoal run --dry-run)"},
    {"--bench", false, S_REFUSE, "runs benchmarks, which shoal does not time"},
    {"--logfile", true, S_REFUSE,
     "every invocation would overwrite it: use shoal's --junit/--json"},
    {NULL, false, S_KEEP, NULL},
};

/* cargo's own options before the subcommand that take a value. */
static const char *const s_global_values[] = {"--color", "--config", "-C", "-Z", NULL};

/* The index of `test` (or its alias `t`) in `cargo [+toolchain] [GLOBAL
 * OPTIONS] test ...`, 0 if argv is not that. */
static size_t
s_subcommand_at(int argc, char *const *argv)
{
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        if (i == 1 && w[0] == '+')
            continue;
        if (w[0] != '-')
            return strcmp(w, "test") == 0 || strcmp(w, "t") == 0 ? (size_t)i : 0;
        for (size_t k = 0; s_global_values[k]; k++)
            if (strcmp(w, s_global_values[k]) == 0)
                i++;
    }
    return 0;
}

static bool
s_is_cargo(const char *program)
{
    return strcmp(shoal_basename(program), "cargo") == 0;
}

static size_t
s_detect(int argc, char *const *argv)
{
    size_t sub = s_is_cargo(argv[0]) ? s_subcommand_at(argc, argv) : 0;
    return sub ? sub + 1 : 0;
}

/* The option word is, and whether its value is the next word (not attached
 * as --name=value or -Xvalue). NULL for a positional word. */
static const s_option_t *
s_option(const s_option_t *table, const char *word, bool *value_next)
{
    static const s_option_t unknown = {"", false, S_KEEP, NULL};
    *value_next = false;
    if (word[0] != '-' || strcmp(word, "-") == 0)
        return NULL;
    for (const s_option_t *o = table; o->name; o++) {
        size_t n = strlen(o->name);
        if (strncmp(word, o->name, n) != 0)
            continue;
        if (word[n] == '\0') {
            *value_next = o->value;
            return o;
        }
        if (o->value && (word[n] == '=' || (o->name[1] != '-' && n == 2)))
            return o;
    }
    return &unknown; /* an option cargo or libtest knows and shoal need not */
}

typedef struct {
    char **prefix;       /* cargo ... test */
    shoal_argv_t cargo;  /* cargo's options every invocation keeps */
    shoal_argv_t select; /* cargo's package and target selection */
    shoal_argv_t filter; /* libtest's filters, for the listing */
    shoal_argv_t keep;   /* libtest's options every invocation keeps */
    char *notice;
} s_command_t;

static void
s_notice(s_command_t *c, const char *text)
{
    size_t have = c->notice ? strlen(c->notice) : 0;
    char *grown = realloc(c->notice, have + strlen(text) + 3);
    if (!grown)
        return;
    snprintf(grown + have, strlen(text) + 3, "%s%s", have ? "; " : "", text);
    c->notice = grown;
}

/* The value of the option at argv[i]: the next word, or what follows '=' or
 * the short option's letter. */
static const char *
s_value(char *const *argv, int argc, int i, bool next)
{
    if (next)
        return i + 1 < argc ? argv[i + 1] : "";
    const char *eq = strchr(argv[i], '=');
    return eq ? eq + 1 : argv[i] + 2;
}

/* Sorts one word (and its value) of the user's arguments. 0, or -1 with err. */
static int
s_sort_word(s_command_t *c, bool libtest, char *const *argv, int argc, int *i, char *err,
            size_t err_size)
{
    bool next;
    const s_option_t *o = s_option(libtest ? s_libtest_options : s_cargo_options, argv[*i], &next);
    s_class_t class = o ? o->class : S_FILTER;
    if (o && o->class == S_REFUSE) {
        snprintf(err, err_size, "cargo: shoal cannot run `%s`: it %s", argv[*i], o->why);
        return -1;
    }
    const char *format =
        o && strcmp(o->name, "--format") == 0 ? s_value(argv, argc, *i, next) : NULL;
    if (format && strcmp(format, "pretty") != 0 && strcmp(format, "terse") != 0) {
        snprintf(err, err_size,
                 "cargo: shoal cannot run `--format %s`: it reads libtest's own lines; "
                 "shoal writes reports itself (--junit, --json)",
                 format);
        return -1;
    }
    if (class == S_THREADS)
        s_notice(c, "--test-threads is overridden: shoal's slots are the parallelism, each "
                    "binary runs one test at a time");
    shoal_argv_t *to = class == S_KEEP     ? (libtest ? &c->keep : &c->cargo)
                       : class == S_SELECT ? &c->select
                       : class == S_FILTER ? &c->filter
                                           : NULL;
    for (int n = next && *i + 1 < argc ? 2 : 1; n > 0; n--, (*i)++)
        if (to)
            shoal_argv_push(to, argv[*i]);
    (*i)--;
    return 0;
}

static void
s_command_clear(s_command_t *c)
{
    shoal_adapter_argv_free(&c->prefix);
    shoal_adapter_argv_free(&c->cargo.v);
    shoal_adapter_argv_free(&c->select.v);
    shoal_adapter_argv_free(&c->filter.v);
    shoal_adapter_argv_free(&c->keep.v);
    free(c->notice);
    memset(c, 0, sizeof(*c));
}

/* Splits the user's command. 0, or -1 with err. */
static int
s_command_parse(s_command_t *c, int argc, char *const *argv, char *err, size_t err_size)
{
    /* A wrapper named with --adapter cargo ("./ci-test test --lib", or a
     * script that runs `cargo test "$@"`): its `test` word if it has one,
     * else the wrapper itself stands for `cargo test`. */
    size_t sub = s_subcommand_at(argc, argv);
    if (!sub && s_is_cargo(argv[0])) {
        snprintf(err, err_size, "cargo: not a `cargo test` command");
        return -1;
    }
    c->prefix = shoal_argv_copy(sub + 1, argv);
    bool libtest = false;
    for (int i = (int)sub + 1; i < argc; i++) {
        if (!libtest && strcmp(argv[i], "--") == 0) {
            libtest = true;
            continue;
        }
        if (s_sort_word(c, libtest, argv, argc, &i, err, err_size) != 0)
            return -1;
    }
    /* an empty vector is still a vector: pushes of nothing leave v NULL */
    shoal_argv_t *all[] = {&c->cargo, &c->select, &c->filter, &c->keep};
    for (size_t k = 0; k < 4; k++)
        if (!all[k]->v && !all[k]->failed)
            all[k]->v = calloc(1, sizeof(char *));
    if (!c->prefix || !c->cargo.v || !c->select.v || !c->filter.v || !c->keep.v) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- what was listed ---- */

typedef struct {
    char *package;    /* cargo's package name */
    char *kind;       /* lib, bin, test, bench, example, doc */
    char *target;     /* the target's name (the crate's, for lib and doc) */
    char *exe;        /* the binary's file name (hash included); NULL for doc */
    size_t doc_tests; /* doc: how many rustdoc listed */
    char *odd;        /* its first listing line that libtest would not print */
} s_unit_t;

typedef struct {
    size_t unit;
    char *name; /* libtest's name of the test */
} s_test_t;

typedef struct {
    s_command_t cmd;
    s_unit_t *units;
    size_t unit_count;
    s_test_t *tests; /* per collection index */
    size_t test_count, test_cap;
} s_cargo_t;

static void
s_destroy(void *state)
{
    s_cargo_t *self = state;
    if (!self)
        return;
    s_command_clear(&self->cmd);
    for (size_t i = 0; i < self->unit_count; i++) {
        s_unit_t *u = &self->units[i];
        free(u->package);
        free(u->kind);
        free(u->target);
        free(u->exe);
        free(u->odd);
    }
    for (size_t i = 0; i < self->test_count; i++)
        free(self->tests[i].name);
    free(self->units);
    free(self->tests);
    free(self);
}

/* The package's name in a cargo package id: "NAME VERSION (SOURCE)" (cargo
 * before 1.77) or a package id spec, "SOURCE#NAME@VERSION" or, when NAME is
 * the source path's last part, "SOURCE#VERSION". A new string, or NULL. */
static char *
s_package_name(const char *id)
{
    const char *space = strchr(id, ' ');
    if (space)
        return strndup(id, (size_t)(space - id));
    const char *hash = strrchr(id, '#');
    if (!hash)
        return NULL;
    const char *at = strchr(hash, '@');
    if (at)
        return strndup(hash + 1, (size_t)(at - hash - 1));
    const char *end = hash, *query = memchr(id, '?', (size_t)(hash - id));
    if (query)
        end = query;
    const char *start = end;
    while (start > id && start[-1] != '/')
        start--;
    return start < end ? strndup(start, (size_t)(end - start)) : NULL;
}

static const char *
s_json_str(json_object *obj, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static bool
s_json_bool(json_object *obj, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(obj, key, &v) && json_object_get_boolean(v);
}

/* lib, bin, test, bench or example, from a target's kinds ("rlib", "cdylib",
 * "proc-macro"... are all its library). */
static const char *
s_kind(json_object *target)
{
    json_object *kinds, *first;
    if (!json_object_object_get_ex(target, "kind", &kinds) ||
        !(first = json_object_array_get_idx(kinds, 0)))
        return "lib";
    const char *k = json_object_get_string(first);
    static const char *const plain[] = {"bin", "test", "bench", "example", NULL};
    for (size_t i = 0; plain[i]; i++)
        if (strcmp(k, plain[i]) == 0)
            return plain[i];
    return "lib";
}

static s_unit_t *
s_unit_add(s_cargo_t *self, const char *package, const char *kind, const char *target,
           const char *exe)
{
    s_unit_t *grown = realloc(self->units, (self->unit_count + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    self->units = grown;
    s_unit_t *u = &grown[self->unit_count];
    *u = (s_unit_t){.package = strdup(package),
                    .kind = strdup(kind),
                    .target = strdup(target),
                    .exe = exe ? strdup(exe) : NULL};
    if (!u->package || !u->kind || !u->target || (exe && !u->exe)) {
        free(u->package);
        free(u->kind);
        free(u->target);
        free(u->exe);
        return NULL;
    }
    self->unit_count++;
    return u;
}

static s_unit_t *
s_unit_by_exe(s_cargo_t *self, const char *exe)
{
    for (size_t i = 0; i < self->unit_count; i++)
        if (self->units[i].exe && strcmp(self->units[i].exe, exe) == 0)
            return &self->units[i];
    return NULL;
}

/* Target names compare as crate names: cargo says "Doc-tests unicode-width"
 * or "Doc-tests unicode_width" depending on its version. */
static bool
s_same_crate(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
            return false;
    return *a == *b;
}

static s_unit_t *
s_unit_by_target(s_cargo_t *self, const char *kind, const char *target)
{
    for (size_t i = 0; i < self->unit_count; i++)
        if (strcmp(self->units[i].kind, kind) == 0 && s_same_crate(self->units[i].target, target))
            return &self->units[i];
    return NULL;
}

typedef struct {
    s_cargo_t *self;
    s_unit_t *unit; /* the binary being listed */
    bool oom;
    char unknown[512]; /* a binary cargo ran that its build did not name */
} s_listing_t;

/* One compiler-artifact message: a test binary, or a library rustdoc tests. */
static void
s_on_artifact(s_listing_t *l, json_object *msg)
{
    json_object *target, *profile;
    const char *id = s_json_str(msg, "package_id"), *manifest = s_json_str(msg, "manifest_path");
    if (!id || !manifest || !json_object_object_get_ex(msg, "target", &target) ||
        !json_object_object_get_ex(msg, "profile", &profile))
        return;
    const char *name = s_json_str(target, "name");
    const char *exe = s_json_str(msg, "executable"), *kind = s_kind(target);
    char *package = s_package_name(id);
    if (!name || !package) {
        free(package);
        return;
    }
    bool test = s_json_bool(profile, "test");
    if (exe && test && !s_unit_by_exe(l->self, shoal_basename(exe)))
        l->oom |= !s_unit_add(l->self, package, kind, name, shoal_basename(exe));
    if (strcmp(kind, "lib") == 0 && s_json_bool(target, "doctest") &&
        !s_unit_by_target(l->self, "doc", name)) {
        l->oom |= !s_unit_add(l->self, package, "doc", name, NULL);
    }
    free(package);
}

static void
s_on_build_line(void *arg, const char *line, size_t len)
{
    (void)len;
    if (line[0] != '{')
        return; /* cargo's own words, on stderr */
    json_object *msg = json_tokener_parse(line);
    const char *reason = msg ? s_json_str(msg, "reason") : NULL;
    if (reason && strcmp(reason, "compiler-artifact") == 0)
        s_on_artifact(arg, msg);
    json_object_put(msg);
}

static int
s_test_add(s_cargo_t *self, shoal_collection_t *out, size_t unit, const char *name)
{
    const s_unit_t *u = &self->units[unit];
    size_t size = strlen(u->package) + strlen(u->kind) + strlen(u->target) + strlen(name) + 8;
    char *id = malloc(size);
    s_test_t *grown = self->tests;
    if (self->test_count == self->test_cap) {
        size_t cap = self->test_cap ? self->test_cap * 2 : 64; /* a suite's worth of appends */
        grown = realloc(self->tests, cap * sizeof(*grown));
        if (grown) {
            self->tests = grown;
            self->test_cap = cap;
        }
    }
    char *copy = strdup(name);
    if (!id || !grown || !copy) {
        free(id);
        free(copy);
        return -1;
    }
    /* The prefix, PACKAGE/KIND:TARGET, is the test's file: JUnit's classname
     * (the test binary, as cargo's JUnit converters name it) and what
     * --strategy file keeps together. */
    int prefix = snprintf(id, size, "%s/%s:%s", u->package, u->kind, u->target);
    if (u->exe)
        snprintf(id + prefix, size - (size_t)prefix, "::%s", name);
    char *file = strndup(id, (size_t)prefix);
    int rc = file ? shoal_collection_add(out, id, file, 0, NULL) : -1;
    free(file);
    free(id);
    if (rc != 0) {
        free(copy);
        return -1;
    }
    self->tests[self->test_count++] = (s_test_t){.unit = unit, .name = copy};
    return 0;
}

/* A line after cargo's leading blanks: cargo aligns its status words right. */
static const char *
s_status(const char *line, const char *word)
{
    while (*line == ' ')
        line++;
    size_t n = strlen(word);
    return strncmp(line, word, n) == 0 && line[n] == ' ' ? line + n + 1 : NULL;
}

/* The binary in "Running unittests src/lib.rs (target/debug/deps/x-HASH)"
 * (or, from older cargo, "Running target/debug/deps/x-HASH"): its file name,
 * into out. */
static void
s_running_exe(const char *rest, char *out, size_t size)
{
    const char *open = strrchr(rest, '(');
    const char *path = open ? open + 1 : rest;
    size_t len = strlen(path);
    if (open && len > 0 && path[len - 1] == ')')
        len--;
    const char *base = path;
    for (size_t i = 0; i < len; i++)
        if (path[i] == '/')
            base = path + i + 1;
    snprintf(out, size, "%.*s", (int)(len - (size_t)(base - path)), base);
}

typedef struct {
    s_listing_t *l;
    shoal_collection_t *out;
} s_list_arg_t;

static void
s_on_list_line(void *arg, const char *line, size_t len)
{
    s_list_arg_t *a = arg;
    s_listing_t *l = a->l;
    const char *rest;
    char exe[1024];
    if ((rest = s_status(line, "Running"))) {
        s_running_exe(rest, exe, sizeof(exe));
        l->unit = s_unit_by_exe(l->self, exe);
        if (!l->unit && !l->unknown[0])
            snprintf(l->unknown, sizeof(l->unknown), "%s", line);
    } else if ((rest = s_status(line, "Doc-tests"))) {
        l->unit = s_unit_by_target(l->self, "doc", rest);
        if (!l->unit && !l->unknown[0])
            snprintf(l->unknown, sizeof(l->unknown), "%s", line);
    } else if (l->unit && len > 0) {
        size_t t = strlen(": test"), b = strlen(": benchmark");
        size_t cut = len > t && strcmp(line + len - t, ": test") == 0        ? len - t
                     : len > b && strcmp(line + len - b, ": benchmark") == 0 ? len - b
                                                                             : 0;
        if (cut && !l->unit->exe) {
            if (l->unit->doc_tests++ == 0)
                l->oom |= s_test_add(l->self, a->out, (size_t)(l->unit - l->self->units), "") != 0;
        } else if (cut) {
            char *name = strndup(line, cut);
            l->oom |=
                !name || s_test_add(l->self, a->out, (size_t)(l->unit - l->self->units), name) != 0;
            free(name);
        } else if (!l->unit->odd) {
            l->unit->odd = strdup(line);
        }
    }
}

/* cargo test ARGS [more...] [-- LIBTEST...] with the user's kept words. */
static void
s_push_all(shoal_argv_t *a, char *const *words)
{
    for (size_t i = 0; words && words[i]; i++)
        shoal_argv_push(a, words[i]);
}

/* Builds the tests: the binaries cargo test would run. 0, or -1 with err. */
static int
s_build(s_cargo_t *self, shoal_driver_t *driver, s_listing_t *l, char *err, size_t err_size)
{
    shoal_argv_t a = {0};
    s_push_all(&a, self->cmd.prefix);
    s_push_all(&a, self->cmd.cargo.v);
    s_push_all(&a, self->cmd.select.v);
    shoal_argv_push(&a, "--no-run");
    shoal_argv_push(&a, "--message-format=json");
    if (a.failed)
        return snprintf(err, err_size, "out of memory"), -1;
    int rc = shoal_driver_spawn(driver, a.v, NULL, NULL, s_on_build_line, l);
    shoal_adapter_argv_free(&a.v);
    if (rc != 0 || l->oom) {
        snprintf(err, err_size, "cargo test could not build the tests (%s %d):\n%s",
                 rc < 0 ? "could not start" : "exit status", rc, shoal_driver_output(driver));
        return -1;
    }
    return 0;
}

/* Lists the tests of every binary (and the doc tests) through cargo. */
static int
s_list(s_cargo_t *self, shoal_driver_t *driver, s_listing_t *l, shoal_collection_t *out, char *err,
       size_t err_size)
{
    shoal_argv_t a = {0};
    s_push_all(&a, self->cmd.prefix);
    s_push_all(&a, self->cmd.cargo.v);
    s_push_all(&a, self->cmd.select.v);
    shoal_argv_push(&a, "--");
    shoal_argv_push(&a, "--list");
    shoal_argv_push(&a, "--format");
    shoal_argv_push(&a, "terse");
    s_push_all(&a, self->cmd.filter.v);
    s_push_all(&a, self->cmd.keep.v);
    if (a.failed)
        return snprintf(err, err_size, "out of memory"), -1;
    s_list_arg_t arg = {l, out};
    int rc = shoal_driver_spawn(driver, a.v, NULL, NULL, s_on_list_line, &arg);
    shoal_adapter_argv_free(&a.v);
    if (rc != 0 || l->oom || l->unknown[0]) {
        snprintf(err, err_size, "cargo test could not list the tests (%s %d)%s%s:\n%s",
                 rc < 0 ? "could not start" : "exit status", rc,
                 l->unknown[0] ? "; it ran a binary its build did not name: " : "", l->unknown,
                 shoal_driver_output(driver));
        return -1;
    }
    return 0;
}

/* A binary that printed something libtest's listing does not and listed no
 * test (a harness = false target, say) cannot be run test by test: it is an
 * error under its target's id rather than silently fewer tests. */
static int
s_odd_units(s_cargo_t *self, shoal_collection_t *out)
{
    for (size_t i = 0; i < self->unit_count; i++) {
        const s_unit_t *u = &self->units[i];
        bool has = false;
        for (size_t t = 0; t < self->test_count && !has; t++)
            has = self->tests[t].unit == i;
        if (!u->odd || has)
            continue;
        char id[1024], message[1024];
        snprintf(id, sizeof(id), "%s/%s:%s", u->package, u->kind, u->target);
        snprintf(message, sizeof(message),
                 "`--list --format terse` printed no libtest listing for this binary (a custom "
                 "harness, harness = false?): shoal cannot run its tests one by one");
        if (shoal_collection_add_preset(out, id, SHOAL_OUTCOME_ERROR, message, u->odd) != 0)
            return -1;
    }
    return 0;
}

static int
s_collect(void **state, shoal_driver_t *driver, int argc, char *const *argv,
          shoal_collection_t *out, char *err, size_t err_size)
{
    s_cargo_t *self = calloc(1, sizeof(*self));
    *state = self;
    if (!self)
        return snprintf(err, err_size, "out of memory"), -1;
    if (s_command_parse(&self->cmd, argc, argv, err, err_size) != 0)
        return -1;
    s_listing_t l = {.self = self};
    if (s_build(self, driver, &l, err, err_size) != 0 ||
        s_list(self, driver, &l, out, err, err_size) != 0)
        return -1;
    if (s_odd_units(self, out) != 0)
        return snprintf(err, err_size, "out of memory"), -1;
    for (size_t i = 0; i < self->unit_count; i++)
        if (self->units[i].doc_tests) {
            s_notice(&self->cmd, "a crate's doc tests run as one test (rustdoc cannot run one "
                                 "doc test alone)");
            break;
        }
    if (self->cmd.notice && !(out->notice = strdup(self->cmd.notice)))
        return snprintf(err, err_size, "out of memory"), -1;
    return 0;
}

/* ---- running a batch ---- */

typedef struct {
    const char *name;
    size_t test;      /* collection index */
    bool begun, done; /* a result was sent, or is pending below */
    bool failed;      /* FAILED, its result waits for its output section */
    double seconds;
    char *output;
    size_t output_len;
    char message[512];
    bool message_open; /* the panic's message is on the next line */
} s_entry_t;

/* One invocation: one binary's tests, sorted by name for lookups. */
typedef struct {
    shoal_driver_t *driver;
    const s_unit_t *unit;
    s_entry_t *entries;
    size_t count;
    s_entry_t *current; /* begun, no result yet */
    double started;
    s_entry_t *section; /* whose `---- NAME stdout ----` is being read */
    bool summary;       /* libtest's "test result:" line came */
    char other[1024];   /* cargo ran a binary other than the listed one */
} s_invocation_t;

static double
s_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
s_by_name(const void *a, const void *b)
{
    return strcmp(((const s_entry_t *)a)->name, ((const s_entry_t *)b)->name);
}

static s_entry_t *
s_entry_find(s_invocation_t *inv, const char *text, size_t len)
{
    size_t lo = 0, hi = inv->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name = inv->entries[mid].name;
        int c = strncmp(name, text, len);
        if (c == 0 && name[len] != '\0')
            c = 1;
        if (c == 0)
            return &inv->entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void
s_finish(s_invocation_t *inv, s_entry_t *e)
{
    shoal_driver_result(inv->driver, e->test, SHOAL_OUTCOME_FAILED, e->seconds,
                        e->message[0] ? e->message : "FAILED", e->output ? e->output : "");
    e->failed = false;
}

/* The end of a test's line: ok, FAILED, ignored[, REASON]. false for anything
 * else (a test's own output under --nocapture). */
static bool
s_outcome(s_invocation_t *inv, s_entry_t *e, const char *word)
{
    double seconds = s_clock() - inv->started;
    if (strcmp(word, "ok") == 0) {
        shoal_driver_result(inv->driver, e->test, SHOAL_OUTCOME_PASSED, seconds, NULL, NULL);
    } else if (strncmp(word, "FAILED", 6) == 0) {
        e->failed = true;
        e->seconds = seconds;
    } else if (strncmp(word, "ignored", 7) == 0) {
        const char *why = strncmp(word, "ignored, ", 9) == 0 ? word + 9 : "ignored";
        shoal_driver_result(inv->driver, e->test, SHOAL_OUTCOME_SKIPPED, 0, why, NULL);
    } else {
        return false;
    }
    e->done = true;
    if (inv->current == e)
        inv->current = NULL;
    return true;
}

/* "test NAME[ - should panic| - compile[ fail]] ... [WORD]": the test and
 * where WORD starts; NULL if the line names none of this invocation's tests.
 * Names may hold " - " (rustdoc's "src/lib.rs - f (line 3)"). */
static s_entry_t *
s_test_line(s_invocation_t *inv, const char *line, const char **word)
{
    if (strncmp(line, "test ", 5) != 0)
        return NULL;
    const char *rest = line + 5;
    for (const char *p = rest; (p = strchr(p, ' ')); p++) {
        if (strncmp(p, " ... ", 5) != 0 && strncmp(p, " - ", 3) != 0)
            continue;
        s_entry_t *e = s_entry_find(inv, rest, (size_t)(p - rest));
        const char *dots = e ? strstr(p, " ... ") : NULL;
        if (dots) {
            *word = dots + 5;
            return e;
        }
    }
    return NULL;
}

static void
s_begin(s_invocation_t *inv, s_entry_t *e)
{
    if (e->begun)
        return;
    e->begun = true;
    inv->current = e;
    inv->started = s_clock();
    shoal_driver_begin(inv->driver, e->test);
}

static void
s_on_partial(void *arg, const char *line, size_t len)
{
    s_invocation_t *inv = arg;
    const char *word;
    s_entry_t *e = s_test_line(inv, line, &word);
    if (e && !e->done && len >= 5 && strcmp(line + len - 5, " ... ") == 0)
        s_begin(inv, e);
}

static void
s_section_line(s_invocation_t *inv, const char *line, size_t len)
{
    s_entry_t *e = inv->section;
    size_t have = strlen(e->message);
    if (!have && strncmp(line, "thread '", 8) == 0)
        snprintf(e->message, sizeof(e->message), "%s", line);
    else if (e->message_open) /* rustc 1.73+: "panicked at FILE:LINE:COL:" then the message */
        snprintf(e->message + have, sizeof(e->message) - have, " %s", line);
    e->message_open = !have && e->message[0] && len > 0 && line[len - 1] == ':';
    if (e->output_len + len + 2 > SHOAL_ADAPTER_OUTPUT_CAP)
        return;
    char *grown = realloc(e->output, e->output_len + len + 2);
    if (!grown)
        return;
    e->output = grown;
    memcpy(e->output + e->output_len, line, len);
    e->output_len += len;
    e->output[e->output_len++] = '\n';
    e->output[e->output_len] = '\0';
}

/* Ends the section being read; the test's failure is sent with its output. */
static void
s_section_end(s_invocation_t *inv)
{
    if (inv->section && inv->section->failed)
        s_finish(inv, inv->section);
    inv->section = NULL;
}

static void
s_on_run_line(void *arg, const char *line, size_t len)
{
    s_invocation_t *inv = arg;
    const char *word, *rest;
    char exe[1024];
    s_entry_t *e;
    if (strncmp(line, "---- ", 5) == 0 && len > 17 &&
        strcmp(line + len - 12, " stdout ----") == 0) {
        s_section_end(inv);
        inv->section = s_entry_find(inv, line + 5, len - 17);
    } else if (strcmp(line, "failures:") == 0 || strncmp(line, "test result: ", 13) == 0) {
        s_section_end(inv);
        inv->summary |= line[0] == 't' && !inv->current;
    } else if (inv->section) {
        s_section_line(inv, line, len);
    } else if ((e = s_test_line(inv, line, &word)) && !e->done) {
        s_begin(inv, e);
        (void)s_outcome(inv, e, word);
    } else if (inv->current && s_outcome(inv, inv->current, line)) {
        /* --nocapture: the test's output came between its name and its word */
    } else if ((rest = s_status(line, "Running")) && inv->unit->exe) {
        s_running_exe(rest, exe, sizeof(exe));
        if (strcmp(exe, inv->unit->exe) != 0 && !inv->other[0])
            snprintf(inv->other, sizeof(inv->other), "%s", exe);
    }
}

/* cargo test ARGS -p PACKAGE SELECTOR -- LIBTEST --test-threads=1 --exact NAMES;
 * for doc tests, the user's filters instead of names. */
static char **
s_run_argv(const s_cargo_t *self, const s_unit_t *u, const s_entry_t *entries, size_t count)
{
    shoal_argv_t a = {0};
    s_push_all(&a, self->cmd.prefix);
    s_push_all(&a, self->cmd.cargo.v);
    shoal_argv_push(&a, "-p");
    shoal_argv_push(&a, u->package);
    if (!u->exe) {
        shoal_argv_push(&a, "--doc");
    } else if (strcmp(u->kind, "lib") == 0) {
        shoal_argv_push(&a, "--lib");
    } else {
        char flag[16];
        snprintf(flag, sizeof(flag), "--%s", u->kind);
        shoal_argv_push(&a, flag);
        shoal_argv_push(&a, u->target);
    }
    shoal_argv_push(&a, "--");
    s_push_all(&a, self->cmd.keep.v);
    shoal_argv_push(&a, "--test-threads=1");
    if (!u->exe)
        s_push_all(&a, self->cmd.filter.v);
    else
        shoal_argv_push(&a, "--exact");
    for (size_t i = 0; i < count; i++)
        shoal_argv_push(&a, entries[i].name);
    return a.failed ? NULL : a.v;
}

/* Sends what the invocation left unsaid. CRASHED if it ended inside a test. */
static shoal_driver_end_t
s_settle(s_invocation_t *inv, int rc)
{
    s_section_end(inv);
    for (size_t i = 0; i < inv->count; i++)
        if (inv->entries[i].failed)
            s_finish(inv, &inv->entries[i]);
    if (inv->current && !inv->other[0])
        return SHOAL_DRIVER_CRASHED; /* driver.c blames the test begun last */
    char message[3072];
    if (inv->other[0])
        snprintf(message, sizeof(message),
                 "cargo ran %s, not the %s it built for the listing: narrowed to -p %s it builds "
                 "another binary (features unify per selection); run the packages apart",
                 inv->other, inv->unit->exe, inv->unit->package);
    else if (!inv->summary)
        snprintf(message, sizeof(message), "cargo test ended (exit status %d) before libtest ran",
                 rc);
    else
        snprintf(message, sizeof(message),
                 "libtest reported no result for this test (exit status %d): no test has this "
                 "exact name in the binary",
                 rc);
    for (size_t i = 0; i < inv->count; i++)
        if (!inv->entries[i].done)
            shoal_driver_result(inv->driver, inv->entries[i].test, SHOAL_OUTCOME_ERROR, 0, message,
                                shoal_driver_output(inv->driver));
    return SHOAL_DRIVER_RAN;
}

static shoal_driver_end_t
s_invoke(const s_cargo_t *self, s_invocation_t *inv)
{
    if (inv->count > 1) /* entries may be NULL when empty */
        qsort(inv->entries, inv->count, sizeof(*inv->entries), s_by_name);
    char **argv = s_run_argv(self, inv->unit, inv->entries, inv->count);
    int rc = argv ? shoal_driver_spawn_partial(inv->driver, argv, NULL, NULL, s_on_run_line,
                                               s_on_partial, inv)
                  : -1;
    shoal_adapter_argv_free(&argv);
    shoal_driver_end_t end = s_settle(inv, rc);
    for (size_t i = 0; i < inv->count; i++)
        free(inv->entries[i].output);
    return end;
}

/* What rustdoc said of a crate's doc tests. */
typedef struct {
    size_t passed, failed, ignored;
    bool summary;
    char failures[1024]; /* the names of the failed ones */
} s_doc_t;

static void
s_on_doc_line(void *arg, const char *line, size_t len)
{
    (void)len;
    s_doc_t *d = arg;
    const char *dots = strncmp(line, "test ", 5) == 0 ? strstr(line, " ... ") : NULL;
    if (strncmp(line, "test result: ", 13) == 0) {
        d->summary = true;
    } else if (dots && strcmp(dots + 5, "ok") == 0) {
        d->passed++;
    } else if (dots && strncmp(dots + 5, "ignored", 7) == 0) {
        d->ignored++;
    } else if (dots && strncmp(dots + 5, "FAILED", 6) == 0) {
        size_t have = strlen(d->failures);
        snprintf(d->failures + have, sizeof(d->failures) - have, "%s%.*s", d->failed ? ", " : "",
                 (int)(dots - line - 5), line + 5);
        d->failed++;
    }
}

/* A crate's doc tests, as one test: failed if one failed, skipped if all
 * were ignored. */
static void
s_run_doc(const s_cargo_t *self, shoal_driver_t *driver, const s_unit_t *u, size_t test)
{
    s_doc_t d = {0};
    char **argv = s_run_argv(self, u, NULL, 0);
    shoal_driver_begin(driver, test);
    double started = s_clock();
    int rc = argv ? shoal_driver_spawn(driver, argv, NULL, NULL, s_on_doc_line, &d) : -1;
    shoal_adapter_argv_free(&argv);
    double seconds = s_clock() - started;
    const char *output = shoal_driver_output(driver);
    char message[1200];
    shoal_outcome_t outcome = SHOAL_OUTCOME_ERROR;
    if (d.failed) {
        outcome = SHOAL_OUTCOME_FAILED;
        snprintf(message, sizeof(message), "%zu of %zu doc tests failed: %s", d.failed,
                 d.passed + d.failed + d.ignored, d.failures);
    } else if (!d.summary || rc != 0) {
        snprintf(message, sizeof(message), "cargo test --doc ended (exit status %d)%s", rc,
                 d.summary ? "" : " before rustdoc's summary");
    } else {
        outcome = d.passed ? SHOAL_OUTCOME_PASSED : SHOAL_OUTCOME_SKIPPED;
        snprintf(message, sizeof(message), "%zu doc tests passed, %zu ignored", d.passed,
                 d.ignored);
        output = "";
    }
    shoal_driver_result(driver, test, outcome, seconds, message, output);
}

static shoal_driver_end_t
s_run(void *state, shoal_driver_t *driver, const size_t *tests, size_t count)
{
    s_cargo_t *self = state;
    s_entry_t *entries = calloc(count, sizeof(*entries));
    bool *taken = calloc(count, sizeof(bool));
    shoal_driver_end_t end = SHOAL_DRIVER_RAN;
    /* binaries in the order their first test was dealt; each cut by argv bytes */
    for (size_t first = 0; entries && taken && first < count && end == SHOAL_DRIVER_RAN &&
                           !shoal_driver_stopping(driver);
         first++) {
        if (taken[first])
            continue;
        const s_unit_t *unit = &self->units[self->tests[tests[first]].unit];
        if (!unit->exe) {
            taken[first] = true;
            s_run_doc(self, driver, unit, tests[first]);
            continue;
        }
        s_invocation_t inv = {.driver = driver, .unit = unit, .entries = entries};
        size_t bytes = 0;
        for (size_t i = first; i < count && bytes < S_ARGV_BYTES; i++) {
            const s_test_t *t = &self->tests[tests[i]];
            if (taken[i] || &self->units[t->unit] != inv.unit)
                continue;
            taken[i] = true;
            bytes += strlen(t->name) + 1 + sizeof(char *);
            entries[inv.count++] = (s_entry_t){.name = t->name, .test = tests[i]};
        }
        end = s_invoke(self, &inv);
        first--; /* the same binary's tests cut off by bytes come next */
    }
    free(entries);
    free(taken);
    return end;
}

/* rustc's version and host; `cargo +nightly test` picks rustup's toolchain,
 * and rustc is asked for the same one. */
static char **
s_toolchain_argv(const void *state)
{
    char *const *command = shoal_adapter_command(state);
    bool pinned = s_is_cargo(command[0]) && command[1] && command[1][0] == '+';
    char *argv[] = {"rustc", pinned ? command[1] : "-vV", "-vV", NULL};
    return shoal_argv_copy(pinned ? 3 : 2, argv);
}

static const char *const s_dep_files[] = {"Cargo.lock", "Cargo.toml", "rust-toolchain",
                                          "rust-toolchain.toml", NULL};

const shoal_adapter_ops_t shoal_adapter_cargo_ops = SHOAL_ADAPTER_DRIVER_OPS(
    "cargo", s_detect, S_BATCH_MAX, S_INVOCATION_SECONDS, s_toolchain_argv, s_dep_files);

const shoal_driver_ops_t shoal_driver_cargo_ops = {
    .name = "cargo",
    .collect = s_collect,
    .run = s_run,
    .destroy = s_destroy,
};
