/* node/handoff.h: how a `shoal run` hands its session to the `shoal node` of
 * its machine, and what it hears back: the requests and replies on the
 * node's control socket (a ZeroMQ REP, see control.h), each a message of
 * frames whose first is the verb.
 *
 *   client -> node                      node -> client
 *   "serve"  BODY (shoal_handoff_t)     "ok" TOKEN NODE-NAME | "refused" WHY
 *   "poll"   TOKEN ACKED                 STATE HEADER EVENT...   (STATE: "running",
 *                                        "over", or "unknown" for a token it
 *                                        does not hold: abandoned, or another node)
 *   "cancel" TOKEN                       "ok"    the client stops: abandon it now
 *   "bye"    TOKEN                       "ok"    the client has the end: forget it
 *
 * The client polls (REQ/REP: every poll is also its heartbeat, and a lost
 * reply is resent, as events are acknowledged by sequence number: ACKED is
 * the last one the client holds). HEADER is "FIRST MORE VERBOSITY
 * REPORTCHARS": the sequence number of the first event that follows, 1 if
 * more wait, and the report options of the session's collection. An event
 * is one frame: a kind byte and its body:
 *   'L' a line the session logged, as the node printed it
 *   'P' a PROGRESS session message (session_msg.h): what the report prints
 *   'S' a SUMMARY session message: items of the summary, in chunks
 *   'X' "STATUS REFUSED\nTEXT": the end (after every 'S'); REFUSED 1 when this
 *       participant was not admitted (nothing to print or write)
 * The control socket lives in a 0700 directory: only the user reaches it.
 * Bodies are still checked before anything is unpacked, as any input.
 */
#ifndef SHOAL_NODE_HANDOFF_H
#define SHOAL_NODE_HANDOFF_H

#include "node/session.h"

#include <stdint.h>
#include <sys/types.h>

#define SHOAL_HANDOFF_VERSION 1
#define SHOAL_HANDOFF_WORDS_MAX 65536    /* argv words, environment entries */
#define SHOAL_HANDOFF_STRING_MAX 1048576 /* bytes of one of them */

enum {
    SHOAL_HANDOFF_LOG = 'L',
    SHOAL_HANDOFF_PROGRESS = 'P',
    SHOAL_HANDOFF_SUMMARY = 'S',
    SHOAL_HANDOFF_END = 'X',
};

/* What a client hands over: the session's options, its command and where
 * and how it runs. */
typedef struct {
    shoal_run_config_t run; /* options; run.cwd and run.env point at cwd and env */
    char adapter[32];       /* --adapter, "" to recognise it from the command */
    char list[PATH_MAX];    /* --list FILE (absolute), "" for a command */
    char **argv;            /* the command after --, NULL-terminated */
    int argc;
    char *cwd;
    char **env; /* NULL-terminated "KEY=VALUE" */
    int64_t pid;
    unsigned slots; /* use at most this many of the node's slots; 0: any */
} shoal_handoff_t;

/* The body of "serve". Returns its length and the malloc'd bytes in *out;
 * -1 out of memory. */
long shoal_handoff_encode(const shoal_handoff_t *self, uint8_t **out);
/* Reads a body into self (owning everything); 0, or -1 for anything
 * malformed (self is then cleared). */
int shoal_handoff_decode(const uint8_t *buf, size_t len, shoal_handoff_t *self);
/* Frees what decode allocated. */
void shoal_handoff_clear(shoal_handoff_t *self);
/* A request or reply of up to three string frames (NULL ones left out). */
zmsg_t *shoal_handoff_strings(const char *first, const char *second, const char *third);

#endif
