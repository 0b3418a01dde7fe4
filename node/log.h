/* Logging: one line per event on stderr, prefixed with the node's name, so the
 * output of many nodes in one terminal stays readable. An error is logged once,
 * where it is decided; callers that get -1 back do not log it again. */
#ifndef SHOAL_NODE_LOG_H
#define SHOAL_NODE_LOG_H

void shoal_log_set_name(const char *name);
void shoal_log_set_verbose(int verbose);
int shoal_log_verbose(void);
/* Lines logged while a scope is set also go to the tap, with the scope: a
 * node running a client's session hands what that session says to the
 * client. The loop sets the scope of each callback it runs to the
 * callback's context (loop.h), the node that of each application it calls. */
typedef void(shoal_log_tap_fn)(void *scope, const char *line);
/* NULL: no tap. */
void shoal_log_set_tap(shoal_log_tap_fn *tap);
/* Sets the scope of the lines logged from now on (NULL: none); returns the
 * scope it replaces, for the caller to put back. */
void *shoal_log_scope(void *scope);
/* Always printed. */
void shoal_log_info(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Printed only with -v. */
void shoal_log_debug(const char *format, ...) __attribute__((format(printf, 1, 2)));

#endif
