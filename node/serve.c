/* The node side of the hand-off (see serve.h for the life of a session here
 * and handoff.h for the requests). Every session it runs is a
 * shoal_session_t on the node's loop whose report forwards its progress
 * here and whose log lines are tapped: both become events the client polls
 * for, numbered, so a reply lost on the way is sent again. */
#include "node/serve.h"
#include "node/files.h"
#include "node/handoff.h"
#include "node/identity.h"
#include "node/job.h"
#include "node/log.h"
#include "node/session.h"
#include "node/session_tag.h"

#include <czmq.h>
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>

#define S_TICK_MS 100
#define S_CREATE_POLL_MS 5       /* while a runner is made beside the loop */
#define S_CLIENT_SILENT_MS 10000 /* a client that has not polled this long is gone */
#define S_EVENTS_PER_REPLY 512   /* events in one poll reply, at most */
#define S_EVENTS_MAX 100000      /* events waiting for a client; beyond, lines are dropped */
#define S_FRAME_MAX (256 * 1024) /* one encoded session message */

typedef struct {
    uint64_t seq;
    zframe_t *frame; /* kind byte + body */
} s_event_t;

/* The runner, made beside the loop: reading a list of a million tests
 * takes seconds, longer than the mesh waits before it suspects a node. */
typedef struct {
    shoal_handoff_t handoff; /* its own copy: the session may be gone first */
    shoal_adapter_t *adapter;
    char err[1024];
} s_create_t;

typedef struct {
    char token[33];
    char digest[33];       /* the runner's: its tag says it */
    shoal_job_t *creating; /* making the runner (s_create_t): no session yet */
    s_create_t *create;
    shoal_handoff_t handoff; /* owns the config, command, cwd and environment */
    shoal_session_t *session;
    unsigned share;
    uint64_t last_poll;
    zlist_t *events;   /* s_event_t *, by seq */
    uint64_t next_seq; /* of the next event; the first is 1 */
    uint64_t dropped;
    /* A shipped session (shoal_serve_host): no client polls it. */
    char developer[GOSSIP_NAME_MAX + 1]; /* "" for a local client's */
    char who[SHOAL_IDENTITY_NAME_MAX + 1];
    uint64_t developer_missing; /* since when it is not alive, ms; 0: alive */
    char dir[PATH_MAX];         /* removed when freed */
    char failed[1024];          /* why its runner could not be made here ("" if it was) */
    char **wrap;
    bool ended;    /* over: the end is queued, the tag dropped, the workers close */
    bool released; /* the client has the end, or is gone: freed once closed */
} s_hosted_t;

struct shoal_serve {
    shoal_node_t *node;
    shoal_loop_t *loop;
    long timer;
    zlist_t *hosted; /* s_hosted_t *, oldest first */
    gossip_meta_t advertised;
    uint8_t *buf;              /* S_FRAME_MAX, to encode into */
    shoal_serve_done_fn *done; /* told of each shipped session that ends */
    void *done_ctx;
};

static shoal_serve_t *s_serve; /* the one of the process, for the log tap */

/* ---------------------------------------------------------------- events */

static void
s_queue(s_hosted_t *h, char kind, const void *body, size_t len)
{
    if (h->developer[0])
        return; /* shipped: no client polls its events */
    if (zlist_size(h->events) >= S_EVENTS_MAX && kind != SHOAL_HANDOFF_SUMMARY &&
        kind != SHOAL_HANDOFF_END) {
        h->dropped++; /* the client is that far behind: it loses lines, never the end */
        return;
    }
    s_event_t *event = calloc(1, sizeof(*event));
    zframe_t *frame = event ? zframe_new(NULL, len + 1) : NULL;
    if (!frame) {
        free(event);
        return;
    }
    zframe_data(frame)[0] = (byte)kind;
    memcpy(zframe_data(frame) + 1, body, len);
    event->seq = h->next_seq++;
    event->frame = frame;
    zlist_append(h->events, event);
}

