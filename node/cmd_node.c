/* `shoal node`: run a mesh member until SIGINT or SIGTERM, then leave; it
 * takes part in the sessions the `shoal run`s of its machine hand it
 * (serve.h) and, with --serve, in sessions shipped from other machines by
 * the identities of its --accept-from list (intake.h). */
#include "node/commands.h"
#include "node/config.h"
#include "node/log.h"
#include "node/node.h"
#include "node/files.h"
#include "node/identity.h"
#include "node/intake.h"
#include "node/sandbox.h"
#include "node/serve.h"
#include "node/ship.h"
#include "node/store.h"

#include <czmq.h>
#include <signal.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static volatile sig_atomic_t s_stop;

static void
s_on_signal(int signum)
{
    (void)signum;
    s_stop = 1;
}

static void
s_usage(FILE *out)
{
    fprintf(out,
            "usage: shoal node [OPTIONS]\n\n"
            "Runs a mesh member until SIGINT or SIGTERM, then leaves gracefully. It takes\n"
            "part in the sessions that `shoal run` on this machine hands it, each with a\n"
            "share of its --slots.\n\n"
            "options:\n%s"
            "serving shipped sessions (`shoal run --ship` on other machines):\n"
            "  --serve                run sessions shipped by the identities of --accept-from,\n"
            "                         in their workspaces fetched into a local store, every\n"
            "                         process inside bubblewrap (the system read-only, the\n"
            "                         session's directory writable, a private /tmp)\n"
            "  --accept-from FILE     public keys allowed to ship (`shoal keygen --identity`\n"
            "                         prints one per developer); no one else is served\n"
            "  --unsandboxed          serve where bubblewrap cannot make a sandbox (no user\n"
            "                         namespaces): shipped tests run as this user, unconfined\n"
            "  --store DIR            the blob store (default $XDG_CACHE_HOME/shoal/store)\n"
            "  --store-cap MB         evict least recently used blobs beyond this (default 10240)\n"
            "  --zygotes N            keep up to N warm interpreters (one per developer,\n"
            "                         toolchain and dependencies) that pytest workers of\n"
            "                         later sessions fork from (default 0: every worker\n"
            "                         cold; see the README for what a warm one shares)\n"
            "  --zygote-idle SECONDS  a zygote without workers exits after this (default 600)\n"
            "  --zygote-recycle N     a zygote retires after forking N workers (default 200)\n"
            "  -h, --help             this text\n",
            shoal_config_usage);
}

/* Signals stop the loop instead of killing the process, so the node can leave;
 * no SA_RESTART, so zmq_poll wakes up at once. */
static void
s_install_signals(void)
{
    zsys_handler_set(NULL);
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = s_on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);
    signal(SIGPIPE, SIG_IGN);
}

enum {
    S_OPT_SERVE = 3000,
    S_OPT_ACCEPT_FROM,
    S_OPT_UNSANDBOXED,
    S_OPT_STORE,
    S_OPT_STORE_CAP,
    S_OPT_ZYGOTES,
    S_OPT_ZYGOTE_IDLE,
    S_OPT_ZYGOTE_RECYCLE,
};

typedef struct {
    bool on, unsandboxed;
    char accept_from[PATH_MAX];
    char store_dir[PATH_MAX];
    long cap_mb;
    long zygotes, zygote_idle, zygote_recycle;
    bool zygote_given; /* a --zygote* flag: it goes with --serve */
    char workdir[PATH_MAX];
    char key_file[PATH_MAX]; /* hidden from shipped tests */
    shoal_store_t *store;
    shoal_ship_t *ship;
    shoal_intake_t *intake;
} s_serving_t;

