/* node/driver_go.c: go test (`shoal run -- go test [flags] [packages]`), run
 * by a driver (driver.h). go decides what the tests are and how each runs:
 *
 *  - listing is `go test -list PATTERN -json <the user's words>`: the
 *    top-level tests, fuzz tests and examples go would run, per package
 *    (benchmarks are not run by go test without -bench). A test's id is
 *    "IMPORTPATH::Name" and its file IMPORTPATH: unique across packages and
 *    stable; JUnit's classname is the package, as go-junit-report has it. A package
 *    go cannot list (it does not build, vet fails, TestMain exits) is one
 *    preset error named by its import path, with go's message: go test alone
 *    prints `FAIL pkg [build failed]` and runs the other packages, as here.
 *    Packages are ordered by import path, as go's own output order may vary.
 *  - a batch is one `go test <the user's words> -json -count=1 -run '^(A|B)$'
 *    IMPORTPATH` per package; outcomes and durations are go's own events.
 *    Linking a test binary costs most of a small batch (0.7 s against 0.02 s
 *    for running testify/assert's binary), so go test runs each binary
 *    through a wrapper (-exec) that keeps it, with the directory and the
 *    arguments go gave it: later batches of that package run the same binary
 *    there with the same arguments (the -run filter replaced) through `go tool
 *    test2json`, which is what go test itself does. Without -exec of the
 *    user's, the listing already keeps every binary.
 *
 * Subtests (A/sub) are part of their top-level test: their output goes to its
 * failure output, and go fails the parent when one fails. A test that runs
 * testing.RunTests itself (testify's suite tests do) makes the event stream
 * show runs inside a running test: those are nested and do not count. A
 * package that fails outside any test (a panic in init or TestMain, a build
 * that broke since listing, -timeout) gives the tests it was running an error
 * with go's output; tests it never began are run again in a new invocation.
 */
#include "node/driver_go.h"
#include "node/files.h"
#include "node/adapter_impl.h"
#include "node/driver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S_BATCH_MAX 1000
/* a kept test binary through test2json: 3.6 ms a batch (scripts/bench-batch);
 * the first batch of a package links it */
#define S_INVOCATION_SECONDS 0.01
#define S_REGEX_MAX (96 * 1024)           /* of one -run argument (one argv word: 128 KiB) */
#define S_BUF_MAX (256 * 1024)            /* output kept per test (the core sends 60 KiB) */
#define S_BUF_HEAD (16 * 1024)            /* ...of which the head is never dropped */
#define S_KEEP_MAX (2048LL * 1024 * 1024) /* bytes of test binaries a worker keeps */

/* ---- text that grows, keeping its head and its tail ---- */

typedef struct {
    char *p;
    size_t len, cap;
} s_buf_t;

static void
s_buf_add(s_buf_t *b, const char *text, size_t len)
{
    if (len > S_BUF_MAX - S_BUF_HEAD) {
        text += len - (S_BUF_MAX - S_BUF_HEAD);
        len = S_BUF_MAX - S_BUF_HEAD;
    }
    if (b->len + len > S_BUF_MAX && b->len > S_BUF_HEAD) {
        size_t drop = b->len + len - S_BUF_MAX;
        if (drop > b->len - S_BUF_HEAD)
            drop = b->len - S_BUF_HEAD;
        memmove(b->p + S_BUF_HEAD, b->p + S_BUF_HEAD + drop, b->len - S_BUF_HEAD - drop);
        b->len -= drop;
    }
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown)
            return; /* out of memory: the output is shorter */
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, text, len);
    b->len += len;
    b->p[b->len] = '\0';
}

static const char *
s_buf_str(const s_buf_t *b)
{
    return b->p ? b->p : "";
}

/* ---- the user's command ---- */

/* go test's own flags (build flags and test flags, go 1.19 to 1.22), by
 * whether they take a value; anything else is the test binary's. */
static const char s_value_flags[] =
    " C asmflags bench benchtime blockprofile blockprofilerate buildmode compiler count covermode"
    " coverpkg coverprofile cpu cpuprofile exec fuzz fuzzminimizetime fuzztime gccgoflags gcflags"
    " installsuffix ldflags list memprofile memprofilerate mod modfile mutexprofile"
    " mutexprofilefraction o outputdir overlay p parallel pgo pkgdir run shuffle skip tags timeout"
    " toolexec trace vet debug-actiongraph debug-deprunorder debug-trace ";
static const char s_bool_flags[] =
    " a asan benchmem buildvcs c cover failfast fullpath i json linkshared modcacherw msan n race"
    " short trimpath v work x paniconexit0 ";

/* Options that cannot work when the tests are spread over invocations. */
static const struct {
    const char *flag, *why;
} s_refused[] = {
    {"bench", "benchmarks measure the machine they run on: run them with go test alone"},
    {"fuzz", "fuzzing runs one target for as long as it is given: run it with go test alone"},
    {"list", "-list only lists the tests; shoal run runs them (--dry-run shows its plan)"},
    {"c", "-c only compiles the test binaries"},
    {"o", "-o names the one compiled test binary (with -c)"},
    {"n", "-n only prints the commands go test would run"},
    {"skip", "go test -list, which shoal lists the tests with, does not apply -skip: use -run"},
    {"coverprofile", "each of shoal's go test invocations would write the profile over the "
                     "last one's"},
    {"cpuprofile", "each of shoal's go test invocations would write the profile over the "
                   "last one's"},
    {"memprofile", "each of shoal's go test invocations would write the profile over the "
                   "last one's"},
    {"blockprofile", "each of shoal's go test invocations would write the profile over the "
                     "last one's"},
    {"mutexprofile", "each of shoal's go test invocations would write the profile over the "
                     "last one's"},
    {"trace", "each of shoal's go test invocations would write the trace over the last one's"},
};

/* True if name[0..len) is one of the space-separated words of set. */
static bool
s_named(const char *set, const char *name, size_t len)
{
    if (len == 0 || memchr(name, ' ', len))
        return false;
    for (const char *at = strstr(set, " "); at && at[1]; at = strchr(at + 1, ' '))
        if (strncmp(at + 1, name, len) == 0 && at[1 + len] == ' ')
            return true;
    return false;
}

/* A flag word ("-v", "--count=3", "-test.run=X"): its name without dashes
 * or "test.", and its value after '=' (NULL if none). False for non-flags. */
