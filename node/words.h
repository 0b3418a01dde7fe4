/* node/words.h: a command line split into words the way a POSIX shell quotes,
 * without running a shell (the argv field of a `--list` file).
 *
 * Taken: blanks between words; '...' keeps every character as it is; "..."
 * keeps every character but \" \\ \$ \` (the backslash goes; before anything
 * else it stays); a backslash outside quotes keeps the next character; '' or
 * "" is an empty word. Refused, because sh would read it as something else
 * and taking it literally would silently run another command: unquoted | ; &
 * < > ( ) * ? and backquote, $ that starts an expansion ($name, ${, $(, $1,
 * ...) outside single quotes, a backquote inside "...", # or ~ at the start
 * of a word (comment, home directory) and a NAME=value first word (an
 * assignment). Quoting any of them makes it literal.
 */
#ifndef SHOAL_NODE_WORDS_H
#define SHOAL_NODE_WORDS_H

#include <stddef.h>

/* Splits text. 0 with *words_out a NULL-terminated array of words (none if
 * text is blank), each word and the array the caller's (shoal_words_free, or
 * free() each word then the array, as for any argv built that way);
 * or -1 with *words_out NULL and the reason in err: what was refused and at
 * which character of text (1-based), e.g. "'|' at character 7: shell syntax
 * is not supported; quote it". */
int shoal_words_split(const char *text, char ***words_out, char *err, size_t err_size);
void shoal_words_free(char ***words_p);

#endif
