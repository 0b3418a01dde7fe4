/* node/driver_js.c: the driver that Jest and Vitest share (driver_js.h says
 * how it lists and runs). The frameworks differ only in their words (how the
 * command starts, which options are refused, how one file is named) and in
 * their reporter, which prints the same events for both; everything read
 * from a framework is parsed here.
 */
#include "node/driver_js.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_MARK "shoal-js "
#define S_REGEX_MAX (100 * 1024) /* one argv word may be 128 KiB */

/* ---- words ---- */

/* "name", "name.js", "name.mjs", "name.cjs" */
static bool
s_is_program(const char *word, const char *name)
{
    const char *base = shoal_basename(word);
    size_t len = strlen(name);
    if (strncmp(base, name, len) != 0)
        return false;
    base += len;
    return !*base || strcmp(base, ".js") == 0 || strcmp(base, ".mjs") == 0 ||
           strcmp(base, ".cjs") == 0;
}

size_t
shoal_js_detect(int argc, char *const *argv, const char *name)
{
    const char *prog = shoal_basename(argv[0]);
    if (s_is_program(argv[0], name))
        return 1;
    bool npx = strcmp(prog, "npx") == 0;
    if (!npx && strcmp(prog, "node") != 0 && strcmp(prog, "nodejs") != 0)
        return 0;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            /* node's options that take the next word */
            if (!npx && (strcmp(argv[i], "-r") == 0 || strcmp(argv[i], "--require") == 0 ||
                         strcmp(argv[i], "--import") == 0 || strcmp(argv[i], "--loader") == 0))
                i++;
            continue;
        }
        if (npx)
            return strcmp(argv[i], name) == 0 ? (size_t)i + 1 : 0;
        return s_is_program(argv[i], name) ? (size_t)i + 1 : 0;
    }
    return 0;
}

const char *
shoal_js_value(int argc, char *const *argv, int *i, const char *long_name, const char *short_name)
{
    const char *arg = argv[*i];
    const char *names[2] = {long_name, short_name};
    for (size_t n = 0; n < 2; n++) {
        if (!names[n])
            continue;
        size_t len = strlen(names[n]);
        if (strncmp(arg, names[n], len) != 0)
            continue;
        if (arg[len] == '=')
            return arg + len + 1;
        if (arg[len] == '\0' && *i + 1 < argc)
            return argv[++*i];
        if (n == 1 && arg[len] != '\0') /* -tNAME */
            return arg + len;
    }
    return NULL;
}

bool
shoal_js_flag(const char *arg, const char *long_name, const char *short_name)
{
    size_t len = strlen(long_name);
    if (strncmp(arg, long_name, len) == 0 && (arg[len] == '\0' || arg[len] == '='))
        return true;
    return short_name && strcmp(arg, short_name) == 0;
}

/* ---- parsing ---- */

