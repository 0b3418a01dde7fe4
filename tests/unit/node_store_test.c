/* The blob store: what is put reads back by digest; a blob received in
 * chunks, in any order, is stored only when its bytes match its digest;
 * trimming to the cap evicts the least recently used blobs first; a session
 * directory made from a tree shares the store's inodes (read-only), copies
 * executables, keeps links as written, and is removed again when a blob is
 * missing.
 */
#include "harness.h"
#include "scratch.h"
#include "node/store.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static char s_dir[64];

static const char *
s_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", s_dir, name);
    return path;
}

static shoal_store_t *
s_store(uint64_t cap)
{
    if (!s_dir[0]) {
        snprintf(s_dir, sizeof(s_dir), "/tmp/shoal-store-XXXXXX");
        CHECK(mkdtemp(s_dir) != NULL);
    }
    char err[256] = "";
    shoal_store_t *store = shoal_store_new(s_path("store"), cap, err, sizeof(err));
    if (!store)
        fprintf(stderr, "store: %s\n", err);
    CHECK(store != NULL);
    return store;
}

static void
s_put(shoal_store_t *store, const char *text, uint8_t digest[SHOAL_DIGEST_BYTES])
{
    char err[256] = "";
    CHECK_INT(shoal_store_put(store, (const uint8_t *)text, strlen(text), digest, err, sizeof(err)),
              ==, 0);
}

static void
s_digest_of(const char *text, uint8_t digest[SHOAL_DIGEST_BYTES])
{
    crypto_generichash(digest, SHOAL_DIGEST_BYTES, (const uint8_t *)text, strlen(text), NULL, 0);
}

static const char *
s_blob_path(const uint8_t digest[SHOAL_DIGEST_BYTES])
{
    static char path[512];
    char hex[SHOAL_DIGEST_HEX];
    shoal_digest_hex(digest, hex);
    snprintf(path, sizeof(path), "%s/store/blobs/%.2s/%s", s_dir, hex, hex);
    return path;
}

static size_t
s_entries_in(const char *dir)
{
    char command[1024];
    snprintf(command, sizeof(command), "test -z \"$(ls -A '%s')\"", dir);
    return system(command) == 0 ? 0 : 1;
}

void test_node_store_put_then_read(void);
void
test_node_store_put_then_read(void)
{
    shoal_store_t *store = s_store(0);
    uint8_t digest[SHOAL_DIGEST_BYTES], expected[SHOAL_DIGEST_BYTES];
    s_put(store, "a manifest, say", digest);
    s_digest_of("a manifest, say", expected);
    CHECK(memcmp(digest, expected, SHOAL_DIGEST_BYTES) == 0);
    CHECK(shoal_store_has(store, digest));
    CHECK_INT(shoal_store_size(store, digest), ==, 15);
    uint8_t buf[64];
    CHECK_INT(shoal_store_read(store, digest, 2, buf, 8), ==, 8);
    CHECK(memcmp(buf, "manifest", 8) == 0);
    CHECK_INT(shoal_store_read(store, digest, 10, buf, sizeof(buf)), ==, 5);
    CHECK_INT(shoal_store_read(store, digest, 15, buf, sizeof(buf)), ==, 0);
    CHECK_INT(shoal_store_read(store, digest, 1000, buf, sizeof(buf)), ==, 0);
    struct stat st;
    CHECK(stat(s_blob_path(digest), &st) == 0);
    CHECK_INT(st.st_mode & 07777, ==, 0444);
    CHECK_INT(shoal_store_blobs(store), ==, 1);
    CHECK_INT(shoal_store_bytes(store), ==, 15);
    s_put(store, "a manifest, say", digest); /* again: nothing new */
    CHECK_INT(shoal_store_blobs(store), ==, 1);
    uint8_t other[SHOAL_DIGEST_BYTES];
    s_digest_of("never put", other);
    CHECK(!shoal_store_has(store, other));
    CHECK_INT(shoal_store_size(store, other), ==, -1);
    CHECK_INT(shoal_store_read(store, other, 0, buf, sizeof(buf)), ==, -1);
    shoal_store_destroy(&store);
    CHECK(store == NULL);
    /* opened again: the blob is counted, a leftover part removed */
    scratch_write(s_dir, "store/partial/blob-left", "half a blob");
    store = s_store(0);
    CHECK_INT(shoal_store_blobs(store), ==, 1);
    CHECK_INT(shoal_store_bytes(store), ==, 15);
    CHECK_INT(s_entries_in(s_path("store/partial")), ==, 0);
    CHECK_STR(shoal_store_dir(store), s_path("store"));
    shoal_store_destroy(&store);
    scratch_remove_tree(s_dir);
}

