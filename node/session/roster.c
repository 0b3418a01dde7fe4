/* The session's participants (see internal.h): the members of the mesh that
 * advertise this session with the same runner (a session tag, session_tag.h),
 * with the slots they give it, their other tags and whether they live. A
 * participant is never removed, so pointers to it and its index stay valid;
 * one that dies, or stops advertising the session, is marked and may come
 * back.
 */
#include "node/session/internal.h"
#include "node/log.h"
#include "node/session_tag.h"
#include "sched/sched.h"

#include <string.h>

void
shoal_roster_init(shoal_roster_t *self, const char *session, const char *digest)
{
    memset(self, 0, sizeof(*self));
    snprintf(self->session, sizeof(self->session), "%s", session);
    snprintf(self->digest, sizeof(self->digest), "%s", digest);
}

shoal_participant_t *
shoal_roster_find(shoal_roster_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->items[i].name, name) == 0)
            return &self->items[i];
    return NULL;
}

shoal_roster_change_t
shoal_roster_update(shoal_roster_t *self, const gossip_member_t *m, shoal_participant_t **out)
{
    if (out)
        *out = NULL;
    shoal_session_tag_t mine = {0};
    bool in_session = false;
    for (int t = 0; t < m->meta.tag_count; t++) {
        shoal_session_tag_t tag;
        if (shoal_session_tag_parse(m->meta.tags[t], &tag) == 0 &&
            strcmp(tag.session, self->session) == 0) {
            in_session = true;
            mine = tag;
        }
    }
    bool takes_part = in_session && shoal_session_tag_runner_is(&mine, self->digest);
    shoal_participant_t *p = shoal_roster_find(self, m->name);
    if (!p && !takes_part) {
        if (in_session && m->state == GOSSIP_STATE_ALIVE)
            shoal_log_info("%s is in session %s with a different runner or test list: "
                           "ignoring it",
                           m->name, self->session);
        return in_session ? SHOAL_ROSTER_OTHER_RUNNER : SHOAL_ROSTER_NOT_OURS;
    }
    if (!p) {
        if (self->count == SHOAL_PARTICIPANTS_MAX)
            return SHOAL_ROSTER_FULL;
        p = &self->items[self->count++];
        snprintf(p->name, sizeof(p->name), "%s", m->name);
    }
    if (takes_part) {
        p->slots = mine.slots;
        shoal_session_own_tags(&m->meta, p->tags, sizeof(p->tags));
    }
    bool was_alive = p->alive;
    /* A member that stops advertising the session has left it, as if dead. */
    p->alive = takes_part && (m->state == GOSSIP_STATE_ALIVE || m->state == GOSSIP_STATE_SUSPECT);
    if (out)
        *out = p;
    if (p->alive && !was_alive)
        return SHOAL_ROSTER_ARRIVED;
    if (!p->alive && was_alive)
        return SHOAL_ROSTER_LOST;
    return SHOAL_ROSTER_SAME;
}

size_t
shoal_roster_alive(const shoal_roster_t *self)
{
    size_t n = 0;
    for (size_t i = 0; i < self->count; i++)
        n += self->items[i].alive;
    return n;
}

const char *
shoal_roster_ranked_first(const shoal_roster_t *self, const char *except)
{
    const char *names[SHOAL_PARTICIPANTS_MAX];
    bool alive[SHOAL_PARTICIPANTS_MAX];
    /* A serving daemon runs a shipped session in a copy of someone else's
     * checkout: the participants that do not serve (the developer's run)
     * lead while one is alive, so their collection is the reference. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < self->count; i++) {
            names[i] = self->items[i].name;
            alive[i] = self->items[i].alive && !(except && strcmp(names[i], except) == 0) &&
                       (pass == 1 || !strstr(self->items[i].tags, SHOAL_SERVE_TAG));
        }
        size_t top;
        if (sched_rank_leader(self->session, names, alive, self->count, &top) == 0)
            return self->items[top].name;
    }
    return NULL;
}

void
shoal_roster_alive_names(const shoal_roster_t *self, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < self->count && len < size; i++)
        if (self->items[i].alive)
            len += (size_t)snprintf(out + len, size - len, "%s%s", len ? ", " : "",
                                    self->items[i].name);
    if (len >= size && size > 4)
        snprintf(out + size - 4, 4, "...");
}
