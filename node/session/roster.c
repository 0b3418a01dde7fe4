/* The session's participants (see internal.h): the members of the mesh that
 * advertise this session and the same runner, with their slots, tags and
 * whether they live. A participant is never removed, so pointers to it and
 * its index stay valid; one that dies is marked and may come back.
 */
#include "node/session/internal.h"
#include "node/log.h"
#include "node/session.h"
#include "sched/sched.h"

#include <string.h>

void
shoal_roster_init(shoal_roster_t *self, const char *session, const char *digest)
{
    memset(self, 0, sizeof(*self));
    snprintf(self->session, sizeof(self->session), "%s", session);
    shoal_session_tags(session, digest, self->session_tag, self->runner_tag,
                       sizeof(self->session_tag));
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
    bool in_session = false, same_runner = false;
    char tags[sizeof(((shoal_participant_t *)0)->tags)] = "";
    for (int t = 0; t < m->meta.tag_count; t++) {
        if (strcmp(m->meta.tags[t], self->session_tag) == 0)
            in_session = true;
        else if (strcmp(m->meta.tags[t], self->runner_tag) == 0)
            same_runner = true;
        else if (strncmp(m->meta.tags[t], "runner=", 7) != 0 &&
                 strncmp(m->meta.tags[t], "session=", 8) != 0) {
            if (tags[0])
                strcat(tags, ",");
            strcat(tags, m->meta.tags[t]);
        }
    }
    if (!in_session)
        return SHOAL_ROSTER_NOT_OURS;
    shoal_participant_t *p = shoal_roster_find(self, m->name);
    if (!same_runner) {
        if (!p && m->state == GOSSIP_STATE_ALIVE)
            shoal_log_info("%s is in session %s with a different runner or test list: "
                           "ignoring it",
                           m->name, self->session);
        return SHOAL_ROSTER_OTHER_RUNNER;
    }
    if (!p) {
        if (self->count == SHOAL_PARTICIPANTS_MAX)
            return SHOAL_ROSTER_FULL;
        p = &self->items[self->count++];
        snprintf(p->name, sizeof(p->name), "%s", m->name);
    }
    p->slots = m->meta.slots;
    snprintf(p->tags, sizeof(p->tags), "%s", tags);
    bool was_alive = p->alive;
    p->alive = m->state == GOSSIP_STATE_ALIVE || m->state == GOSSIP_STATE_SUSPECT;
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
    for (size_t i = 0; i < self->count; i++) {
        names[i] = self->items[i].name;
        alive[i] = self->items[i].alive && !(except && strcmp(names[i], except) == 0);
    }
    size_t top;
    if (sched_rank_leader(self->session, names, alive, self->count, &top) != 0)
        return NULL;
    return self->items[top].name;
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
