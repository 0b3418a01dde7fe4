/* Logging (see log.h). The name is set once at start-up. */
#include "node/log.h"

#include <stdarg.h>
#include <stdio.h>

static char s_name[80] = "shoal";
static int s_verbose;

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
    char line[1024];
    vsnprintf(line, sizeof(line), format, args);
    fprintf(stderr, "%s: %s\n", s_name, line);
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
