/* node/driver_vitest.c: Vitest (`vitest [run] ...`, `npx vitest ...`, `node
 * .../vitest.mjs ...`), through the driver shared with Jest (driver_js.h).
 * shoal always says `run` (never watch), adds its reporter and a name filter
 * (-t, which Vitest matches case-sensitively); to run one file it names the
 * file instead of the user's file filters, which would add the other files
 * they match. Vitest's workers run in the worker's process group, so a
 * test's timeout ends them too.
 */
#include "node/driver_js.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_BATCH_MAX 1000
#define S_INVOCATION_SECONDS 1.0 /* a start of Vitest, as Jest's */

/* Vitest 1 and 2 reporter API: onTaskUpdate streams test states, onFinished
 * has every file's tasks. */
static const char s_reporter[] =
    "// shoal's Vitest reporter: one line per event for shoal's driver (node/driver_js.h)\n"
    "const cap = (s) => (s.length > 60000 ? s.slice(0, 15000) + '\\n[... cut ...]\\n' + "
    "s.slice(-45000) : s);\n"
    "const emit = (o) => process.stderr.write('\\nshoal-js ' + JSON.stringify(o) + '\\n');\n"
    "const STATUS = {fail: 'failed', pass: 'passed', skip: 'skipped', todo: 'todo', run: "
    "'pending', only: 'pending'};\n"
    "const ancestors = (t) => { const a = []; for (let s = t.suite; s; s = s.suite) "
    "if (s.type === 'suite' && s !== t.file && s.name) a.push(s.name); return a.reverse(); };\n"
    "const errors = (list) => cap((list || []).map((e) => e.stack || e.message || "
    "String(e)).join('\\n'));\n"
    "const one = (event, t) => { const a = ancestors(t); return {event, path: t.file.filepath,\n"
    "  fullName: [...a, t.name].join(' '), ancestorTitles: a, title: t.name,\n"
    "  status: STATUS[(t.result && t.result.state) || t.mode] || 'skipped',\n"
    "  duration: t.result ? t.result.duration : 0, message: errors(t.result && t.result.errors),\n"
    "  line: t.location ? t.location.line : 0}; };\n"
    "const tests = (task, out) => { for (const t of task.tasks || []) { if (t.type === 'suite') "
    "tests(t, out); else out.push(t); } return out; };\n"
    "export default class ShoalReporter {\n"
    "  onInit(ctx) { this.ctx = ctx; }\n"
    "  onTaskUpdate(packs) {\n"
    "    for (const [id, result] of packs) {\n"
    "      const t = this.ctx.state.idMap.get(id);\n"
    "      if (!t || t.type === 'suite' || !t.file || !result) continue;\n"
    "      if (result.state === 'run') emit({event: 'begin', path: t.file.filepath,\n"
    "        fullName: one('begin', t).fullName});\n"
    "      else if (result.state === 'pass' || result.state === 'fail') emit(one('case', t));\n"
    "    }\n"
    "  }\n"
    "  onFinished(files, errs) {\n"
    "    for (const f of files || []) {\n"
    "      emit({event: 'file', path: f.filepath});\n"
    "      for (const t of tests(f, [])) emit(one('final', t));\n"
    "      const fe = (f.result && f.result.errors) || [];\n"
    "      emit({event: 'end', path: f.filepath, error: errors(fe.concat(errs || []))});\n"
    "    }\n"
    "  }\n"
    "}\n";

static size_t
s_detect(int argc, char *const *argv)
{
    return shoal_js_detect(argc, argv, "vitest");
}

static const struct {
    const char *flag, *short_flag, *why;
} s_refused[] = {
    {"--watch", "-w", "watch mode runs until stopped: run vitest alone"},
    {"--update", "-u",
     "snapshots written on other participants would be lost: update them with vitest alone"},
    {"--shard", NULL, "shoal shards the tests itself: drop --shard"},
    {"--outputFile", NULL, "each participant runs part of the suite: use shoal run --json FILE"},
    {"--standalone", NULL, "it waits for changes: run vitest alone"},
};

/* Long options whose value is the next word (cac's <value>); dotted ones
 * (--coverage.provider v8) too. Anything else is a flag, and a word that is
 * not an option's value is a file filter. */
static const char *const s_valued[] = {
    "--root",
    "-r",
    "--config",
    "-c",
    "--dir",
    "--reporter",
    "--mode",
    "--workspace",
    "--pool",
    "--poolOptions",
    "--maxWorkers",
    "--minWorkers",
    "--environment",
    "--sequence",
    "--testTimeout",
    "--hookTimeout",
    "--bail",
    "--retry",
    "--diff",
    "--exclude",
    "--project",
    "--slowTestThreshold",
    "--teardownTimeout",
    "--maxConcurrency",
    "--browser",
};