void test_node_store_part_in_any_order(void);
void
test_node_store_part_in_any_order(void)
{
    shoal_store_t *store = s_store(0);
    const char *text = "first half|second half";
    uint8_t digest[SHOAL_DIGEST_BYTES];
    s_digest_of(text, digest);
    char err[256] = "";
    shoal_store_part_t *part = shoal_store_part_new(store, digest, strlen(text), err, sizeof(err));
    CHECK(part != NULL);
    CHECK_INT(shoal_store_part_write(part, 11, (const uint8_t *)text + 11, strlen(text) - 11), ==,
              0);
    CHECK(!shoal_store_has(store, digest));
    CHECK_INT(shoal_store_part_write(part, 0, (const uint8_t *)text, 11), ==, 0);
    CHECK_INT(shoal_store_part_commit(&part, err, sizeof(err)), ==, 0);
    CHECK(part == NULL);
    uint8_t buf[64];
    CHECK_INT(shoal_store_read(store, digest, 0, buf, sizeof(buf)), ==, strlen(text));
    CHECK(memcmp(buf, text, strlen(text)) == 0);
    CHECK_INT(s_entries_in(s_path("store/partial")), ==, 0);
    shoal_store_destroy(&store);
    scratch_remove_tree(s_dir);
}

void test_node_store_part_with_wrong_bytes_stores_nothing(void);
void
test_node_store_part_with_wrong_bytes_stores_nothing(void)
{
    shoal_store_t *store = s_store(0);
    uint8_t digest[SHOAL_DIGEST_BYTES];
    s_digest_of("the real bytes", digest);
    char err[256] = "";
    shoal_store_part_t *part = shoal_store_part_new(store, digest, 14, err, sizeof(err));
    CHECK(part != NULL);
    CHECK_INT(shoal_store_part_write(part, 0, (const uint8_t *)"the fake bytes", 14), ==, 0);
    CHECK_INT(shoal_store_part_commit(&part, err, sizeof(err)), ==, -1);
    CHECK(part == NULL);
    CHECK(strstr(err, "do not match") != NULL);
    part = shoal_store_part_new(store, digest, 14, err, sizeof(err));
    CHECK_INT(shoal_store_part_write(part, 0, (const uint8_t *)"the real", 8), ==, 0);
    CHECK_INT(shoal_store_part_commit(&part, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "8 of 14 bytes") != NULL);
    part = shoal_store_part_new(store, digest, 14, err, sizeof(err));
    shoal_store_part_abort(&part);
    CHECK(part == NULL);
    shoal_store_part_abort(&part);
    CHECK(!shoal_store_has(store, digest));
    CHECK_INT(shoal_store_blobs(store), ==, 0);
    CHECK_INT(s_entries_in(s_path("store/partial")), ==, 0);
    shoal_store_destroy(&store);
    scratch_remove_tree(s_dir);
}

void test_node_store_part_write_beyond_size_is_erange(void);
void
test_node_store_part_write_beyond_size_is_erange(void)
{
    shoal_store_t *store = s_store(0);
    uint8_t digest[SHOAL_DIGEST_BYTES];
    s_digest_of("0123456789", digest);
    char err[256] = "";
    shoal_store_part_t *part = shoal_store_part_new(store, digest, 10, err, sizeof(err));
    CHECK(part != NULL);
    errno = 0;
    CHECK_INT(shoal_store_part_write(part, 8, (const uint8_t *)"89X", 3), ==, -1);
    CHECK_INT(errno, ==, ERANGE);
    errno = 0;
    CHECK_INT(shoal_store_part_write(part, UINT64_MAX, (const uint8_t *)"X", 1), ==, -1);
    CHECK_INT(errno, ==, ERANGE);
    CHECK_INT(shoal_store_part_write(part, 10, (const uint8_t *)"", 0), ==, 0);
    CHECK_INT(shoal_store_part_write(part, 0, (const uint8_t *)"0123456789", 10), ==, 0);
    CHECK_INT(shoal_store_part_commit(&part, err, sizeof(err)), ==, 0);
    CHECK(shoal_store_has(store, digest));
    shoal_store_destroy(&store);
    scratch_remove_tree(s_dir);
}