static bool
s_flag(const char *word, const char **name, size_t *name_len, const char **value)
{
    if (word[0] != '-' || word[1] == '\0' || strcmp(word, "--") == 0)
        return false;
    const char *n = word + 1 + (word[1] == '-');
    if (strncmp(n, "test.", 5) == 0)
        n += 5;
    const char *eq = strchr(n, '=');
    *name = n;
    *name_len = eq ? (size_t)(eq - n) : strlen(n);
    *value = eq ? eq + 1 : NULL;
    return true;
}

/* go's strconv.ParseBool, true for a bare boolean flag. */
static bool
s_bool(const char *value)
{
    return !value || strcmp(value, "1") == 0 || strcmp(value, "t") == 0 ||
           strcmp(value, "T") == 0 || strcmp(value, "true") == 0 || strcmp(value, "TRUE") == 0 ||
           strcmp(value, "True") == 0;
}

/* A known flag of go test: applies what shoal must know of it. -1 with err
 * if it is refused. */
static int
s_known_flag(shoal_go_args_t *out, const char *name, size_t len, const char *value, size_t at,
             size_t words, unsigned *count, unsigned *cpus, char *err, size_t err_size)
{
    for (size_t i = 0; i < sizeof(s_refused) / sizeof(s_refused[0]); i++)
        if (strlen(s_refused[i].flag) == len && strncmp(s_refused[i].flag, name, len) == 0 &&
            (value && *value && strcmp(value, "false") != 0)) {
            snprintf(err, err_size, "go test -%s is not supported by shoal run: %s",
                     s_refused[i].flag, s_refused[i].why);
            return -1;
        }
    if (len == 3 && strncmp(name, "run", 3) == 0) {
        if (strchr(value, '/')) {
            snprintf(err, err_size,
                     "go test -run '%s' selects subtests ('/'), which shoal cannot list: it "
                     "runs whole top-level tests; give a pattern without '/'",
                     value);
            return -1;
        }
        out->run = value;
        for (size_t i = 0; i < words; i++)
            out->drop[at + i] = true;
    } else if (len == 8 && strncmp(name, "failfast", 8) == 0) {
        out->failfast = s_bool(value);
        out->drop[at] = true;
    } else if (len == 5 && strncmp(name, "count", 5) == 0) {
        out->count = true;
        *count = (unsigned)strtoul(value, NULL, 10);
    } else if (len == 3 && strncmp(name, "cpu", 3) == 0) {
        *cpus = 1;
        for (const char *p = value; *p; p++)
            *cpus += *p == ',';
    } else if (len == 4 && strncmp(name, "exec", 4) == 0) {
        out->exec = true;
    }
    return 0;
}

int
shoal_go_args_parse(int argc, char *const *argv, shoal_go_args_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    out->drop = calloc((size_t)argc + 1, sizeof(bool));
    if (!out->drop) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    /* As go's testFlags: the first non-flag words are the package list, and
     * only before any flag go does not know (which may take a value); after
     * the list, a non-flag ends go's words unless an unknown flag before it
     * may have taken it as its value. -args and -- end go's words. */
    size_t insert = SIZE_MAX, pkg_end = SIZE_MAX;
    bool in_list = false, listed = false, sticky = false;
    unsigned count = 1, cpus = 1;
    int i = 2;
    for (; i < argc; i++) {
        const char *name, *value;
        size_t len;
        if (strcmp(argv[i], "--") == 0)
            break;
        if (!s_flag(argv[i], &name, &len, &value)) {
            if (!in_list && listed) {
                if (sticky)
                    continue;
                break;
            }
            if (!in_list)
                insert = (size_t)i;
            in_list = listed = true;
            pkg_end = (size_t)i + 1;
            continue;
        }
        in_list = false;
        if (len == 4 && strncmp(name, "args", 4) == 0)
            break;
        bool takes = s_named(s_value_flags, name, len);
        if (!takes && !s_named(s_bool_flags, name, len)) {
            listed = true; /* a package can no longer follow */
            sticky |= value == NULL;
            if (insert == SIZE_MAX)
                insert = pkg_end = (size_t)i;
            continue;
        }
        size_t words = 1;
        if (takes && !value) {
            value = i + 1 < argc ? argv[i + 1] : "";
            words = 2;
        }
        if (s_known_flag(out, name, len, value ? value : "true", (size_t)i, words, &count, &cpus,
                         err, err_size) != 0) {
            shoal_go_args_clear(out);
            return -1;
        }
        i += (int)words - 1;
    }
    if (insert == SIZE_MAX)
        insert = pkg_end = (size_t)(i < argc ? i : argc);
    out->insert = insert;
    out->pkg_end = pkg_end;
    out->repeats = (count ? count : 1) * cpus;
    return 0;
}

void
shoal_go_args_clear(shoal_go_args_t *args)
{
    free(args->drop);
    memset(args, 0, sizeof(*args));
}

/* ---- what go prints ---- */

/* The JSON event of a line, or NULL for go's plain text (build errors). */
static json_object *
s_event(const char *line, size_t len, const char **action, const char **package, const char **test,
        const char **output, double *elapsed)
{
    if (len == 0 || line[0] != '{')
        return NULL;
    json_object *ev = json_tokener_parse(line), *v;
    if (!ev || !json_object_is_type(ev, json_type_object)) {
        json_object_put(ev);
        return NULL;
    }
    *action = json_object_object_get_ex(ev, "Action", &v) ? json_object_get_string(v) : "";
    *package = json_object_object_get_ex(ev, "Package", &v) ? json_object_get_string(v) : NULL;
    *test = json_object_object_get_ex(ev, "Test", &v) ? json_object_get_string(v) : NULL;
    *output = json_object_object_get_ex(ev, "Output", &v) ? json_object_get_string(v) : NULL;
    *elapsed = json_object_object_get_ex(ev, "Elapsed", &v) ? json_object_get_double(v) : 0;
    if (!*action)
        *action = "";
    return ev;
}

/* The process id in a wrapper's line "MARKER PID", or 0. */
static int
s_marker_pid(const char *marker, const char *text)
{
    size_t len = marker ? strlen(marker) : 0;
    if (!len || strncmp(text, marker, len) != 0 || text[len] != ' ')
        return 0;
    return atoi(text + len + 1);
}

/* go's rule for a test function's name: the prefix, then the end or a
 * character that is not a lower-case letter. */
static bool
s_prefixed(const char *name, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && strncmp(name, prefix, n) == 0 &&
           (len == n || !(name[n] >= 'a' && name[n] <= 'z'));
}

/* A line of -list output that names a test go runs (not a benchmark, not
 * something TestMain printed). */
