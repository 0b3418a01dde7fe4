/* node/cmd_sim.c: `shoal sim`, the scheduler's simulator on the command line.
 * Parses flags into a sched_sim_config_t (each bad flag named once, exit 2),
 * reads JUnit durations for --dist junit:FILE, times the plan and the run with
 * the monotonic clock (sched/ never reads one) and prints a summary or exactly
 * one JSON object.
 */
#include "node/commands.h"
#include "node/junit.h"
#include "sched/sched.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S_MAX_KILLS 1024

static void
s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: shoal sim [OPTIONS]\n"
        "Simulates one session with the real scheduler and reports its makespan\n"
        "against the lower bound max(sum t / (nodes * slots), max t).\n\n"
        "  --nodes N               members (default 4)\n"
        "  --slots S               parallel slots per member (default 2)\n"
        "  --tests M               tests (default 1000; ignored with junit)\n"
        "  --dist D                uniform | lognormal:SIGMA | junit:FILE (default lognormal:1)\n"
        "  --mean SECONDS          mean test duration (default 0.5)\n"
        "  --giants K              add K giant tests of 200 x mean\n"
        "  --predict P             exact | none | error:FRACTION (default exact)\n"
        "  --strategy S            lpt | round-robin | file | tag | fail-first (default lpt)\n"
        "  --no-steal              static sharding: idle members do not steal\n"
        "  --kill NODE@SECONDS     member NODE (0-based) dies at SECONDS (repeatable)\n"
        "  --seed K                random seed (default 1)\n"
        "  --dispatch-latency S    seconds per dispatch (default 0.001)\n"
        "  --steal-latency S       central steal: seconds from asking to receiving\n"
        "                          (default 0.002)\n"
        "  --p2p                   members hold their queues and steal from each other,\n"
        "                          deciding on loads announced each progress period;\n"
        "                          the leader hears of it (default: the leader decides)\n"
        "  --hop-latency S         --p2p: seconds one message takes (default 0.002); a\n"
        "                          steal costs two (ask, answer), a report one\n"
        "  --progress-period S     --p2p: seconds between load announcements (default 0.05)\n"
        "  --batch SECONDS         dispatch batches of about SECONDS (default 0: one test)\n"
        "  --batch-max N           at most N tests per batch (default 64)\n"
        "  --startup SECONDS       runner start-up per dispatch (default 0)\n"
        "  --budget SECONDS        time budget; tests not started by then are skipped\n"
        "  --failed FRACTION       share of tests that failed recently (default 0)\n"
        "  --tagged NODES:FRACTION first NODES members have tag gpu; FRACTION of tests\n"
        "                          require it\n"
        "  --per-file K            tests per file (default 20)\n"
        "  --json                  print one JSON object instead of a summary\n"
        "  --help                  this text\n");
}

static int
s_bad(const char *flag, const char *value, const char *why)
{
    fprintf(stderr, "shoal sim: bad %s '%s': %s\n", flag, value, why);
    return -1;
}

static int
s_double(const char *flag, const char *text, double min, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(v) || v < min)
        return s_bad(flag, text, "expected a number");
    *out = v;
    return 0;
}

static int
s_size(const char *flag, const char *text, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || *end || errno || text[0] == '-' || v > max)
        return s_bad(flag, text, "expected a whole number in range");
    *out = v;
    return 0;
}

static double
s_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct {
    sched_sim_config_t cfg;
    sched_sim_kill_t kills[S_MAX_KILLS];
    const char *junit;
    bool json;
} s_args_t;

static int
s_parse_dist(s_args_t *a, const char *v)
{
    if (strcmp(v, "uniform") == 0) {
        a->cfg.dist = SCHED_SIM_UNIFORM;
        return 0;
    }
    if (strncmp(v, "lognormal:", 10) == 0) {
        a->cfg.dist = SCHED_SIM_LOGNORMAL;
        if (s_double("--dist", v + 10, 0, &a->cfg.sigma) != 0 || a->cfg.sigma > 4)
            return s_bad("--dist", v, "sigma must be 0..4");
        return 0;
    }
    if (strncmp(v, "junit:", 6) == 0 && v[6]) {
        a->cfg.dist = SCHED_SIM_LIST;
        a->junit = v + 6;
        return 0;
    }
    return s_bad("--dist", v, "expected uniform, lognormal:SIGMA or junit:FILE");
}

