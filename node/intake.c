/* A serving daemon's intake of shipped sessions (see intake.h for the
 * states). Offers are checked on the loop (a signature check is cheap);
 * the toolchain probe runs beside it (job.h); the fetch runs on a timer
 * of its own. */
#include "node/intake.h"
#include "node/adapter.h"
#include "node/artifacts.h"
#include "node/fetch.h"
#include "node/files.h"
#include "node/fingerprint.h"
#include "node/job.h"
#include "node/json.h"
#include "node/log.h"
#include "node/sandbox.h"
#include "node/tree_fetch.h"

#include <czmq.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define S_TICK_MS 50
#define S_ISSUED_SLACK_S 3600 /* an offer older (or newer) than this is stale */
#define S_HOSTED_MAX 64       /* shipped sessions remembered for status */

extern char **environ;

/* What `shoal status` says of a session being taken. */
static const char *
s_state_name(const shoal_tree_fetch_t *fetch)
{
    if (!fetch)
        return "probing";
    switch (shoal_tree_fetch_state(fetch)) {
        case SHOAL_TREE_FETCH_INDEX:
            return "fetching its manifest's index";
        case SHOAL_TREE_FETCH_PAGES:
            return "fetching its manifest";
        default:
            return "fetching";
    }
}

/* The probe, beside the loop. */
typedef struct {
    char **argv;     /* sandbox words, then the offer's probe */
    const char *cwd; /* the daemon's work directory (borrowed: it outlives every probe) */
    char out[SHOAL_SHIP_TOOLCHAIN_MAX + 1];
    char err[512];
    int rc;
} s_probe_t;

typedef struct {
    char session[SHOAL_SESSION_ID_MAX + 1];
    char developer[GOSSIP_NAME_MAX + 1];
    char who[SHOAL_IDENTITY_NAME_MAX + 1];
    uint8_t key[SHOAL_IDENTITY_PUBLIC_BYTES];
    shoal_offer_t offer;
    shoal_job_t *probing;
    s_probe_t *probe;
    shoal_tree_fetch_t *fetch;            /* NULL while probing */
    char answer[SHOAL_SHIP_TEXT_MAX + 1]; /* the last one, said again to a repeated offer */
    bool accepted;
    uint64_t accepted_at;       /* ms */
    uint64_t developer_missing; /* since when the developer is not alive, ms; 0: it is */
} s_taking_t;

/* What became of a hosted session's --artifacts (artifacts.h). */
typedef enum {
    S_ARTIFACTS_NONE,    /* the offer named none */
    S_ARTIFACTS_PENDING, /* the session runs */
    S_ARTIFACTS_READY,   /* packed into the store */
    S_ARTIFACTS_LOST,    /* why says why */
} s_artifacts_t;

/* A session handed to serve, for status, to answer a repeated offer, and
 * to hand back what its tests left. */
typedef struct {
    char session[SHOAL_SESSION_ID_MAX + 1];
    char developer[GOSSIP_NAME_MAX + 1];
    char who[SHOAL_IDENTITY_NAME_MAX + 1];
    uint8_t key[SHOAL_IDENTITY_PUBLIC_BYTES]; /* may cancel it */
    uint64_t files, bytes;
    s_artifacts_t artifacts;
    char **globs;          /* --artifacts (owned) */
    shoal_tree_t *shipped; /* the workspace, while the session runs (owned) */
    shoal_artifacts_packed_t packed;
    char why[SHOAL_SHIP_TEXT_MAX + 1];
} s_hosted_t;

struct shoal_intake {
    shoal_intake_config_t config;
    shoal_accept_t *accept;
    shoal_loop_t *loop;
    long timer;
    bool attached;
    zlist_t *taking; /* s_taking_t * */
    s_hosted_t hosted[S_HOSTED_MAX];
    size_t hosted_count;
    shoal_intake_stats_t stats;
    shoal_zygote_pool_t *zygotes; /* NULL: none */
};

static void
s_probe_free(void *arg)
{
    s_probe_t *p = arg;
    shoal_adapter_argv_free(&p->argv);
    free(p);
}

static void
s_probe_step(void *arg)
{
    s_probe_t *p = arg;
    p->rc = shoal_fingerprint_toolchain(p->argv, p->cwd, environ, p->out, sizeof(p->out), p->err,
                                        sizeof(p->err));
}

static void
s_hosted_clear(s_hosted_t *h)
{
    shoal_adapter_argv_free(&h->globs);
    shoal_tree_destroy(&h->shipped);
    memset(h, 0, sizeof(*h));
}

static void
s_taking_free(s_taking_t *t)
{
    if (!shoal_job_release(&t->probing))
        t->probe = NULL; /* the thread frees it */
    if (t->probe)
        s_probe_free(t->probe);
    shoal_tree_fetch_destroy(&t->fetch);
    shoal_offer_clear(&t->offer);
    free(t);
}

