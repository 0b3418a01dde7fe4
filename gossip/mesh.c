/* The mesh: SWIM membership with the Lifeguard refinements, without I/O.
 *
 * It owns the member table (self first), the probe cycle, indirect probe
 * relays, suspicion timers, the broadcast queue and push-pull sync. Time comes
 * in as `now`; frames go out through config.send and come in through
 * gossip_mesh_receive. A member's state only moves along these edges, each
 * performed by the function named:
 *
 *                 suspect(i >= inc)              timeout (s_expire)
 *      +-------+ ------------------> +---------+ ------------------> +------+
 *      | ALIVE |     (s_suspect)     | SUSPECT |                     | DEAD |
 *      +-------+ <------------------ +---------+                     +------+
 *        ^  ^     alive(i > inc)         |  dead(i >= inc) (s_dead)     |
 *        |  |     (s_alive)              +----------------------------->|
 *        |  +-----------------------------------------------------------+
 *        |                  alive(i > inc): rejoin or refuted (s_alive)
 *        |      any state --dead(i >= inc, from == name)--> LEFT (s_dead)
 *        +---------- alive(i > inc) from LEFT (s_alive)
 *
 * About ourselves, suspect or dead at our incarnation or above is refuted by
 * bumping our incarnation past it (s_refute). Invariant: the table never holds
 * two entries of one name, and members[0] is always this node.
 */
#include "gossip/broadcast.h"
#include "gossip/suspicion.h"
#include "gossip/wire.h"

#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_RELAYS_MAX 64
#define S_SUSPICION_K 3 /* confirmations expected before the timeout reaches its floor */

typedef struct {
    gossip_member_t pub;
    gossip_suspicion_t suspicion; /* while SUSPECT */
    uint64_t retry_at;            /* while DEAD: next push-pull attempt */
    uint64_t told_at;             /* last time we told it it is suspect or dead */
} s_member_t;

/* A probe we run on behalf of another member (PING_REQ). */
typedef struct {
    bool used;
    uint32_t our_seq, origin_seq;
    char origin[GOSSIP_NAME_MAX + 1];
    char origin_addr[GOSSIP_ADDR_MAX + 1];
    char target[GOSSIP_NAME_MAX + 1];
    uint64_t deadline;
} s_relay_t;

typedef struct {
    bool active, acked, indirect_sent;
    char target[GOSSIP_NAME_MAX + 1];
    uint32_t seq;
    uint64_t timeout_at, end_at;
    uint32_t expected_nacks, nacks;
} s_probe_t;

struct gossip_mesh {
    gossip_mesh_config_t config;
    gossip_profile_t profile;
    s_member_t *members; /* members[0] is self */
    size_t count;
    gossip_broadcast_t *broadcast;
    uint64_t rng;
    uint32_t seq;
    uint32_t awareness; /* Lifeguard local health: 0 healthy .. profile.awareness_max - 1 */
    s_probe_t probe;
    uint64_t next_probe_at, next_gossip_at, next_push_pull_at;
    char priority[GOSSIP_NAME_MAX + 1]; /* probe this member next (verify a suspicion) */
    size_t *order;                      /* probe order: indices into members */
    size_t order_count, order_pos;
    s_relay_t relays[S_RELAYS_MAX];
    bool joined, leaving;
    bool leave_sent; /* a gossip round carried our leave */
    int early_syncs; /* extra push-pulls soon after joining */
    gossip_stats_t stats;
    gossip_wire_msg_t *rx, *tx;
    uint8_t *frame;
};

/* ---------------------------------------------------------------- helpers */

static uint64_t
s_random(gossip_mesh_t *self)
{
    /* xorshift64*: deterministic for a given seed, which the tests rely on */
    self->rng ^= self->rng >> 12;
    self->rng ^= self->rng << 25;
    self->rng ^= self->rng >> 27;
    return self->rng * 0x2545F4914F6CDD1DULL;
}

static s_member_t *
s_find(gossip_mesh_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->members[i].pub.name, name) == 0)
            return &self->members[i];
    return NULL;
}

static s_member_t *
s_self(gossip_mesh_t *self)
{
    return &self->members[0];
}

static bool
s_probeable(const s_member_t *m)
{
    return !m->pub.self &&
           (m->pub.state == GOSSIP_STATE_ALIVE || m->pub.state == GOSSIP_STATE_SUSPECT);
}

static size_t
s_live_count(const gossip_mesh_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->count; i++)
        n += self->members[i].pub.self || s_probeable(&self->members[i]);
    return n;
}

static uint64_t
s_scaled(const gossip_mesh_t *self, uint32_t ms)
{
    return (uint64_t)ms * (self->awareness + 1);
}

