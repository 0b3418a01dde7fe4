/* Timing profiles. "lan" is the default: a LAN test cluster, tuned so a crashed
 * member of 32 is declared dead everywhere within about a second while a member
 * starved of CPU for a few hundred milliseconds is not. "local" halves the
 * periods for members that share one machine's loopback. */
#include "gossip/gossip.h"

#include <string.h>

static const gossip_profile_t s_profiles[] = {
    {
        .name = "lan",
        .probe_interval_ms = 200,
        .probe_timeout_ms = 100,
        .indirect_probes = 3,
        .gossip_interval_ms = 50,
        .gossip_fanout = 3,
        .retransmit_mult = 4,
        .suspicion_min_ms = 400,
        .suspicion_max_mult = 6,
        .push_pull_interval_ms = 15000,
        .awareness_max = 8,
        .dead_retry_ms = 10 * 60 * 1000,
        .reap_ms = 15 * 60 * 1000,
        .join_retry_max_ms = 30000,
    },
    {
        .name = "local",
        .probe_interval_ms = 100,
        .probe_timeout_ms = 50,
        .indirect_probes = 3,
        .gossip_interval_ms = 50,
        .gossip_fanout = 3,
        .retransmit_mult = 4,
        .suspicion_min_ms = 250,
        .suspicion_max_mult = 6,
        .push_pull_interval_ms = 5000,
        .awareness_max = 8,
        .dead_retry_ms = 60 * 1000,
        .reap_ms = 2 * 60 * 1000,
        .join_retry_max_ms = 2000,
    },
};

const gossip_profile_t *
gossip_profile_find(const char *name)
{
    for (size_t i = 0; i < sizeof(s_profiles) / sizeof(s_profiles[0]); i++)
        if (strcmp(s_profiles[i].name, name) == 0)
            return &s_profiles[i];
    return NULL;
}