static bool
s_test_name(const char *text, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (!(c >= 0x80 || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z')))
            return false;
    }
    return s_prefixed(text, len, "Test") || s_prefixed(text, len, "Fuzz") ||
           s_prefixed(text, len, "Example");
}

/* ---- listing ---- */

typedef struct {
    char *path;
    char **names;
    size_t count, cap;
    bool failed;
    char *message; /* go's FAIL line for it, if it printed one */
    s_buf_t out;
} s_listed_t;

typedef struct {
    char *package;
    int pid;
} s_capture_t;

struct shoal_go_list {
    char *marker;
    s_listed_t *pkgs;
    size_t count, last;
    s_buf_t text; /* go's plain text: build errors */
    s_capture_t *captures;
    size_t capture_count;
};

shoal_go_list_t *
shoal_go_list_new(const char *marker)
{
    shoal_go_list_t *self = calloc(1, sizeof(*self));
    if (self && marker && !(self->marker = strdup(marker))) {
        free(self);
        return NULL;
    }
    return self;
}

void
shoal_go_list_destroy(shoal_go_list_t **self_p)
{
    shoal_go_list_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++) {
        s_listed_t *p = &self->pkgs[i];
        for (size_t j = 0; j < p->count; j++)
            free(p->names[j]);
        free(p->names);
        free(p->path);
        free(p->message);
        free(p->out.p);
    }
    for (size_t i = 0; i < self->capture_count; i++)
        free(self->captures[i].package);
    free(self->captures);
    free(self->pkgs);
    free(self->text.p);
    free(self->marker);
    free(self);
    *self_p = NULL;
}

static s_listed_t *
s_listed(shoal_go_list_t *self, const char *path, size_t len)
{
    if (self->last < self->count && strlen(self->pkgs[self->last].path) == len &&
        strncmp(self->pkgs[self->last].path, path, len) == 0)
        return &self->pkgs[self->last];
    for (size_t i = 0; i < self->count; i++)
        if (strlen(self->pkgs[i].path) == len && strncmp(self->pkgs[i].path, path, len) == 0)
            return &self->pkgs[self->last = i];
    s_listed_t *grown = realloc(self->pkgs, (self->count + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    self->pkgs = grown;
    s_listed_t *p = &self->pkgs[self->count];
    *p = (s_listed_t){.path = strndup(path, len)};
    if (!p->path)
        return NULL;
    self->last = self->count++;
    return p;
}

static void
s_listed_name(s_listed_t *p, const char *name, size_t len)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        char **grown = realloc(p->names, cap * sizeof(*grown));
        if (!grown)
            return;
        p->names = grown;
        p->cap = cap;
    }
    if ((p->names[p->count] = strndup(name, len)))
        p->count++;
}

static void
s_list_capture(shoal_go_list_t *self, const char *package, int pid)
{
    s_capture_t *grown =
        realloc(self->captures, (self->capture_count + 1) * sizeof(*self->captures));
    if (!grown)
        return;
    self->captures = grown;
    if ((grown[self->capture_count].package = strdup(package)))
        grown[self->capture_count++].pid = pid;
}

/* go's plain "FAIL\tPKG [build failed]" (or [setup failed]) marks PKG. */
static void
s_list_text(shoal_go_list_t *self, const char *line, size_t len)
{
    s_buf_add(&self->text, line, len);
    s_buf_add(&self->text, "\n", 1);
    const char *bracket = memchr(line, '[', len);
    if (len > 5 && strncmp(line, "FAIL\t", 5) == 0 && bracket && bracket > line + 6 &&
        bracket[-1] == ' ' && line[len - 1] == ']') {
        s_listed_t *p = s_listed(self, line + 5, (size_t)(bracket - 1 - (line + 5)));
        if (p) {
            p->failed = true;
            free(p->message);
            p->message = strndup(line, len);
        }
    }
}

void
shoal_go_list_line(shoal_go_list_t *self, const char *line, size_t len)
{
    const char *action, *package, *test, *output;
    double elapsed;
    json_object *ev = s_event(line, len, &action, &package, &test, &output, &elapsed);
    if (!ev || !package) {
        if (ev && output) /* newer go's build-output events */
            s_buf_add(&self->text, output, strlen(output));
        else if (!ev)
            s_list_text(self, line, len);
        json_object_put(ev);
        return;
    }
    s_listed_t *p = s_listed(self, package, strlen(package));
    if (p && !test && strcmp(action, "output") == 0 && output) {
        size_t n = strcspn(output, "\n");
        int pid = s_marker_pid(self->marker, output);
        if (pid > 0)
            s_list_capture(self, package, pid);
        else if (s_test_name(output, n))
            s_listed_name(p, output, n);
        else
            s_buf_add(&p->out, output, strlen(output));
    } else if (p && !test && strcmp(action, "fail") == 0) {
        p->failed = true;
    }
    json_object_put(ev);
}

static int
s_by_path(const void *a, const void *b)
{
    return strcmp(((const s_listed_t *)a)->path, ((const s_listed_t *)b)->path);
}

int
shoal_go_list_finish(shoal_go_list_t *self, int status, shoal_collection_t *out, char *err,
                     size_t err_size)
{
    bool failed = false;
    for (size_t i = 0; i < self->count; i++)
        failed |= self->pkgs[i].failed;
    if (status != 0 && !failed) {
        const char *text = s_buf_str(&self->text);
        if (!*text)
            for (size_t i = 0; i < self->count && !*text; i++)
                text = s_buf_str(&self->pkgs[i].out);
        snprintf(err, err_size, "go test exited with status %d while listing the tests:\n%s",
                 status, shoal_output_tail(text, strlen(text), err_size / 2));
        return -1;
    }
    if (self->count)
        qsort(self->pkgs, self->count, sizeof(*self->pkgs), s_by_path);
    self->last = 0;
    for (size_t i = 0; i < self->count; i++) {
        s_listed_t *p = &self->pkgs[i];
        int rc = 0;
        if (p->failed) {
            char message[512];
            snprintf(message, sizeof(message), "%s",
                     p->message ? p->message : "go test could not list the package's tests");
            s_buf_t output = {0};
            s_buf_add(&output, s_buf_str(&p->out), p->out.len);
            s_buf_add(&output, s_buf_str(&self->text), self->text.len);
            rc = shoal_collection_add_preset(out, p->path, SHOAL_OUTCOME_ERROR, message,
                                             s_buf_str(&output));
            free(output.p);
        }
        for (size_t j = 0; j < p->count && !p->failed && rc == 0; j++) {
            size_t len = strlen(p->path) + 2 + strlen(p->names[j]) + 1;
            char *id = malloc(len);
            if (!id)
                rc = -1;
            else {
                /* PACKAGE::Test: the package is the JUnit classname, as
                   go-junit-report writes it */
                snprintf(id, len, "%s::%s", p->path, p->names[j]);
                rc = shoal_collection_add(out, id, p->path, 0, NULL);
                free(id);
            }
        }
        if (rc != 0) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
    }
    return 0;
}

