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
            fputs("\\ufffd", out); /* not UTF-8: JSON carries only Unicode */
            p++;
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