static void
s_queue_progress(void *arg, const uint8_t *frame, size_t len)
{
    s_queue(arg, SHOAL_HANDOFF_PROGRESS, frame, len);
}

static void
s_queue_summary(void *arg, const uint8_t *frame, size_t len)
{
    s_queue(arg, SHOAL_HANDOFF_SUMMARY, frame, len);
}

static void
s_events_drop(s_hosted_t *h, uint64_t acked)
{
    s_event_t *event;
    while ((event = zlist_first(h->events)) && event->seq <= acked) {
        zlist_pop(h->events);
        zframe_destroy(&event->frame);
        free(event);
    }
}

/* The report's forward hook: what the client's report prints. */
static void
s_on_progress(void *arg, const uint32_t counts[SHOAL_COUNT_KINDS], const shoal_item_t *finished,
              size_t count)
{
    s_hosted_t *h = arg;
    shoal_msg_t msg = {.type = SHOAL_MSG_PROGRESS,
                       .term = 1, /* the hand-off has no terms; the codec wants one */
                       .items = (shoal_item_t *)finished,
                       .item_count = count};
    snprintf(msg.session, sizeof(msg.session), "%s", h->handoff.run.session);
    memcpy(msg.counts, counts, sizeof(msg.counts));
    shoal_msg_encode_all(&msg, s_serve->buf, S_FRAME_MAX, s_queue_progress, h);
}

/* The log tap: a line a client's session (or its hand-off) said. */
static void
s_on_log(void *scope, const char *line)
{
    s_hosted_t *h;
    for (h = s_serve ? zlist_first(s_serve->hosted) : NULL; h; h = zlist_next(s_serve->hosted))
        if ((void *)h == scope || (h->session && (void *)h->session == scope)) {
            s_queue(h, SHOAL_HANDOFF_LOG, line, strlen(line));
            return;
        }
}

/* ---------------------------------------------------------------- shares and tags */

/* It has a share and a tag: its runner is made and it has not ended. */
static bool
s_counts(const s_hosted_t *h)
{
    return !h->ended && !h->creating;
}

void
shoal_serve_shares(unsigned slots, const unsigned *wanted, size_t count, unsigned *shares)
{
    unsigned remaining = slots ? slots : 1;
    size_t open = count;
    for (size_t i = 0; i < count; i++)
        shares[i] = 0;
    while (open > 0) {
        unsigned fair = remaining / (unsigned)open ? remaining / (unsigned)open : 1;
        bool capped = false;
        for (size_t i = 0; i < count; i++)
            if (!shares[i] && wanted[i] && wanted[i] <= fair) {
                shares[i] = wanted[i];
                remaining = remaining > shares[i] ? remaining - shares[i] : 0;
                open--;
                capped = true;
            }
        if (capped)
            continue; /* what they left is shared by the others */
        unsigned extra = remaining > fair * (unsigned)open ? remaining - fair * (unsigned)open : 0;
        for (size_t i = 0; i < count; i++)
            if (!shares[i]) {
                shares[i] = fair + (extra ? 1 : 0);
                extra -= extra ? 1 : 0;
            }
        open = 0;
    }
}

/* Each session running here gets its share (shoal_serve_shares). */
static void
s_split(shoal_serve_t *self)
{
    unsigned wanted[SHOAL_NODE_APPS_MAX], shares[SHOAL_NODE_APPS_MAX];
    size_t count = 0;
    s_hosted_t *h;
    for (h = zlist_first(self->hosted); h; h = zlist_next(self->hosted))
        if (s_counts(h) && count < SHOAL_NODE_APPS_MAX)
            wanted[count++] = h->handoff.slots;
    shoal_serve_shares(shoal_node_meta(self->node)->slots, wanted, count, shares);
    count = 0;
    for (h = zlist_first(self->hosted); h; h = zlist_next(self->hosted))
        if (s_counts(h) && count < SHOAL_NODE_APPS_MAX)
            h->share = shares[count++];
}

