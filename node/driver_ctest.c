/* node/driver_ctest.c: ctest (CMake's test driver) behind the driver
 * interface (driver.h). ctest reads the build directory's CTestTestfile.cmake
 * and decides what the tests are; shoal lists them with ctest's own JSON
 * (`--show-only=json-v1` with the user's options, so -R/-E/-L/-LE/-I/-U and
 * the fixtures they pull in hold), numbers them by their place among all the
 * tests (a second listing, without the selection), and runs each
 * batch as one `ctest <user's options> --output-junit FILE -j 1 -I
 * 0,0,0,N1,N2...` invocation: -I names tests by number, which no regex does
 * (two directories may each have a test of one name, and -R matches both).
 * The user's selection (-R, -E, -L, -LE, -I, -U) is left out of batches: the
 * listing applied it, and with it ctest's -I would count only the tests it
 * leaves (-E even renumbers them), among which a fixture's setup test that
 * it pulled in is not.
 *
 * Outcomes and durations come from ctest's JUnit file (read by junit.c), the
 * `Start N: name` progress lines say when each test begins, and the result
 * lines give ctest's words for a failure its JUnit leaves blank ("Timeout",
 * "Exception: SegFault"). ctest's own rule decides what is a failure: a test
 * it did not run is skipped only when a SKIP_RETURN_CODE or
 * SKIP_REGULAR_EXPRESSION said so, or when it is DISABLED (decided at
 * listing); anything else it did not run (a missing executable, a failed
 * fixture) fails, as ctest counts it.
 *
 * Fixtures: as with -R, ctest adds to a batch the setup and cleanup tests of
 * the fixtures its tests require, and runs them first and last. Those added
 * runs prepare the batch's tests; their outcomes are not reported, since each
 * setup and cleanup test is a test of the collection and is reported once,
 * from the batch that names it. A failed setup makes ctest not run the tests
 * that require it, which then fail here as under ctest.
 */
#include "node/driver_ctest.h"
#include "node/adapter_impl.h"
#include "node/driver.h"
#include "node/junit.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S_BATCH_MAX 500
#define S_INVOCATION_SECONDS 0.02 /* ctest per batch: 16 ms a batch (scripts/bench-batch) */
/* bytes of one -I argument (an argument is capped at 128 KiB) */
#define S_SELECT_MAX (100 * 1024)
/* bytes kept of what ctest says before its JSON */
#define S_PREAMBLE_MAX 4096

/* ---- the user's options ---- */

/* ctest 3.25's options whose value is the next word (and 3.29's file
 * selections). */
// clang-format off
static const char *const s_valued[] = {
    "-C", "--build-config", "-D", "--dashboard", "-O", "--output-log", "--output-junit",
    "-L", "--label-regex", "-LE", "--label-exclude", "-R", "--tests-regex", "-E",
    "--exclude-regex", "-FA", "--fixture-exclude-any", "-FS", "--fixture-exclude-setup", "-FC",
    "--fixture-exclude-cleanup", "-T", "--test-action", "-M", "--test-model", "-S", "--script",
    "-SP", "--script-new-process", "-A", "--add-notes", "-I", "--tests-information", "-W",
    "--max-width", "-j", "--parallel", "--repeat", "--repeat-until-fail", "--timeout",
    "--stop-time", "--test-load", "--resource-spec-file", "--test-dir", "--preset",
    "--interactive-debug-mode", "--test-output-size-passed", "--test-output-size-failed",
    "--test-output-truncation", "--extra-submit", "--http-header", "--submit-index", "--group",
    "--track", "--overwrite", "--test-timeout", "--tests-from-file", "--exclude-from-file",
    NULL,
};
// clang-format on

/* Options that cannot work distributed, and why. */
static const struct {
    const char *option;
    const char *why;
} s_refused[] = {
    {"-N", "only lists the tests (shoal run --dry-run shows the plan)"},
    {"--show-only", "only lists the tests (shoal run --dry-run shows the plan)"},
    {"--print-labels", "only lists the labels"},
    {"--rerun-failed", "reads this build directory's record of the last ctest run, which "
                       "shoal's batches overwrite: name the tests with -R, or use shoal's "
                       "--retries"},
    {"--output-junit", "would name each batch's file: shoal run --junit FILE writes the "
                       "session's report"},
    {"-D", "drives a dashboard, not only tests"},
    {"--dashboard", "drives a dashboard, not only tests"},
    {"-T", "drives a dashboard, not only tests"},
    {"--test-action", "drives a dashboard, not only tests"},
    {"-M", "drives a dashboard, not only tests"},
    {"--test-model", "drives a dashboard, not only tests"},
    {"-S", "runs a script, not only tests"},
    {"-SP", "runs a script, not only tests"},
    {"--script", "runs a script, not only tests"},
    {"--script-new-process", "runs a script, not only tests"},
    {"--build-and-test", "builds as well as tests"},
};

static bool
s_in(const char *word, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(word, list[i]) == 0)
            return true;
    return false;
}

