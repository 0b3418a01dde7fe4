/* Scratch directories for unit tests that touch the file system. */
#ifndef SHOAL_TESTS_SCRATCH_H
#define SHOAL_TESTS_SCRATCH_H

/* Removes dir and everything below it (no error if it is gone). */
void scratch_remove_tree(const char *dir);
/* Writes text to dir/name, making the directories on the way; fails the
 * test if it cannot. */
void scratch_write(const char *dir, const char *name, const char *text);

#endif