/* Gives every session its share and advertises what the node takes part
 * in: its own tags, then one per session running here. */
static void
s_apply(shoal_serve_t *self, uint64_t now)
{
    s_split(self);
    gossip_meta_t meta = *shoal_node_meta(self->node);
    s_hosted_t *h;
    for (h = zlist_first(self->hosted); h; h = zlist_next(self->hosted)) {
        if (!s_counts(h) || meta.tag_count == GOSSIP_TAGS_MAX)
            continue;
        shoal_session_tag(h->handoff.run.session, h->digest, h->share, meta.tags[meta.tag_count++],
                          GOSSIP_TAG_MAX + 1);
        if (h->session)
            shoal_session_set_slots(h->session, h->share);
    }
    if (memcmp(&meta, &self->advertised, sizeof(meta)) != 0 &&
        gossip_mesh_set_meta(shoal_node_mesh(self->node), &meta, now) == 0)
        self->advertised = meta;
}

/* ---------------------------------------------------------------- life of a session here */

static void
s_create_free(void *arg)
{
    s_create_t *c = arg;
    shoal_adapter_destroy(&c->adapter);
    shoal_handoff_clear(&c->handoff);
    free(c);
}

static void
s_create_step(void *arg)
{
    s_create_t *c = arg;
    shoal_handoff_t *handoff = &c->handoff;
    c->adapter = shoal_adapter_new_named(
        handoff->adapter[0] ? handoff->adapter : NULL, handoff->argc, handoff->argv,
        handoff->list[0] ? handoff->list : NULL, c->err, sizeof(c->err));
}

static void
s_hosted_free(s_hosted_t *h)
{
    if (h->developer[0] && s_serve && s_serve->done) {
        bool completed = h->ended && h->session && shoal_session_closed(h->session);
        s_serve->done(s_serve->done_ctx, h->handoff.run.session, h->dir, completed,
                      h->failed[0] ? h->failed : NULL);
    }
    if (!shoal_job_release(&h->creating))
        h->create = NULL; /* the job frees it when the runner is made */
    if (h->create)
        s_create_free(h->create);
    shoal_session_destroy(&h->session);
    s_events_drop(h, UINT64_MAX);
    zlist_destroy(&h->events);
    shoal_handoff_clear(&h->handoff);
    shoal_adapter_argv_free(&h->wrap);
    if (h->dir[0])
        shoal_remove_tree(h->dir);
    free(h);
}

static s_hosted_t *
s_find(shoal_serve_t *self, const char *token)
{
    s_hosted_t *h;
    for (h = zlist_first(self->hosted); h; h = zlist_next(self->hosted))
        if (token && strcmp(h->token, token) == 0)
            return h;
    return NULL;
}

/* Kills the session's tests and forgets it; the others get its slots. */
static void
s_abandon(shoal_serve_t *self, s_hosted_t *h, const char *why, uint64_t now)
{
    shoal_log_info("session %s: %s: abandoning it here", h->handoff.run.session, why);
    zlist_remove(self->hosted, h);
    s_hosted_free(h);
    s_apply(self, now);
}

/* Once the session is over here: the summary and the end go to the
 * client, the workers close, and the others get its slots. */