int
shoal_ctest_options(int argc, char *const *argv, shoal_ctest_options_t *out, char *err,
                    size_t err_size)
{
    memset(out, 0, sizeof(*out));
    for (int i = 1; i < argc; i++) {
        const char *w = argv[i];
        for (size_t r = 0; r < sizeof(s_refused) / sizeof(s_refused[0]); r++) {
            size_t len = strlen(s_refused[r].option);
            if (strncmp(w, s_refused[r].option, len) == 0 && (w[len] == '\0' || w[len] == '=')) {
                snprintf(err, err_size, "ctest %s cannot run distributed: it %s", w,
                         s_refused[r].why);
                return -1;
            }
        }
        if (strcmp(w, "--stop-on-failure") == 0)
            out->stop_on_failure = true;
        else if (strcmp(w, "-j") == 0 || strcmp(w, "--parallel") == 0 ||
                 (strncmp(w, "-j", 2) == 0 && w[2] >= '0' && w[2] <= '9'))
            out->parallel = true;
        if (strcmp(w, "--test-dir") == 0 && i + 1 < argc)
            out->test_dir = argv[i + 1];
        if (s_in(w, s_valued))
            i++; /* its value is not an option */
    }
    return 0;
}

/* The user's selection: the listing applied it. A batch names its tests with
 * -I by ctest's numbers, which count the tests these options leave (and could
 * not name a fixture's setup test that they leave out, nor narrow a union),
 * so batches run without them. */
// clang-format off
static const char *const s_selection[] = {
    "-R", "--tests-regex", "-E", "--exclude-regex", "-L", "--label-regex", "-LE",
    "--label-exclude", "-I", "--tests-information", "-U", "--union", "--tests-from-file",
    "--exclude-from-file", NULL,
};
// clang-format on

size_t
shoal_ctest_batch_drops(int argc, char *const *argv, int i)
{
    if (strcmp(argv[i], "--stop-on-failure") == 0)
        return 1; /* the session stops instead, after the batch */
    if (!s_in(argv[i], s_selection))
        return 0;
    return s_in(argv[i], s_valued) && i + 1 < argc ? 2 : 1;
}

/* ---- the listing ---- */

void
shoal_ctest_tests_free(shoal_ctest_test_t *tests, size_t count)
{
    for (size_t i = 0; tests && i < count; i++) {
        free(tests[i].name);
        free(tests[i].id);
        free(tests[i].file);
        free(tests[i].key);
    }
    free(tests);
}

static json_object *
s_get(json_object *obj, const char *key, json_type type)
{
    json_object *v = NULL;
    return obj && json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, type) ? v
                                                                                          : NULL;
}

/* path without the directory dir and its slash, if it is below dir; "." for
 * dir itself; NULL otherwise. */
static const char *
s_below(const char *path, const char *dir)
{
    size_t len = strlen(dir);
    if (len > 0 && dir[len - 1] == '/')
        len--;
    if (strncmp(path, dir, len) != 0)
        return NULL;
    if (path[len] == '\0')
        return ".";
    return path[len] == '/' ? path + len + 1 : NULL;
}

/* The add_test call of a test: its backtrace node's file and line. */
static void
s_where(json_object *test, json_object *graph, const char *cwd, const char **file, unsigned *line)
{
    *file = "";
    *line = 0;
    json_object *bt = s_get(test, "backtrace", json_type_int);
    json_object *nodes = s_get(graph, "nodes", json_type_array);
    json_object *files = s_get(graph, "files", json_type_array);
    if (!bt || !nodes || !files)
        return;
    json_object *node = json_object_array_get_idx(nodes, (size_t)json_object_get_int(bt));
    json_object *f = s_get(node, "file", json_type_int);
    json_object *l = s_get(node, "line", json_type_int);
    json_object *name = f ? json_object_array_get_idx(files, (size_t)json_object_get_int(f)) : NULL;
    if (!name || !json_object_is_type(name, json_type_string))
        return;
    *file = json_object_get_string(name);
    const char *rel = s_below(*file, cwd);
    if (rel && strcmp(rel, ".") != 0)
        *file = rel;
    *line = l ? (unsigned)json_object_get_int(l) : 0;
}

/* Reads the properties shoal cares about; *wd is WORKING_DIRECTORY or "". */
static void
s_properties(json_object *test, shoal_ctest_test_t *t, const char **wd)
{
    *wd = "";
    json_object *props = s_get(test, "properties", json_type_array);
    size_t n = props ? json_object_array_length(props) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *p = json_object_array_get_idx(props, i);
        json_object *name = s_get(p, "name", json_type_string), *value = NULL;
        if (!name || !json_object_object_get_ex(p, "value", &value))
            continue;
        const char *key = json_object_get_string(name);
        if (strcmp(key, "DISABLED") == 0)
            t->disabled = json_object_get_boolean(value);
        else if (strcmp(key, "RUN_SERIAL") == 0)
            t->serial |= json_object_get_boolean(value);
        else if (strcmp(key, "RESOURCE_LOCK") == 0 || strcmp(key, "RESOURCE_GROUPS") == 0)
            t->serial = true;
        else if (strcmp(key, "WORKING_DIRECTORY") == 0 &&
                 json_object_is_type(value, json_type_string))
            *wd = json_object_get_string(value);
    }
}

