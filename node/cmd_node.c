/* `shoal node`: run a mesh member until SIGINT or SIGTERM, then leave; it
 * takes part in the sessions the `shoal run`s of its machine hand it
 * (serve.h). */
#include "node/commands.h"
#include "node/config.h"
#include "node/log.h"
#include "node/node.h"
#include "node/serve.h"

#include <czmq.h>
#include <signal.h>
#include <string.h>

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
            "options:\n%s  -h, --help             this text\n",
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

int
shoal_cmd_node(int argc, char **argv)
{
    shoal_config_t config;
    shoal_config_init(&config);
    struct option options[32];
    size_t n = 0;
    for (; shoal_config_options[n].name; n++)
        options[n] = shoal_config_options[n];
    options[n++] = (struct option){"help", no_argument, NULL, 'h'};
    options[n] = (struct option){NULL, 0, NULL, 0};

    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, SHOAL_CONFIG_SHORTOPTS "h", options, NULL)) != -1) {
        if (opt == 'h') {
            s_usage(stdout);
            return SHOAL_EXIT_OK;
        }
        int rc = shoal_config_option(&config, opt, optarg);
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
    if (shoal_config_finish(&config) != 0) {
        shoal_config_release(&config);
        return SHOAL_EXIT_USAGE;
    }
    s_install_signals();
    shoal_log_set_verbose(config.verbose);
    shoal_node_t *node = shoal_node_new(&config);
    shoal_config_release(&config);
    if (!node)
        return SHOAL_EXIT_FAILURE;
    shoal_serve_t *serve = shoal_serve_new(node); /* NULL: a mesh member only */
    shoal_node_run(node, &s_stop, serve ? shoal_serve_stop : NULL, serve);
    shoal_serve_destroy(&serve);
    shoal_node_destroy(&node);
    return SHOAL_EXIT_OK;
}