static int
s_parse_predict(s_args_t *a, const char *v)
{
    if (strcmp(v, "exact") == 0)
        a->cfg.predict = SCHED_SIM_PREDICT_EXACT;
    else if (strcmp(v, "none") == 0)
        a->cfg.predict = SCHED_SIM_PREDICT_NONE;
    else if (strncmp(v, "error:", 6) == 0) {
        a->cfg.predict = SCHED_SIM_PREDICT_ERROR;
        if (s_double("--predict", v + 6, 0, &a->cfg.error) != 0 || a->cfg.error >= 1)
            return s_bad("--predict", v, "the error fraction must be in [0, 1)");
    } else
        return s_bad("--predict", v, "expected exact, none or error:FRACTION");
    return 0;
}

/* Splits "HEAD<sep>TAIL" into a whole number <= max and a number >= 0. */
static int
s_parse_pair(const char *flag, const char *v, char sep, const char *shape, unsigned long long max,
             unsigned long long *head_out, double *tail_out)
{
    const char *split = strchr(v, sep);
    char head[32];
    if (!split || (size_t)(split - v) >= sizeof(head))
        return s_bad(flag, v, shape);
    memcpy(head, v, (size_t)(split - v));
    head[split - v] = '\0';
    if (s_size(flag, head, max, head_out) != 0 || s_double(flag, split + 1, 0, tail_out) != 0)
        return -1;
    return 0;
}

static int
s_parse_kill(s_args_t *a, const char *v)
{
    unsigned long long node;
    if (a->cfg.kill_count >= S_MAX_KILLS)
        return s_bad("--kill", v, "too many kills");
    sched_sim_kill_t *k = &a->kills[a->cfg.kill_count];
    if (s_parse_pair("--kill", v, '@', "expected NODE@SECONDS", 100000, &node, &k->at) != 0)
        return -1;
    k->member = (size_t)node;
    a->cfg.kill_count++;
    return 0;
}

static int
s_parse_tagged(s_args_t *a, const char *v)
{
    unsigned long long nodes;
    if (s_parse_pair("--tagged", v, ':', "expected NODES:FRACTION", 100000, &nodes,
                     &a->cfg.tagged_fraction) != 0)
        return -1;
    a->cfg.tagged_nodes = (size_t)nodes;
    return 0;
}

enum {
    OPT_NODES = 256,
    OPT_SLOTS,
    OPT_TESTS,
    OPT_DIST,
    OPT_MEAN,
    OPT_GIANTS,
    OPT_PREDICT,
    OPT_STRATEGY,
    OPT_NO_STEAL,
    OPT_KILL,
    OPT_SEED,
    OPT_DISPATCH,
    OPT_STEAL_LAT,
    OPT_P2P,
    OPT_HOP_LAT,
    OPT_PERIOD,
    OPT_BATCH,
    OPT_BATCH_MAX,
    OPT_STARTUP,
    OPT_BUDGET,
    OPT_FAILED,
    OPT_TAGGED,
    OPT_PER_FILE,
    OPT_JSON,
    OPT_HELP,
};