static void
s_awareness(gossip_mesh_t *self, int delta)
{
    int score = (int)self->awareness + delta;
    int ceiling = (int)self->profile.awareness_max - 1;
    self->awareness = (uint32_t)(score < 0 ? 0 : score > ceiling ? ceiling : score);
}

static void
s_to_wire(const s_member_t *m, gossip_wire_member_t *out, const char *from)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", m->pub.name);
    snprintf(out->addr, sizeof(out->addr), "%s", m->pub.addr);
    snprintf(out->from, sizeof(out->from), "%s", from);
    out->incarnation = m->pub.incarnation;
    out->state = m->pub.state;
    out->meta = m->pub.meta;
    if (out->state == GOSSIP_STATE_LEFT) {
        /* on the wire a leave is a DEAD the member declared about itself */
        out->state = GOSSIP_STATE_DEAD;
        snprintf(out->from, sizeof(out->from), "%s", m->pub.name);
    }
}

/* Queues the member's current state for dissemination. */
static void
s_announce(gossip_mesh_t *self, const s_member_t *m, const char *from)
{
    gossip_wire_member_t update;
    s_to_wire(m, &update, from);
    gossip_broadcast_queue(self->broadcast, &update);
}

static void
s_set_state(gossip_mesh_t *self, s_member_t *m, gossip_state_t state, uint64_t now)
{
    gossip_state_t old = m->pub.state;
    m->pub.state = state;
    m->pub.state_since = now;
    if (self->config.on_member)
        self->config.on_member(self->config.member_ctx, &m->pub, old);
}

/* ---------------------------------------------------------------- sending */

static void
s_msg_init(gossip_mesh_t *self, gossip_wire_type_t type, uint32_t seq)
{
    gossip_wire_msg_t *msg = self->tx;
    gossip_wire_member_t *members = msg->members;
    memset(msg, 0, offsetof(gossip_wire_msg_t, updates));
    msg->update_count = 0;
    msg->member_count = 0;
    msg->members = members;
    msg->payload = NULL;
    msg->payload_len = 0;
    msg->type = type;
    msg->seq = seq;
    snprintf(msg->from, sizeof(msg->from), "%s", s_self(self)->pub.name);
    snprintf(msg->from_addr, sizeof(msg->from_addr), "%s", s_self(self)->pub.addr);
}

/* Adds an update about m first in line, so the receiver sees it whatever the
 * queue holds (used to tell a member it is suspected: Lifeguard's buddy system). */
static void
s_msg_tell(gossip_mesh_t *self, const s_member_t *m)
{
    gossip_wire_msg_t *msg = self->tx;
    if (msg->update_count < GOSSIP_WIRE_MAX_UPDATES)
        s_to_wire(m, &msg->updates[msg->update_count++], s_self(self)->pub.name);
}

/* Encodes self->tx, piggybacking queued updates, and hands it to the transport.
 * Returns 0, or -1 if the peer cannot be reached now. */
static int
s_send(gossip_mesh_t *self, const char *addr)
{
    gossip_wire_msg_t *msg = self->tx;
    if (msg->type != GOSSIP_WIRE_PUSH_PULL) {
        uint32_t limit = gossip_broadcast_limit(self->profile.retransmit_mult, s_live_count(self));
        msg->update_count +=
            (uint16_t)gossip_broadcast_take(self->broadcast, msg->updates + msg->update_count,
                                            GOSSIP_WIRE_MAX_UPDATES - msg->update_count, limit);
    }
    int len = gossip_wire_encode(msg, self->frame, GOSSIP_WIRE_MAX_FRAME);
    /* Only a full table of members with long tags outgrows a frame: send the
     * part that fits (self first), the rest follows in later syncs. */
    while (len < 0 && msg->type == GOSSIP_WIRE_PUSH_PULL && msg->member_count > 1) {
        msg->member_count = (uint16_t)(msg->member_count * 3 / 4);
        len = gossip_wire_encode(msg, self->frame, GOSSIP_WIRE_MAX_FRAME);
    }
    if (len < 0) {
        self->stats.drop_send++;
        return -1;
    }
    self->stats.frames_out++;
    self->stats.bytes_out += (uint64_t)len;
    self->stats.by_type_out[msg->type]++;
    if (self->config.send(self->config.send_ctx, addr, self->frame, (size_t)len) != 0) {
        self->stats.drop_send++;
        return -1;
    }
    return 0;
}

static void
s_send_push_pull(gossip_mesh_t *self, const char *addr, bool reply)
{
    s_msg_init(self, GOSSIP_WIRE_PUSH_PULL, 0);
    gossip_wire_msg_t *msg = self->tx;
    msg->reply = reply;
    /* Self always first, then everyone else that fits. */
    /* Self first, then everyone else in a random rotation, so that a table too
     * big for one frame still spreads whole over successive syncs. */
    s_to_wire(&self->members[0], &msg->members[msg->member_count++], msg->from);
    size_t start = self->count > 1 ? 1 + (size_t)(s_random(self) % (self->count - 1)) : 1;
    for (size_t k = 0; k + 1 < self->count && msg->member_count < GOSSIP_WIRE_MAX_MEMBERS; k++) {
        size_t i = 1 + (start - 1 + k) % (self->count - 1);
        s_to_wire(&self->members[i], &msg->members[msg->member_count++], msg->from);
    }
    self->stats.push_pulls++;
    s_send(self, addr);
}

