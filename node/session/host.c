/* Sending a session message through the host: items split over as many
 * frames as they need (see internal.h). */
#include "node/session/internal.h"

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