/* ---------------------------------------------------------------- answers */

static void
s_answer(shoal_intake_t *self, const char *to, const char *session, bool accepted, const char *text)
{
    shoal_ship_msg_t msg = {.type = SHOAL_SHIP_ANSWER, .accepted = accepted};
    snprintf(msg.session, sizeof(msg.session), "%s", session);
    snprintf(msg.text, sizeof(msg.text), "%s", text);
    shoal_ship_send(self->config.ship, to, &msg);
}

/* Forgets a session not yet hosted, telling its developer why (NULL: it
 * knows: it cancelled, or is gone). */
static void
s_drop(shoal_intake_t *self, s_taking_t *t, const char *why)
{
    if (why) {
        shoal_log_info("session %s from %s: %s", t->session, t->developer, why);
        s_answer(self, t->developer, t->session, false, why);
    }
    zlist_remove(self->taking, t);
    s_taking_free(t);
}

static s_taking_t *
s_find(shoal_intake_t *self, const char *session)
{
    s_taking_t *t;
    for (t = zlist_first(self->taking); t; t = zlist_next(self->taking))
        if (strcmp(t->session, session) == 0)
            return t;
    return NULL;
}

/* ---------------------------------------------------------------- the sandbox */

/* The words every command of the session runs behind (dir: the session's
 * directory, "" before it exists); NULL when unsandboxed (or out of
 * memory: *failed set). */
static char **
s_wrap(shoal_intake_t *self, const char *dir, bool network, bool *failed)
{
    *failed = false;
    if (!self->config.sandbox)
        return NULL;
    const char *writable[1] = {self->config.workdir};
    const char *hidden[1] = {self->config.secret};
    shoal_sandbox_t spec = {.dir =
                                dir[0] ? dir : self->config.workdir, /* the probe's: no tree yet */
                            .writable = writable,
                            .writable_count = self->config.workdir ? 1 : 0,
                            .hidden = hidden,
                            .hidden_count = self->config.secret && self->config.secret[0] ? 1 : 0,
                            .network = network};
    char err[512];
    char **wrap = shoal_sandbox_argv(&spec, err, sizeof(err));
    if (!wrap)
        shoal_log_info("cannot make the sandbox: %s", err);
    *failed = wrap == NULL;
    return wrap;
}

/* Words a then words b, in a new vector (NULL out of memory). */
static char **
s_concat(char *const *a, char *const *b)
{
    size_t na = 0, nb = 0;
    while (a && a[na])
        na++;
    while (b && b[nb])
        nb++;
    char **v = calloc(na + nb + 1, sizeof(char *));
    for (size_t i = 0; v && i < na + nb; i++)
        if (!(v[i] = strdup(i < na ? a[i] : b[i - na]))) {
            shoal_adapter_argv_free(&v);
            return NULL;
        }
    return v;
}

/* The environment a shipped session runs in: the daemon's own (its
 * toolchain) without the cluster key, with the sandbox's private /tmp as
 * TMPDIR when sandboxed. */
static char **
s_env(bool sandboxed)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; env && i < n; i++) {
        if ((sandboxed && strncmp(environ[i], "TMPDIR=", 7) == 0) ||
            strncmp(environ[i], "SHOAL_KEY=", 10) == 0)
            continue;
        if (!(env[k++] = strdup(environ[i]))) {
            shoal_adapter_argv_free(&env);
            return NULL;
        }
    }
    if (env && sandboxed && !(env[k] = strdup("TMPDIR=/tmp")))
        shoal_adapter_argv_free(&env);
    return env;
}

/* ---------------------------------------------------------------- offers */

/* Why the offer cannot be taken from `from`, or NULL; fills the decoded
 * offer and the signer's name. */
static const char *
s_refuse(shoal_intake_t *self, const char *from, const shoal_ship_msg_t *msg, shoal_offer_t *offer,
         char *who, char *why, size_t size)
{
    char err[512];
    const char *comment = NULL;
    if (shoal_accept_refresh(self->accept, err, sizeof(err)) != 0)
        shoal_log_info("--accept-from: %s (the list read before stays in use)", err);
    bool listed = shoal_accept_allows(self->accept, msg->key, &comment);
    shoal_identity_name(msg->key, comment, who, SHOAL_IDENTITY_NAME_MAX + 1);
    if (!listed) {
        snprintf(why, size, "identity %s is not on this daemon's --accept-from list", who);
        return why;
    }
    if (shoal_identity_verify(msg->key, msg->body, msg->body_len, msg->signature) != 0) {
        snprintf(why, size, "the offer's signature does not match identity %s", who);
        return why;
    }
    if (shoal_offer_decode(msg->body, msg->body_len, offer) != 0) {
        snprintf(why, size, "an offer this daemon cannot read (another version of shoal?)");
        return why;
    }
    int64_t now_s = (int64_t)time(NULL);
    if (strcmp(offer->developer, from) != 0 ||
        strcmp(offer->handoff.run.session, msg->session) != 0) {
        snprintf(why, size, "an offer signed for %s, session %s, relayed by %s", offer->developer,
                 offer->handoff.run.session, from);
        return why;
    }
    if (offer->issued < now_s - S_ISSUED_SLACK_S || offer->issued > now_s + S_ISSUED_SLACK_S) {
        snprintf(why, size, "a stale offer (issued %lld, now %lld: are the clocks set?)",
                 (long long)offer->issued, (long long)now_s);
        return why;
    }
    return NULL;
}

