/* A running mesh member (see node.h): the host of the loop (loop.h). It
 * registers the transport inbox, the control socket and the beacon with the
 * loop, and one timer that runs the mesh's timers and retries seeds.
 *
 * The mesh's callbacks only report: a member change or a payload is copied
 * into the outbox, and the outbox timer hands it to the applications on the
 * loop's next pass, after the mesh has returned (as zyre posts events to its
 * outbox; as memberlist asks of its delegates, never block in a callback).
 *
 *   frame in -> gossip_mesh_receive -> s_on_member / s_on_user -> outbox
 *   outbox timer (due at once) -> s_deliver -> app.on_member / app.on_user
 */
#include "node/node.h"
#include "node/control.h"
#include "node/log.h"
#include "node/loop.h"

#include <czmq.h>
#include <sys/stat.h>
#include <netdb.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define S_RECV_BATCH 256   /* frames read per turn before timers get a look in */
#define S_LEAVE_MS 600     /* keep gossiping this long after announcing a leave */
#define S_STOP_TELL_MS 200 /* a stopping node answers its clients this long */
#define S_JOIN_FIRST_MS 250
#define S_BEACON_INTERVAL 1000
#define S_UNOPENED_SOURCES 32  /* senders of frames we cannot open that are told about */
#define S_UNOPENED_GAP_MS 1000 /* between two such messages, at least */
#define S_OUTBOX_MAX 100000    /* events waiting for the applications, at most */

/* A mesh event copied for the applications. */
typedef struct {
    bool is_member;
    gossip_member_t member; /* is_member */
    gossip_state_t old;
    char from[GOSSIP_NAME_MAX + 1]; /* a payload's sender */
    uint8_t *payload;
    size_t len;
} s_event_t;

struct shoal_node {
    shoal_config_t config;
    gossip_transport_t *transport;
    gossip_mesh_t *mesh;
    zsock_t *control;
    struct stat control_file; /* the ipc:// socket file we bound (st_ino 0: none) */
    zactor_t *beacon;
    char name[GOSSIP_NAME_MAX + 1];
    char addr[GOSSIP_ADDR_MAX + 1];
    uint64_t next_join_at, join_backoff;
    uint8_t *frame;
    bool sealed;
    shoal_loop_t *loop;
    long tick_timer, outbox_timer;
    zlist_t *outbox; /* s_event_t *, oldest first */
    zhash_t *known;  /* names of the members we saw alive or suspect (values unused) */
    uint64_t outbox_dropped;
    shoal_node_app_t apps[SHOAL_NODE_APPS_MAX];
    size_t app_count;
    shoal_node_control_fn *control_fn; /* requests of the applications' own */
    void *control_ctx;
    /* Senders of frames we could not open, and why, already told on stderr. */
    struct {
        char from[GOSSIP_ADDR_MAX + 1];
        const char *why;
    } unopened[S_UNOPENED_SOURCES];
    size_t unopened_count;
    uint64_t unopened_told_at;
};

static void
s_post(shoal_node_t *self, s_event_t *event)
{
    if (!event || (!event->is_member && zlist_size(self->outbox) >= S_OUTBOX_MAX)) {
        /* The applications are that far behind: the sender resends what
         * matters. Member changes are never dropped. */
        if (self->outbox_dropped++ == 0)
            shoal_log_info("the applications are %d events behind: dropping events", S_OUTBOX_MAX);
        if (event)
            free(event->payload);
        free(event);
        return;
    }
    zlist_append(self->outbox, event);
    shoal_loop_set_timer(self->loop, self->outbox_timer, shoal_loop_now(self->loop));
}

static void
s_on_member(void *ctx, const gossip_member_t *m, gossip_state_t old)
{
    shoal_node_t *self = ctx;
    s_event_t *event = calloc(1, sizeof(*event));
    if (event) {
        event->is_member = true;
        event->member = *m;
        event->old = old;
    }
    s_post(self, event);
    if (m->self)
        return;
    /* The same state twice is a first appearance, or new metadata (the
     * sessions it takes part in) of a member we know. */
    bool known = zhash_lookup(self->known, m->name) != NULL;
    if (m->state == GOSSIP_STATE_DEAD || m->state == GOSSIP_STATE_LEFT)
        zhash_delete(self->known, m->name);
    else
        zhash_update(self->known, m->name, self);
    if (m->state == old && known)
        shoal_log_debug("member %s (%s) advertises new metadata", m->name, m->addr);
    else if (m->state == old)
        shoal_log_info("member %s (%s) joined", m->name, m->addr);
    else
        shoal_log_info("member %s (%s) is %s (was %s)", m->name, m->addr,
                       gossip_state_str(m->state), gossip_state_str(old));
}