/* ---------------------------------------------------------------- state changes */

static void
s_refute(gossip_mesh_t *self, uint32_t accused, uint64_t now)
{
    s_member_t *me = s_self(self);
    if (self->leaving)
        return;
    me->pub.incarnation = (accused > me->pub.incarnation ? accused : me->pub.incarnation) + 1;
    me->pub.state_since = now;
    self->stats.refutations++;
    /* Being accused means others could not hear us in time: we may be the slow
     * one, so probe more gently (Lifeguard). */
    s_awareness(self, 1);
    s_announce(self, me, me->pub.name);
}

static s_member_t *
s_add(gossip_mesh_t *self, const gossip_wire_member_t *u, uint64_t now)
{
    if (self->count == GOSSIP_WIRE_MAX_MEMBERS)
        return NULL;
    s_member_t *m = &self->members[self->count++];
    memset(m, 0, sizeof(*m));
    snprintf(m->pub.name, sizeof(m->pub.name), "%s", u->name);
    snprintf(m->pub.addr, sizeof(m->pub.addr), "%s", u->addr);
    m->pub.incarnation = u->incarnation;
    m->pub.meta = u->meta;
    m->pub.state = GOSSIP_STATE_ALIVE;
    m->pub.state_since = now;
    /* A newcomer is probed within this round, at a random place in it. */
    if (self->order_pos < self->order_count) {
        size_t span = self->order_count - self->order_pos + 1;
        size_t at = self->order_pos + (size_t)(s_random(self) % span);
        self->order[self->order_count++] = self->order[at];
        self->order[at] = self->count - 1;
    }
    if (self->config.on_member)
        self->config.on_member(self->config.member_ctx, &m->pub, m->pub.state);
    return m;
}

static void
s_alive(gossip_mesh_t *self, const gossip_wire_member_t *u, uint64_t now)
{
    s_member_t *m = s_find(self, u->name);
    if (m && m->pub.self) {
        /* Someone holds a newer incarnation of us than we do: an earlier run of
         * this node. Take over with a higher one. */
        if (u->incarnation > m->pub.incarnation)
            s_refute(self, u->incarnation, now);
        return;
    }
    if (!m) {
        m = s_add(self, u, now);
        if (m)
            s_announce(self, m, u->from);
        return;
    }
    if (u->incarnation <= m->pub.incarnation)
        return;
    snprintf(m->pub.addr, sizeof(m->pub.addr), "%s", u->addr);
    m->pub.incarnation = u->incarnation;
    m->pub.meta = u->meta;
    s_set_state(self, m, GOSSIP_STATE_ALIVE, now);
    s_announce(self, m, u->from);
}

static void
s_start_suspicion(gossip_mesh_t *self, s_member_t *m, const char *accuser, uint64_t now)
{
    size_t n = s_live_count(self);
    uint32_t min = gossip_suspicion_min_ms(self->profile.suspicion_min_ms, n);
    uint32_t max = min * self->profile.suspicion_max_mult;
    /* With few members, fewer independent confirmations can exist. */
    uint32_t k = n > S_SUSPICION_K + 2 ? S_SUSPICION_K : (n > 2 ? (uint32_t)n - 2 : 0);
    gossip_suspicion_start(&m->suspicion, now, min, max, k, accuser);
}

static void
s_suspect(gossip_mesh_t *self, const gossip_wire_member_t *u, uint64_t now)
{
    s_member_t *m = s_find(self, u->name);
    if (!m)
        return;
    if (m->pub.self) {
        if (u->incarnation >= m->pub.incarnation)
            s_refute(self, u->incarnation, now);
        return;
    }
    if (u->incarnation < m->pub.incarnation)
        return;
    if (m->pub.state == GOSSIP_STATE_SUSPECT) {
        /* Another member's independent accusation: shorten the wait, and pass
         * it on so others count it too. */
        if (gossip_suspicion_confirm(&m->suspicion, u->from))
            gossip_broadcast_queue(self->broadcast, u);
        return;
    }
    if (m->pub.state != GOSSIP_STATE_ALIVE)
        return;
    m->pub.incarnation = u->incarnation;
    s_start_suspicion(self, m, u->from, now);
    self->stats.suspicions++;
    s_set_state(self, m, GOSSIP_STATE_SUSPECT, now);
    gossip_broadcast_queue(self->broadcast, u);
    /* Verify a fresh suspicion ourselves with probability about (k+1)/n, so a
     * few independent confirmations arrive within one probe round instead of
     * waiting for the suspect's turn in everyone's round-robin. */
    if (strcmp(u->from, s_self(self)->pub.name) != 0) {
        size_t n = s_live_count(self);
        if (n <= S_SUSPICION_K + 1 || s_random(self) % n <= S_SUSPICION_K) {
            snprintf(self->priority, sizeof(self->priority), "%s", m->pub.name);
            if (!self->probe.active && !self->leaving)
                self->next_probe_at = now;
        }
    }
}