static void
s_on_offer(shoal_intake_t *self, const char *from, const shoal_ship_msg_t *msg)
{
    self->stats.offers++;
    s_taking_t *known = s_find(self, msg->session);
    if (known && strcmp(known->developer, from) == 0) {
        if (known->answer[0])
            s_answer(self, from, known->session, known->accepted, known->answer);
        return;
    }
    for (size_t i = 0; i < self->hosted_count; i++)
        if (strcmp(self->hosted[i].session, msg->session) == 0 &&
            strcmp(self->hosted[i].developer, from) == 0 &&
            shoal_serve_has(self->config.serve, msg->session)) {
            s_answer(self, from, msg->session, true, "it runs the session");
            return;
        }
    s_taking_t *t = calloc(1, sizeof(*t));
    char why[SHOAL_SHIP_TEXT_MAX + 1];
    if (!t) {
        s_answer(self, from, msg->session, false, "out of memory");
        return;
    }
    if (s_refuse(self, from, msg, &t->offer, t->who, why, sizeof(why))) {
        /* Nothing is kept of a refused offer: it is counted, logged and answered. */
        self->stats.refused++;
        shoal_log_info("refused session %s from %s: %s", msg->session, from, why);
        s_answer(self, from, msg->session, false, why);
        s_taking_free(t);
        return;
    }
    if (known || shoal_serve_has(self->config.serve, msg->session)) {
        self->stats.declined++;
        s_answer(self, from, msg->session, false, "it runs another session of that id");
        s_taking_free(t);
        return;
    }
    snprintf(t->session, sizeof(t->session), "%s", msg->session);
    snprintf(t->developer, sizeof(t->developer), "%s", from);
    memcpy(t->key, msg->key, sizeof(t->key));
    zlist_append(self->taking, t);
    bool failed;
    char **wrap = s_wrap(self, "", t->offer.network, &failed);
    t->probe = calloc(1, sizeof(*t->probe));
    if (t->probe && !failed && t->offer.probe && t->offer.probe[0]) {
        t->probe->argv = s_concat(wrap, t->offer.probe);
        t->probe->cwd = self->config.workdir ? self->config.workdir : "/";
    }
    shoal_adapter_argv_free(&wrap);
    if (!t->offer.probe || !t->offer.probe[0]) {
        s_probe_free(t->probe); /* nothing to compare: the toolchain is not pinned */
        t->probe = NULL;
    } else if (!t->probe || !t->probe->argv ||
               !(t->probing = shoal_job_start(s_probe_step, s_probe_free, t->probe))) {
        s_drop(self, t, "it cannot start its toolchain probe");
        return;
    }
    shoal_log_info("session %s offered by %s (%s): checking its toolchain", t->session, from,
                   t->who);
    shoal_loop_set_timer(self->loop, self->timer, shoal_loop_now(self->loop));
}

static void
s_on_cancel(shoal_intake_t *self, const char *from, const shoal_ship_msg_t *msg, uint64_t now)
{
    s_taking_t *t = s_find(self, msg->session);
    const uint8_t *key = t && strcmp(t->developer, from) == 0 ? t->key : NULL;
    for (size_t i = 0; !key && i < self->hosted_count; i++)
        if (strcmp(self->hosted[i].session, msg->session) == 0 &&
            strcmp(self->hosted[i].developer, from) == 0)
            key = self->hosted[i].key;
    /* Only the identity that offered the session may cancel it. */
    char text[SHOAL_SESSION_ID_MAX + 16];
    size_t len = shoal_ship_cancel_text(msg->session, text, sizeof(text));
    if (!key || shoal_identity_verify(key, (const uint8_t *)text, len, msg->signature) != 0) {
        self->stats.refused++;
        shoal_log_info("ignored a cancel of session %s from %s: not signed by its developer",
                       msg->session, from);
        return;
    }
    self->stats.cancelled++;
    shoal_log_info("session %s: cancelled by its developer %s", msg->session, from);
    if (t && t->developer[0] && strcmp(t->developer, from) == 0)
        s_drop(self, t, NULL);
    else
        shoal_serve_cancel(self->config.serve, msg->session, now);
}

/* ---------------------------------------------------------------- steps */

