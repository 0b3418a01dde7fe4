/* libFuzzer target: what a shipped session reads from peers, the ship
 * messages, an offer's signed body and a manifest's page index, must be
 * rejected or accepted without crashing, leaking or allocating out of
 * proportion; what is accepted encodes again (the caps are the encoder's)
 * and decodes to the same thing. The first byte picks the decoder. */
#include "node/ship_msg.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
s_ship(const uint8_t *data, size_t size)
{
    shoal_ship_msg_t msg, again;
    if (shoal_ship_decode(data, size, &msg) != 0)
        return;
    static uint8_t buf[SHOAL_SHIP_OFFER_MAX + SHOAL_SHIP_CHUNK + 4096];
    long len = shoal_ship_encode(&msg, buf, sizeof(buf));
    if (len < 0 || shoal_ship_decode(buf, (size_t)len, &again) != 0 || again.type != msg.type ||
        strcmp(again.session, msg.session) != 0 || strcmp(again.text, msg.text) != 0 ||
        again.accepted != msg.accepted || again.body_len != msg.body_len ||
        again.data_len != msg.data_len || again.files != msg.files ||
        memcmp(again.digest, msg.digest, sizeof(msg.digest)) != 0 ||
        (msg.body_len && memcmp(again.body, msg.body, msg.body_len) != 0) ||
        (msg.data_len && memcmp(again.data, msg.data, msg.data_len) != 0))
        abort();
    shoal_ship_msg_clear(&again);
    shoal_ship_msg_clear(&msg);
}

static size_t
s_words(char *const *words)
{
    size_t n = 0;
    while (words && words[n])
        n++;
    return n;
}

static void
s_offer(const uint8_t *data, size_t size)
{
    shoal_offer_t offer, again;
    if (shoal_offer_decode(data, size, &offer) != 0)
        return;
    uint8_t *body = NULL;
    long len = shoal_offer_encode(&offer, &body);
    if (len < 0 || shoal_offer_decode(body, (size_t)len, &again) != 0 ||
        strcmp(again.handoff.cwd, offer.handoff.cwd) != 0 ||
        strcmp(again.handoff.list, offer.handoff.list) != 0 ||
        again.handoff.argc != offer.handoff.argc || s_words(again.probe) != s_words(offer.probe) ||
        s_words(again.artifacts) != s_words(offer.artifacts) ||
        s_words(offer.artifacts) > SHOAL_SHIP_ARTIFACT_GLOBS ||
        strcmp(again.toolchain, offer.toolchain) != 0 ||
        memcmp(again.root, offer.root, sizeof(offer.root)) != 0)
        abort();
    free(body);
    shoal_offer_clear(&again);
    shoal_offer_clear(&offer);
}

static void
s_index(const uint8_t *data, size_t size)
{
    shoal_page_t *pages = NULL;
    long count = shoal_pages_parse(data, size, &pages);
    if (count < 0)
        return;
    uint8_t *again = NULL;
    long len = shoal_pages_index(pages, (size_t)count, &again);
    if (count == 0 || len < 0 || (size_t)len != size || memcmp(again, data, size) != 0)
        abort();
    uint64_t offset = 0;
    for (long i = 0; i < count; i++) {
        if (pages[i].offset != offset)
            abort();
        offset += pages[i].size;
    }
    if (offset > SHOAL_TREE_MANIFEST_MAX)
        abort();
    free(again);
    free(pages);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 3) {
        case 0:
            s_ship(data + 1, size - 1);
            break;
        case 1:
            s_offer(data + 1, size - 1);
            break;
        default:
            s_index(data + 1, size - 1);
            break;
    }
    return 0;
}