static void
s_check_over(shoal_serve_t *self, s_hosted_t *h, uint64_t now)
{
    if (h->ended || !h->session || !shoal_session_over(h->session))
        return;
    shoal_session_outcome_t outcome;
    shoal_session_outcome(h->session, &outcome);
    long sent = 0;
    if (outcome.count) {
        shoal_msg_t msg = {.type = SHOAL_MSG_SUMMARY,
                           .term = 1, /* the hand-off has no terms; the codec wants one */
                           .chunks = 1,
                           .status = outcome.status,
                           .text = "",
                           .items = (shoal_item_t *)outcome.items,
                           .item_count = outcome.count};
        snprintf(msg.session, sizeof(msg.session), "%s", h->handoff.run.session);
        sent = shoal_msg_encode_all(&msg, self->buf, S_FRAME_MAX, s_queue_summary, h);
    }
    /* The end says how many results the client must have had: one that
     * came in part is an incomplete session there, never a pass. */
    char end[sizeof(outcome.text) + 64];
    int len = snprintf(end, sizeof(end), "%d %d %zu\n%s", outcome.status, outcome.refused ? 1 : 0,
                       outcome.count, outcome.text);
    if (sent != (long)outcome.count)
        len = snprintf(end, sizeof(end), "%d %d %zu\nthe node could not hand over its summary",
                       SHOAL_RUN_INCOMPLETE, outcome.refused ? 1 : 0, outcome.count);
    s_queue(h, SHOAL_HANDOFF_END, end, (size_t)len < sizeof(end) ? (size_t)len : sizeof(end) - 1);
    h->ended = true;
    h->released |= h->developer[0] != '\0'; /* shipped: no client to say bye */
    shoal_session_close(h->session);
    s_apply(self, now);
}

/* The runner is made: the session starts, or the client is told it cannot. */
static void
s_start(shoal_serve_t *self, s_hosted_t *h, uint64_t now)
{
    shoal_job_release(&h->creating);
    shoal_adapter_t *adapter = h->create->adapter;
    h->create->adapter = NULL;
    char why[sizeof(h->create->err)];
    snprintf(why, sizeof(why), "%s", h->create->err);
    s_create_free(h->create);
    h->create = NULL;
    shoal_handoff_t *handoff = &h->handoff;
    void *scope = shoal_log_scope(h);
    if (adapter) {
        snprintf(h->digest, sizeof(h->digest), "%s", shoal_adapter_digest(adapter));
        s_apply(self, now); /* our tag first: the session sees itself take part */
        const char *runner = shoal_adapter_name(adapter); /* static: outlives the adapter */
        h->session = shoal_session_new(&handoff->run, self->node, &adapter);
        if (h->session && h->developer[0])
            shoal_log_info("session %s: %s runner, %u of this node's slots, shipped by %s from %s",
                           handoff->run.session, runner, h->share, h->who, h->developer);
        else if (h->session)
            shoal_log_info("session %s: %s runner, %u of this node's slots, for pid %lld in %s",
                           handoff->run.session, runner, h->share, (long long)handoff->pid,
                           handoff->cwd);
        shoal_adapter_destroy(&adapter);
    } else {
        shoal_log_info("session %s: the node cannot make its runner: %s", handoff->run.session,
                       why);
        snprintf(h->failed, sizeof(h->failed), "%s", why);
    }
    shoal_log_scope(scope);
    if (!h->session) {
        /* Refused: the client prints what the node said and exits 3. */
        static const char end[] = "3 1 0\nthe node could not start the session";
        s_queue(h, SHOAL_HANDOFF_END, end, sizeof(end) - 1);
        h->ended = true;
        h->released |= h->developer[0] != '\0';
        s_apply(self, now);
        return;
    }
    shoal_report_t *report = shoal_session_report(h->session);
    report->forward = s_on_progress;
    report->forward_arg = h;
    shoal_session_set_slots(h->session, h->share);
}

/* A client is gone when its process is (on this machine), or silent; a
 * shipped session's developer when it has not been alive for a while. */
static bool
s_client_gone(s_hosted_t *h, uint64_t now)
{
    if (h->developer[0])
        return shoal_serve_developer_gone(s_serve->node, h->developer, &h->developer_missing, now);
    if (h->handoff.pid > 0 && kill((pid_t)h->handoff.pid, 0) != 0 && errno == ESRCH)
        return true;
    return now - h->last_poll > S_CLIENT_SILENT_MS;
}