static void
s_peers(shoal_intake_t *self, shoal_tree_fetch_t *fetch)
{
    static gossip_member_t members[GOSSIP_MEMBERS_MAX];
    static const char *names[GOSSIP_MEMBERS_MAX];
    shoal_node_t *node = self->config.node;
    size_t count = gossip_mesh_members(shoal_node_mesh(node), members, GOSSIP_MEMBERS_MAX), n = 0;
    for (size_t i = 0; i < count && i < GOSSIP_MEMBERS_MAX; i++) {
        bool serves = false;
        for (int k = 0; k < members[i].meta.tag_count; k++)
            serves |= strcmp(members[i].meta.tags[k], SHOAL_SERVE_TAG) == 0;
        if (serves && members[i].state == GOSSIP_STATE_ALIVE &&
            strcmp(members[i].name, shoal_node_name(node)) != 0)
            names[n++] = members[i].name;
    }
    shoal_fetch_set_peers(shoal_tree_fetch_blobs(fetch), names, n);
}

static void
s_probe_done(shoal_intake_t *self, s_taking_t *t)
{
    if (t->probe) {
        shoal_job_release(&t->probing);
        s_probe_t *p = t->probe;
        t->probe = NULL;
        char why[SHOAL_SHIP_TEXT_MAX + 1];
        int rc = p->rc;
        if (rc != 0)
            snprintf(why, sizeof(why), "its toolchain probe failed here: %.400s", p->err);
        else if (shoal_fingerprint_compare(p->out, t->offer.toolchain, why, sizeof(why)) != 0)
            rc = -1;
        s_probe_free(p);
        if (rc != 0) {
            self->stats.declined++;
            s_drop(self, t, why);
            return;
        }
    }
    t->fetch = shoal_tree_fetch_new(self->config.store, t->developer, shoal_ship_send_payload,
                                    self->config.ship, t->offer.root, t->offer.manifest_size);
    if (!t->fetch) {
        s_drop(self, t, "out of memory");
        return;
    }
    s_peers(self, t->fetch);
    t->accepted = true;
    t->accepted_at = shoal_loop_now(self->loop);
    snprintf(t->answer, sizeof(t->answer), "its toolchain matches (%s); fetching the workspace",
             t->offer.toolchain[0] ? t->offer.toolchain : "not pinned");
    s_answer(self, t->developer, t->session, true, t->answer);
}

static void
s_count_fetch(shoal_intake_t *self, const shoal_fetch_t *fetch)
{
    const shoal_fetch_stats_t *f = shoal_fetch_stats(fetch);
    self->stats.blobs_from_origin += f->blobs_from_origin;
    self->stats.blobs_from_peers += f->blobs_from_peers;
    self->stats.bytes_from_origin += f->bytes_from_origin;
    self->stats.bytes_from_peers += f->bytes_from_peers;
}

/* Workers of the session fork from a warm zygote of its developer, its
 * toolchain and its dependencies (zygote.h). */
static void
s_zygote_ticket(shoal_intake_t *self, const s_taking_t *t, const char *root, const char *dir,
                shoal_zygote_ticket_t *ticket)
{
    char key[SHOAL_IDENTITY_PUBLIC_BYTES * 2 + 1];
    sodium_bin2hex(key, sizeof(key), t->key, sizeof(t->key));
    ticket->pool = self->zygotes;
    snprintf(ticket->key, sizeof(ticket->key), "%s\n%s\n%s", key, t->offer.toolchain,
             t->offer.deps);
    snprintf(ticket->root, sizeof(ticket->root), "%s", root);
    snprintf(ticket->home, sizeof(ticket->home), "%s", dir);
    ticket->network = t->offer.network;
}

