/* node/cmd_history.h: `shoal history show|import`, the command-line face of
 * the history store (history.h). Takes the arguments after "shoal"
 * (argv[0] is "history") and returns a SHOAL_EXIT_* status.
 */
#ifndef SHOAL_NODE_CMD_HISTORY_H
#define SHOAL_NODE_CMD_HISTORY_H

int shoal_cmd_history(int argc, char **argv);

#endif