static const char *
s_string(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

int
shoal_js_event_parse(const char *line, shoal_js_event_t *ev)
{
    memset(ev, 0, sizeof(*ev));
    if (strncmp(line, S_MARK, strlen(S_MARK)) != 0)
        return 1;
    json_object *o = json_tokener_parse(line + strlen(S_MARK));
    const char *event = o ? s_string(o, "event") : NULL;
    if (!event || strlen(event) >= sizeof(ev->event)) {
        json_object_put(o);
        return -1;
    }
    snprintf(ev->event, sizeof(ev->event), "%s", event);
    ev->owned = o;
    ev->path = s_string(o, "path");
    ev->full_name = s_string(o, "fullName");
    ev->status = s_string(o, "status");
    ev->message = s_string(o, "message");
    ev->title = s_string(o, "title");
    ev->error = s_string(o, "error");
    json_object *v;
    if (json_object_object_get_ex(o, "duration", &v) && v)
        ev->seconds = json_object_get_double(v) / 1000.0;
    if (json_object_object_get_ex(o, "line", &v) && v && json_object_get_int(v) > 0)
        ev->line = (unsigned)json_object_get_int(v);
    if (json_object_object_get_ex(o, "ancestorTitles", &v) &&
        json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        const char **list = calloc(n + 1, sizeof(char *));
        if (!list) {
            shoal_js_event_clear(ev);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            const char *s = json_object_get_string(json_object_array_get_idx(v, i));
            list[i] = s ? s : "";
        }
        ev->ancestors = list;
    }
    if (!ev->path) {
        shoal_js_event_clear(ev);
        return -1;
    }
    return 0;
}

void
shoal_js_event_clear(shoal_js_event_t *ev)
{
    free((void *)ev->ancestors);
    json_object_put(ev->owned);
    memset(ev, 0, sizeof(*ev));
}

shoal_outcome_t
shoal_js_outcome(const char *status)
{
    static const struct {
        const char *word;
        shoal_outcome_t outcome;
    } map[] = {{"passed", SHOAL_OUTCOME_PASSED},   {"failed", SHOAL_OUTCOME_FAILED},
               {"pending", SHOAL_OUTCOME_SKIPPED}, {"skipped", SHOAL_OUTCOME_SKIPPED},
               {"todo", SHOAL_OUTCOME_SKIPPED},    {"disabled", SHOAL_OUTCOME_SKIPPED}};
    for (size_t i = 0; status && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(status, map[i].word) == 0)
            return map[i].outcome;
    return SHOAL_OUTCOME_ERROR;
}

const char *
shoal_js_relative(const char *cwd, const char *path)
{
    size_t cwd_len = strlen(cwd);
    return strncmp(path, cwd, cwd_len) == 0 && path[cwd_len] == '/' ? path + cwd_len + 1 : path;
}

char *
shoal_js_id(const char *cwd, const char *path, const char *const *ancestors, const char *title)
{
    path = shoal_js_relative(cwd, path);
    size_t len = strlen(path) + strlen(title ? title : "") + 3;
    for (size_t i = 0; ancestors && ancestors[i]; i++)
        len += strlen(ancestors[i]) + 3;
    char *id = malloc(len), *p = id;
    if (!id)
        return NULL;
    p += sprintf(p, "%s::", path);
    for (size_t i = 0; ancestors && ancestors[i]; i++)
        p += sprintf(p, "%s > ", ancestors[i]);
    sprintf(p, "%s", title ? title : "");
    return id;
}

char *
shoal_js_key(const char *full_name, bool fold)
{
    char *key = strdup(full_name);
    for (char *p = key; fold && p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return key;
}

char *
shoal_js_regex(const char *const *names, size_t count, const char *pattern, size_t max,
               size_t *taken)
{
    /* The user's pattern must match somewhere in the name, as it would alone:
     * a lookahead at the start does that without changing what it means. */
    size_t len = 16 + (pattern ? strlen(pattern) + 16 : 0), cap = len + 64;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    len = (size_t)sprintf(out, "^%s%s%s(?:", pattern ? "(?=[\\s\\S]*?(?:" : "",
                          pattern ? pattern : "", pattern ? "))" : "");
    size_t i = 0;
    for (; i < count; i++) {
        char *quoted = shoal_driver_regex_quote(names[i]);
        if (!quoted) {
            free(out);
            return NULL;
        }
        size_t add = strlen(quoted) + 1;
        if (i > 0 && len + add + 3 > max) {
            free(quoted);
            break;
        }
        if (len + add + 3 > cap) {
            cap = 2 * (len + add + 3);
            char *grown = realloc(out, cap);
            if (!grown) {
                free(quoted);
                free(out);
                return NULL;
            }
            out = grown;
        }
        len += (size_t)sprintf(out + len, "%s%s", i ? "|" : "", quoted);
        free(quoted);
    }
    sprintf(out + len, ")$");
    *taken = i;
    return out;
}

/* ---- the reporter ---- */

/* Writes the reporter into $TMPDIR/shoal-js-UID/ once (renamed into place, so
 * a reader never sees half a file). */
static int
s_install_reporter(shoal_js_t *js, char *err, size_t err_size)
{
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX - 64], part[PATH_MAX + 32];
    snprintf(dir, sizeof(dir), "%s/shoal-js-%u", tmp && *tmp ? tmp : "/tmp", (unsigned)getuid());
    snprintf(js->reporter, sizeof(js->reporter), "%s/%s", dir, js->fw->reporter_file);
    struct stat st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        goto failed;
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != getuid())
        goto failed;
    if (access(js->reporter, R_OK) == 0)
        return 0;
    snprintf(part, sizeof(part), "%s.%ld", js->reporter, (long)getpid());
    FILE *f = fopen(part, "w");
    if (!f)
        goto failed;
    bool ok = fputs(js->fw->reporter, f) >= 0;
    ok = fclose(f) == 0 && ok;
    if (ok && rename(part, js->reporter) == 0)
        return 0;
    unlink(part);
failed:
    snprintf(err, err_size, "%s: cannot write shoal's reporter into %s: %s", js->fw->name, dir,
             strerror(errno));
    return -1;
}

