/* node/zygote.h: warm workers across sessions on a serving daemon. A
 * zygote is a long-lived interpreter (zygote.py, for pytest) that has
 * imported the framework, its own plugins and the standard-library modules
 * earlier workers of the same key imported (never a third-party package:
 * its import-time state may depend on the test run having started, as
 * sympy's does); each slot's worker of a later session is forked from it,
 * so it starts without interpreter start-up or those imports. What the
 * worker then does (collect, run its batches) is what a fresh one does:
 * the framework reads the user's command and files itself.
 *
 * A zygote is keyed by what makes a warm process equal to a fresh one:
 * the developer's identity, the adapter's interpreter command, the toolchain
 * fingerprint and dependency digest of the session (ship_msg.h), and the
 * network choice (its sandbox is made once, at its start). It runs in the
 * daemon's sandbox (sandbox.h) with the directory of its developer's
 * sessions writable, so its workers can write their own session's
 * directory (and that developer's other sessions' there, never another
 * developer's, which stay read-only as in any sandbox of the daemon's);
 * the sessions of one key share the zygote's private /tmp and hash seed.
 * Each worker gets a process namespace of its own (zygote.py, isolate()),
 * as each cold one has its sandbox.
 *
 * A worker is started through `shoal zygote-attach` (cmd_zygote.c): a
 * stand-in the session's executor starts as it starts any worker (its
 * process group, output pipe, channel). It hands its descriptors to the
 * zygote, which forks the worker, and exits as the worker exits; killed,
 * it takes the worker with it. When the zygote cannot take it (still
 * starting for too long, gone, draining, an environment it was not made
 * for) the stand-in runs the worker's cold command itself, in the sandbox.
 *
 * Pool: at most `pool` zygotes take work; a new key retires the least
 * recently used one (it finishes its workers first). A zygote exits after
 * `idle` seconds without a worker and retires itself after `recycle`
 * workers; one that dies is started again for the next worker; a key
 * whose zygote died before it was ready three times in a row runs cold.
 * Trust: a warm module was imported in the zygote with the daemon's
 * environment, not the worker's; what the sandbox hides stays hidden.
 */
#ifndef SHOAL_NODE_ZYGOTE_H
#define SHOAL_NODE_ZYGOTE_H

#include "node/loop.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHOAL_ZYGOTE_SCRIPT "shoal_zygote.py"
#define SHOAL_ZYGOTE_COMMAND "zygote-attach" /* the stand-in's subcommand */
#define SHOAL_ZYGOTE_STARTING ".starting"    /* SOCKET + this: the zygote is starting */
#define SHOAL_ZYGOTE_START_WAIT_MS 60000     /* a stand-in waits this long for a starting zygote */
#define SHOAL_ZYGOTE_KEY_MAX 1024            /* bytes of a session's part of the key */
#define SHOAL_ZYGOTE_FAILS_MAX 3             /* early deaths in a row before a key runs cold */

typedef struct {
    shoal_loop_t *loop;  /* polls the zygotes (borrowed) */
    const char *dir;     /* the pool's own directory, a directory per key below it: its
                            sockets, what it learned, the script (made 0700 here, emptied) */
    const char *workdir; /* the daemon's TMPDIR (writable inside); NULL: none */
    const char *secret;  /* hidden inside (NULL: none) */
    bool sandbox;        /* false: zygotes run unsandboxed (--unsandboxed) */
    unsigned pool;       /* zygotes that take work at once; 0: none (every worker is cold) */
    double idle;         /* seconds a zygote without workers lives */
    unsigned recycle;    /* workers a zygote forks before it retires */
} shoal_zygote_config_t;

typedef struct {
    uint64_t started;  /* zygotes started */
    uint64_t ready;    /* ...that imported what they import and listen */
    uint64_t failed;   /* ...that ended before they were ready */
    uint64_t retired;  /* ...that stopped taking work (idle, recycled, evicted, a thread) */
    uint64_t attached; /* workers handed to a zygote (their stand-ins started) */
    uint64_t forked;   /* workers a zygote forked (warm) */
    uint64_t cold;     /* stand-ins a zygote sent back to run cold */
} shoal_zygote_stats_t;

typedef struct shoal_zygote_pool shoal_zygote_pool_t;

/* What a session's workers need to fork from a zygote: the pool (borrowed;
 * NULL: cold workers), the session's part of the key (free text), the
 * directory holding every session directory of its developer (writable
 * in the zygote's sandbox), HOME inside (the session's directory), and
 * whether the tests have the network. */
typedef struct {
    shoal_zygote_pool_t *pool;
    char key[SHOAL_ZYGOTE_KEY_MAX];
    char root[PATH_MAX];
    char home[PATH_MAX];
    bool network;
} shoal_zygote_ticket_t;

/* Makes the directory (each key gets a directory below it, with the
 * script, written anew for each zygote) and starts the pool's timer.
 * Strings are copied. NULL with the reason in err (the directory cannot
 * be made, out of memory). */
shoal_zygote_pool_t *shoal_zygote_pool_new(const shoal_zygote_config_t *config, char *err,
                                           size_t err_size);
/* Kills every zygote (their workers die with them) and removes the
 * sockets. Idempotent. */
void shoal_zygote_pool_destroy(shoal_zygote_pool_t **self_p);

/* The script's name, for the adapter's zygote command: relative, found in
 * the directory the zygote starts in. */
const char *shoal_zygote_pool_script(const shoal_zygote_pool_t *self);

/* What a session runs instead of a worker's cold command, the stand-in:
 * `SELF zygote-attach SOCKET HOME COUNT -- WRAP... ARGV...`, where COUNT
 * is how many of the words after -- are the sandbox's. Starts the
 * ticket's zygote (command: zygote; env: its environment) when none takes
 * work; the key hashes the ticket's key, root and network and the zygote
 * command. wrap: the session's sandbox words (NULL: none), run by the
 * stand-in only when it runs cold. Run the stand-in with no wrap: the
 * zygote and the cold command are sandboxed already. A NULL-terminated
 * array the caller frees with shoal_adapter_argv_free; NULL when the
 * worker must start cold (no pool, the key failed too often, the zygote
 * cannot be started, out of memory). */
char **shoal_zygote_pool_attach(const shoal_zygote_ticket_t *ticket, char *const *zygote,
                                char *const *env, char *const *wrap, char *const *argv);

const shoal_zygote_stats_t *shoal_zygote_pool_stats(const shoal_zygote_pool_t *self);
/* Zygotes alive now (taking work or finishing their workers); *taking:
 * those taking work. */
size_t shoal_zygote_pool_count(const shoal_zygote_pool_t *self, size_t *taking);

#endif
