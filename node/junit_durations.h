/* node/junit_durations.h: reads test durations out of a JUnit XML file (the
 * format pytest, jest, go-junit-report, ctest and most CI tools write): every
 * <testcase> element, its id `classname::name` (or `name` without a classname)
 * and its `time` attribute in seconds. Used by `shoal sim --dist junit:FILE` and
 * by history import.
 */
#ifndef SHOAL_NODE_JUNIT_DURATIONS_H
#define SHOAL_NODE_JUNIT_DURATIONS_H

#include <stddef.h>

typedef struct shoal_junit_case {
    char *id;
    double seconds; /* 0 when the testcase has no time attribute */
} shoal_junit_case_t;

/* Reads every testcase of the file at path into a new array (*cases_out, owned
 * by the caller; free with shoal_junit_durations_free). 0 on success; -1 when
 * the file cannot be read, is not well-formed XML, has a time that is not a
 * non-negative number, or has no testcase at all, with the reason (naming the
 * file, and the line for XML errors) in err. */
int shoal_junit_durations_read(const char *path, shoal_junit_case_t **cases_out, size_t *count_out,
                               char *err, size_t err_size);
void shoal_junit_durations_free(shoal_junit_case_t **cases_p, size_t count);

#endif
