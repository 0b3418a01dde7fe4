/* Mesh options (see config.h). Names and tags are restricted to printable
 * ASCII without spaces, so they print and parse the same everywhere. */
#include "node/config.h"
#include "node/session_msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    S_OPT_BIND = 1000,
    S_OPT_ADVERTISE,
    S_OPT_JOIN,
    S_OPT_DISCOVER,
    S_OPT_NO_DISCOVER,
    S_OPT_BEACON_PORT,
    S_OPT_NAME,
    S_OPT_SLOTS,
    S_OPT_TAG,
    S_OPT_KEY_FILE,
    S_OPT_INSECURE,
    S_OPT_PROFILE,
    S_OPT_CONTROL,
};

const struct option shoal_config_options[] = {
    {"bind", required_argument, NULL, S_OPT_BIND},
    {"advertise", required_argument, NULL, S_OPT_ADVERTISE},
    {"join", required_argument, NULL, S_OPT_JOIN},
    {"discover", no_argument, NULL, S_OPT_DISCOVER},
    {"no-discover", no_argument, NULL, S_OPT_NO_DISCOVER},
    {"beacon-port", required_argument, NULL, S_OPT_BEACON_PORT},
    {"name", required_argument, NULL, S_OPT_NAME},
    {"slots", required_argument, NULL, S_OPT_SLOTS},
    {"tag", required_argument, NULL, S_OPT_TAG},
    {"key-file", required_argument, NULL, S_OPT_KEY_FILE},
    {"insecure", no_argument, NULL, S_OPT_INSECURE},
    {"profile", required_argument, NULL, S_OPT_PROFILE},
    {"control", required_argument, NULL, S_OPT_CONTROL},
    {"verbose", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
};

const char shoal_config_usage[] =
    "  --bind IP:PORT         listen here (shoal node: 127.0.0.1:7411 by default; port 0 picks "
    "one)\n"
    "  --advertise IP:PORT    address others use to reach this node (default: the bound\n"
    "                         one, or the first non-loopback interface for 0.0.0.0)\n"
    "  --join HOST:PORT       a seed to join through; repeatable; a DNS name may resolve\n"
    "                         to several seeds; unreachable seeds are retried\n"
    "  --discover, --no-discover\n"
    "                         find members on the LAN by UDP beacon (default: on unless\n"
    "                         bound to loopback, where beacons cannot work)\n"
    "  --beacon-port N        UDP port of the discovery beacon (default 7412)\n"
    "  --name NAME            member name (default: the host name and the advertised\n"
    "                         address, e.g. ci-7-10.0.0.5, plus -PORT when the port is\n"
    "                         not the default)\n"
    "  --slots N              test processes this node runs at once (default: CPUs)\n"
    "  --tag KEY=VALUE        advertise a tag; repeatable (at most 16)\n"
    "  --key-file FILE        cluster keys, one per line, first is primary (default:\n"
    "                         $SHOAL_KEY, comma-separated); see 'shoal keygen'\n"
    "  --insecure             allow running without a key on a non-loopback address\n"
    "  --profile lan|local    failure-detector timing (default lan)\n"
    "  --control ENDPOINT     control socket (default ipc://$XDG_RUNTIME_DIR/shoal/control)\n"
    "  -v, --verbose          log gossip chatter\n";

void
shoal_config_init(shoal_config_t *self)
{
    memset(self, 0, sizeof(*self));
    snprintf(self->bind, sizeof(self->bind), "127.0.0.1:%d", SHOAL_DEFAULT_PORT);
    self->discover = -1;
    self->beacon_port = SHOAL_BEACON_PORT;
    self->profile = gossip_profile_find("lan");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    self->meta.slots = (uint16_t)(cpus > 0 && cpus < 1024 ? cpus : 1);
    snprintf(self->meta.version, sizeof(self->meta.version), "%s", SHOAL_VERSION);
}

static bool
s_token_ok(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len == 0 || len > max)
        return false;
    for (const char *p = s; *p; p++)
        if (*p <= ' ' || *p > '~' || *p == ',')
            return false;
    return true;
}

int
shoal_config_number(const char *flag, const char *arg, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long value = strtol(arg, &end, 10);
    if (errno || *end || end == arg || value < min || value > max) {
        fprintf(stderr, "shoal: %s: '%s' is not a number from %ld to %ld\n", flag, arg, min, max);
        return -1;
    }
    *out = value;
    return 0;
}

static int
s_copy(const char *flag, const char *arg, char *out, size_t out_size)
{
    if (strlen(arg) >= out_size || !*arg) {
        fprintf(stderr, "shoal: %s: '%s' is empty or too long (max %zu)\n", flag, arg,
                out_size - 1);
        return -1;
    }
    snprintf(out, out_size, "%s", arg);
    return 0;
}

