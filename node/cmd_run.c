/* `shoal run`: take part in a test session — as its only participant, or with
 * every other runner that starts the same session (same --session, same
 * runner) anywhere on the mesh. Where a `shoal node` runs on the machine, it
 * hands the session to it and follows it as its client (client.h); with
 * --standalone, or options only a member of its own can honour, it is its
 * own member. */
#include "node/adapter.h"
#include "node/client.h"
#include "node/commands.h"
#include "node/config.h"
#include "node/history.h"
#include "node/junit.h"
#include "node/log.h"
#include "node/node.h"
#include "node/report.h"
#include "node/session.h"
#include "node/session_tag.h"
#include "node/artifacts.h"
#include "node/ship.h"
#include "node/shipment.h"

#include <czmq.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <netdb.h>
#include <unistd.h>

/* The session is over for everyone by then: a short leave suffices. */
#define S_LEAVE_MS 200

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int signum)
{
    (void)signum;
    s_stop = 1;
}

enum {
    S_OPT_SESSION = 2000,
    S_OPT_EXPECT,
    S_OPT_WAIT,
    S_OPT_STRATEGY,
    S_OPT_TIME_LIMIT,
    S_OPT_TEST_TIMEOUT,
    S_OPT_RETRIES,
    S_OPT_JUNIT,
    S_OPT_JSON,
    S_OPT_DRY_RUN,
    S_OPT_LIST,
    S_OPT_PROJECT,
    S_OPT_HISTORY_DB,
    S_OPT_NO_HISTORY,
    S_OPT_BATCH_SECONDS,
    S_OPT_PROCESS_PER_BATCH,
    S_OPT_ADAPTER,
    S_OPT_STANDALONE,
    S_OPT_SHIP,
    S_OPT_IDENTITY,
    S_OPT_INCLUDE,
    S_OPT_NO_NETWORK,
    S_OPT_ARTIFACTS,
    S_OPT_ARTIFACTS_DIR,
};

#define S_INCLUDES_MAX 64

static const struct option s_run_options[] = {
    {"session", required_argument, NULL, S_OPT_SESSION},
    {"expect", required_argument, NULL, S_OPT_EXPECT},
    {"wait", required_argument, NULL, S_OPT_WAIT},
    {"strategy", required_argument, NULL, S_OPT_STRATEGY},
    {"time-limit", required_argument, NULL, S_OPT_TIME_LIMIT},
    {"test-timeout", required_argument, NULL, S_OPT_TEST_TIMEOUT},
    {"retries", required_argument, NULL, S_OPT_RETRIES},
    {"junit", required_argument, NULL, S_OPT_JUNIT},
    {"json", required_argument, NULL, S_OPT_JSON},
    {"dry-run", no_argument, NULL, S_OPT_DRY_RUN},
    {"list", required_argument, NULL, S_OPT_LIST},
    {"project", required_argument, NULL, S_OPT_PROJECT},
    {"history-db", required_argument, NULL, S_OPT_HISTORY_DB},
    {"no-history", no_argument, NULL, S_OPT_NO_HISTORY},
    {"batch-seconds", required_argument, NULL, S_OPT_BATCH_SECONDS},
    {"process-per-batch", no_argument, NULL, S_OPT_PROCESS_PER_BATCH},
    {"adapter", required_argument, NULL, S_OPT_ADAPTER},
    {"standalone", no_argument, NULL, S_OPT_STANDALONE},
    {"ship", no_argument, NULL, S_OPT_SHIP},
    {"identity", required_argument, NULL, S_OPT_IDENTITY},
    {"include", required_argument, NULL, S_OPT_INCLUDE},
    {"no-network", no_argument, NULL, S_OPT_NO_NETWORK},
    {"artifacts", required_argument, NULL, S_OPT_ARTIFACTS},
    {"artifacts-dir", required_argument, NULL, S_OPT_ARTIFACTS_DIR},
};

