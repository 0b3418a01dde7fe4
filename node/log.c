/* Logging (see log.h). The name is set once at start-up. */
#include "node/log.h"

#include <stdarg.h>
#include <stdio.h>

static char s_name[80] = "shoal";
static int s_verbose;
static shoal_log_tap_fn *s_tap;
static void *s_scope;

void
shoal_log_set_tap(shoal_log_tap_fn *tap)
{
    s_tap = tap;
}

void *
shoal_log_scope(void *scope)
{
    void *previous = s_scope;
    s_scope = scope;
    return previous;
}

void
shoal_log_set_name(const char *name)
{
    snprintf(s_name, sizeof(s_name), "shoal[%s]", name);
}

void
shoal_log_set_verbose(int verbose)
{
    s_verbose = verbose;
}

int
shoal_log_verbose(void)
{
    return s_verbose;
}

static void s_vlog(const char *format, va_list args) __attribute__((format(printf, 1, 0)));

static void
s_vlog(const char *format, va_list args)
{
    char text[1024], line[1200];
    vsnprintf(text, sizeof(text), format, args);
    snprintf(line, sizeof(line), "%s: %s", s_name, text);
    fprintf(stderr, "%s\n", line);
    if (s_tap && s_scope)
        s_tap(s_scope, line);
}

void
shoal_log_info(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    s_vlog(format, args);
    va_end(args);
}

void
shoal_log_debug(const char *format, ...)
{
    if (!s_verbose)
        return;
    va_list args;
    va_start(args, format);
    s_vlog(format, args);
    va_end(args);
}