/* ---- listing ---- */

typedef struct {
    char *path, *id, *key, *name, *error;
    unsigned line;
    size_t seq;
} s_listed_t;

typedef struct {
    const shoal_js_t *js;
    s_listed_t *v;
    size_t len, cap, files;
    bool oom;
} s_listing_t;

static void
s_listed_push(s_listing_t *l, s_listed_t item)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        s_listed_t *grown = realloc(l->v, cap * sizeof(*grown));
        if (!grown) {
            l->oom = true;
            free(item.path), free(item.id), free(item.key), free(item.name), free(item.error);
            return;
        }
        l->v = grown;
        l->cap = cap;
    }
    item.seq = l->len;
    l->v[l->len++] = item;
}

static void
s_on_listing(void *arg, const char *line, size_t len)
{
    (void)len;
    s_listing_t *l = arg;
    shoal_js_event_t ev;
    if (shoal_js_event_parse(line, &ev) != 0)
        return;
    s_listed_t item = {.line = ev.line};
    if (strcmp(ev.event, "final") == 0 && ev.full_name) {
        item.path = strdup(ev.path);
        item.id = shoal_js_id(l->js->cwd, ev.path, ev.ancestors, ev.title);
        item.key = shoal_js_key(ev.full_name, l->js->fw->fold_case);
        item.name = strdup(ev.full_name);
        s_listed_push(l, item);
    } else if (strcmp(ev.event, "end") == 0) {
        l->files++;
        if (ev.error && *ev.error) {
            item.path = strdup(ev.path);
            item.error = strdup(ev.error);
            s_listed_push(l, item);
        }
    }
    shoal_js_event_clear(&ev);
}

/* Files in path order (files are listed in parallel, so the order they
 * finish in differs between runs), tests in each file's order. */