bool
shoal_go_list_capture(const shoal_go_list_t *self, size_t i, const char **package, int *pid)
{
    if (i >= self->capture_count)
        return false;
    *package = self->captures[i].package;
    *pid = self->captures[i].pid;
    return true;
}

/* ---- one invocation ---- */

enum { S_WAITING, S_RUNNING, S_DONE };
enum { S_NONE, S_SKIP, S_PASS, S_FAIL }; /* worst of the runs wins */

typedef struct {
    const char *name;
    int state, rank;
    bool active;   /* running now (not paused) */
    unsigned nest; /* runs of this name inside a running test (testing.RunTests) */
    unsigned runs;
    bool said; /* go printed its "--- PASS/FAIL/SKIP: name (...)" since it ran */
    double seconds;
    s_buf_t out;
} s_place_t;

struct shoal_go_run {
    s_place_t *places;
    size_t count, *sorted;
    unsigned repeats;
    char *marker;
    shoal_go_events_t events;
    size_t active; /* places running now */
    size_t held;   /* finished last, reported once the next finishes or the package ends */
    bool any_failed, pkg_failed;
    int capture;
    s_buf_t pkg_out;
};

static const shoal_go_run_t *s_sorting;

static int
s_by_name(const void *a, const void *b)
{
    return strcmp(s_sorting->places[*(const size_t *)a].name,
                  s_sorting->places[*(const size_t *)b].name);
}

shoal_go_run_t *
shoal_go_run_new(const char *const *names, size_t count, unsigned repeats, const char *marker,
                 shoal_go_events_t events)
{
    shoal_go_run_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->places = calloc(count + 1, sizeof(*self->places));
    self->sorted = calloc(count + 1, sizeof(size_t));
    self->marker = marker ? strdup(marker) : NULL;
    if (!self->places || !self->sorted || (marker && !self->marker)) {
        shoal_go_run_destroy(&self);
        return NULL;
    }
    self->count = count;
    self->repeats = repeats ? repeats : 1;
    self->events = events;
    self->held = SIZE_MAX;
    for (size_t i = 0; i < count; i++) {
        self->places[i].name = names[i];
        self->sorted[i] = i;
    }
    s_sorting = self;
    qsort(self->sorted, count, sizeof(size_t), s_by_name);
    s_sorting = NULL;
    return self;
}

void
shoal_go_run_destroy(shoal_go_run_t **self_p)
{
    shoal_go_run_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; self->places && i < self->count; i++)
        free(self->places[i].out.p);
    free(self->places);
    free(self->sorted);
    free(self->marker);
    free(self->pkg_out.p);
    free(self);
    *self_p = NULL;
}

/* The place of the top-level test name[0..len), or NULL. */
static s_place_t *
s_place(shoal_go_run_t *self, const char *name, size_t len)
{
    size_t lo = 0, hi = self->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *m = self->places[self->sorted[mid]].name;
        int c = strncmp(m, name, len);
        if (c == 0 && m[len] != '\0')
            c = 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < self->count) {
        s_place_t *p = &self->places[self->sorted[lo]];
        if (strncmp(p->name, name, len) == 0 && p->name[len] == '\0')
            return p;
    }
    return NULL;
}

/* What go says of a test in a line: its first log line ("x_test.go:12:
 * boom"), else the "--- FAIL: name" line. */
static char *
s_message(const char *out, const char *fallback)
{
    for (const char *line = out; *line;) {
        size_t len = strcspn(line, "\n");
        size_t lead = strspn(line, " \t");
        if (lead > 0 && lead < len && strncmp(line + lead, "--- ", 4) != 0 &&
            strncmp(line + lead, "=== ", 4) != 0)
            return strndup(line + lead, len - lead);
        line += len + (line[len] == '\n');
    }
    return strdup(fallback);
}

static void
s_report(shoal_go_run_t *self, size_t place, shoal_outcome_t outcome, const char *message,
         const char *extra)
{
    s_place_t *p = &self->places[place];
    char fallback[256];
    snprintf(fallback, sizeof(fallback), "--- %s: %.200s",
             outcome == SHOAL_OUTCOME_SKIPPED ? "SKIP" : "FAIL", p->name);
    char *found = NULL;
    if (!message && outcome != SHOAL_OUTCOME_PASSED)
        message = found = s_message(s_buf_str(&p->out), fallback);
    if (extra)
        s_buf_add(&p->out, extra, strlen(extra));
    bool failed = shoal_outcome_failed(outcome);
    p->state = S_DONE;
    self->events.result(self->events.arg, place, outcome, p->seconds, message,
                        failed ? s_buf_str(&p->out) : NULL);
    free(found);
}

/* The outcome of a test's runs so far (the worst wins). */
static shoal_outcome_t
s_rank_outcome(int rank)
{
    return rank == S_FAIL   ? SHOAL_OUTCOME_FAILED
           : rank == S_PASS ? SHOAL_OUTCOME_PASSED
                            : SHOAL_OUTCOME_SKIPPED;
}

static void
s_report_held(shoal_go_run_t *self)
{
    if (self->held == SIZE_MAX)
        return;
    size_t place = self->held;
    self->held = SIZE_MAX;
    s_report(self, place, s_rank_outcome(self->places[place].rank), NULL, NULL);
}

/* A top-level run of a test in the batch: run, pause, cont, pass, fail, skip. */
static void
s_run_action(shoal_go_run_t *self, s_place_t *p, const char *action, double elapsed)
{
    size_t place = (size_t)(p - self->places);
    int rank = strcmp(action, "pass") == 0   ? S_PASS
               : strcmp(action, "fail") == 0 ? S_FAIL
               : strcmp(action, "skip") == 0 ? S_SKIP
                                             : S_NONE;
    if (strcmp(action, "run") == 0) {
        if (self->active > 0) {
            p->nest++; /* inside a running test: not the real one */
        } else if (p->state != S_DONE) {
            p->state = S_RUNNING;
            p->said = false;
            p->active = true;
            self->active++;
            self->events.begin(self->events.arg, place);
        }
    } else if (strcmp(action, "pause") == 0 && !p->nest && p->active) {
        p->active = false;
        self->active--;
    } else if (strcmp(action, "cont") == 0 && !p->nest && p->state == S_RUNNING && !p->active) {
        p->active = true;
        self->active++;
    } else if (rank != S_NONE && p->nest) {
        p->nest--;
    } else if (rank != S_NONE && !p->said) {
        /* test2json's word that the binary ended while the test ran (go
         * says "--- FAIL: name (...)" when a test ends): go test -json says
         * nothing of the test then; either way the package's end errs it */
        self->pkg_failed = true;
    } else if (rank != S_NONE && p->state == S_RUNNING) {
        if (p->active) {
            p->active = false;
            self->active--;
        }
        p->runs++;
        p->seconds += elapsed;
        if (rank > p->rank)
            p->rank = rank;
        if (p->runs < self->repeats)
            return;
        self->any_failed |= p->rank == S_FAIL;
        /* Held until the next finishes: a package that fails after its tests
         * passed (TestMain's checks, -race) fails the last one. */
        s_report_held(self);
        p->state = S_DONE;
        self->held = place;
    }
}

