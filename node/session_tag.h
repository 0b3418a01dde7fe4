/* node/session_tag.h: how a mesh member says which sessions it takes part in.
 *
 * One gossip tag per session: "@ID=RUNNER:SLOTS", ID the session id (at most
 * SHOAL_SESSION_ID_MAX = 48 bytes, no '='), RUNNER the first 8 hex digits of
 * the runner's digest (same runner, same command: a different one is not a
 * participant), SLOTS the slots the member gives that session (1-1024: a
 * node shares its --slots between its sessions). The longest tag is
 * 1 + 48 + 1 + 8 + 1 + 4 = 63 bytes, GOSSIP_TAG_MAX. Tags of --tag never
 * start with '@' (the config refuses them), so session tags and capability
 * tags never mix up.
 *
 * Cap: a member has GOSSIP_TAGS_MAX (16) tags, --tag ones included, so a node
 * takes part in at most 16 - (its --tag count) sessions at once.
 */
#ifndef SHOAL_NODE_SESSION_TAG_H
#define SHOAL_NODE_SESSION_TAG_H

#include "gossip/gossip.h"
#include "node/session_msg.h"

#include <stdbool.h>
#include <stddef.h>

#define SHOAL_SESSION_TAG_MARK '@'
/* The tag of a node started with --serve (ship.h): it may run sessions
 * shipped from other checkouts, and it does not lead them while a
 * participant that does not serve is alive (node/session/roster.c). --tag
 * never starts with '!'. */
#define SHOAL_SERVE_TAG "!serve"
#define SHOAL_SESSION_TAG_RUNNER 8 /* hex digits of the runner digest */
#define SHOAL_SESSION_TAG_SLOTS_MAX 1024

typedef struct {
    char session[SHOAL_SESSION_ID_MAX + 1];
    char runner[SHOAL_SESSION_TAG_RUNNER + 1];
    unsigned slots;
} shoal_session_tag_t;

/* Writes the tag of (session, runner digest, slots) into out[size], size at
 * least GOSSIP_TAG_MAX + 1. */
void shoal_session_tag(const char *session, const char *digest, unsigned slots, char *out,
                       size_t size);
/* Reads a session tag; 0, or -1 for a tag that is not one (a --tag). */
int shoal_session_tag_parse(const char *tag, shoal_session_tag_t *out);
/* Whether the tag's runner is the one of this digest. */
bool shoal_session_tag_runner_is(const shoal_session_tag_t *tag, const char *digest);
/* The tag of `session` among meta's tags (its index), or -1. */
/* What a member advertises beside session tags (its --tag ones, "k=v,k2"),
 * comma-joined into out (cut to fit out_size bytes). */
#define SHOAL_OWN_TAGS_MAX (GOSSIP_TAGS_MAX * (GOSSIP_TAG_MAX + 1))
#define SHOAL_COMING_MAX 32 /* participants on their way whose tags a leader weighs */
void shoal_session_own_tags(const gossip_meta_t *meta, char *out, size_t out_size);

int shoal_session_tag_find(const gossip_meta_t *meta, const char *session,
                           shoal_session_tag_t *out);

#endif