/* a, sep and b joined; NULL out of memory. */
static char *
s_join(const char *a, const char *sep, const char *b)
{
    size_t len = strlen(a) + strlen(sep) + strlen(b) + 1;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s%s%s", a, sep, b);
    return out;
}

/* What tells a test apart in two listings of one project: all ctest says of
 * it but the backtrace's index (each listing numbers its own), and where
 * add_test is instead. */
static char *
s_key(json_object *test, const char *file, unsigned line)
{
    json_object_object_del(test, "backtrace");
    const char *text = json_object_to_json_string_ext(test, JSON_C_TO_STRING_PLAIN);
    char where[32];
    snprintf(where, sizeof(where), ":%u", line);
    char *head = s_join(text ? text : "", "\n", file), *key = head ? s_join(head, "", where) : NULL;
    free(head);
    return key;
}

static const shoal_ctest_test_t *s_by_name_tests; /* qsort has no context argument */

static int
s_by_name(const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    int c = strcmp(s_by_name_tests[*x].name, s_by_name_tests[*y].name);
    return c ? c : (*x > *y) - (*x < *y);
}

/* Tests [group[0..n)) share a name (ctest allows one per directory): each id
 * names the directory it runs in below the test directory ("sub/dir::name");
 * if that does not tell them apart, their order ("name #2"). wds: the
 * WORKING_DIRECTORY of every test. */
static int
s_name_duplicates(shoal_ctest_test_t *tests, const size_t *group, size_t n, char **wds,
                  const char *test_dir)
{
    bool by_dir = true;
    for (size_t i = 0; i < n && by_dir; i++) {
        const char *rel = s_below(wds[group[i]], test_dir);
        by_dir = rel != NULL;
        for (size_t j = 0; j < i && by_dir; j++)
            by_dir = strcmp(wds[group[i]], wds[group[j]]) != 0;
    }
    for (size_t i = 0; i < n; i++) {
        shoal_ctest_test_t *t = &tests[group[i]];
        char ordinal[24];
        snprintf(ordinal, sizeof(ordinal), "%zu", i + 1);
        char *id = by_dir ? s_join(s_below(wds[group[i]], test_dir), "::", t->name)
                          : s_join(t->name, " #", ordinal);
        if (!id)
            return -1;
        free(t->id);
        t->id = id;
    }
    return 0;
}

static int
s_ids(shoal_ctest_test_t *tests, size_t count, char **wds, const char *test_dir)
{
    size_t *order = malloc((count ? count : 1) * sizeof(size_t));
    if (!order)
        return -1;
    for (size_t i = 0; i < count; i++)
        order[i] = i;
    s_by_name_tests = tests;
    qsort(order, count, sizeof(size_t), s_by_name);
    s_by_name_tests = NULL;
    int rc = 0;
    for (size_t i = 0, j; i < count && rc == 0; i = j) {
        for (j = i + 1; j < count && strcmp(tests[order[j]].name, tests[order[i]].name) == 0;)
            j++;
        if (j - i > 1)
            rc = s_name_duplicates(tests, order + i, j - i, wds, test_dir);
    }
    free(order);
    return rc;
}

int
shoal_ctest_list_parse(const char *json, const char *test_dir, const char *cwd,
                       shoal_ctest_test_t **tests_out, size_t *count_out, char *err,
                       size_t err_size)
{
    *tests_out = NULL;
    *count_out = 0;
    enum json_tokener_error jerr = json_tokener_success;
    json_object *root = json_tokener_parse_verbose(json, &jerr);
    json_object *list = s_get(root, "tests", json_type_array);
    if (!list) {
        snprintf(err, err_size, "ctest's JSON listing is not what ctest 3.14+ writes: %s",
                 root ? "no \"tests\" array" : json_tokener_error_desc(jerr));
        json_object_put(root);
        return -1;
    }
    json_object *graph = s_get(root, "backtraceGraph", json_type_object);
    size_t count = json_object_array_length(list);
    shoal_ctest_test_t *tests = calloc(count ? count : 1, sizeof(*tests));
    char **wds = calloc(count ? count : 1, sizeof(char *));
    const char *why = tests && wds ? NULL : "out of memory";
    for (size_t i = 0; i < count && !why; i++) {
        json_object *test = json_object_array_get_idx(list, i);
        json_object *name = s_get(test, "name", json_type_string);
        if (!name) {
            why = "a test has no name";
            break;
        }
        const char *file, *wd;
        s_where(test, graph, cwd, &file, &tests[i].line);
        s_properties(test, &tests[i], &wd);
        tests[i].name = strdup(json_object_get_string(name));
        tests[i].id = strdup(json_object_get_string(name));
        tests[i].file = strdup(file);
        wds[i] = strdup(wd);
        tests[i].key = s_key(test, file, tests[i].line);
        if (!tests[i].name || !tests[i].id || !tests[i].file || !wds[i] || !tests[i].key)
            why = "out of memory";
    }
    if (!why && s_ids(tests, count, wds, test_dir) != 0)
        why = "out of memory";
    for (size_t i = 0; wds && i < count; i++)
        free(wds[i]);
    free(wds);
    json_object_put(root);
    if (why) {
        snprintf(err, err_size, "ctest's JSON listing: %s", why);
        shoal_ctest_tests_free(tests, count);
        return -1;
    }
    *tests_out = tests;
    *count_out = count;
    return 0;
}