static void
s_dead(gossip_mesh_t *self, const gossip_wire_member_t *u, uint64_t now)
{
    s_member_t *m = s_find(self, u->name);
    if (!m)
        return;
    bool leave = strcmp(u->from, u->name) == 0;
    if (m->pub.self) {
        if (!self->leaving && u->incarnation >= m->pub.incarnation)
            s_refute(self, u->incarnation, now);
        return;
    }
    if (u->incarnation < m->pub.incarnation)
        return;
    gossip_state_t state = leave ? GOSSIP_STATE_LEFT : GOSSIP_STATE_DEAD;
    if (m->pub.state == state || m->pub.state == GOSSIP_STATE_LEFT)
        return;
    m->pub.incarnation = u->incarnation;
    m->retry_at = now + self->profile.push_pull_interval_ms;
    s_set_state(self, m, state, now);
    gossip_broadcast_queue(self->broadcast, u);
}

static void
s_apply(gossip_mesh_t *self, const gossip_wire_member_t *u, bool full_sync, uint64_t now)
{
    switch (u->state) {
        case GOSSIP_STATE_ALIVE:
            s_alive(self, u, now);
            break;
        case GOSSIP_STATE_SUSPECT:
            s_suspect(self, u, now);
            break;
        case GOSSIP_STATE_DEAD:
        case GOSSIP_STATE_LEFT:
            if (full_sync && strcmp(u->from, u->name) != 0) {
                /* A full-state sync may be stale: it only raises a suspicion,
                 * which the member can refute (as memberlist does). */
                gossip_wire_member_t as_suspect = *u;
                as_suspect.state = GOSSIP_STATE_SUSPECT;
                snprintf(as_suspect.from, sizeof(as_suspect.from), "%s", u->from);
                s_suspect(self, &as_suspect, now);
            } else
                s_dead(self, u, now);
            break;
    }
}

/* ---------------------------------------------------------------- probing */

static void
s_declare_suspect(gossip_mesh_t *self, const char *name, uint64_t now)
{
    s_member_t *m = s_find(self, name);
    if (!m || !s_probeable(m))
        return; /* already dead or left; or reaped meanwhile */
    gossip_wire_member_t u;
    s_to_wire(m, &u, s_self(self)->pub.name);
    u.state = GOSSIP_STATE_SUSPECT;
    s_suspect(self, &u, now);
}

static void
s_probe_done(gossip_mesh_t *self, bool success, uint64_t now)
{
    s_probe_t *p = &self->probe;
    p->active = false;
    if (success) {
        s_awareness(self, -1);
        return;
    }
    self->stats.probe_failures++;
    /* Lifeguard: missing nacks mean our own links or CPU may be at fault. */
    if (p->expected_nacks > 0)
        s_awareness(self, (int)(p->expected_nacks - p->nacks));
    else
        s_awareness(self, 1);
    s_declare_suspect(self, p->target, now);
}

/* Picks up to max distinct probeable members other than exclude, at random. */
static size_t
s_pick(gossip_mesh_t *self, const char *exclude, size_t *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < self->count; i++) {
        if (!s_probeable(&self->members[i]) || self->members[i].pub.state != GOSSIP_STATE_ALIVE)
            continue;
        if (exclude && strcmp(self->members[i].pub.name, exclude) == 0)
            continue;
        /* reservoir sampling keeps the choice uniform */
        if (n < max)
            out[n++] = i;
        else {
            size_t j = (size_t)(s_random(self) % (n + 1));
            if (j < max)
                out[j] = i;
            n++;
        }
    }
    return n < max ? n : max;
}

static void
s_send_indirect(gossip_mesh_t *self, uint64_t now)
{
    s_probe_t *p = &self->probe;
    s_member_t *target = s_find(self, p->target);
    p->indirect_sent = true;
    if (!target)
        return;
    size_t helpers[16];
    size_t k = self->profile.indirect_probes < 16 ? self->profile.indirect_probes : 16;
    size_t n = s_pick(self, p->target, helpers, k);
    for (size_t i = 0; i < n; i++) {
        s_member_t *helper = &self->members[helpers[i]];
        s_msg_init(self, GOSSIP_WIRE_PING_REQ, p->seq);
        snprintf(self->tx->target, sizeof(self->tx->target), "%s", target->pub.name);
        snprintf(self->tx->target_addr, sizeof(self->tx->target_addr), "%s", target->pub.addr);
        if (s_send(self, helper->pub.addr) == 0)
            p->expected_nacks++;
    }
    self->stats.indirect_probes += n;
    (void)now;
}

