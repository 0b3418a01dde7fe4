/* The host's event loop (see loop.h). Reads and timers live in small arrays
 * scanned in order: a host has a handful of sockets, a few descriptors per
 * session slot and one timer per session. Removal marks an entry dead and the
 * arrays are compacted only between turns' dispatches, so a callback may
 * remove anything, itself included, while the loop walks the arrays.
 */
#include "node/loop.h"
#include "node/log.h"

#include <stdlib.h>
#include <time.h>
#include <zmq.h>

typedef struct {
    int fd;
    void *socket;
    shoal_loop_read_fn *fn;
    void *ctx;
    bool ready; /* the last wait found it readable */
    bool dead;
} s_read_t;

typedef struct {
    long id;
    uint64_t when;
    shoal_loop_timer_fn *fn;
    void *ctx;
    bool dead;
} s_timer_t;

struct shoal_loop {
    s_read_t reads[SHOAL_LOOP_READS_MAX];
    size_t read_count;
    s_timer_t timers[SHOAL_LOOP_TIMERS_MAX];
    size_t timer_count;
    long next_id;
    uint64_t now;
    zmq_pollitem_t items[SHOAL_LOOP_READS_MAX];
};

uint64_t
shoal_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

shoal_loop_t *
shoal_loop_new(void)
{
    shoal_loop_t *self = calloc(1, sizeof(*self));
    if (self)
        self->now = shoal_clock_ms();
    return self;
}

void
shoal_loop_destroy(shoal_loop_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

static s_read_t *
s_read_find(shoal_loop_t *self, int fd, void *socket)
{
    for (size_t i = 0; i < self->read_count; i++) {
        s_read_t *r = &self->reads[i];
        if (!r->dead && r->fd == fd && r->socket == socket)
            return r;
    }
    return NULL;
}

int
shoal_loop_add_read(shoal_loop_t *self, int fd, void *socket, shoal_loop_read_fn *fn, void *ctx)
{
    if (s_read_find(self, fd, socket) || self->read_count == SHOAL_LOOP_READS_MAX)
        return -1;
    self->reads[self->read_count++] =
        (s_read_t){.fd = socket ? -1 : fd, .socket = socket, .fn = fn, .ctx = ctx};
    return 0;
}

void
shoal_loop_remove_read(shoal_loop_t *self, int fd, void *socket)
{
    s_read_t *r = s_read_find(self, fd, socket);
    if (r)
        r->dead = true;
}

static s_timer_t *
s_timer_find(shoal_loop_t *self, long id)
{
    for (size_t i = 0; i < self->timer_count; i++)
        if (!self->timers[i].dead && self->timers[i].id == id)
            return &self->timers[i];
    return NULL;
}

long
shoal_loop_add_timer(shoal_loop_t *self, uint64_t when, shoal_loop_timer_fn *fn, void *ctx)
{
    if (self->timer_count == SHOAL_LOOP_TIMERS_MAX)
        return -1;
    long id = ++self->next_id;
    self->timers[self->timer_count++] = (s_timer_t){.id = id, .when = when, .fn = fn, .ctx = ctx};
    return id;
}

int
shoal_loop_set_timer(shoal_loop_t *self, long id, uint64_t when)
{
    s_timer_t *t = s_timer_find(self, id);
    if (!t)
        return -1;
    t->when = when;
    return 0;
}

void
shoal_loop_remove_timer(shoal_loop_t *self, long id)
{
    s_timer_t *t = s_timer_find(self, id);
    if (t)
        t->dead = true;
}

uint64_t
shoal_loop_now(const shoal_loop_t *self)
{
    return self->now;
}

/* Drops dead entries, keeping the order (reads are served in the order they
 * were added, so the mesh's inbox keeps its place before the sessions'). */
static void
s_compact(shoal_loop_t *self)
{
    size_t kept = 0;
    for (size_t i = 0; i < self->read_count; i++)
        if (!self->reads[i].dead)
            self->reads[kept++] = self->reads[i];
    self->read_count = kept;
    kept = 0;
    for (size_t i = 0; i < self->timer_count; i++)
        if (!self->timers[i].dead)
            self->timers[kept++] = self->timers[i];
    self->timer_count = kept;
}

uint64_t
shoal_loop_turn(shoal_loop_t *self, uint64_t deadline)
{
    uint64_t now = self->now = shoal_clock_ms();
    /* What the last wait found readable. An entry added by a callback in this
     * pass was not in that wait and is not ready. */
    size_t reads = self->read_count;
    for (size_t i = 0; i < reads; i++) {
        s_read_t *r = &self->reads[i];
        if (r->ready && !r->dead) {
            r->ready = false;
            void *scope = shoal_log_scope(r->ctx);
            r->fn(r->ctx, now);
            shoal_log_scope(scope);
        }
    }
    size_t timers = self->timer_count;
    for (size_t i = 0; i < timers; i++) {
        s_timer_t *t = &self->timers[i];
        if (t->dead || t->when > now)
            continue;
        void *scope = shoal_log_scope(t->ctx);
        uint64_t next = t->fn(t->ctx, now);
        shoal_log_scope(scope);
        t = &self->timers[i]; /* callbacks add timers; the array does not move */
        if (next == 0)
            t->dead = true;
        else if (!t->dead)
            t->when = next;
    }
    s_compact(self);

    uint64_t wake = deadline;
    for (size_t i = 0; i < self->timer_count; i++)
        if (self->timers[i].when < wake)
            wake = self->timers[i].when;
    long timeout = wake > now ? (long)(wake - now) : 0;
    for (size_t i = 0; i < self->read_count; i++)
        self->items[i] = (zmq_pollitem_t){self->reads[i].socket, self->reads[i].fd, ZMQ_POLLIN, 0};
    if (zmq_poll(self->items, (int)self->read_count, timeout) <= 0)
        return now;
    for (size_t i = 0; i < self->read_count; i++)
        self->reads[i].ready = (self->items[i].revents & ZMQ_POLLIN) != 0;
    return now;
}
