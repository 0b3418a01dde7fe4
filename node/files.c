/* node/files.c: see files.h. */
#include "node/files.h"

#include <ftw.h>
#include <stdio.h>
#include <unistd.h>

static int
s_remove(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void
shoal_remove_tree(const char *path)
{
    nftw(path, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}
