/* One blocking step (a collection, a history read) on a thread of its own,
 * so that the host's loop never waits for it (loop.h).
 *
 * The step's argument belongs to the thread from shoal_job_start until the
 * owner sees shoal_job_done return true; then it is the owner's again, with
 * everything the step wrote visible. An owner that lets go of a job still
 * running (shoal_job_release) hands the argument over for good: the thread
 * frees it with `discard` once the step returns, and frees itself.
 *
 * The step runs beside the loop: it must not touch what the loop's
 * callbacks touch (sockets, the log's scope, the session), only its
 * argument.
 */
#ifndef SHOAL_NODE_JOB_H
#define SHOAL_NODE_JOB_H

#include <stdbool.h>

typedef struct shoal_job shoal_job_t;

typedef void(shoal_job_fn)(void *arg);

/* Starts step(arg) on a new thread. discard (may be NULL) frees arg when the
 * owner released the job before the step ended. Returns the job, or NULL
 * (errno set: EAGAIN no thread could start, ENOMEM) with nothing started
 * and arg still the caller's. */
shoal_job_t *shoal_job_start(shoal_job_fn *step, shoal_job_fn *discard, void *arg);

/* True once the step has returned: arg is the owner's again. Never blocks. */
bool shoal_job_done(shoal_job_t *self);

/* Lets go of the job; *self_p = NULL (nothing when already NULL). Returns
 * true when the step had returned (the thread is joined, which does not
 * wait: it has ended or is ending; arg is the caller's), false when it was
 * still running (arg now belongs to the thread, which discards it). Never
 * waits for the step. */
bool shoal_job_release(shoal_job_t **self_p);

#endif
