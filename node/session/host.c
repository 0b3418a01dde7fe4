/* Sending a session message through the host: items split over as many
 * frames as they need (see internal.h). */
#include "node/session/internal.h"

#include <stdio.h>

size_t
shoal_session_send(const shoal_session_host_t *host, const char *session, const char *to,
                   shoal_msg_t *msg)
{
    snprintf(msg->session, sizeof(msg->session), "%s", session);
    size_t first = 0, frames = 0;
    do {
        size_t taken = 0;
        long len = shoal_msg_encode(msg, first, host->buf, GOSSIP_PAYLOAD_MAX, &taken);
        if (len < 0)
            return frames;
        host->send_frame(host->ctx, to, host->buf, (size_t)len);
        frames++;
        first += taken;
        if (taken == 0)
            break;
    } while (first < msg->item_count);
    return frames;
}