/* Every blob is here: the session's directory, then serve hosts it. */
static void
s_blobs_done(shoal_intake_t *self, s_taking_t *t, uint64_t now)
{
    const shoal_tree_t *tree = shoal_tree_fetch_tree(t->fetch);
    char dir[PATH_MAX], err[512], why[SHOAL_SHIP_TEXT_MAX + 1];
    uint8_t random[6];
    randombytes_buf(random, sizeof(random));
    char hex[13];
    sodium_bin2hex(hex, sizeof(hex), random, sizeof(random));
    /* Each developer's sessions in a directory of their own: a zygote of
     * theirs may write it, and no other developer's (zygote.h). */
    char root[PATH_MAX], id[17];
    sodium_bin2hex(id, sizeof(id), t->key, 8);
    snprintf(root, sizeof(root), "%.4000s/sessions", shoal_store_dir(self->config.store));
    int made = mkdir(root, 0700) == 0 || errno == EEXIST ? 0 : -1;
    snprintf(root, sizeof(root), "%.4000s/sessions/%s", shoal_store_dir(self->config.store), id);
    if (made != 0 || (mkdir(root, 0700) != 0 && errno != EEXIST)) {
        snprintf(why, sizeof(why), "cannot make %.300s: %.100s", root, strerror(errno));
        s_drop(self, t, why);
        return;
    }
    snprintf(dir, sizeof(dir), "%.4000s/%s.%s", root, t->session, hex);
    /* Copies: the sandbox's user is the store's owner, so a test could
     * change a linked blob for every later session. */
    if (shoal_store_materialize(self->config.store, tree, dir, true, err, sizeof(err)) != 0) {
        snprintf(why, sizeof(why), "cannot lay out its workspace: %.400s", err);
        s_drop(self, t, why);
        return;
    }
    shoal_store_trim(self->config.store);
    /* The hand-off's paths are rooted at the workspace's top: below dir here. */
    shoal_handoff_t *handoff = &t->offer.handoff;
    char *cwd = NULL;
    if (asprintf(&cwd, "%s%s", dir, strcmp(handoff->cwd, "/") == 0 ? "" : handoff->cwd) < 0)
        cwd = NULL;
    char list[sizeof(handoff->list)];
    int list_len = handoff->list[0] ? snprintf(list, sizeof(list), "%s%s", dir, handoff->list)
                                    : snprintf(list, sizeof(list), "%s", "");
    bool failed;
    char **wrap = s_wrap(self, dir, t->offer.network, &failed);
    char **env = s_env(self->config.sandbox);
    if (!cwd || failed || !env || list_len < 0 || (size_t)list_len >= sizeof(list)) {
        free(cwd);
        shoal_adapter_argv_free(&wrap);
        shoal_adapter_argv_free(&env);
        shoal_remove_tree(dir);
        s_drop(self, t, "out of memory, or its paths are too long here");
        return;
    }
    free(handoff->cwd);
    handoff->cwd = cwd;
    snprintf(handoff->list, sizeof(handoff->list), "%s", list);
    shoal_adapter_argv_free(&handoff->env);
    handoff->env = env;
    handoff->run.junit[0] = handoff->run.json[0] = '\0'; /* the developer writes the reports */
    handoff->run.history_db[0] = '\0';
    handoff->slots = 0;
    s_zygote_ticket(self, t, root, dir, &handoff->run.zygote);
    uint64_t files = shoal_tree_count(tree), bytes = shoal_tree_bytes(tree);
    s_count_fetch(self, shoal_tree_fetch_blobs(t->fetch));
    self->stats.blobs_present += shoal_tree_fetch_present(t->fetch);
    const shoal_fetch_stats_t *f = shoal_fetch_stats(shoal_tree_fetch_blobs(t->fetch));
    shoal_log_info("session %s: fetched %llu blobs (%llu bytes from %s, %llu from peers) in %llu "
                   "ms: %llu requests, %llu timeouts, %llu NOPEs",
                   t->session, (unsigned long long)(f->blobs_from_origin + f->blobs_from_peers),
                   (unsigned long long)f->bytes_from_origin, t->developer,
                   (unsigned long long)f->bytes_from_peers,
                   (unsigned long long)(now - t->accepted_at), (unsigned long long)f->requests,
                   (unsigned long long)f->timeouts, (unsigned long long)f->nopes);
    if (shoal_serve_host(self->config.serve, handoff, wrap, dir, t->developer, t->who, now, why,
                         sizeof(why)) != 0) {
        s_drop(self, t, why);
        return;
    }
    self->stats.taken++;
    s_hosted_t *h =
        &self->hosted[self->hosted_count < S_HOSTED_MAX ? self->hosted_count++ : S_HOSTED_MAX - 1];
    s_hosted_clear(h);
    if (t->offer.artifacts && t->offer.artifacts[0]) {
        h->artifacts = S_ARTIFACTS_PENDING;
        h->globs = t->offer.artifacts; /* taken */
        t->offer.artifacts = NULL;
        h->shipped = shoal_tree_fetch_take(t->fetch);
    }
    snprintf(h->session, sizeof(h->session), "%s", t->session);
    snprintf(h->developer, sizeof(h->developer), "%s", t->developer);
    snprintf(h->who, sizeof(h->who), "%s", t->who);
    memcpy(h->key, t->key, sizeof(h->key));
    h->files = files;
    h->bytes = bytes;
    shoal_log_info("session %s: workspace laid out in %s", t->session, dir);
    zlist_remove(self->taking, t);
    s_taking_free(t);
}

