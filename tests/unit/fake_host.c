/* The recording host of fake_host.h. */
#include "fake_host.h"

#include <stdlib.h>
#include <string.h>

static void
s_send_frame(void *ctx, const char *to, const uint8_t *buf, size_t len)
{
    fake_host_t *self = ctx;
    if (self->count == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 16;
        self->frames = realloc(self->frames, self->cap * sizeof(*self->frames));
        if (!self->frames)
            abort();
    }
    fake_frame_t *f = &self->frames[self->count];
    memset(f, 0, sizeof(*f));
    snprintf(f->to, sizeof(f->to), "%s", to);
    f->frame = malloc(len ? len : 1);
    if (!f->frame)
        abort();
    memcpy(f->frame, buf, len);
    f->len = len;
    if (shoal_msg_decode(buf, len, &f->msg) != 0) {
        self->undecodable++;
        free(f->frame);
        return;
    }
    self->count++;
}

void
fake_host_init(fake_host_t *self)
{
    memset(self, 0, sizeof(*self));
    self->host.send_frame = s_send_frame;
    self->host.ctx = self;
    self->host.buf = malloc(GOSSIP_PAYLOAD_MAX);
    if (!self->host.buf)
        abort();
}

void
fake_host_clear(fake_host_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        shoal_msg_clear(&self->frames[i].msg);
        free(self->frames[i].frame);
    }
    free(self->frames);
    free(self->host.buf);
    memset(self, 0, sizeof(*self));
}
