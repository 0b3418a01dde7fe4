/* node/driver_jest.c: Jest (`jest ...`, `npx jest ...`, `node .../jest.js
 * ...`), through the driver shared with Vitest (driver_js.h). shoal adds to
 * the user's command only --ci (before the user's words, so an explicit
 * --ci=false still wins), its reporter, a name filter (-t) and, to run one
 * file, a --testPathIgnorePatterns that ignores every other path: the user's
 * own path patterns stay as they are, and Jest reads them as it would alone.
 * Jest runs a single file in band, so -w and -i change nothing: shoal's slots
 * are the parallelism.
 */
#include "node/driver_js.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_BATCH_MAX 1000
#define S_INVOCATION_SECONDS                                                                       \
    1.0 /* a start of Jest: 0.7 s for a trivial file (scripts/bench-batch), more for real ones */

/* Jest calls it in its main process; onTestCaseStart exists from 29.6 on.
 * Lines go to stderr, each starting on a line of its own. */
static const char s_reporter[] =
    "'use strict';\n"
    "// shoal's Jest reporter: one line per event for shoal's driver (node/driver_js.h)\n"
    "const cap = (s) => (s.length > 60000 ? s.slice(0, 15000) + '\\n[... cut ...]\\n' + "
    "s.slice(-45000) : s);\n"
    "const emit = (o) => process.stderr.write('\\nshoal-js ' + JSON.stringify(o) + '\\n');\n"
    "const messages = (r) => cap((r.failureMessages || []).join('\\n'));\n"
    "const one = (event, path, r) => ({event, path, fullName: r.fullName, status: r.status,\n"
    "  duration: r.duration, message: messages(r), ancestorTitles: r.ancestorTitles,\n"
    "  title: r.title, line: r.location ? r.location.line : 0});\n"
    "module.exports = class ShoalReporter {\n"
    "  onTestFileStart(test) { emit({event: 'file', path: test.path}); }\n"
    "  onTestCaseStart(test, info) {\n"
    "    emit({event: 'begin', path: test.path, fullName: info.fullName});\n"
    "  }\n"
    "  onTestCaseResult(test, r) { emit(one('case', test.path, r)); }\n"
    "  onTestFileResult(test, result) {\n"
    "    for (const r of result.testResults) emit(one('final', test.path, r));\n"
    "    const e = result.testExecError;\n"
    "    emit({event: 'end', path: test.path,\n"
    "          error: e ? cap(result.failureMessage || e.message || String(e)) : ''});\n"
    "  }\n"
    "  getLastError() { return undefined; }\n"
    "};\n";

static size_t
s_detect(int argc, char *const *argv)
{
    return shoal_js_detect(argc, argv, "jest");
}

/* Options that cannot work when each participant runs some files. */
static const struct {
    const char *flag, *short_flag, *why;
} s_refused[] = {
    {"--watch", NULL, "watch mode runs until stopped: run jest --watch alone"},
    {"--watchAll", NULL, "watch mode runs until stopped: run jest --watchAll alone"},
    {"--shard", NULL, "shoal shards the tests itself: drop --shard"},
    {"--updateSnapshot", "-u",
     "snapshots written on other participants would be lost: update them with jest alone"},
    {"--outputFile", NULL, "each participant runs part of the suite: use shoal run --json FILE"},
    {"--listTests", NULL, "it runs no test: run it with jest alone"},
    {"--showConfig", NULL, "it runs no test: run it with jest alone"},
    {"--clearCache", NULL, "it runs no test: run it with jest alone"},
};