static void
s_on_user(void *ctx, const char *from, const uint8_t *payload, size_t len)
{
    shoal_node_t *self = ctx;
    s_event_t *event = calloc(1, sizeof(*event));
    if (event && (event->payload = malloc(len ? len : 1)) == NULL) {
        free(event);
        event = NULL;
    }
    if (event) {
        snprintf(event->from, sizeof(event->from), "%s", from);
        memcpy(event->payload, payload, len);
        event->len = len;
    }
    s_post(self, event);
}

/* The outbox timer: every queued event to the applications, in order. An
 * application may attach or detach others (or itself) meanwhile. */
static uint64_t
s_deliver(void *ctx, uint64_t now)
{
    shoal_node_t *self = ctx;
    (void)now;
    s_event_t *event;
    while ((event = zlist_pop(self->outbox))) {
        bool claimed = event->is_member;
        for (size_t i = 0; i < self->app_count; i++) {
            shoal_node_app_t app = self->apps[i];
            void *scope = shoal_log_scope(app.ctx);
            if (event->is_member && app.on_member) {
                app.on_member(app.ctx, &event->member, event->old);
            } else if (!event->is_member && app.on_user &&
                       (!app.accepts || app.accepts(app.ctx, event->payload, event->len))) {
                app.on_user(app.ctx, event->from, event->payload, event->len);
                claimed = true;
            }
            shoal_log_scope(scope);
        }
        if (!claimed) {
            /* Another session's, one already over here, or not shoal's. */
            gossip_mesh_stats(self->mesh)->drop_unclaimed++;
            shoal_log_debug("a payload from %s that nothing here takes (%zu bytes)", event->from,
                            event->len);
        }
        free(event->payload);
        free(event);
    }
    return UINT64_MAX; /* until the next event is posted */
}

/* The address others reach us at: --advertise, the bound address, or for a
 * wildcard bind the first interface czmq finds. */
static int
s_advertise(shoal_node_t *self)
{
    const char *bound = gossip_transport_addr(self->transport);
    const char *port = strrchr(bound, ':') + 1;
    if (self->config.advertise[0]) {
        snprintf(self->addr, sizeof(self->addr), "%s", self->config.advertise);
        return 0;
    }
    if (strncmp(bound, "0.0.0.0:", 8) != 0 && strncmp(bound, "*:", 2) != 0) {
        snprintf(self->addr, sizeof(self->addr), "%s", bound);
        return 0;
    }
    ziflist_t *interfaces = ziflist_new();
    const char *name = interfaces ? ziflist_first(interfaces) : NULL;
    if (name)
        snprintf(self->addr, sizeof(self->addr), "%s:%s", ziflist_address(interfaces), port);
    ziflist_destroy(&interfaces);
    if (!name) {
        fprintf(stderr, "shoal: --bind %s: no interface to advertise; pass --advertise\n",
                self->config.bind);
        return -1;
    }
    return 0;
}

static void
s_default_name(shoal_node_t *self)
{
    if (self->config.name[0]) {
        snprintf(self->name, sizeof(self->name), "%s", self->config.name);
        return;
    }
    /* The host name and the advertised address: machines (or CI containers)
     * that share a host name, or runners on one machine, still get names of
     * their own; two members of one name would each think the other is
     * itself. */
    char host[256] = "shoal";
    gethostname(host, sizeof(host) - 1);
    host[strcspn(host, ". ")] = '\0';
    char addr[GOSSIP_ADDR_MAX + 1];
    snprintf(addr, sizeof(addr), "%s", self->addr);
    char *colon = strrchr(addr, ':');
    if (colon && atoi(colon + 1) == SHOAL_DEFAULT_PORT)
        *colon = '\0'; /* the default port says nothing */
    else if (colon)
        *colon = '-';
    snprintf(self->name, sizeof(self->name), "%.40s-%.*s", host, (int)(sizeof(self->name) - 42),
             addr);
}

