/* node/identity.c: Ed25519 identities and accept lists (see identity.h).
 * Both files are read with the same rules: "\n" or "\r\n" ends a line, a line
 * longer than S_LINE_MAX bytes is refused, and a key line is
 * "PREFIX BASE64 [COMMENT]" where the comment is the rest of the line, cleaned
 * as a generated one is. Every buffer that held a secret key (a line, its
 * base64, a derived key) is zeroed before it goes. An accept list is replaced
 * whole or not at all, so a daemon never judges an offer by half a list.
 */
#include "node/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define S_LINE_MAX 4096
#define S_IDENTITY_PREFIX "shoal-identity-v1"
#define S_PUBLIC_PREFIX "ed25519"
#define S_HASH_HEX 16 /* digits of the key's hash in its name */

_Static_assert(SHOAL_IDENTITY_PUBLIC_BYTES == crypto_sign_PUBLICKEYBYTES,
               "public key size disagrees with libsodium");
_Static_assert(SHOAL_IDENTITY_SECRET_BYTES == crypto_sign_SECRETKEYBYTES,
               "secret key size disagrees with libsodium");
_Static_assert(SHOAL_IDENTITY_SIGNATURE_BYTES == crypto_sign_BYTES,
               "signature size disagrees with libsodium");

/* One key of an accept list. */
typedef struct {
    uint8_t public_key[SHOAL_IDENTITY_PUBLIC_BYTES];
    char comment[SHOAL_IDENTITY_COMMENT_MAX + 1];
} s_accepted_t;

struct shoal_accept {
    char *path;
    s_accepted_t *keys;
    size_t count;
    /* The file as last read: a change of any of these means read it again. */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
};

/* ---- lines and comments */

/* Copies text into out without surrounding blanks, cut at
 * SHOAL_IDENTITY_COMMENT_MAX bytes, with every byte that is not printable
 * ASCII made '_', so a comment always fits on its line. */
static void
s_clean_comment(char out[SHOAL_IDENTITY_COMMENT_MAX + 1], const char *text)
{
    text += strspn(text, " \t");
    size_t len = 0;
    for (; len < SHOAL_IDENTITY_COMMENT_MAX && text[len]; len++)
        out[len] = text[len] >= 0x20 && text[len] < 0x7f ? text[len] : '_';
    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t'))
        len--;
    out[len] = '\0';
}

/* Reads one line of f into line (S_LINE_MAX + 2 bytes) without its "\n" or
 * "\r\n". 1, 0 at the end of the file, or -1 with the reason in err. */
static int
s_read_line(FILE *f, char *line, const char *path, size_t line_no, char *err, size_t err_size)
{
    size_t len = 0;
    bool cut = false;
    int c = 0;
    while (!cut && (c = getc(f)) != EOF && c != '\n') {
        cut = len == S_LINE_MAX + 1; /* the room for a '\r' is used up too */
        if (!cut)
            line[len++] = (char)c;
    }
    if (ferror(f)) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (c == EOF && len == 0)
        return 0;
    if (len > 0 && line[len - 1] == '\r')
        len--;
    if (cut || len > S_LINE_MAX) {
        snprintf(err, err_size, "%s:%zu: line longer than %d bytes", path, line_no, S_LINE_MAX);
        return -1;
    }
    if (memchr(line, '\0', len)) {
        snprintf(err, err_size, "%s:%zu: a NUL byte in the line", path, line_no);
        return -1;
    }
    line[len] = '\0';
    return 1;
}

/* Reads "PREFIX BASE64 [COMMENT]" from line: the key into key[key_size] and
 * the cleaned comment into comment. 0, or -1 with what is wrong in why. */