static bool
s_takes_value(const char *arg)
{
    if (strchr(arg, '='))
        return false;
    for (size_t i = 0; i < sizeof(s_valued) / sizeof(s_valued[0]); i++)
        if (strcmp(arg, s_valued[i]) == 0)
            return true;
    return strncmp(arg, "--", 2) == 0 && strchr(arg, '.') != NULL;
}

static int
s_scan(shoal_js_t *js, int argc, char *const *argv, shoal_collection_t *out, char *err,
       size_t err_size)
{
    static const char *const commands[] = {"watch", "dev",  "bench",    "related",
                                           "init",  "list", "typecheck"};
    int i = 0;
    if (argc > 0 && strcmp(argv[0], "run") == 0)
        i = 1; /* shoal says run itself */
    for (size_t c = 0; argc > 0 && c < sizeof(commands) / sizeof(commands[0]); c++)
        if (strcmp(argv[0], commands[c]) == 0) {
            snprintf(err, err_size, "vitest %s cannot run distributed: shoal runs `vitest run`",
                     argv[0]);
            return -1;
        }
    for (; i < argc; i++) {
        const char *arg = argv[i], *value;
        if ((value = shoal_js_value(argc, argv, &i, "--testNamePattern", "-t"))) {
            free(js->pattern);
            js->pattern = strdup(value);
            continue;
        }
        for (size_t r = 0; r < sizeof(s_refused) / sizeof(s_refused[0]); r++)
            if (shoal_js_flag(arg, s_refused[r].flag, s_refused[r].short_flag)) {
                snprintf(err, err_size, "vitest %s cannot run distributed: %s", arg,
                         s_refused[r].why);
                return -1;
            }
        bool filter = arg[0] != '-';
        shoal_argv_push(&js->words, arg);
        if (!filter)
            shoal_argv_push(&js->run_words, arg);
        if (shoal_js_flag(arg, "--bail", NULL)) {
            const char *eq = strchr(arg, '=');
            const char *n = eq ? eq + 1 : i + 1 < argc ? argv[i + 1] : "1";
            out->maxfail = (unsigned)strtoul(n, NULL, 10);
        }
        if (s_takes_value(arg) && i + 1 < argc) {
            shoal_argv_push(&js->words, argv[++i]);
            shoal_argv_push(&js->run_words, argv[i]);
        }
    }
    return js->words.failed || js->run_words.failed ? -1 : 0;
}

static void
s_argv(const shoal_js_t *js, shoal_argv_t *a, const char *const *paths, size_t count,
       const char *regex)
{
    for (size_t i = 0; js->prefix[i]; i++)
        shoal_argv_push(a, js->prefix[i]);
    shoal_argv_push(a, "run");
    const shoal_argv_t *words = count ? &js->run_words : &js->words;
    for (size_t i = 0; i < words->len; i++)
        shoal_argv_push(a, words->v[i]);
    shoal_argv_push(a, "--reporter");
    shoal_argv_push(a, js->reporter);
    shoal_argv_push(a, "--testNamePattern");
    shoal_argv_push(a, regex);
    if (count > 1)
        shoal_argv_push(a, "--no-file-parallelism"); /* one after another, as one file runs */
    for (size_t i = 0; i < count; i++)
        shoal_argv_push(a, paths[i]);
}

static const shoal_js_fw_t s_vitest = {
    .name = "vitest",
    .reporter = s_reporter,
    .reporter_file = "vitest-reporter-1.mjs",
    .fold_case = false,
    .scan = s_scan,
    .argv = s_argv,
};

static int
s_collect(void **state, shoal_driver_t *driver, int argc, char *const *argv,
          shoal_collection_t *out, char *err, size_t err_size)
{
    return shoal_js_collect(&s_vitest, state, driver, argc, argv, out, err, err_size);
}

const shoal_adapter_ops_t shoal_adapter_vitest_ops =
    SHOAL_ADAPTER_DRIVER_OPS("vitest", s_detect, S_BATCH_MAX, S_INVOCATION_SECONDS,
                             shoal_adapter_node_toolchain_argv, shoal_adapter_node_dep_files);

const shoal_driver_ops_t shoal_driver_vitest_ops = {
    .name = "vitest",
    .collect = s_collect,
    .run = shoal_js_run,
    .destroy = shoal_js_destroy,
};
