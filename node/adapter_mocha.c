/* node/adapter_mocha.c: Mocha. Its worker is a hot one, like pytest's: one
 * long-lived Mocha per slot (worker_mocha.js, written into the session's
 * plugin directory) that parses the user's arguments and .mocharc with
 * Mocha's own CLI, loads the suite once and runs the batches it is sent.
 * The command is recognised from how users start Mocha: `mocha ...`,
 * `_mocha ...`, a path to either (`node_modules/.bin/mocha`), `npx [opts]
 * mocha ...`, `node [opts] .../mocha(.js) ...`. The worker is `node [the
 * user's node options] WORKER.js HOW PROGRAM ARGS...`: HOW says how the
 * user's command finds PROGRAM ("path": as a shell does; "npx": the nearest
 * node_modules/.bin first), so the worker loads the same Mocha.
 */
#include "node/adapter_impl.h"

#include "node/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_BATCH_MAX 1000

typedef struct {
    size_t program; /* index of the word that names Mocha */
    bool npx;       /* started through npx */
    bool node;      /* `node [opts] script`: words before program are node's */
} s_where_t;

typedef struct {
    char **command; /* the whole command after `--` */
    s_where_t where;
} s_mocha_t;

static bool
s_is_mocha(const char *word)
{
    const char *base = shoal_basename(word);
    return strcmp(base, "mocha") == 0 || strcmp(base, "_mocha") == 0 ||
           strcmp(base, "mocha.js") == 0;
}

/* Options of node and npx that take the next word as their value. */
static bool
s_takes_value(const char *opt, bool npx)
{
    static const char *const node[] = {"-r",
                                       "--require",
                                       "--import",
                                       "--loader",
                                       "-C",
                                       "--conditions",
                                       "--experimental-loader",
                                       "--title",
                                       "--input-type",
                                       NULL};
    static const char *const npx_opts[] = {"-p", "--package",   "-c", "--call",
                                           "-w", "--workspace", NULL};
    for (const char *const *o = npx ? npx_opts : node; *o; o++)
        if (strcmp(opt, *o) == 0)
            return true;
    return false;
}

/* The index of the word naming Mocha after argv[0]'s options, or 0. */
static size_t
s_after_options(int argc, char *const *argv, bool npx)
{
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-')
            return s_is_mocha(argv[i]) ? (size_t)i : 0;
        if (strcmp(argv[i], "--") == 0)
            return i + 1 < argc && s_is_mocha(argv[i + 1]) && npx ? (size_t)i + 1 : 0;
        if (s_takes_value(argv[i], npx))
            i++;
    }
    return 0;
}

/* Where the word naming Mocha is; false if the command is not Mocha's. */
static bool
s_locate(int argc, char *const *argv, s_where_t *out)
{
    const char *prog = shoal_basename(argv[0]);
    *out = (s_where_t){0};
    if (s_is_mocha(argv[0]))
        return true;
    out->npx = strcmp(prog, "npx") == 0;
    out->node = strcmp(prog, "node") == 0 || strcmp(prog, "nodejs") == 0;
    if (!out->npx && !out->node)
        return false;
    out->program = s_after_options(argc, argv, out->npx);
    return out->program > 0;
}

/* Words that start Mocha. 0 if none. */
static size_t
s_detect(int argc, char *const *argv)
{
    s_where_t where;
    return s_locate(argc, argv, &where) ? where.program + 1 : 0;
}

static int
s_init(const void *ops, void **state, int argc, char *const *argv, const char *list_path,
       crypto_generichash_state *hash, char *err, size_t err_size)
{
    (void)ops;
    (void)list_path;
    (void)hash;
    s_mocha_t *self = shoal_adapter_command_new(sizeof(*self), argc, argv, err, err_size);
    if (!self)
        return -1;
    (void)s_locate(argc, argv, &self->where);
    *state = self;
    return 0;
}

static char **
s_worker_argv(const void *state, const char *plugin_dir, const char *module)
{
    (void)module; /* pytest's */
    const s_mocha_t *self = state;
    const s_where_t *where = &self->where;
    shoal_argv_t a = {0};
    char script[4200];
    snprintf(script, sizeof(script), "%s/%s", plugin_dir, SHOAL_WORKER_MOCHA_SCRIPT);
    if (where->node) {
        /* The user's node and its options (--expose-gc, --import ...). */
        for (size_t i = 0; i < where->program; i++)
            shoal_argv_push(&a, self->command[i]);
    } else {
        shoal_argv_push(&a, "node");
    }
    shoal_argv_push(&a, script);
    shoal_argv_push(&a, where->npx ? "npx" : "path");
    for (size_t i = where->program; self->command[i]; i++)
        shoal_argv_push(&a, self->command[i]);
    return a.failed ? NULL : a.v;
}

/* Mocha's own parallel workers get MOCHA_WORKER_ID; suites read it to keep
 * ports, databases and temp dirs apart, so shoal's workers say it too. */
static char **
s_worker_env(const void *state, const char *plugin_dir, unsigned slot, unsigned slots,
             const char *run_id, char *const *env)
{
    (void)env;
    (void)state;
    (void)plugin_dir;
    (void)slots;
    (void)run_id;
    char line[64];
    shoal_argv_t a = {0};
    snprintf(line, sizeof(line), "MOCHA_WORKER_ID=%u", slot);
    shoal_argv_push(&a, line);
    return a.failed ? NULL : a.v;
}

const shoal_adapter_ops_t shoal_adapter_mocha_ops = {
    .name = "mocha",
    .detect = s_detect,
    .init = s_init,
    .destroy = shoal_adapter_command_free,
    .worker_argv = s_worker_argv,
    .worker_env = s_worker_env,
    .batch_max = S_BATCH_MAX,
    .toolchain_argv = shoal_adapter_node_toolchain_argv,
    .dep_files = shoal_adapter_node_dep_files,
};