/* The place running alone now, to which output of names outside the batch
 * (tests nested in it) belongs; NULL if none or several. */
static s_place_t *
s_sole_active(shoal_go_run_t *self)
{
    if (self->active != 1)
        return NULL;
    for (size_t i = 0; i < self->count; i++)
        if (self->places[i].active)
            return &self->places[i];
    return NULL;
}

/* "--- PASS: name (0.00s)" (or FAIL, SKIP): go's line that a test ended. */
static bool
s_says_end(const char *output, const char *name)
{
    size_t len = strlen(name);
    return (strncmp(output, "--- PASS: ", 10) == 0 || strncmp(output, "--- FAIL: ", 10) == 0 ||
            strncmp(output, "--- SKIP: ", 10) == 0) &&
           strncmp(output + 10, name, len) == 0 && output[10 + len] == ' ';
}

void
shoal_go_run_line(shoal_go_run_t *self, const char *line, size_t len)
{
    const char *action, *package, *test, *output;
    double elapsed;
    json_object *ev = s_event(line, len, &action, &package, &test, &output, &elapsed);
    if (!ev) {
        s_buf_add(&self->pkg_out, line, len);
        s_buf_add(&self->pkg_out, "\n", 1);
        return;
    }
    if (!test || !*test) {
        int pid = output ? s_marker_pid(self->marker, output) : 0;
        if (pid > 0)
            self->capture = pid;
        else if (output)
            s_buf_add(&self->pkg_out, output, strlen(output));
        else if (strcmp(action, "fail") == 0)
            self->pkg_failed = true;
        json_object_put(ev);
        return;
    }
    size_t top = strcspn(test, "/");
    s_place_t *p = s_place(self, test, top);
    if (output && p && test[top] == '\0')
        p->said |= s_says_end(output, p->name);
    if (output) {
        s_place_t *to = p ? p : s_sole_active(self);
        s_buf_add(to ? &to->out : &self->pkg_out, output, strlen(output));
    } else if (p && test[top] == '\0') {
        s_run_action(self, p, action, elapsed);
    }
    json_object_put(ev);
}

shoal_go_end_t
shoal_go_run_end(shoal_go_run_t *self, int status, int signal)
{
    if (signal) {
        s_report_held(self);
        return SHOAL_GO_CRASHED; /* the driver's end: the core blames what ran */
    }
    char message[256];
    const char *pkg_out = s_buf_str(&self->pkg_out);
    if (!self->pkg_failed && status == 0) {
        s_report_held(self);
        for (size_t i = 0; i < self->count; i++)
            if (self->places[i].state != S_DONE)
                s_report(self, i, SHOAL_OUTCOME_ERROR,
                         "go test ran the package but reported no result for this test", pkg_out);
        return SHOAL_GO_DONE;
    }
    size_t begun = 0, waiting = 0, running = 0;
    for (size_t i = 0; i < self->count; i++) {
        begun += self->places[i].state != S_WAITING;
        waiting += self->places[i].state == S_WAITING;
        running += self->places[i].state == S_RUNNING;
    }
    if (begun == 0) {
        snprintf(message, sizeof(message),
                 "go test failed (exit status %d) before running any test of the package", status);
        for (size_t i = 0; i < self->count; i++)
            s_report(self, i, SHOAL_OUTCOME_ERROR, message, pkg_out);
        return SHOAL_GO_DONE;
    }
    snprintf(message, sizeof(message), "the test binary ended (exit status %d) while this test ran",
             status);
    for (size_t i = 0; i < self->count; i++) {
        const s_place_t *p = &self->places[i];
        if (p->state != S_RUNNING)
            continue;
        if (!p->active && p->runs > 0)
            /* between two of its runs (-count, -cpu), not in one: what its
             * finished runs said, as go alone reports it */
            s_report(self, i, s_rank_outcome(p->rank), NULL, NULL);
        else
            s_report(self, i, SHOAL_OUTCOME_ERROR, message, pkg_out);
    }
    if (self->held != SIZE_MAX && running == 0 && !self->any_failed) {
        size_t place = self->held;
        self->held = SIZE_MAX;
        snprintf(message, sizeof(message),
                 "the package failed (exit status %d) after this test, outside any test", status);
        s_report(self, place, SHOAL_OUTCOME_ERROR, message, pkg_out);
    }
    s_report_held(self);
    return waiting ? SHOAL_GO_AGAIN : SHOAL_GO_DONE;
}

bool
shoal_go_run_begun(const shoal_go_run_t *self, size_t place)
{
    return place < self->count && self->places[place].state != S_WAITING;
}

int
shoal_go_run_capture(const shoal_go_run_t *self)
{
    return self->capture;
}

/* ---- the driver ---- */

typedef struct {
    char *path;  /* import path */
    char *bin;   /* the kept test binary, or NULL: go test links it */
    char *cwd;   /* where go ran it */
    char **args; /* the arguments go gave it (NULL-terminated) */
} s_package_t;

typedef struct {
    char **argv;
    int argc;
    shoal_go_args_t args;
    char dir[512];     /* kept binaries and the -exec wrapper */
    bool shared;       /* dir is the participant's, shared by its workers */
    char wrapper[600]; /* "" when binaries are not kept */
    char marker[64];
    char test2json[600]; /* go's test2json, or "" to run it as `go tool test2json` */
    long long kept;      /* bytes of kept binaries */
    s_package_t *pkgs;
    size_t pkg_count;
    size_t *test_pkg; /* per test of the collection: its package, SIZE_MAX for presets */
} s_go_t;

static size_t
s_detect(int argc, char *const *argv)
{
    return argc >= 2 && strcmp(shoal_basename(argv[0]), "go") == 0 && strcmp(argv[1], "test") == 0
               ? 2
               : 0;
}

