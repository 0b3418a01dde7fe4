/* Formatting the control socket's answers, and asking a node (see control.h). */
#include "node/control.h"
#include "node/commands.h"
#include "node/json.h"

#include <czmq.h>
#include <string.h>

static uint64_t
s_ago(const gossip_member_t *m, uint64_t now)
{
    return m->last_heard && now >= m->last_heard ? now - m->last_heard : 0;
}

static void
s_member_json(FILE *out, const gossip_member_t *m, uint64_t now)
{
    fprintf(out, "{\"name\":");
    shoal_json_string(out, m->name);
    fprintf(out, ",\"addr\":");
    shoal_json_string(out, m->addr);
    fprintf(out, ",\"state\":\"%s\",\"incarnation\":%u,\"slots\":%u,\"tags\":{",
            gossip_state_str(m->state), m->incarnation, m->meta.slots);
    for (int t = 0; t < m->meta.tag_count; t++) {
        const char *tag = m->meta.tags[t];
        const char *eq = strchr(tag, '=');
        char key[GOSSIP_TAG_MAX + 1];
        snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - tag) : (int)strlen(tag), tag);
        fprintf(out, "%s", t ? "," : "");
        shoal_json_string(out, key);
        fputc(':', out);
        shoal_json_string(out, eq ? eq + 1 : "");
    }
    fprintf(out, "},\"version\":");
    shoal_json_string(out, m->meta.version);
    fprintf(out, ",\"self\":%s", m->self ? "true" : "false");
    if (m->last_heard)
        fprintf(out, ",\"last_heard_ms\":%" PRIu64, s_ago(m, now));
    else
        fprintf(out, ",\"last_heard_ms\":null");
    fprintf(out, ",\"state_ms\":%" PRIu64 "}", now - m->state_since);
}

void
shoal_control_members(FILE *out, const gossip_member_t *members, size_t count, bool json,
                      uint64_t now)
{
    if (json) {
        fputc('[', out);
        for (size_t i = 0; i < count; i++) {
            fprintf(out, "%s", i ? ",\n " : "");
            s_member_json(out, &members[i], now);
        }
        fprintf(out, "]\n");
        return;
    }
    fprintf(out, "%-24s %-22s %-8s %5s %5s %10s  %s\n", "NAME", "ADDRESS", "STATE", "INC", "SLOTS",
            "HEARD", "TAGS");
    for (size_t i = 0; i < count; i++) {
        const gossip_member_t *m = &members[i];
        char heard[32] = "-";
        if (m->self)
            snprintf(heard, sizeof(heard), "(self)");
        else if (m->last_heard)
            snprintf(heard, sizeof(heard), "%" PRIu64 "ms", s_ago(m, now));
        fprintf(out, "%-24s %-22s %-8s %5u %5u %10s  ", m->name, m->addr,
                gossip_state_str(m->state), m->incarnation, m->meta.slots, heard);
        for (int t = 0; t < m->meta.tag_count; t++)
            fprintf(out, "%s%s", t ? "," : "", m->meta.tags[t]);
        fputc('\n', out);
    }
}

void
shoal_control_stats(FILE *out, const char *name, const gossip_stats_t *mesh,
                    const gossip_transport_stats_t *transport, bool json)
{
    static const char *types[8] = {"",     "ping",   "ack",       "ping_req",
                                   "nack", "gossip", "push_pull", "user"};
    struct {
        const char *key;
        uint64_t value;
    } rows[] = {
        {"frames_in", transport->frames_in},
        {"frames_out", transport->frames_out},
        {"bytes_in", transport->bytes_in},
        {"bytes_out", transport->bytes_out},
        {"drop_decode", mesh->drop_decode},
        {"drop_auth", transport->drop_auth},
        {"drop_oversize", transport->drop_oversize},
        {"drop_malformed", transport->drop_malformed},
        {"drop_address", transport->drop_address},
        {"drop_unreachable", transport->drop_unreachable},
        {"drop_stale", mesh->drop_stale},
        {"drop_unclaimed", mesh->drop_unclaimed},
        {"probes", mesh->probes},
        {"probe_failures", mesh->probe_failures},
        {"indirect_probes", mesh->indirect_probes},
        {"suspicions", mesh->suspicions},
        {"refutations", mesh->refutations},
        {"deaths_declared", mesh->deaths_declared},
        {"push_pulls", mesh->push_pulls},
        {"peers", transport->peers},
    };
    size_t n = sizeof(rows) / sizeof(rows[0]);
    if (json) {
        fprintf(out, "{\"name\":");
        shoal_json_string(out, name);
        for (size_t i = 0; i < n; i++)
            fprintf(out, ",\"%s\":%" PRIu64, rows[i].key, rows[i].value);
        fprintf(out, ",\"messages_in\":{");
        for (int t = 1; t < 8; t++)
            fprintf(out, "%s\"%s\":%" PRIu64, t > 1 ? "," : "", types[t], mesh->by_type_in[t]);
        fprintf(out, "},\"messages_out\":{");
        for (int t = 1; t < 8; t++)
            fprintf(out, "%s\"%s\":%" PRIu64, t > 1 ? "," : "", types[t], mesh->by_type_out[t]);
        fprintf(out, "}}\n");
        return;
    }
    fprintf(out, "node %s\n", name);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-18s %" PRIu64 "\n", rows[i].key, rows[i].value);
}

char *
shoal_control_request(const char *endpoint, const char *request)
{
    zsock_t *req = zsock_new(ZMQ_REQ);
    if (!req) {
        fprintf(stderr, "shoal: cannot make a socket to ask %s\n", endpoint);
        return NULL;
    }
    zsock_set_linger(req, 0);
    zsock_set_rcvtimeo(req, 3000);
    zsock_set_sndtimeo(req, 3000);
    char *answer = NULL;
    if (zsock_connect(req, "%s", endpoint) != 0)
        fprintf(stderr, "shoal: --control: cannot use endpoint '%s'\n", endpoint);
    else if (zstr_send(req, request) != 0 || !(answer = zstr_recv(req)))
        fprintf(stderr, "shoal: no node answers at %s (is 'shoal node' running there?)\n",
                endpoint);
    else if (strncmp(answer, "error:", 6) == 0) {
        fprintf(stderr, "shoal: the node answered: %s\n", answer);
        zstr_free(&answer);
    }
    zsock_destroy(&req);
    if (!answer)
        return NULL;
    char *copy = strdup(answer); /* the caller's free(), not zstr_free */
    zstr_free(&answer);
    if (!copy)
        fprintf(stderr, "shoal: out of memory\n");
    return copy;
}

int
shoal_control_ask(const char *endpoint, const char *request)
{
    char *answer = shoal_control_request(endpoint, request);
    if (!answer)
        return SHOAL_EXIT_FAILURE;
    fputs(answer, stdout);
    free(answer);
    return SHOAL_EXIT_OK;
}