static int
s_parse_key_line(const char *line, const char *prefix, uint8_t *key, size_t key_size,
                 char comment[SHOAL_IDENTITY_COMMENT_MAX + 1], char *why, size_t why_size)
{
    const char *p = line + strspn(line, " \t");
    size_t prefix_len = strlen(prefix);
    if (strncmp(p, prefix, prefix_len) != 0 || (p[prefix_len] != ' ' && p[prefix_len] != '\t')) {
        snprintf(why, why_size, "not \"%s BASE64 [COMMENT]\"", prefix);
        return -1;
    }
    const char *text = p + prefix_len + strspn(p + prefix_len, " \t");
    size_t text_len = strcspn(text, " \t"), bin_len = 0;
    const char *end = NULL;
    if (sodium_base642bin(key, key_size, text, text_len, NULL, &bin_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        bin_len != key_size || end != text + text_len) {
        sodium_memzero(key, key_size);
        snprintf(why, why_size, "not a %zu-byte key in base64 after \"%s\"", key_size, prefix);
        return -1;
    }
    s_clean_comment(comment, text + text_len);
    return 0;
}

/* "PREFIX BASE64 COMMENT" (no comment: no trailing space) of key[key_size]. */
static void
s_format_key_line(char *out, size_t out_size, const char *prefix, const uint8_t *key,
                  size_t key_size, const char *comment)
{
    char base64[sodium_base64_ENCODED_LEN(SHOAL_IDENTITY_SECRET_BYTES,
                                          sodium_base64_VARIANT_ORIGINAL)];
    char clean[SHOAL_IDENTITY_COMMENT_MAX + 1];
    sodium_bin2base64(base64, sizeof(base64), key, key_size, sodium_base64_VARIANT_ORIGINAL);
    s_clean_comment(clean, comment);
    snprintf(out, out_size, "%s %s%s%s", prefix, base64, clean[0] ? " " : "", clean);
    sodium_memzero(base64, sizeof(base64));
}

/* ---- the identity */

/* "user@host" of this process, for a key without a comment. */
static void
s_user_at_host(char *out, size_t out_size)
{
    const struct passwd *pw = getpwuid(getuid());
    const char *user = pw ? pw->pw_name : getenv("USER");
    char host[HOST_NAME_MAX + 1];
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    snprintf(out, out_size, "%s@%s", user && *user ? user : "shoal", host);
}

int
shoal_identity_generate(shoal_identity_t *out, const char *comment)
{
    memset(out, 0, sizeof(*out));
    if (sodium_init() < 0)
        return -1;
    crypto_sign_keypair(out->public_key, out->secret_key);
    char fallback[SHOAL_IDENTITY_COMMENT_MAX + 1];
    if (!comment || !*comment) {
        s_user_at_host(fallback, sizeof(fallback));
        comment = fallback;
    }
    s_clean_comment(out->comment, comment);
    return 0;
}

/* Creates the directories above path that are missing, mode 0700. */
static int
s_make_parents(const char *path, char *err, size_t err_size)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
        snprintf(err, err_size, "%.64s...: path too long", path);
        return -1;
    }
    char *last = strrchr(dir, '/');
    if (!last || last == dir)
        return 0;
    *last = '\0';
    /* From the root down; an existing directory (or a file, which open()
     * then names) is passed by. */
    for (char *slash = strchr(dir + 1, '/');; slash = strchr(slash + 1, '/')) {
        if (slash)
            *slash = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, err_size, "cannot create directory %s: %s", dir, strerror(errno));
            return -1;
        }
        if (!slash)
            return 0;
        *slash = '/';
    }
}

int
shoal_identity_save(const shoal_identity_t *self, const char *path, char *err, size_t err_size)
{
    if (s_make_parents(path, err, err_size) != 0)
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            snprintf(err, err_size, "%s exists; not overwriting an identity", path);
        else
            snprintf(err, err_size, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    char line[S_LINE_MAX + 2];
    s_format_key_line(line, sizeof(line) - 1, S_IDENTITY_PREFIX, self->secret_key,
                      sizeof(self->secret_key), self->comment);
    strcat(line, "\n");
    /* fchmod: the umask must not make the file wider or narrower than 0600.
     * One write: a short one to a regular file means the disk is full. */
    size_t len = strlen(line);
    errno = ENOSPC;
    int rc =
        fchmod(fd, 0600) == 0 && write(fd, line, len) == (ssize_t)len && fsync(fd) == 0 ? 0 : -1;
    int saved = errno;
    sodium_memzero(line, sizeof(line));
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0) {
        unlink(path);
        snprintf(err, err_size, "cannot write %s: %s", path, strerror(saved));
    }
    return rc;
}

/* Whether secret_key's public half is the one its seed makes: a damaged or
 * edited file must not sign as someone else. */
static bool
s_secret_is_whole(const uint8_t secret_key[SHOAL_IDENTITY_SECRET_BYTES])
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    uint8_t public_key[SHOAL_IDENTITY_PUBLIC_BYTES], stored[SHOAL_IDENTITY_PUBLIC_BYTES];
    uint8_t again[SHOAL_IDENTITY_SECRET_BYTES];
    crypto_sign_ed25519_sk_to_seed(seed, secret_key);
    crypto_sign_seed_keypair(public_key, again, seed);
    crypto_sign_ed25519_sk_to_pk(stored, secret_key);
    bool whole = sodium_memcmp(public_key, stored, sizeof(stored)) == 0;
    sodium_memzero(seed, sizeof(seed));
    sodium_memzero(again, sizeof(again));
    return whole;
}

