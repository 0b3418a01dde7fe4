/* node/cmd_history.c: `shoal history show [--project P] [--db PATH] [--json]`
 * prints what the store knows about a project (a table or one JSON object);
 * `shoal history import [--project P] [--db PATH] FILE.xml...` seeds it from
 * JUnit reports. The project is --project, else $SHOAL_PROJECT, else the
 * basename of the current directory. Errors are printed once, here.
 */
#include "node/cmd_history.h"
#include "node/commands.h"
#include "node/history.h"
#include "node/json.h"
#include "sched/sched.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_ID_WIDTH_MAX 72

typedef struct {
    const char *project;
    const char *db;
    bool json;
    char cwd_name[PATH_MAX];
} s_options_t;

static void
s_usage(FILE *out)
{
    fprintf(out, "usage: shoal history show [--project P] [--db PATH] [--json]\n"
                 "       shoal history import [--project P] [--db PATH] FILE.xml...\n\n"
                 "  show      per test: runs, mean and EWMA seconds of the last 8 runs, failures\n"
                 "            among them, flakiness (share of outcome flips) and the last outcome\n"
                 "  import    records the testcases of JUnit reports (durations and outcomes)\n\n"
                 "  --project P  project name (default: $SHOAL_PROJECT, else the current\n"
                 "               directory's name)\n"
                 "  --db PATH    history database (default: $XDG_DATA_HOME/shoal/history.db)\n"
                 "  --json       show: one JSON object instead of a table\n");
}

/* Parses the options of argv (argv[0] is the subcommand): 0, 1 after printing
 * the help, -1 after a message. */
static int
s_parse(int argc, char **argv, s_options_t *o, bool allow_json)
{
    static const struct option options[] = {
        {"project", required_argument, NULL, 'p'},
        {"db", required_argument, NULL, 'd'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    optind = 0; /* GNU: full re-initialisation */
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
            case 'p':
                o->project = optarg;
                break;
            case 'd':
                o->db = optarg;
                break;
            case 'j':
                if (!allow_json) {
                    fprintf(stderr, "shoal history %s: --json is for show\n", argv[0]);
                    return -1;
                }
                o->json = true;
                break;
            case 'h':
                s_usage(stdout);
                return 1;
            default:
                s_usage(stderr);
                return -1;
        }
    }
    if (!o->project || !*o->project)
        o->project = getenv("SHOAL_PROJECT");
    if (!o->project || !*o->project) {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd))) {
            fprintf(stderr, "shoal history: cannot tell the project: give --project\n");
            return -1;
        }
        const char *slash = strrchr(cwd, '/');
        snprintf(o->cwd_name, sizeof(o->cwd_name), "%s", slash && slash[1] ? slash + 1 : cwd);
        o->project = o->cwd_name;
    }
    return 0;
}

/* Options, arguments (show takes none, import one or more files), then the
 * store. SHOAL_EXIT_OK with *history open (NULL after --help), or the exit
 * status after a message. */
static int
s_begin(int argc, char **argv, bool show, s_options_t *o, shoal_history_t **history)
{
    *history = NULL;
    int parsed = s_parse(argc, argv, o, show);
    if (parsed != 0)
        return parsed > 0 ? SHOAL_EXIT_OK : SHOAL_EXIT_USAGE;
    if (show && optind < argc) {
        fprintf(stderr, "shoal history show: unexpected argument '%s'\n", argv[optind]);
        return SHOAL_EXIT_USAGE;
    }
    if (!show && optind >= argc) {
        fprintf(stderr, "shoal history import: give one or more JUnit XML files\n");
        return SHOAL_EXIT_USAGE;
    }
    char err[PATH_MAX + 256];
    *history = shoal_history_open(o->db, err, sizeof(err));
    if (!*history) {
        fprintf(stderr, "shoal history: %s\n", err);
        return SHOAL_EXIT_FAILURE;
    }
    return SHOAL_EXIT_OK;
}

static double
s_mean(const shoal_history_entry_t *e)
{
    double sum = 0;
    for (size_t i = 0; i < e->count; i++)
        sum += e->durations[i];
    return e->count ? sum / (double)e->count : 0;
}

static const char *
s_last(const shoal_history_entry_t *e)
{
    return e->runs == 0 ? "-" : e->last_failed ? "failed" : "passed";
}

