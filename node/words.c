/* node/words.c: sh-style word splitting without a shell (see words.h).
 *
 * One pass over the text, one word growing at a time. Each character is read
 * in one of three contexts, as sh reads it: outside quotes (s_plain), inside
 * '...' (s_single) or inside "..." (s_double). A word ends at a blank outside
 * quotes or at the end of the text; quotes only change how characters are
 * read, so 'a'"b"c is the one word abc. Nothing is ever expanded: what sh
 * would expand is refused instead.
 */
#include "node/words.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *text; /* the whole text, for positions in messages */
    char **words;     /* NULL-terminated */
    size_t count, cap;
    char *word; /* the word being read */
    size_t len, word_cap;
    bool in_word; /* a word has begun, though it may still be empty ('') */
    char *err;
    size_t err_size;
} s_split_t;

void
shoal_words_free(char ***words_p)
{
    if (!words_p || !*words_p)
        return;
    for (char **w = *words_p; *w; w++)
        free(*w);
    free(*words_p);
    *words_p = NULL;
}

static int s_fail(s_split_t *self, const char *format, ...) __attribute__((format(printf, 2, 3)));

static int
s_fail(s_split_t *self, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(self->err, self->err_size, format, args);
    va_end(args);
    return -1;
}

/* The 1-based position of p in the text, for messages. */
static size_t
s_at(const s_split_t *self, const char *p)
{
    return (size_t)(p - self->text) + 1;
}

static int
s_refuse(s_split_t *self, const char *p, const char *what)
{
    return s_fail(self, "%s at character %zu: shell syntax is not supported; quote it", what,
                  s_at(self, p));
}

static int
s_oom(s_split_t *self)
{
    snprintf(self->err, self->err_size, "out of memory");
    return -1;
}

static int
s_add_char(s_split_t *self, char c)
{
    if (self->len + 2 > self->word_cap) {
        size_t cap = self->word_cap ? self->word_cap * 2 : 64;
        char *grown = realloc(self->word, cap);
        if (!grown)
            return s_oom(self);
        self->word = grown;
        self->word_cap = cap;
    }
    self->word[self->len++] = c;
    self->word[self->len] = '\0';
    self->in_word = true;
    return 0;
}

static int
s_end_word(s_split_t *self)
{
    if (!self->in_word)
        return 0;
    if (self->count + 2 > self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        char **grown = realloc(self->words, cap * sizeof(*grown));
        if (!grown)
            return s_oom(self);
        self->words = grown;
        self->cap = cap;
    }
    char *word = strdup(self->len ? self->word : "");
    if (!word)
        return s_oom(self);
    self->words[self->count++] = word;
    self->words[self->count] = NULL;
    self->len = 0;
    self->in_word = false;
    return 0;
}

/* Does the $ at p start an expansion? ($name, ${...}, $(...), $1, $@, ...) */
static bool
s_expansion(const char *p)
{
    char c = p[1];
    return c == '{' || c == '(' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("@*#?$!-", c));
}

/* NAME= at p: sh would take the first word as a variable assignment. */
static bool
s_assignment(const char *p)
{
    if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
        return false;
    while (*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
           (*p >= '0' && *p <= '9'))
        p++;
    return *p == '=';
}

/* '...' starting at *p: everything up to the next quote, as it is. */
static int
s_single(s_split_t *self, const char **p)
{
    const char *open = *p, *close = strchr(open + 1, '\'');
    if (!close)
        return s_fail(self, "unterminated single quote (opened at character %zu)",
                      s_at(self, open));
    self->in_word = true;
    for (const char *c = open + 1; c < close; c++)
        if (s_add_char(self, *c) != 0)
            return -1;
    *p = close + 1;
    return 0;
}

/* "..." starting at *p: a backslash escapes only $ ` " and \. */
static int
s_double(s_split_t *self, const char **p)
{
    const char *open = *p, *c = open + 1;
    self->in_word = true;
    for (; *c && *c != '"'; c++) {
        if (*c == '\\' && c[1] && strchr("$`\"\\", c[1]))
            c++;
        else if (*c == '`')
            return s_refuse(self, c, "'`'");
        else if (*c == '$' && s_expansion(c))
            return s_refuse(self, c, c[1] == '(' ? "'$('" : "'$'");
        if (s_add_char(self, *c) != 0)
            return -1;
    }
    if (!*c)
        return s_fail(self, "unterminated double quote (opened at character %zu)",
                      s_at(self, open));
    *p = c + 1;
    return 0;
}

/* One unquoted character (or a backslash and the character it escapes). */
static int
s_plain(s_split_t *self, const char **p)
{
    const char *c = *p;
    bool starts_word = !self->in_word;
    if (*c == '\\') {
        if (!c[1])
            return s_fail(self, "a backslash at character %zu ends the command: nothing to escape",
                          s_at(self, c));
        *p = c + 2;
        return s_add_char(self, c[1]);
    }
    if (*c == '$' && s_expansion(c))
        return s_refuse(self, c, c[1] == '(' ? "'$('" : "'$'");
    if (strchr("|;&<>()*?`", *c)) {
        char what[4] = {'\'', *c, '\'', '\0'};
        return s_refuse(self, c, what);
    }
    if (starts_word && (*c == '#' || *c == '~'))
        return s_refuse(self, c, *c == '#' ? "'#'" : "'~'");
    if (starts_word && self->count == 0 && s_assignment(c))
        return s_fail(self,
                      "'%.*s' at character %zu: a variable assignment is not supported; "
                      "run the command with env %.*s...",
                      (int)(strchr(c, '=') - c + 1), c, s_at(self, c),
                      (int)(strchr(c, '=') - c + 1), c);
    *p = c + 1;
    return s_add_char(self, *c);
}

int
shoal_words_split(const char *text, char ***words_out, char *err, size_t err_size)
{
    s_split_t self = {.text = text, .err = err, .err_size = err_size};
    *words_out = NULL;
    int rc = 0;
    const char *p = text;
    while (rc == 0 && *p) {
        if (*p == ' ' || *p == '\t') {
            rc = s_end_word(&self);
            p++;
        } else if (*p == '\'') {
            rc = s_single(&self, &p);
        } else if (*p == '"') {
            rc = s_double(&self, &p);
        } else {
            rc = s_plain(&self, &p);
        }
    }
    if (rc == 0)
        rc = s_end_word(&self);
    if (rc == 0 && !self.words) {
        self.words = calloc(1, sizeof(char *));
        if (!self.words)
            rc = s_oom(&self);
    }
    free(self.word);
    if (rc != 0) {
        shoal_words_free(&self.words);
        return -1;
    }
    *words_out = self.words;
    return 0;
}