int
shoal_ctest_match(shoal_ctest_test_t *some, size_t some_count, const shoal_ctest_test_t *all,
                  size_t all_count, unsigned *number_out, char *err, size_t err_size)
{
    bool *used = calloc(all_count ? all_count : 1, sizeof(bool));
    if (!used) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    int rc = 0;
    /* both listings keep ctest's order: look on from the last match first */
    for (size_t i = 0, next = 0; i < some_count && rc == 0; i++) {
        size_t found = SIZE_MAX;
        for (size_t k = 0; k < all_count && found == SIZE_MAX; k++) {
            size_t at = (next + k) % all_count;
            if (!used[at] && strcmp(all[at].key, some[i].key) == 0)
                found = at;
        }
        char *id = found != SIZE_MAX ? strdup(all[found].id) : NULL;
        if (!id) {
            snprintf(err, err_size,
                     found == SIZE_MAX ? "ctest lists '%s' with the selection given, but "
                                         "not among all the tests"
                                       : "out of memory (%s)",
                     some[i].name);
            rc = -1;
            break;
        }
        used[found] = true;
        next = found + 1;
        number_out[i] = (unsigned)found + 1;
        free(some[i].id);
        some[i].id = id;
    }
    free(used);
    return rc;
}

/* ---- ctest's progress lines ---- */

/* Skips spaces, then digits; the number (0 if none), *p after it. */
static unsigned
s_number(const char **p)
{
    while (**p == ' ')
        (*p)++;
    unsigned long n = 0;
    const char *start = *p;
    while (**p >= '0' && **p <= '9' && n < UINT_MAX / 10)
        n = n * 10 + (unsigned)(*(*p)++ - '0');
    return *p > start ? (unsigned)n : 0;
}

/* "WORD  #?N: " after spaces: N, *name_out after it. */
static unsigned
s_tagged(const char *line, const char *word, bool hash, const char **name_out)
{
    const char *p = line;
    while (*p == ' ')
        p++;
    size_t len = strlen(word);
    if (strncmp(p, word, len) != 0 || p[len] != ' ')
        return 0;
    p += len;
    while (*p == ' ')
        p++;
    if (hash && *p++ != '#')
        return 0;
    unsigned n = s_number(&p);
    if (n == 0 || p[0] != ':' || p[1] != ' ')
        return 0;
    *name_out = p + 2;
    return n;
}

unsigned
shoal_ctest_started(const char *line, const char **name_out)
{
    return s_tagged(line, "Start", false, name_out);
}

unsigned
shoal_ctest_ended(const char *line, const char **rest_out)
{
    /* " 3/14 " first, except for the runs --repeat adds */
    const char *p = line;
    if (s_number(&p) > 0 && *p == '/') {
        p++;
        if (s_number(&p) == 0)
            return 0;
    } else {
        p = line;
    }
    return s_tagged(p, "Test", true, rest_out);
}

bool
shoal_ctest_status(const char *rest, const char *name, char *status, size_t status_size,
                   double *seconds)
{
    *seconds = 0;
    size_t len = strlen(name);
    if (strncmp(rest, name, len) != 0 || (rest[len] != ' ' && rest[len] != '\0'))
        return false;
    const char *p = rest + len;
    while (*p == ' ' || *p == '.' || *p == '*')
        p++;
    /* the end is "  0.01 sec" */
    const char *end = p + strlen(p);
    if (end - p >= 4 && strcmp(end - 4, " sec") == 0) {
        end -= 4;
        while (end > p && (end[-1] == '.' || (end[-1] >= '0' && end[-1] <= '9')))
            end--;
        *seconds = strtod(end, NULL);
    }
    while (end > p && end[-1] == ' ')
        end--;
    snprintf(status, status_size, "%.*s", (int)(end - p), p);
    return true;
}

shoal_outcome_t
shoal_ctest_status_outcome(const char *status)
{
    if (strcmp(status, "Passed") == 0)
        return SHOAL_OUTCOME_PASSED;
    if (strncmp(status, "Skipped", 7) == 0 || strstr(status, "(Disabled)"))
        return SHOAL_OUTCOME_SKIPPED;
    return strncmp(status, "Not Run", 7) == 0 ? SHOAL_OUTCOME_ERROR : SHOAL_OUTCOME_FAILED;
}

shoal_outcome_t
shoal_ctest_junit_outcome(const shoal_junit_record_t *r, const char *status, const char **message)
{
    shoal_outcome_t outcome = r->outcome;
    *message = r->message;
    if (outcome == SHOAL_OUTCOME_SKIPPED && strncmp(r->message, "SKIP_", 5) != 0) {
        outcome = SHOAL_OUTCOME_ERROR; /* not run for a reason ctest counts as failed */
    } else if (outcome == SHOAL_OUTCOME_PASSED && status[0] &&
               shoal_ctest_status_outcome(status) != SHOAL_OUTCOME_PASSED) {
        /* status="disabled" has no child element */
        outcome = shoal_ctest_status_outcome(status);
        *message = status;
    }
    if (!(*message)[0])
        *message = status; /* "Timeout", "Exception: SegFault": the JUnit says "" */
    return outcome;
}

