/* node/adapter_impl.h: what one framework's file provides behind the adapter
 * interface (adapter.h), and the argv helpers they share. Private to
 * node/adapter*.c: the session sees only adapter.h.
 */
#ifndef SHOAL_NODE_ADAPTER_IMPL_H
#define SHOAL_NODE_ADAPTER_IMPL_H

#include "node/adapter.h"

#include <sodium.h>

typedef struct {
    const char *name;
    /* Words of argv that start this framework ("python3 -m pytest": 3); 0 if
     * the command is not this framework's. NULL for adapters chosen by flag. */
    size_t (*detect)(int argc, char *const *argv);
    /* Reads what the adapter needs (ops: this table, for shared code; the
     * command's words are hashed already) (the list file, a copy of the
     * command) into *state and feeds what defines the runner to hash. 0, or -1 with err. */
    int (*init)(const void *ops, void **state, int argc, char *const *argv, const char *list_path,
                crypto_generichash_state *hash, char *err, size_t err_size);
    void (*destroy)(void *state);
    /* Tests without a worker; NULL when workers collect. */
    int (*collect)(const void *state, shoal_collection_t *out, char *err, size_t err_size);
    /* The hot worker's command; NULL when the framework has none. */
    char **(*worker_argv)(const void *state, const char *plugin_dir, const char *module);
    /* The command of a zygote its worker can be forked from (zygote.h),
     * given the zygote's script; NULL when it has none. */
    char **(*zygote_argv)(const void *state, const char *script);
    /* The hot worker's added environment (see shoal_adapter_worker_env). */
    char **(*worker_env)(const void *state, const char *plugin_dir, unsigned slot, unsigned slots,
                         const char *run_id, char *const *env);
    /* A process per test: its argv; NULL when the framework has workers. */
    char **(*argv)(const void *state, const char *id);
    size_t batch_max;
    /* Seconds one invocation of the framework costs beyond its tests (a
     * driver's Jest start, cargo's checks); 0 for hot workers. Measured with
     * scripts/bench-batch; the leader keeps each batch's work above a few
     * of them (shoal_adapter_invocation_seconds). */
    double invocation_seconds;
    /* The command whose standard output names the toolchain the user's
     * command runs with (fingerprint.h), NULL-terminated, the caller's; NULL
     * out of memory. A NULL function: the adapter has none. */
    char **(*toolchain_argv)(const void *state);
    /* Names or fnmatch globs of the files directly in the run's directory
     * whose bytes pin the dependencies (lock files, manifests),
     * NULL-terminated; NULL: none. */
    const char *const *dep_files;
} shoal_adapter_ops_t;

extern const shoal_adapter_ops_t shoal_adapter_pytest_ops;
extern const shoal_adapter_ops_t shoal_adapter_list_ops;
extern const shoal_adapter_ops_t shoal_adapter_jest_ops;
extern const shoal_adapter_ops_t shoal_adapter_vitest_ops;
extern const shoal_adapter_ops_t shoal_adapter_go_ops;
extern const shoal_adapter_ops_t shoal_adapter_cargo_ops;
extern const shoal_adapter_ops_t shoal_adapter_mocha_ops;
extern const shoal_adapter_ops_t shoal_adapter_ctest_ops;

/* Frameworks run by a driver (driver.h): the worker is `shoal worker NAME --
 * COMMAND...`, this binary again. One file per framework holds its detect
 * and its driver; the rest is shared (adapter_driver.c). */
#define SHOAL_ADAPTER_DRIVER_OPS(NAME, DETECT, BATCH_MAX, INVOCATION_SECONDS, TOOLCHAIN_ARGV,      \
                                 DEP_FILES)                                                        \
    {                                                                                              \
        .name = (NAME), .detect = (DETECT), .init = shoal_adapter_driver_init,                     \
        .destroy = shoal_adapter_command_free, .worker_argv = shoal_adapter_driver_worker_argv,    \
        .worker_env = shoal_adapter_driver_worker_env, .batch_max = (BATCH_MAX),                   \
        .invocation_seconds = (INVOCATION_SECONDS), .toolchain_argv = (TOOLCHAIN_ARGV),            \
        .dep_files = (DEP_FILES),                                                                  \
    }
int shoal_adapter_driver_init(const void *ops, void **state, int argc, char *const *argv,
                              const char *list_path, crypto_generichash_state *hash, char *err,
                              size_t err_size);
char **shoal_adapter_driver_worker_argv(const void *state, const char *plugin_dir,
                                        const char *module);
char **shoal_adapter_driver_worker_env(const void *state, const char *plugin_dir, unsigned slot,
                                       unsigned slots, const char *run_id, char *const *env);

/* A growing NULL-terminated argv; after a failed push the vector is freed and
 * further pushes do nothing, so callers check `failed` once at the end. */
typedef struct {
    char **v;
    size_t len, cap;
    bool failed;
} shoal_argv_t;

void shoal_argv_push(shoal_argv_t *a, const char *word);
/* The state of an adapter that runs the user's command: a zeroed struct of
 * size bytes whose first member is `char **command`, set to a copy of argv
 * (the command's words are in the adapter's digest already). NULL out of
 * memory, with err. Free with shoal_adapter_command_free. */
void *shoal_adapter_command_new(size_t size, int argc, char *const *argv, char *err,
                                size_t err_size);
void shoal_adapter_command_free(void *state);
/* The command of a state made by shoal_adapter_command_new; borrowed. */
char *const *shoal_adapter_command(const void *state);
/* Node.js, the runtime of the JavaScript frameworks: `node -v`, with the
 * command's own node when it starts with one; and npm's, yarn's and pnpm's
 * lock files and package.json. */
char **shoal_adapter_node_toolchain_argv(const void *state);
extern const char *const shoal_adapter_node_dep_files[];
/* The user's own program for the toolchain when the command starts with it
 * (its first word's last component is name), else name; then the words of
 * rest, up to a NULL. A new argv (free with shoal_adapter_argv_free), NULL
 * out of memory. */
char **shoal_adapter_tool_argv(const void *state, const char *name, const char *const *rest);
/* A copy of argv[0..argc); NULL out of memory. */
char **shoal_argv_copy(size_t argc, char *const *argv);
/* The last component of path (after its last '/'); borrowed from path. */
const char *shoal_basename(const char *path);
/* True if s has a byte below 0x20 or DEL. */
bool shoal_has_control(const char *s);

#endif