static void
s_show_json(const s_options_t *o, const shoal_history_entry_t *entries, size_t count)
{
    printf("{\"project\":");
    shoal_json_string(stdout, o->project);
    printf(",\"tests\":[");
    for (size_t i = 0; i < count; i++) {
        const shoal_history_entry_t *e = &entries[i];
        printf("%s{\"id\":", i ? "," : "");
        shoal_json_string(stdout, e->id);
        printf(",\"runs\":%u,\"durations\":[", e->runs);
        for (size_t k = 0; k < e->count; k++)
            printf("%s%.6f", k ? "," : "", e->durations[k]);
        printf("],\"mean\":%.6f,\"ewma\":%.6f,\"recent_failures\":%u,\"last_failed\":%s,"
               "\"flakiness\":%.4f,\"last_run\":%llu}",
               s_mean(e), sched_predict_ewma(e->durations, e->count, SCHED_EWMA_ALPHA),
               e->recent_failures, e->last_failed ? "true" : "false", e->flakiness,
               (unsigned long long)e->last_run);
    }
    printf("]}\n");
}

static void
s_show_table(const shoal_history_entry_t *entries, size_t count)
{
    int width = 4;
    for (size_t i = 0; i < count; i++) {
        int len = (int)strlen(entries[i].id);
        if (len > width)
            width = len > S_ID_WIDTH_MAX ? S_ID_WIDTH_MAX : len;
    }
    printf("%-*s %5s %9s %9s %8s %6s  %s\n", width, "TEST", "RUNS", "MEAN s", "EWMA s", "FAILED",
           "FLAKY", "LAST");
    for (size_t i = 0; i < count; i++) {
        const shoal_history_entry_t *e = &entries[i];
        char failed[16];
        snprintf(failed, sizeof(failed), "%u/%zu", e->recent_failures,
                 e->runs < SHOAL_HISTORY_WINDOW ? (size_t)e->runs : (size_t)SHOAL_HISTORY_WINDOW);
        printf("%-*s %5u %9.3f %9.3f %8s %5.0f%%  %s\n", width, e->id, e->runs, s_mean(e),
               sched_predict_ewma(e->durations, e->count, SCHED_EWMA_ALPHA), failed,
               e->flakiness * 100.0, s_last(e));
    }
}

static int
s_show(int argc, char **argv)
{
    s_options_t o = {0};
    shoal_history_t *history;
    int rc = s_begin(argc, argv, true, &o, &history);
    if (rc != SHOAL_EXIT_OK || !history)
        return rc;
    shoal_history_entry_t *entries;
    size_t count;
    if (shoal_history_load(history, o.project, &entries, &count) != 0) {
        fprintf(stderr, "shoal history: %s\n", shoal_history_error(history));
        rc = SHOAL_EXIT_FAILURE;
    } else if (o.json) {
        s_show_json(&o, entries, count);
    } else if (count == 0) {
        printf("no history for project '%s' in %s\n", o.project, shoal_history_path(history));
    } else {
        s_show_table(entries, count);
    }
    shoal_history_entries_free(&entries, count);
    shoal_history_close(&history);
    return rc;
}

static int
s_import(int argc, char **argv)
{
    s_options_t o = {0};
    shoal_history_t *history;
    int rc = s_begin(argc, argv, false, &o, &history);
    if (rc != SHOAL_EXIT_OK || !history)
        return rc;
    char err[PATH_MAX + 256];
    for (int i = optind; i < argc; i++) {
        long n = shoal_history_import(history, o.project, argv[i], (uint64_t)time(NULL), err,
                                      sizeof(err));
        if (n < 0) {
            fprintf(stderr, "shoal history import: %s\n", err);
            rc = SHOAL_EXIT_FAILURE;
        } else {
            printf("imported %ld test results from %s into project '%s'\n", n, argv[i], o.project);
        }
    }
    shoal_history_close(&history);
    return rc;
}

int
shoal_cmd_history(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        s_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? SHOAL_EXIT_USAGE : SHOAL_EXIT_OK;
    }
    if (strcmp(argv[1], "show") == 0)
        return s_show(argc - 1, argv + 1);
    if (strcmp(argv[1], "import") == 0)
        return s_import(argc - 1, argv + 1);
    fprintf(stderr, "shoal history: unknown subcommand '%s' (show, import)\n", argv[1]);
    return SHOAL_EXIT_USAGE;
}