static const struct option s_options[] = {
    {"nodes", required_argument, NULL, OPT_NODES},
    {"slots", required_argument, NULL, OPT_SLOTS},
    {"tests", required_argument, NULL, OPT_TESTS},
    {"dist", required_argument, NULL, OPT_DIST},
    {"mean", required_argument, NULL, OPT_MEAN},
    {"giants", required_argument, NULL, OPT_GIANTS},
    {"predict", required_argument, NULL, OPT_PREDICT},
    {"strategy", required_argument, NULL, OPT_STRATEGY},
    {"no-steal", no_argument, NULL, OPT_NO_STEAL},
    {"kill", required_argument, NULL, OPT_KILL},
    {"seed", required_argument, NULL, OPT_SEED},
    {"dispatch-latency", required_argument, NULL, OPT_DISPATCH},
    {"steal-latency", required_argument, NULL, OPT_STEAL_LAT},
    {"p2p", no_argument, NULL, OPT_P2P},
    {"hop-latency", required_argument, NULL, OPT_HOP_LAT},
    {"progress-period", required_argument, NULL, OPT_PERIOD},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"batch-max", required_argument, NULL, OPT_BATCH_MAX},
    {"startup", required_argument, NULL, OPT_STARTUP},
    {"budget", required_argument, NULL, OPT_BUDGET},
    {"failed", required_argument, NULL, OPT_FAILED},
    {"tagged", required_argument, NULL, OPT_TAGGED},
    {"per-file", required_argument, NULL, OPT_PER_FILE},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* One flag into a; -1 after naming the problem. */
static int
s_parse_one(s_args_t *a, int opt, const char *v)
{
    sched_sim_config_t *c = &a->cfg;
    unsigned long long n;
    switch (opt) {
        case OPT_NODES:
            if (s_size("--nodes", v, 100000, &n) != 0)
                return -1;
            if (n == 0)
                return s_bad("--nodes", v, "must be at least 1");
            c->nodes = (size_t)n;
            return 0;
        case OPT_SLOTS:
            if (s_size("--slots", v, 1024, &n) != 0)
                return -1;
            if (n == 0)
                return s_bad("--slots", v, "must be 1..1024");
            c->slots = (unsigned)n;
            return 0;
        case OPT_TESTS:
            if (s_size("--tests", v, 50000000, &n) != 0)
                return -1;
            if (n == 0)
                return s_bad("--tests", v, "must be at least 1");
            c->tests = (size_t)n;
            return 0;
        case OPT_GIANTS:
        case OPT_BATCH_MAX:
        case OPT_PER_FILE:
            if (s_size(opt == OPT_GIANTS     ? "--giants"
                       : opt == OPT_PER_FILE ? "--per-file"
                                             : "--batch-max",
                       v, 1000000, &n) != 0)
                return -1;
            *(opt == OPT_GIANTS     ? &c->giants
              : opt == OPT_PER_FILE ? &c->tests_per_file
                                    : &c->batch_max) = (size_t)n;
            return 0;
        case OPT_SEED:
            if (s_size("--seed", v, UINT64_MAX, &n) != 0)
                return -1;
            c->seed = n;
            return 0;
        case OPT_MEAN:
            return s_double("--mean", v, 1e-9, &c->mean);
        case OPT_DISPATCH:
            return s_double("--dispatch-latency", v, 0, &c->dispatch_latency);
        case OPT_STEAL_LAT:
            return s_double("--steal-latency", v, 0, &c->steal_latency);
        case OPT_HOP_LAT:
            return s_double("--hop-latency", v, 0, &c->hop_latency);
        case OPT_PERIOD:
            return s_double("--progress-period", v, 1e-6, &c->progress_period);
        case OPT_P2P:
            c->p2p = true;
            return 0;
        case OPT_BATCH:
            return s_double("--batch", v, 0, &c->batch_target);
        case OPT_STARTUP:
            return s_double("--startup", v, 0, &c->startup);
        case OPT_BUDGET:
            return s_double("--budget", v, 0, &c->budget);
        case OPT_FAILED:
            if (s_double("--failed", v, 0, &c->failed_fraction) != 0 || c->failed_fraction > 1)
                return s_bad("--failed", v, "must be in [0, 1]");
            return 0;
        case OPT_DIST:
            return s_parse_dist(a, v);
        case OPT_PREDICT:
            return s_parse_predict(a, v);
        case OPT_KILL:
            return s_parse_kill(a, v);
        case OPT_TAGGED:
            return s_parse_tagged(a, v);
        case OPT_STRATEGY:
            if (sched_strategy_parse(v, &c->strategy) != 0)
                return s_bad("--strategy", v, "expected lpt, round-robin, file, tag or fail-first");
            return 0;
        case OPT_NO_STEAL:
            c->steal = false;
            return 0;
        case OPT_JSON:
            a->json = true;
            return 0;
        default:
            return -1;
    }
}

