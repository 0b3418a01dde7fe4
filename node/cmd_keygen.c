/* `shoal keygen`: print a new random 32-byte cluster key in base64;
 * `shoal keygen --identity [FILE]`: make a developer's Ed25519 identity, keep
 * its secret in FILE and print the line a serving daemon's --accept-from file
 * takes; `shoal keygen --public [FILE]`: print that line again (identity.h).
 * The secret never reaches stdout or stderr.
 */
#include "gossip/gossip.h"
#include "node/commands.h"
#include "node/identity.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

enum { S_CLUSTER_KEY, S_IDENTITY, S_PUBLIC };

static void
s_usage(void)
{
    printf("usage: shoal keygen\n"
           "       shoal keygen --identity [FILE] [--comment TEXT]\n"
           "       shoal keygen --public [FILE]\n\n"
           "Without options: prints a new random 32-byte cluster key (base64) for SHOAL_KEY\n"
           "or a --key-file. Every member of a cluster needs the same key.\n\n"
           "  --identity [FILE]  makes your Ed25519 identity, which signs the sessions you\n"
           "                     ship to serving daemons: writes the secret key to FILE\n"
           "                     (mode 0600; default $XDG_CONFIG_HOME/shoal/identity or\n"
           "                     ~/.config/shoal/identity; an existing file is kept) and\n"
           "                     prints its public line for a daemon's --accept-from file\n"
           "  --comment TEXT     the name on that line (default user@host)\n"
           "  --public [FILE]    prints the public line of an existing identity again\n");
}

/* Writes a new identity to path and prints its public line. */
static int
s_identity(const char *path, const char *comment)
{
    shoal_identity_t identity;
    char err[PATH_MAX + 256], line[512];
    struct stat st;
    if (lstat(path, &st) == 0) {
        fprintf(stderr,
                "shoal keygen: %s exists; not overwriting it (shoal keygen --public %s prints "
                "its public line)\n",
                path, path);
        return SHOAL_EXIT_FAILURE;
    }
    if (shoal_identity_generate(&identity, comment) != 0) {
        fprintf(stderr, "shoal keygen: cannot initialise libsodium\n");
        return SHOAL_EXIT_FAILURE;
    }
    int rc = shoal_identity_save(&identity, path, err, sizeof(err));
    shoal_identity_public_line(&identity, line, sizeof(line));
    sodium_memzero(&identity, sizeof(identity));
    if (rc != 0) {
        fprintf(stderr, "shoal keygen: %s\n", err);
        return SHOAL_EXIT_FAILURE;
    }
    printf("%s\n", line);
    fflush(stdout);
    fprintf(stderr,
            "shoal keygen: secret key written to %s (keep it private); the line above goes "
            "into a serving daemon's --accept-from file\n",
            path);
    return SHOAL_EXIT_OK;
}

/* Prints the public line of the identity at path. */
static int
s_public(const char *path)
{
    shoal_identity_t identity;
    char err[PATH_MAX + 256], line[512];
    if (shoal_identity_load(path, &identity, err, sizeof(err)) != 0) {
        fprintf(stderr, "shoal keygen: %s\n", err);
        return SHOAL_EXIT_FAILURE;
    }
    shoal_identity_public_line(&identity, line, sizeof(line));
    sodium_memzero(&identity, sizeof(identity));
    printf("%s\n", line);
    return SHOAL_EXIT_OK;
}

int
shoal_cmd_keygen(int argc, char **argv)
{
    int mode = S_CLUSTER_KEY;
    const char *file = NULL, *comment = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            s_usage();
            return SHOAL_EXIT_OK;
        } else if (strcmp(arg, "--identity") == 0 || strcmp(arg, "--public") == 0) {
            if (mode != S_CLUSTER_KEY) {
                fprintf(stderr, "shoal keygen: --identity and --public exclude each other\n");
                return SHOAL_EXIT_USAGE;
            }
            mode = arg[2] == 'i' ? S_IDENTITY : S_PUBLIC;
        } else if (strcmp(arg, "--comment") == 0 && i + 1 < argc) {
            comment = argv[++i];
        } else if (strcmp(arg, "--comment") == 0) {
            fprintf(stderr, "shoal keygen: --comment needs TEXT\n");
            return SHOAL_EXIT_USAGE;
        } else if (strncmp(arg, "--comment=", 10) == 0) {
            comment = arg + 10;
        } else if (arg[0] == '-' || file) {
            fprintf(stderr, "shoal keygen: unexpected argument '%s'\n", arg);
            return SHOAL_EXIT_USAGE;
        } else {
            file = arg;
        }
    }
    if (mode == S_CLUSTER_KEY && (file || comment)) {
        fprintf(stderr, "shoal keygen: unexpected argument '%s' (it goes with --identity)\n",
                file ? file : "--comment");
        return SHOAL_EXIT_USAGE;
    }
    if (mode == S_PUBLIC && comment) {
        fprintf(stderr, "shoal keygen: --comment goes with --identity, not --public\n");
        return SHOAL_EXIT_USAGE;
    }
    if (mode == S_CLUSTER_KEY) {
        char key[64];
        gossip_key_generate(key, sizeof(key));
        printf("%s\n", key);
        return SHOAL_EXIT_OK;
    }
    char path[PATH_MAX];
    if (!file) {
        shoal_identity_default_path(path, sizeof(path));
        if (!path[0]) {
            fprintf(stderr, "shoal keygen: neither XDG_CONFIG_HOME nor HOME is set: name the "
                            "identity FILE\n");
            return SHOAL_EXIT_USAGE;
        }
        file = path;
    }
    return mode == S_IDENTITY ? s_identity(file, comment) : s_public(file);
}
