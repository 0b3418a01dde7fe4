/* `shoal keygen`: print a new random 32-byte cluster key in base64. */
#include "gossip/gossip.h"
#include "node/commands.h"

#include <stdio.h>
#include <string.h>

int
shoal_cmd_keygen(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: shoal keygen\n\nPrints a new random 32-byte cluster key (base64) for "
               "SHOAL_KEY or a --key-file.\nEvery member of a cluster needs the same key.\n");
        return SHOAL_EXIT_OK;
    }
    if (argc > 1) {
        fprintf(stderr, "shoal keygen: unexpected argument '%s'\n", argv[1]);
        return SHOAL_EXIT_USAGE;
    }
    char key[64];
    gossip_key_generate(key, sizeof(key));
    printf("%s\n", key);
    return SHOAL_EXIT_OK;
}
