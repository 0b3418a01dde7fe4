/* node/files.h: directories shoal makes for a session and removes again. */
#ifndef SHOAL_NODE_FILES_H
#define SHOAL_NODE_FILES_H

/* Removes path and everything below it, bottom up, without following
 * symbolic links, however long the paths below it grow; a directory made
 * unreadable or unwritable by its owner is opened up first. What cannot be
 * removed stays (best effort, no error). */
void shoal_remove_tree(const char *path);

#endif
