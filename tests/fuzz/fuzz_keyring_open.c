/* libFuzzer target: gossip_keyring_open on arbitrary bytes, with a ring
 * holding two fixed test keys and with an empty (insecure) ring.
 *
 * Open must never crash or read past the frame; whatever opens is handed to
 * the wire decoder, as the transport and mesh would.
 */
#include "gossip/gossip.h"
#include "gossip/wire.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static gossip_keyring_t *s_keyed, *s_insecure;
static uint8_t s_plain[GOSSIP_WIRE_MAX_FRAME];
static gossip_wire_member_t s_members[GOSSIP_WIRE_MAX_MEMBERS];
static uint8_t s_payload[GOSSIP_WIRE_MAX_PAYLOAD];

/* The keys are 32 bytes of 'K' and of 'k' (the seed frames use the first). */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    uint8_t key[GOSSIP_KEY_BYTES];
    s_keyed = gossip_keyring_new();
    s_insecure = gossip_keyring_new();
    if (!s_keyed || !s_insecure)
        abort();
    memset(key, 'K', sizeof(key));
    gossip_keyring_add(s_keyed, key);
    memset(key, 'k', sizeof(key));
    gossip_keyring_add(s_keyed, key);
    return 0;
}

static void
s_open_and_decode(const gossip_keyring_t *ring, const uint8_t *data, size_t size)
{
    long len = gossip_keyring_open(ring, data, size, s_plain, sizeof(s_plain));
    if (len < 0) {
        if (!gossip_keyring_error_str((int)len))
            abort();
        return;
    }
    if ((size_t)len > size)
        abort();
    gossip_wire_msg_t msg = {0};
    msg.members = s_members;
    msg.payload = s_payload;
    gossip_wire_decode(s_plain, (size_t)len, &msg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_open_and_decode(s_keyed, data, size);
    s_open_and_decode(s_insecure, data, size);
    return 0;
}