static int
s_start_beacon(shoal_node_t *self)
{
    self->beacon = zactor_new(zbeacon, NULL);
    if (!self->beacon)
        return -1;
    zsock_send(self->beacon, "si", "CONFIGURE", self->config.beacon_port);
    char *host = zstr_recv(self->beacon);
    bool ok = host && *host;
    zstr_free(&host);
    if (!ok) {
        fprintf(stderr, "shoal: --discover: no interface can broadcast beacons\n");
        return -1;
    }
    /* The beacon only says where to knock; the knock itself (a sealed
     * push-pull) is what proves membership. */
    /* zbeacon drops beacons identical to its own, and nodes on a LAN share
     * the port: the name makes every node's beacon its own. */
    char payload[128];
    snprintf(payload, sizeof(payload), "SHOAL1 %s %s", strrchr(self->addr, ':') + 1, self->name);
    zsock_send(self->beacon, "sbi", "PUBLISH", payload, strlen(payload), S_BEACON_INTERVAL);
    zsock_send(self->beacon, "sb", "SUBSCRIBE", "SHOAL1 ", (size_t)7);
    return 0;
}

static shoal_loop_timer_fn s_tick;
static shoal_loop_read_fn s_on_inbox, s_on_control_ready, s_on_beacon_ready;

shoal_node_t *
shoal_node_new(shoal_config_t *config)
{
    shoal_node_t *self = calloc(1, sizeof(*self));
    if (!self)
        return NULL;
    self->config = *config;
    config->keyring = NULL;
    self->frame = malloc(GOSSIP_FRAME_MAX);
    self->loop = shoal_loop_new();
    self->outbox = zlist_new();
    self->known = zhash_new();
    gossip_keyring_t *keyring = self->config.keyring;
    self->sealed = keyring && gossip_keyring_size(keyring) > 0;
    self->config.keyring = NULL;
    self->transport = self->frame && self->loop && self->outbox && self->known
                          ? gossip_transport_new(config->bind, &keyring)
                          : NULL;
    gossip_keyring_destroy(&keyring);
    if (!self->transport || s_advertise(self) != 0) {
        shoal_node_destroy(&self);
        return NULL;
    }
    s_default_name(self);
    shoal_log_set_name(self->name);

    self->control = zsock_new(ZMQ_REP);
    if (!self->control || zsock_bind(self->control, "%s", config->control) < 0) {
        fprintf(stderr, "shoal: --control %s: cannot bind: %s\n", config->control,
                zmq_strerror(zmq_errno()));
        shoal_node_destroy(&self);
        return NULL;
    }
    zsock_set_linger(self->control, 0);
    if (strncmp(config->control, "ipc://", 6) == 0 &&
        stat(config->control + 6, &self->control_file) != 0)
        self->control_file.st_ino = 0;
    if (config->discover && s_start_beacon(self) != 0) {
        shoal_node_destroy(&self);
        return NULL;
    }

    uint64_t now = shoal_clock_ms();
    gossip_mesh_config_t mesh_config = {
        .name = self->name,
        .addr = self->addr,
        .meta = config->meta,
        .profile = config->profile,
        .seed = (uint64_t)getpid() ^ (now << 20) ^ (uint64_t)(uintptr_t)self,
        .send = gossip_transport_send,
        .send_ctx = self->transport,
        .on_member = s_on_member,
        .member_ctx = self,
        .on_user = s_on_user,
        .user_ctx = self,
    };
    self->mesh = gossip_mesh_new(&mesh_config, now);
    if (!self->mesh) {
        shoal_node_destroy(&self);
        return NULL;
    }
    self->next_join_at = now;
    self->join_backoff = S_JOIN_FIRST_MS;
    self->tick_timer = shoal_loop_add_timer(self->loop, now, s_tick, self);
    self->outbox_timer = shoal_loop_add_timer(self->loop, UINT64_MAX, s_deliver, self);
    shoal_loop_add_read(self->loop, -1, zsock_resolve(gossip_transport_inbox(self->transport)),
                        s_on_inbox, self);
    shoal_loop_add_read(self->loop, -1, zsock_resolve(self->control), s_on_control_ready, self);
    if (self->beacon)
        shoal_loop_add_read(self->loop, -1, zsock_resolve(self->beacon), s_on_beacon_ready, self);
    return self;
}