static uint64_t
s_tick(void *ctx, uint64_t now)
{
    shoal_intake_t *self = ctx;
    zlist_t *walk = zlist_dup(self->taking);
    uint64_t next = now + 1000;
    for (s_taking_t *t = walk ? zlist_first(walk) : NULL; t; t = zlist_next(walk)) {
        if (shoal_serve_developer_gone(self->config.node, t->developer, &t->developer_missing,
                                       now)) {
            self->stats.dropped++;
            shoal_log_info("session %s: its developer %s is gone: dropped", t->session,
                           t->developer);
            s_drop(self, t, NULL);
            continue;
        }
        if (!t->fetch) {
            if (!t->probing || shoal_job_done(t->probing))
                next = (s_probe_done(self, t), now); /* its fetch asks at once, next turn */
            else
                next = now + S_TICK_MS;
            continue;
        }
        uint64_t at = shoal_tree_fetch_tick(t->fetch, now);
        next = at < next ? at : next;
        const char *failed = shoal_tree_fetch_failed(t->fetch);
        if (failed) {
            char why[SHOAL_SHIP_TEXT_MAX + 1];
            snprintf(why, sizeof(why), "cannot fetch its workspace: %.400s", failed);
            s_drop(self, t, why);
        } else if (shoal_tree_fetch_state(t->fetch) == SHOAL_TREE_FETCH_DONE &&
                   t->developer_missing) {
            /* its developer is not alive now: started only once it is back
             * (a false death), else dropped when the grace is over */
            next = now + S_TICK_MS < next ? now + S_TICK_MS : next;
        } else if (shoal_tree_fetch_state(t->fetch) == SHOAL_TREE_FETCH_DONE) {
            s_blobs_done(self, t, now);
        }
    }
    zlist_destroy(&walk);
    return next;
}

/* ---------------------------------------------------------------- artifacts */

/* The hosted session of that id whose files may still be asked for (the
 * newest), or NULL. */
static s_hosted_t *
s_hosted_find(shoal_intake_t *self, const char *session, const char *developer)
{
    for (size_t i = self->hosted_count; i-- > 0;)
        if (strcmp(self->hosted[i].session, session) == 0 &&
            (!developer || strcmp(self->hosted[i].developer, developer) == 0))
            return &self->hosted[i];
    return NULL;
}

/* serve's hook: a shipped session ended here; its directory is still there. */
static void
s_on_done(void *ctx, const char *session, const char *dir, bool completed, const char *failed)
{
    shoal_intake_t *self = ctx;
    s_hosted_t *h = s_hosted_find(self, session, NULL);
    if (h && failed) {
        /* It took the offer, and cannot start: the developer stops
         * waiting for it and says why. */
        char why[SHOAL_SHIP_TEXT_MAX + 1];
        snprintf(why, sizeof(why), "cannot start the session here: %.400s", failed);
        s_answer(self, h->developer, session, false, why);
        self->stats.declined++;
    }
    if (!h || h->artifacts != S_ARTIFACTS_PENDING)
        return;
    char err[512];
    if (!completed) {
        snprintf(h->why, sizeof(h->why), "the session was abandoned on %s before it completed",
                 shoal_node_name(self->config.node));
        h->artifacts = S_ARTIFACTS_LOST;
    } else if (shoal_artifacts_pack(self->config.store, dir, h->globs, h->shipped, &h->packed, err,
                                    sizeof(err)) != 0) {
        snprintf(h->why, sizeof(h->why), "%s cannot keep them: %.400s",
                 shoal_node_name(self->config.node), err);
        h->artifacts = S_ARTIFACTS_LOST;
    } else {
        h->artifacts = S_ARTIFACTS_READY;
        self->stats.artifact_files += h->packed.files;
        self->stats.artifact_bytes += h->packed.bytes;
    }
    if (h->artifacts == S_ARTIFACTS_LOST)
        shoal_log_info("session %s: artifacts for %s lost: %s", session, h->developer, h->why);
    else
        shoal_log_info("session %s: artifacts: %llu files (%llu bytes) for %s", session,
                       (unsigned long long)h->packed.files, (unsigned long long)h->packed.bytes,
                       h->developer);
    shoal_tree_destroy(&h->shipped);
}

/* COLLECT: what the session's tests left, once it is over here. */
static void
s_on_collect(shoal_intake_t *self, const char *from, const shoal_ship_msg_t *msg)
{
    shoal_ship_msg_t reply = {.type = SHOAL_SHIP_ARTIFACTS};
    snprintf(reply.session, sizeof(reply.session), "%s", msg->session);
    s_hosted_t *h = s_hosted_find(self, msg->session, from);
    if (h && h->artifacts == S_ARTIFACTS_PENDING)
        return; /* it still runs here: asked again */
    if (!h && s_find(self, msg->session))
        reply.accepted = true; /* still being fetched: no test of it ran here */
    else if (!h)
        snprintf(reply.text, sizeof(reply.text),
                 "%s has no record of the session (it restarted since, or ran more than %d "
                 "sessions after it)",
                 shoal_node_name(self->config.node), S_HOSTED_MAX);
    else if (h->artifacts == S_ARTIFACTS_NONE)
        snprintf(reply.text, sizeof(reply.text), "the session's offer named no --artifacts");
    else if (h->artifacts == S_ARTIFACTS_LOST)
        snprintf(reply.text, sizeof(reply.text), "%s", h->why);
    if (h && h->artifacts == S_ARTIFACTS_READY) {
        reply.accepted = true;
        memcpy(reply.digest, h->packed.root, sizeof(reply.digest));
        reply.index_size = h->packed.index_size;
        reply.files = h->packed.files;
        reply.bytes = h->packed.bytes;
    }
    shoal_ship_send(self->config.ship, from, &reply);
}