static void
s_usage(FILE *out)
{
    fprintf(
        out,
        "usage: shoal run [OPTIONS] (--list FILE | -- COMMAND...)\n\n"
        "Runs a test session. Every runner started with the same --session and the same\n"
        "command joins it: one leads (collects, orders, deals), all run tests, all print\n"
        "the same summary and exit with the same status.\n\n"
        "session options:\n"
        "  --session ID           session id shared by all participants (default: a new one)\n"
        "  --expect N             start as soon as N participants are present\n"
        "  --wait SECONDS         ...or after this long (default 0.5; 3 with --join;\n"
        "                         300 with --expect)\n"
        "  --strategy NAME        lpt (default), round-robin, file, tag, fail-first\n"
        "  --time-limit SECONDS   start no test after this; the rest are reported skipped\n"
        "  --test-timeout SECONDS kill a test (its whole process group) after this\n"
        "  --retries N            rerun a failed test up to N times, on another member;\n"
        "                         a pass on retry is reported flaky\n"
        "  --junit FILE           write a JUnit XML report (identical on every participant)\n"
        "  --json FILE            write a JSON report\n"
        "  --dry-run              print the ordered plan per member, run nothing\n"
        "  --list FILE            plain list runner: NAME<TAB>ARGV... [<TAB>REQUIRES] per line\n"
        "  --adapter NAME         the command's framework, when its first words do not say\n"
        "                         (pytest, go, cargo, ctest, jest, vitest, mocha)\n"
        "  --project NAME         history key (default $SHOAL_PROJECT or the directory name)\n"
        "  --history-db PATH      history database (default $XDG_DATA_HOME/shoal/history.db)\n"
        "  --no-history           neither read nor record history\n"
        "  --batch-seconds S      target predicted seconds per runner invocation (default 2)\n"
        "  --process-per-batch    pytest, Mocha: a fresh framework process per batch, not one\n"
        "                         worker per slot that loads once and runs batch after batch\n"
        "  --ship                 also offer the session to the serving daemons of the mesh\n"
        "                         (`shoal node --serve`): they fetch this workspace (the\n"
        "                         files git would track) and run tests in it; implies\n"
        "                         --standalone\n"
        "  --identity FILE        who signs the offer (default ~/.config/shoal/identity,\n"
        "                         made by `shoal keygen --identity`)\n"
        "  --include GLOB         ship ignored files matching GLOB too (repeatable)\n"
        "  --no-network           daemons run the shipped tests without network access\n"
        "  --artifacts GLOB       bring back what the daemons' tests made or changed that\n"
        "                         matches GLOB (a path below the workspace's top, '*'\n"
        "                         crossing '/'; repeatable)\n"
        "  --artifacts-dir DIR    ...into DIR/DAEMON (default ./shoal-artifacts; emptied of\n"
        "                         an earlier run's files at the start; never shipped)\n"
        "  --standalone           take part as a mesh member of its own, even where a\n"
        "                         `shoal node` runs on this machine (without it, the node\n"
        "                         at --control, or the default one, runs the session and\n"
        "                         this process follows it; --slots then caps its share)\n"
        "\nmesh options (as for shoal node; --bind defaults to 127.0.0.1:0):\n%s"
        "\nexit status: 0 all passed, 1 test failures, 2 usage error, 3 the session could "
        "not complete\n(or this participant was not admitted, or the test runner could not "
        "start or collect),\n4 a --junit or --json report, or --artifacts, could not be written, 5 "
        "no tests were collected\n",
        shoal_config_usage);
}

static int
s_seconds(const char *flag, const char *arg, double *out)
{
    char *end;
    double value = strtod(arg, &end);
    if (*end || end == arg || !(value >= 0) || value > 1e7) {
        fprintf(stderr, "shoal run: %s: '%s' is not a number of seconds\n", flag, arg);
        return -1;
    }
    *out = value;
    return 0;
}