static uint64_t
s_tick(void *ctx, uint64_t now)
{
    shoal_serve_t *self = ctx;
    /* A copy to walk: what we call walks (and changes) the list itself. */
    zlist_t *walk = zlist_dup(self->hosted);
    bool creating = false; /* a runner is being made: look again soon */
    for (s_hosted_t *h = walk ? zlist_first(walk) : NULL; h; h = zlist_next(walk)) {
        if (h->creating && shoal_job_done(h->creating))
            s_start(self, h, now);
        creating |= h->creating != NULL;
        s_check_over(self, h, now);
        if (h->released && (!h->session || shoal_session_closed(h->session))) {
            zlist_remove(self->hosted, h);
            s_hosted_free(h);
        } else if (!h->released && s_client_gone(h, now)) {
            if (h->ended)
                h->released = true; /* its workers may still finish their session */
            else
                s_abandon(self, h, "its client is gone", now);
        }
    }
    zlist_destroy(&walk);
    return now + (creating ? S_CREATE_POLL_MS : S_TICK_MS);
}

/* ---------------------------------------------------------------- requests */

/* Why the node cannot take the session, or NULL. */
static const char *
s_cannot_take(shoal_serve_t *self, const shoal_handoff_t *handoff, char *why, size_t size)
{
    size_t running = 0;
    s_hosted_t *h;
    for (h = zlist_first(self->hosted); h; h = zlist_next(self->hosted)) {
        if (h->ended)
            continue;
        running++;
        if (strcmp(h->handoff.run.session, handoff->run.session) == 0) {
            snprintf(why, size, "it takes part in session %s already", handoff->run.session);
            return why;
        }
    }
    size_t room = GOSSIP_TAGS_MAX - (size_t)shoal_node_meta(self->node)->tag_count;
    if (running >= room) {
        snprintf(why, size, "it takes part in %zu sessions, as many as its tags can say", running);
        return why;
    }
    return NULL;
}

/* A session to host from an encoded hand-off: its runner is being made
 * beside the loop (s_tick starts it once made). NULL with why. */
static s_hosted_t *
s_take(shoal_serve_t *self, const uint8_t *body, size_t len, uint64_t now, char *why, size_t size)
{
    s_hosted_t *h = calloc(1, sizeof(*h));
    s_create_t *create = calloc(1, sizeof(*create));
    if (!h || !create || !(h->events = zlist_new()) ||
        shoal_handoff_decode(body, len, &h->handoff) != 0 ||
        shoal_handoff_decode(body, len, &create->handoff) != 0) {
        snprintf(why, size, "a hand-off it cannot read (another version of shoal?)");
        goto refused;
    }
    if (s_cannot_take(self, &h->handoff, why, size))
        goto refused;
    h->creating = shoal_job_start(s_create_step, s_create_free, create);
    if (!h->creating) {
        snprintf(why, size, "it cannot start a thread to make the runner");
        goto refused;
    }
    h->create = create;
    uint8_t random[16];
    randombytes_buf(random, sizeof(random));
    sodium_bin2hex(h->token, sizeof(h->token), random, sizeof(random));
    h->next_seq = 1;
    h->last_poll = now;
    h->handoff.run.slots = shoal_node_meta(self->node)->slots;
    zlist_append(self->hosted, h);
    shoal_loop_set_timer(self->loop, self->timer, now); /* s_tick starts it once made */
    return h;
refused:
    if (h)
        s_hosted_free(h);
    if (create)
        s_create_free(create);
    return NULL;
}

static zmsg_t *
s_on_serve(shoal_serve_t *self, zmsg_t *request, uint64_t now)
{
    zframe_t *body = zmsg_next(request);
    char why[1024];
    s_hosted_t *h =
        body ? s_take(self, zframe_data(body), zframe_size(body), now, why, sizeof(why)) : NULL;
    if (!h)
        return shoal_handoff_strings("refused", body ? why : "an empty hand-off", NULL);
    return shoal_handoff_strings("ok", h->token, shoal_node_name(self->node));
}