/* The user's go, when the command names it by a path. */
static char **
s_toolchain_argv(const void *state)
{
    static const char *const version[] = {"version", NULL};
    return shoal_adapter_tool_argv(state, "go", version);
}

static const char *const s_dep_files[] = {"go.sum", "go.mod", NULL};

const shoal_adapter_ops_t shoal_adapter_go_ops = SHOAL_ADAPTER_DRIVER_OPS(
    "go", s_detect, S_BATCH_MAX, S_INVOCATION_SECONDS, s_toolchain_argv, s_dep_files);

static const char *
s_tmp(void)
{
    const char *tmp = getenv("TMPDIR");
    return tmp && *tmp == '/' ? tmp : "/tmp";
}

/* Directories of drivers that were killed (a test's timeout kills the
 * worker's whole process group) hold binaries no one will use. */
static void
s_sweep(void)
{
    DIR *d = opendir(s_tmp());
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int pid = 0;
        if (sscanf(e->d_name, "shoal-go-%d-", &pid) != 1 || pid <= 0 ||
            !(kill(pid, 0) != 0 && errno == ESRCH))
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", s_tmp(), e->d_name);
        shoal_remove_tree(path);
    }
    closedir(d);
}

/* The -exec wrapper: keeps the binary (a hard link, as go removes its work
 * directory), the directory and the arguments, prints the marker so the
 * driver learns which package it was, and runs the binary as go asked. */
static void
s_wrapper_write(s_go_t *self)
{
    self->wrapper[0] = '\0';
    if (self->args.exec || strchr(self->dir, '\''))
        return; /* the user's -exec runs the binaries; each batch is go test's */
    char path[600];
    snprintf(path, sizeof(path), "%s/exec", self->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f,
            "#!/bin/sh\n"
            "# shoal's go driver: go test runs each test binary through this script.\n"
            "d='%s'\n"
            "if ln -f \"$1\" \"$d/$$.bin\" 2>/dev/null || cp \"$1\" \"$d/$$.bin\"; then\n"
            "    printf '%%s' \"$PWD\" > \"$d/$$.cwd\" &&\n"
            "    for a in \"$@\"; do printf '%%s\\000' \"$a\"; done > \"$d/$$.args\" &&\n"
            "    printf '%%s %%s\\n' '%s' \"$$\"\n"
            "fi\n"
            "exec \"$@\"\n",
            self->dir, self->marker);
    if (fclose(f) == 0 && chmod(path, 0700) == 0)
        snprintf(self->wrapper, sizeof(self->wrapper), "%s", path);
}

/* Completes extra[0..n) with what every invocation of go test gets: -json,
 * -count=1 (no cached results) unless the user chose a -count, the wrapper
 * that keeps binaries; NULL-terminated. */
static void
s_extra(const s_go_t *self, const char **extra, size_t n)
{
    extra[n++] = "-json";
    if (!self->args.count)
        extra[n++] = "-count=1";
    if (self->wrapper[0]) {
        extra[n++] = "-exec";
        extra[n++] = self->wrapper;
    }
    extra[n] = NULL;
}

/* The user's command with extra words and the package (NULL: the user's
 * packages) where go reads them, without the words shoal applies itself. */
static char **
s_command(const s_go_t *self, const char *const *extra, const char *pkg)
{
    shoal_argv_t a = {0};
    const shoal_go_args_t *args = &self->args;
    for (size_t i = 0; i <= (size_t)self->argc; i++) {
        if (i == args->insert) {
            for (size_t e = 0; extra[e]; e++)
                shoal_argv_push(&a, extra[e]);
            if (pkg)
                shoal_argv_push(&a, pkg);
            for (size_t j = args->insert; !pkg && j < args->pkg_end; j++)
                shoal_argv_push(&a, self->argv[j]);
        }
        if (i == (size_t)self->argc)
            break;
        if ((i >= args->insert && i < args->pkg_end) || (i >= 2 && args->drop[i]))
            continue;
        shoal_argv_push(&a, self->argv[i]);
    }
    return a.failed ? NULL : a.v;
}

static void
s_package_clear(s_package_t *p)
{
    free(p->bin);
    free(p->cwd);
    shoal_adapter_argv_free(&p->args);
    p->bin = p->cwd = NULL;
}

static s_package_t *
s_package(s_go_t *self, const char *path)
{
    size_t lo = 0, hi = self->pkg_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(self->pkgs[mid].path, path);
        if (c == 0)
            return &self->pkgs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static char *
s_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    s_buf_t b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        size_t before = b.len;
        if (b.len + n + 1 > b.cap) {
            size_t cap = b.cap ? b.cap * 2 : 4096;
            while (cap < b.len + n + 1)
                cap *= 2;
            char *grown = realloc(b.p, cap);
            if (!grown)
                break;
            b.p = grown;
            b.cap = cap;
        }
        memcpy(b.p + before, chunk, n);
        b.len += n;
        b.p[b.len] = '\0';
    }
    fclose(f);
    *len = b.len;
    return b.p ? b.p : strdup("");
}

/* Takes what the wrapper of process pid kept for the package path. */
static void
s_keep(s_go_t *self, const char *path, int pid)
{
    char bin[700], cwd[700], args[700];
    snprintf(bin, sizeof(bin), "%s/%d.bin", self->dir, pid);
    snprintf(cwd, sizeof(cwd), "%s/%d.cwd", self->dir, pid);
    snprintf(args, sizeof(args), "%s/%d.args", self->dir, pid);
    s_package_t *p = s_package(self, path);
    struct stat st;
    size_t cwd_len = 0, args_len = 0;
    char *dir = NULL, *words = NULL;
    bool taken = false;
    if (!p || p->bin || stat(bin, &st) != 0 || self->kept + st.st_size > S_KEEP_MAX ||
        !(dir = s_slurp(cwd, &cwd_len)) || !(words = s_slurp(args, &args_len)))
        goto drop;
    shoal_argv_t a = {0};
    size_t at = strlen(words) + 1; /* the first word is go's path of the binary */
    for (; at < args_len; at += strlen(words + at) + 1)
        shoal_argv_push(&a, words + at);
    if (!a.v) /* no arguments at all: go always gives some */
        goto drop;
    p->args = a.v;
    p->cwd = dir;
    p->bin = strdup(bin);
    dir = NULL;
    if (!p->bin)
        s_package_clear(p);
    else
        self->kept += st.st_size;
    taken = p->bin != NULL;
drop:
    free(dir);
    free(words);
    if (self->shared)
        return; /* other workers take them too; the session removes them */
    if (!taken)
        unlink(bin);
    unlink(cwd);
    unlink(args);
}