/* One run option; 0, or -1 after saying why. */
static int
s_run_option(shoal_run_config_t *run, char *list, size_t list_size, int opt, const char *arg)
{
    long n;
    switch (opt) {
        case S_OPT_SESSION:
            if (!*arg || strlen(arg) > SHOAL_SESSION_ID_MAX || strpbrk(arg, " ,\t\n=")) {
                fprintf(stderr,
                        "shoal run: --session: '%s' must be 1-%d characters without "
                        "spaces, commas or '='\n",
                        arg, SHOAL_SESSION_ID_MAX);
                return -1;
            }
            snprintf(run->session, sizeof(run->session), "%s", arg);
            return 0;
        case S_OPT_EXPECT:
            if (shoal_config_number("--expect", arg, 0, 1024, &n) != 0)
                return -1;
            run->expect = (int)n;
            return 0;
        case S_OPT_WAIT:
            return s_seconds("--wait", arg, &run->wait);
        case S_OPT_STRATEGY:
            if (sched_strategy_parse(arg, &run->strategy) != 0) {
                fprintf(stderr,
                        "shoal run: --strategy: '%s' is not lpt, round-robin, file, tag "
                        "or fail-first\n",
                        arg);
                return -1;
            }
            return 0;
        case S_OPT_TIME_LIMIT:
            return s_seconds("--time-limit", arg, &run->time_limit);
        case S_OPT_TEST_TIMEOUT:
            return s_seconds("--test-timeout", arg, &run->test_timeout);
        case S_OPT_RETRIES:
            if (shoal_config_number("--retries", arg, 0, SHOAL_RETRIES_MAX, &n) != 0)
                return -1;
            run->retries = (unsigned)n;
            return 0;
        case S_OPT_JUNIT:
            snprintf(run->junit, sizeof(run->junit), "%s", arg);
            return 0;
        case S_OPT_JSON:
            snprintf(run->json, sizeof(run->json), "%s", arg);
            return 0;
        case S_OPT_DRY_RUN:
            run->dry_run = true;
            return 0;
        case S_OPT_LIST:
            snprintf(list, list_size, "%s", arg);
            return 0;
        case S_OPT_PROJECT:
            snprintf(run->project, sizeof(run->project), "%s", arg);
            return 0;
        case S_OPT_HISTORY_DB:
            snprintf(run->history_db, sizeof(run->history_db), "%s", arg);
            return 0;
        case S_OPT_PROCESS_PER_BATCH:
            run->process_per_batch = true;
            return 0;
        case S_OPT_NO_HISTORY:
            run->no_history = true;
            return 0;
        case S_OPT_BATCH_SECONDS:
            return s_seconds("--batch-seconds", arg, &run->batch_seconds);
        default:
            return -1;
    }
}

/* A report that cannot be written is found before the suite runs, not after:
 * its directories are made now, and a path that is a directory or lies in
 * one we cannot write is a usage error. 0, or -1 after saying why. */
static int
s_reports_ready(const shoal_run_config_t *run)
{
    const char *flags[] = {"--junit", "--json"}, *paths[] = {run->junit, run->json};
    for (size_t i = 0; i < 2; i++) {
        char err[PATH_MAX + 256];
        if (paths[i][0] && shoal_report_path_ready(paths[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "shoal run: %s: %s\n", flags[i], err);
            return -1;
        }
    }
    /* Their directories exist now: the same file twice is one report lost. */
    char junit[PATH_MAX], json[PATH_MAX];
    if (run->junit[0] && run->json[0] && shoal_report_target(run->junit, junit) &&
        shoal_report_target(run->json, json) && strcmp(junit, json) == 0) {
        fprintf(stderr,
                "shoal run: --junit and --json name the same file (%s): one would "
                "overwrite the other\n",
                junit);
        return -1;
    }
    return 0;
}

/* This run's own control socket, run-PID.ctl beside the ipc:// endpoint
 * `beside`, or beside the default one (NULL): where `shoal status` finds it. */
static void
s_run_control(char *out, size_t size, const char *beside)
{
    char dir[PATH_MAX + 16];
    if (beside)
        snprintf(dir, sizeof(dir), "%s", beside);
    else
        shoal_config_default_control(dir, sizeof(dir));
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    snprintf(out, size, "%.*s/run-%d.ctl", (int)(size > 32 ? size - 32 : 0), dir, (int)getpid());
}

/* Whether a tcp://IP:PORT endpoint is bound by someone already (a node's
 * control socket): a bind there says so. False for anything else. */
static bool
s_tcp_taken(const char *endpoint)
{
    if (strncmp(endpoint, "tcp://", 6) != 0)
        return false;
    char host[256];
    size_t len = strlen(endpoint + 6);
    if (len >= sizeof(host))
        return false;
    memcpy(host, endpoint + 6, len + 1);
    char *colon = strrchr(host, ':');
    if (!colon)
        return false;
    *colon = '\0';
    const char *port = colon + 1;
    char *name = host;
    if (name[0] == '[' && name[strlen(name) - 1] == ']') {
        name[strlen(name) - 1] = '\0';
        name++;
    }
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE,
                             .ai_socktype = SOCK_STREAM},
                    *found = NULL;
    if (getaddrinfo(strcmp(name, "*") == 0 ? NULL : name, port, &hints, &found) != 0)
        return false;
    bool taken = false;
    int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0) {
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)); /* as ZeroMQ binds */
        taken = bind(fd, found->ai_addr, found->ai_addrlen) != 0 && errno == EADDRINUSE;
        close(fd);
    }
    freeaddrinfo(found);
    return taken;
}

