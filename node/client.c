/* The client side of the hand-off (see client.h, handoff.h): one REQ socket
 * to the node's control socket, a poll every S_POLL_MS, and the events
 * replayed through this process' own report, so what is printed is what a
 * run on its own prints, on this terminal. */
#include "node/client.h"
#include "node/conclude.h"
#include "node/log.h"
#include "node/loop.h"

#include <czmq.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define S_POLL_MS 50
#define S_ANSWER_MS 5000        /* a poll waits this long for the node's answer */
#define S_SERVE_ANSWER_MS 15000 /* the hand-off: the node starts the session first */
#define S_NODE_SILENT_MS 20000  /* no answer this long: the node is gone */

typedef struct {
    const char *endpoint;
    const char *session;
    zsock_t *sock;
    char token[64];
    uint64_t acked; /* the last event we hold */
    shoal_report_t report;
    shoal_item_t *summary;
    size_t summary_count, summary_cap;
    bool ended, refused;
    int status;
    char text[SHOAL_MESSAGE_MAX + 256];
} s_client_t;

bool
shoal_client_node_listens(const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) != 0)
        return false; /* nodes take hand-offs on ipc:// alone (serve.h) */
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    struct stat st;
    const char *path = endpoint + 6;
    if (strlen(path) >= sizeof(addr.sun_path) || stat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
        return false;
    memcpy(addr.sun_path, path, strlen(path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool listens = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    if (fd >= 0)
        close(fd);
    return listens;
}

static zsock_t *
s_socket(const char *endpoint)
{
    zsock_t *sock = zsock_new(ZMQ_REQ);
    if (!sock)
        return NULL;
    zsock_set_linger(sock, 0);
    zsock_set_sndtimeo(sock, S_ANSWER_MS);
    if (zsock_connect(sock, "%s", endpoint) != 0)
        zsock_destroy(&sock);
    return sock;
}

/* One request, its reply; NULL when none came within timeout_ms (the
 * socket is then replaced: a REQ that lost its reply takes no more). */
static zmsg_t *
s_ask(s_client_t *self, zmsg_t **request_p, int timeout_ms)
{
    if (!self->sock && !(self->sock = s_socket(self->endpoint))) {
        zmsg_destroy(request_p);
        return NULL;
    }
    zsock_set_rcvtimeo(self->sock, timeout_ms);
    zmsg_t *reply = zmsg_send(request_p, self->sock) == 0 ? zmsg_recv(self->sock) : NULL;
    zmsg_destroy(request_p);
    if (!reply)
        zsock_destroy(&self->sock);
    return reply;
}

/* ---------------------------------------------------------------- events */

static void
s_on_summary(s_client_t *self, shoal_msg_t *msg)
{
    if (self->summary_count + msg->item_count > self->summary_cap) {
        size_t cap = (self->summary_count + msg->item_count) * 2;
        shoal_item_t *grown = realloc(self->summary, cap * sizeof(*grown));
        if (!grown)
            return;
        self->summary = grown;
        self->summary_cap = cap;
    }
    memcpy(self->summary + self->summary_count, msg->items, msg->item_count * sizeof(*msg->items));
    self->summary_count += msg->item_count;
    msg->item_count = 0; /* moved */
}

static void
s_on_end(s_client_t *self, const char *body, size_t len)
{
    char text[sizeof(self->text) + 32];
    snprintf(text, sizeof(text), "%.*s", (int)len, body);
    int status = SHOAL_RUN_INCOMPLETE, refused = 0, used = 0;
    size_t count = 0;
    if (sscanf(text, "%d %d %zu%n", &status, &refused, &count, &used) < 3)
        status = SHOAL_RUN_INCOMPLETE;
    const char *rest = used ? text + used : "";
    snprintf(self->text, sizeof(self->text), "%s", *rest == '\n' ? rest + 1 : rest);
    if (count != self->summary_count && status != SHOAL_RUN_INCOMPLETE) {
        /* Results lost on the way: reporting the rest would be a false pass. */
        status = SHOAL_RUN_INCOMPLETE;
        snprintf(self->text, sizeof(self->text),
                 "the node's summary came in part: %zu of %zu results", self->summary_count, count);
    }
    self->status = status;
    self->refused = refused != 0;
    self->ended = true;
}

static void
s_on_event(s_client_t *self, zframe_t *frame, uint64_t now)
{
    size_t len = zframe_size(frame);
    const uint8_t *data = zframe_data(frame);
    if (len == 0)
        return;
    shoal_msg_t msg;
    switch (data[0]) {
        case SHOAL_HANDOFF_LOG:
            fprintf(stderr, "%.*s\n", (int)(len - 1), (const char *)data + 1);
            break;
        case SHOAL_HANDOFF_PROGRESS:
        case SHOAL_HANDOFF_SUMMARY:
            if (shoal_msg_decode(data + 1, len - 1, &msg) != 0)
                break;
            if (msg.type == SHOAL_MSG_PROGRESS)
                shoal_report_progress(&self->report, msg.counts, msg.items, msg.item_count, now);
            else if (msg.type == SHOAL_MSG_SUMMARY)
                s_on_summary(self, &msg);
            shoal_msg_clear(&msg);
            break;
        case SHOAL_HANDOFF_END:
            s_on_end(self, (const char *)data + 1, len - 1);
            break;
    }
}

/* A poll's reply: STATE HEADER EVENT... Returns 1 if more events wait, 0
 * if not, -1 when the node no longer holds the session. */
static int
s_on_reply(s_client_t *self, zmsg_t *reply)
{
    char *state = zmsg_popstr(reply), *header = zmsg_popstr(reply);
    unsigned long long first = 0;
    int more = 0, verbosity = 0;
    char chars[16] = "";
    bool known = state && strcmp(state, "unknown") != 0 && header &&
                 sscanf(header, "%llu %d %d %15s", &first, &more, &verbosity, chars) == 4;
    if (known && (verbosity != self->report.verbosity ||
                  strcmp(self->report.reportchars, strcmp(chars, "-") ? chars : "") != 0))
        shoal_report_options(&self->report, verbosity, strcmp(chars, "-") ? chars : "");
    uint64_t now = shoal_clock_ms();
    zframe_t *frame;
    for (uint64_t seq = first; known && (frame = zmsg_pop(reply)); seq++) {
        if (seq > self->acked) {
            s_on_event(self, frame, now);
            self->acked = seq;
        }
        zframe_destroy(&frame);
    }
    zstr_free(&state);
    zstr_free(&header);
    return known ? more : -1;
}

/* ---------------------------------------------------------------- the run */

/* Hands the session over: 0 with our token, or -1 (said why). */
static int
s_hand_over(s_client_t *self, const shoal_handoff_t *handoff)
{
    uint8_t *body = NULL;
    long len = shoal_handoff_encode(handoff, &body);
    if (len < 0)
        return -1;
    zmsg_t *request = shoal_handoff_strings("serve", NULL, NULL);
    zmsg_addmem(request, body, (size_t)len);
    free(body);
    zmsg_t *reply = s_ask(self, &request, S_SERVE_ANSWER_MS);
    char *verb = reply ? zmsg_popstr(reply) : NULL, *first = reply ? zmsg_popstr(reply) : NULL;
    char *name = reply ? zmsg_popstr(reply) : NULL;
    int rc = -1;
    if (!reply)
        fprintf(stderr, "shoal run: the node at %s does not answer: running on its own\n",
                self->endpoint);
    else if (!verb || strcmp(verb, "ok") != 0 || !first || !name)
        fprintf(stderr,
                "shoal run: the node at %s does not take the session (%s): running on "
                "its own\n",
                self->endpoint,
                verb && strcmp(verb, "refused") == 0 && first ? first
                : verb                                        ? verb
                                                              : "?");
    else {
        snprintf(self->token, sizeof(self->token), "%s", first);
        shoal_log_set_name(name); /* our lines read as the node's about this session */
        rc = 0;
    }
    zstr_free(&verb);
    zstr_free(&first);
    zstr_free(&name);
    zmsg_destroy(&reply);
    return rc;
}

/* Polls until the end is in. SHOAL_RUN_PASSED then, or the exit status of
 * a session that cannot end here (interrupted, the node gone). */
static int
s_follow(s_client_t *self, volatile sig_atomic_t *stop)
{
    uint64_t answered = shoal_clock_ms();
    while (!self->ended) {
        if (*stop) {
            zmsg_t *cancel = shoal_handoff_strings("cancel", self->token, NULL);
            zmsg_t *reply = s_ask(self, &cancel, 1000);
            zmsg_destroy(&reply);
            shoal_log_info("interrupted: the session did not complete here");
            return SHOAL_RUN_INCOMPLETE;
        }
        char acked[32];
        snprintf(acked, sizeof(acked), "%llu", (unsigned long long)self->acked);
        zmsg_t *request = shoal_handoff_strings("poll", self->token, acked);
        zmsg_t *reply = s_ask(self, &request, S_ANSWER_MS);
        bool got = reply != NULL; /* before the destroy below nulls it */
        int more = got ? s_on_reply(self, reply) : 0;
        zmsg_destroy(&reply);
        uint64_t now = shoal_clock_ms();
        if (more < 0) {
            shoal_log_info("the node no longer runs session %s (it abandoned it, or restarted)",
                           self->session);
            return SHOAL_RUN_INCOMPLETE;
        }
        if (got)
            answered = now;
        if (now - answered > S_NODE_SILENT_MS) {
            fprintf(stderr,
                    "shoal run: the node at %s stopped answering: the session's outcome "
                    "is unknown here\n",
                    self->endpoint);
            return SHOAL_RUN_INCOMPLETE;
        }
        if (!more && !self->ended)
            poll(NULL, 0, S_POLL_MS); /* a signal ends the wait early */
    }
    return SHOAL_RUN_PASSED;
}

int
shoal_client_run(const char *endpoint, const shoal_handoff_t *handoff,
                 const shoal_run_config_t *config, volatile sig_atomic_t *stop)
{
    s_client_t self = {.endpoint = endpoint, .session = handoff->run.session};
    shoal_report_init(&self.report, 0, shoal_clock_ms());
    int status = -1;
    if (s_hand_over(&self, handoff) == 0) {
        status = s_follow(&self, stop);
        if (self.ended) {
            zmsg_t *bye = shoal_handoff_strings("bye", self.token, NULL);
            zmsg_t *reply = s_ask(&self, &bye, 1000);
            zmsg_destroy(&reply);
            status = self.refused
                         ? self.status
                         : shoal_conclude(config, &self.report, self.summary, self.summary_count,
                                          self.status, self.text, shoal_clock_ms());
        }
    }
    for (size_t i = 0; i < self.summary_count; i++)
        shoal_item_clear(&self.summary[i]);
    free(self.summary);
    zsock_destroy(&self.sock);
    return status;
}
