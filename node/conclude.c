/* The end of a session for one participant (see conclude.h): the summary on
 * stdout, the reports, the history. */
#include "node/conclude.h"
#include "node/history.h"
#include "node/junit.h"
#include "node/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The JUnit report; 0, or -1 after saying why. */
static int
s_write_junit(const shoal_run_config_t *config, const shoal_item_t *items, size_t count)
{
    shoal_junit_case_t *cases = calloc(count ? count : 1, sizeof(*cases));
    char **files = calloc(count ? count : 1, sizeof(char *));
    for (size_t i = 0; cases && files && i < count; i++) {
        const shoal_item_t *it = &items[i];
        /* pytest ids start with their file; list ids have none */
        const char *sep = strstr(it->id, "::");
        files[i] = sep ? strndup(it->id, (size_t)(sep - it->id)) : strdup("");
        cases[i] = (shoal_junit_case_t){
            .id = it->id,
            .file = files[i],
            .node = it->node,
            .outcome = (shoal_outcome_t)it->outcome,
            .seconds = it->seconds,
            .message = it->message,
            .output = it->output,
            .flaky = it->flaky,
            .attempts = it->attempt + 1,
        };
    }
    /* Not the session id: CI keeps a test's history by its classname. */
    const char *suite = config->junit_suite[0] ? config->junit_suite : "shoal";
    char err[512] = "out of memory";
    int rc = cases && files
                 ? shoal_junit_write(config->junit, suite, cases, count, err, sizeof(err))
                 : -1;
    if (rc != 0)
        shoal_log_info("JUnit report not written: %s", err);
    for (size_t i = 0; files && i < count; i++)
        free(files[i]);
    free(files);
    free(cases);
    return rc;
}

static void
s_record_history(const shoal_run_config_t *config, const shoal_item_t *items, size_t count)
{
    char err[512];
    shoal_history_t *db =
        shoal_history_open(config->history_db[0] ? config->history_db : NULL, err, sizeof(err));
    const char **ids = calloc(count, sizeof(char *));
    shoal_outcome_t *outcomes = calloc(count, sizeof(*outcomes));
    double *seconds = calloc(count, sizeof(double));
    for (size_t i = 0; ids && outcomes && seconds && i < count; i++) {
        ids[i] = items[i].id;
        outcomes[i] = (shoal_outcome_t)items[i].outcome;
        seconds[i] = items[i].seconds;
    }
    if (!db || shoal_history_record(db, config->project, ids, outcomes, seconds, count,
                                    (uint64_t)time(NULL)) != 0)
        shoal_log_info("history not recorded: %s", db ? shoal_history_error(db) : err);
    shoal_history_close(&db);
    free(ids);
    free(outcomes);
    free(seconds);
}

int
shoal_conclude(const shoal_run_config_t *config, shoal_report_t *report, const shoal_item_t *items,
               size_t count, int status, const char *text, uint64_t now)
{
    bool reports_written = true;
    shoal_report_summary(report, stdout, items, count, status, text, now);
    fflush(stdout);
    if (config->junit[0] && s_write_junit(config, items, count) != 0)
        reports_written = false;
    char err[512];
    if (config->json[0] &&
        shoal_report_json(config->json, items, count, status, err, sizeof(err)) != 0) {
        shoal_log_info("JSON report not written: %s", err);
        reports_written = false;
    }
    if (!config->no_history && count && !config->dry_run)
        s_record_history(config, items, count);
    /* A missing report outranks the tests' outcome, not an incomplete session. */
    if (!reports_written && status <= SHOAL_RUN_FAILED)
        return SHOAL_RUN_NO_REPORT;
    return status;
}
