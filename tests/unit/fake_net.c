/* The fake network (see fake_net.h). Frames in flight live in one array; the
 * earliest (then oldest) is delivered next. Nodes tick at the times their
 * meshes ask for, so a run is a pure function of the seed. */
#include "fake_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_NODES 64

typedef struct {
    uint64_t at, order;
    size_t from, to;
    size_t len;
    uint8_t *data;
} s_frame_t;

typedef struct {
    fake_net_t *net;
    size_t index;
} s_ctx_t;

struct fake_net {
    size_t count;
    gossip_mesh_t *meshes[S_MAX_NODES];
    s_ctx_t ctx[S_MAX_NODES];
    uint64_t next_tick[S_MAX_NODES];
    bool crashed[S_MAX_NODES], frozen[S_MAX_NODES];
    bool cut[S_MAX_NODES][S_MAX_NODES];
    unsigned transitions[S_MAX_NODES][S_MAX_NODES][4];
    uint64_t when[S_MAX_NODES][S_MAX_NODES][4];
    s_frame_t *frames;
    size_t frame_count, frame_cap;
    /* the last tag of subject's metadata as observer's member callback last
     * reported it ("" for none) */
    char last_tag[S_MAX_NODES][S_MAX_NODES][GOSSIP_TAG_MAX + 1];
    unsigned user_count[S_MAX_NODES];
    char user_last[S_MAX_NODES][128];
    uint64_t now, order, rng;
    double loss;
    uint32_t delay;
};

static size_t
s_index_of_addr(const char *addr)
{
    unsigned a, b, c, d;
    if (sscanf(addr, "%u.%u.%u.%u:", &a, &b, &c, &d) != 4 || d == 0)
        return S_MAX_NODES;
    return d - 1;
}

static double
s_uniform(fake_net_t *self)
{
    self->rng = self->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(self->rng >> 11) / (double)(1ULL << 53);
}

static int
s_send(void *ctx, const char *addr, const uint8_t *frame, size_t len)
{
    s_ctx_t *c = ctx;
    fake_net_t *self = c->net;
    size_t to = s_index_of_addr(addr);
    if (to >= self->count || self->crashed[to])
        return -1; /* nobody listens there: refused */
    if (self->cut[c->index][to] || (self->loss > 0 && s_uniform(self) < self->loss))
        return 0; /* lost silently */
    if (self->frame_count == self->frame_cap) {
        self->frame_cap = self->frame_cap ? self->frame_cap * 2 : 256;
        self->frames = realloc(self->frames, self->frame_cap * sizeof(s_frame_t));
    }
    s_frame_t *f = &self->frames[self->frame_count++];
    f->at = self->now + self->delay;
    f->order = self->order++;
    f->from = c->index;
    f->to = to;
    f->len = len;
    f->data = malloc(len);
    memcpy(f->data, frame, len);
    return 0;
}

static void
s_on_member(void *ctx, const gossip_member_t *m, gossip_state_t old)
{
    s_ctx_t *c = ctx;
    (void)old;
    unsigned subject;
    if (sscanf(m->name, "n%u", &subject) != 1 || subject >= S_MAX_NODES)
        return;
    c->net->transitions[c->index][subject][m->state]++;
    c->net->when[c->index][subject][m->state] = c->net->now;
    snprintf(c->net->last_tag[c->index][subject], GOSSIP_TAG_MAX + 1, "%s",
             m->meta.tag_count ? m->meta.tags[m->meta.tag_count - 1] : "");
}

static void
s_on_user(void *ctx, const char *from, const uint8_t *payload, size_t len)
{
    s_ctx_t *c = ctx;
    c->net->user_count[c->index]++;
    snprintf(c->net->user_last[c->index], sizeof(c->net->user_last[0]), "%s:%.*s", from, (int)len,
             (const char *)payload);
}

fake_net_t *
fake_net_new(size_t nodes, const char *profile, uint64_t seed)
{
    fake_net_t *self = calloc(1, sizeof(*self));
    self->count = nodes < S_MAX_NODES ? nodes : S_MAX_NODES;
    self->rng = seed;
    self->delay = 1;
    self->now = 1000;
    for (size_t i = 0; i < self->count; i++) {
        char name[32], addr[48];
        snprintf(name, sizeof(name), "n%zu", i);
        snprintf(addr, sizeof(addr), "127.0.0.%zu:7000", i + 1);
        self->ctx[i] = (s_ctx_t){self, i};
        gossip_mesh_config_t config = {
            .name = name,
            .addr = addr,
            .meta = {.slots = 2, .version = "test"},
            .profile = gossip_profile_find(profile),
            .seed = seed * 1000 + i + 1,
            .send = s_send,
            .send_ctx = &self->ctx[i],
            .on_member = s_on_member,
            .member_ctx = &self->ctx[i],
            .on_user = s_on_user,
            .user_ctx = &self->ctx[i],
        };
        self->meshes[i] = gossip_mesh_new(&config, self->now);
        self->next_tick[i] = self->now;
    }
    return self;
}

void
fake_net_destroy(fake_net_t **self_p)
{
    fake_net_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->count; i++)
        gossip_mesh_destroy(&self->meshes[i]);
    for (size_t i = 0; i < self->frame_count; i++)
        free(self->frames[i].data);
    free(self->frames);
    free(self);
    *self_p = NULL;
}

gossip_mesh_t *
fake_net_mesh(fake_net_t *self, size_t i)
{
    return self->meshes[i];
}