/* ZeroMQ leaves an ipc:// socket file behind: it goes with us, unless
 * another process has bound the path since (another inode). */
static void
s_remove_control_file(const shoal_node_t *self)
{
    struct stat now;
    const char *path = self->config.control + 6;
    if (self->control_file.st_ino && stat(path, &now) == 0 && S_ISSOCK(now.st_mode) &&
        now.st_ino == self->control_file.st_ino && now.st_dev == self->control_file.st_dev)
        unlink(path);
}

void
shoal_node_destroy(shoal_node_t **self_p)
{
    shoal_node_t *self = *self_p;
    if (!self)
        return;
    gossip_mesh_destroy(&self->mesh);
    s_event_t *event;
    while (self->outbox && (event = zlist_pop(self->outbox))) {
        free(event->payload);
        free(event);
    }
    zlist_destroy(&self->outbox);
    zhash_destroy(&self->known);
    shoal_loop_destroy(&self->loop);
    zactor_destroy(&self->beacon);
    zsock_destroy(&self->control);
    s_remove_control_file(self);
    gossip_transport_destroy(&self->transport);
    free(self->frame);
    free(self);
    *self_p = NULL;
}

const char *
shoal_node_name(const shoal_node_t *self)
{
    return self->name;
}

uint64_t
shoal_node_stall_ms(const shoal_node_t *self)
{
    const gossip_profile_t *p = self->config.profile;
    return 2 * ((uint64_t)p->probe_interval_ms + p->probe_timeout_ms + p->suspicion_min_ms);
}

const char *
shoal_node_addr(const shoal_node_t *self)
{
    return self->addr;
}

/* Resolves every seed (each name may give several addresses) and knocks on
 * each address that is not our own. */
static void
s_join_seeds(shoal_node_t *self, uint64_t now)
{
    for (int i = 0; i < self->config.join_count; i++) {
        char host[GOSSIP_ADDR_MAX + 1];
        snprintf(host, sizeof(host), "%s", self->config.joins[i]);
        char *colon = strrchr(host, ':');
        *colon = '\0';
        const char *port = colon + 1;
        if (host[0] == '[') {
            memmove(host, host + 1, strlen(host));
            host[strcspn(host, "]")] = '\0';
        }
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *found = NULL;
        int rc = getaddrinfo(host, port, &hints, &found);
        if (rc != 0) {
            shoal_log_debug("seed %s: %s", self->config.joins[i], gai_strerror(rc));
            continue;
        }
        for (struct addrinfo *ai = found; ai; ai = ai->ai_next) {
            char ip[64], addr[GOSSIP_ADDR_MAX + 1];
            if (getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof(ip), NULL, 0, NI_NUMERICHOST) !=
                0)
                continue;
            if (ai->ai_family == AF_INET6)
                snprintf(addr, sizeof(addr), "[%s]:%s", ip, port);
            else
                snprintf(addr, sizeof(addr), "%s:%s", ip, port);
            if (strcmp(addr, self->addr) != 0)
                gossip_mesh_join(self->mesh, addr, now);
        }
        freeaddrinfo(found);
    }
}

static void
s_join_tick(shoal_node_t *self, uint64_t now)
{
    if (self->config.join_count == 0 || gossip_mesh_joined(self->mesh) || now < self->next_join_at)
        return;
    s_join_seeds(self, now);
    self->next_join_at = now + self->join_backoff;
    self->join_backoff *= 2;
    if (self->join_backoff > self->config.profile->join_retry_max_ms)
        self->join_backoff = self->config.profile->join_retry_max_ms;
}

