/* node/junit.c: the JUnit writer and reader (see junit.h). The writer emits
 * only what the cases say, in id order, so equal inputs give equal bytes; it
 * writes a temporary beside the target and renames it (report.h), so a reader never sees half a
 * report. The reader streams through expat and keeps at most SHOAL_JUNIT_TEXT_CAP bytes of text per
 * testcase, so a huge report costs bounded memory per case.
 */
#include "node/junit.h"
#include "node/utf8.h"
#include "node/report.h"

#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- ids and names ---- */

/* "tests/a/test_x.py" -> "tests.a.test_x" (caller frees). */
static char *
s_module(const char *file)
{
    size_t len = strlen(file);
    if (len > 3 && strcmp(file + len - 3, ".py") == 0)
        len -= 3;
    char *module = strndup(file, len);
    if (!module)
        return NULL;
    for (char *p = module; *p; p++)
        if (*p == '/')
            *p = '.';
    return module;
}

static char *
s_join3(const char *a, const char *sep, const char *b)
{
    size_t len = strlen(a) + strlen(sep) + strlen(b) + 1;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s%s%s", a, sep, b);
    return out;
}

int
shoal_junit_names(const char *id, const char *file, const char *suite, char **classname_out,
                  char **name_out)
{
    size_t flen = file ? strlen(file) : 0;
    *classname_out = *name_out = NULL;
    if (flen == 0 || strncmp(id, file, flen) != 0 || strncmp(id + flen, "::", 2) != 0) {
        *classname_out = strdup(suite ? suite : "");
        *name_out = strdup(id);
        goto done;
    }
    if (!suite || strcmp(suite, "pytest") != 0) {
        /* Other frameworks' ids are "UNIT::NAME", the unit (a go package, a
         * test binary, a JS file) being what their own JUnit writers put in
         * classname. */
        *classname_out = strdup(file);
        *name_out = strdup(id + flen + 2);
        goto done;
    }
    /* As pytest's mangle_test_address: parameters are left alone, the rest is
     * split on "::", the file becomes a dotted module, classes join with ".". */
    const char *rest = id + flen + 2;
    const char *params = strchr(rest, '[');
    size_t base_len = params ? (size_t)(params - rest) : strlen(rest);
    const char *last = rest;
    for (const char *p = rest; p + 1 < rest + base_len; p++)
        if (p[0] == ':' && p[1] == ':')
            last = p + 2;
    char *module = s_module(file);
    if (!module)
        goto done;
    size_t classes_len = last > rest ? (size_t)(last - rest) - 2 : 0;
    size_t len = strlen(module) + 1 + classes_len + 1;
    char *classname = malloc(len);
    if (classname) {
        size_t k = (size_t)snprintf(classname, len, "%s", module);
        if (classes_len) {
            classname[k++] = '.';
            for (size_t i = 0; i < classes_len; i++) {
                if (rest[i] == ':' && rest[i + 1] == ':') {
                    classname[k++] = '.';
                    i++;
                } else {
                    classname[k++] = rest[i];
                }
            }
            classname[k] = '\0';
        }
    }
    free(module);
    *classname_out = classname;
    *name_out = strdup(last);
done:
    if (!*classname_out || !*name_out) {
        free(*classname_out);
        free(*name_out);
        *classname_out = *name_out = NULL;
        return -1;
    }
    return 0;
}

void
shoal_junit_suite_name(const char *list_path, const char *adapter, char *out, size_t out_size)
{
    if (!list_path) {
        snprintf(out, out_size, "%s", adapter);
        return;
    }
    const char *base = strrchr(list_path, '/');
    base = base ? base + 1 : list_path;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot > base ? (size_t)(dot - base) : strlen(base);
    if (len == 0)
        snprintf(out, out_size, "shoal.list");
    else
        snprintf(out, out_size, "%.*s", (int)len, base);
}

