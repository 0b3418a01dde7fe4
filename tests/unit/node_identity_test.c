/* Identities and accept lists: an identity survives save and load, a secret
 * others may read or a damaged one is refused, an existing file is never
 * overwritten, signatures hold only for the signed bytes and the signing
 * key; an accept list names its keys with their comments, names a bad line by
 * number, and a refresh picks up an added key but keeps the list in use when
 * the file turns bad. `shoal keygen --identity/--public` end to end.
 */
#include "harness.h"
#include "node/commands.h"
#include "node/identity.h"
#include "scratch.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static char s_dir[64];

static void
s_scratch(void)
{
    snprintf(s_dir, sizeof(s_dir), "/tmp/shoal-identity-XXXXXX");
    CHECK(mkdtemp(s_dir) != NULL);
}

static const char *
s_path(const char *name)
{
    static char path[4][128];
    static int next;
    char *out = path[next++ % 4];
    snprintf(out, sizeof(path[0]), "%s/%s", s_dir, name);
    return out;
}

static void
s_generate(shoal_identity_t *identity, const char *comment)
{
    CHECK_INT(shoal_identity_generate(identity, comment), ==, 0);
}

/* The base64 of key[size]. */
static const char *
s_base64(const uint8_t *key, size_t size)
{
    static char out[128];
    sodium_bin2base64(out, sizeof(out), key, size, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

/* Writes an identity file by hand, as a damaged or edited one would be. */
static void
s_write_identity(const char *name, const uint8_t secret_key[SHOAL_IDENTITY_SECRET_BYTES],
                 const char *ending)
{
    char text[256];
    snprintf(text, sizeof(text), "shoal-identity-v1 %s some comment%s",
             s_base64(secret_key, SHOAL_IDENTITY_SECRET_BYTES), ending);
    scratch_write(s_dir, name, text);
    CHECK_INT(chmod(s_path(name), 0600), ==, 0);
}

static int
s_load(const char *name, shoal_identity_t *out, char *err, size_t err_size)
{
    err[0] = '\0';
    return shoal_identity_load(s_path(name), out, err, err_size);
}

void
test_node_identity_roundtrip(void)
{
    s_scratch();
    shoal_identity_t made, read;
    s_generate(&made, "  Jane Doe (laptop)\t");
    CHECK_STR(made.comment, "Jane Doe (laptop)");
    char err[512] = "";
    CHECK_INT(shoal_identity_save(&made, s_path("new/dir/identity"), err, sizeof(err)), ==, 0);
    struct stat st;
    CHECK_INT(stat(s_path("new/dir/identity"), &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0600);
    CHECK_INT(stat(s_path("new/dir"), &st), ==, 0);
    CHECK_INT(st.st_mode & 0777, ==, 0700);
    CHECK_INT(s_load("new/dir/identity", &read, err, sizeof(err)), ==, 0);
    CHECK(memcmp(read.public_key, made.public_key, sizeof(made.public_key)) == 0);
    CHECK(memcmp(read.secret_key, made.secret_key, sizeof(made.secret_key)) == 0);
    CHECK_STR(read.comment, "Jane Doe (laptop)");

    char line[512], want[512];
    shoal_identity_public_line(&read, line, sizeof(line));
    snprintf(want, sizeof(want), "ed25519 %s Jane Doe (laptop)",
             s_base64(made.public_key, sizeof(made.public_key)));
    CHECK_STR(line, want);

    /* A file written by hand with "\r\n" line ends reads back. */
    s_write_identity("crlf", made.secret_key, "\r\n");
    CHECK_INT(s_load("crlf", &read, err, sizeof(err)), ==, 0);
    CHECK(memcmp(read.public_key, made.public_key, sizeof(made.public_key)) == 0);
    CHECK_STR(read.comment, "some comment");

    /* Without a comment: user@host; a control byte cannot break the line. */
    s_generate(&made, NULL);
    CHECK(strchr(made.comment, '@') != NULL);
    s_generate(&made, "two\nlines");
    CHECK_STR(made.comment, "two_lines");
    scratch_remove_tree(s_dir);
}

void
test_node_identity_load_refuses_a_file_others_may_read(void)
{
    s_scratch();
    shoal_identity_t made, read;
    s_generate(&made, "me");
    char err[512];
    CHECK_INT(shoal_identity_save(&made, s_path("identity"), err, sizeof(err)), ==, 0);
    CHECK_INT(chmod(s_path("identity"), 0644), ==, 0);
    CHECK_INT(s_load("identity", &read, err, sizeof(err)), ==, -1);
    char want[256];
    snprintf(want, sizeof(want), "chmod 600 %s", s_path("identity"));
    CHECK(strstr(err, want) != NULL);
    CHECK_INT(chmod(s_path("identity"), 0640), ==, 0);
    CHECK_INT(s_load("identity", &read, err, sizeof(err)), ==, -1);
    CHECK_INT(chmod(s_path("identity"), 0400), ==, 0);
    CHECK_INT(s_load("identity", &read, err, sizeof(err)), ==, 0);
    scratch_remove_tree(s_dir);
}

void
test_node_identity_load_refuses_an_altered_public_half(void)
{
    s_scratch();
    shoal_identity_t made, read;
    s_generate(&made, "me");
    s_write_identity("whole", made.secret_key, "\n");
    char err[512];
    CHECK_INT(s_load("whole", &read, err, sizeof(err)), ==, 0);
    made.secret_key[SHOAL_IDENTITY_SECRET_BYTES - 1] ^= 1;
    s_write_identity("altered", made.secret_key, "\n");
    CHECK_INT(s_load("altered", &read, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "public half") != NULL);
    CHECK(strstr(err, s_path("altered")) != NULL);

    /* Nor anything that is not one identity line. */
    const char *bad[] = {"", "shoal-identity-v1\n", "ed25519 AAAA\n", "shoal-identity-v1 AAAA x\n",
                         "shoal-identity-v1 not*base64\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        scratch_write(s_dir, "bad", bad[i]);
        CHECK_INT(chmod(s_path("bad"), 0600), ==, 0);
        err[0] = '\0';
        CHECK_INT(s_load("bad", &read, err, sizeof(err)), ==, -1);
        CHECK(strstr(err, s_path("bad")) != NULL);
    }
    made.secret_key[SHOAL_IDENTITY_SECRET_BYTES - 1] ^= 1;
    s_write_identity("two", made.secret_key, "\nsecond line\n");
    CHECK_INT(s_load("two", &read, err, sizeof(err)), ==, -1);
    CHECK_INT(s_load("missing", &read, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, s_path("missing")) != NULL);
    scratch_remove_tree(s_dir);
}

void
test_node_identity_save_refuses_an_existing_file(void)
{
    s_scratch();
    shoal_identity_t first, second, read;
    s_generate(&first, "first");
    s_generate(&second, "second");
    char err[512] = "";
    CHECK_INT(shoal_identity_save(&first, s_path("identity"), err, sizeof(err)), ==, 0);
    CHECK_INT(shoal_identity_save(&second, s_path("identity"), err, sizeof(err)), ==, -1);
    CHECK(strstr(err, s_path("identity")) != NULL);
    CHECK(strstr(err, "exists") != NULL);
    CHECK_INT(s_load("identity", &read, err, sizeof(err)), ==, 0);
    CHECK(memcmp(read.secret_key, first.secret_key, sizeof(first.secret_key)) == 0);
    scratch_remove_tree(s_dir);
}

void
test_node_identity_verify_holds_for_the_signed_bytes_and_key_only(void)
{
    shoal_identity_t me, other;
    s_generate(&me, "me");
    s_generate(&other, "other");
    uint8_t msg[] = "run session 42 of tree abc";
    uint8_t sig[SHOAL_IDENTITY_SIGNATURE_BYTES];
    shoal_identity_sign(&me, msg, sizeof(msg), sig);
    CHECK_INT(shoal_identity_verify(me.public_key, msg, sizeof(msg), sig), ==, 0);
    msg[4] ^= 1;
    CHECK_INT(shoal_identity_verify(me.public_key, msg, sizeof(msg), sig), ==, -1);
    msg[4] ^= 1;
    sig[10] ^= 0x80;
    CHECK_INT(shoal_identity_verify(me.public_key, msg, sizeof(msg), sig), ==, -1);
    sig[10] ^= 0x80;
    CHECK_INT(shoal_identity_verify(other.public_key, msg, sizeof(msg), sig), ==, -1);
    CHECK_INT(shoal_identity_verify(me.public_key, msg, sizeof(msg) - 1, sig), ==, -1);
    CHECK_INT(shoal_identity_verify(me.public_key, msg, sizeof(msg), sig), ==, 0);
}

void
test_node_identity_name_is_short_and_keeps_its_parenthesis(void)
{
    shoal_identity_t me;
    s_generate(&me, "me");
    char name[SHOAL_IDENTITY_NAME_MAX + 1], plain[SHOAL_IDENTITY_NAME_MAX + 1];
    shoal_identity_name(me.public_key, NULL, plain, sizeof(plain));
    CHECK_INT(strlen(plain), ==, strlen("ed25519:") + 16);
    CHECK(strncmp(plain, "ed25519:", 8) == 0);
    CHECK_INT(strspn(plain + 8, "0123456789abcdef"), ==, 16);
    shoal_identity_name(me.public_key, "Jane", name, sizeof(name));
    char want[SHOAL_IDENTITY_NAME_MAX + 16];
    snprintf(want, sizeof(want), "%s (Jane)", plain);
    CHECK_STR(name, want);

    char longest[SHOAL_IDENTITY_COMMENT_MAX + 1];
    memset(longest, 'x', SHOAL_IDENTITY_COMMENT_MAX);
    longest[SHOAL_IDENTITY_COMMENT_MAX] = '\0';
    shoal_identity_name(me.public_key, longest, name, sizeof(name));
    CHECK_INT(strlen(name), ==, SHOAL_IDENTITY_NAME_MAX);
    CHECK(name[strlen(name) - 1] == ')');

    shoal_identity_t other;
    s_generate(&other, "me");
    shoal_identity_name(other.public_key, NULL, name, sizeof(name));
    CHECK(strcmp(name, plain) != 0);
}

/* An accept-list line for identity, as keygen prints it. */
static const char *
s_accept_line(const shoal_identity_t *identity)
{
    static char line[4][512];
    static int next;
    char *out = line[next++ % 4];
    shoal_identity_public_line(identity, out, sizeof(line[0]));
    return out;
}

static shoal_accept_t *
s_accept_load(const char *name)
{
    char err[512] = "";
    shoal_accept_t *list = shoal_accept_load(s_path(name), err, sizeof(err));
    if (!list)
        fprintf(stderr, "%s\n", err);
    CHECK(list != NULL);
    return list;
}

void
test_node_identity_accept_allows_listed_keys_with_their_comments(void)
{
    s_scratch();
    shoal_identity_t jane, bob, eve;
    s_generate(&jane, "Jane Doe (laptop)");
    s_generate(&bob, "bob");
    s_generate(&eve, "eve");
    char text[2048];
    snprintf(text, sizeof(text),
             "# who may ship sessions here\r\n"
             "\r\n"
             "%s\r\n"
             "   # an indented comment\n"
             "\t\n"
             "ed25519 %s\n",
             s_accept_line(&jane), s_base64(bob.public_key, sizeof(bob.public_key)));
    scratch_write(s_dir, "accept", text);
    shoal_accept_t *list = s_accept_load("accept");
    CHECK_INT(shoal_accept_count(list), ==, 2);
    const char *comment = NULL;
    CHECK(shoal_accept_allows(list, jane.public_key, &comment));
    CHECK_STR(comment, "Jane Doe (laptop)");
    CHECK(shoal_accept_allows(list, bob.public_key, &comment));
    CHECK_STR(comment, "");
    CHECK(shoal_accept_allows(list, bob.public_key, NULL));
    CHECK(!shoal_accept_allows(list, eve.public_key, &comment));
    shoal_accept_destroy(&list);
    shoal_accept_destroy(&list);
    CHECK(list == NULL);
    scratch_remove_tree(s_dir);
}

void
test_node_identity_accept_empty_list_allows_nobody(void)
{
    s_scratch();
    shoal_identity_t jane;
    s_generate(&jane, "jane");
    scratch_write(s_dir, "empty", "");
    scratch_write(s_dir, "comments", "# nobody yet\n\n# ed25519 not-a-key\n");
    shoal_accept_t *empty = s_accept_load("empty");
    shoal_accept_t *comments = s_accept_load("comments");
    CHECK_INT(shoal_accept_count(empty), ==, 0);
    CHECK_INT(shoal_accept_count(comments), ==, 0);
    CHECK(!shoal_accept_allows(empty, jane.public_key, NULL));
    CHECK(!shoal_accept_allows(comments, jane.public_key, NULL));
    shoal_accept_destroy(&empty);
    shoal_accept_destroy(&comments);
    scratch_remove_tree(s_dir);
}

/* Loading name must fail with an error that contains want. */
static void
s_accept_refused(const char *name, const char *want)
{
    char err[512] = "";
    shoal_accept_t *list = shoal_accept_load(s_path(name), err, sizeof(err));
    if (list || !strstr(err, want))
        fprintf(stderr, "want \"%s\" in \"%s\"\n", want, err);
    CHECK(list == NULL);
    CHECK(strstr(err, want) != NULL);
}

void
test_node_identity_accept_names_a_malformed_line(void)
{
    s_scratch();
    shoal_identity_t jane;
    s_generate(&jane, "jane");
    char text[1024], want[256];
    const char *bad[] = {
        "ssh-ed25519 AAAA jane", "ed25519", "ed25519 notbase64! x",
        "ed25519 AAAA short key", /* base64, but not 32 bytes */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "# list\n%s\n%s\n", s_accept_line(&jane), bad[i]);
        scratch_write(s_dir, "accept", text);
        snprintf(want, sizeof(want), "%s:3: ", s_path("accept"));
        s_accept_refused("accept", want);
    }
    s_accept_refused("missing", s_path("missing"));
    scratch_remove_tree(s_dir);
}

void
test_node_identity_accept_caps_line_length_and_key_count(void)
{
    s_scratch();
    shoal_identity_t jane;
    s_generate(&jane, "jane");
    /* A comment line of 4096 bytes is fine; of 4097 it is named. */
    static char text[(SHOAL_ACCEPT_MAX + 1) * 64];
    char want[256];
    memset(text, 0, sizeof(text));
    text[0] = '#';
    memset(text + 1, 'x', 4095);
    snprintf(text + 4096, sizeof(text) - 4096, "\r\n%s\n", s_accept_line(&jane));
    scratch_write(s_dir, "accept", text);
    shoal_accept_t *list = s_accept_load("accept");
    CHECK_INT(shoal_accept_count(list), ==, 1);
    shoal_accept_destroy(&list);
    snprintf(text, sizeof(text), "%s\n#", s_accept_line(&jane));
    memset(text + strlen(text), 'x', 4096);
    scratch_write(s_dir, "accept", text);
    snprintf(want, sizeof(want), "%s:2: line longer than 4096 bytes", s_path("accept"));
    s_accept_refused("accept", want);

    /* SHOAL_ACCEPT_MAX keys are fine; one more is named. */
    size_t len = 0;
    for (int i = 0; i < SHOAL_ACCEPT_MAX; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\n", s_accept_line(&jane));
    scratch_write(s_dir, "accept", text);
    list = s_accept_load("accept");
    CHECK_INT(shoal_accept_count(list), ==, SHOAL_ACCEPT_MAX);
    shoal_accept_destroy(&list);
    snprintf(text + len, sizeof(text) - len, "%s\n", s_accept_line(&jane));
    scratch_write(s_dir, "accept", text);
    snprintf(want, sizeof(want), "%s:%d: more than %d keys", s_path("accept"), SHOAL_ACCEPT_MAX + 1,
             SHOAL_ACCEPT_MAX);
    s_accept_refused("accept", want);
    scratch_remove_tree(s_dir);
}

/* Sets the modification time of name to seconds since the epoch, so a test
 * does not depend on the clock ticking between two writes. */
static void
s_set_mtime(const char *name, time_t seconds)
{
    struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
    CHECK_INT(utimensat(AT_FDCWD, s_path(name), times, 0), ==, 0);
}

void
test_node_identity_accept_refresh_picks_up_a_changed_list(void)
{
    s_scratch();
    shoal_identity_t jane, bob, eve;
    s_generate(&jane, "jane");
    s_generate(&bob, "bob");
    s_generate(&eve, "eve");
    char text[1024], err[512] = "";
    snprintf(text, sizeof(text), "%s\n", s_accept_line(&jane));
    scratch_write(s_dir, "accept", text);
    s_set_mtime("accept", 1000000);
    shoal_accept_t *list = s_accept_load("accept");
    CHECK_INT(shoal_accept_refresh(list, err, sizeof(err)), ==, 0);
    CHECK(!shoal_accept_allows(list, bob.public_key, NULL));

    /* A key appended; the time stamp kept, so the size must tell. */
    snprintf(text, sizeof(text), "%s\n%s\n", s_accept_line(&jane), s_accept_line(&bob));
    scratch_write(s_dir, "accept", text);
    s_set_mtime("accept", 1000000);
    CHECK_INT(shoal_accept_refresh(list, err, sizeof(err)), ==, 0);
    CHECK_INT(shoal_accept_count(list), ==, 2);
    const char *comment = NULL;
    CHECK(shoal_accept_allows(list, bob.public_key, &comment));
    CHECK_STR(comment, "bob");

    /* Bob replaced by eve: the same size, so the time stamp must tell. */
    snprintf(text, sizeof(text), "%s\n%s\n", s_accept_line(&jane), s_accept_line(&eve));
    scratch_write(s_dir, "accept", text);
    s_set_mtime("accept", 1000001);
    CHECK_INT(shoal_accept_refresh(list, err, sizeof(err)), ==, 0);
    CHECK(!shoal_accept_allows(list, bob.public_key, NULL));
    CHECK(shoal_accept_allows(list, eve.public_key, NULL));
    shoal_accept_destroy(&list);
    scratch_remove_tree(s_dir);
}

void
test_node_identity_accept_refresh_keeps_the_list_when_the_file_breaks(void)
{
    s_scratch();
    shoal_identity_t jane, bob;
    s_generate(&jane, "jane");
    s_generate(&bob, "bob");
    char text[1024], err[512] = "";
    snprintf(text, sizeof(text), "%s\n", s_accept_line(&jane));
    scratch_write(s_dir, "accept", text);
    shoal_accept_t *list = s_accept_load("accept");

    snprintf(text, sizeof(text), "%s\n%s\ned25519 broken\n", s_accept_line(&jane),
             s_accept_line(&bob));
    scratch_write(s_dir, "accept", text);
    CHECK_INT(shoal_accept_refresh(list, err, sizeof(err)), ==, -1);
    char want[256];
    snprintf(want, sizeof(want), "%s:3: ", s_path("accept"));
    CHECK(strstr(err, want) != NULL);
    CHECK_INT(shoal_accept_count(list), ==, 1);
    CHECK(shoal_accept_allows(list, jane.public_key, NULL));
    CHECK(!shoal_accept_allows(list, bob.public_key, NULL));
    /* Still broken: still said. */
    CHECK_INT(shoal_accept_refresh(list, err, sizeof(err)), ==, -1);

    CHECK_INT(unlink(s_path("accept")), ==, 0);
    CHECK_INT(shoal_accept_refresh(list, err, sizeof(err)), ==, -1);
    CHECK(shoal_accept_allows(list, jane.public_key, NULL));

    snprintf(text, sizeof(text), "%s\n", s_accept_line(&bob));
    scratch_write(s_dir, "accept", text);
    CHECK_INT(shoal_accept_refresh(list, err, sizeof(err)), ==, 0);
    CHECK(!shoal_accept_allows(list, jane.public_key, NULL));
    CHECK(shoal_accept_allows(list, bob.public_key, NULL));
    shoal_accept_destroy(&list);
    scratch_remove_tree(s_dir);
}

/* Runs `shoal keygen ARGS...` in this process; its stdout goes to out. */
static int
s_keygen(char *out, size_t out_size, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[] = {"keygen", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
    int argc = 1;
    while (argv[argc])
        argc++;
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(s_path("stdout"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(saved >= 0 && fd >= 0);
    CHECK(dup2(fd, STDOUT_FILENO) >= 0);
    int rc = shoal_cmd_keygen(argc, argv);
    fflush(stdout);
    CHECK(dup2(saved, STDOUT_FILENO) >= 0);
    close(saved);
    ssize_t n = pread(fd, out, out_size - 1, 0);
    close(fd);
    out[n > 0 ? n : 0] = '\0';
    return rc;
}

void
test_node_identity_keygen_writes_an_identity_and_prints_its_line(void)
{
    s_scratch();
    char out[1024], first[1024], err[512], path[128];
    snprintf(path, sizeof(path), "%s", s_path("config/identity"));
    CHECK_INT(s_keygen(first, sizeof(first), "--identity", path, "--comment", "Jane Doe"), ==,
              SHOAL_EXIT_OK);
    shoal_identity_t read;
    CHECK_INT(s_load("config/identity", &read, err, sizeof(err)), ==, 0);
    char want[600];
    snprintf(want, sizeof(want), "%s\n", s_accept_line(&read));
    CHECK_STR(first, want);
    CHECK(strstr(first, " Jane Doe\n") != NULL);

    /* Never over an existing identity; --public prints the line again. */
    CHECK_INT(s_keygen(out, sizeof(out), "--identity", path, NULL, NULL), ==, SHOAL_EXIT_FAILURE);
    CHECK_STR(out, "");
    CHECK_INT(s_keygen(out, sizeof(out), "--public", path, NULL, NULL), ==, SHOAL_EXIT_OK);
    CHECK_STR(out, first);

    /* The default place, under XDG_CONFIG_HOME. */
    setenv("XDG_CONFIG_HOME", s_path("xdg"), 1);
    CHECK_INT(s_keygen(out, sizeof(out), "--identity", NULL, NULL, NULL), ==, SHOAL_EXIT_OK);
    CHECK_INT(s_load("xdg/shoal/identity", &read, err, sizeof(err)), ==, 0);
    CHECK_INT(s_keygen(first, sizeof(first), "--public", NULL, NULL, NULL), ==, SHOAL_EXIT_OK);
    CHECK_STR(first, out);

    CHECK_INT(s_keygen(out, sizeof(out), "--public", s_path("none"), NULL, NULL), ==,
              SHOAL_EXIT_FAILURE);
    CHECK_INT(s_keygen(out, sizeof(out), "--identity", "--public", NULL, NULL), ==,
              SHOAL_EXIT_USAGE);
    CHECK_INT(s_keygen(out, sizeof(out), "--public", "--comment", "x", NULL), ==, SHOAL_EXIT_USAGE);
    CHECK_INT(s_keygen(out, sizeof(out), "--identity", "a", "b", NULL), ==, SHOAL_EXIT_USAGE);
    CHECK_INT(s_keygen(out, sizeof(out), "--identity", "--comment", NULL, NULL), ==,
              SHOAL_EXIT_USAGE);
    CHECK_INT(s_keygen(out, sizeof(out), "stray", NULL, NULL, NULL), ==, SHOAL_EXIT_USAGE);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("HOME");
    CHECK_INT(s_keygen(out, sizeof(out), "--identity", NULL, NULL, NULL), ==, SHOAL_EXIT_USAGE);
    scratch_remove_tree(s_dir);
}