static void
s_on_beacon(shoal_node_t *self, uint64_t now)
{
    char *ip = zstr_recv(self->beacon);
    zframe_t *content = ip ? zframe_recv(self->beacon) : NULL;
    if (content && zframe_size(content) < 128) {
        char text[128];
        memcpy(text, zframe_data(content), zframe_size(content));
        text[zframe_size(content)] = '\0';
        int port = 0;
        char addr[GOSSIP_ADDR_MAX + 1];
        if (sscanf(text, "SHOAL1 %d", &port) == 1 && port > 0 && port < 65536) {
            snprintf(addr, sizeof(addr), "%s:%d", ip, port);
            /* Knock only on strangers: a known member needs no introduction. */
            static gossip_member_t members[GOSSIP_MEMBERS_MAX];
            size_t count = gossip_mesh_members(self->mesh, members, GOSSIP_MEMBERS_MAX);
            bool known = false;
            for (size_t i = 0; i < count && i < GOSSIP_MEMBERS_MAX && !known; i++)
                known = strcmp(members[i].addr, addr) == 0;
            if (!known) {
                shoal_log_debug("beacon from %s", addr);
                gossip_mesh_join(self->mesh, addr, now);
            }
        }
    }
    zframe_destroy(&content);
    zstr_free(&ip);
}

static void
s_on_control(shoal_node_t *self, uint64_t now)
{
    zmsg_t *message = zmsg_recv(self->control);
    zmsg_t *reply =
        message && self->control_fn ? self->control_fn(self->control_ctx, &message, now) : NULL;
    if (reply) {
        zmsg_destroy(&message);
        zmsg_send(&reply, self->control);
        return;
    }
    char *request = message ? zmsg_popstr(message) : NULL;
    zmsg_destroy(&message);
    if (!request)
        return;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    bool json = strstr(request, "json") != NULL;
    if (strncmp(request, "members", 7) == 0) {
        static gossip_member_t members[GOSSIP_MEMBERS_MAX];
        size_t count = gossip_mesh_members(self->mesh, members, GOSSIP_MEMBERS_MAX);
        if (count > GOSSIP_MEMBERS_MAX)
            count = GOSSIP_MEMBERS_MAX;
        shoal_control_members(out, members, count, json, now);
    } else if (strncmp(request, "stats", 5) == 0)
        shoal_control_stats(out, self->name, gossip_mesh_stats(self->mesh),
                            gossip_transport_stats(self->transport), json);
    else if (strncmp(request, "status", 6) == 0) {
        if (json)
            fprintf(out, "[");
        for (size_t i = 0; i < self->app_count; i++) {
            if (json && i)
                fprintf(out, ",");
            self->apps[i].on_status(self->apps[i].ctx, out, json);
        }
        if (json)
            fprintf(out, "]\n");
        else if (!self->app_count)
            fprintf(out, "%s: no session in progress\n", self->name);
    } else
        fprintf(out, "error: unknown request '%.40s'", request);
    fclose(out);
    zstr_send(self->control, text);
    free(text);
    zstr_free(&request);
}

/* A frame from `from` could not be opened. A peer with another key (or none)
 * is invisible to the mesh, so without a word each side would run the whole
 * session alone: say so at once, once per sender and reason, at most one line
 * a second (the sender retries, so one skipped now is told later), for the
 * first S_UNOPENED_SOURCES of them. */
static void
s_unopened(shoal_node_t *self, long reason, const char *from, uint64_t now)
{
    const char *why;
    switch (reason) {
        case GOSSIP_KEYRING_EKEYID:
        case GOSSIP_KEYRING_EAUTH:
            why = "fail authentication: is the cluster key the same?";
            break;
        case GOSSIP_KEYRING_EPLAIN:
            why = "are not sealed: does that node have the cluster key (SHOAL_KEY, --key-file)?";
            break;
        case GOSSIP_KEYRING_ESEALED:
            why = "are sealed, and this node has no cluster key: set SHOAL_KEY or --key-file";
            break;
        default:
            return; /* damaged or oversized: not a question of keys */
    }
    if (!from[0] || self->unopened_count == S_UNOPENED_SOURCES ||
        (self->unopened_told_at && now - self->unopened_told_at < S_UNOPENED_GAP_MS))
        return;
    for (size_t i = 0; i < self->unopened_count; i++)
        if (self->unopened[i].why == why && strcmp(self->unopened[i].from, from) == 0)
            return;
    snprintf(self->unopened[self->unopened_count].from, GOSSIP_ADDR_MAX + 1, "%s", from);
    self->unopened[self->unopened_count++].why = why;
    self->unopened_told_at = now;
    shoal_log_info("frames from %s %s", from, why);
}

