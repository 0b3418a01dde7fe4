/* node/junit_durations.c: JUnit XML -> (test id, seconds), streamed through
 * expat so a large report never sits in memory whole. Owns the array it
 * returns until handed over; on any error it frees everything it built and
 * says why once, in the caller's buffer.
 */
#include "node/junit_durations.h"

#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    XML_Parser parser;
    const char *path;
    shoal_junit_case_t *cases;
    size_t count, cap;
    char *err;
    size_t err_size;
    int failed;
} s_reader_t;

static void
s_fail(s_reader_t *r, const char *what)
{
    if (r->failed)
        return;
    r->failed = 1;
    snprintf(r->err, r->err_size, "%s:%lu: %s", r->path,
             (unsigned long)XML_GetCurrentLineNumber(r->parser), what);
    XML_StopParser(r->parser, XML_FALSE);
}

static void XMLCALL
s_start(void *data, const XML_Char *element, const XML_Char **attrs)
{
    s_reader_t *r = data;
    if (r->failed || strcmp(element, "testcase") != 0)
        return;
    const char *classname = NULL, *name = NULL, *time = NULL;
    for (size_t i = 0; attrs[i]; i += 2) {
        if (strcmp(attrs[i], "classname") == 0)
            classname = attrs[i + 1];
        else if (strcmp(attrs[i], "name") == 0)
            name = attrs[i + 1];
        else if (strcmp(attrs[i], "time") == 0)
            time = attrs[i + 1];
    }
    if (!name || !*name) {
        s_fail(r, "testcase without a name attribute");
        return;
    }
    double seconds = 0.0;
    if (time) {
        char *end;
        errno = 0;
        /* Some writers use a thousands separator: "1,234.5". */
        char clean[64];
        size_t k = 0;
        for (const char *p = time; *p && k + 1 < sizeof(clean); p++)
            if (*p != ',')
                clean[k++] = *p;
        clean[k] = '\0';
        seconds = strtod(clean, &end);
        if (end == clean || *end != '\0' || errno != 0 || !isfinite(seconds) || seconds < 0) {
            s_fail(r, "testcase time is not a non-negative number");
            return;
        }
    }
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        shoal_junit_case_t *grown = realloc(r->cases, cap * sizeof(*grown));
        if (!grown) {
            s_fail(r, "out of memory");
            return;
        }
        r->cases = grown;
        r->cap = cap;
    }
    size_t len = strlen(name) + (classname ? strlen(classname) + 2 : 0) + 1;
    char *id = malloc(len);
    if (!id) {
        s_fail(r, "out of memory");
        return;
    }
    if (classname && *classname)
        snprintf(id, len, "%s::%s", classname, name);
    else
        snprintf(id, len, "%s", name);
    r->cases[r->count++] = (shoal_junit_case_t){id, seconds};
}

int
shoal_junit_durations_read(const char *path, shoal_junit_case_t **cases_out, size_t *count_out,
                           char *err, size_t err_size)
{
    s_reader_t r = {.path = path, .err = err, .err_size = err_size};
    int rc = -1;
    FILE *in = fopen(path, "rb");
    if (!in) {
        snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    r.parser = XML_ParserCreate(NULL);
    if (!r.parser) {
        snprintf(err, err_size, "%s: out of memory", path);
        goto cleanup;
    }
    XML_SetUserData(r.parser, &r);
    XML_SetStartElementHandler(r.parser, s_start);
    char buf[65536];
    for (;;) {
        size_t n = fread(buf, 1, sizeof(buf), in);
        if (ferror(in)) {
            snprintf(err, err_size, "%s: cannot read: %s", path, strerror(errno));
            goto cleanup;
        }
        int last = n < sizeof(buf);
        if (XML_Parse(r.parser, buf, (int)n, last) == XML_STATUS_ERROR) {
            if (!r.failed)
                snprintf(err, err_size, "%s:%lu:%lu: malformed XML: %s", path,
                         (unsigned long)XML_GetCurrentLineNumber(r.parser),
                         (unsigned long)XML_GetCurrentColumnNumber(r.parser),
                         XML_ErrorString(XML_GetErrorCode(r.parser)));
            goto cleanup;
        }
        if (last)
            break;
    }
    if (r.count == 0) {
        snprintf(err, err_size, "%s: no <testcase> elements", path);
        goto cleanup;
    }
    *cases_out = r.cases;
    *count_out = r.count;
    r.cases = NULL;
    r.count = 0;
    rc = 0;
cleanup:
    shoal_junit_durations_free(&r.cases, r.count);
    if (r.parser)
        XML_ParserFree(r.parser);
    fclose(in);
    return rc;
}

void
shoal_junit_durations_free(shoal_junit_case_t **cases_p, size_t count)
{
    if (!cases_p || !*cases_p)
        return;
    for (size_t i = 0; i < count; i++)
        free((*cases_p)[i].id);
    free(*cases_p);
    *cases_p = NULL;
}