static void
s_list_on_line(void *arg, const char *line, size_t len)
{
    shoal_go_list_line(arg, line, len);
}

/* The packages of the collection, in its order (import-path order). */
static int
s_index_packages(s_go_t *self, const shoal_collection_t *c)
{
    self->pkgs = calloc(c->count + 1, sizeof(*self->pkgs));
    self->test_pkg = calloc(c->count + 1, sizeof(size_t));
    if (!self->pkgs || !self->test_pkg)
        return -1;
    for (size_t i = 0; i < c->count; i++) {
        self->test_pkg[i] = SIZE_MAX;
        if (c->tests[i].preset)
            continue;
        /* a test's file is its package ("PACKAGE::Test") */
        const char *pkg = c->tests[i].file;
        s_package_t *last = self->pkg_count ? &self->pkgs[self->pkg_count - 1] : NULL;
        if (!last || strcmp(last->path, pkg) != 0) {
            if (!(self->pkgs[self->pkg_count].path = strdup(pkg)))
                return -1;
            self->pkg_count++;
        }
        self->test_pkg[i] = self->pkg_count - 1;
    }
    return 0;
}

static void
s_tooldir_line(void *arg, const char *line, size_t len)
{
    s_go_t *self = arg;
    if (len > 0 && line[0] == '/')
        snprintf(self->test2json, sizeof(self->test2json), "%s/test2json", line);
}

/* test2json itself, which `go tool` would find: a batch then costs one
 * process less (12 ms against 26 ms a run). */
/* The go command for go's own tools: the user's, unless a wrapper named
 * with --adapter go stands for `go test`. */
static const char *
s_go(const s_go_t *self)
{
    return strcmp(shoal_basename(self->argv[0]), "go") == 0 ? self->argv[0] : "go";
}

static void
s_find_test2json(s_go_t *self, shoal_driver_t *driver)
{
    char *const argv[] = {(char *)s_go(self), "env", "GOTOOLDIR", NULL};
    if (shoal_driver_spawn(driver, argv, NULL, NULL, s_tooldir_line, self) != 0 ||
        access(self->test2json, X_OK) != 0)
        self->test2json[0] = '\0';
}