static size_t
s_next_target(gossip_mesh_t *self)
{
    if (self->priority[0]) {
        s_member_t *m = s_find(self, self->priority);
        self->priority[0] = '\0';
        if (m && s_probeable(m))
            return (size_t)(m - self->members);
    }
    for (int pass = 0; pass < 2; pass++) {
        while (self->order_pos < self->order_count) {
            size_t i = self->order[self->order_pos++];
            if (i < self->count && s_probeable(&self->members[i]))
                return i;
        }
        /* Round over: reshuffle everyone probeable (Fisher-Yates). */
        self->order_count = 0;
        self->order_pos = 0;
        for (size_t i = 0; i < self->count; i++)
            if (s_probeable(&self->members[i]))
                self->order[self->order_count++] = i;
        for (size_t i = self->order_count; i > 1; i--) {
            size_t j = (size_t)(s_random(self) % i);
            size_t t = self->order[i - 1];
            self->order[i - 1] = self->order[j];
            self->order[j] = t;
        }
    }
    return 0; /* nobody to probe */
}

static void
s_probe_start(gossip_mesh_t *self, uint64_t now)
{
    size_t i = s_next_target(self);
    self->next_probe_at = now + s_scaled(self, self->profile.probe_interval_ms);
    if (i == 0)
        return;
    s_member_t *m = &self->members[i];
    s_probe_t *p = &self->probe;
    memset(p, 0, sizeof(*p));
    p->active = true;
    snprintf(p->target, sizeof(p->target), "%s", m->pub.name);
    p->seq = ++self->seq;
    p->timeout_at = now + s_scaled(self, self->profile.probe_timeout_ms);
    p->end_at = self->next_probe_at;
    self->stats.probes++;
    s_msg_init(self, GOSSIP_WIRE_PING, p->seq);
    snprintf(self->tx->target, sizeof(self->tx->target), "%s", m->pub.name);
    if (m->pub.state == GOSSIP_STATE_SUSPECT)
        s_msg_tell(self, m);
    if (s_send(self, m->pub.addr) != 0)
        p->timeout_at = now; /* unreachable: go indirect at once */
}

static void
s_probe_tick(gossip_mesh_t *self, uint64_t now)
{
    s_probe_t *p = &self->probe;
    if (p->active && !p->indirect_sent && now >= p->timeout_at)
        s_send_indirect(self, now);
    /* Fail at the end of the interval, or as soon as every helper said no. */
    if (p->active && p->indirect_sent &&
        (now >= p->end_at || (p->expected_nacks > 0 && p->nacks >= p->expected_nacks)))
        s_probe_done(self, false, now);
    if (!p->active && !self->leaving && now >= self->next_probe_at)
        s_probe_start(self, now);
}

/* ---------------------------------------------------------------- timers */

static void
s_expire_suspicions(gossip_mesh_t *self, uint64_t now)
{
    for (size_t i = 1; i < self->count; i++) {
        s_member_t *m = &self->members[i];
        if (m->pub.state != GOSSIP_STATE_SUSPECT || now < m->suspicion.deadline)
            continue;
        gossip_wire_member_t u;
        s_to_wire(m, &u, s_self(self)->pub.name);
        u.state = GOSSIP_STATE_DEAD;
        self->stats.deaths_declared++;
        s_dead(self, &u, now);
    }
}

static void
s_expire_relays(gossip_mesh_t *self, uint64_t now)
{
    for (size_t i = 0; i < S_RELAYS_MAX; i++) {
        s_relay_t *r = &self->relays[i];
        if (!r->used || now < r->deadline)
            continue;
        r->used = false;
        s_msg_init(self, GOSSIP_WIRE_NACK, r->origin_seq);
        snprintf(self->tx->target, sizeof(self->tx->target), "%s", r->target);
        s_send(self, r->origin_addr);
    }
}

static void
s_gossip_tick(gossip_mesh_t *self, uint64_t now)
{
    if (now < self->next_gossip_at)
        return;
    self->next_gossip_at = now + self->profile.gossip_interval_ms;
    if (gossip_broadcast_size(self->broadcast) == 0)
        return;
    size_t targets[16];
    size_t fanout = self->profile.gossip_fanout < 16 ? self->profile.gossip_fanout : 16;
    size_t n = s_pick(self, NULL, targets, fanout);
    for (size_t i = 0; i < n; i++) {
        s_msg_init(self, GOSSIP_WIRE_GOSSIP, 0);
        s_send(self, self->members[targets[i]].pub.addr);
    }
    /* The leave is the newest update, so it went first into each of them. */
    self->leave_sent = self->leaving;
}