bool
shoal_serve_developer_gone(shoal_node_t *node, const char *developer, uint64_t *missing,
                           uint64_t now)
{
    const gossip_member_t *m = gossip_mesh_member(shoal_node_mesh(node), developer);
    if (m && m->state == GOSSIP_STATE_LEFT)
        return true; /* it said so: no false death to wait out */
    if (m && (m->state == GOSSIP_STATE_ALIVE || m->state == GOSSIP_STATE_SUSPECT))
        *missing = 0;
    else if (!*missing)
        *missing = now;
    return *missing && now - *missing >= SHOAL_SERVE_DEVELOPER_GRACE_MS;
}

int
shoal_serve_host(shoal_serve_t *self, shoal_handoff_t *handoff, char **wrap, const char *dir,
                 const char *developer, const char *who, uint64_t now, char *why, size_t why_size)
{
    /* What is the daemon's own, not the developer's, does not travel in a
     * hand-off: the zygotes its workers fork from. */
    shoal_zygote_ticket_t zygote = handoff->run.zygote;
    uint8_t *body = NULL;
    long len = shoal_handoff_encode(handoff, &body);
    shoal_handoff_clear(handoff);
    s_hosted_t *h = len < 0 ? NULL : s_take(self, body, (size_t)len, now, why, why_size);
    free(body);
    if (len < 0)
        snprintf(why, why_size, "out of memory");
    if (!h) {
        shoal_adapter_argv_free(&wrap);
        shoal_remove_tree(dir);
        return -1;
    }
    h->wrap = wrap;
    h->handoff.run.wrap = wrap;
    h->handoff.run.zygote = zygote;
    snprintf(h->dir, sizeof(h->dir), "%s", dir);
    snprintf(h->developer, sizeof(h->developer), "%s", developer);
    snprintf(h->who, sizeof(h->who), "%s", who);
    return 0;
}

bool
shoal_serve_cancel(shoal_serve_t *self, const char *session, uint64_t now)
{
    s_hosted_t *h;
    for (h = zlist_first(self->hosted); h; h = zlist_next(self->hosted))
        if (h->developer[0] && !h->ended && strcmp(h->handoff.run.session, session) == 0) {
            s_abandon(self, h, "its developer cancelled it", now);
            return true;
        }
    return false;
}

bool
shoal_serve_has(const shoal_serve_t *self, const char *session)
{
    s_hosted_t *h;
    for (h = zlist_first(self->hosted); h; h = zlist_next(self->hosted))
        if (!h->ended && strcmp(h->handoff.run.session, session) == 0)
            return true;
    return false;
}

static zmsg_t *
s_on_poll(shoal_serve_t *self, zmsg_t *request, uint64_t now)
{
    char *token = zmsg_popstr(request), *acked = zmsg_popstr(request);
    s_hosted_t *h = s_find(self, token);
    zmsg_t *reply = NULL;
    if (!h || h->released) {
        reply = shoal_handoff_strings("unknown", NULL, NULL);
        goto done;
    }
    h->last_poll = now;
    s_events_drop(h, acked ? strtoull(acked, NULL, 10) : 0);
    s_check_over(self, h, now);
    shoal_report_t *report = h->session ? shoal_session_report(h->session) : NULL;
    s_event_t *event = zlist_first(h->events);
    char header[64];
    snprintf(header, sizeof(header), "%llu %d %d %s",
             (unsigned long long)(event ? event->seq : h->next_seq),
             zlist_size(h->events) > S_EVENTS_PER_REPLY, report ? report->verbosity : 0,
             report && report->reportchars[0] ? report->reportchars : "-");
    reply = shoal_handoff_strings(h->ended ? "over" : "running", header, NULL);
    for (size_t n = 0; event && n < S_EVENTS_PER_REPLY; n++, event = zlist_next(h->events)) {
        zframe_t *copy = zframe_dup(event->frame);
        zmsg_append(reply, &copy);
    }
done:
    zstr_free(&token);
    zstr_free(&acked);
    return reply;
}