/* Sets a blob's last use to seconds after the epoch. */
static void
s_used_at(const uint8_t digest[SHOAL_DIGEST_BYTES], time_t seconds)
{
    struct timespec times[2] = {{.tv_sec = seconds}, {.tv_sec = seconds}};
    CHECK(utimensat(AT_FDCWD, s_blob_path(digest), times, 0) == 0);
}

void test_node_store_trim_evicts_least_recently_used(void);
void
test_node_store_trim_evicts_least_recently_used(void)
{
    shoal_store_t *store = s_store(0);
    const char *texts[] = {"blob zero.", "blob one..", "blob two..", "blob three"};
    uint8_t d[4][SHOAL_DIGEST_BYTES];
    for (int i = 0; i < 4; i++)
        s_put(store, texts[i], d[i]);
    CHECK_INT(shoal_store_trim(store), ==, 0); /* no cap */
    shoal_store_destroy(&store);
    store = s_store(25); /* room for two of the four 10-byte blobs */
    s_used_at(d[0], 4000);
    s_used_at(d[1], 1000);
    s_used_at(d[2], 3000);
    s_used_at(d[3], 2000);
    CHECK_INT(shoal_store_bytes(store), ==, 40);
    CHECK_INT(shoal_store_trim(store), ==, 20);
    CHECK_INT(shoal_store_blobs(store), ==, 2);
    CHECK_INT(shoal_store_bytes(store), ==, 20);
    struct stat st;
    CHECK(stat(s_blob_path(d[1]), &st) != 0 && stat(s_blob_path(d[3]), &st) != 0);
    CHECK(stat(s_blob_path(d[0]), &st) == 0 && stat(s_blob_path(d[2]), &st) == 0);
    /* using a blob makes it the newest: the other one goes next */
    s_put(store, texts[1], d[1]);
    CHECK(shoal_store_has(store, d[0]));
    CHECK_INT(shoal_store_trim(store), ==, 10);
    CHECK(stat(s_blob_path(d[2]), &st) != 0);
    CHECK(stat(s_blob_path(d[0]), &st) == 0 && stat(s_blob_path(d[1]), &st) == 0);
    shoal_store_destroy(&store);
    scratch_remove_tree(s_dir);
}

/* A workspace in s_dir/ws (git's untracked files are its files), scanned,
 * and its blobs put in the store but the one of skip (NULL: none). */
static shoal_tree_t *
s_workspace(shoal_store_t *store, const char *skip)
{
    char command[1024];
    snprintf(command, sizeof(command), "git init -q '%s'", s_path("ws"));
    CHECK(system(command) == 0);
    scratch_write(s_dir, "ws/a.txt", "plain\n");
    scratch_write(s_dir, "ws/tool.sh", "#!/bin/sh\n");
    CHECK(chmod(s_path("ws/tool.sh"), 0755) == 0);
    scratch_write(s_dir, "ws/deep/er/still.txt", "nested\n");
    scratch_write(s_dir, "ws/deep/twin.txt", "plain\n");
    CHECK(symlink("../a.txt", s_path("ws/deep/link")) == 0);
    char err[256] = "";
    shoal_tree_t *tree = shoal_tree_scan(s_path("ws"), NULL, 0, NULL, NULL, err, sizeof(err));
    CHECK(tree != NULL);
    const char *files[] = {"a.txt", "tool.sh", "deep/er/still.txt"};
    for (size_t i = 0; i < 3; i++) {
        if (skip && !strcmp(skip, files[i]))
            continue;
        char path[256];
        snprintf(path, sizeof(path), "ws/%s", files[i]);
        FILE *f = fopen(s_path(path), "r");
        CHECK(f != NULL);
        char text[64] = "";
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        fclose(f);
        text[n] = '\0';
        uint8_t digest[SHOAL_DIGEST_BYTES];
        s_put(store, text, digest);
    }
    return tree;
}

static struct stat
s_lstat(const char *name)
{
    struct stat st;
    CHECK(lstat(s_path(name), &st) == 0);
    return st;
}