static void
s_push_pull_tick(gossip_mesh_t *self, uint64_t now)
{
    if (now < self->next_push_pull_at)
        return;
    /* Larger clusters sync less often, as memberlist scales it past 32. */
    size_t n = s_live_count(self);
    uint64_t scale = 1;
    for (size_t cap = 32; n > cap; cap *= 2)
        scale++;
    self->next_push_pull_at = now + self->profile.push_pull_interval_ms * scale;
    if (self->early_syncs > 0) {
        self->early_syncs--;
        self->next_push_pull_at = now + self->profile.gossip_interval_ms * 40;
    }
    size_t pick;
    if (s_pick(self, NULL, &pick, 1) == 1)
        s_send_push_pull(self, self->members[pick].pub.addr, false);
    /* Keep knocking on a dead member's door for a while: heals partitions. */
    for (size_t i = 1; i < self->count; i++) {
        s_member_t *m = &self->members[i];
        if (m->pub.state != GOSSIP_STATE_DEAD || now < m->retry_at ||
            now - m->pub.state_since > self->profile.dead_retry_ms)
            continue;
        m->retry_at = now + self->profile.push_pull_interval_ms;
        s_send_push_pull(self, m->pub.addr, false);
        break;
    }
}

static void
s_reap(gossip_mesh_t *self, uint64_t now)
{
    size_t kept = 1;
    for (size_t i = 1; i < self->count; i++) {
        s_member_t *m = &self->members[i];
        bool gone = m->pub.state == GOSSIP_STATE_DEAD || m->pub.state == GOSSIP_STATE_LEFT;
        if (gone && now - m->pub.state_since > self->profile.reap_ms)
            continue;
        self->members[kept++] = *m;
    }
    if (kept != self->count) {
        self->count = kept;
        self->order_count = self->order_pos = 0; /* indices moved: new round */
    }
}

/* ---------------------------------------------------------------- receiving */

static void
s_on_ping(gossip_mesh_t *self, const gossip_wire_msg_t *msg, s_member_t *sender)
{
    /* A ping meant for an earlier node at our address is not ours to answer. */
    if (strcmp(msg->target, s_self(self)->pub.name) != 0)
        return;
    s_msg_init(self, GOSSIP_WIRE_ACK, msg->seq);
    if (sender && sender->pub.state != GOSSIP_STATE_ALIVE)
        s_msg_tell(self, sender);
    s_send(self, msg->from_addr);
}

static void
s_on_ack(gossip_mesh_t *self, const gossip_wire_msg_t *msg, uint64_t now)
{
    s_probe_t *p = &self->probe;
    if (p->active && msg->seq == p->seq) {
        /* a direct ack comes from the target; a forwarded one names it */
        const char *who = msg->target[0] ? msg->target : msg->from;
        if (strcmp(who, p->target) == 0) {
            s_probe_done(self, true, now);
            return;
        }
    }
    for (size_t i = 0; i < S_RELAYS_MAX; i++) {
        s_relay_t *r = &self->relays[i];
        if (r->used && r->our_seq == msg->seq && strcmp(r->target, msg->from) == 0) {
            r->used = false;
            s_msg_init(self, GOSSIP_WIRE_ACK, r->origin_seq);
            snprintf(self->tx->target, sizeof(self->tx->target), "%s", r->target);
            s_send(self, r->origin_addr);
            return;
        }
    }
    self->stats.drop_stale++;
}

static void
s_on_ping_req(gossip_mesh_t *self, const gossip_wire_msg_t *msg, uint64_t now)
{
    s_relay_t *r = NULL;
    for (size_t i = 0; i < S_RELAYS_MAX && !r; i++)
        if (!self->relays[i].used)
            r = &self->relays[i];
    if (!r)
        return; /* too many at once: the origin will get no nack, as if we were slow */
    r->used = true;
    r->our_seq = ++self->seq;
    r->origin_seq = msg->seq;
    snprintf(r->origin, sizeof(r->origin), "%s", msg->from);
    snprintf(r->origin_addr, sizeof(r->origin_addr), "%s", msg->from_addr);
    snprintf(r->target, sizeof(r->target), "%s", msg->target);
    r->deadline = now + self->profile.probe_timeout_ms;
    s_msg_init(self, GOSSIP_WIRE_PING, r->our_seq);
    snprintf(self->tx->target, sizeof(self->tx->target), "%s", msg->target);
    if (s_send(self, msg->target_addr) != 0)
        r->deadline = now; /* nack on the next tick */
}

static void
s_on_nack(gossip_mesh_t *self, const gossip_wire_msg_t *msg)
{
    s_probe_t *p = &self->probe;
    if (p->active && msg->seq == p->seq && strcmp(msg->target, p->target) == 0)
        p->nacks++;
    else
        self->stats.drop_stale++;
}

