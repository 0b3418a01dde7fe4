/* A test session as one participant runs it: gathering, electing the leader,
 * following it (running what it deals), leading when elected, and finishing
 * with the summary every participant prints identically.
 *
 *   GATHER --window closed--> FOLLOW <--LEADER of a newer term-- (any)
 *     |                        |  ^
 *     |   top-ranked, no leader|  | step down
 *     +----------------------> LEAD (FOLLOW too: the leader also runs tests)
 *   FOLLOW/LEAD --whole SUMMARY received--> DONE
 *
 * s_gather_tick, s_lead and s_adopt perform the transitions. The top-ranked
 * participant claims the first term once every other one has answered its
 * QUERY with NOLEADER (or after a short grace). Every participant keeps the
 * results it produced until the session ends, so a new leader can rebuild
 * the session from the members (results are keyed by test and attempt, so
 * what is reported twice merges); the leader's own results would die with
 * it, so it copies them to its deputy, the participant ranked next, which
 * feeds them to the term it starts. A new term deals once every live member
 * has reported (results first, then what it runs), or after 2 s.
 */
#ifndef SHOAL_NODE_SESSION_H
#define SHOAL_NODE_SESSION_H

#include "node/adapter.h"
#include "node/node.h"
#include "node/report.h"
#include "node/session_msg.h"
#include "node/session_tag.h"
#include "node/zygote.h"
#include "sched/sched.h"

#include <limits.h>

/* Exit statuses of `shoal run`. */
enum {
    SHOAL_RUN_PASSED = 0,
    SHOAL_RUN_FAILED = 1,
    SHOAL_RUN_USAGE = 2,
    SHOAL_RUN_INCOMPLETE = 3,
    SHOAL_RUN_NO_REPORT = 4, /* a --junit/--json report could not be written (over 0 and 1) */
    SHOAL_RUN_NO_TESTS = 5,  /* as pytest's exit 5: nothing was collected to run */
};

typedef struct {
    char session[SHOAL_SESSION_ID_MAX + 1];
    int expect;  /* close the join window at this many participants */
    double wait; /* ...or after this many seconds */
    sched_strategy_t strategy;
    double time_limit;   /* seconds, 0: none */
    double test_timeout; /* seconds per test, 0: none */
    unsigned retries;
    double batch_seconds;
    bool dry_run;
    char junit[PATH_MAX];
    char junit_suite[128]; /* testsuite, and classname of list tests (shoal_junit_suite_name) */
    char json[PATH_MAX];
    char project[128];
    char history_db[PATH_MAX]; /* "" for the default location */
    bool no_history;
    unsigned slots;
    bool process_per_batch; /* pytest: a fresh process per batch instead of workers */
    /* Where and with what environment every process of the session runs
     * (collection, workers, batches): a node running a client's session
     * gives the client's. NULL: this process' own. Borrowed: they outlive
     * the session. */
    const char *cwd;
    char *const *env;
    /* Words put before every command the session runs (a sandbox, see
     * sandbox.h); NULL: none. Borrowed like cwd and env. */
    char *const *wrap;
    /* Workers forked from a warm zygote (zygote.h) when zygote.pool is set;
     * cold otherwise. */
    shoal_zygote_ticket_t zygote;
} shoal_run_config_t;

typedef struct shoal_session shoal_session_t;

/* Takes the adapter. The node must already advertise this session's tag
 * (session_tag.h). */
shoal_session_t *shoal_session_new(const shoal_run_config_t *config, shoal_node_t *node,
                                   shoal_adapter_t **adapter_p);
void shoal_session_destroy(shoal_session_t **self_p);
/* Runs to the end (or until *stop) on the node's loop, concludes
 * (conclude.h) and closes. Returns the session's exit status. */
int shoal_session_run(shoal_session_t *self, volatile sig_atomic_t *stop);

/* ---- a session a host runs on its loop (a node serving a client, serve.h):
 * the host turns the loop, forwards what the report would print, and takes
 * the outcome once the session is over. */

/* The live progress printer (report.h): a host sets its forward hook. */
shoal_report_t *shoal_session_report(shoal_session_t *self);
/* The session runs tests on `slots` of the slots it was created with (at
 * least one): a node shares its slots between its sessions. A slot beyond
 * the new share finishes its batch, takes no more and lets its worker go. */
void shoal_session_set_slots(shoal_session_t *self, unsigned slots);
/* Participants announced but not yet here (a shipped session's daemons
 * that took the offer and are fetching the workspace): fn returns how
 * many, writes the tags of the first max of them (as
 * shoal_session_own_tags) into tags[0..max), and sets *settled when some
 * were announced and none is on its way any more (each joined or
 * declined). A leader here does not give up on a test that no present
 * participant has the tags for while one on its way has them (or one
 * beyond max is on its way); once settled, the join window closes without
 * waiting out --expect (a participant that comes later still joins). fn
 * (NULL: none) is called on the loop, at most once per turn. */
typedef size_t(shoal_session_coming_fn)(void *ctx, char (*tags)[SHOAL_OWN_TAGS_MAX], size_t max,
                                        bool *settled);
void shoal_session_set_coming(shoal_session_t *self, shoal_session_coming_fn *fn, void *ctx);
/* Whether the member named is a participant (admitted or not, alive or
 * not). */
bool shoal_session_has_participant(const shoal_session_t *self, const char *name);
/* Whether a leader here refused the participant named: its collection
 * differs from this one's. */
bool shoal_session_refused(const shoal_session_t *self, const char *name);
/* The summary is in (or this participant was not admitted). */
bool shoal_session_over(const shoal_session_t *self);

typedef struct {
    int status;                /* the session's exit status */
    bool refused;              /* not admitted: nothing to print or write (the log said why) */
    const shoal_item_t *items; /* the summary, borrowed until destroy */
    size_t count;
    char text[SHOAL_MESSAGE_MAX + 160]; /* printed under the summary */
} shoal_session_outcome_t;

/* Once over: what every participant prints and writes (shoal_conclude). */
void shoal_session_outcome(const shoal_session_t *self, shoal_session_outcome_t *out);
/* Once over: hands the session's outcomes to the workers (for the
 * framework's own cache) and lets them finish their session on the loop;
 * closed once they all exited. */
void shoal_session_close(shoal_session_t *self);
bool shoal_session_closed(const shoal_session_t *self);

#endif