/* Mesh options that only a member of its own honours: with one of them,
 * `shoal run` does not hand its session to the local node. */
static bool
s_own_member_option(const char *name)
{
    return strcmp(name, "control") != 0 && strcmp(name, "verbose") != 0 &&
           strcmp(name, "slots") != 0;
}

extern char **environ;

/* Hands the session to the node at endpoint if one listens there (see
 * client.h): everything it needs to run it as this shell would. The exit
 * status, or -1 when the session stays here. */
static int
s_hand_off(const char *endpoint, const shoal_run_config_t *run, const char *adapter_name,
           const char *list, int argc, char **argv, unsigned slots, volatile sig_atomic_t *stop)
{
    char cwd[PATH_MAX];
    if (!shoal_client_node_listens(endpoint) || !getcwd(cwd, sizeof(cwd)))
        return -1;
    shoal_handoff_t handoff = {
        .run = *run, .argv = argv, .argc = argc, .cwd = cwd, .env = environ, .slots = slots};
    handoff.pid = getpid();
    snprintf(handoff.adapter, sizeof(handoff.adapter), "%s", adapter_name ? adapter_name : "");
    if (list[0] && !realpath(list, handoff.list))
        return -1;
    /* Paths are this shell's: the node gets them absolute. */
    char *db = handoff.run.history_db, err[256];
    if (!run->no_history && !db[0] &&
        shoal_history_default_path(db, sizeof(handoff.run.history_db), err, sizeof(err)) != 0)
        db[0] = '\0';
    else if (db[0] && db[0] != '/') {
        size_t dir = strlen(cwd), name = strlen(run->history_db);
        if (dir + 1 + name >= sizeof(handoff.run.history_db))
            return -1; /* too long to say absolute: the session stays here */
        memcpy(db, cwd, dir);
        db[dir] = '/';
        memcpy(db + dir + 1, run->history_db, name + 1);
    }
    return shoal_client_run(endpoint, &handoff, run, stop);
}

/* ---------------------------------------------------------------- --ship */

typedef struct {
    bool on;
    shoal_shipment_options_t options;
    shoal_shipment_t shipment;
    shoal_ship_t *ship;
    char *artifacts[SHOAL_SHIP_ARTIFACT_GLOBS + 1]; /* --artifacts, NULL-terminated */
    size_t artifact_count;
    const char *artifacts_dir; /* NULL: not given */
    shoal_session_t *session;  /* the session offered (borrowed) */
} s_ship_t;

/* Whether a daemon takes part in the session (a shoal_ship_coming test). */
static bool
s_joined(void *ctx, const char *name)
{
    s_ship_t *ship = ctx;
    return ship->session && shoal_session_has_participant(ship->session, name);
}

/* The daemons on their way (a shoal_session_coming_fn). */
static size_t
s_coming(void *ctx, char (*tags)[SHOAL_OWN_TAGS_MAX], size_t max, bool *settled)
{
    s_ship_t *ship = ctx;
    if (!ship->ship)
        return 0;
    size_t coming = shoal_ship_coming(ship->ship, s_joined, ship, tags, max), answers = 0;
    shoal_ship_answers(ship->ship, &answers);
    *settled = coming == 0 && answers > 0;
    return coming;
}

/* A glob of --include or --artifacts that can match a path below the
 * top; -1 (said why) for one that never can. */
