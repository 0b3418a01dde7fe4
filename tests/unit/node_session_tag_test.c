/* Session tags: what a member advertises for each session it takes part in
 * (one "@ID=RUNNER:SLOTS" tag each), read back the same, within one gossip
 * tag, and never confused with a --tag. */
#include "harness.h"
#include "node/session_tag.h"

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static const char s_digest[] = "0123456789abcdef0123456789abcdef";

void
test_node_session_tag_roundtrip(void)
{
    char tag[GOSSIP_TAG_MAX + 1];
    shoal_session_tag("ci-42", s_digest, 3, tag, sizeof(tag));
    CHECK_STR(tag, "@ci-42=01234567:3");
    shoal_session_tag_t read;
    CHECK_INT(shoal_session_tag_parse(tag, &read), ==, 0);
    CHECK_STR(read.session, "ci-42");
    CHECK_INT(read.slots, ==, 3);
    CHECK(shoal_session_tag_runner_is(&read, s_digest));
    CHECK(!shoal_session_tag_runner_is(&read, "f123456789abcdef"));
    /* an id may hold ':' and '@': only the first '=' and the last ':' split */
    shoal_session_tag("a:b@c", s_digest, 1, tag, sizeof(tag));
    CHECK_INT(shoal_session_tag_parse(tag, &read), ==, 0);
    CHECK_STR(read.session, "a:b@c");
    CHECK_INT(read.slots, ==, 1);
}

void
test_node_session_tag_longest_fits_a_gossip_tag(void)
{
    char id[SHOAL_SESSION_ID_MAX + 1], tag[GOSSIP_TAG_MAX + 1];
    memset(id, 'x', SHOAL_SESSION_ID_MAX);
    id[SHOAL_SESSION_ID_MAX] = '\0';
    shoal_session_tag(id, s_digest, SHOAL_SESSION_TAG_SLOTS_MAX, tag, sizeof(tag));
    CHECK_INT(strlen(tag), ==, GOSSIP_TAG_MAX);
    shoal_session_tag_t read;
    CHECK_INT(shoal_session_tag_parse(tag, &read), ==, 0);
    CHECK_STR(read.session, id);
    CHECK_INT(read.slots, ==, SHOAL_SESSION_TAG_SLOTS_MAX);
    /* more slots than a tag can say are said as the most it can */
    shoal_session_tag("s", s_digest, 5000, tag, sizeof(tag));
    CHECK_STR(tag, "@s=01234567:1024");
}

void
test_node_session_tag_other_tags_are_not_sessions(void)
{
    shoal_session_tag_t read;
    const char *others[] = {"os=linux",       "gpu=a100", "@",         "@=0123:1",  "@s",
                            "@s=0123",        "@s=0123:", "@s=0123:0", "@s=0123:x", "@s=:2",
                            "@s=0123456789:2"};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        if (shoal_session_tag_parse(others[i], &read) == 0) {
            fprintf(stderr, "read '%s' as a session tag\n", others[i]);
            CHECK(false);
        }
}

void
test_node_session_tag_finds_a_session_among_tags(void)
{
    gossip_meta_t meta = {.slots = 4, .tag_count = 3};
    snprintf(meta.tags[0], sizeof(meta.tags[0]), "os=linux");
    shoal_session_tag("one", s_digest, 2, meta.tags[1], sizeof(meta.tags[1]));
    shoal_session_tag("two", "fedcba9876543210", 2, meta.tags[2], sizeof(meta.tags[2]));
    shoal_session_tag_t read;
    CHECK_INT(shoal_session_tag_find(&meta, "two", &read), ==, 2);
    CHECK(!shoal_session_tag_runner_is(&read, s_digest));
    CHECK_INT(shoal_session_tag_find(&meta, "one", &read), ==, 1);
    CHECK(shoal_session_tag_runner_is(&read, s_digest));
    CHECK_INT(shoal_session_tag_find(&meta, "three", &read), ==, -1);
    CHECK_INT(shoal_session_tag_find(&meta, "os", &read), ==, -1);
}