void test_node_store_materialize_links_copies_and_nests(void);
void
test_node_store_materialize_links_copies_and_nests(void)
{
    shoal_store_t *store = s_store(0);
    shoal_tree_t *tree = s_workspace(store, NULL);
    CHECK_INT(shoal_tree_count(tree), ==, 5);
    char err[256] = "";
    CHECK_INT(shoal_store_materialize(store, tree, s_path("session"), false, err, sizeof(err)), ==,
              0);
    uint8_t plain[SHOAL_DIGEST_BYTES], tool[SHOAL_DIGEST_BYTES];
    s_digest_of("plain\n", plain);
    s_digest_of("#!/bin/sh\n", tool);
    struct stat blob, st = s_lstat("session/a.txt");
    CHECK(stat(s_blob_path(plain), &blob) == 0);
    CHECK(st.st_ino == blob.st_ino && st.st_dev == blob.st_dev);
    CHECK_INT(st.st_mode & 07777, ==, 0444);
    CHECK(s_lstat("session/deep/twin.txt").st_ino == blob.st_ino);
    st = s_lstat("session/tool.sh");
    CHECK(stat(s_blob_path(tool), &blob) == 0);
    CHECK(st.st_ino != blob.st_ino && S_ISREG(st.st_mode));
    CHECK_INT(st.st_mode & 07777, ==, 0555);
    CHECK_INT(st.st_size, ==, 10);
    CHECK(S_ISLNK(s_lstat("session/deep/link").st_mode));
    char target[64] = "";
    CHECK_INT(readlink(s_path("session/deep/link"), target, sizeof(target) - 1), ==, 8);
    CHECK_STR(target, "../a.txt");
    CHECK_INT(s_lstat("session/deep/er").st_mode & 07777, ==, 0755);
    CHECK_INT(s_lstat("session").st_mode & 07777, ==, 0755);
    st = s_lstat("session/deep/er/still.txt");
    CHECK(S_ISREG(st.st_mode) && st.st_size == 7);
    /* the directory must not exist yet */
    CHECK_INT(shoal_store_materialize(store, tree, s_path("session"), false, err, sizeof(err)), ==,
              -1);
    CHECK(strstr(err, "session") != NULL);
    CHECK(S_ISREG(s_lstat("session/a.txt").st_mode)); /* and what is there stays */
    shoal_tree_destroy(&tree);
    shoal_store_destroy(&store);
    scratch_remove_tree(s_dir);
}

void test_node_store_materialize_copies_keep_the_store_whole(void);
void
test_node_store_materialize_copies_keep_the_store_whole(void)
{
    shoal_store_t *store = s_store(0);
    shoal_tree_t *tree = s_workspace(store, NULL);
    char err[256] = "";
    CHECK_INT(shoal_store_materialize(store, tree, s_path("copy"), true, err, sizeof(err)), ==, 0);
    uint8_t plain[SHOAL_DIGEST_BYTES];
    s_digest_of("plain\n", plain);
    struct stat blob, st = s_lstat("copy/a.txt");
    CHECK(stat(s_blob_path(plain), &blob) == 0);
    CHECK(st.st_ino != blob.st_ino); /* its own file */
    CHECK_INT(st.st_mode & 07777, ==, 0644);
    CHECK_INT(s_lstat("copy/tool.sh").st_mode & 07777, ==, 0755);
    CHECK(S_ISLNK(s_lstat("copy/deep/link").st_mode));
    /* A test that writes a shipped file changes its copy, not the blob. */
    FILE *f = fopen(s_path("copy/a.txt"), "a");
    CHECK(f != NULL);
    fputs("more\n", f);
    fclose(f);
    char text[64] = "";
    CHECK_INT(shoal_store_read(store, plain, 0, (uint8_t *)text, sizeof(text) - 1), ==, 6);
    CHECK_STR(text, "plain\n");
    shoal_tree_destroy(&tree);
    shoal_store_destroy(&store);
    scratch_remove_tree(s_dir);
}

void test_node_store_materialize_without_a_blob_leaves_nothing(void);
void
test_node_store_materialize_without_a_blob_leaves_nothing(void)
{
    shoal_store_t *store = s_store(0);
    shoal_tree_t *tree = s_workspace(store, "deep/er/still.txt");
    char err[256] = "";
    CHECK_INT(shoal_store_materialize(store, tree, s_path("session"), false, err, sizeof(err)), ==,
              -1);
    CHECK(strstr(err, "deep/er/still.txt") != NULL);
    struct stat st;
    CHECK(lstat(s_path("session"), &st) != 0 && errno == ENOENT);
    shoal_tree_destroy(&tree);
    shoal_store_destroy(&store);
    scratch_remove_tree(s_dir);
}
