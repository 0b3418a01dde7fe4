/* Mesh options: defaults, validation with a clear refusal, the key rule
 * (no key off loopback unless --insecure), and where the control socket goes
 * by default. */
#include "harness.h"
#include "node/config.h"
#include "scratch.h"

#include <sys/stat.h>
#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static int
s_option(shoal_config_t *config, const char *name, const char *arg)
{
    for (const struct option *o = shoal_config_options; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return shoal_config_option(config, o->val, arg);
    return 99;
}

void
test_node_config_defaults_to_loopback_without_discovery(void)
{
    unsetenv("SHOAL_KEY");
    shoal_config_t config;
    shoal_config_init(&config);
    CHECK_INT(shoal_config_finish(&config), ==, 0);
    CHECK_STR(config.bind, "127.0.0.1:7411");
    CHECK_INT(config.discover, ==, 0);
    CHECK_STR(config.profile->name, "lan");
    CHECK_INT(config.meta.slots, >=, 1);
    CHECK(strncmp(config.control, "ipc://", 6) == 0);
    shoal_config_release(&config);
}

void
test_node_config_refuses_keyless_off_loopback(void)
{
    unsetenv("SHOAL_KEY");
    shoal_config_t config;
    shoal_config_init(&config);
    CHECK_INT(s_option(&config, "bind", "0.0.0.0:7411"), ==, 0);
    CHECK_INT(shoal_config_finish(&config), ==, -1);
    shoal_config_release(&config);

    shoal_config_init(&config);
    CHECK_INT(s_option(&config, "bind", "0.0.0.0:7411"), ==, 0);
    CHECK_INT(s_option(&config, "insecure", NULL), ==, 0);
    CHECK_INT(s_option(&config, "no-discover", NULL), ==, 0);
    CHECK_INT(shoal_config_finish(&config), ==, 0);
    shoal_config_release(&config);
}

void
test_node_config_reads_keys_from_environment(void)
{
    char key[64];
    gossip_key_generate(key, sizeof(key));
    char both[160];
    snprintf(both, sizeof(both), "%s,%s", key, key);
    setenv("SHOAL_KEY", both, 1);
    shoal_config_t config;
    shoal_config_init(&config);
    CHECK_INT(s_option(&config, "bind", "0.0.0.0:7411"), ==, 0);
    CHECK_INT(s_option(&config, "no-discover", NULL), ==, 0);
    CHECK_INT(shoal_config_finish(&config), ==, 0);
    CHECK_INT(gossip_keyring_size(config.keyring), ==, 2);
    shoal_config_release(&config);

    setenv("SHOAL_KEY", "not-a-key", 1);
    shoal_config_init(&config);
    CHECK_INT(shoal_config_finish(&config), ==, -1);
    shoal_config_release(&config);
    unsetenv("SHOAL_KEY");
}

void
test_node_config_rejects_bad_values(void)
{
    shoal_config_t config;
    shoal_config_init(&config);
    CHECK_INT(s_option(&config, "slots", "0"), ==, -1);
    CHECK_INT(s_option(&config, "slots", "3x"), ==, -1);
    CHECK_INT(s_option(&config, "slots", "4"), ==, 0);
    CHECK_INT(config.meta.slots, ==, 4);
    CHECK_INT(s_option(&config, "name", "has space"), ==, -1);
    CHECK_INT(s_option(&config, "name", ""), ==, -1);
    CHECK_INT(s_option(&config, "name", "node-1"), ==, 0);
    CHECK_INT(s_option(&config, "tag", "novalue"), ==, -1);
    CHECK_INT(s_option(&config, "tag", "=x"), ==, -1);
    CHECK_INT(s_option(&config, "tag", "@s1=0123abcd:2"), ==, -1); /* the sessions' own */
    CHECK_INT(s_option(&config, "tag", "gpu=a100"), ==, 0);
    CHECK_INT(config.meta.tag_count, ==, 1);
    CHECK_INT(s_option(&config, "profile", "wan"), ==, -1);
    CHECK_INT(s_option(&config, "join", "no-port"), ==, -1);
    CHECK_INT(s_option(&config, "join", "seed.example:7411"), ==, 0);
    CHECK_INT(s_option(&config, "key-file", "/nonexistent/keys"), ==, 0);
    CHECK_INT(shoal_config_finish(&config), ==, -1); /* the file is checked at finish */
    shoal_config_release(&config);
}

void
test_node_config_discovery_needs_a_real_interface(void)
{
    unsetenv("SHOAL_KEY");
    shoal_config_t config;
    shoal_config_init(&config);
    CHECK_INT(s_option(&config, "discover", NULL), ==, 0);
    CHECK_INT(shoal_config_finish(&config), ==, -1);
    shoal_config_release(&config);
}

/* The endpoint shoal_config_default_control gives with XDG_RUNTIME_DIR set to
 * value (NULL: unset). */
static void
s_control_with_runtime(const char *value, char *out, size_t size)
{
    if (value)
        setenv("XDG_RUNTIME_DIR", value, 1);
    else
        unsetenv("XDG_RUNTIME_DIR");
    shoal_config_default_control(out, size);
}

void
test_node_config_unusable_runtime_dir_falls_back(void)
{
    char unset[PATH_MAX + 16], got[PATH_MAX + 16];
    s_control_with_runtime(NULL, unset, sizeof(unset));
    CHECK(strncmp(unset, "ipc:///tmp/shoal-", 17) == 0);
    /* Missing, a file, and a directory nothing can be made in: each falls
     * back exactly as an unset one does. */
    s_control_with_runtime("/nonexistent/run/user/12345", got, sizeof(got));
    CHECK_STR(got, unset);
    char dir[64], file[96];
    snprintf(dir, sizeof(dir), "/tmp/shoal-config-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(file, sizeof(file), "%s/file", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    fclose(f);
    s_control_with_runtime(file, got, sizeof(got));
    CHECK_STR(got, unset);
    s_control_with_runtime("/proc", got, sizeof(got)); /* even root cannot mkdir there */
    CHECK_STR(got, unset);
    char locked[96];
    snprintf(locked, sizeof(locked), "%s/locked", dir);
    CHECK_INT(mkdir(locked, 0500), ==, 0);
    if (geteuid() != 0) { /* root writes through the mode */
        s_control_with_runtime(locked, got, sizeof(got));
        CHECK_STR(got, unset);
    }
    /* A usable one is used. */
    char want[128];
    snprintf(want, sizeof(want), "ipc://%s/shoal/control", dir);
    s_control_with_runtime(dir, got, sizeof(got));
    CHECK_STR(got, want);
    unsetenv("XDG_RUNTIME_DIR");
    scratch_remove_tree(dir);
}