/* ---- the driver ---- */

typedef struct {
    char **command; /* the user's ctest command, less what batches drop, then ours;
                       its last word is -I's value, each invocation's own */
    size_t command_len;
    char junit[64];   /* the JUnit file every batch writes */
    unsigned *number; /* per test of the collection: ctest's number */
    char **name;      /* per test: ctest's name */
    size_t count;
    size_t *by_number; /* ctest's number -> test of the collection, or SIZE_MAX */
    unsigned max_number;
    struct s_invocation *inv; /* made once, at the first batch, and reset per batch */
} s_ctest_t;

static void s_invocation_destroy(struct s_invocation *inv);

static void
s_destroy(void *state)
{
    s_ctest_t *self = state;
    if (!self)
        return;
    shoal_adapter_argv_free(&self->command);
    for (size_t i = 0; self->name && i < self->count; i++)
        free(self->name[i]);
    free(self->name);
    free(self->number);
    free(self->by_number);
    s_invocation_destroy(self->inv);
    if (self->junit[0])
        unlink(self->junit);
    free(self);
}

/* Pushes the user's options (argv[1..]), less what batches leave out if
 * kept_only. */
static void
s_push_options(shoal_argv_t *a, int argc, char *const *argv, bool kept_only)
{
    for (int i = 1; i < argc;) {
        size_t drop = kept_only ? shoal_ctest_batch_drops(argc, argv, i) : 0;
        if (drop == 0)
            shoal_argv_push(a, argv[i]);
        i += drop ? (int)drop : 1;
    }
}

/* ctest's JSON listing: for the whole command, or for the options batches
 * keep (kept_only). */
static char **
s_listing_command(int argc, char *const *argv, bool kept_only)
{
    shoal_argv_t a = {0};
    shoal_argv_push(&a, argv[0]);
    shoal_argv_push(&a, "--show-only=json-v1");
    s_push_options(&a, argc, argv, kept_only);
    return a.failed ? NULL : a.v;
}

/* What the JSON listing prints: the text before the JSON (ctest's warnings,
 * such as a regex that does not compile), and the JSON. */
typedef struct {
    char *json;
    size_t len, cap;
    bool in_json, oom;
    char preamble[S_PREAMBLE_MAX];
} s_listing_t;

static void
s_on_listing(void *arg, const char *line, size_t len)
{
    s_listing_t *l = arg;
    if (!l->in_json && strcmp(line, "{") != 0) {
        size_t used = strlen(l->preamble);
        snprintf(l->preamble + used, sizeof(l->preamble) - used, "%s%s", used ? "\n" : "", line);
        return;
    }
    l->in_json = true;
    if (l->len + len + 2 > l->cap) {
        size_t cap = (l->len + len + 2) * 2;
        char *grown = realloc(l->json, cap);
        if (!grown) {
            l->oom = true;
            return;
        }
        l->json = grown;
        l->cap = cap;
    }
    memcpy(l->json + l->len, line, len);
    l->len += len;
    l->json[l->len++] = '\n';
    l->json[l->len] = '\0';
}

/* No tests and nothing said: is there a test configuration at all? */
static bool
s_has_configuration(const char *test_dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/CTestTestfile.cmake", test_dir);
    if (access(path, F_OK) == 0)
        return true;
    snprintf(path, sizeof(path), "%s/DartTestfile.txt", test_dir);
    return access(path, F_OK) == 0;
}

/* Runs one JSON listing (once per participant: its other workers replay it)
 * and parses it; l->preamble keeps what ctest said
 * before it. */
static int
s_list_one(shoal_driver_t *driver, int argc, char *const *argv, bool kept_only,
           const char *test_dir, const char *cwd, s_listing_t *l, shoal_ctest_test_t **tests,
           size_t *count, char *err, size_t err_size)
{
    char **list = s_listing_command(argc, argv, kept_only);
    int status = list ? shoal_driver_spawn_shared(driver, list, NULL, NULL, s_on_listing, l) : -1;
    shoal_adapter_argv_free(&list);
    int rc = -1;
    if (status != 0 || !l->json || l->oom)
        snprintf(err, err_size, "ctest could not list the tests (%s %d):\n%s",
                 status < 0 ? "could not start:" : "exit status", status,
                 shoal_driver_output(driver));
    else
        rc = shoal_ctest_list_parse(l->json, test_dir, cwd, tests, count, err, err_size);
    free(l->json);
    l->json = NULL;
    return rc;
}

/* The tests the user's command selects, numbered as ctest numbers them
 * without a selection (self->number), which is how batches name them: -E
 * renumbers the tests it leaves, -R does not. */