/* One serving option; 0, 1 when opt is not one, -1 after saying why. */
static int
s_serving_option(s_serving_t *s, int opt, const char *arg)
{
    switch (opt) {
        case S_OPT_SERVE:
            s->on = true;
            return 0;
        case S_OPT_ACCEPT_FROM:
            snprintf(s->accept_from, sizeof(s->accept_from), "%s", arg);
            return 0;
        case S_OPT_UNSANDBOXED:
            s->unsandboxed = true;
            return 0;
        case S_OPT_STORE:
            snprintf(s->store_dir, sizeof(s->store_dir), "%s", arg);
            return 0;
        case S_OPT_STORE_CAP:
            return shoal_config_number("--store-cap", arg, 1, 1L << 30, &s->cap_mb);
        case S_OPT_ZYGOTES:
            s->zygote_given = true;
            return shoal_config_number("--zygotes", arg, 0, 64, &s->zygotes);
        case S_OPT_ZYGOTE_IDLE:
            s->zygote_given = true;
            return shoal_config_number("--zygote-idle", arg, 1, 7 * 24 * 3600, &s->zygote_idle);
        case S_OPT_ZYGOTE_RECYCLE:
            s->zygote_given = true;
            return shoal_config_number("--zygote-recycle", arg, 1, 1000000, &s->zygote_recycle);
        default:
            return 1;
    }
}

/* Checks what --serve needs before the node exists: 0, or -1 after saying why. */
static int
s_serving_check(s_serving_t *s, shoal_config_t *config)
{
    if (!s->on) {
        if (s->accept_from[0] || s->unsandboxed || s->store_dir[0] || s->zygote_given) {
            fprintf(stderr, "shoal node: --accept-from, --unsandboxed, --store and --zygote* go "
                            "with --serve\n");
            return -1;
        }
        return 0;
    }
    if (!s->accept_from[0]) {
        fprintf(stderr, "shoal node: --serve needs --accept-from FILE: the public keys of the "
                        "developers it serves (an empty file serves no one)\n");
        return -1;
    }
    char err[1024];
    if (!s->unsandboxed && shoal_sandbox_check(err, sizeof(err)) != 0) {
        fprintf(stderr,
                "shoal node: --serve runs shipped tests inside bubblewrap, which cannot make a "
                "sandbox here: %s\n(start with --unsandboxed to serve without one)\n",
                err);
        return -1;
    }
    if (config->meta.tag_count >= GOSSIP_TAGS_MAX) {
        fprintf(stderr, "shoal node: --serve: at most %d --tag with --serve\n",
                GOSSIP_TAGS_MAX - 1);
        return -1;
    }
    snprintf(config->meta.tags[config->meta.tag_count++], GOSSIP_TAG_MAX + 1, "%s",
             SHOAL_SERVE_TAG);
    if (config->key_file[0] && !realpath(config->key_file, s->key_file))
        snprintf(s->key_file, sizeof(s->key_file), "%s", config->key_file);
    shoal_accept_t *accept = shoal_accept_load(s->accept_from, err, sizeof(err));
    if (!accept) {
        fprintf(stderr, "shoal node: --accept-from: %s\n", err);
        return -1;
    }
    shoal_accept_destroy(&accept); /* read again by the intake, and whenever it changes */
    s->store = shoal_store_new(s->store_dir, (uint64_t)(s->cap_mb ? s->cap_mb : 10240) << 20, err,
                               sizeof(err));
    if (!s->store) {
        fprintf(stderr, "shoal node: --store: %s\n", err);
        return -1;
    }
    /* The daemon's working files (runs, plugins) go under the store, where
     * the sandbox shows them; the tests' own /tmp is private. */
    /* No session outlives the daemon: a killed one's directories go now. */
    char sessions[PATH_MAX];
    snprintf(sessions, sizeof(sessions), "%.4000s/sessions", shoal_store_dir(s->store));
    shoal_remove_tree(sessions);
    snprintf(s->workdir, sizeof(s->workdir), "%s/work", shoal_store_dir(s->store));
    shoal_remove_tree(s->workdir);
    if ((mkdir(s->workdir, 0700) != 0 && errno != EEXIST) || setenv("TMPDIR", s->workdir, 1) != 0) {
        fprintf(stderr, "shoal node: cannot make %s: %s\n", s->workdir, strerror(errno));
        return -1;
    }
    return 0;
}

