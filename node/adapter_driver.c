/* node/adapter_driver.c: what adapters run by a driver (driver.h) share. The
 * worker is this binary again, `shoal worker NAME -- COMMAND...`, with the
 * user's command untouched; the driver lists and runs the tests through the
 * framework. The digest covers the adapter's name and the command, as for
 * every adapter (adapter.c adds the name).
 */
#include "node/adapter_impl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char **command; /* first: shoal_adapter_command_new */
    const char *name;
    char exe[PATH_MAX];
} s_driver_t;

int
shoal_adapter_driver_init(const void *ops, void **state, int argc, char *const *argv,
                          const char *list_path, crypto_generichash_state *hash, char *err,
                          size_t err_size)
{
    (void)list_path;
    (void)hash;
    s_driver_t *self = shoal_adapter_command_new(sizeof(*self), argc, argv, err, err_size);
    if (!self)
        return -1;
    self->name = ((const shoal_adapter_ops_t *)ops)->name;
    ssize_t n = readlink("/proc/self/exe", self->exe, sizeof(self->exe) - 1);
    if (n <= 0 || (size_t)n >= sizeof(self->exe) - 1) {
        snprintf(err, err_size, "cannot find shoal's own binary (/proc/self/exe): %s",
                 n < 0 ? strerror(errno) : "path too long");
        shoal_adapter_command_free(self);
        return -1;
    }
    self->exe[n] = '\0';
    *state = self;
    return 0;
}

char **
shoal_adapter_driver_worker_argv(const void *state, const char *plugin_dir, const char *module)
{
    (void)plugin_dir;
    (void)module;
    const s_driver_t *self = state;
    shoal_argv_t a = {0};
    shoal_argv_push(&a, self->exe);
    shoal_argv_push(&a, "worker");
    shoal_argv_push(&a, self->name);
    shoal_argv_push(&a, "--");
    for (size_t i = 0; self->command[i]; i++)
        shoal_argv_push(&a, self->command[i]);
    return a.failed ? NULL : a.v;
}

char **
shoal_adapter_driver_worker_env(const void *state, const char *plugin_dir, unsigned slot,
                                unsigned slots, const char *run_id, char *const *env)
{
    (void)env;
    (void)state;
    (void)plugin_dir;
    (void)slot;
    (void)slots;
    (void)run_id;
    return calloc(1, sizeof(char *));
}
