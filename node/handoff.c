/* The hand-off request's codec (see handoff.h): one msgpack array,
 * [version, pid, slots, session, expect, wait, strategy, time_limit,
 * test_timeout, retries, batch_seconds, process_per_batch, project,
 * history_db, no_history, adapter, list, cwd, [argv...], [env...]], checked
 * before msgpack-c reads it (unpack.h). */
#include "node/handoff.h"
#include "node/unpack.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

#define S_FIELDS 20
#define S_DEPTH 3

long
shoal_handoff_encode(const shoal_handoff_t *self, uint8_t **out)
{
    const shoal_run_config_t *run = &self->run;
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, S_FIELDS);
    msgpack_pack_uint8(&pk, SHOAL_HANDOFF_VERSION);
    msgpack_pack_int64(&pk, self->pid);
    msgpack_pack_uint32(&pk, self->slots);
    shoal_pack_str(&pk, run->session);
    msgpack_pack_int32(&pk, run->expect);
    msgpack_pack_double(&pk, run->wait);
    msgpack_pack_uint32(&pk, (uint32_t)run->strategy);
    msgpack_pack_double(&pk, run->time_limit);
    msgpack_pack_double(&pk, run->test_timeout);
    msgpack_pack_uint32(&pk, run->retries);
    msgpack_pack_double(&pk, run->batch_seconds);
    run->process_per_batch ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
    shoal_pack_str(&pk, run->project);
    shoal_pack_str(&pk, run->history_db);
    run->no_history ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
    shoal_pack_str(&pk, self->adapter);
    shoal_pack_str(&pk, self->list);
    shoal_pack_str(&pk, self->cwd);
    shoal_pack_words(&pk, self->argv);
    shoal_pack_words(&pk, self->env);
    *out = malloc(sbuf.size ? sbuf.size : 1);
    long len = *out ? (long)sbuf.size : -1;
    if (*out)
        memcpy(*out, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy(&sbuf);
    return len;
}

/* ---------------------------------------------------------------- decode */

static bool
s_words(const msgpack_object *o, char ***out, int *count)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size > SHOAL_HANDOFF_WORDS_MAX)
        return false;
    size_t n = o->via.array.size;
    char **words = calloc(n + 1, sizeof(char *));
    if (!words)
        return false;
    *out = words; /* freed by clear, whatever happens next */
    for (size_t i = 0; i < n; i++)
        if (!(words[i] = shoal_unpack_strdup(&o->via.array.ptr[i], SHOAL_HANDOFF_STRING_MAX)))
            return false;
    if (count)
        *count = (int)n;
    return true;
}

static int
s_decode(const msgpack_object *root, void *arg)
{
    shoal_handoff_t *self = arg;
    if (root->type != MSGPACK_OBJECT_ARRAY || root->via.array.size != S_FIELDS)
        return -1;
    const msgpack_object *f = root->via.array.ptr;
    shoal_run_config_t *run = &self->run;
    double version, pid, slots, expect, strategy, retries;
    bool ok =
        shoal_unpack_number(&f[0], 255, &version) && version == SHOAL_HANDOFF_VERSION &&
        shoal_unpack_number(&f[1], 4194304, &pid) && shoal_unpack_number(&f[2], 1024, &slots) &&
        shoal_unpack_str(&f[3], run->session, sizeof(run->session)) && run->session[0] &&
        shoal_unpack_number(&f[4], 1024, &expect) && shoal_unpack_number(&f[5], 1e7, &run->wait) &&
        shoal_unpack_number(&f[6], SCHED_STRATEGY_FAIL_FIRST, &strategy) &&
        shoal_unpack_number(&f[7], 1e7, &run->time_limit) &&
        shoal_unpack_number(&f[8], 1e7, &run->test_timeout) &&
        shoal_unpack_number(&f[9], 100, &retries) &&
        shoal_unpack_number(&f[10], 1e7, &run->batch_seconds) &&
        shoal_unpack_bool(&f[11], &run->process_per_batch) &&
        shoal_unpack_str(&f[12], run->project, sizeof(run->project)) &&
        shoal_unpack_str(&f[13], run->history_db, sizeof(run->history_db)) &&
        shoal_unpack_bool(&f[14], &run->no_history) &&
        shoal_unpack_str(&f[15], self->adapter, sizeof(self->adapter)) &&
        shoal_unpack_str(&f[16], self->list, sizeof(self->list)) &&
        (self->cwd = shoal_unpack_strdup(&f[17], SHOAL_HANDOFF_STRING_MAX)) &&
        self->cwd[0] == '/' && s_words(&f[18], &self->argv, &self->argc) &&
        s_words(&f[19], &self->env, NULL) && (self->list[0] || self->argc > 0);
    if (!ok)
        return -1;
    self->pid = (int64_t)pid;
    self->slots = (unsigned)slots;
    run->expect = (int)expect;
    run->strategy = (sched_strategy_t)strategy;
    run->retries = (unsigned)retries;
    run->cwd = self->cwd;
    run->env = self->env;
    return 0;
}

int
shoal_handoff_decode(const uint8_t *buf, size_t len, shoal_handoff_t *self)
{
    memset(self, 0, sizeof(*self));
    int rc = shoal_unpack(buf, len, S_DEPTH, s_decode, self);
    if (rc != 0)
        shoal_handoff_clear(self);
    return rc;
}

zmsg_t *
shoal_handoff_strings(const char *first, const char *second, const char *third)
{
    zmsg_t *message = zmsg_new();
    zmsg_addstr(message, first);
    if (second)
        zmsg_addstr(message, second);
    if (third)
        zmsg_addstr(message, third);
    return message;
}

static void
s_words_free(char ***words)
{
    for (size_t i = 0; *words && (*words)[i]; i++)
        free((*words)[i]);
    free(*words);
    *words = NULL;
}

void
shoal_handoff_clear(shoal_handoff_t *self)
{
    s_words_free(&self->argv);
    s_words_free(&self->env);
    free(self->cwd);
    memset(self, 0, sizeof(*self));
}