static void
s_on_msg(void *ctx, const char *from, const shoal_ship_msg_t *msg, uint64_t now)
{
    shoal_intake_t *self = ctx;
    if (msg->type == SHOAL_SHIP_OFFER) {
        s_on_offer(self, from, msg);
    } else if (msg->type == SHOAL_SHIP_CANCEL) {
        s_on_cancel(self, from, msg, now);
    } else if (msg->type == SHOAL_SHIP_COLLECT) {
        s_on_collect(self, from, msg);
    } else {
        s_taking_t *t;
        for (t = zlist_first(self->taking); t; t = zlist_next(self->taking))
            if (t->fetch)
                shoal_tree_fetch_on_msg(t->fetch, from, msg, now);
        shoal_loop_set_timer(self->loop, self->timer, now);
    }
}

/* ---------------------------------------------------------------- status */

/* The head of one session's entry, left open for more fields. */
static void
s_status_entry(FILE *out, bool first, const char *session, const char *who, const char *developer,
               const char *state)
{
    fprintf(out, "%s{\"session\":", first ? "" : ",");
    shoal_json_string(out, session);
    fprintf(out, ",\"identity\":");
    shoal_json_string(out, who);
    fprintf(out, ",\"developer\":");
    shoal_json_string(out, developer);
    fprintf(out, ",\"state\":\"%s\"", state);
}

static void
s_on_status(void *ctx, FILE *out, bool json)
{
    shoal_intake_t *self = ctx;
    const shoal_intake_stats_t *s = &self->stats;
    const shoal_zygote_stats_t *z = shoal_intake_zygote_stats(self);
    size_t taking, alive = shoal_zygote_pool_count(self->zygotes, &taking);
    if (!json) {
        for (size_t i = 0; i < self->hosted_count; i++)
            if (shoal_serve_has(self->config.serve, self->hosted[i].session))
                fprintf(out, "serving session %s for %s from %s (%llu files)\n",
                        self->hosted[i].session, self->hosted[i].who, self->hosted[i].developer,
                        (unsigned long long)self->hosted[i].files);
        s_taking_t *t;
        for (t = zlist_first(self->taking); t; t = zlist_next(self->taking))
            fprintf(out, "taking session %s for %s from %s: %s\n", t->session, t->who, t->developer,
                    s_state_name(t->fetch));
        fprintf(out,
                "offers %llu: taken %llu, declined %llu, refused %llu, cancelled %llu, dropped "
                "%llu\nblobs fetched: %llu from developers (%llu bytes), %llu from peers (%llu "
                "bytes)\n",
                (unsigned long long)s->offers, (unsigned long long)s->taken,
                (unsigned long long)s->declined, (unsigned long long)s->refused,
                (unsigned long long)s->cancelled, (unsigned long long)s->dropped,
                (unsigned long long)s->blobs_from_origin, (unsigned long long)s->bytes_from_origin,
                (unsigned long long)s->blobs_from_peers, (unsigned long long)s->bytes_from_peers);
        if (z)
            fprintf(out,
                    "zygotes: %zu running (%zu taking work), %llu started, %llu failed; workers: "
                    "%llu handed to a zygote, %llu forked warm, %llu sent back to start cold\n",
                    alive, taking, (unsigned long long)z->started, (unsigned long long)z->failed,
                    (unsigned long long)z->attached, (unsigned long long)z->forked,
                    (unsigned long long)z->cold);
        return;
    }
    fprintf(out, "{\"serving\":[");
    bool first = true;
    for (size_t i = 0; i < self->hosted_count; i++)
        if (shoal_serve_has(self->config.serve, self->hosted[i].session)) {
            s_status_entry(out, first, self->hosted[i].session, self->hosted[i].who,
                           self->hosted[i].developer, "running");
            fprintf(out, ",\"files\":%llu,\"bytes\":%llu}",
                    (unsigned long long)self->hosted[i].files,
                    (unsigned long long)self->hosted[i].bytes);
            first = false;
        }
    s_taking_t *t;
    for (t = zlist_first(self->taking); t; t = zlist_next(self->taking)) {
        s_status_entry(out, first, t->session, t->who, t->developer, s_state_name(t->fetch));
        fprintf(out, "}");
        first = false;
    }
    fprintf(out,
            "],\"intake\":{\"offers\":%llu,\"refused\":%llu,\"declined\":%llu,\"taken\":%llu,"
            "\"cancelled\":%llu,\"dropped\":%llu,\"blobs_from_origin\":%llu,"
            "\"blobs_from_peers\":%llu,\"bytes_from_origin\":%llu,\"bytes_from_peers\":%llu,"
            "\"blobs_present\":%llu,\"artifact_files\":%llu,\"artifact_bytes\":%llu}",
            (unsigned long long)s->offers, (unsigned long long)s->refused,
            (unsigned long long)s->declined, (unsigned long long)s->taken,
            (unsigned long long)s->cancelled, (unsigned long long)s->dropped,
            (unsigned long long)s->blobs_from_origin, (unsigned long long)s->blobs_from_peers,
            (unsigned long long)s->bytes_from_origin, (unsigned long long)s->bytes_from_peers,
            (unsigned long long)s->blobs_present, (unsigned long long)s->artifact_files,
            (unsigned long long)s->artifact_bytes);
    if (z)
        fprintf(out,
                ",\"zygotes\":{\"alive\":%zu,\"taking\":%zu,\"started\":%llu,\"ready\":%llu,"
                "\"failed\":%llu,\"retired\":%llu,\"attached\":%llu,\"forked\":%llu,"
                "\"cold\":%llu}",
                alive, taking, (unsigned long long)z->started, (unsigned long long)z->ready,
                (unsigned long long)z->failed, (unsigned long long)z->retired,
                (unsigned long long)z->attached, (unsigned long long)z->forked,
                (unsigned long long)z->cold);
    fprintf(out, "}");
}

