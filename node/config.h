/* A mesh member's configuration: the options `shoal node` takes (and that
 * `shoal run` will share), their defaults, and their validation.
 *
 * shoal_config_option() consumes one getopt_long option; shoal_config_finish()
 * fills the defaults that depend on other options and checks the whole. Both
 * print one clear message naming the bad flag or file and return -1; the
 * command then exits with status 2.
 */
#ifndef SHOAL_NODE_CONFIG_H
#define SHOAL_NODE_CONFIG_H

#include "gossip/gossip.h"

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>

#define SHOAL_DEFAULT_PORT 7411
#define SHOAL_BEACON_PORT 7412
#define SHOAL_JOIN_MAX 32

typedef struct {
    char bind[GOSSIP_ADDR_MAX + 1];
    char advertise[GOSSIP_ADDR_MAX + 1];
    char joins[SHOAL_JOIN_MAX][GOSSIP_ADDR_MAX + 1]; /* host:port; host may be a DNS name */
    int join_count;
    int discover; /* -1: decide from the bind address, 0 off, 1 on */
    int beacon_port;
    char name[GOSSIP_NAME_MAX + 1];
    gossip_meta_t meta;
    char key_file[PATH_MAX];
    bool insecure;
    const gossip_profile_t *profile;
    char control[PATH_MAX + 16];
    int verbose;
    gossip_keyring_t *keyring; /* loaded by shoal_config_finish; the caller takes it */
} shoal_config_t;

/* Long options of the mesh, terminated by a zero entry, for getopt_long. */
extern const struct option shoal_config_options[];
/* Short options of the mesh for getopt_long ("v"). */
#define SHOAL_CONFIG_SHORTOPTS "v"
/* The usage lines of these options. */
extern const char shoal_config_usage[];

void shoal_config_init(shoal_config_t *self);
/* Applies one option returned by getopt_long. Returns 0, 1 if the option is not
 * a mesh option, or -1 for a bad value (after saying why). */
int shoal_config_option(shoal_config_t *self, int opt, const char *arg);
/* Fills defaults, loads the key, validates. 0 or -1 (after saying why). */
int shoal_config_finish(shoal_config_t *self);
void shoal_config_release(shoal_config_t *self);
/* Parses a whole number from min to max for flag; -1 after saying why. */
int shoal_config_number(const char *flag, const char *arg, long min, long max, long *out);
/* The default control endpoint: ipc://$XDG_RUNTIME_DIR/shoal/control, or
 * ipc:///tmp/shoal-UID/control when XDG_RUNTIME_DIR is unset or unusable
 * (missing, not a directory, not writable); creates the directory (0700). */
void shoal_config_default_control(char *out, size_t out_size);
/* True for 127.0.0.0/8, [::1] and "localhost" hosts. */
bool shoal_config_is_loopback(const char *addr);

#endif
