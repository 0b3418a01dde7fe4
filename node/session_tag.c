/* Session tags (see session_tag.h): one "@ID=RUNNER:SLOTS" per session a
 * member takes part in. */
#include "node/session_tag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
shoal_session_tag(const char *session, const char *digest, unsigned slots, char *out, size_t size)
{
    if (slots > SHOAL_SESSION_TAG_SLOTS_MAX)
        slots = SHOAL_SESSION_TAG_SLOTS_MAX;
    snprintf(out, size, "%c%.*s=%.*s:%u", SHOAL_SESSION_TAG_MARK, SHOAL_SESSION_ID_MAX, session,
             SHOAL_SESSION_TAG_RUNNER, digest, slots ? slots : 1);
}

int
shoal_session_tag_parse(const char *tag, shoal_session_tag_t *out)
{
    if (tag[0] != SHOAL_SESSION_TAG_MARK)
        return -1;
    const char *eq = strchr(tag, '=');
    const char *colon = eq ? strrchr(eq, ':') : NULL;
    size_t id_len = eq ? (size_t)(eq - tag - 1) : 0;
    size_t runner_len = colon ? (size_t)(colon - eq - 1) : 0;
    if (!colon || id_len == 0 || id_len > SHOAL_SESSION_ID_MAX || runner_len == 0 ||
        runner_len > SHOAL_SESSION_TAG_RUNNER)
        return -1;
    char *end;
    unsigned long slots = strtoul(colon + 1, &end, 10);
    if (end == colon + 1 || *end || slots == 0 || slots > SHOAL_SESSION_TAG_SLOTS_MAX)
        return -1;
    snprintf(out->session, sizeof(out->session), "%.*s", (int)id_len, tag + 1);
    snprintf(out->runner, sizeof(out->runner), "%.*s", (int)runner_len, eq + 1);
    out->slots = (unsigned)slots;
    return 0;
}

bool
shoal_session_tag_runner_is(const shoal_session_tag_t *tag, const char *digest)
{
    return strlen(tag->runner) == SHOAL_SESSION_TAG_RUNNER &&
           strncmp(tag->runner, digest, SHOAL_SESSION_TAG_RUNNER) == 0;
}

int
shoal_session_tag_find(const gossip_meta_t *meta, const char *session, shoal_session_tag_t *out)
{
    for (int t = 0; t < meta->tag_count; t++)
        if (shoal_session_tag_parse(meta->tags[t], out) == 0 && strcmp(out->session, session) == 0)
            return t;
    return -1;
}

void
shoal_session_own_tags(const gossip_meta_t *meta, char *out, size_t out_size)
{
    size_t len = 0;
    if (out_size)
        out[0] = '\0';
    for (int t = 0; t < meta->tag_count && t < GOSSIP_TAGS_MAX; t++) {
        shoal_session_tag_t tag;
        if (shoal_session_tag_parse(meta->tags[t], &tag) == 0)
            continue;
        int n = snprintf(out + len, out_size - len, "%s%s", len ? "," : "", meta->tags[t]);
        if (n < 0 || (size_t)n >= out_size - len) {
            out[len] = '\0'; /* no tag cut in two */
            break;
        }
        len += (size_t)n;
    }
}
