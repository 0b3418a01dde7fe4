/* Logging: one line per event on stderr, prefixed with the node's name, so the
 * output of many nodes in one terminal stays readable. An error is logged once,
 * where it is decided; callers that get -1 back do not log it again. */
#ifndef SHOAL_NODE_LOG_H
#define SHOAL_NODE_LOG_H

void shoal_log_set_name(const char *name);
void shoal_log_set_verbose(int verbose);
int shoal_log_verbose(void);
/* Always printed. */
void shoal_log_info(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Printed only with -v. */
void shoal_log_debug(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif
