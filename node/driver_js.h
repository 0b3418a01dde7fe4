/* node/driver_js.h: what the Jest and Vitest drivers share (private to
 * node/driver_js.c, driver_jest.c, driver_vitest.c). Both frameworks run a
 * reporter of shoal's (written once into a temp directory) that prints one
 * line per event, "shoal-js {json}", in the shape of the frameworks' own JSON
 * report's assertion results:
 *
 *   {"event":"file","path":P}                    a file starts
 *   {"event":"begin","path":P,"fullName":N}      a test starts
 *   {"event":"case","path":P,"fullName":N,"status":S,"duration":MS,"message":M}
 *                                                a test ended (as it happens)
 *   {"event":"final",...the same...,"ancestorTitles":[...],"title":T,"line":L}
 *                                                every test of the file, once it is over
 *   {"event":"end","path":P,"error":E}           the file is over; E: why the file
 *                                                itself failed (did not load, afterAll threw)
 *
 * Listing runs the whole command with a name filter nothing matches, so every
 * test is reported skipped with its full name and no test body or hook runs.
 * A batch runs its tests named by an anchored regex of their full names
 * (describe blocks and title joined by spaces, which is what -t matches), in
 * one invocation for several files when that regex selects no test of those
 * files outside the batch (a start of Jest or Vitest costs 1-3 s), else one
 * per file. Tests of one file that such a filter cannot select apart
 * (the same full name; under Jest's case-insensitive -t, names differing in
 * case only) are one test for shoal: they always run together and report the
 * worst of their outcomes.
 */
#ifndef SHOAL_NODE_DRIVER_JS_H
#define SHOAL_NODE_DRIVER_JS_H

#include "node/adapter_impl.h"
#include "node/driver.h"

#include <limits.h>

typedef struct shoal_js shoal_js_t;

typedef struct {
    const char *name;          /* "jest", "vitest" */
    const char *reporter;      /* the reporter's source */
    const char *reporter_file; /* its file name (versioned: the content never changes under it) */
    bool fold_case;            /* the name filter ignores case (Jest's -t) */
    /* Reads the user's words after the prefix: keeps what passes through in
     * js->words, takes out the name filter (js->pattern), sets out->maxfail
     * and out->notice; -1 with err for what cannot run distributed. */
    int (*scan)(shoal_js_t *js, int argc, char *const *argv, shoal_collection_t *out, char *err,
                size_t err_size);
    /* The invocation that runs the files paths[0..count) (count 0: the
     * listing, every file) with the name filter regex, pushed onto a; with
     * several files, one after the other in one process (as one file runs). */
    void (*argv)(const shoal_js_t *js, shoal_argv_t *a, const char *const *paths, size_t count,
                 const char *regex);
} shoal_js_fw_t;

struct shoal_js {
    const shoal_js_fw_t *fw;
    char **prefix;           /* the words that start the framework */
    shoal_argv_t words;      /* the user's words that pass through */
    shoal_argv_t run_words;  /* those that run one file, if not all of them (Vitest: its
                                file filters would add files) */
    char *pattern;           /* the user's name filter, or NULL */
    char reporter[PATH_MAX]; /* where the reporter is */
    char cwd[PATH_MAX];      /* ids name files relative to it */
    char **path, **key,
        **names;           /* per test of the collection: absolute file, filter key, full name */
    size_t total;          /* tests in the collection (presets have no path) */
    size_t count, *sorted; /* the runnable ones, by (path, key) */
};

/* Words that start the framework called name: "name", ".../name(.js|.mjs)",
 * "npx [opts] name", "node [opts] .../name(.js|.mjs)"; 0 if none. */
size_t shoal_js_detect(int argc, char *const *argv, const char *name);

/* The value of option long_name (or short_name, may be NULL) at argv[*i]
 * ("--opt v", "--opt=v", "-s v", "-sv"), advancing *i past it; NULL if
 * argv[*i] is not that option. */
const char *shoal_js_value(int argc, char *const *argv, int *i, const char *long_name,
                           const char *short_name);
/* True if argv[i] is the flag long_name or short_name (also "--flag=..."). */
bool shoal_js_flag(const char *arg, const char *long_name, const char *short_name);

/* The driver ops, given the framework (collect is wrapped per framework). */
int shoal_js_collect(const shoal_js_fw_t *fw, void **state, shoal_driver_t *driver, int argc,
                     char *const *argv, shoal_collection_t *out, char *err, size_t err_size);
shoal_driver_end_t shoal_js_run(void *state, shoal_driver_t *driver, const size_t *tests,
                                size_t count);
void shoal_js_destroy(void *state);

/* ---- parsing, shared and unit-tested ---- */

typedef struct {
    char event[16];
    const char *path, *full_name, *status, *message, *title, *error;
    double seconds;
    unsigned line;
    const char *const *ancestors; /* NULL-terminated */
    void *owned;
} shoal_js_event_t;

/* Parses one output line; 0 (a "shoal-js" line, fields borrowed until
 * shoal_js_event_clear), 1 (another line), -1 (a "shoal-js" line that is not
 * JSON of an event). */
int shoal_js_event_parse(const char *line, shoal_js_event_t *ev);
void shoal_js_event_clear(shoal_js_event_t *ev);
/* The framework's status word as an outcome ("pending", "todo": skipped). */
shoal_outcome_t shoal_js_outcome(const char *status);
/* path relative to cwd if it is under it, else path (borrowed). */
const char *shoal_js_relative(const char *cwd, const char *path);
/* The test's id, "FILE::describe > ... > title" with FILE relative to cwd
 * (FILE is the JUnit classname, as for every unit-based framework). NULL out
 * of memory. */
char *shoal_js_id(const char *cwd, const char *path, const char *const *ancestors,
                  const char *title);
/* The filter key of a full name: itself, or ASCII-lowercased if fold. */
char *shoal_js_key(const char *full_name, bool fold);
/* The regex naming tests[0..count) (full names), wrapped so that the user's
 * pattern (or NULL) must match too; tests are taken while the regex stays
 * under max bytes (at least one). *taken: how many. NULL out of memory. */
char *shoal_js_regex(const char *const *names, size_t count, const char *pattern, size_t max,
                     size_t *taken);

#endif
