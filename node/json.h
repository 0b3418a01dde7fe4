/* Writing JSON to a stdio stream: just string escaping; callers lay out the
 * punctuation. Everything we print as JSON passes through shoal_json_string. */
#ifndef SHOAL_NODE_JSON_H
#define SHOAL_NODE_JSON_H

#include <stdio.h>

/* Writes s as a quoted JSON string, escaping quotes, backslashes and control
 * characters; valid UTF-8 passes through, and each byte that is not
 * (framework output and test names are bytes) is written "#xNN", as the
 * JUnit report writes it, so the document stays JSON. */
void shoal_json_string(FILE *out, const char *s);

#endif
