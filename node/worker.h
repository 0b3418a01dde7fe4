/* A pytest worker: one long-lived pytest process per slot that collects the
 * suite once and then runs the batches it is sent, so a batch costs no
 * interpreter start-up, import or collection (pytest-xdist's model, without
 * its controller). A small plugin (written out by shoal_worker_install) talks
 * over the executor's channel, one line per event, fields separated by tabs
 * and escaped (\\ \t \n \r):
 *
 *   shoal -> worker   run <ids...>         run these, in order
 *   worker -> shoal   ready <count>        collected, waiting for work
 *                     begin <id>           starts a test
 *                     result <id> <outcome> <seconds> <message> <output>
 *                     done                 the batch is over
 *
 * States: starting -> idle <-> running -> dead. A worker that dies or is
 * killed (the batch's timeout) ends its batch: the test it had begun is an
 * error naming the cause, the tests after it are not run (the leader deals
 * them again), and the session starts a new worker for the next batch. A
 * worker that dies before it is ready fails its whole batch with pytest's
 * output, as no test of it could run here.
 */
#ifndef SHOAL_NODE_WORKER_H
#define SHOAL_NODE_WORKER_H

#include "node/adapter.h"
#include "node/exec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOAL_WORKER_MODULE "shoal_worker" /* the plugin's module name */

typedef struct shoal_worker shoal_worker_t;

/* Writes the plugin into dir (as SHOAL_WORKER_MODULE.py). 0, or -1 with err. */
int shoal_worker_install(const char *dir, char *err, size_t err_size);

/* Starts a worker with spec (its channel is turned on here). NULL with err if
 * the process could not be started at all. */
shoal_worker_t *shoal_worker_new(const shoal_exec_spec_t *spec, uint64_t now, char *err,
                                 size_t err_size);
void shoal_worker_destroy(shoal_worker_t **self_p);

/* Sends a batch to an idle (or starting) worker; timeout_ms 0 for none. -1
 * if the worker is dead or busy. */
int shoal_worker_run(shoal_worker_t *self, const char *const *ids, size_t count,
                     uint64_t timeout_ms, uint64_t now);
/* Non-blocking: reads events, notices death and the batch's timeout. True
 * once the batch sent last is over; its results are then ready. */
bool shoal_worker_poll(shoal_worker_t *self, uint64_t now);
/* The results of the batch that is over, one per id in order (the caller
 * clears them). 0, or -1 out of memory. */
int shoal_worker_results(shoal_worker_t *self, shoal_test_result_t *results);
/* False once the process has exited or was killed: destroy it. */
bool shoal_worker_alive(const shoal_worker_t *self);
/* Descriptors to poll for POLLIN (up to 2). */
size_t shoal_worker_fds(const shoal_worker_t *self, int fds[2]);

/* Splits one event line in place: fields point into line, escapes undone.
 * Returns the field count (at most max). */
size_t shoal_worker_split(char *line, char **fields, size_t max);

#endif