static int
s_list(s_ctest_t *self, shoal_driver_t *driver, int argc, char *const *argv,
       const shoal_ctest_options_t *opts, shoal_ctest_test_t **tests, size_t *count, char *err,
       size_t err_size)
{
    char cwd[PATH_MAX], test_dir[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)) || !realpath(opts->test_dir ? opts->test_dir : ".", test_dir)) {
        snprintf(err, err_size, "ctest: cannot use the test directory '%s': %s",
                 opts->test_dir ? opts->test_dir : ".", strerror(errno));
        return -1;
    }
    s_listing_t l = {0};
    shoal_ctest_test_t *all = NULL;
    size_t all_count = 0;
    int rc = -1;
    if (s_list_one(driver, argc, argv, false, test_dir, cwd, &l, tests, count, err, err_size) != 0)
        goto done;
    if (*count == 0 && l.preamble[0]) {
        snprintf(err, err_size, "ctest listed no tests and said:\n%s", l.preamble);
        goto done;
    }
    if (*count == 0 && !s_has_configuration(test_dir)) {
        snprintf(err, err_size,
                 "ctest: no test configuration (CTestTestfile.cmake) in %s: run in a CMake "
                 "build directory or pass ctest --test-dir DIR",
                 test_dir);
        goto done;
    }
    self->number = calloc(*count ? *count : 1, sizeof(unsigned));
    s_listing_t whole = {0};
    if (!self->number || s_list_one(driver, argc, argv, true, test_dir, cwd, &whole, &all,
                                    &all_count, err, err_size) != 0)
        goto done;
    rc = shoal_ctest_match(*tests, *count, all, all_count, self->number, err, err_size);
done:
    shoal_ctest_tests_free(all, all_count);
    if (rc != 0) {
        shoal_ctest_tests_free(*tests, *count);
        *tests = NULL;
        *count = 0;
    }
    return rc;
}

/* The command of every batch: the user's, less what batches drop (the
 * selection, --stop-on-failure), with the JUnit file and one test at a time (shoal's slots are the
 * parallelism; the last -j wins); -I and its numbers follow. */