static bool
s_accepts_none(void *ctx, const uint8_t *payload, size_t len)
{
    (void)ctx;
    (void)payload;
    (void)len;
    return false; /* ship takes the messages and hands ours over */
}

/* ---------------------------------------------------------------- life cycle */

shoal_intake_t *
shoal_intake_new(const shoal_intake_config_t *config, char *err, size_t err_size)
{
    shoal_intake_t *self = calloc(1, sizeof(*self));
    if (!self) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    self->config = *config;
    self->loop = shoal_node_loop(config->node);
    self->accept = shoal_accept_load(config->accept_from, err, err_size);
    self->taking = zlist_new();
    self->timer = shoal_loop_add_timer(self->loop, shoal_loop_now(self->loop), s_tick, self);
    shoal_node_app_t app = {.accepts = s_accepts_none, .on_status = s_on_status, .ctx = self};
    if (!self->accept || !self->taking || self->timer < 0 ||
        shoal_node_attach(config->node, &app) != 0) {
        if (self->accept)
            snprintf(err, err_size, "out of memory");
        shoal_intake_destroy(&self);
        return NULL;
    }
    if (config->zygotes) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.4000s/zygotes", shoal_store_dir(config->store));
        shoal_zygote_config_t z = {.loop = self->loop,
                                   .dir = dir,
                                   .workdir = config->workdir,
                                   .secret = config->secret,
                                   .sandbox = config->sandbox,
                                   .pool = config->zygotes,
                                   .idle = config->zygote_idle,
                                   .recycle = config->zygote_recycle};
        if (!(self->zygotes = shoal_zygote_pool_new(&z, err, err_size))) {
            shoal_intake_destroy(&self);
            return NULL;
        }
    }
    self->attached = true;
    shoal_ship_set_intake(config->ship, s_on_msg, self);
    shoal_serve_set_done(config->serve, s_on_done, self);
    shoal_log_info("serving shipped sessions of the %zu identities in %s%s",
                   shoal_accept_count(self->accept), config->accept_from,
                   config->sandbox ? ", inside bubblewrap" : ", UNSANDBOXED");
    return self;
}

void
shoal_intake_destroy(shoal_intake_t **self_p)
{
    shoal_intake_t *self = *self_p;
    if (!self)
        return;
    if (self->attached) {
        shoal_ship_set_intake(self->config.ship, NULL, NULL);
        shoal_serve_set_done(self->config.serve, NULL, NULL);
        shoal_node_detach(self->config.node, self);
    }
    s_taking_t *t;
    while (self->taking && (t = zlist_pop(self->taking)))
        s_taking_free(t);
    zlist_destroy(&self->taking);
    for (size_t i = 0; i < self->hosted_count; i++)
        s_hosted_clear(&self->hosted[i]);
    if (self->timer >= 0)
        shoal_loop_remove_timer(self->loop, self->timer);
    shoal_zygote_pool_destroy(&self->zygotes);
    shoal_accept_destroy(&self->accept);
    free(self);
    *self_p = NULL;
}

const shoal_intake_stats_t *
shoal_intake_stats(const shoal_intake_t *self)
{
    return &self->stats;
}

const shoal_zygote_stats_t *
shoal_intake_zygote_stats(const shoal_intake_t *self)
{
    return self->zygotes ? shoal_zygote_pool_stats(self->zygotes) : NULL;
}
