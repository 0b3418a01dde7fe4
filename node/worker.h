/* A hot worker: one long-lived framework process per slot that collects the
 * suite itself and then runs the batches it is sent, so a batch costs no
 * interpreter start-up, import or collection (pytest-xdist's model, without
 * its controller). Its plugin (written out by shoal_worker_install) talks
 * over the executor's channel, one line per event, fields separated by tabs,
 * every field escaped (\\ \t \n \r \0), so a field carries any text:
 *
 *   shoal -> worker   run <hold> <workers> <id>... run the test held back (if any),
 *                                                  then these, in order; hold 1:
 *                                                  keep the last one back; workers:
 *                                                  of the whole run (0: unknown)
 *   worker -> shoal   item <id> <file> <line>      one collected test
 *                     collected <id> <outcome> <message> <output>
 *                                                  a collector that failed or
 *                                                  was skipped (decided now)
 *                     notice <text>                to tell the user once
 *                     ready <count> <maxfail> <interrupted> <verbosity> <reportchars>
 *                                                  collected, waiting for work
 *                     begin <id>                   starts a test
 *                     result <id> <outcome> <seconds> <message> <output>
 *                                                  (outcome "not-run": the worker will
 *                                                  not run it; back to the leader)
 *   shoal -> worker   final <failed|passed> <id>...  the session's outcomes, for
 *                                                  pytest's cache (sent before close)
 *                     held <id>                    kept back, not run yet
 *                     done                         the batch is over
 *
 * The plugin caps every field (keeping head and tail, with a marker); a line
 * longer than S_LINE_MAX is dropped and counted, never a reason to kill.
 *
 * States: starting -> ready <-> running -> closing -> dead. The test timeout
 * is per test: it starts again at each `begin`. A worker that dies or is
 * killed (a test's timeout) ends its batch: the test it had begun is an
 * error naming the cause, the tests after it are not run (they are dealt
 * again), and the session starts a new worker for the next batch. A worker
 * that dies before it is ready fails its whole batch with the framework's
 * output, as no test of it could run here. shoal_worker_close ends a worker
 * gracefully: the framework finishes its session (fixtures, hooks, caches).
 */
#ifndef SHOAL_NODE_WORKER_H
#define SHOAL_NODE_WORKER_H

#include "node/adapter.h"
#include "node/exec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOAL_WORKER_MODULE "shoal_worker"                /* the pytest plugin's module name */
#define SHOAL_WORKER_MOCHA_SCRIPT "shoal_mocha_worker.js" /* Mocha's worker (worker_mocha.js) */

typedef struct shoal_worker shoal_worker_t;

/* Writes the plugins into dir (SHOAL_WORKER_MODULE.py for pytest,
 * SHOAL_WORKER_MOCHA_SCRIPT for Mocha). 0, or -1 with err. */
int shoal_worker_install(const char *dir, char *err, size_t err_size);

/* Starts a worker with spec (its channel is turned on here). NULL with err if
 * the process could not be started at all. */
shoal_worker_t *shoal_worker_new(const shoal_exec_spec_t *spec, uint64_t now, char *err,
                                 size_t err_size);
void shoal_worker_destroy(shoal_worker_t **self_p);

/* True once the worker said it collected the suite. */
bool shoal_worker_ready(const shoal_worker_t *self);
/* Moves what the worker collected into *out (cleared first; indexed). 0, or
 * -1 if it is not ready, was taken already, or out of memory. */
int shoal_worker_take_collection(shoal_worker_t *self, shoal_collection_t *out);
/* Sends a batch to a ready (or starting) worker: the test it holds back (if
 * any) runs first, then ids. With hold, the worker keeps the batch's last
 * test back until its next batch (as pytest-xdist does), so fixtures of wider
 * scope live on between batches; a batch of no ids (count 0) flushes the
 * held test. workers: how many workers the whole session has (the framework
 * may share the machine by it; 0 if unknown). test_timeout_ms (0: none)
 * bounds each test from its start. -1 if
 * the worker is dead, closing or busy, if there is nothing to run, or out of
 * memory. */
int shoal_worker_run(shoal_worker_t *self, const char *const *ids, size_t count, bool hold,
                     unsigned workers, uint64_t test_timeout_ms, uint64_t now);
/* The id of the test the worker holds back, or NULL. */
const char *shoal_worker_held(const shoal_worker_t *self);
/* Non-blocking: reads events, notices death and the batch's timeout. True
 * once the batch sent last is over; its results are then ready. */
bool shoal_worker_poll(shoal_worker_t *self, uint64_t now);
/* While the batch runs: moves the results that came since the last call
 * into out[0..max) (index set; the caller clears them), so they are
 * reported as each test ends rather than with the batch. Returns how many. */
size_t shoal_worker_take_finished(shoal_worker_t *self, shoal_test_result_t *out, size_t max);
/* The results of the batch that is over, one per test in order (the held
 * test of the last batch first; the caller clears them). A test kept back is
 * marked held, with no outcome; one handed out by
 * shoal_worker_take_finished is marked reported, with nothing else. 0, or -1
 * out of memory. */
int shoal_worker_results(shoal_worker_t *self, shoal_test_result_t *results);
/* False once the process has exited or was killed: destroy it. */
bool shoal_worker_alive(const shoal_worker_t *self);
/* How the process ended, once it is dead (output included); NULL before. */
const shoal_exec_result_t *shoal_worker_exit(const shoal_worker_t *self);
/* Tells the worker that the session starts no more tests (--maxfail reached
 * somewhere): a worker that can (pytest's) reports the rest of its batch
 * not-run after the test in progress; others finish the batch. why (one
 * line, escaped here) is what it reports them with. 0, or -1 if the worker
 * cannot take it (dead, closing, or its channel full for 1 s). */
int shoal_worker_tell_stop(shoal_worker_t *self, const char *why);
/* Tells the worker the session's final outcomes (tests that failed or
 * errored, and tests that passed or were skipped), so the framework's cache
 * of failures (pytest's --lf) records the whole session, not this worker's
 * share. 0, or -1 if the worker cannot take it. */
int shoal_worker_tell_final(shoal_worker_t *self, bool failed, const char *const *ids,
                            size_t count);
/* No more batches: closes our end of the channel so the framework finishes
 * its session and exits; keep polling until it is dead (kill_at: when to
 * SIGKILL it if it has not exited, 0 for never). */
void shoal_worker_close(shoal_worker_t *self, uint64_t kill_at);
/* Event lines dropped for being longer than the cap. */
size_t shoal_worker_dropped(const shoal_worker_t *self);
/* Descriptors to poll for POLLIN (up to 2). */
size_t shoal_worker_fds(const shoal_worker_t *self, int fds[2]);

/* Writes text escaped for the protocol at p (room for 2 * strlen(text)
 * bytes needed); returns the end. No NUL is written. */
char *shoal_worker_escape(char *p, const char *text);

/* Splits one event line in place: fields point into line, escapes undone.
 * Returns the field count (at most max). */
size_t shoal_worker_split(char *line, char **fields, size_t max);

#endif