static int
s_collect(void **state, shoal_driver_t *driver, int argc, char *const *argv,
          shoal_collection_t *out, char *err, size_t err_size)
{
    s_go_t *self = calloc(1, sizeof(*self));
    if (!self || !(self->argv = shoal_argv_copy((size_t)argc, argv))) {
        free(self);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    *state = self;
    self->argc = argc;
    if (shoal_go_args_parse(argc, argv, &self->args, err, err_size) != 0)
        return -1;
    s_sweep();
    /* The participant's workers share one directory when the session gives
     * one: the listing then has the same words in every worker, so it runs
     * (compiling and linking every package) once and is replayed to the
     * others (shoal_driver_spawn_shared), binaries kept by one worker serve
     * all, and the session removes them at its end. */
    const char *shared = shoal_driver_dir(driver);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (shared) {
        snprintf(self->dir, sizeof(self->dir), "%s/go", shared);
        snprintf(self->marker, sizeof(self->marker), "shoal-go-kept-%lx", (unsigned long)getppid());
        self->shared = (mkdir(self->dir, 0700) == 0 || errno == EEXIST);
    }
    if (!self->shared) {
        snprintf(self->dir, sizeof(self->dir), "%s/shoal-go-%d-XXXXXX", s_tmp(), (int)getpid());
        snprintf(self->marker, sizeof(self->marker), "shoal-go-kept-%d-%lx", (int)getpid(),
                 (unsigned long)ts.tv_nsec ^ (unsigned long)ts.tv_sec);
    }
    if (self->shared || mkdtemp(self->dir))
        s_wrapper_write(self);
    else
        self->dir[0] = '\0';
    if (self->wrapper[0])
        s_find_test2json(self, driver);
    const char *extra[8] = {"-list", self->args.run ? self->args.run : ".*"};
    s_extra(self, extra, 2);
    char **command = s_command(self, extra, NULL);
    shoal_go_list_t *list = shoal_go_list_new(self->wrapper[0] ? self->marker : NULL);
    int rc = -1;
    if (!command || !list) {
        snprintf(err, err_size, "out of memory");
        goto done;
    }
    int status = shoal_driver_spawn_shared(driver, command, NULL, NULL, s_list_on_line, list);
    if (status < 0) {
        snprintf(err, err_size, "cannot run go test: %s", shoal_driver_output(driver));
        goto done;
    }
    if (shoal_go_list_finish(list, status, out, err, err_size) != 0 ||
        s_index_packages(self, out) != 0) {
        if (!*err)
            snprintf(err, err_size, "out of memory");
        goto done;
    }
    const char *path;
    int pid;
    for (size_t i = 0; shoal_go_list_capture(list, i, &path, &pid); i++)
        s_keep(self, path, pid);
    out->maxfail = self->args.failfast ? 1 : 0;
    if (self->args.exec)
        out->notice = strdup("go test -exec: each batch is a go test of its own (test binaries "
                             "are not kept between batches)");
    rc = 0;
done:
    shoal_adapter_argv_free(&command);
    shoal_go_list_destroy(&list);
    return rc;
}

/* ---- running a batch ---- */

typedef struct {
    shoal_driver_t *driver;
    const size_t *tests; /* collection indexes, by place */
} s_invocation_t;

static void
s_on_begin(void *arg, size_t place)
{
    s_invocation_t *inv = arg;
    shoal_driver_begin(inv->driver, inv->tests[place]);
}

static void
s_on_result(void *arg, size_t place, shoal_outcome_t outcome, double seconds, const char *message,
            const char *output)
{
    s_invocation_t *inv = arg;
    shoal_driver_result(inv->driver, inv->tests[place], outcome, seconds, message, output);
}

static void
s_run_on_line(void *arg, const char *line, size_t len)
{
    shoal_go_run_line(arg, line, len);
}

/* "^(A|B|C)$" for the tests' names. */
static char *
s_regex(const char *const *names, size_t count)
{
    s_buf_t b = {0};
    s_buf_add(&b, "^(", 2);
    for (size_t i = 0; i < count; i++) {
        char *quoted = shoal_driver_regex_quote(names[i]);
        if (!quoted) {
            free(b.p);
            return NULL;
        }
        if (i)
            s_buf_add(&b, "|", 1);
        s_buf_add(&b, quoted, strlen(quoted));
        free(quoted);
    }
    s_buf_add(&b, ")$", 2);
    return b.p;
}

/* The kept binary with go's arguments, the -run filter replaced, through
 * test2json as go test -json runs it. */
static char **
s_direct(const s_go_t *self, const s_package_t *pkg, const char *run)
{
    shoal_argv_t a = {0};
    if (self->test2json[0]) {
        shoal_argv_push(&a, self->test2json);
    } else {
        shoal_argv_push(&a, s_go(self));
        shoal_argv_push(&a, "tool");
        shoal_argv_push(&a, "test2json");
    }
    /* -t as go test gives it: test2json (go 1.19) says a test's Elapsed only
       with time stamps, and history needs the durations */
    shoal_argv_push(&a, "-t");
    shoal_argv_push(&a, "-p");
    shoal_argv_push(&a, pkg->path);
    shoal_argv_push(&a, pkg->bin);
    bool replaced = false;
    size_t len = strlen(run) + 16;
    char *flag = malloc(len);
    if (!flag)
        return NULL;
    snprintf(flag, len, "-test.run=%s", run);
    for (size_t i = 0; pkg->args[i]; i++) {
        bool filter = strncmp(pkg->args[i], "-test.list=", 11) == 0 ||
                      strncmp(pkg->args[i], "-test.run=", 10) == 0;
        shoal_argv_push(&a, filter && !replaced ? flag : pkg->args[i]);
        replaced |= filter;
    }
    if (!replaced)
        shoal_argv_push(&a, flag);
    free(flag);
    return a.failed ? NULL : a.v;
}

/* One invocation of tests[0..count) of pkg. */
static shoal_go_end_t
s_invoke(s_go_t *self, shoal_driver_t *driver, s_package_t *pkg, const size_t *tests, size_t count)
{
    const shoal_collection_t *c = shoal_driver_collection(driver);
    const char **names = calloc(count + 1, sizeof(char *));
    if (!names)
        return SHOAL_GO_DONE;            /* out of memory: the core settles them */
    size_t skip = strlen(pkg->path) + 2; /* "PACKAGE::" */
    for (size_t i = 0; i < count; i++)
        names[i] = c->tests[tests[i]].id + skip;
    char *run = s_regex(names, count);
    s_invocation_t inv = {.driver = driver, .tests = tests};
    shoal_go_events_t events = {.begin = s_on_begin, .result = s_on_result, .arg = &inv};
    shoal_go_run_t *stream =
        shoal_go_run_new(names, count, self->args.repeats, self->marker, events);
    char **argv = NULL, pwd[1200], *env[] = {pwd, NULL};
    const char *cwd = NULL;
    if (run && pkg->bin) {
        argv = s_direct(self, pkg, run);
        cwd = pkg->cwd;
        snprintf(pwd, sizeof(pwd), "PWD=%s", cwd);
    } else if (run) {
        /* GOPATH mode names a directory outside GOPATH "_/dir" */
        const char *arg = strncmp(pkg->path, "_/", 2) == 0 ? pkg->path + 1 : pkg->path;
        const char *extra[8] = {"-run", run};
        s_extra(self, extra, 2);
        argv = s_command(self, extra, arg);
    }
    shoal_go_end_t end = SHOAL_GO_DONE;
    if (argv && stream) {
        int status = shoal_driver_spawn(driver, argv, cwd, cwd ? env : NULL, s_run_on_line, stream);
        if (status < 0) {
            const char *why = shoal_driver_output(driver);
            shoal_go_run_line(stream, why, strlen(why));
            status = 1;
        }
        end = shoal_go_run_end(stream, status, shoal_driver_signal(driver));
        if (shoal_go_run_capture(stream) > 0)
            s_keep(self, pkg->path, shoal_go_run_capture(stream));
    }
    shoal_adapter_argv_free(&argv);
    shoal_go_run_destroy(&stream);
    free(run);
    free(names);
    return end;
}

/* How many of tests[0..count) fit in one -run argument (at least one). */
static size_t
s_fit(const shoal_collection_t *c, size_t skip, const size_t *tests, size_t count)
{
    size_t bytes = 4, n = 0;
    while (n < count) {
        bytes += 2 * strlen(c->tests[tests[n]].id + skip) + 1;
        if (n > 0 && bytes > S_REGEX_MAX)
            break;
        n++;
    }
    return n;
}

static shoal_driver_end_t
s_run(void *state, shoal_driver_t *driver, const size_t *tests, size_t count)
{
    s_go_t *self = state;
    const shoal_collection_t *c = shoal_driver_collection(driver);
    size_t *todo = calloc(count + 1, sizeof(size_t));
    bool *taken = calloc(count + 1, sizeof(bool));
    shoal_driver_end_t end = SHOAL_DRIVER_RAN;
    /* One package at a time, in the order its first test was dealt. */
    for (size_t first = 0; todo && taken && first < count; first++) {
        if (taken[first] || self->test_pkg[tests[first]] == SIZE_MAX)
            continue;
        size_t pkg = self->test_pkg[tests[first]], n = 0;
        for (size_t i = first; i < count; i++)
            if (!taken[i] && self->test_pkg[tests[i]] == pkg) {
                taken[i] = true;
                todo[n++] = tests[i];
            }
        s_package_t *p = &self->pkgs[pkg];
        size_t skip = strlen(p->path) + 2; /* "PACKAGE::" */
        for (size_t at = 0; at < n;) {
            size_t part = s_fit(c, skip, todo + at, n - at);
            if (s_invoke(self, driver, p, todo + at, part) != SHOAL_GO_DONE) {
                /* the binary (or go) ended early: the core blames what ran
                 * and runs the rest again */
                end = SHOAL_DRIVER_CRASHED;
                goto done;
            }
            if (shoal_driver_stopping(driver))
                goto done; /* -failfast: go alone would run nothing more */
            at += part;
        }
    }
done:
    free(todo);
    free(taken);
    return end;
}

static void
s_destroy(void *state)
{
    s_go_t *self = state;
    if (!self)
        return;
    for (size_t i = 0; self->pkgs && i < self->pkg_count; i++) {
        s_package_clear(&self->pkgs[i]);
        free(self->pkgs[i].path);
    }
    if (self->dir[0] && !self->shared)
        shoal_remove_tree(self->dir);
    free(self->pkgs);
    free(self->test_pkg);
    shoal_go_args_clear(&self->args);
    shoal_adapter_argv_free(&self->argv);
    free(self);
}

const shoal_driver_ops_t shoal_driver_go_ops = {
    .name = "go",
    .collect = s_collect,
    .run = s_run,
    .destroy = s_destroy,
};
