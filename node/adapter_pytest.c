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
#define S_SHEBANG_MAX 512
/* What the toolchain fingerprint asks the interpreter. */
#define S_VERSIONS                                                                                 \
    "import sys, pytest; print('python', sys.version.split()[0], 'pytest', pytest.__version__)"

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

/* The interpreter a pytest script runs with: its shebang's program, or the
 * word after /usr/bin/env's options and assignments. NULL when the script
 * cannot be read or names no Python (a pyenv shim is a bash script). */
static char *
s_shebang_python(const char *script)
{
    FILE *f = fopen(script, "r");
    if (!f)
        return NULL;
    char line[S_SHEBANG_MAX] = "";
    bool got = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    if (!got || strncmp(line, "#!", 2) != 0)
        return NULL;
    const char *blanks = " \t\r\n";
    char *save = NULL, *word = strtok_r(line + 2, blanks, &save);
    if (word && strcmp(shoal_basename(word), "env") == 0)
        do
            word = strtok_r(NULL, blanks, &save);
        while (word && (word[0] == '-' || strchr(word, '=')));
    return word && strncmp(shoal_basename(word), "python", 6) == 0 ? strdup(word) : NULL;
}

/* The interpreter that runs the user's command: its first word when that
 * is Python, the shebang's of the pytest script it names (found in this
 * process' PATH), else python3. NULL out of memory. */
static char *
s_python(char *const *command)
{
    const char *prog = shoal_basename(command[0]);
    if (strncmp(prog, "python", 6) == 0)
        return strdup(command[0]);
    char *script =
        strchr(command[0], '/') ? strdup(command[0]) : shoal_exec_lookup(command[0], NULL, NULL);
    char *python = script ? s_shebang_python(script) : NULL;
    free(script);
    return python ? python : strdup("python3");
}

static char **
s_toolchain_argv(const void *state)
{
    const s_pytest_t *self = state;
    char *python = s_python(self->command);
    if (!python)
        return NULL;
    shoal_argv_t a = {0};
    shoal_argv_push(&a, python);
    shoal_argv_push(&a, "-c");
    shoal_argv_push(&a, S_VERSIONS);
    free(python);
    return a.failed ? NULL : a.v;
}

/* `python -m pytest` and a pytest script fork from a zygote of their
 * interpreter; interpreter options (-X, -W, ...) would not carry over. */
static char **
s_zygote_argv(const void *state, const char *script)
{
    const s_pytest_t *self = state;
    bool module = self->prefix_len == 3 && strcmp(self->command[1], "-m") == 0;
    if (!module && self->prefix_len != 1)
        return NULL;
    char *python = s_python(self->command);
    if (!python)
        return NULL;
    shoal_argv_t a = {0};
    shoal_argv_push(&a, python);
    shoal_argv_push(&a, script);
    free(python);
    return a.failed ? NULL : a.v;
}

static const char *const s_dep_files[] = {
    "requirements*.txt", "constraints*.txt", "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock",
    "pyproject.toml",    "setup.cfg",        "setup.py",    "tox.ini",      NULL,
};

const shoal_adapter_ops_t shoal_adapter_pytest_ops = {
    .name = "pytest",
    .detect = s_detect,
    .init = s_init,
    .destroy = shoal_adapter_command_free,
    .worker_argv = s_worker_argv,
    .zygote_argv = s_zygote_argv,
    .worker_env = s_worker_env,
    .batch_max = S_BATCH_MAX,
    .toolchain_argv = s_toolchain_argv,
    .dep_files = s_dep_files,
};
