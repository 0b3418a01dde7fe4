/* `shoal status` for one session (see internal.h): its phase, leader, the
 * leader's last counts and every participant, as JSON or text. */
#include "node/session/internal.h"
#include "node/json.h"

#include <string.h>

void
shoal_status_print(FILE *out, bool json, const shoal_status_view_t *v)
{
    const uint32_t *c = v->counts;
    const shoal_roster_t *roster = v->roster;
    if (json) {
        fprintf(out, "{\"session\":");
        shoal_json_string(out, v->session);
        fprintf(out, ",\"phase\":\"%s\",\"leader\":", v->phase);
        shoal_json_string(out, v->leader);
        fprintf(out,
                ",\"term\":%u,\"passed\":%u,\"failed\":%u,\"errors\":%u,\"skipped\":%u,"
                "\"running\":%u,\"pending\":%u,\"running_here\":%u,\"members\":[",
                v->term, c[SHOAL_COUNT_PASSED], c[SHOAL_COUNT_FAILED], c[SHOAL_COUNT_ERROR],
                c[SHOAL_COUNT_SKIPPED], c[SHOAL_COUNT_RUNNING], c[SHOAL_COUNT_PENDING],
                v->running_here);
        for (size_t i = 0; i < roster->count; i++) {
            const shoal_participant_t *p = &roster->items[i];
            fprintf(out, "%s{\"name\":", i ? "," : "");
            shoal_json_string(out, p->name);
            fprintf(out, ",\"alive\":%s,\"slots\":%u,\"finished\":%u}", p->alive ? "true" : "false",
                    p->slots, p->finished);
        }
        fprintf(out, "]}");
        return;
    }
    fprintf(out, "session %s: %s, leader %s (term %u)\n", v->session, v->phase,
            v->leader[0] ? v->leader : "(not yet)", v->term);
    fprintf(out, "  passed %u  failed %u  errors %u  skipped %u  running %u  pending %u\n",
            c[SHOAL_COUNT_PASSED], c[SHOAL_COUNT_FAILED], c[SHOAL_COUNT_ERROR],
            c[SHOAL_COUNT_SKIPPED], c[SHOAL_COUNT_RUNNING], c[SHOAL_COUNT_PENDING]);
    for (size_t i = 0; i < roster->count; i++) {
        const shoal_participant_t *p = &roster->items[i];
        fprintf(out, "  %-24s %-5s %3u slots %6u finished%s\n", p->name,
                p->alive ? "alive" : "gone", p->slots, p->finished,
                strcmp(p->name, v->me) == 0 ? " (here)" : "");
    }
    fprintf(out, "  running here: %u tests\n", v->running_here);
}