/* Reads the identity from the open file f at path into out. */
static int
s_identity_read(FILE *f, const char *path, shoal_identity_t *out, char *err, size_t err_size)
{
    char line[S_LINE_MAX + 2], why[128] = "";
    int got = s_read_line(f, line, path, 1, err, err_size);
    if (got == 0)
        snprintf(why, sizeof(why), "empty, not \"%s BASE64 [COMMENT]\"", S_IDENTITY_PREFIX);
    else if (got == 1 &&
             s_parse_key_line(line, S_IDENTITY_PREFIX, out->secret_key, sizeof(out->secret_key),
                              out->comment, why, sizeof(why)) == 0) {
        if (!s_secret_is_whole(out->secret_key))
            snprintf(why, sizeof(why), "the secret key's public half does not match it");
        crypto_sign_ed25519_sk_to_pk(out->public_key, out->secret_key);
    }
    for (size_t line_no = 2; got == 1 && !why[0]; line_no++) {
        got = s_read_line(f, line, path, line_no, err, err_size);
        if (got == 1 && line[strspn(line, " \t")] != '\0')
            snprintf(why, sizeof(why), "more than one line");
    }
    sodium_memzero(line, sizeof(line));
    if (why[0])
        snprintf(err, err_size, "%s: %s", path, why);
    return why[0] || got < 0 ? -1 : 0;
}

int
shoal_identity_load(const char *path, shoal_identity_t *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof(*out));
    if (sodium_init() < 0) {
        snprintf(err, err_size, "cannot initialise libsodium");
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    FILE *f = NULL;
    int rc = -1;
    if (fd < 0 || fstat(fd, &st) != 0)
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        snprintf(err, err_size, "%s: not a regular file", path);
    else if (st.st_mode & 077)
        snprintf(err, err_size, "%s: a secret key that group or others may read: chmod 600 %s",
                 path, path);
    else if (!(f = fdopen(fd, "r")))
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
    else {
        fd = -1; /* f owns it */
        /* Our own buffer, so that the copy stdio keeps of the secret is zeroed. */
        char buffer[BUFSIZ];
        setvbuf(f, buffer, _IOFBF, sizeof(buffer));
        rc = s_identity_read(f, path, out, err, err_size);
        fclose(f);
        sodium_memzero(buffer, sizeof(buffer));
    }
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        sodium_memzero(out, sizeof(*out));
    return rc;
}

void
shoal_identity_default_path(char *out, size_t out_size)
{
    const char *config = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n = 0;
    if (config && config[0] == '/')
        n = snprintf(out, out_size, "%s/shoal/identity", config);
    else if (home && *home)
        n = snprintf(out, out_size, "%s/.config/shoal/identity", home);
    else if (out_size > 0)
        out[0] = '\0';
    if ((n < 0 || (size_t)n >= out_size) && out_size > 0)
        out[0] = '\0'; /* a cut path would name another file */
}

void
shoal_identity_public_line(const shoal_identity_t *self, char *out, size_t out_size)
{
    s_format_key_line(out, out_size, S_PUBLIC_PREFIX, self->public_key, sizeof(self->public_key),
                      self->comment);
}

void
shoal_identity_name(const uint8_t public_key[SHOAL_IDENTITY_PUBLIC_BYTES], const char *comment,
                    char *out, size_t out_size)
{
    uint8_t digest[crypto_generichash_BYTES];
    char hex[S_HASH_HEX + 1];
    crypto_generichash(digest, sizeof(digest), public_key, SHOAL_IDENTITY_PUBLIC_BYTES, NULL, 0);
    sodium_bin2hex(hex, sizeof(hex), digest, S_HASH_HEX / 2);
    if (!comment || !*comment) {
        snprintf(out, out_size, "ed25519:%s", hex);
        return;
    }
    /* Cut the comment rather than the closing parenthesis. */
    size_t fixed = strlen("ed25519: ()") + S_HASH_HEX + 1;
    int room = out_size > fixed ? (int)(out_size - fixed) : 0;
    snprintf(out, out_size, "ed25519:%s (%.*s)", hex, room, comment);
}

void
shoal_identity_sign(const shoal_identity_t *self, const uint8_t *msg, size_t len,
                    uint8_t sig[SHOAL_IDENTITY_SIGNATURE_BYTES])
{
    crypto_sign_detached(sig, NULL, msg, len, self->secret_key);
}