char *
shoal_junit_id(const char *suite, const char *classname, const char *name, const char *file)
{
    classname = classname ? classname : "";
    if (file && *file) {
        if (!*classname)
            return s_join3(file, "::", name);
        char *module = s_module(file);
        if (!module)
            return NULL;
        size_t mlen = strlen(module);
        char *id = NULL;
        if (strcmp(classname, module) == 0) {
            id = s_join3(file, "::", name);
        } else if (strncmp(classname, module, mlen) == 0 && classname[mlen] == '.') {
            /* the classes after the module: "K.Inner" -> "K::Inner" */
            const char *classes = classname + mlen + 1;
            size_t dots = 0;
            for (const char *p = classes; *p; p++)
                dots += *p == '.';
            char *joined = malloc(strlen(classes) + dots + 1);
            if (joined) {
                size_t k = 0;
                for (const char *p = classes; *p; p++) {
                    if (*p == '.') {
                        joined[k++] = ':';
                        joined[k++] = ':';
                    } else {
                        joined[k++] = *p;
                    }
                }
                joined[k] = '\0';
                char *head = s_join3(file, "::", joined);
                id = head ? s_join3(head, "::", name) : NULL;
                free(head);
                free(joined);
            }
        } else {
            id = s_join3(classname, "::", name);
        }
        free(module);
        return id;
    }
    if (!*classname || (suite && strcmp(classname, suite) == 0))
        return strdup(name);
    /* No file attribute (pytest's default xunit2 writes none): the module is
     * the longest dotted prefix of the classname that names a .py file here,
     * so an imported report keys its tests as runs do. */
    size_t len = strlen(classname);
    char *path = malloc(len + 4);
    for (size_t end = len; path && end > 0; end--) {
        if (end < len && classname[end] != '.')
            continue;
        for (size_t i = 0; i < end; i++)
            path[i] = classname[i] == '.' ? '/' : classname[i];
        memcpy(path + end, ".py", 4);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            char *id = shoal_junit_id(suite, classname, name, path);
            free(path);
            return id;
        }
    }
    free(path);
    return s_join3(classname, "::", name);
}

/* ---- writing ---- */

static bool
s_xml_char_ok(uint32_t cp)
{
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

/* Writes s escaped for an attribute value (attr) or element text. */
static void
s_xml_put(FILE *out, const char *s, bool attr)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        uint32_t cp;
        size_t len = shoal_utf8_next(p, &cp);
        if (len == 0 || !s_xml_char_ok(cp)) {
            /* XML cannot carry it: pytest's junitxml writes such a
             * character as #xNN, and so do we for each byte of it. */
            for (size_t i = 0; i < (len ? len : 1); i++)
                fprintf(out, "#x%02X", p[i]);
            p += len ? len : 1;
            continue;
        }
        switch (cp) {
            case '&':
                fputs("&amp;", out);
                break;
            case '<':
                fputs("&lt;", out);
                break;
            case '>':
                fputs("&gt;", out);
                break;
            case '"':
                fputs(attr ? "&quot;" : "\"", out);
                break;
            case '\n':
                fputs(attr ? "&#10;" : "\n", out);
                break;
            case '\t':
                fputs(attr ? "&#9;" : "\t", out);
                break;
            case '\r':
                fputs("&#13;", out);
                break;
            default:
                fwrite(p, 1, len, out);
        }
        p += len;
    }
}

static const char *
s_str(const char *s)
{
    return s ? s : "";
}

static int
s_case_cmp(const void *a, const void *b)
{
    const shoal_junit_case_t *x = *(const shoal_junit_case_t *const *)a;
    const shoal_junit_case_t *y = *(const shoal_junit_case_t *const *)b;
    int c = strcmp(s_str(x->id), s_str(y->id));
    if (c == 0)
        c = strcmp(s_str(x->node), s_str(y->node));
    if (c == 0)
        c = (int)x->outcome - (int)y->outcome;
    if (c == 0)
        c = x->seconds < y->seconds ? -1 : x->seconds > y->seconds;
    if (c == 0)
        c = strcmp(s_str(x->message), s_str(y->message));
    if (c == 0)
        c = strcmp(s_str(x->output), s_str(y->output));
    return c;
}

static void
s_write_child(FILE *out, const char *element, const char *message, const char *text)
{
    fprintf(out, "      <%s message=\"", element);
    s_xml_put(out, message, true);
    if (!text || !*text) {
        fputs("\"/>\n", out);
        return;
    }
    fputs("\">", out);
    s_xml_put(out, text, false);
    fprintf(out, "</%s>\n", element);
}

