/* node/files.c: see files.h. */
#include "node/files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_DEPTH_MAX 512 /* directories below the top (one descriptor each); deeper ones stay */

/* Removes name below the directory parent: itself when it is no
 * directory, else what it holds first, relative to descriptors, so no path
 * grows beyond PATH_MAX. A directory its owner made unreadable (a test's
 * chmod 000) is opened up first. */
static void
s_remove_at(int parent, const char *name, int depth)
{
    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT || depth > S_DEPTH_MAX)
        return;
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES && fchmodat(parent, name, 0700, 0) == 0)
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
        fchmod(fd, st.st_mode | 0700); /* entries are unlinked only with w and x */
    DIR *dir = fdopendir(fd);
    if (!dir) {
        close(fd);
        return;
    }
    /* Entries removed while reading may make readdir skip others: twice. */
    for (int pass = 0; pass < 2; pass++) {
        struct dirent *e;
        while ((e = readdir(dir)))
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                s_remove_at(dirfd(dir), e->d_name, depth + 1);
        if (unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno != ENOTEMPTY)
            break;
        rewinddir(dir);
    }
    closedir(dir);
}

void
shoal_remove_tree(const char *path)
{
    s_remove_at(AT_FDCWD, path, 0);
}

int
shoal_write_file(const char *dir, const char *name, const char *text, size_t len, char *err,
                 size_t err_size)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    bool ok = f && fwrite(text, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
    return ok ? 0 : -1;
}