static void
s_on_push_pull(gossip_mesh_t *self, const gossip_wire_msg_t *msg, uint64_t now)
{
    for (size_t i = 0; i < msg->member_count; i++)
        s_apply(self, &msg->members[i], true, now);
    if (!self->joined) {
        /* Members that joined at the same moment as we did may not have
         * reached us through gossip yet: sync again soon, twice. */
        self->early_syncs = 2;
        self->next_push_pull_at = now + self->profile.gossip_interval_ms * 20;
    }
    self->joined = true;
    if (!msg->reply)
        s_send_push_pull(self, msg->from_addr, true);
}

void
gossip_mesh_receive(gossip_mesh_t *self, const uint8_t *frame, size_t len, uint64_t now)
{
    gossip_wire_msg_t *msg = self->rx;
    int rc = gossip_wire_decode(frame, len, msg);
    if (rc != 0) {
        self->stats.drop_decode++;
        return;
    }
    self->stats.frames_in++;
    self->stats.bytes_in += len;
    self->stats.by_type_in[msg->type]++;
    if (strcmp(msg->from, s_self(self)->pub.name) == 0)
        return; /* our own frame, looped back */
    s_member_t *sender = s_find(self, msg->from);
    if (sender)
        sender->pub.last_heard = now;
    for (size_t i = 0; i < msg->update_count; i++)
        s_apply(self, &msg->updates[i], false, now);
    sender = s_find(self, msg->from); /* the table may have moved */

    switch (msg->type) {
        case GOSSIP_WIRE_PING:
            s_on_ping(self, msg, sender);
            break;
        case GOSSIP_WIRE_ACK:
            s_on_ack(self, msg, now);
            break;
        case GOSSIP_WIRE_PING_REQ:
            s_on_ping_req(self, msg, now);
            break;
        case GOSSIP_WIRE_NACK:
            s_on_nack(self, msg);
            break;
        case GOSSIP_WIRE_PUSH_PULL:
            s_on_push_pull(self, msg, now);
            break;
        case GOSSIP_WIRE_USER:
            if (self->config.on_user)
                self->config.on_user(self->config.user_ctx, msg->from, msg->payload,
                                     msg->payload_len);
            break;
        case GOSSIP_WIRE_GOSSIP:
            break;
    }

    /* A member that talks to us while we hold it suspect or dead has not heard:
     * tell it, at most once per probe interval, so it can refute. */
    if (sender && sender->pub.state != GOSSIP_STATE_ALIVE &&
        sender->pub.state != GOSSIP_STATE_LEFT &&
        now - sender->told_at >= self->profile.probe_interval_ms) {
        sender->told_at = now;
        s_msg_init(self, GOSSIP_WIRE_GOSSIP, 0);
        s_msg_tell(self, sender);
        s_send(self, sender->pub.addr);
    }
}

/* ---------------------------------------------------------------- public */

gossip_mesh_t *
gossip_mesh_new(const gossip_mesh_config_t *config, uint64_t now)
{
    assert(config && config->name && config->addr && config->send && config->profile);
    gossip_mesh_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->config = *config;
    self->profile = *config->profile;
    self->rng = config->seed ? config->seed : 0x9E3779B97F4A7C15ULL;
    self->members = calloc(GOSSIP_WIRE_MAX_MEMBERS, sizeof(s_member_t));
    self->order = calloc(GOSSIP_WIRE_MAX_MEMBERS * 2, sizeof(size_t));
    self->broadcast = gossip_broadcast_new();
    self->rx = calloc(1, sizeof(gossip_wire_msg_t));
    self->tx = calloc(1, sizeof(gossip_wire_msg_t));
    self->frame = malloc(GOSSIP_WIRE_MAX_FRAME);
    if (self->rx && self->tx) {
        self->rx->members = calloc(GOSSIP_WIRE_MAX_MEMBERS, sizeof(gossip_wire_member_t));
        self->rx->payload = malloc(GOSSIP_WIRE_MAX_PAYLOAD);
        self->tx->members = calloc(GOSSIP_WIRE_MAX_MEMBERS, sizeof(gossip_wire_member_t));
    }
    if (!self->members || !self->order || !self->broadcast || !self->rx || !self->tx ||
        !self->frame || !self->rx->members || !self->rx->payload || !self->tx->members) {
        gossip_mesh_destroy(&self);
        return NULL;
    }
    s_member_t *me = &self->members[0];
    snprintf(me->pub.name, sizeof(me->pub.name), "%s", config->name);
    snprintf(me->pub.addr, sizeof(me->pub.addr), "%s", config->addr);
    me->pub.meta = config->meta;
    me->pub.state = GOSSIP_STATE_ALIVE;
    me->pub.state_since = now;
    me->pub.last_heard = now;
    me->pub.self = true;
    self->count = 1;
    /* Spread the first probe over one interval so nodes started together do not
     * probe in lockstep. */
    self->next_probe_at = now + s_random(self) % self->profile.probe_interval_ms;
    self->next_gossip_at = now;
    self->next_push_pull_at = now + self->profile.push_pull_interval_ms;
    return self;
}

