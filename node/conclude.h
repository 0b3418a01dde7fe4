/* node/conclude.h: what a participant does with its session's summary, the
 * same whether it ran the session itself (`shoal run`) or a node ran it for
 * it (the client of serve.h): print the summary, write the --junit and
 * --json reports, record the history. Every participant does this with the
 * same items, so every one prints and writes the same thing.
 */
#ifndef SHOAL_NODE_CONCLUDE_H
#define SHOAL_NODE_CONCLUDE_H

#include "node/report.h"
#include "node/session.h"

/* Prints the summary on stdout, writes the reports config asks for, records
 * the history (unless config says not to). Returns the exit status: status,
 * or SHOAL_RUN_NO_REPORT when a report the user asked for is missing and
 * status is no worse than failed tests, as a CI job that reads the report
 * would otherwise pass blind. Each failure is logged once, here. */
int shoal_conclude(const shoal_run_config_t *config, shoal_report_t *report,
                   const shoal_item_t *items, size_t count, int status, const char *text,
                   uint64_t now);

#endif