static int
s_by_path(const void *a, const void *b)
{
    const s_listed_t *x = a, *y = b;
    int c = strcmp(x->path ? x->path : "", y->path ? y->path : "");
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

static int
s_by_key(const void *a, const void *b, void *arg)
{
    const shoal_js_t *js = arg;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(js->path[x], js->path[y]);
    return c ? c : strcmp(js->key[x], js->key[y]);
}

/* The test of js's collection with this path and key, or SIZE_MAX. */
static size_t
s_find(const shoal_js_t *js, const char *path, const char *key)
{
    size_t lo = 0, hi = js->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, t = js->sorted[mid];
        int c = strcmp(path, js->path[t]);
        if (!c)
            c = strcmp(key, js->key[t]);
        if (!c)
            return t;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return SIZE_MAX;
}

/* True if a test of out from index from on has this id. */
static bool
s_id_taken(const shoal_collection_t *out, size_t from, const char *id)
{
    for (size_t t = from; t < out->count; t++)
        if (strcmp(out->tests[t].id, id) == 0)
            return true;
    return false;
}

/* Adds the listed tests: one per (file, key); a file that failed to load is
 * one error, named by the file. */
static int
s_add_listed(shoal_js_t *js, s_listing_t *l, shoal_collection_t *out)
{
    size_t merges = 0;
    if (l->len > 1) /* v may be NULL when empty */
        qsort(l->v, l->len, sizeof(*l->v), s_by_path);
    js->path = calloc(l->len + 1, sizeof(char *));
    js->key = calloc(l->len + 1, sizeof(char *));
    js->names = calloc(l->len + 1, sizeof(char *));
    js->sorted = calloc(l->len + 1, sizeof(size_t));
    if (!js->path || !js->key || !js->names || !js->sorted)
        return -1;
    size_t file_start = 0;
    for (size_t i = 0; i < l->len; i++) {
        s_listed_t *item = &l->v[i];
        if (i == 0 || strcmp(item->path, l->v[i - 1].path) != 0)
            file_start = out->count;
        if (item->error) {
            bool has_tests = (i + 1 < l->len && strcmp(l->v[i + 1].path, item->path) == 0) ||
                             (i > 0 && strcmp(l->v[i - 1].path, item->path) == 0);
            /* the file alone: it has no test to name */
            const char *id = shoal_js_relative(js->cwd, item->path);
            if (!has_tests && shoal_collection_add_preset(out, id, SHOAL_OUTCOME_ERROR, item->error,
                                                          item->error) != 0)
                return -1;
            continue;
        }
        bool merged = false;
        for (size_t t = file_start; t < out->count && !merged; t++)
            merged = !out->tests[t].preset && strcmp(js->key[t], item->key) == 0;
        if (merged) {
            merges++;
            continue; /* no filter can tell it from the first one: the same test */
        }
        /* Different full names may still give one id ("a > b" as a title
         * or as a describe block): numbered, as Mocha's are, never twice. */
        char *numbered = NULL;
        const char *id = item->id;
        for (unsigned k = 2; s_id_taken(out, file_start, id); k++) {
            size_t len = strlen(item->id) + 16;
            free(numbered);
            if (!(numbered = malloc(len)))
                return -1;
            snprintf(numbered, len, "%s (%u)", item->id, k);
            id = numbered;
        }
        size_t t = out->count;
        int rc =
            shoal_collection_add(out, id, shoal_js_relative(js->cwd, item->path), item->line, NULL);
        free(numbered);
        if (rc != 0)
            return -1;
        js->key[t] = item->key, js->names[t] = item->name;
        item->key = item->name = NULL;
        if (!(js->path[t] = strdup(item->path)))
            return -1;
    }
    if (merges && !out->notice) {
        char notice[400];
        snprintf(notice, sizeof(notice),
                 "%zu tests have the full name of another test of their file%s: no name filter "
                 "runs them apart, so each such group is one test in the report, with the worse "
                 "outcome",
                 merges, js->fw->fold_case ? " (ignoring case, as -t does)" : "");
        out->notice = strdup(notice);
    }
    /* presets have no path: index only the runnable ones */
    js->total = out->count;
    size_t n = 0;
    for (size_t t = 0; t < js->total; t++)
        if (js->path[t])
            js->sorted[n++] = t;
    qsort_r(js->sorted, n, sizeof(size_t), s_by_key, js);
    js->count = n;
    return 0;
}

static void
s_listing_free(s_listing_t *l)
{
    for (size_t i = 0; i < l->len; i++) {
        s_listed_t *item = &l->v[i];
        free(item->path), free(item->id), free(item->key), free(item->name), free(item->error);
    }
    free(l->v);
}

int
shoal_js_collect(const shoal_js_fw_t *fw, void **state, shoal_driver_t *driver, int argc,
                 char *const *argv, shoal_collection_t *out, char *err, size_t err_size)
{
    shoal_js_t *js = calloc(1, sizeof(*js));
    *state = js;
    if (!js) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    js->fw = fw;
    /* a wrapper named with --adapter (a script that runs the framework with
     * its arguments) stands for the framework's words */
    size_t prefix = shoal_js_detect(argc, argv, fw->name);
    if (prefix == 0)
        prefix = 1;
    if (!(js->prefix = shoal_argv_copy(prefix, argv)) || !getcwd(js->cwd, sizeof(js->cwd))) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    if (fw->scan(js, argc - (int)prefix, argv + prefix, out, err, err_size) != 0 ||
        s_install_reporter(js, err, err_size) != 0)
        return -1;
    shoal_argv_t a = {0};
    fw->argv(js, &a, NULL, 0, "(?!)"); /* matches no name: every test is listed, skipped */
    if (a.failed) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    s_listing_t l = {.js = js};
    int status = shoal_driver_spawn_shared(driver, a.v, NULL, NULL, s_on_listing, &l);
    shoal_adapter_argv_free(&a.v);
    int rc = 0;
    if (status < 0) {
        snprintf(err, err_size, "%s could not start: %s", fw->name, shoal_driver_output(driver));
        rc = -1;
    } else if (status != 0 && l.files == 0 &&
               (strstr(shoal_driver_output(driver), "No tests found") ||
                strstr(shoal_driver_output(driver), "No test files found"))) {
        /* no test file: an empty collection, which the session reports as
           such (exit 5), as for every framework */
    } else if (status != 0 && l.files == 0) {
        /* a usage error, a bad config: its own words */
        snprintf(err, err_size, "%s could not list the tests (exit status %d):\n%s", fw->name,
                 status, shoal_driver_output(driver));
        rc = -1;
    } else if (l.oom || s_add_listed(js, &l, out) != 0) {
        snprintf(err, err_size, "out of memory");
        rc = -1;
    }
    s_listing_free(&l);
    return rc;
}

/* ---- running ---- */

typedef struct {
    shoal_outcome_t outcome;
    double seconds;
    char *message;
    bool seen, begun;
    bool final; /* its file's own account came: streamed events no longer count */
    bool sent;  /* its result went to the session (when its file ended) */
} s_acc_t;

/* One invocation: the tests of one or more files, each file's in its order. */
typedef struct {
    shoal_js_t *js;
    shoal_driver_t *driver;
    const size_t *tests;
    size_t count;
    s_acc_t *acc;
    bool has_begin;      /* the framework says when tests start: no guessing */
    size_t files, ended; /* files in the invocation; of them, over */
} s_inv_t;

static size_t
s_place(const s_inv_t *inv, const shoal_js_event_t *ev)
{
    if (!ev->full_name)
        return SIZE_MAX;
    char *key = shoal_js_key(ev->full_name, inv->js->fw->fold_case);
    size_t t = key ? s_find(inv->js, ev->path, key) : SIZE_MAX;
    free(key);
    for (size_t i = 0; t != SIZE_MAX && i < inv->count; i++)
        if (inv->tests[i] == t)
            return i;
    return SIZE_MAX;
}

static void
s_begin(s_inv_t *inv, size_t place)
{
    if (place == SIZE_MAX || inv->acc[place].begun || inv->acc[place].seen)
        return;
    inv->acc[place].begun = true;
    shoal_driver_begin(inv->driver, inv->tests[place]);
}

/* Tests run in the file's order: until the framework says which test starts
 * (Jest before 29.6 does not), the next one without a result has. */
static void
s_begin_next(s_inv_t *inv)
{
    for (size_t i = 0; i < inv->count; i++)
        if (!inv->acc[i].seen) {
            s_begin(inv, i);
            return;
        }
}

static int
s_rank(shoal_outcome_t o)
{
    return o == SHOAL_OUTCOME_ERROR ? 3 : o == SHOAL_OUTCOME_FAILED ? 2 : o == SHOAL_OUTCOME_PASSED;
}

/* Tests merged into one id report the worst of their outcomes. */
static void
s_merge(s_acc_t *acc, const shoal_js_event_t *ev)
{
    shoal_outcome_t o = shoal_js_outcome(ev->status);
    if (!acc->seen || s_rank(o) > s_rank(acc->outcome))
        acc->outcome = o;
    acc->seen = true;
    acc->seconds += ev->seconds;
    if (ev->message && *ev->message) {
        size_t len = acc->message ? strlen(acc->message) + 1 : 0;
        char *grown = realloc(acc->message, len + strlen(ev->message) + 1);
        if (grown) {
            if (len)
                grown[len - 1] = '\n';
            strcpy(grown + len, ev->message);
            acc->message = grown;
        }
    }
}

static bool
s_in_file(const s_inv_t *inv, size_t place, const char *path)
{
    return strcmp(inv->js->path[inv->tests[place]], path) == 0;
}

/* The file path itself failed (it did not load, an afterAll threw): Jest
 * alone fails the run for it, so a test of it must carry it, never a silent
 * pass. With no test of it run, every one is an error; else the last that
 * did not fail. */
static void
s_blame_file(s_inv_t *inv, const char *path, const char *error)
{
    size_t last = SIZE_MAX;
    bool any = false;
    for (size_t i = 0; i < inv->count; i++) {
        if (!s_in_file(inv, i, path))
            continue;
        any |= inv->acc[i].seen;
        if (inv->acc[i].seen && !shoal_outcome_failed(inv->acc[i].outcome))
            last = i;
    }
    for (size_t i = 0; i < inv->count; i++) {
        if (!s_in_file(inv, i, path) || (any && i != last))
            continue;
        s_acc_t *acc = &inv->acc[i];
        acc->seen = true;
        acc->outcome = SHOAL_OUTCOME_ERROR;
        free(acc->message);
        acc->message = strdup(error);
    }
}

/* The results of what ran (of the file path, or of every file if NULL), as
 * soon as they are known: a timeout that kills the framework later loses
 * none of them. */
static void
s_send(s_inv_t *inv, const char *path)
{
    for (size_t i = 0; i < inv->count; i++) {
        s_acc_t *acc = &inv->acc[i];
        if (!acc->seen || acc->sent || (path && !s_in_file(inv, i, path)))
            continue;
        shoal_driver_result(inv->driver, inv->tests[i], acc->outcome, acc->seconds, acc->message,
                            NULL);
        acc->sent = true;
    }
}

static void
s_on_run(void *arg, const char *line, size_t len)
{
    (void)len;
    s_inv_t *inv = arg;
    shoal_js_event_t ev;
    if (shoal_js_event_parse(line, &ev) != 0)
        return;
    if (strcmp(ev.event, "file") == 0) {
        if (!inv->has_begin)
            s_begin_next(inv);
    } else if (strcmp(ev.event, "begin") == 0) {
        inv->has_begin = true;
        s_begin(inv, s_place(inv, &ev));
    } else if (strcmp(ev.event, "case") == 0) {
        size_t place = s_place(inv, &ev);
        if (place != SIZE_MAX && !inv->acc[place].final)
            s_merge(&inv->acc[place], &ev);
        if (!inv->has_begin)
            s_begin_next(inv);
    } else if (strcmp(ev.event, "final") == 0) {
        size_t place = s_place(inv, &ev);
        if (place != SIZE_MAX && !inv->acc[place].final) {
            /* the file's own account replaces what was streamed of it */
            for (size_t i = 0; i < inv->count; i++)
                if (s_in_file(inv, i, ev.path) && !inv->acc[i].final) {
                    free(inv->acc[i].message);
                    inv->acc[i] = (s_acc_t){.begun = inv->acc[i].begun, .final = true};
                }
        }
        if (place != SIZE_MAX)
            s_merge(&inv->acc[place], &ev);
    } else if (strcmp(ev.event, "end") == 0) {
        inv->ended++;
        if (ev.error && *ev.error && ev.path)
            s_blame_file(inv, ev.path, ev.error);
        if (ev.path)
            s_send(inv, ev.path);
    }
    shoal_js_event_clear(&ev);
}

static void
s_flush(s_inv_t *inv)
{
    s_send(inv, NULL);
    for (size_t i = 0; i < inv->count; i++)
        free(inv->acc[i].message);
}

/* Runs tests[0..count) of the files paths[0..files) (each file's tests
 * together, in its order), in as many invocations as the filter's size
 * needs; several files only when one filter names them all (the caller
 * checks). False if the framework ended early. */
static bool
s_run_files(shoal_js_t *js, shoal_driver_t *driver, const size_t *tests, size_t count,
            const char *const *paths, size_t files)
{
    const char **names = malloc(count * sizeof(char *));
    s_acc_t *acc = calloc(count, sizeof(*acc));
    bool ok = names && acc;
    for (size_t i = 0; ok && i < count; i++)
        names[i] = js->names[tests[i]];
    for (size_t done = 0, taken = 0; ok && done < count; done += taken) {
        char *regex = shoal_js_regex(names + done, count - done, js->pattern, S_REGEX_MAX, &taken);
        const char *path = js->path[tests[done]];
        shoal_argv_t a = {0};
        if (regex)
            js->fw->argv(js, &a, files > 1 ? paths : &path, files > 1 ? files : 1, regex);
        free(regex);
        if (!regex || a.failed)
            break; /* out of memory: the core settles the rest */
        s_inv_t inv = {.js = js,
                       .driver = driver,
                       .tests = tests + done,
                       .count = taken,
                       .acc = acc + done,
                       .files = files > 1 ? files : 1};
        int status = shoal_driver_spawn(driver, a.v, NULL, NULL, s_on_run, &inv);
        shoal_adapter_argv_free(&a.v);
        s_flush(&inv);
        /* a file without its end: it died or exited in a test (process.exit) */
        ok = inv.ended >= inv.files && shoal_driver_signal(driver) == 0 && status >= 0;
    }
    free(names);
    free(acc);
    return ok;
}

static int
s_by_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* True if a test of path has the filter key of test but is not in the
 * batch (in: per test of the collection): one filter would run it too. */
static bool
s_stray(const shoal_js_t *js, const char *path, size_t test, const bool *in)
{
    size_t t = s_find(js, path, js->key[test]);
    return t != SIZE_MAX && !in[t];
}

/* Whether the file paths[files - 1], with tests[first..count), can join an
 * invocation of the files before it (tests[0..first)): one name filter over
 * them all still runs exactly their tests, and fits one invocation. *bytes:
 * the filter's size so far, grown by the new file's names. */
static bool
s_group_joins(const shoal_js_t *js, const size_t *tests, size_t first, size_t count,
              const char *const *paths, size_t files, const bool *in, size_t *bytes)
{
    for (size_t i = first; i < count; i++) {
        *bytes += 2 * strlen(js->names[tests[i]]) + 1;
        for (size_t f = 0; f + 1 < files; f++)
            if (s_stray(js, paths[f], tests[i], in))
                return false;
    }
    for (size_t i = 0; i < first; i++)
        if (s_stray(js, paths[files - 1], tests[i], in))
            return false;
    return *bytes < S_REGEX_MAX; /* one invocation: a second would run the first's */
}

shoal_driver_end_t
shoal_js_run(void *state, shoal_driver_t *driver, const size_t *tests, size_t count)
{
    shoal_js_t *js = state;
    size_t *order = malloc(count * sizeof(size_t));
    const char **paths = malloc(count * sizeof(char *));
    bool *done = calloc(count, sizeof(bool)), *in = calloc(js->total + 1, sizeof(bool));
    shoal_driver_end_t end = SHOAL_DRIVER_RAN;
    if (!order || !paths || !done || !in)
        goto out; /* out of memory: the core settles them */
    for (size_t i = 0; i < count; i++)
        in[tests[i]] = true;
    /* files in the order dealt, each file's tests in its own order; files
     * join the invocation before them while one filter names exactly their
     * tests */
    size_t n = 0, files = 0, bytes = 0;
    for (size_t i = 0; i < count && end == SHOAL_DRIVER_RAN && !shoal_driver_stopping(driver);
         i++) {
        if (done[i] || !js->path[tests[i]])
            continue;
        size_t first = n;
        for (size_t j = i; j < count; j++)
            if (!done[j] && js->path[tests[j]] &&
                strcmp(js->path[tests[j]], js->path[tests[i]]) == 0) {
                order[n++] = tests[j];
                done[j] = true;
            }
        qsort(order + first, n - first, sizeof(size_t), s_by_index);
        paths[files++] = js->path[tests[i]];
        if (files > 1 && !s_group_joins(js, order, first, n, paths, files, in, &bytes)) {
            /* this file starts the next invocation */
            if (!s_run_files(js, driver, order, first, paths, files - 1))
                end = SHOAL_DRIVER_CRASHED;
            memmove(order, order + first, (n - first) * sizeof(size_t));
            n -= first;
            paths[0] = paths[files - 1];
            files = 1;
            bytes = 0;
            (void)s_group_joins(js, order, 0, n, paths, 1, in, &bytes); /* its names' size */
        } else if (files == 1) {
            (void)s_group_joins(js, order, 0, n, paths, 1, in, &bytes);
        }
    }
    if (n > 0 && end == SHOAL_DRIVER_RAN && !shoal_driver_stopping(driver) &&
        !s_run_files(js, driver, order, n, paths, files))
        end = SHOAL_DRIVER_CRASHED;
out:
    free(order);
    free(paths);
    free(done);
    free(in);
    return end;
}

void
shoal_js_destroy(void *state)
{
    shoal_js_t *js = state;
    if (!js)
        return;
    shoal_adapter_argv_free(&js->prefix);
    shoal_adapter_argv_free(&js->words.v);
    shoal_adapter_argv_free(&js->run_words.v);
    free(js->pattern);
    for (size_t t = 0; js->path && t < js->total; t++) {
        free(js->path[t]);
        free(js->key[t]);
        free(js->names[t]);
    }
    free(js->path);
    free(js->key);
    free(js->names);
    free(js->sorted);
    free(js);
}
