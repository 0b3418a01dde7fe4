/* libFuzzer target: the session protocol decoder must reject or accept any
 * bytes without crashing, leaking or allocating out of proportion; what it
 * accepts must encode (the caps are the encoder's own) and decode to the
 * same thing. */
#include "node/session_msg.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    shoal_msg_t msg;
    if (shoal_msg_decode(data, size, &msg) != 0)
        return 0;
    static uint8_t buf[1 << 17];
    size_t taken = 0;
    long len = shoal_msg_encode(&msg, 0, buf, sizeof(buf), &taken);
    shoal_msg_t again;
    if (len < 0 || shoal_msg_decode(buf, (size_t)len, &again) != 0 || again.type != msg.type ||
        again.term != msg.term || again.item_count != taken)
        abort();
    for (size_t i = 0; i < taken; i++)
        if (strcmp(again.items[i].id, msg.items[i].id) != 0)
            abort();
    shoal_msg_clear(&again);
    shoal_msg_clear(&msg);
    return 0;
}