static zmsg_t *
s_on_control(void *ctx, zmsg_t **request_p, uint64_t now)
{
    shoal_serve_t *self = ctx;
    zframe_t *verb = zmsg_first(*request_p);
    if (!verb)
        return NULL;
    if (zframe_streq(verb, "serve"))
        return s_on_serve(self, *request_p, now);
    char *text = zframe_strdup(verb);
    if (text && strncmp(text, "abandon ", 8) == 0) {
        /* `shoal cancel SESSION` at this node: every session of that id here. */
        bool found = false;
        zlist_t *walk = zlist_dup(self->hosted);
        for (s_hosted_t *h = walk ? zlist_first(walk) : NULL; h; h = zlist_next(walk))
            if (!h->ended && strcmp(h->handoff.run.session, text + 8) == 0) {
                s_abandon(self, h, "shoal cancel", now);
                found = true;
            }
        zlist_destroy(&walk);
        zstr_free(&text);
        return shoal_handoff_strings(found ? "cancelled" : "unknown", NULL, NULL);
    }
    zstr_free(&text);
    if (!zframe_streq(verb, "poll") && !zframe_streq(verb, "cancel") && !zframe_streq(verb, "bye"))
        return NULL; /* the node's own (members, stats, status) */
    bool poll = zframe_streq(verb, "poll"), cancel = zframe_streq(verb, "cancel");
    free(zmsg_popstr(*request_p));
    if (poll)
        return s_on_poll(self, *request_p, now);
    char *token = zmsg_popstr(*request_p);
    s_hosted_t *h = s_find(self, token);
    zstr_free(&token);
    if (h && cancel && !h->ended)
        s_abandon(self, h, "its client stopped", now);
    else if (h)
        h->released = true; /* bye, or a cancel after the end: its workers close */
    return shoal_handoff_strings("ok", NULL, NULL);
}

/* ---------------------------------------------------------------- life cycle */

void
shoal_serve_set_done(shoal_serve_t *self, shoal_serve_done_fn *fn, void *ctx)
{
    self->done = fn;
    self->done_ctx = ctx;
}

void
shoal_serve_stop(void *ctx, uint64_t now)
{
    shoal_serve_t *self = ctx;
    zlist_t *walk = zlist_dup(self->hosted);
    for (s_hosted_t *h = walk ? zlist_first(walk) : NULL; h; h = zlist_next(walk))
        if (!h->ended)
            s_abandon(self, h, "the node stops", now);
    zlist_destroy(&walk);
}

shoal_serve_t *
shoal_serve_new(shoal_node_t *node)
{
    if (strncmp(shoal_node_control(node), "ipc://", 6) != 0) {
        shoal_log_info("--control %s is not ipc://: this node takes no session from shoal run",
                       shoal_node_control(node));
        return NULL;
    }
    shoal_serve_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->node = node;
    self->loop = shoal_node_loop(node);
    self->hosted = zlist_new();
    self->buf = malloc(S_FRAME_MAX);
    self->advertised = *shoal_node_meta(node);
    self->timer =
        shoal_loop_add_timer(self->loop, shoal_loop_now(self->loop) + S_TICK_MS, s_tick, self);
    if (!self->hosted || !self->buf || self->timer < 0) {
        shoal_serve_destroy(&self);
        return NULL;
    }
    s_serve = self;
    shoal_log_set_tap(s_on_log);
    shoal_node_set_control(node, s_on_control, self);
    return self;
}

void
shoal_serve_destroy(shoal_serve_t **self_p)
{
    shoal_serve_t *self = *self_p;
    if (!self)
        return;
    if (s_serve == self) {
        shoal_log_set_tap(NULL);
        shoal_node_set_control(self->node, NULL, NULL);
        s_serve = NULL;
    }
    s_hosted_t *h;
    while (self->hosted && (h = zlist_pop(self->hosted))) {
        if (!h->ended)
            shoal_log_info("session %s: the node stops: abandoning it here",
                           h->handoff.run.session);
        s_hosted_free(h);
    }
    zlist_destroy(&self->hosted);
    if (self->timer > 0)
        shoal_loop_remove_timer(self->loop, self->timer);
    free(self->buf);
    free(self);
    *self_p = NULL;
}
