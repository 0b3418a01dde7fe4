/* node/files.h: directories shoal makes for a session and removes again,
 * and the files it writes into them. */
#ifndef SHOAL_NODE_FILES_H
#define SHOAL_NODE_FILES_H

/* Removes path and everything below it, bottom up, without following
 * symbolic links, however long the paths below it grow; a directory made
 * unreadable or unwritable by its owner is opened up first. What cannot be
 * removed stays (best effort, no error). */
void shoal_remove_tree(const char *path);

#include <stddef.h>

/* Writes len bytes of text into dir/name (made or emptied, mode 0666 less
 * the umask). 0, or -1 with the path and the cause in err. */
int shoal_write_file(const char *dir, const char *name, const char *text, size_t len, char *err,
                     size_t err_size);

#endif
