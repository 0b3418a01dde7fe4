/* A session host for unit tests of the session's roles: every frame a role
 * sends is decoded and kept, with its addressee, in order. */
#ifndef SHOAL_TESTS_FAKE_HOST_H
#define SHOAL_TESTS_FAKE_HOST_H

#include "node/session/internal.h"

typedef struct {
    char to[GOSSIP_NAME_MAX + 1];
    shoal_msg_t msg; /* decoded: owns its items */
    uint8_t *frame;  /* the frame as sent (owned) */
    size_t len;
} fake_frame_t;

typedef struct {
    shoal_session_host_t host;
    fake_frame_t *frames;
    size_t count, cap;
    size_t undecodable; /* frames the decoder refused */
} fake_host_t;

void fake_host_init(fake_host_t *self);
void fake_host_clear(fake_host_t *self);

#endif
