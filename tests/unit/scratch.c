/* Scratch directories for unit tests (see scratch.h). */
#include "scratch.h"

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static int
s_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void
scratch_remove_tree(const char *dir)
{
    nftw(dir, s_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
