/* A member's side of the work (see internal.h): the share it holds and the
 * batches its slots cut from it, what it tells the leader (WANT, HELD, the
 * gifts it made), and stealing, as the thief and as the victim. Processes
 * are the glue's: this file decides, the glue runs.
 *
 *   nothing held, a slot free --tick--> STEAL to the victim sched_steal_pick
 *       chooses from the last LOADS (pending until +SHOAL_STEAL_WAIT_MS)
 *   pending --GIVE with tests (on_give)--> held; the MOVED goes to the leader
 *   pending --empty GIVE, or the wait is over--> not asked again until the
 *       next LOADS (asked[]); the next tick asks another
 *   nobody worth asking --> NONE (dry when no peer holds anything)
 *   LOADS (on_loads) --> asked[] cleared; with `fresh`, stopped for good
 * Invariant (I3): every test held is a runnable test of the local collection.
 */
#include "node/session/internal.h"
#include "node/log.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

int
shoal_member_init(shoal_member_t *self, const shoal_member_config_t *config)
{
    memset(self, 0, sizeof(*self));
    self->config = *config;
    self->share = config->share;
    sched_rng_seed(&self->rng, sched_rank_hash(config->session, config->name));
    return shoal_hold_init(&self->hold);
}

void
shoal_member_clear(shoal_member_t *self)
{
    shoal_hold_clear(&self->hold);
    shoal_items_free(&self->loads, &self->load_count, &self->load_cap);
}

void
shoal_member_adopt(shoal_member_t *self)
{
    /* What we hold stays ours: the new leader hears it (HELD) and adopts it. */
    self->held_due = true;
    self->fresh = true;
    self->want_now = true;
    self->last_want = 0;
}

void
shoal_member_set_share(shoal_member_t *self, unsigned share)
{
    self->share = share;
    self->want_now = true;
}

/* ---------------------------------------------------------------- results */

void
shoal_member_result(shoal_member_t *self, shoal_item_t *item)
{
    if (item->outcome == SHOAL_OUTCOME_NOT_RUN)
        shoal_hold_forget(&self->hold, item->id); /* the leader may ship it to us again */
    if (shoal_results_add(self->config.results, item) != 0) {
        shoal_log_info("out of memory: the result of %s is lost here", item->id);
        shoal_item_clear(item);
    }
}

void
shoal_member_result_now(shoal_member_t *self, const char *id, uint32_t attempt,
                        shoal_outcome_t outcome, const char *message)
{
    shoal_item_t item = {.id = strdup(id),
                         .attempt = attempt,
                         .outcome = (uint8_t)outcome,
                         .node = strdup(self->config.name),
                         .message = strdup(message),
                         .output = strdup("")};
    shoal_member_result(self, &item);
}

bool
shoal_member_rejects(shoal_member_t *self, const char *from, const shoal_item_t *item)
{
    const shoal_collection_t *local = self->config.local;
    size_t t = shoal_collection_find(local, item->id);
    if (t != SIZE_MAX && !local->tests[t].preset)
        return false;
    shoal_log_info("rejected test id from %s: '%.80s'", from, item->id);
    shoal_member_result_now(self, item->id, item->attempt, SHOAL_OUTCOME_ERROR,
                            "rejected: not a valid test id of this runner's collection");
    return true;
}

/* The runnable tests of msg stay in it; the rest are rejected and freed. */
static void
s_keep_runnable(shoal_member_t *self, const char *from, shoal_msg_t *msg)
{
    size_t kept = 0;
    for (size_t i = 0; i < msg->item_count; i++) {
        shoal_item_t *item = &msg->items[i];
        if (shoal_member_rejects(self, from, item)) {
            shoal_item_clear(item);
            continue;
        }
        msg->items[kept++] = *item;
    }
    msg->item_count = kept;
}

/* ---------------------------------------------------------------- batches */