/* The mesh end and the intake, once the node and its serve exist. */
static int
s_serving_start(s_serving_t *s, shoal_node_t *node, shoal_serve_t *serve)
{
    if (!s->on)
        return 0;
    char err[1024];
    s->ship = serve ? shoal_ship_new(node) : NULL;
    if (s->ship)
        shoal_ship_set_store(s->ship, s->store);
    shoal_intake_config_t config = {.node = node,
                                    .serve = serve,
                                    .ship = s->ship,
                                    .store = s->store,
                                    .accept_from = s->accept_from,
                                    .sandbox = !s->unsandboxed,
                                    .workdir = s->workdir,
                                    .secret = s->key_file,
                                    .zygotes = (unsigned)s->zygotes,
                                    .zygote_idle = (double)s->zygote_idle,
                                    .zygote_recycle = (unsigned)s->zygote_recycle};
    s->intake = s->ship ? shoal_intake_new(&config, err, sizeof(err)) : NULL;
    if (!s->intake) {
        fprintf(stderr, "shoal node: --serve: %s\n",
                !serve    ? "the node takes no sessions (its --control is not ipc://)"
                : s->ship ? err
                          : "out of memory");
        return -1;
    }
    return 0;
}

static void
s_serving_stop(s_serving_t *s)
{
    shoal_intake_destroy(&s->intake);
    shoal_ship_destroy(&s->ship);
    shoal_store_destroy(&s->store);
}

int
shoal_cmd_node(int argc, char **argv)
{
    s_serving_t serving = {.zygotes = 0, .zygote_idle = 600, .zygote_recycle = 200};
    shoal_config_t config;
    shoal_config_init(&config);
    struct option options[32];
    size_t n = 0;
    for (; shoal_config_options[n].name; n++)
        options[n] = shoal_config_options[n];
    options[n++] = (struct option){"serve", no_argument, NULL, S_OPT_SERVE};
    options[n++] = (struct option){"accept-from", required_argument, NULL, S_OPT_ACCEPT_FROM};
    options[n++] = (struct option){"unsandboxed", no_argument, NULL, S_OPT_UNSANDBOXED};
    options[n++] = (struct option){"store", required_argument, NULL, S_OPT_STORE};
    options[n++] = (struct option){"store-cap", required_argument, NULL, S_OPT_STORE_CAP};
    options[n++] = (struct option){"zygotes", required_argument, NULL, S_OPT_ZYGOTES};
    options[n++] = (struct option){"zygote-idle", required_argument, NULL, S_OPT_ZYGOTE_IDLE};
    options[n++] = (struct option){"zygote-recycle", required_argument, NULL, S_OPT_ZYGOTE_RECYCLE};
    options[n++] = (struct option){"help", no_argument, NULL, 'h'};
    options[n] = (struct option){NULL, 0, NULL, 0};

    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, SHOAL_CONFIG_SHORTOPTS "h", options, NULL)) != -1) {
        if (opt == 'h') {
            s_usage(stdout);
            return SHOAL_EXIT_OK;
        }
        int rc = s_serving_option(&serving, opt, optarg);
        if (rc > 0)
            rc = shoal_config_option(&config, opt, optarg);
        if (rc != 0) {
            if (rc > 0)
                s_usage(stderr);
            return SHOAL_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "shoal node: unexpected argument '%s'\n", argv[optind]);
        return SHOAL_EXIT_USAGE;
    }
    if (s_serving_check(&serving, &config) != 0 || shoal_config_finish(&config) != 0) {
        shoal_config_release(&config);
        s_serving_stop(&serving);
        return SHOAL_EXIT_USAGE;
    }
    s_install_signals();
    shoal_log_set_verbose(config.verbose);
    shoal_node_t *node = shoal_node_new(&config);
    shoal_config_release(&config);
    if (!node) {
        s_serving_stop(&serving);
        return SHOAL_EXIT_FAILURE;
    }
    shoal_serve_t *serve = shoal_serve_new(node); /* NULL: a mesh member only */
    int status = SHOAL_EXIT_OK;
    if (s_serving_start(&serving, node, serve) == 0)
        shoal_node_run(node, &s_stop, serve ? shoal_serve_stop : NULL, serve);
    else
        status = SHOAL_EXIT_FAILURE;
    s_serving_stop(&serving);
    shoal_serve_destroy(&serve);
    shoal_node_destroy(&node);
    return status;
}