static void
s_print(const s_args_t *a, const sched_sim_result_t *r, size_t tests, double plan_ms, double run_ms)
{
    const sched_sim_config_t *c = &a->cfg;
    double idle_max = 0;
    for (size_t m = 0; m < r->idle_count; m++)
        idle_max = r->idle[m] > idle_max ? r->idle[m] : idle_max;
    if (a->json) {
        printf("{\"nodes\":%zu,\"slots\":%u,\"tests\":%zu,\"strategy\":\"%s\",\"steal\":%s,"
               "\"p2p\":%s,\"seed\":%llu,\"makespan\":%.6f,\"lower_bound\":%.6f,\"ratio\":%.6f,"
               "\"steals\":%zu,\"steal_failures\":%zu,\"asks\":%zu,\"refusals\":%zu,"
               "\"stolen_tests\":%zu,\"redealt\":%zu,"
               "\"done\":%zu,\"skipped\":%zu,\"unschedulable\":%zu,\"idle_mean\":%.6f,"
               "\"idle_max\":%.6f,\"longest\":%.6f,\"last_start\":%.6f,\"last_length\":%.6f,"
               "\"events\":%zu,\"plan_ms\":%.3f,\"run_ms\":%.3f}\n",
               c->nodes, c->slots, tests, sched_strategy_name(c->strategy),
               c->steal ? "true" : "false", c->p2p ? "true" : "false", (unsigned long long)c->seed,
               r->makespan, r->lower_bound, r->ratio, r->steals, r->steal_failures, r->asks,
               r->refusals, r->stolen_tests, r->redealt, r->done, r->skipped, r->unschedulable,
               r->idle_mean, idle_max, r->longest, r->last_start, r->last_length, r->events,
               plan_ms, run_ms);
        return;
    }
    printf("shoal sim: %zu tests on %zu nodes x %u slots, strategy %s%s, seed %llu\n", tests,
           c->nodes, c->slots, sched_strategy_name(c->strategy),
           !c->steal ? " (no steal)"
           : c->p2p  ? " (peer-to-peer steals)"
                     : "",
           (unsigned long long)c->seed);
    printf("  makespan     %.3f s\n  lower bound  %.3f s\n  ratio        %.4f\n", r->makespan,
           r->lower_bound, r->ratio);
    if (c->p2p)
        printf("  steals       %zu (%zu tests moved; %zu asks, %zu said no)\n", r->steals,
               r->stolen_tests, r->asks, r->refusals);
    else
        printf("  steals       %zu (%zu tests moved, %zu went stale)\n", r->steals, r->stolen_tests,
               r->steal_failures);
    printf("  re-dealt     %zu tests after %zu deaths\n", r->redealt, c->kill_count);
    printf("  done %zu, skipped %zu, unschedulable %zu\n", r->done, r->skipped, r->unschedulable);
    printf("  idle         %.3f s per slot on average, %.3f s at most\n", r->idle_mean, idle_max);
    printf("  last test    started at %.3f s and ran %.3f s (longest test %.3f s)\n", r->last_start,
           r->last_length, r->longest);
    printf("  plan         %.3f ms, run %.3f ms (%zu events)\n", plan_ms, run_ms, r->events);
}

/* Test ids and durations read from a JUnit file. */
typedef struct {
    char **ids;
    double *seconds;
    size_t count, cap;
    bool failed;
} s_cases_t;

static void
s_on_case(void *ctx, const char *id, const char *file, shoal_outcome_t outcome, double seconds)
{
    s_cases_t *cases = ctx;
    (void)file;
    (void)outcome;
    if (cases->failed)
        return;
    if (cases->count == cases->cap) {
        size_t cap = cases->cap ? cases->cap * 2 : 256;
        char **ids = realloc(cases->ids, cap * sizeof(char *));
        if (ids)
            cases->ids = ids;
        double *secs = ids ? realloc(cases->seconds, cap * sizeof(double)) : NULL;
        if (secs)
            cases->seconds = secs;
        if (!ids || !secs) {
            cases->failed = true;
            return;
        }
        cases->cap = cap;
    }
    cases->ids[cases->count] = strdup(id);
    cases->seconds[cases->count] = seconds;
    if (!cases->ids[cases->count]) {
        cases->failed = true;
        return;
    }
    cases->count++;
}

