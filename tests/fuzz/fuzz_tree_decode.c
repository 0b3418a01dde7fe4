/* libFuzzer target: the manifest decoder must reject or accept any bytes
 * without crashing, leaking or allocating out of proportion; what it
 * accepts is canonical, so it encodes back to exactly the same bytes. */
#include "node/tree.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    shoal_tree_t *tree = shoal_tree_decode(data, size, err, sizeof(err));
    if (!tree)
        return 0;
    uint8_t *again = NULL;
    long len = shoal_tree_encode(tree, &again);
    if (len < 0 || (size_t)len != size || memcmp(again, data, size) != 0)
        abort();
    for (size_t i = 0; i < shoal_tree_count(tree); i++) {
        const shoal_tree_entry_t *e = shoal_tree_entry(tree, i);
        if (e->kind == SHOAL_TREE_FILE && !shoal_tree_find_blob(tree, e->digest))
            abort();
    }
    free(again);
    shoal_tree_destroy(&tree);
    return 0;
}