static int
s_glob_usable(const char *option, const char *glob, size_t count, size_t max)
{
    const char *why = shoal_tree_glob_problem(glob);
    if (why)
        fprintf(stderr, "shoal run: %s '%s' %s\n", option, glob, why);
    else if (count == max)
        fprintf(stderr, "shoal run: %s: at most %zu globs\n", option, max);
    return why || count == max ? -1 : 0;
}

/* One --ship option; 0, or 1 when opt is not one, or -1 (said why). */
static int
s_ship_option(s_ship_t *ship, const char **includes, int opt, char *arg)
{
    switch (opt) {
        case S_OPT_ARTIFACTS:
            if (s_glob_usable("--artifacts", arg, ship->artifact_count,
                              SHOAL_SHIP_ARTIFACT_GLOBS) != 0)
                return -1;
            ship->artifacts[ship->artifact_count++] = arg;
            ship->options.artifacts = ship->artifacts;
            return 0;
        case S_OPT_ARTIFACTS_DIR:
            ship->artifacts_dir = arg;
            return 0;
        case S_OPT_SHIP:
            ship->on = true;
            return 0;
        case S_OPT_IDENTITY:
            snprintf(ship->options.identity_path, sizeof(ship->options.identity_path), "%s", arg);
            return 0;
        case S_OPT_INCLUDE:
            if (s_glob_usable("--include", arg, ship->options.include_count, S_INCLUDES_MAX) != 0)
                return -1;
            includes[ship->options.include_count++] = arg;
            return 0;
        case S_OPT_NO_NETWORK:
            ship->options.network = false;
            return 0;
        default:
            return 1;
    }
}

/* Serves the workspace's blobs and offers the session to the daemons. */
static int
s_ship_start(s_ship_t *ship, shoal_node_t *node)
{
    shoal_shipment_t *s = &ship->shipment;
    ship->ship = shoal_ship_new(node);
    if (!ship->ship) {
        fprintf(stderr, "shoal run: --ship: out of memory\n");
        return -1;
    }
    shoal_ship_set_tree(ship->ship, s);
    shoal_ship_offer(ship->ship, &s->offer);
    return 0;
}

/* Takes --artifacts-dir for this run's files (made, and emptied of an
 * earlier run's), once every usage error is ruled out: said at start, not
 * after the run. */
static int
s_artifacts_dir_usable(s_ship_t *ship)
{
    if (!ship->artifacts_dir)
        ship->artifacts_dir = SHOAL_ARTIFACTS_DIR;
    char err[1024];
    if (shoal_artifacts_claim_dir(ship->artifacts_dir, err, sizeof(err)) != 0) {
        fprintf(stderr, "shoal run: %s\n", err);
        return -1;
    }
    return 0;
}

/* Brings back what the daemons that took part in the session left
 * (--artifacts). Returns the exit status: 4 (SHOAL_RUN_NO_REPORT) over 0
 * and 1 when some did not come from a daemon that held final results, or
 * from any daemon when a test was retried (the attempts that failed there
 * are not in the summary). */
static int
s_ship_collect(s_ship_t *ship, shoal_node_t *node, const shoal_session_t *session,
               const char *session_id, int status, volatile sig_atomic_t *stop)
{
    if (!ship->ship || !ship->artifact_count || *stop ||
        (status != SHOAL_RUN_PASSED && status != SHOAL_RUN_FAILED && status != SHOAL_RUN_NO_REPORT))
        return status;
    shoal_session_outcome_t outcome;
    shoal_session_outcome(session, &outcome);
    bool retried = false;
    for (size_t k = 0; k < outcome.count; k++)
        retried |= outcome.items[k].attempt > 1;
    size_t count;
    const shoal_ship_answer_t *answers = shoal_ship_answers(ship->ship, &count);
    char err[1024];
    shoal_artifacts_t *artifacts =
        shoal_artifacts_new(node, ship->ship, session_id, ship->artifacts_dir, err, sizeof(err));
    if (!artifacts) {
        fprintf(stderr, "shoal: cannot bring back --artifacts: %s\n", err);
        return SHOAL_RUN_NO_REPORT;
    }
    bool failed = false;
    for (size_t i = 0; i < count; i++) {
        if (!answers[i].accepted || !shoal_session_has_participant(session, answers[i].name))
            continue;
        size_t tests = 0;
        for (size_t k = 0; k < outcome.count; k++)
            tests += outcome.items[k].node && strcmp(outcome.items[k].node, answers[i].name) == 0;
        failed |= shoal_artifacts_want(artifacts, answers[i].name, tests, retried) != 0;
    }
    failed |= shoal_artifacts_collect(artifacts, stop, stderr) > 0;
    shoal_artifacts_destroy(&artifacts);
    return failed ? SHOAL_RUN_NO_REPORT : status;
}