static int
s_scan(shoal_js_t *js, int argc, char *const *argv, shoal_collection_t *out, char *err,
       size_t err_size)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *value;
        if ((value = shoal_js_value(argc, argv, &i, "--testNamePattern", "-t"))) {
            free(js->pattern);
            js->pattern = strdup(value);
            continue;
        }
        for (size_t r = 0; r < sizeof(s_refused) / sizeof(s_refused[0]); r++)
            if (shoal_js_flag(arg, s_refused[r].flag, s_refused[r].short_flag)) {
                snprintf(err, err_size, "jest %s cannot run distributed: %s", arg,
                         s_refused[r].why);
                return -1;
            }
        if (shoal_js_flag(arg, "--bail", "-b")) {
            /* Jest stops after N failed files; shoal after N failed tests */
            const char *eq = strchr(arg, '=');
            out->maxfail = eq ? (unsigned)strtoul(eq + 1, NULL, 10) : 1;
            if (eq && (strcmp(eq + 1, "false") == 0 || strcmp(eq + 1, "0") == 0))
                out->maxfail = 0;
            else if (out->maxfail == 0)
                out->maxfail = 1;
        }
        if (shoal_js_flag(arg, "--maxWorkers", "-w") || shoal_js_flag(arg, "--runInBand", "-i")) {
            free(out->notice);
            out->notice = strdup("jest runs each file shoal gives it in band: -w/--maxWorkers "
                                 "and -i change nothing, shoal's slots are the parallelism");
        }
        shoal_argv_push(&js->words, arg);
    }
    return js->words.failed ? -1 : 0;
}

static void
s_argv(const shoal_js_t *js, shoal_argv_t *a, const char *const *paths, size_t count,
       const char *regex)
{
    for (size_t i = 0; js->prefix[i]; i++)
        shoal_argv_push(a, js->prefix[i]);
    /* --ci: no snapshot is written (a new one fails, as on CI, where Jest sets it itself) */
    shoal_argv_push(a, "--ci");
    for (size_t i = 0; i < js->words.len; i++)
        shoal_argv_push(a, js->words.v[i]);
    shoal_argv_push(a, "--reporters");
    shoal_argv_push(a, js->reporter);
    shoal_argv_push(a, "--testLocationInResults");
    shoal_argv_push(a, "--testNamePattern");
    shoal_argv_push(a, regex);
    if (count == 0)
        return;
    if (count > 1)
        shoal_argv_push(a, "--runInBand"); /* one file after another, as one file runs */
    /* every file but these is ignored: the user's own path patterns pass
     * through untouched */
    size_t len = 16;
    for (size_t i = 0; i < count; i++)
        len += 2 * strlen(paths[i]) + 1;
    char *ignore = malloc(len), *p = ignore;
    if (ignore) {
        p += sprintf(p, "^(?!(?:");
        for (size_t i = 0; i < count && ignore; i++) {
            char *quoted = shoal_driver_regex_quote(paths[i]);
            if (quoted)
                p += sprintf(p, "%s%s", i ? "|" : "", quoted);
            else {
                free(ignore);
                ignore = NULL;
            }
            free(quoted);
        }
    }
    if (ignore)
        sprintf(p, ")$)");
    shoal_argv_push(a, "--testPathIgnorePatterns");
    shoal_argv_push(a, ignore ? ignore : "");
    if (!ignore) { /* out of memory: no command at all */
        shoal_adapter_argv_free(&a->v);
        a->failed = true;
    }
    free(ignore);
}

static const shoal_js_fw_t s_jest = {
    .name = "jest",
    .reporter = s_reporter,
    .reporter_file = "jest-reporter-1.js",
    .fold_case = true, /* Jest compiles -t with the i flag */
    .scan = s_scan,
    .argv = s_argv,
};

static int
s_collect(void **state, shoal_driver_t *driver, int argc, char *const *argv,
          shoal_collection_t *out, char *err, size_t err_size)
{
    return shoal_js_collect(&s_jest, state, driver, argc, argv, out, err, err_size);
}

const shoal_adapter_ops_t shoal_adapter_jest_ops =
    SHOAL_ADAPTER_DRIVER_OPS("jest", s_detect, S_BATCH_MAX, S_INVOCATION_SECONDS,
                             shoal_adapter_node_toolchain_argv, shoal_adapter_node_dep_files);

const shoal_driver_ops_t shoal_driver_jest_ops = {
    .name = "jest",
    .collect = s_collect,
    .run = shoal_js_run,
    .destroy = shoal_js_destroy,
};