/* Guided self-scheduling, by factoring, as the last LOADS tells it: the
 * first run of four 1 s tests on four slots puts one on each; the tail is
 * cut finer, so no slot is left running a long batch that nobody can steal
 * from while others idle. Cutting finer than the floor would cost more
 * starts than it saves. */
double
shoal_member_batch_target(const shoal_member_t *self)
{
    double mine = shoal_hold_work(&self->hold);
    double share = mine / (double)self->share;
    double queued = mine;
    unsigned slots = self->share;
    for (size_t i = 0; i < self->load_count; i++)
        if (strcmp(self->loads[i].node, self->config.name) != 0) {
            queued += self->loads[i].seconds;
            slots += self->loads[i].slots;
        }
    if (queued / (2.0 * slots) < share)
        share = queued / (2.0 * slots);
    double target = self->config.batch_seconds;
    double floor = SHOAL_FLOOR_INVOCATIONS * self->config.invocation_seconds;
    /* Predictions are in the leader's units; once our own results show how
     * far off they run (tests nothing was known about are all predicted the
     * default), a batch aims at --batch-seconds of real time: a suite of
     * 10 ms tests goes out in batches of about 200, not 4. */
    if (self->observed_count >= SHOAL_OBSERVED_MIN && self->observed > 0) {
        double scale = self->predicted / self->observed;
        scale = scale < 0.01 ? 0.01 : scale > 100 ? 100 : scale;
        target *= scale;
        floor *= scale;
    }
    double batch = share < target ? share : target;
    return batch < floor ? floor : batch;
}

bool
shoal_member_slot_due(const shoal_member_t *self, unsigned slot, bool holds_back, bool *take)
{
    /* A test a worker keeps back is flushed once there is nothing more for
     * us (or nothing more may start: it ends as its framework says), or at
     * once on a slot beyond our share, which takes no more work. */
    bool shared = slot < self->share;
    size_t held = shoal_hold_count(&self->hold);
    bool flush = holds_back && (((self->dry || self->stopped) && held == 0) || !shared);
    *take = shared && !self->stopped;
    return (held && *take) || flush;
}

/* ---------------------------------------------------------------- order */

typedef struct {
    size_t group; /* where its file first appears in what is held */
    size_t index; /* in the collection */
    shoal_item_t item;
} s_placed_t;

