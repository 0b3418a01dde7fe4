/* The host's event loop, as redis's ae.c and libuv's uv_run have it: file
 * events (a descriptor or a ZeroMQ socket becoming readable) and timers are
 * registered with the loop, and each turn reads the monotonic clock once and
 * passes that `now` to every callback it runs in the turn.
 *
 * A turn: read the clock -> run the callbacks of what the last wait found
 * readable -> run every timer that is due -> wait until the next timer (or the
 * caller's deadline) or until something is readable. Callbacks may add and
 * remove events and timers, their own included; a removed one is never called
 * again, not even later in the same turn.
 *
 * Nothing registered may block: a callback that waits stalls every session
 * and the mesh of the host. What a callback logs is scoped to its context
 * (log.h), so a host can tell which application said it.
 */
#ifndef SHOAL_NODE_LOOP_H
#define SHOAL_NODE_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct shoal_loop shoal_loop_t;

/* Called when the descriptor or socket is readable, with the turn's now
 * (monotonic ms). */
typedef void(shoal_loop_read_fn)(void *ctx, uint64_t now);
/* Called when the timer is due, with the turn's now (monotonic ms). Returns
 * when it wants to be called next (monotonic ms; <= now: in the next turn
 * without waiting), or 0 to be removed. */
typedef uint64_t(shoal_loop_timer_fn)(void *ctx, uint64_t now);

/* Monotonic milliseconds: the one clock read of the node layer. */
uint64_t shoal_clock_ms(void);

/* An empty loop, or NULL when out of memory. */
shoal_loop_t *shoal_loop_new(void);
/* Frees the loop (not what its callbacks' contexts point to); *self_p = NULL. */
void shoal_loop_destroy(shoal_loop_t **self_p);

/* Watches `fd` (socket NULL) or the libzmq socket `socket` (fd -1) for
 * readability. The loop borrows the socket; the caller removes it before
 * closing it. 0, or -1 when the loop already watches SHOAL_LOOP_READS_MAX of
 * them or the same one. */
#define SHOAL_LOOP_READS_MAX 256
int shoal_loop_add_read(shoal_loop_t *self, int fd, void *socket, shoal_loop_read_fn *fn,
                        void *ctx);
/* Stops watching it. Nothing happens when it is not watched. */
void shoal_loop_remove_read(shoal_loop_t *self, int fd, void *socket);

/* A timer first due at `when` (monotonic ms). Returns its id (> 0), or -1 when
 * SHOAL_LOOP_TIMERS_MAX are registered. */
#define SHOAL_LOOP_TIMERS_MAX 64
long shoal_loop_add_timer(shoal_loop_t *self, uint64_t when, shoal_loop_timer_fn *fn, void *ctx);
/* Moves timer `id` to `when` (earlier or later). -1 for an unknown id. */
int shoal_loop_set_timer(shoal_loop_t *self, long id, uint64_t when);
/* Removes timer `id`; nothing happens for an unknown id. */
void shoal_loop_remove_timer(shoal_loop_t *self, long id);

/* One turn (see above). Waits at most until `deadline` (monotonic ms).
 * Returns the turn's now. */
uint64_t shoal_loop_turn(shoal_loop_t *self, uint64_t deadline);
/* The now of the current (or last) turn: what a callback that was not given
 * it should use. */
uint64_t shoal_loop_now(const shoal_loop_t *self);

#endif
