/* tests/unit/driver_cargo.c: which commands are `cargo test` (driver_cargo.c).
 * Listing and running need cargo itself: tests/cluster/test_cargo_*.py.
 */
#include "harness.h"
#include "node/adapter.h"

#include <string.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static void
s_is_cargo(int argc, char **argv, bool want)
{
    char err[256] = "";
    shoal_adapter_t *a = shoal_adapter_new(argc, argv, NULL, err, sizeof(err));
    CHECK(want == (a && strcmp(shoal_adapter_name(a), "cargo") == 0));
    if (a) {
        CHECK(shoal_adapter_has_worker(a));
        char **w = shoal_adapter_worker_argv(a, "/unused", "unused");
        CHECK(w && strcmp(w[1], "worker") == 0 && strcmp(w[2], "cargo") == 0);
        shoal_adapter_argv_free(&w);
    }
    shoal_adapter_destroy(&a);
}

void
test_driver_cargo_detects_cargo_test(void)
{
    char *plain[] = {"cargo", "test"};
    char *alias[] = {"/usr/bin/cargo", "t", "--release"};
    char *toolchain[] = {"cargo", "+nightly", "test", "--", "--ignored"};
    char *globals[] = {"cargo", "--locked", "--config", "build.jobs=1", "-Z", "x", "test"};
    s_is_cargo(2, plain, true);
    s_is_cargo(3, alias, true);
    s_is_cargo(5, toolchain, true);
    s_is_cargo(7, globals, true);
}

void
test_driver_cargo_ignores_other_subcommands(void)
{
    char *build[] = {"cargo", "build", "test"};
    char *bench[] = {"cargo", "bench"};
    char *value[] = {"cargo", "--color", "test", "build"}; /* "test" is --color's value */
    char *bare[] = {"cargo"};
    char *other[] = {"cargo-test"};
    s_is_cargo(3, build, false);
    s_is_cargo(2, bench, false);
    s_is_cargo(4, value, false);
    s_is_cargo(1, bare, false);
    s_is_cargo(1, other, false);
}
