/* JSON string escaping (see json.h). */
#include "node/json.h"
#include "node/utf8.h"

void
shoal_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t len = shoal_utf8_next(p, &cp);
        if (len == 0) {
            /* Not UTF-8, which JSON carries alone: written as the JUnit
             * report writes it (junit.c), so both name the test alike and
             * two names that differ in such a byte stay two. */
            fprintf(out, "#x%02X", *p++);
            continue;
        }
        if (cp == '"' || cp == '\\')
            fprintf(out, "\\%c", (int)cp);
        else if (cp < 0x20)
            fprintf(out, "\\u%04x", (unsigned)cp);
        else
            fwrite(p, 1, len, out);
        p += len;
    }
    fputc('"', out);
}