static int
s_batch_command(s_ctest_t *self, int argc, char *const *argv)
{
    int fd = -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(self->junit, sizeof(self->junit), "%s/shoal-ctest-XXXXXX",
             tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
    if ((fd = mkstemp(self->junit)) < 0) {
        self->junit[0] = '\0';
        return -1;
    }
    close(fd);
    shoal_argv_t a = {0};
    shoal_argv_push(&a, argv[0]);
    s_push_options(&a, argc, argv, true);
    shoal_argv_push(&a, "--output-junit");
    shoal_argv_push(&a, self->junit);
    shoal_argv_push(&a, "-j");
    shoal_argv_push(&a, "1");
    shoal_argv_push(&a, "-I");
    shoal_argv_push(&a, ""); /* -I's value: each invocation's own */
    if (a.failed)
        return -1;
    self->command = a.v;
    self->command_len = a.len;
    return 0;
}

/* One line for the user about what shoal changes in how ctest runs. */
static char *
s_notice(const shoal_ctest_options_t *opts, size_t serial)
{
    char text[512] = "";
    if (opts->parallel)
        snprintf(text, sizeof(text),
                 "ctest -j is not used: shoal's slots are the parallelism, each running one "
                 "test at a time");
    if (serial) {
        size_t used = strlen(text);
        snprintf(text + used, sizeof(text) - used,
                 "%s%zu test%s with RUN_SERIAL, RESOURCE_LOCK or RESOURCE_GROUPS: ctest "
                 "honours them only within one slot's batch, while other slots and machines "
                 "run other tests",
                 used ? "; " : "ctest: ", serial, serial == 1 ? "" : "s");
    }
    return text[0] ? strdup(text) : NULL;
}

static int
s_collect(void **state, shoal_driver_t *driver, int argc, char *const *argv,
          shoal_collection_t *out, char *err, size_t err_size)
{
    shoal_ctest_options_t opts;
    if (shoal_ctest_options(argc, argv, &opts, err, err_size) != 0)
        return -1;
    s_ctest_t *self = calloc(1, sizeof(*self));
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    *state = self;
    shoal_ctest_test_t *tests = NULL;
    size_t count = 0, serial = 0;
    if (s_list(self, driver, argc, argv, &opts, &tests, &count, err, err_size) != 0) {
        s_destroy(self);
        *state = NULL;
        return -1;
    }
    int rc = -1;
    self->count = count; /* from here self->name and self->number cover the tests */
    self->name = calloc(count ? count : 1, sizeof(char *));
    for (size_t i = 0; i < count; i++)
        self->max_number = self->number[i] > self->max_number ? self->number[i] : self->max_number;
    self->by_number = malloc(((size_t)self->max_number + 1) * sizeof(size_t));
    if (!self->name || !self->by_number || s_batch_command(self, argc, argv) != 0) {
        snprintf(err, err_size, "ctest: out of memory, or no temporary file: %s", strerror(errno));
        goto done;
    }
    for (size_t i = 0; i <= self->max_number; i++)
        self->by_number[i] = SIZE_MAX;
    for (size_t i = 0; i < count; i++) {
        const shoal_ctest_test_t *t = &tests[i];
        /* ctest never runs a DISABLED test and does not count it as failed */
        if ((t->disabled
                 ? shoal_collection_add_preset(out, t->id, SHOAL_OUTCOME_SKIPPED, "Disabled", NULL)
                 : shoal_collection_add(out, t->id, t->file, t->line, NULL)) != 0) {
            snprintf(err, err_size, "out of memory");
            goto done;
        }
        self->by_number[self->number[i]] = i;
        self->name[i] = t->name;
        tests[i].name = NULL; /* now self's */
        serial += t->serial;
    }
    out->maxfail = opts.stop_on_failure ? 1 : 0;
    out->notice = s_notice(&opts, serial);
    rc = 0;
done:
    shoal_ctest_tests_free(tests, count);
    if (rc != 0) {
        s_destroy(self); /* the worker ends without destroying a failed collection */
        *state = NULL;
    }
    return rc;
}

/* What one invocation's progress lines said, per test of the collection. */
typedef struct s_invocation {
    s_ctest_t *self;
    shoal_driver_t *driver;
    size_t *started; /* tests in the order ctest started them */
    size_t started_count;
    bool said_start; /* ctest printed a start line, of a test of ours or not */
    bool *begun;
    char **status;   /* ctest's words for how the test ended, or NULL */
    double *seconds; /* as its result line says */
} s_invocation_t;

static void
s_invocation_destroy(s_invocation_t *inv)
{
    if (!inv)
        return;
    for (size_t i = 0; inv->status && i < inv->self->count; i++)
        free(inv->status[i]);
    free(inv->status);
    free(inv->seconds);
    free(inv->begun);
    free(inv->started);
    free(inv);
}

/* Sized by the collection, so made once (a batch only resets what it
 * touched). NULL out of memory. */
static s_invocation_t *
s_invocation_new(s_ctest_t *self)
{
    size_t n = self->count ? self->count : 1;
    s_invocation_t *inv = calloc(1, sizeof(*inv));
    if (!inv)
        return NULL;
    *inv = (s_invocation_t){.self = self,
                            .started = malloc(n * sizeof(size_t)),
                            .begun = calloc(n, sizeof(bool)),
                            .status = calloc(n, sizeof(char *)),
                            .seconds = calloc(n, sizeof(double))};
    if (inv->started && inv->begun && inv->status && inv->seconds)
        return inv;
    s_invocation_destroy(inv);
    return NULL;
}

static void
s_invocation_reset(s_invocation_t *inv)
{
    for (size_t i = 0; i < inv->started_count; i++) {
        size_t t = inv->started[i];
        inv->begun[t] = false;
        free(inv->status[t]);
        inv->status[t] = NULL;
    }
    inv->started_count = 0;
    inv->said_start = false;
}

static size_t
s_test_of(const s_ctest_t *self, unsigned number, const char *name, size_t name_len)
{
    if (number > self->max_number || self->by_number[number] == SIZE_MAX)
        return SIZE_MAX;
    size_t t = self->by_number[number];
    return strlen(self->name[t]) <= name_len &&
                   strncmp(name, self->name[t], strlen(self->name[t])) == 0
               ? t
               : SIZE_MAX;
}

static void
s_on_run_line(void *arg, const char *line, size_t len)
{
    s_invocation_t *inv = arg;
    const char *rest;
    unsigned number = shoal_ctest_started(line, &rest);
    inv->said_start |= number > 0;
    size_t t = number ? s_test_of(inv->self, number, rest, len - (size_t)(rest - line)) : SIZE_MAX;
    if (t != SIZE_MAX && strcmp(rest, inv->self->name[t]) == 0) {
        if (!inv->begun[t]) { /* --repeat starts a test again: it began at its first start */
            inv->begun[t] = true;
            inv->started[inv->started_count++] = t;
            shoal_driver_begin(inv->driver, t);
        }
        return;
    }
    number = shoal_ctest_ended(line, &rest);
    t = number ? s_test_of(inv->self, number, rest, len - (size_t)(rest - line)) : SIZE_MAX;
    char status[256];
    double seconds;
    if (t != SIZE_MAX && inv->begun[t] &&
        shoal_ctest_status(rest, inv->self->name[t], status, sizeof(status), &seconds)) {
        free(inv->status[t]); /* the last run --repeat made decides */
        inv->status[t] = strdup(status);
        inv->seconds[t] = seconds;
    }
}

static const unsigned *s_numbers; /* qsort has no context argument */

static int
s_by_number(const void *a, const void *b)
{
    unsigned x = s_numbers[*(const size_t *)a], y = s_numbers[*(const size_t *)b];
    return (x > y) - (x < y);
}

/* Matches JUnit testcases (in ctest's number order) to the tests ctest ran. */
typedef struct {
    s_invocation_t *inv;
    const size_t *candidates;
    bool *taken;
    size_t count;
} s_match_t;

static void
s_on_record(void *ctx, const shoal_junit_record_t *r)
{
    s_match_t *m = ctx;
    const s_ctest_t *self = m->inv->self;
    size_t t = SIZE_MAX;
    for (size_t i = 0; i < m->count && t == SIZE_MAX; i++)
        if (!m->taken[i] && strcmp(self->name[m->candidates[i]], r->name) == 0) {
            m->taken[i] = true;
            t = m->candidates[i];
        }
    if (t == SIZE_MAX)
        return;
    const char *message;
    shoal_outcome_t outcome =
        shoal_ctest_junit_outcome(r, m->inv->status[t] ? m->inv->status[t] : "", &message);
    shoal_driver_result(m->inv->driver, t, outcome, r->seconds, message,
                        shoal_outcome_failed(outcome) ? r->output : NULL);
}

/* Reports what the JUnit file says of the tests ctest ran: those whose start
 * line names the test ctest's number had at listing (if the test files
 * changed since, others are not ours). Without progress lines (--quiet), the
 * batch's own tests are the candidates. */
static void
s_read_junit(s_invocation_t *inv, const size_t *tests, size_t count)
{
    s_match_t m = {.inv = inv,
                   .candidates = inv->said_start ? inv->started : tests,
                   .count = inv->said_start ? inv->started_count : count};
    size_t *sorted = malloc((m.count ? m.count : 1) * sizeof(size_t));
    m.taken = calloc(m.count ? m.count : 1, sizeof(bool));
    if (sorted && m.taken) {
        memcpy(sorted, m.candidates, m.count * sizeof(size_t));
        s_numbers = inv->self->number;
        qsort(sorted, m.count, sizeof(size_t), s_by_number);
        s_numbers = NULL;
        m.candidates = sorted;
        char err[512];
        /* no file: the core reports every test without a result, with ctest's output */
        (void)shoal_junit_parse(inv->self->junit, s_on_record, &m, err, sizeof(err));
    }
    free(sorted);
    free(m.taken);
}

/* ctest died (a test killed it, or it was killed) before writing its JUnit
 * file: the tests it finished have the outcome their result line says; the
 * core blames the one it was running and runs the rest again. */
static void
s_after_crash(s_invocation_t *inv, const size_t *tests, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (inv->status[tests[i]])
            shoal_driver_result(inv->driver, tests[i],
                                shoal_ctest_status_outcome(inv->status[tests[i]]),
                                inv->seconds[tests[i]], inv->status[tests[i]], NULL);
}

/* Runs tests[0..count) in one ctest invocation. */
static shoal_driver_end_t
s_invoke(s_invocation_t *inv, const size_t *tests, size_t count, const char *select)
{
    s_ctest_t *self = inv->self;
    s_invocation_reset(inv);
    unlink(self->junit); /* a file from an earlier batch is no report of this one */
    char *placeholder = self->command[self->command_len - 1];
    self->command[self->command_len - 1] = (char *)select;
    (void)shoal_driver_spawn(inv->driver, self->command, NULL, NULL, s_on_run_line, inv);
    self->command[self->command_len - 1] = placeholder;
    if (shoal_driver_signal(inv->driver))
        return SHOAL_DRIVER_CRASHED;
    s_read_junit(inv, tests, count);
    return SHOAL_DRIVER_RAN;
}

static shoal_driver_end_t
s_run(void *state, shoal_driver_t *driver, const size_t *tests, size_t count)
{
    s_ctest_t *self = state;
    char *select = malloc(S_SELECT_MAX + 32);
    size_t *pending = malloc(count * sizeof(size_t)), left = count;
    shoal_driver_end_t end = SHOAL_DRIVER_RAN;
    if (!self->inv)
        self->inv = s_invocation_new(self);
    if (!select || !pending || !self->inv) {
        free(select);
        free(pending);
        return SHOAL_DRIVER_RAN; /* the core answers every test with an error */
    }
    s_invocation_t *inv = self->inv;
    inv->driver = driver;
    memcpy(pending, tests, count * sizeof(size_t));
    while (left > 0 && end == SHOAL_DRIVER_RAN && !shoal_driver_stopping(driver)) {
        /* -I START,END,STRIDE,N...: no range, then the numbers */
        size_t len = (size_t)snprintf(select, S_SELECT_MAX, "0,0,0"), n = 0;
        for (; n < left && len < S_SELECT_MAX; n++)
            len += (size_t)snprintf(select + len, 32, ",%u", self->number[pending[n]]);
        end = s_invoke(inv, pending, n, select);
        if (end == SHOAL_DRIVER_CRASHED)
            s_after_crash(inv, pending, n);
        memmove(pending, pending + n, (left - n) * sizeof(size_t));
        left -= n;
    }
    s_invocation_reset(inv);
    free(select);
    free(pending);
    return end;
}

static size_t
s_detect(int argc, char *const *argv)
{
    (void)argc;
    return strcmp(shoal_basename(argv[0]), "ctest") == 0 ? 1 : 0;
}

/* CTest's version is CMake's; the user's ctest, when the command names it
 * by a path. What the tests were built with is in the build tree itself. */
static char **
s_toolchain_argv(const void *state)
{
    static const char *const version[] = {"--version", NULL};
    return shoal_adapter_tool_argv(state, "ctest", version);
}

const shoal_adapter_ops_t shoal_adapter_ctest_ops = SHOAL_ADAPTER_DRIVER_OPS(
    "ctest", s_detect, S_BATCH_MAX, S_INVOCATION_SECONDS, s_toolchain_argv, NULL);

const shoal_driver_ops_t shoal_driver_ctest_ops = {
    .name = "ctest",
    .collect = s_collect,
    .run = s_run,
    .destroy = s_destroy,
};