static int
s_write_case(FILE *out, const char *suite, const shoal_junit_case_t *c)
{
    char *classname, *name;
    if (shoal_junit_names(s_str(c->id), s_str(c->file), suite, &classname, &name) != 0)
        return -1;
    fputs("    <testcase classname=\"", out);
    s_xml_put(out, classname, true);
    fputs("\" name=\"", out);
    s_xml_put(out, name, true);
    if (c->file && *c->file) {
        fputs("\" file=\"", out);
        s_xml_put(out, c->file, true);
    }
    fprintf(out, "\" time=\"%.3f\" hostname=\"", c->seconds);
    s_xml_put(out, c->node, true);
    free(classname);
    free(name);
    bool has_body = (c->outcome != SHOAL_OUTCOME_PASSED && c->outcome != SHOAL_OUTCOME_XPASSED) ||
                    c->flaky || c->attempts > 1;
    if (!has_body) {
        fputs("\"/>\n", out);
        return 0;
    }
    fputs("\">\n", out);
    if (c->attempts > 1)
        fprintf(out, "      <properties><property name=\"attempts\" value=\"%u\"/></properties>\n",
                c->attempts);
    switch (c->outcome) {
        case SHOAL_OUTCOME_PASSED:
            if (c->flaky) {
                fputs("      <flakyFailure message=\"", out);
                s_xml_put(out, c->message, true);
                fputs("\" type=\"failure\"><stackTrace>", out);
                s_xml_put(out, c->output, false);
                fputs("</stackTrace></flakyFailure>\n", out);
            }
            break;
        case SHOAL_OUTCOME_FAILED:
            s_write_child(out, "failure", c->message, c->output);
            break;
        case SHOAL_OUTCOME_ERROR:
            s_write_child(out, "error", c->message, c->output);
            break;
        case SHOAL_OUTCOME_SKIPPED:
        case SHOAL_OUTCOME_XFAILED: /* as pytest writes an xfail: skipped, with its reason */
            s_write_child(out, "skipped", c->message, c->output);
            break;
        case SHOAL_OUTCOME_XPASSED: /* as pytest writes a non-strict xpass: passed */
            break;
        case SHOAL_OUTCOME_NOT_RUN: /* e.g. after --maxfail stopped the session: its reason */
            s_write_child(out, "skipped", c->message && *c->message ? c->message : "not run",
                          c->output);
            break;
        case SHOAL_OUTCOME_COUNT: /* a bug upstream: say so rather than hide it */
            s_write_child(out, "error", "unknown outcome", c->output);
            break;
    }
    fputs("    </testcase>\n", out);
    return 0;
}

static void
s_write_totals(FILE *out, const char *suite, const size_t *n, double seconds)
{
    fputs(" name=\"", out);
    s_xml_put(out, suite, true);
    fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\"",
            n[0], n[SHOAL_OUTCOME_FAILED], n[SHOAL_OUTCOME_ERROR],
            n[SHOAL_OUTCOME_SKIPPED] + n[SHOAL_OUTCOME_XFAILED] + n[SHOAL_OUTCOME_NOT_RUN],
            seconds);
}

int
shoal_junit_write(const char *path, const char *suite, const shoal_junit_case_t *cases,
                  size_t count, char *err, size_t err_size)
{
    int rc = -1;
    FILE *out = NULL;
    shoal_report_file_t file = {0};
    const shoal_junit_case_t **sorted = calloc(count ? count : 1, sizeof(*sorted));
    if (!sorted) {
        snprintf(err, err_size, "%s: out of memory", path);
        goto cleanup;
    }
    /* n[0]: all tests; n[outcome]: per outcome (index 0 is PASSED, unused). */
    size_t n[SHOAL_OUTCOME_COUNT] = {0};
    double seconds = 0;
    for (size_t i = 0; i < count; i++)
        sorted[i] = &cases[i];
    qsort(sorted, count, sizeof(*sorted), s_case_cmp);
    for (size_t i = 0; i < count; i++) {
        if (sorted[i]->outcome != SHOAL_OUTCOME_PASSED && sorted[i]->outcome < SHOAL_OUTCOME_COUNT)
            n[sorted[i]->outcome]++;
        seconds += sorted[i]->seconds;
    }
    n[0] = count;
    if (shoal_report_file_open(&file, path, err, err_size) != 0)
        goto cleanup;
    out = file.out;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", out);
    s_write_totals(out, suite, n, seconds);
    fputs(">\n  <testsuite", out);
    s_write_totals(out, suite, n, seconds);
    fputs(">\n", out);
    for (size_t i = 0; i < count; i++)
        if (s_write_case(out, suite, sorted[i]) != 0) {
            snprintf(err, err_size, "%s: out of memory", path);
            goto cleanup;
        }
    fputs("  </testsuite>\n</testsuites>\n", out);
    out = NULL; /* the commit closes it */
    rc = shoal_report_file_commit(&file, path, err, err_size);
cleanup:
    if (out)
        shoal_report_file_abort(&file);
    free(sorted);
    return rc;
}