int
shoal_cmd_sim(int argc, char **argv)
{
    static s_args_t a; /* the kill table is large; one invocation per process */
    memset(&a, 0, sizeof(a));
    sched_sim_config_init(&a.cfg);
    a.cfg.kills = a.kills;
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":h", s_options, NULL)) != -1) {
        if (opt == OPT_HELP || opt == 'h') {
            s_usage(stdout);
            return SHOAL_EXIT_OK;
        }
        if (opt == '?' || opt == ':') {
            const char *flag = argv[optind - 1];
            fprintf(stderr, "shoal sim: %s '%s' (try --help)\n",
                    opt == ':' ? "missing value for" : "unknown option", flag);
            return SHOAL_EXIT_USAGE;
        }
        if (s_parse_one(&a, opt, optarg) != 0)
            return SHOAL_EXIT_USAGE;
    }
    if (optind < argc) {
        fprintf(stderr, "shoal sim: unexpected argument '%s' (try --help)\n", argv[optind]);
        return SHOAL_EXIT_USAGE;
    }
    for (size_t k = 0; k < a.cfg.kill_count; k++)
        if (a.kills[k].member >= a.cfg.nodes) {
            fprintf(stderr, "shoal sim: bad --kill: node %zu does not exist (--nodes %zu)\n",
                    a.kills[k].member, a.cfg.nodes);
            return SHOAL_EXIT_USAGE;
        }
    if (a.cfg.tagged_nodes > a.cfg.nodes || a.cfg.tagged_fraction > 1) {
        fprintf(stderr, "shoal sim: bad --tagged: at most --nodes nodes and a fraction <= 1\n");
        return SHOAL_EXIT_USAGE;
    }

    int rc = SHOAL_EXIT_FAILURE;
    s_cases_t cases = {0};
    size_t ncases = 0;
    double *durations = NULL;
    const char **ids = NULL;
    sched_sim_t *sim = NULL;
    sched_sim_result_t result = {0};
    if (a.junit) {
        char err[512];
        if (shoal_junit_read(a.junit, s_on_case, &cases, err, sizeof(err)) != 0 || cases.failed) {
            fprintf(stderr, "shoal sim: --dist junit: %s\n", cases.failed ? "out of memory" : err);
            goto cleanup;
        }
        if (cases.count == 0) {
            fprintf(stderr, "shoal sim: --dist junit: %s has no testcase\n", a.junit);
            goto cleanup;
        }
        ncases = cases.count;
        durations = cases.seconds;
        ids = (const char **)cases.ids;
        a.cfg.durations = durations;
        a.cfg.ids = ids;
        a.cfg.count = ncases;
    }
    const char *problem = NULL;
    sim = sched_sim_new(&a.cfg, &problem);
    if (!sim) {
        fprintf(stderr, "shoal sim: %s\n", problem ? problem : "cannot build the simulation");
        goto cleanup;
    }
    double t0 = s_now_ms();
    sched_sim_plan(sim);
    double t1 = s_now_ms();
    if (sched_sim_run(sim, &result) != 0) {
        fprintf(stderr, "shoal sim: the board lost track of a test (a scheduler bug)\n");
        goto cleanup;
    }
    double t2 = s_now_ms();
    s_print(&a, &result, a.junit ? ncases + a.cfg.giants : a.cfg.tests + a.cfg.giants, t1 - t0,
            t2 - t1);
    rc = SHOAL_EXIT_OK;
cleanup:
    sched_sim_result_clear(&result);
    sched_sim_destroy(&sim);
    for (size_t i = 0; i < cases.count; i++)
        free(cases.ids[i]);
    free(cases.ids);
    free(cases.seconds);
    return rc;
}
