/* node/adapter_pytest.c: pytest. pytest parses the user's command and ini
 * files exactly as it would alone (addopts, conftest options, rootdir and
 * inifile discovery from the user's directory, its cache); shoal only adds
 * `-p shoal_worker`, its plugin (worker_plugin.py), right after the words
 * that start pytest. The plugin reports what pytest collected and runs the
 * items it is sent with pytest's own run protocol, so every kind of item
 * (doctests, --pyargs, custom collectors, tests outside the working
 * directory) runs, and no id is ever parsed or put on a command line.
 */
#include "node/adapter_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_BATCH_MAX 1000

typedef struct {
    char **command; /* the whole command after `--` */
    size_t prefix_len;
} s_pytest_t;

/* Words that start pytest: "pytest", "py.test", "python3 [-X opt] -m pytest". 0 if none. */
static size_t
s_detect(int argc, char *const *argv)
{
    const char *prog = shoal_basename(argv[0]);
    if (strcmp(prog, "pytest") == 0 || strcmp(prog, "py.test") == 0 ||
        strcmp(prog, "pytest-3") == 0 || strcmp(prog, "py.test-3") == 0)
        return 1;
    if (strncmp(prog, "python", 6) != 0)
        return 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-m") == 0)
            return i + 1 < argc && strcmp(argv[i + 1], "pytest") == 0 ? (size_t)i + 2 : 0;
        if (strcmp(argv[i], "-mpytest") == 0)
            return (size_t)i + 1;
        if (argv[i][0] != '-')
            return 0;
        if ((strcmp(argv[i], "-X") == 0 || strcmp(argv[i], "-W") == 0) && i + 1 < argc)
            i++;
    }
    return 0;
}

static int
s_init(const void *ops, void **state, int argc, char *const *argv, const char *list_path,
       crypto_generichash_state *hash, char *err, size_t err_size)
{
    (void)ops;
    (void)list_path;
    (void)hash;
    s_pytest_t *self = shoal_adapter_command_new(sizeof(*self), argc, argv, err, err_size);
    if (!self)
        return -1;
    self->prefix_len = s_detect(argc, argv);
    *state = self;
    return 0;
}

static char **
s_worker_argv(const void *state, const char *plugin_dir, const char *module)
{
    (void)plugin_dir; /* found on PYTHONPATH (s_worker_env) */
    const s_pytest_t *self = state;
    shoal_argv_t a = {0};
    size_t i = 0;
    for (; i < self->prefix_len; i++)
        shoal_argv_push(&a, self->command[i]);
    shoal_argv_push(&a, "-p");
    shoal_argv_push(&a, module);
    for (; self->command[i]; i++)
        shoal_argv_push(&a, self->command[i]);
    return a.failed ? NULL : a.v;
}

/* The plugin is found on PYTHONPATH. shoal's workers are what
 * pytest-xdist's are, so they say so as xdist does: suites read these to
 * share the machine (sklearn and scipy limit their threads per worker) or to
 * keep resources apart per worker. */
static char **
s_worker_env(const void *state, const char *plugin_dir, unsigned slot, unsigned slots,
             const char *run_id, char *const *env)
{
    (void)state;
    const char *path = shoal_exec_getenv(env, "PYTHONPATH");
    char line[128];
    shoal_argv_t a = {0};
    /* sized to fit: a cut PYTHONPATH would be a wrong one */
    size_t len = strlen("PYTHONPATH=:") + strlen(plugin_dir) + (path ? strlen(path) : 0) + 1;
    char *pythonpath = malloc(len);
    if (!pythonpath)
        return NULL;
    snprintf(pythonpath, len, "PYTHONPATH=%s%s%s", plugin_dir, path && *path ? ":" : "",
             path ? path : "");
    shoal_argv_push(&a, pythonpath);
    free(pythonpath);
    snprintf(line, sizeof(line), "PYTEST_XDIST_WORKER=gw%u", slot);
    shoal_argv_push(&a, line);
    snprintf(line, sizeof(line), "PYTEST_XDIST_WORKER_COUNT=%u", slots);
    shoal_argv_push(&a, line);
    snprintf(line, sizeof(line), "PYTEST_XDIST_TESTRUNUID=%s", run_id);
    shoal_argv_push(&a, line);
    return a.failed ? NULL : a.v;
}

const shoal_adapter_ops_t shoal_adapter_pytest_ops = {
    .name = "pytest",
    .detect = s_detect,
    .init = s_init,
    .destroy = shoal_adapter_command_free,
    .worker_argv = s_worker_argv,
    .worker_env = s_worker_env,
    .batch_max = S_BATCH_MAX,
};