static void
s_read_inbox(shoal_node_t *self, uint64_t now)
{
    char from[GOSSIP_ADDR_MAX + 1];
    for (int i = 0; i < S_RECV_BATCH; i++) {
        long len = gossip_transport_recv(self->transport, self->frame, GOSSIP_FRAME_MAX, from,
                                         sizeof(from));
        if (len == 0)
            return;
        if (len > 0) {
            gossip_mesh_receive(self->mesh, self->frame, (size_t)len, now);
        } else {
            shoal_log_debug("dropped a frame from %s: %s", from[0] ? from : "?",
                            gossip_keyring_error_str((int)len));
            s_unopened(self, len, from, now);
        }
    }
}

/* The node's timer: queued frames, the mesh's timers, seeds. Runs again
 * at once after every frame read (s_on_inbox), as the mesh may answer. */
static uint64_t
s_tick(void *ctx, uint64_t now)
{
    shoal_node_t *self = ctx;
    size_t waiting = gossip_transport_flush(self->transport, now);
    uint64_t next = gossip_mesh_tick(self->mesh, now);
    s_join_tick(self, now);
    if (self->config.join_count && !gossip_mesh_joined(self->mesh) && self->next_join_at < next)
        next = self->next_join_at;
    if (waiting && next > now + 5)
        next = now + 5; /* frames wait for a connection: look again soon */
    return next > now ? next : now + 1;
}

static void
s_on_inbox(void *ctx, uint64_t now)
{
    shoal_node_t *self = ctx;
    s_read_inbox(self, now);
    shoal_loop_set_timer(self->loop, self->tick_timer, now);
}

static void
s_on_control_ready(void *ctx, uint64_t now)
{
    s_on_control(ctx, now);
}

static void
s_on_beacon_ready(void *ctx, uint64_t now)
{
    s_on_beacon(ctx, now);
}

int
shoal_node_attach(shoal_node_t *self, const shoal_node_app_t *app)
{
    if (self->app_count == SHOAL_NODE_APPS_MAX)
        return -1;
    self->apps[self->app_count++] = *app;
    return 0;
}

void
shoal_node_detach(shoal_node_t *self, void *ctx)
{
    for (size_t i = 0; i < self->app_count; i++)
        if (self->apps[i].ctx == ctx) {
            memmove(&self->apps[i], &self->apps[i + 1],
                    (self->app_count - i - 1) * sizeof(self->apps[0]));
            self->app_count--;
            return;
        }
}

shoal_loop_t *
shoal_node_loop(shoal_node_t *self)
{
    return self->loop;
}

gossip_mesh_t *
shoal_node_mesh(shoal_node_t *self)
{
    return self->mesh;
}

void
shoal_node_set_control(shoal_node_t *self, shoal_node_control_fn *fn, void *ctx)
{
    self->control_fn = fn;
    self->control_ctx = ctx;
}

const gossip_meta_t *
shoal_node_meta(const shoal_node_t *self)
{
    return &self->config.meta;
}

const char *
shoal_node_control(const shoal_node_t *self)
{
    return self->config.control;
}

void
shoal_node_leave(shoal_node_t *self, uint64_t ms)
{
    uint64_t now = shoal_loop_now(self->loop);
    gossip_mesh_leave(self->mesh, now);
    shoal_loop_set_timer(self->loop, self->tick_timer, now);
    for (uint64_t until = now + ms; now < until && !gossip_mesh_leave_sent(self->mesh);)
        now = shoal_loop_turn(self->loop, until);
    shoal_log_info("left the mesh");
}

int
shoal_node_run(shoal_node_t *self, volatile sig_atomic_t *stop, shoal_node_stop_fn *on_stop,
               void *ctx)
{
    shoal_log_info("listening on %s (profile %s, %s)", self->addr, self->config.profile->name,
                   self->sealed ? "sealed" : "UNSEALED: no cluster key");
    while (!*stop)
        shoal_loop_turn(self->loop, UINT64_MAX);
    if (on_stop) {
        uint64_t now = shoal_loop_now(self->loop);
        on_stop(ctx, now);
        /* Clients poll every 50 ms: each hears its session ended here. */
        for (uint64_t until = now + S_STOP_TELL_MS; now < until;)
            now = shoal_loop_turn(self->loop, until);
    }
    shoal_node_leave(self, S_LEAVE_MS);
    return 0;
}
