/* node/job.c: a blocking step on a thread of its own (job.h). A mutex orders
 * the step's end against the owner letting go, so exactly one of them frees
 * the job. */
#include "node/job.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct shoal_job {
    pthread_t thread;
    pthread_mutex_t lock;
    shoal_job_fn *step, *discard;
    void *arg;
    bool done;     /* the step returned */
    bool released; /* the owner let go before that: the thread cleans up */
};

static void
s_free(shoal_job_t *self)
{
    pthread_mutex_destroy(&self->lock);
    free(self);
}

static void *
s_run(void *ctx)
{
    shoal_job_t *self = ctx;
    self->step(self->arg);
    pthread_mutex_lock(&self->lock);
    self->done = true;
    bool released = self->released;
    pthread_mutex_unlock(&self->lock);
    if (released) { /* detached by the owner: nobody else will free it */
        if (self->discard)
            self->discard(self->arg);
        s_free(self);
    }
    return NULL;
}

shoal_job_t *
shoal_job_start(shoal_job_fn *step, shoal_job_fn *discard, void *arg)
{
    shoal_job_t *self = calloc(1, sizeof(*self));
    if (!self) {
        errno = ENOMEM;
        return NULL;
    }
    self->step = step;
    self->discard = discard;
    self->arg = arg;
    if (pthread_mutex_init(&self->lock, NULL) != 0) {
        free(self);
        errno = ENOMEM;
        return NULL;
    }
    int rc = pthread_create(&self->thread, NULL, s_run, self);
    if (rc != 0) {
        s_free(self);
        errno = rc;
        return NULL;
    }
    return self;
}

bool
shoal_job_done(shoal_job_t *self)
{
    pthread_mutex_lock(&self->lock);
    bool done = self->done;
    pthread_mutex_unlock(&self->lock);
    return done;
}

bool
shoal_job_release(shoal_job_t **self_p)
{
    shoal_job_t *self = *self_p;
    if (!self)
        return true;
    *self_p = NULL;
    pthread_t thread = self->thread; /* self may be freed once unlocked */
    pthread_mutex_lock(&self->lock);
    bool done = self->done;
    if (!done)
        self->released = true;
    pthread_mutex_unlock(&self->lock);
    if (done) {
        pthread_join(thread, NULL);
        s_free(self);
    } else {
        pthread_detach(thread); /* the handle stays valid until detached */
    }
    return done;
}
