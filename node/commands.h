/* The subcommands of the shoal binary. Each takes the arguments after its own
 * name (argv[0] is the subcommand) and returns the process exit status:
 * SHOAL_EXIT_OK, SHOAL_EXIT_USAGE for a bad flag or config file (after one clear
 * message naming it), SHOAL_EXIT_FAILURE for a failure at run time.
 */
#ifndef SHOAL_NODE_COMMANDS_H
#define SHOAL_NODE_COMMANDS_H

enum {
    SHOAL_EXIT_OK = 0,
    SHOAL_EXIT_FAILURE = 1,
    SHOAL_EXIT_USAGE = 2,
};

int shoal_cmd_node(int argc, char **argv);
int shoal_cmd_members(int argc, char **argv);
int shoal_cmd_stats(int argc, char **argv);
int shoal_cmd_status(int argc, char **argv);
int shoal_cmd_cancel(int argc, char **argv);
int shoal_cmd_keygen(int argc, char **argv);
int shoal_cmd_sim(int argc, char **argv);
int shoal_cmd_run(int argc, char **argv);
int shoal_cmd_history(int argc, char **argv);
int shoal_cmd_worker(int argc, char **argv);        /* driver.h */
int shoal_cmd_zygote_attach(int argc, char **argv); /* zygote.h */

#endif