uint64_t
fake_net_now(const fake_net_t *self)
{
    return self->now;
}

size_t
fake_net_size(const fake_net_t *self)
{
    return self->count;
}

/* The next deliverable frame (not to a frozen node), or SIZE_MAX. */
static size_t
s_next_frame(const fake_net_t *self)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < self->frame_count; i++) {
        const s_frame_t *f = &self->frames[i];
        if (self->frozen[f->to])
            continue;
        if (best == SIZE_MAX || f->at < self->frames[best].at ||
            (f->at == self->frames[best].at && f->order < self->frames[best].order))
            best = i;
    }
    return best;
}

void
fake_net_run(fake_net_t *self, uint64_t ms)
{
    uint64_t until = self->now + ms;
    for (;;) {
        uint64_t next = until;
        size_t frame = s_next_frame(self);
        if (frame != SIZE_MAX && self->frames[frame].at < next)
            next = self->frames[frame].at;
        for (size_t i = 0; i < self->count; i++)
            if (!self->crashed[i] && !self->frozen[i] && self->next_tick[i] < next)
                next = self->next_tick[i];
        if (next > until || (next == until && frame == SIZE_MAX))
            break;
        if (next > self->now)
            self->now = next;
        if (frame != SIZE_MAX && self->frames[frame].at <= self->now) {
            s_frame_t f = self->frames[frame];
            self->frames[frame] = self->frames[--self->frame_count];
            if (!self->crashed[f.to])
                gossip_mesh_receive(self->meshes[f.to], f.data, f.len, self->now);
            free(f.data);
            continue;
        }
        for (size_t i = 0; i < self->count; i++)
            if (!self->crashed[i] && !self->frozen[i] && self->next_tick[i] <= self->now)
                self->next_tick[i] = gossip_mesh_tick(self->meshes[i], self->now);
        if (self->now >= until)
            break;
    }
    self->now = until;
}

void
fake_net_join_all(fake_net_t *self, uint64_t ms)
{
    /* As the node does: knock again every 500 ms until an answer arrives. */
    for (size_t i = 1; i < self->count; i++)
        gossip_mesh_join(self->meshes[i], "127.0.0.1:7000", self->now);
    uint64_t until = self->now + ms;
    for (int rounds = 0; rounds < 40; rounds++) {
        fake_net_run(self, 500);
        for (size_t i = 1; i < self->count; i++)
            if (!gossip_mesh_joined(self->meshes[i]) && !self->crashed[i])
                gossip_mesh_join(self->meshes[i], "127.0.0.1:7000", self->now);
    }
    if (self->now < until)
        fake_net_run(self, until - self->now);
}

void
fake_net_crash(fake_net_t *self, size_t i)
{
    self->crashed[i] = true;
}

void
fake_net_freeze(fake_net_t *self, size_t i, bool frozen)
{
    self->frozen[i] = frozen;
    if (!frozen)
        self->next_tick[i] = self->now; /* a thawed process catches up at once */
}

void
fake_net_cut(fake_net_t *self, size_t a, size_t b, bool cut)
{
    self->cut[a][b] = self->cut[b][a] = cut;
}

void
fake_net_set_loss(fake_net_t *self, double loss)
{
    self->loss = loss;
}

void
fake_net_set_delay(fake_net_t *self, uint32_t ms)
{
    self->delay = ms;
}

void
fake_net_inject(fake_net_t *self, size_t i, const uint8_t *frame, size_t len)
{
    gossip_mesh_receive(self->meshes[i], frame, len, self->now);
}

static const gossip_member_t *
s_lookup(fake_net_t *self, size_t observer, size_t subject)
{
    static gossip_member_t members[GOSSIP_MEMBERS_MAX];
    size_t n = gossip_mesh_members(self->meshes[observer], members, GOSSIP_MEMBERS_MAX);
    char name[32];
    snprintf(name, sizeof(name), "n%zu", subject);
    for (size_t i = 0; i < n && i < GOSSIP_MEMBERS_MAX; i++)
        if (strcmp(members[i].name, name) == 0)
            return &members[i];
    return NULL;
}

gossip_state_t
fake_net_state(fake_net_t *self, size_t observer, size_t subject)
{
    const gossip_member_t *m = s_lookup(self, observer, subject);
    return m ? m->state : GOSSIP_STATE_DEAD;
}

uint32_t
fake_net_incarnation(fake_net_t *self, size_t observer, size_t subject)
{
    const gossip_member_t *m = s_lookup(self, observer, subject);
    return m ? m->incarnation : 0;
}

bool
fake_net_known(fake_net_t *self, size_t observer, size_t subject)
{
    return s_lookup(self, observer, subject) != NULL;
}

unsigned
fake_net_transitions(const fake_net_t *self, size_t observer, size_t subject, gossip_state_t state)
{
    return self->transitions[observer][subject][state];
}

uint64_t
fake_net_when(const fake_net_t *self, size_t observer, size_t subject, gossip_state_t state)
{
    return self->when[observer][subject][state];
}

unsigned
fake_net_user_count(const fake_net_t *self, size_t i)
{
    return self->user_count[i];
}

const char *
fake_net_user_last(const fake_net_t *self, size_t i)
{
    return self->user_last[i];
}

const char *
fake_net_last_tag(const fake_net_t *self, size_t observer, size_t subject)
{
    return self->last_tag[observer][subject];
}
