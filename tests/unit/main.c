/* Runs one unit-test behaviour by name, or lists them all.
 *
 * `shoal_unit NAME` runs the behaviour NAME (as `<module>_<class>.<behaviour>`);
 * `shoal_unit --list` prints every name, one per line. The list files are the
 * only registry: CTest reads them too.
 */
#include "harness.h"

#define TEST(group, name) void test_##group##_##name(void);
#include "gossip.list"
#include "node.list"
#include "sched.list"
#undef TEST

struct unit_test {
    const char *group;
    const char *name;
    void (*fn)(void);
};

static const struct unit_test s_tests[] = {
#define TEST(group, name) {#group, #name, test_##group##_##name},
#include "gossip.list"
#include "node.list"
#include "sched.list"
#undef TEST
};

int
main(int argc, char **argv)
{
    size_t count = sizeof(s_tests) / sizeof(s_tests[0]);
    if (argc != 2) {
        fprintf(stderr, "usage: shoal_unit --list | GROUP.BEHAVIOUR\n");
        return 2;
    }
    for (size_t i = 0; i < count; i++) {
        char full[256];
        snprintf(full, sizeof(full), "%s.%s", s_tests[i].group, s_tests[i].name);
        if (strcmp(argv[1], "--list") == 0)
            puts(full);
        else if (strcmp(argv[1], full) == 0) {
            s_tests[i].fn();
            return 0;
        }
    }
    if (strcmp(argv[1], "--list") == 0)
        return 0;
    fprintf(stderr, "shoal_unit: no behaviour named '%s'\n", argv[1]);
    return 2;
}