/* ---- reading ---- */

typedef struct {
    char *p;
    size_t len, cap;
} s_buf_t;

static void
s_buf_reset(s_buf_t *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

/* Appends up to the text cap; a failed grow just drops text. */
static void
s_buf_add(s_buf_t *b, const char *s, size_t len)
{
    if (b->len + len > SHOAL_JUNIT_TEXT_CAP)
        len = SHOAL_JUNIT_TEXT_CAP - b->len;
    if (len == 0)
        return;
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *grown = realloc(b->p, cap);
        if (!grown)
            return;
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, len);
    b->len += len;
    b->p[b->len] = '\0';
}

static void
s_buf_set(s_buf_t *b, const char *s)
{
    s_buf_reset(b);
    s_buf_add(b, s, strlen(s));
}

static const char *
s_buf_str(const s_buf_t *b)
{
    return b->p && b->len ? b->p : "";
}

#define S_SUITE_DEPTH 32

typedef enum { S_COLLECT_NONE, S_COLLECT_TEXT, S_COLLECT_OUTPUT } s_collect_t;

typedef struct {
    XML_Parser parser;
    const char *path;
    void (*on_record)(void *ctx, const shoal_junit_record_t *record);
    void *ctx;
    char *err;
    size_t err_size;
    bool failed;
    size_t depth, case_depth, suite_depth;
    char *suites[S_SUITE_DEPTH];
    bool in_case;
    int rank; /* of the deciding child: 0 none, 1 skipped, 2 error, 3 failure */
    s_collect_t collect;
    double seconds;
    s_buf_t classname, name, file, message, text, output;
} s_reader_t;

static void
s_fail(s_reader_t *r, const char *what)
{
    if (r->failed)
        return;
    r->failed = true;
    snprintf(r->err, r->err_size, "%s:%lu: %s", r->path,
             (unsigned long)XML_GetCurrentLineNumber(r->parser), what);
    XML_StopParser(r->parser, XML_FALSE);
}

static const char *
s_attr(const XML_Char **attrs, const char *key)
{
    for (size_t i = 0; attrs[i]; i += 2)
        if (strcmp(attrs[i], key) == 0)
            return attrs[i + 1];
    return NULL;
}

/* "1,234.5" (some writers group thousands) -> 1234.5; -1 if not a number >= 0. */
static double
s_seconds(const char *text)
{
    char clean[64], *end;
    size_t k = 0;
    for (const char *p = text; *p && k + 1 < sizeof(clean); p++)
        if (*p != ',')
            clean[k++] = *p;
    clean[k] = '\0';
    errno = 0;
    double v = strtod(clean, &end);
    if (end == clean || *end != '\0' || errno != 0 || !isfinite(v) || v < 0)
        return -1;
    return v;
}

static void
s_case_start(s_reader_t *r, const XML_Char **attrs)
{
    const char *name = s_attr(attrs, "name"), *time = s_attr(attrs, "time");
    if (!name || !*name) {
        s_fail(r, "testcase without a name attribute");
        return;
    }
    r->seconds = time ? s_seconds(time) : 0;
    if (r->seconds < 0) {
        s_fail(r, "testcase time is not a non-negative number");
        return;
    }
    const char *classname = s_attr(attrs, "classname"), *file = s_attr(attrs, "file");
    s_buf_set(&r->name, name);
    s_buf_set(&r->classname, classname ? classname : "");
    s_buf_set(&r->file, file ? file : "");
    s_buf_reset(&r->message);
    s_buf_reset(&r->text);
    s_buf_reset(&r->output);
    r->rank = 0;
    r->in_case = true;
    r->case_depth = r->depth;
}

static void XMLCALL
s_start(void *data, const XML_Char *element, const XML_Char **attrs)
{
    s_reader_t *r = data;
    r->depth++;
    if (r->failed)
        return;
    if (strcmp(element, "testsuite") == 0) {
        if (r->suite_depth < S_SUITE_DEPTH) {
            const char *name = s_attr(attrs, "name");
            r->suites[r->suite_depth] = strdup(name ? name : "");
        }
        r->suite_depth++;
    } else if (strcmp(element, "testcase") == 0) {
        s_case_start(r, attrs);
    } else if (r->in_case && r->depth == r->case_depth + 1) {
        int rank = strcmp(element, "failure") == 0   ? 3
                   : strcmp(element, "error") == 0   ? 2
                   : strcmp(element, "skipped") == 0 ? 1
                                                     : 0;
        if (rank > r->rank) {
            const char *message = s_attr(attrs, "message");
            r->rank = rank;
            s_buf_set(&r->message, message ? message : "");
            s_buf_reset(&r->text);
            r->collect = S_COLLECT_TEXT;
        } else if (strcmp(element, "system-out") == 0 || strcmp(element, "system-err") == 0) {
            r->collect = S_COLLECT_OUTPUT;
        }
    }
}

