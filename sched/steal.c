/* sched/steal.c: the stealing policy on plain arrays, for a member that holds
 * only its own queue (peer-to-peer) and for the leader's board, whose central
 * steal decides with these same rules: how much a thief should take (the
 * share), whether a steal pays for its latency, which peer a thief asks and
 * what a victim hands over. Thieves that all read the same announcement would
 * all ask the busiest peer first; drawing victims in proportion to their work
 * (sched_steal_pick with an rng) spreads them out.
 * Invariants: a split takes only tests the thief can run, from the tail, all
 * or nothing, and only when the pair then finishes sooner by more than a
 * steal's latency; a pick never names the thief, a dead peer or one asked.
 */
#include "sched/internal.h"

static double
s_slots(unsigned slots)
{
    return slots ? (double)slots : 1.0;
}

double
sched_steal_share(const sched_steal_sides_t *sides, double victim_queued)
{
    double sv = s_slots(sides->victim_slots), st = s_slots(sides->thief_slots);
    double rv = sides->victim_running, rt = sides->thief_running, lat = sides->latency;
    /* Finish times from now if the thief takes w seconds:
     *   victim (rv + qv - w) / sv,  thief lat + (rt + w) / st.
     * They meet at the share. */
    return (st * (rv + victim_queued) - sv * st * lat - sv * rt) / (sv + st);
}

/* Whether taking `work` seconds whose longest test is `biggest` finishes the
 * pair sooner than the victim alone by more than a steal's latency. */
static bool
s_pays(const sched_steal_sides_t *sides, double queued, double work, double biggest)
{
    double sv = s_slots(sides->victim_slots), st = s_slots(sides->thief_slots);
    double lat = sides->latency, rv = sides->victim_running;
    double before = (rv + queued) / sv;
    double victim_after = (rv + queued - work) / sv;
    double thief_after = (sides->thief_running + work) / st;
    if (biggest > thief_after)
        thief_after = biggest;
    thief_after += lat;
    double after = victim_after > thief_after ? victim_after : thief_after;
    /* A lone short test the victim starts soon stays put. */
    return after < before - lat;
}

size_t
sched__steal_take(const double *pred, const bool *can, size_t count, double queued,
                  const sched_steal_sides_t *sides, size_t *take, double *work_out)
{
    double want = sched_steal_share(sides, queued), work = 0.0, biggest = 0.0;
    size_t n = 0;
    if (work_out)
        *work_out = 0.0;
    for (size_t i = count; want > 0 && i-- > 0;) {
        if (!can[i])
            continue;
        double p = pred[i];
        /* Take while the sum stays within want; a first test larger than want
         * goes alone if it is nearer to want than nothing. */
        if (work + p > want && !(n == 0 && p - want < want))
            break;
        take[n++] = i;
        work += p;
        if (p > biggest)
            biggest = p;
        if (work >= want)
            break;
    }
    if (n == 0 || !s_pays(sides, queued, work, biggest))
        return 0;
    for (size_t i = 0; i < n / 2; i++) { /* tail first -> run order */
        size_t x = take[i];
        take[i] = take[n - 1 - i];
        take[n - 1 - i] = x;
    }
    if (work_out)
        *work_out = work;
    return n;
}

size_t
sched_steal_split(const double *predicted, const bool *thief_can_run, size_t count,
                  const sched_steal_sides_t *sides, size_t *take, double *work_out)
{
    double queued = 0.0;
    for (size_t i = 0; i < count; i++)
        queued += predicted[i];
    return sched__steal_take(predicted, thief_can_run, count, queued, sides, take, work_out);
}

static bool
s_asked(const size_t *asked, size_t asked_count, size_t peer)
{
    for (size_t i = 0; i < asked_count; i++)
        if (asked[i] == peer)
            return true;
    return false;
}

/* Whether peer p is worth asking for thief t: a steal of min(share, queued)
 * seconds, were they perfectly divisible, would pay for the latency. */
static bool
s_worth_asking(const sched_peer_load_t *peers, size_t p, size_t t, double thief_running,
               double latency)
{
    const sched_peer_load_t *peer = &peers[p];
    sched_steal_sides_t sides = {peer->slots, peer->running, peers[t].slots, thief_running,
                                 latency};
    double w = sched_steal_share(&sides, peer->queued);
    if (w > peer->queued)
        w = peer->queued;
    return w > 0 && s_pays(&sides, peer->queued, w, 0.0);
}

int
sched_steal_pick(const sched_peer_load_t *peers, size_t count, size_t thief, double thief_running,
                 double latency, const size_t *asked, size_t asked_count, sched_rng_t *rng,
                 size_t *victim_out)
{
    if (thief >= count)
        return -1;
    bool found = false;
    double best = 0.0, total = 0.0;
    for (size_t p = 0; p < count; p++) {
        const sched_peer_load_t *peer = &peers[p];
        if (p == thief || !peer->alive || !(peer->queued > 0))
            continue;
        double key = peer->queued / s_slots(peer->slots);
        if ((!rng && found && key <= best) || s_asked(asked, asked_count, p) ||
            !s_worth_asking(peers, p, thief, thief_running, latency))
            continue;
        /* Weighted: one pass of reservoir sampling, each peer kept with
         * probability key / (keys so far), so in the end key / all keys. */
        total += key;
        if (rng && found && sched_rng_uniform(rng) * total >= key)
            continue;
        found = true;
        best = key;
        *victim_out = p;
    }
    return found ? 0 : -1;
}