static int
s_by_group(const void *a, const void *b)
{
    const s_placed_t *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* What we hold, grouped as the framework groups its tests: each file's
 * tests together in collection order, the files in the order the leader
 * placed their first test (the longest, or one that failed recently, comes
 * first). A fixture of module or class scope is then set up once per worker,
 * as under pytest alone or pytest-xdist, rather than again each time the
 * leader's order comes back to its file; and a thief takes whole files from
 * the tail. Tests without a file keep the leader's order. */
static void
s_group_by_file(shoal_member_t *self)
{
    if (!self->ungrouped)
        return; /* once for all the frames of a shipment, not once each */
    self->ungrouped = false;
    shoal_hold_t *h = &self->hold;
    size_t n = h->count - h->head;
    const shoal_collection_t *c = self->config.local;
    s_placed_t *placed = n > 1 ? calloc(n, sizeof(*placed)) : NULL;
    zhashx_t *first = placed ? zhashx_new() : NULL; /* file -> its group + 1 */
    if (!first) {
        free(placed);
        return; /* one test, or out of memory: the leader's order */
    }
    for (size_t i = 0; i < n; i++) {
        shoal_item_t *item = &h->items[h->head + i];
        size_t t = shoal_collection_find(c, item->id);
        const char *file = t == SIZE_MAX ? "" : c->tests[t].file;
        size_t group = i;
        if (file[0]) {
            uintptr_t known = (uintptr_t)zhashx_lookup(first, file);
            if (known)
                group = known - 1;
            else
                zhashx_insert(first, file, (void *)(uintptr_t)(i + 1));
        }
        placed[i] = (s_placed_t){.group = group, .index = file[0] ? t : 0, .item = *item};
    }
    qsort(placed, n, sizeof(*placed), s_by_group);
    for (size_t i = 0; i < n; i++)
        h->items[h->head + i] = placed[i].item;
    zhashx_destroy(&first);
    free(placed);
}

size_t
shoal_member_cut(shoal_member_t *self, size_t max, shoal_item_t **out)
{
    if (max == 0 || max > SHOAL_BATCH_MAX)
        max = SHOAL_BATCH_MAX;
    s_group_by_file(self);
    size_t n = shoal_hold_batch(&self->hold, shoal_member_batch_target(self), max);
    *out = n ? calloc(n, sizeof(**out)) : NULL;
    return *out ? shoal_hold_pop(&self->hold, n, *out) : 0;
}

void
shoal_member_batch_done(shoal_member_t *self, double took, double predicted, size_t tests)
{
    self->observed += took;
    self->predicted += predicted;
    self->observed_count += tests;
    self->want_now = true;
}

/* ---------------------------------------------------------------- reports */

static void
s_send(shoal_member_t *self, const char *to, shoal_msg_t *msg)
{
    shoal_session_tell(self->config.host, self->config.session, to, msg);
}

static const char *
s_leader(const shoal_member_t *self)
{
    return self->config.elect->leader;
}

/* What we run and hold, to the leader (a heartbeat too). */
static void
s_send_want(shoal_member_t *self, const shoal_member_slots_t *slots, uint64_t now)
{
    size_t free_slots = self->share > slots->busy ? self->share - slots->busy : 0;
    shoal_msg_t msg = {.type = SHOAL_MSG_WANT,
                       .term = self->config.elect->term,
                       .free_slots = (uint32_t)free_slots,
                       .held = (uint32_t)shoal_hold_count(&self->hold),
                       .fresh = self->fresh,
                       .text = (char *)self->config.digest,
                       .items = (shoal_item_t *)slots->running,
                       .item_count = slots->running_count};
    s_send(self, s_leader(self), &msg);
    self->fresh = false;
    self->last_want = now;
    self->want_now = false;
}

/* What we hold, for a new leader (HELD, before our first WANT). */
static void
s_send_held(shoal_member_t *self)
{
    shoal_item_t *items;
    size_t n = shoal_hold_list(&self->hold, &items);
    shoal_msg_t msg = {
        .type = SHOAL_MSG_HELD, .term = self->config.elect->term, .items = items, .item_count = n};
    if (items)
        s_send(self, s_leader(self), &msg);
    free(items);
}

/* Our gifts the leader has not echoed: told again (a new leader learns of
 * them even if the old one died holding our report). */
static void
s_send_gifts(shoal_member_t *self, uint64_t now)
{
    self->next_gifts = now + SHOAL_HEARTBEAT_MS;
    if (!s_leader(self)[0])
        return;
    for (size_t g = 0; g < self->hold.gift_count; g++) {
        shoal_gift_t *gift = &self->hold.gifts[g];
        shoal_msg_t msg = {.type = SHOAL_MSG_MOVED,
                           .term = self->config.elect->term,
                           .victim = (char *)self->config.name,
                           .thief = gift->thief,
                           .items = gift->items,
                           .item_count = gift->count};
        s_send(self, s_leader(self), &msg);
    }
}

/* ---------------------------------------------------------------- stealing */

/* Peer `name` said no (or nothing): not asked again until the next LOADS. */
static void
s_said_no(shoal_member_t *self, const char *name)
{
    for (size_t i = 0; i < self->load_count && self->asked_count < 64; i++)
        if (strcmp(self->loads[i].node, name) == 0)
            self->asked[self->asked_count++] = i;
}

/* Out of work with a slot free: ask the peer with the most work for some. */
static shoal_steal_t
s_steal_tick(shoal_member_t *self, const shoal_member_slots_t *slots, uint64_t now)
{
    if (self->stopped || shoal_hold_count(&self->hold) || slots->busy >= self->share)
        return SHOAL_STEAL_IDLE;
    if (self->steal_pending) {
        if (now < self->steal_until)
            return SHOAL_STEAL_WAITING;
        self->steal_pending = false; /* no answer: ask another */
        s_said_no(self, self->steal_victim);
    }
    size_t count = self->load_count, me = SIZE_MAX, victim;
    sched_peer_load_t *peers = calloc(count + 1, sizeof(*peers));
    if (!peers)
        return SHOAL_STEAL_IDLE;
    for (size_t i = 0; i < count; i++) {
        const shoal_item_t *load = &self->loads[i];
        const shoal_participant_t *p = shoal_roster_find(self->config.roster, load->node);
        peers[i] = (sched_peer_load_t){.queued = load->seconds,
                                       .running = load->running,
                                       .slots = load->slots,
                                       .alive = p && p->alive};
        if (strcmp(load->node, self->config.name) == 0) {
            me = i;
            peers[i].queued = 0; /* what we held is gone: we are dry */
        }
    }
    if (me == SIZE_MAX) {
        me = count;
        peers[count++] = (sched_peer_load_t){.slots = self->share, .alive = true};
    }
    int picked = sched_steal_pick(peers, count, me, slots->running_work, SHOAL_STEAL_LATENCY,
                                  self->asked, self->asked_count, &self->rng, &victim);
    free(peers);
    if (picked != 0) {
        /* What a worker holds back is flushed only once no member holds
         * anything more (it ends the framework's session there: its session
         * fixtures are torn down), not while another is merely not worth
         * stealing from: a gift could still come. */
        bool left = false;
        for (size_t i = 0; i < self->load_count; i++)
            left |=
                self->loads[i].seconds > 0 && strcmp(self->loads[i].node, self->config.name) != 0;
        self->dry = !left;
        return SHOAL_STEAL_NONE;
    }
    snprintf(self->steal_victim, sizeof(self->steal_victim), "%s", self->loads[victim].node);
    shoal_msg_t msg = {.type = SHOAL_MSG_STEAL,
                       .term = self->config.elect->term ? self->config.elect->term : 1,
                       .free_slots = (uint32_t)(self->share - slots->busy),
                       .seconds = slots->running_work};
    s_send(self, self->steal_victim, &msg);
    self->steal_pending = true;
    self->steal_until = now + SHOAL_STEAL_WAIT_MS;
    return SHOAL_STEAL_ASKED;
}

shoal_steal_t
shoal_member_tick(shoal_member_t *self, const shoal_member_slots_t *slots, bool may_steal,
                  uint64_t now)
{
    /* While no leader is alive we keep stealing among ourselves by the last
     * LOADS; the moves are told to the next leader (HELD, gifts). */
    if (!s_leader(self)[0])
        return may_steal && self->load_count ? s_steal_tick(self, slots, now) : SHOAL_STEAL_IDLE;
    /* A new leader hears what we hold (and the gifts it may not know of)
     * before our first WANT, so it can rebuild its board from them. */
    if (self->held_due) {
        s_send_held(self);
        s_send_gifts(self, now);
        self->held_due = false;
    }
    if (now >= self->next_gifts)
        s_send_gifts(self, now);
    /* Say what started and ended soon (the board and the loads everyone
     * steals by follow it), and what we run at least once a heartbeat. */
    if ((self->want_now && now - self->last_want >= SHOAL_WANT_GAP_MS) || self->fresh ||
        now - self->last_want >= SHOAL_HEARTBEAT_MS)
        s_send_want(self, slots, now);
    return may_steal ? s_steal_tick(self, slots, now) : SHOAL_STEAL_IDLE;
}

/* ---------------------------------------------------------------- messages */

size_t
shoal_member_on_work(shoal_member_t *self, const char *from, shoal_msg_t *msg)
{
    s_keep_runnable(self, from, msg);
    size_t offered = msg->item_count;
    size_t taken = shoal_hold_take(&self->hold, msg, msg->fresh);
    self->ungrouped |= taken > 0;
    shoal_log_debug("took %zu of %zu shipped%s (v%u); holding %zu", taken, offered,
                    msg->fresh ? " (fresh)" : "", offered ? msg->items[0].version : 0,
                    shoal_hold_count(&self->hold));
    if (taken)
        self->dry = false;
    return taken;
}

bool
shoal_member_on_loads(shoal_member_t *self, shoal_msg_t *msg)
{
    shoal_items_free(&self->loads, &self->load_count, &self->load_cap);
    shoal_items_take(&self->loads, &self->load_count, &self->load_cap, msg);
    self->asked_count = 0; /* new figures: anyone may be asked again */
    if (!msg->fresh || self->stopped)
        return false;
    self->stopped = true; /* --maxfail or the budget: the leader reports the rest */
    shoal_hold_drop(&self->hold);
    return true;
}

/* Whether the thief whose tags these are can run test `id`. */
typedef struct {
    const shoal_collection_t *local;
    const char *tags;
} s_thief_t;

static bool
s_thief_can_run(void *ctx, const shoal_item_t *item)
{
    s_thief_t *thief = ctx;
    size_t t = shoal_collection_find(thief->local, item->id);
    return t != SIZE_MAX && sched_tags_satisfy(thief->tags, thief->local->tests[t].requires);
}

size_t
shoal_member_on_steal(shoal_member_t *self, const char *from, const shoal_msg_t *msg,
                      double running_work, uint64_t now)
{
    const shoal_participant_t *p = shoal_roster_find(self->config.roster, from);
    const shoal_gift_t *gift = NULL;
    if (p && !self->stopped) {
        sched_steal_sides_t sides = {.victim_slots = self->share,
                                     .victim_running = running_work,
                                     .thief_slots = p->slots,
                                     .thief_running = msg->seconds,
                                     .latency = SHOAL_STEAL_LATENCY};
        s_thief_t thief = {.local = self->config.local, .tags = p->tags};
        s_group_by_file(self); /* the tail a thief takes is whole files */
        gift = shoal_hold_give(&self->hold, from, &sides, s_thief_can_run, &thief);
    }
    shoal_msg_t give = {.type = SHOAL_MSG_GIVE,
                        .term = self->config.elect->term ? self->config.elect->term : 1,
                        .items = gift ? gift->items : NULL,
                        .item_count = gift ? gift->count : 0};
    s_send(self, from, &give);
    if (!gift)
        return 0;
    shoal_log_debug("gave %zu tests to %s", gift->count, from);
    size_t given = gift->count;
    s_send_gifts(self, now);
    return given;
}

size_t
shoal_member_on_give(shoal_member_t *self, const char *from, shoal_msg_t *msg)
{
    if (self->steal_pending && strcmp(from, self->steal_victim) == 0)
        self->steal_pending = false;
    if (msg->item_count == 0) {
        s_said_no(self, from);
        return 0;
    }
    s_keep_runnable(self, from, msg);
    /* The thief's report of the move: the victim's may be lost with it. */
    if (s_leader(self)[0] && msg->item_count) {
        shoal_msg_t moved = {.type = SHOAL_MSG_MOVED,
                             .term = self->config.elect->term,
                             .victim = (char *)from,
                             .thief = (char *)self->config.name,
                             .items = msg->items,
                             .item_count = msg->item_count};
        s_send(self, s_leader(self), &moved);
    }
    shoal_log_debug("took %zu tests from %s", msg->item_count, from);
    size_t taken = shoal_hold_take(&self->hold, msg, false);
    if (taken) {
        self->ungrouped = true;
        self->dry = false;
    }
    return taken;
}

void
shoal_member_on_echo(shoal_member_t *self, const char *from, const shoal_msg_t *msg)
{
    if (strcmp(from, s_leader(self)) == 0 && strcmp(msg->victim, self->config.name) == 0)
        shoal_hold_confirmed(&self->hold, msg);
}