/* Stops offering (cancelling on every daemon when the run was stopped, else
 * on those that never joined) and says which daemons took part and why
 * others did not. */
static void
s_ship_end(s_ship_t *ship, bool stopped)
{
    if (!ship->ship)
        return;
    shoal_ship_offer_stop(ship->ship, stopped ? NULL : s_joined, ship, ship->shipment.cancel);
    size_t count;
    const shoal_ship_answer_t *answers = shoal_ship_answers(ship->ship, &count);
    const shoal_ship_stats_t *stats = shoal_ship_stats(ship->ship);
    size_t took = 0;
    for (size_t i = 0; i < count; i++)
        took += answers[i].accepted && s_joined(ship, answers[i].name) &&
                !shoal_session_refused(ship->session, answers[i].name);
    fprintf(stderr, "shoal: offered to %zu serving daemon%s, %zu took part (%llu bytes served)%s\n",
            count, count == 1 ? "" : "s", took, (unsigned long long)stats->bytes_served,
            count ? ":" : ": none answered");
    for (size_t i = 0; i < count; i++) {
        const char *name = answers[i].name;
        bool joined = s_joined(ship, name);
        fprintf(stderr, "  %s %s: %s\n", name,
                !answers[i].accepted ? "declined"
                : !joined            ? "did not join before the session ended"
                : shoal_session_refused(ship->session, name)
                    ? "joined but was not admitted: its copy of the workspace collected other "
                      "tests (a file the tests need that git does not track? ship it with "
                      "--include)"
                    : "took part",
                answers[i].text);
    }
}

static void
s_defaults(shoal_run_config_t *run, bool seeds_given, bool wait_given)
{
    if (!run->session[0]) {
        char id[9];
        snprintf(id, sizeof(id), "%08x", (unsigned)(randombytes_random()));
        snprintf(run->session, sizeof(run->session), "run-%s", id);
        fprintf(stderr, "shoal: session %s\n", run->session);
    }
    if (!wait_given)
        run->wait = run->expect > 0 ? 300 : (seeds_given ? 3 : 0.5);
    if (!run->project[0]) {
        const char *env = getenv("SHOAL_PROJECT");
        char cwd[PATH_MAX] = "";
        if (!getcwd(cwd, sizeof(cwd)))
            snprintf(cwd, sizeof(cwd), "default");
        const char *base = strrchr(cwd, '/');
        snprintf(run->project, sizeof(run->project), "%s",
                 env && *env ? env : (base && base[1] ? base + 1 : "default"));
    }
    if (run->batch_seconds <= 0)
        run->batch_seconds = 2.0;
}