void
gossip_mesh_destroy(gossip_mesh_t **self_p)
{
    gossip_mesh_t *self = *self_p;
    if (!self)
        return;
    if (self->rx) {
        free(self->rx->members);
        free(self->rx->payload);
    }
    if (self->tx)
        free(self->tx->members);
    free(self->rx);
    free(self->tx);
    free(self->frame);
    gossip_broadcast_destroy(&self->broadcast);
    free(self->order);
    free(self->members);
    free(self);
    *self_p = NULL;
}

int
gossip_mesh_join(gossip_mesh_t *self, const char *addr, uint64_t now)
{
    (void)now;
    s_send_push_pull(self, addr, false);
    return 0;
}

bool
gossip_mesh_joined(const gossip_mesh_t *self)
{
    return self->joined;
}

uint64_t
gossip_mesh_tick(gossip_mesh_t *self, uint64_t now)
{
    s_expire_relays(self, now);
    s_probe_tick(self, now);
    s_expire_suspicions(self, now);
    s_gossip_tick(self, now);
    if (!self->leaving) {
        s_push_pull_tick(self, now);
        s_reap(self, now);
    }

    uint64_t next = self->next_gossip_at;
    if (!self->leaving && self->next_probe_at < next)
        next = self->next_probe_at;
    if (self->next_push_pull_at < next)
        next = self->next_push_pull_at;
    const s_probe_t *p = &self->probe;
    if (p->active) {
        uint64_t due = p->indirect_sent ? p->end_at : p->timeout_at;
        if (due < next)
            next = due;
    }
    for (size_t i = 1; i < self->count; i++)
        if (self->members[i].pub.state == GOSSIP_STATE_SUSPECT &&
            self->members[i].suspicion.deadline < next)
            next = self->members[i].suspicion.deadline;
    for (size_t i = 0; i < S_RELAYS_MAX; i++)
        if (self->relays[i].used && self->relays[i].deadline < next)
            next = self->relays[i].deadline;
    return next > now ? next : now + 1;
}

void
gossip_mesh_leave(gossip_mesh_t *self, uint64_t now)
{
    s_member_t *me = s_self(self);
    me->pub.incarnation++;
    s_set_state(self, me, GOSSIP_STATE_LEFT, now);
    self->leaving = true;
    self->probe.active = false;
    s_announce(self, me, me->pub.name);
    self->next_gossip_at = now;
}

bool
gossip_mesh_leave_sent(const gossip_mesh_t *self)
{
    return self->leave_sent;
}

int
gossip_mesh_set_meta(gossip_mesh_t *self, const gossip_meta_t *meta, uint64_t now)
{
    s_member_t *me = s_self(self);
    if (self->leaving)
        return -1;
    /* A newer incarnation carries the new metadata as any alive update does
     * (memberlist's UpdateNode): everyone replaces what it held, and a sync
     * repairs whoever the gossip missed. */
    me->pub.incarnation++;
    me->pub.meta = *meta;
    s_announce(self, me, me->pub.name);
    self->next_gossip_at = now;
    if (self->config.on_member)
        self->config.on_member(self->config.member_ctx, &me->pub, me->pub.state);
    return 0;
}

int
gossip_mesh_send_user(gossip_mesh_t *self, const char *name, const uint8_t *payload, size_t len)
{
    s_member_t *m = s_find(self, name);
    if (!m || !s_probeable(m) || len > GOSSIP_WIRE_MAX_PAYLOAD)
        return -1;
    s_msg_init(self, GOSSIP_WIRE_USER, 0);
    self->tx->payload = (uint8_t *)payload; /* only read by the encoder */
    self->tx->payload_len = len;
    int rc = s_send(self, m->pub.addr);
    self->tx->payload = NULL;
    return rc;
}

size_t
gossip_mesh_members(const gossip_mesh_t *self, gossip_member_t *out, size_t cap)
{
    for (size_t i = 0; i < self->count && i < cap; i++)
        out[i] = self->members[i].pub;
    return self->count;
}

const gossip_member_t *
gossip_mesh_member(const gossip_mesh_t *self, const char *name)
{
    const s_member_t *m = s_find((gossip_mesh_t *)self, name);
    return m ? &m->pub : NULL;
}

gossip_stats_t *
gossip_mesh_stats(gossip_mesh_t *self)
{
    self->stats.awareness = self->awareness;
    return &self->stats;
}
