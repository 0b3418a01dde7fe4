/* Sending a session message through the host: items split over as many
 * frames as they need (see internal.h). */
#include "node/session/internal.h"
#include "node/log.h"

#include <stdio.h>

typedef struct {
    const shoal_session_host_t *host;
    const char *to;
    size_t frames;
} s_addressee_t;

static void
s_send_encoded(void *arg, const uint8_t *frame, size_t len)
{
    s_addressee_t *a = arg;
    a->host->send_frame(a->host->ctx, a->to, frame, len);
    a->frames++;
}

size_t
shoal_session_send(const shoal_session_host_t *host, const char *session, const char *to,
                   shoal_msg_t *msg)
{
    snprintf(msg->session, sizeof(msg->session), "%s", session);
    s_addressee_t addressee = {.host = host, .to = to};
    if (shoal_msg_encode_all(msg, host->buf, GOSSIP_PAYLOAD_MAX, s_send_encoded, &addressee) < 0)
        return 0;
    return addressee.frames;
}

void
shoal_session_tell(shoal_session_host_t *host, const char *session, const char *to,
                   shoal_msg_t *msg)
{
    if (shoal_session_send(host, session, to, msg) == 0 && !host->said_unsendable) {
        /* A value over the protocol's caps: a fault of ours, said once. */
        host->said_unsendable = true;
        shoal_log_info("cannot encode a %s message: a value is over the protocol's caps",
                       shoal_msg_type_str(msg->type));
    }
}

void
shoal_session_tell_all(shoal_session_host_t *host, const shoal_roster_t *roster, shoal_msg_t *msg,
                       bool admitted)
{
    for (size_t i = 0; i < roster->count; i++)
        if (roster->items[i].alive && !(admitted && roster->items[i].refused))
            shoal_session_tell(host, roster->session, roster->items[i].name, msg);
}
