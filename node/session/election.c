/* Who leads (see session.h for the diagram): the join window, the first
 * claim, newer terms and takeovers, as decisions the glue carries out.
 *
 *   window open --expect met or wait over--> closed
 *   closed, best-ranked is us, collected --> ASK (QUERY to all, claim_at set)
 *   ASK --every other answered unled, or claim_at--> CLAIM term 1
 *   LEADER (term, from) newer --> ADOPT;  no newer while we lead --> TELL
 *   our leader lost --> CLAIM term + 1 if we rank first among survivors,
 *                       else DISOWNED until the next LEADER
 */
#include "node/session/internal.h"
#include "node/log.h"
#include "sched/sched.h"

#include <string.h>

#define S_CLAIM_GRACE_MS 1000 /* a would-be first leader waits this for an incumbent */

void
shoal_election_init(shoal_election_t *self, int expect, uint64_t gather_until)
{
    memset(self, 0, sizeof(*self));
    self->expect = expect;
    self->gather_until = gather_until;
}

bool
shoal_election_newer(const shoal_election_t *self, const char *session, uint32_t term,
                     const char *leader)
{
    if (term != self->term)
        return term > self->term;
    if (!self->leader[0])
        return true;
    if (strcmp(leader, self->leader) == 0)
        return false;
    return sched_rank_hash(session, leader) > sched_rank_hash(session, self->leader);
}

/* Every other live participant said it follows no leader. */
static bool
s_all_unled(const shoal_roster_t *roster, const char *me)
{
    for (size_t i = 0; i < roster->count; i++) {
        const shoal_participant_t *p = &roster->items[i];
        if (p->alive && !p->unled && strcmp(p->name, me) != 0)
            return false;
    }
    return true;
}

shoal_elect_action_t
shoal_election_gather(shoal_election_t *self, const shoal_roster_t *roster, const char *me,
                      bool collected, uint64_t now, bool *said_short)
{
    if (said_short)
        *said_short = false;
    if (self->leader[0])
        return SHOAL_ELECT_WAIT;
    /* Once closed, the window stays closed: a participant that dies before
     * anyone leads (the would-be leader, killed as it claims) must not send
     * the others back to waiting for --expect. */
    size_t alive = shoal_roster_alive(roster);
    bool enough = self->window_closed || (self->expect > 0 && alive >= (size_t)self->expect);
    if (!enough && now < self->gather_until)
        return SHOAL_ELECT_WAIT;
    self->window_closed = true;
    const char *top = shoal_roster_ranked_first(roster, NULL);
    if (!top || strcmp(top, me) != 0)
        return SHOAL_ELECT_WAIT; /* the leader will announce itself */
    if (!collected)
        return SHOAL_ELECT_WAIT; /* the plan needs our collection */
    if (!self->claim_at) {
        if (said_short)
            *said_short = self->expect > 0 && !enough;
        /* The answers usually come back long before the grace ends. */
        self->claim_at = now + (alive > 1 ? S_CLAIM_GRACE_MS / 4 : 0);
        return SHOAL_ELECT_ASK;
    }
    if (now >= self->claim_at || s_all_unled(roster, me))
        return SHOAL_ELECT_CLAIM;
    return SHOAL_ELECT_WAIT;
}

shoal_elect_action_t
shoal_election_on_leader(const shoal_election_t *self, const char *session, const char *me,
                         bool leading, const char *from, uint32_t term)
{
    if (!shoal_election_newer(self, session, term, from))
        /* An older or worse-ranked claim: if we lead, tell the claimant. */
        return leading && strcmp(from, me) != 0 && term <= self->term ? SHOAL_ELECT_TELL
                                                                      : SHOAL_ELECT_WAIT;
    return strcmp(from, me) != 0 ? SHOAL_ELECT_ADOPT : SHOAL_ELECT_WAIT;
}

shoal_elect_action_t
shoal_election_leader_lost(shoal_election_t *self, const shoal_roster_t *roster, const char *me)
{
    const char *top = shoal_roster_ranked_first(roster, NULL);
    if (top && strcmp(top, me) == 0)
        return SHOAL_ELECT_CLAIM;
    shoal_log_info("leader %s is gone; %s should take over", self->leader, top ? top : "?");
    self->leader[0] = '\0'; /* wait for its LEADER message */
    return SHOAL_ELECT_DISOWNED;
}

void
shoal_election_adopt(shoal_election_t *self, uint32_t term, const char *leader)
{
    self->term = term;
    snprintf(self->leader, sizeof(self->leader), "%s", leader);
}