int
shoal_cmd_run(int argc, char **argv)
{
    shoal_config_t mesh;
    shoal_config_init(&mesh);
    snprintf(mesh.bind, sizeof(mesh.bind), "127.0.0.1:0");
    shoal_run_config_t run = {.strategy = SCHED_STRATEGY_LPT};
    char list[PATH_MAX] = "";
    const char *adapter_name = NULL;
    bool wait_given = false, standalone = false, own_member = false, slots_given = false;
    const char *includes[S_INCLUDES_MAX];
    s_ship_t ship = {.options = {.includes = includes, .network = true}};

    struct option options[64];
    size_t n = 0;
    for (; shoal_config_options[n].name; n++)
        options[n] = shoal_config_options[n];
    for (size_t i = 0; i < sizeof(s_run_options) / sizeof(s_run_options[0]); i++)
        options[n++] = s_run_options[i];
    options[n++] = (struct option){"help", no_argument, NULL, 'h'};
    options[n] = (struct option){NULL, 0, NULL, 0};

    int opt, index = -1;
    optind = 1;
    /* "+": stop at the first non-option, so the command after -- keeps its flags */
    while ((opt = getopt_long(argc, argv, "+" SHOAL_CONFIG_SHORTOPTS "h", options, &index)) != -1) {
        if (opt == 'h') {
            s_usage(stdout);
            return SHOAL_EXIT_OK;
        }
        if (opt == '?') {
            s_usage(stderr);
            return SHOAL_EXIT_USAGE;
        }
        wait_given |= opt == S_OPT_WAIT;
        if (opt == S_OPT_ADAPTER) {
            adapter_name = optarg;
            continue;
        }
        standalone |= opt == S_OPT_STANDALONE || opt == S_OPT_SHIP;
        if (opt == S_OPT_STANDALONE)
            continue;
        int shipped = s_ship_option(&ship, includes, opt, optarg);
        if (shipped < 0)
            return SHOAL_EXIT_USAGE;
        if (shipped == 0)
            continue;
        int rc = shoal_config_option(&mesh, opt, optarg);
        if (rc == 0 && opt != 'v' && index >= 0) {
            own_member |= s_own_member_option(options[index].name);
            slots_given |= strcmp(options[index].name, "slots") == 0;
        }
        if (rc == 1)
            rc = s_run_option(&run, list, sizeof(list), opt, optarg);
        if (rc != 0)
            return SHOAL_EXIT_USAGE;
        index = -1;
    }
    if (!ship.on && (ship.options.identity_path[0] || ship.options.include_count ||
                     !ship.options.network || ship.artifact_count || ship.artifacts_dir)) {
        fprintf(stderr, "shoal run: --identity, --include, --no-network, --artifacts and "
                        "--artifacts-dir go with --ship\n");
        return SHOAL_EXIT_USAGE;
    }
    if (ship.artifacts_dir && !ship.artifact_count) {
        fprintf(stderr,
                "shoal run: --artifacts-dir without --artifacts: nothing would come back\n");
        return SHOAL_EXIT_USAGE;
    }
    if (ship.on && run.dry_run) {
        fprintf(stderr, "shoal run: --dry-run plans without running: there is nothing to ship\n");
        return SHOAL_EXIT_USAGE;
    }
    int cmd_argc = argc - optind;
    char **cmd_argv = argv + optind;
    if (!list[0] && cmd_argc == 0) {
        fprintf(stderr, "shoal run: give the tests: --list FILE, or -- COMMAND (e.g. -- pytest "
                        "tests/)\n");
        return SHOAL_EXIT_USAGE;
    }
    if (list[0] && cmd_argc > 0) {
        fprintf(stderr,
                "shoal run: give the tests one way: --list FILE or -- COMMAND, not "
                "both ('%s' would not run)\n",
                cmd_argv[0]);
        return SHOAL_EXIT_USAGE;
    }
    if (s_reports_ready(&run) != 0)
        return SHOAL_EXIT_USAGE;
    /* The local node's control socket, where a hand-off goes. */
    char node_control[sizeof(mesh.control)];
    if (mesh.control[0])
        snprintf(node_control, sizeof(node_control), "%s", mesh.control);
    else
        shoal_config_default_control(node_control, sizeof(node_control));
    bool seeds_given = mesh.join_count > 0;
    if (mesh.join_count == 0 && shoal_config_is_loopback(mesh.bind)) {
        /* join a local daemon's mesh if one runs; harmless if none does */
        snprintf(mesh.joins[mesh.join_count++], GOSSIP_ADDR_MAX + 1, "127.0.0.1:%d",
                 SHOAL_DEFAULT_PORT);
    }
    if (!mesh.control[0])
        s_run_control(mesh.control, sizeof(mesh.control), NULL);
    char err[1024];
    shoal_adapter_t *adapter = shoal_adapter_new_named(adapter_name, cmd_argc, cmd_argv,
                                                       list[0] ? list : NULL, err, sizeof(err));
    if (!adapter) {
        fprintf(stderr, "shoal run: %s\n", err);
        return SHOAL_EXIT_USAGE;
    }
    s_defaults(&run, seeds_given, wait_given);
    shoal_junit_suite_name(list[0] ? list : NULL, shoal_adapter_name(adapter), run.junit_suite,
                           sizeof(run.junit_suite));
    run.slots = mesh.meta.slots;
    if (mesh.meta.tag_count + 1 > GOSSIP_TAGS_MAX) {
        fprintf(stderr, "shoal run: --tag: at most %d tags with a session\n", GOSSIP_TAGS_MAX - 1);
        shoal_adapter_destroy(&adapter);
        return SHOAL_EXIT_USAGE;
    }
    shoal_session_tag(run.session, shoal_adapter_digest(adapter), run.slots,
                      mesh.meta.tags[mesh.meta.tag_count++], GOSSIP_TAG_MAX + 1);
    if (shoal_config_finish(&mesh) != 0) {
        shoal_config_release(&mesh);
        shoal_adapter_destroy(&adapter);
        return SHOAL_EXIT_USAGE;
    }
    if (ship.artifact_count && s_artifacts_dir_usable(&ship) != 0) {
        shoal_config_release(&mesh);
        shoal_adapter_destroy(&adapter);
        return SHOAL_EXIT_USAGE;
    }
    zsys_handler_set(NULL);
    struct sigaction action = {.sa_handler = s_on_signal};
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
    shoal_log_set_verbose(mesh.verbose);
    if (!standalone && !own_member && !run.dry_run) {
        int status = s_hand_off(node_control, &run, adapter_name, list, cmd_argc, cmd_argv,
                                slots_given ? mesh.meta.slots : 0, &s_stop);
        if (status >= 0) {
            shoal_config_release(&mesh);
            shoal_adapter_destroy(&adapter);
            return status;
        }
    }
    if (shoal_client_node_listens(mesh.control)) {
        /* A node that did not take the session answers there: binding an
         * ipc:// path takes it over, and the node would be deaf for good. */
        char taken[sizeof(mesh.control)];
        snprintf(taken, sizeof(taken), "%s", mesh.control);
        s_run_control(mesh.control, sizeof(mesh.control), taken);
        fprintf(stderr, "shoal run: a node answers at %s: this run answers at %s\n", taken,
                mesh.control);
    }
    if (strcmp(node_control, mesh.control) == 0 && s_tcp_taken(mesh.control)) {
        /* A node's TCP control, most likely: it takes no hand-off there,
         * and this run, a member of its own, answers at a socket of its own. */
        char taken[sizeof(mesh.control)];
        snprintf(taken, sizeof(taken), "%s", mesh.control);
        s_run_control(mesh.control, sizeof(mesh.control), NULL);
        fprintf(stderr,
                "shoal run: a node takes hand-offs on its ipc:// control socket alone; %s is "
                "taken, so this run is a member of its own and answers at %s\n",
                taken, mesh.control);
    }
    shoal_node_t *node = shoal_node_new(&mesh);
    shoal_config_release(&mesh);
    if (!node) {
        shoal_adapter_destroy(&adapter);
        return SHOAL_RUN_INCOMPLETE;
    }
    /* The offer names this member as the mesh knows it (a default name is
     * made when the node binds). */
    if (ship.on && shoal_shipment_prepare(&ship.shipment, &run, adapter, adapter_name, list,
                                          cmd_argc, cmd_argv, shoal_node_name(node), &ship.options,
                                          err, sizeof(err)) != 0) {
        fprintf(stderr, "shoal run: %s\n", err);
        shoal_adapter_destroy(&adapter);
        shoal_node_destroy(&node);
        return SHOAL_EXIT_USAGE;
    }
    if (ship.on && s_ship_start(&ship, node) != 0)
        s_stop = 1;
    shoal_session_t *session = s_stop ? NULL : shoal_session_new(&run, node, &adapter);
    ship.session = session;
    if (session && ship.ship)
        shoal_session_set_coming(session, s_coming, &ship);
    int status = SHOAL_RUN_INCOMPLETE;
    if (session)
        status = shoal_session_run(session, &s_stop);
    s_ship_end(&ship, s_stop != 0);
    if (session)
        status = s_ship_collect(&ship, node, session, run.session, status, &s_stop);
    shoal_session_destroy(&session);
    shoal_adapter_destroy(&adapter);
    shoal_node_leave(node, S_LEAVE_MS);
    shoal_ship_destroy(&ship.ship);
    shoal_shipment_clear(&ship.shipment);
    shoal_node_destroy(&node);
    return status;
}