int
shoal_identity_verify(const uint8_t public_key[SHOAL_IDENTITY_PUBLIC_BYTES], const uint8_t *msg,
                      size_t len, const uint8_t sig[SHOAL_IDENTITY_SIGNATURE_BYTES])
{
    if (sodium_init() < 0)
        return -1;
    return crypto_sign_verify_detached(sig, msg, len, public_key) == 0 ? 0 : -1;
}

/* ---- the accept list */

/* Reads the list at path into a new *keys_p[*count_p] and the file's status
 * at the time into *st. 0, or -1 with the reason in err. */
static int
s_accept_read(const char *path, s_accepted_t **keys_p, size_t *count_p, struct stat *st, char *err,
              size_t err_size)
{
    FILE *f = fopen(path, "re");
    if (!f || fstat(fileno(f), st) != 0) {
        snprintf(err, err_size, "%s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    s_accepted_t *keys = NULL;
    size_t count = 0, cap = 0, line_no = 0;
    char line[S_LINE_MAX + 2];
    int got = S_ISREG(st->st_mode) ? 1 : -1;
    if (got < 0)
        snprintf(err, err_size, "%s: not a regular file", path);
    while (got == 1 && (got = s_read_line(f, line, path, ++line_no, err, err_size)) == 1) {
        const char *text = line + strspn(line, " \t");
        char why[128];
        if (*text == '\0' || *text == '#')
            continue;
        if (count == SHOAL_ACCEPT_MAX) {
            snprintf(err, err_size, "%s:%zu: more than %d keys", path, line_no, SHOAL_ACCEPT_MAX);
            got = -1;
            break;
        }
        if (count == cap) {
            size_t more = cap ? 2 * cap : 16;
            s_accepted_t *grown = realloc(keys, more * sizeof(*keys));
            if (!grown) {
                snprintf(err, err_size, "%s: out of memory", path);
                got = -1;
                break;
            }
            keys = grown;
            cap = more;
        }
        if (s_parse_key_line(text, S_PUBLIC_PREFIX, keys[count].public_key,
                             sizeof(keys[count].public_key), keys[count].comment, why,
                             sizeof(why)) != 0) {
            snprintf(err, err_size, "%s:%zu: %s", path, line_no, why);
            got = -1;
        } else
            count++;
    }
    fclose(f);
    if (got < 0) {
        free(keys);
        return -1;
    }
    *keys_p = keys;
    *count_p = count;
    return 0;
}

static void
s_accept_remember(shoal_accept_t *self, const struct stat *st)
{
    self->dev = st->st_dev;
    self->ino = st->st_ino;
    self->size = st->st_size;
    self->mtime = st->st_mtim;
}

shoal_accept_t *
shoal_accept_load(const char *path, char *err, size_t err_size)
{
    if (sodium_init() < 0) {
        snprintf(err, err_size, "cannot initialise libsodium");
        return NULL;
    }
    shoal_accept_t *self = calloc(1, sizeof(*self));
    if (!self || !(self->path = strdup(path))) {
        snprintf(err, err_size, "%s: out of memory", path);
        free(self);
        return NULL;
    }
    struct stat st;
    if (s_accept_read(path, &self->keys, &self->count, &st, err, err_size) != 0) {
        shoal_accept_destroy(&self);
        return NULL;
    }
    s_accept_remember(self, &st);
    return self;
}

void
shoal_accept_destroy(shoal_accept_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->keys);
    free((*self_p)->path);
    free(*self_p);
    *self_p = NULL;
}

int
shoal_accept_refresh(shoal_accept_t *self, char *err, size_t err_size)
{
    struct stat st;
    if (stat(self->path, &st) == 0 && st.st_dev == self->dev && st.st_ino == self->ino &&
        st.st_size == self->size && st.st_mtim.tv_sec == self->mtime.tv_sec &&
        st.st_mtim.tv_nsec == self->mtime.tv_nsec)
        return 0;
    s_accepted_t *keys = NULL;
    size_t count = 0;
    if (s_accept_read(self->path, &keys, &count, &st, err, err_size) != 0)
        return -1;
    free(self->keys);
    self->keys = keys;
    self->count = count;
    s_accept_remember(self, &st);
    return 0;
}

bool
shoal_accept_allows(const shoal_accept_t *self,
                    const uint8_t public_key[SHOAL_IDENTITY_PUBLIC_BYTES], const char **comment)
{
    for (size_t i = 0; i < self->count; i++)
        if (memcmp(self->keys[i].public_key, public_key, SHOAL_IDENTITY_PUBLIC_BYTES) == 0) {
            if (comment)
                *comment = self->keys[i].comment;
            return true;
        }
    return false;
}

size_t
shoal_accept_count(const shoal_accept_t *self)
{
    return self->count;
}