static void XMLCALL
s_text(void *data, const XML_Char *s, int len)
{
    s_reader_t *r = data;
    if (r->collect == S_COLLECT_TEXT)
        s_buf_add(&r->text, s, (size_t)len);
    else if (r->collect == S_COLLECT_OUTPUT)
        s_buf_add(&r->output, s, (size_t)len);
}

static void XMLCALL
s_end(void *data, const XML_Char *element)
{
    s_reader_t *r = data;
    if (!r->failed && r->in_case && r->depth == r->case_depth + 1)
        r->collect = S_COLLECT_NONE;
    if (!r->failed && r->in_case && r->depth == r->case_depth) {
        static const shoal_outcome_t outcomes[] = {SHOAL_OUTCOME_PASSED, SHOAL_OUTCOME_SKIPPED,
                                                   SHOAL_OUTCOME_ERROR, SHOAL_OUTCOME_FAILED};
        size_t suite = r->suite_depth < S_SUITE_DEPTH ? r->suite_depth : S_SUITE_DEPTH;
        shoal_junit_record_t record = {
            .suite = suite && r->suites[suite - 1] ? r->suites[suite - 1] : "",
            .classname = s_buf_str(&r->classname),
            .name = s_buf_str(&r->name),
            .file = s_buf_str(&r->file),
            .outcome = outcomes[r->rank],
            .seconds = r->seconds,
            .message = s_buf_str(&r->message),
            .text = s_buf_str(&r->text),
            .output = s_buf_str(&r->output),
        };
        r->in_case = false;
        r->on_record(r->ctx, &record);
    } else if (strcmp(element, "testsuite") == 0 && r->suite_depth > 0) {
        r->suite_depth--;
        if (r->suite_depth < S_SUITE_DEPTH) {
            free(r->suites[r->suite_depth]);
            r->suites[r->suite_depth] = NULL;
        }
    }
    r->depth--;
}

int
shoal_junit_parse(const char *path,
                  void (*on_record)(void *ctx, const shoal_junit_record_t *record), void *ctx,
                  char *err, size_t err_size)
{
    s_reader_t r = {
        .path = path, .on_record = on_record, .ctx = ctx, .err = err, .err_size = err_size};
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
    XML_SetElementHandler(r.parser, s_start, s_end);
    XML_SetCharacterDataHandler(r.parser, s_text);
    char buf[65536];
    for (;;) {
        size_t n = fread(buf, 1, sizeof(buf), in);
        if (ferror(in)) {
            snprintf(err, err_size, "%s: cannot read: %s", path, strerror(errno));
            goto cleanup;
        }
        bool last = n < sizeof(buf);
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
    rc = 0;
cleanup:
    for (size_t i = 0; i < S_SUITE_DEPTH; i++)
        free(r.suites[i]);
    free(r.classname.p);
    free(r.name.p);
    free(r.file.p);
    free(r.message.p);
    free(r.text.p);
    free(r.output.p);
    if (r.parser)
        XML_ParserFree(r.parser);
    fclose(in);
    return rc;
}

typedef struct {
    void (*on_case)(void *ctx, const char *id, const char *file, shoal_outcome_t outcome,
                    double seconds);
    void *ctx;
} s_read_t;

static void
s_read_record(void *ctx, const shoal_junit_record_t *record)
{
    s_read_t *read = ctx;
    char *id = shoal_junit_id(record->suite, record->classname, record->name, record->file);
    if (!id)
        return; /* out of memory: one case less */
    read->on_case(read->ctx, id, record->file, record->outcome, record->seconds);
    free(id);
}

int
shoal_junit_read(const char *path,
                 void (*on_case)(void *ctx, const char *id, const char *file,
                                 shoal_outcome_t outcome, double seconds),
                 void *ctx, char *err, size_t err_size)
{
    s_read_t read = {on_case, ctx};
    return shoal_junit_parse(path, s_read_record, &read, err, err_size);
}