int
shoal_config_option(shoal_config_t *self, int opt, const char *arg)
{
    long n;
    switch (opt) {
        case S_OPT_BIND:
            return s_copy("--bind", arg, self->bind, sizeof(self->bind));
        case S_OPT_ADVERTISE:
            return s_copy("--advertise", arg, self->advertise, sizeof(self->advertise));
        case S_OPT_JOIN:
            if (self->join_count == SHOAL_JOIN_MAX) {
                fprintf(stderr, "shoal: --join: at most %d seeds\n", SHOAL_JOIN_MAX);
                return -1;
            }
            if (!strchr(arg, ':')) {
                fprintf(stderr, "shoal: --join: '%s' is not HOST:PORT\n", arg);
                return -1;
            }
            return s_copy("--join", arg, self->joins[self->join_count++], GOSSIP_ADDR_MAX + 1);
        case S_OPT_DISCOVER:
            self->discover = 1;
            return 0;
        case S_OPT_NO_DISCOVER:
            self->discover = 0;
            return 0;
        case S_OPT_BEACON_PORT:
            if (shoal_config_number("--beacon-port", arg, 1, 65535, &n) != 0)
                return -1;
            self->beacon_port = (int)n;
            return 0;
        case S_OPT_NAME:
            if (!s_token_ok(arg, GOSSIP_NAME_MAX)) {
                fprintf(stderr,
                        "shoal: --name: '%s' must be 1-%d printable characters, no spaces "
                        "or commas\n",
                        arg, GOSSIP_NAME_MAX);
                return -1;
            }
            snprintf(self->name, sizeof(self->name), "%s", arg);
            return 0;
        case S_OPT_SLOTS:
            if (shoal_config_number("--slots", arg, 1, SHOAL_SLOTS_MAX, &n) != 0)
                return -1;
            self->meta.slots = (uint16_t)n;
            return 0;
        case S_OPT_TAG:
            if (self->meta.tag_count == GOSSIP_TAGS_MAX) {
                fprintf(stderr, "shoal: --tag: at most %d tags\n", GOSSIP_TAGS_MAX);
                return -1;
            }
            if (arg[0] == '@' || arg[0] == '!') {
                fprintf(stderr,
                        "shoal: --tag: '%s': tags starting with '@' name sessions, and with '!' "
                        "what shoal itself does\n",
                        arg);
                return -1;
            }
            if (!s_token_ok(arg, GOSSIP_TAG_MAX) || !strchr(arg, '=') || arg[0] == '=') {
                fprintf(stderr,
                        "shoal: --tag: '%s' is not KEY=VALUE (printable, no spaces or "
                        "commas, max %d)\n",
                        arg, GOSSIP_TAG_MAX);
                return -1;
            }
            snprintf(self->meta.tags[self->meta.tag_count++], GOSSIP_TAG_MAX + 1, "%s", arg);
            return 0;
        case S_OPT_KEY_FILE:
            return s_copy("--key-file", arg, self->key_file, sizeof(self->key_file));
        case S_OPT_INSECURE:
            self->insecure = true;
            return 0;
        case S_OPT_PROFILE:
            self->profile = gossip_profile_find(arg);
            if (!self->profile) {
                fprintf(stderr, "shoal: --profile: '%s' is not lan or local\n", arg);
                return -1;
            }
            return 0;
        case S_OPT_CONTROL:
            return s_copy("--control", arg, self->control, sizeof(self->control));
        case 'v':
            self->verbose++;
            return 0;
        default:
            return 1;
    }
}

bool
shoal_config_is_loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strncmp(addr, "[::1]", 5) == 0 ||
           strncmp(addr, "localhost:", 10) == 0;
}

/* Makes dir (mode 0700: the socket inherits the directory's protection) or
 * finds it there; true if it is a directory we can create the socket in. */
static bool
s_private_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return false;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK | X_OK) == 0;
}

void
shoal_config_default_control(char *out, size_t out_size)
{
    char dir[PATH_MAX];
    /* An XDG_RUNTIME_DIR that is set but unusable (gone, not a directory, not
     * writable: a stale value from another login) counts as unset. */
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    bool usable = runtime && *runtime &&
                  snprintf(dir, sizeof(dir), "%s/shoal", runtime) < (int)sizeof(dir) &&
                  s_private_dir(dir);
    if (!usable) {
        snprintf(dir, sizeof(dir), "/tmp/shoal-%u", (unsigned)getuid());
        s_private_dir(dir);
    }
    snprintf(out, out_size, "ipc://%s/control", dir);
}

static int
s_load_keys(shoal_config_t *self)
{
    self->keyring = gossip_keyring_new();
    if (!self->keyring)
        return -1;
    char err[512];
    if (self->key_file[0]) {
        if (gossip_keyring_load(self->keyring, self->key_file, err, sizeof(err)) != 0) {
            fprintf(stderr, "shoal: --key-file: %s\n", err);
            return -1;
        }
        return 0;
    }
    const char *env = getenv("SHOAL_KEY");
    if (!env || !*env)
        return 0;
    char copy[1024];
    snprintf(copy, sizeof(copy), "%s", env);
    char *save = NULL;
    for (char *text = strtok_r(copy, ", \n", &save); text; text = strtok_r(NULL, ", \n", &save)) {
        uint8_t key[GOSSIP_KEY_BYTES];
        if (gossip_key_parse(text, key) != 0 || gossip_keyring_add(self->keyring, key) != 0) {
            fprintf(stderr, "shoal: SHOAL_KEY: not a list of 32-byte keys in base64 or hex\n");
            return -1;
        }
    }
    return 0;
}

int
shoal_config_finish(shoal_config_t *self)
{
    if (s_load_keys(self) != 0)
        return -1;
    if (gossip_keyring_size(self->keyring) == 0 && !self->insecure &&
        !shoal_config_is_loopback(self->bind)) {
        fprintf(stderr,
                "shoal: --bind %s: refusing to run without a cluster key off loopback; set "
                "SHOAL_KEY or --key-file (see 'shoal keygen'), or pass --insecure\n",
                self->bind);
        return -1;
    }
    if (self->discover == -1)
        self->discover = !shoal_config_is_loopback(self->bind);
    if (self->discover && shoal_config_is_loopback(self->bind)) {
        fprintf(stderr, "shoal: --discover: beacons do not work on loopback (--bind %s)\n",
                self->bind);
        return -1;
    }
    if (!self->control[0])
        shoal_config_default_control(self->control, sizeof(self->control));
    return 0;
}

void
shoal_config_release(shoal_config_t *self)
{
    gossip_keyring_destroy(&self->keyring);
}
