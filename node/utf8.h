/* UTF-8 as the reports need it: names, messages and output come from test
 * frameworks as bytes, and JSON and XML carry only valid Unicode. */
#ifndef SHOAL_NODE_UTF8_H
#define SHOAL_NODE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1 to 4 bytes) of the valid UTF-8 sequence at p, its code point
 * in *cp; 0 when the bytes at p are not valid UTF-8 (a stray continuation
 * byte, a truncated or overlong sequence, a surrogate, or beyond U+10FFFF),
 * *cp then unspecified. p must be NUL-terminated: a NUL ends a sequence. */
size_t shoal_utf8_next(const unsigned char *p, uint32_t *cp);

#endif
