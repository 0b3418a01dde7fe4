/* The workspace tree: a scan of a real git repository lists exactly git's
 * files (tracked and untracked, not ignored, not deleted) with their modes,
 * links as links, plus what --include globs name; the root digest is stable
 * and follows one byte; the hash cache spares unchanged files; a manifest
 * reads back to the same root, and every kind of manifest that breaks the
 * rules of tree.h (built here by hand) is refused, as are cut and random
 * bytes.
 */
#include "harness.h"
#include "scratch.h"
#include "node/tree.h"

#include <fcntl.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static char s_dir[64];
static char s_cache_dir[64];

/* A hash cache path outside the repository (removed by s_done). */
static const char *
s_cache(void)
{
    static char path[128];
    snprintf(s_cache_dir, sizeof(s_cache_dir), "/tmp/shoal-tree-cache-XXXXXX");
    CHECK(mkdtemp(s_cache_dir) != NULL);
    snprintf(path, sizeof(path), "%s/made/hashes.db", s_cache_dir);
    return path;
}

static void
s_done(void)
{
    scratch_remove_tree(s_dir);
    if (s_cache_dir[0])
        scratch_remove_tree(s_cache_dir);
}

/* Runs a shell command line made from format (paths are mkdtemp's). */
static void s_run(const char *format, ...) __attribute__((format(printf, 1, 2)));

static void
s_run(const char *format, ...)
{
    char command[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(command, sizeof(command), format, args);
    va_end(args);
    CHECK(system(command) == 0);
}

static void
s_file(const char *name, const char *text)
{
    scratch_write(s_dir, name, text);
}

static char *
s_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", s_dir, name);
    return path;
}

/* Sets a file's modification time to seconds before now. */
static void
s_age(const char *name, int seconds)
{
    struct timespec times[2];
    clock_gettime(CLOCK_REALTIME, &times[1]);
    times[1].tv_sec -= seconds;
    times[0] = times[1];
    CHECK(utimensat(AT_FDCWD, s_path(name), times, AT_SYMLINK_NOFOLLOW) == 0);
}

/* A repository: tracked .gitignore, a.txt, src/run.sh (executable), link
 * (-> a.txt) and gone.txt (deleted since); untracked notes.txt; ignored
 * debug.log and node_modules/pkg/index.js. Files are 60 s old. */
static const char *
s_repo(void)
{
    snprintf(s_dir, sizeof(s_dir), "/tmp/shoal-tree-XXXXXX");
    CHECK(mkdtemp(s_dir) != NULL);
    s_run("git -C '%s' init -q", s_dir);
    s_file(".gitignore", "*.log\nnode_modules/\n");
    s_file("a.txt", "hello\n");
    s_file("src/run.sh", "#!/bin/sh\necho hi\n");
    CHECK(chmod(s_path("src/run.sh"), 0755) == 0);
    CHECK(symlink("a.txt", s_path("link")) == 0);
    s_file("gone.txt", "soon gone\n");
    s_run("git -C '%s' add -A && git -C '%s' -c user.name=t -c user.email=t@example.invalid "
          "commit -qm initial",
          s_dir, s_dir);
    CHECK(unlink(s_path("gone.txt")) == 0);
    s_file("notes.txt", "untracked\n");
    s_file("debug.log", "ignored\n");
    s_file("node_modules/pkg/index.js", "module.exports = 1;\n");
    const char *files[] = {".gitignore", "a.txt",     "src/run.sh",
                           "notes.txt",  "debug.log", "node_modules/pkg/index.js"};
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        s_age(files[i], 60);
    return s_dir;
}

static shoal_tree_t *
s_scan(const char *const *includes, size_t count, const char *cache, size_t *hashed)
{
    char err[512] = "";
    shoal_tree_t *tree = shoal_tree_scan(s_dir, includes, count, cache, hashed, err, sizeof(err));
    if (!tree)
        fprintf(stderr, "scan: %s\n", err);
    CHECK(tree != NULL);
    return tree;
}

static void
s_root(const shoal_tree_t *tree, uint8_t root[SHOAL_DIGEST_BYTES])
{
    CHECK_INT(shoal_tree_root(tree, root), ==, 0);
}

/* The entries' paths joined by spaces. */
static const char *
s_paths(const shoal_tree_t *tree)
{
    static char out[1024];
    out[0] = '\0';
    for (size_t i = 0; i < shoal_tree_count(tree); i++)
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", i ? " " : "",
                 shoal_tree_entry(tree, i)->path);
    return out;
}

void test_node_tree_scan_lists_git_files(void);
void
test_node_tree_scan_lists_git_files(void)
{
    s_repo();
    shoal_tree_t *tree = s_scan(NULL, 0, NULL, NULL);
    CHECK_STR(s_paths(tree), ".gitignore a.txt link notes.txt src/run.sh");
    const shoal_tree_entry_t *a = shoal_tree_entry(tree, 1);
    CHECK(a->kind == SHOAL_TREE_FILE && a->mode == 0644 && a->size == 6 && !a->target);
    uint8_t digest[SHOAL_DIGEST_BYTES];
    CHECK_INT(shoal_tree_hash_file(s_path("a.txt"), digest), ==, 0);
    CHECK(memcmp(a->digest, digest, SHOAL_DIGEST_BYTES) == 0);
    const shoal_tree_entry_t *link = shoal_tree_entry(tree, 2);
    CHECK(link->kind == SHOAL_TREE_LINK && link->mode == 0777 && link->size == 0);
    CHECK_STR(link->target, "a.txt");
    CHECK_INT(shoal_tree_entry(tree, 4)->mode, ==, 0755);
    CHECK(shoal_tree_entry(tree, 5) == NULL);
    shoal_tree_destroy(&tree);
    CHECK(tree == NULL);
    scratch_remove_tree(s_dir);
}

void test_node_tree_include_brings_ignored_files(void);
void
test_node_tree_include_brings_ignored_files(void)
{
    s_repo();
    s_file(".git/info/sneaky.log", "never shipped\n");
    const char *globs[] = {"*.log", "node_modules/*", "*.txt"}; /* a.txt is git's too */
    shoal_tree_t *tree = s_scan(globs, 3, NULL, NULL);
    CHECK_STR(s_paths(tree), ".gitignore a.txt debug.log link node_modules/pkg/index.js "
                             "notes.txt src/run.sh");
    shoal_tree_destroy(&tree);
    scratch_remove_tree(s_dir);
}

void test_node_tree_root_is_stable_and_follows_one_byte(void);
void
test_node_tree_root_is_stable_and_follows_one_byte(void)
{
    s_repo();
    uint8_t first[SHOAL_DIGEST_BYTES], second[SHOAL_DIGEST_BYTES], third[SHOAL_DIGEST_BYTES];
    shoal_tree_t *tree = s_scan(NULL, 0, NULL, NULL);
    s_root(tree, first);
    shoal_tree_destroy(&tree);
    tree = s_scan(NULL, 0, NULL, NULL);
    s_root(tree, second);
    shoal_tree_destroy(&tree);
    CHECK(memcmp(first, second, SHOAL_DIGEST_BYTES) == 0);
    s_file("notes.txt", "untracKed\n");
    tree = s_scan(NULL, 0, NULL, NULL);
    s_root(tree, third);
    shoal_tree_destroy(&tree);
    CHECK(memcmp(first, third, SHOAL_DIGEST_BYTES) != 0);
    scratch_remove_tree(s_dir);
}

void test_node_tree_cache_spares_unchanged_files(void);
void
test_node_tree_cache_spares_unchanged_files(void)
{
    s_repo();
    const char *cache = s_cache();
    size_t hashed = 99;
    shoal_tree_t *tree = s_scan(NULL, 0, cache, &hashed);
    CHECK_INT(hashed, ==, 4);
    uint8_t before[SHOAL_DIGEST_BYTES];
    memcpy(before, shoal_tree_entry(tree, 1)->digest, SHOAL_DIGEST_BYTES);
    shoal_tree_destroy(&tree);
    tree = s_scan(NULL, 0, cache, &hashed);
    CHECK_INT(hashed, ==, 0);
    shoal_tree_destroy(&tree);
    s_file("a.txt", "jello\n"); /* the same size */
    s_age("a.txt", 30);
    tree = s_scan(NULL, 0, cache, &hashed);
    CHECK_INT(hashed, ==, 1);
    CHECK(memcmp(before, shoal_tree_entry(tree, 1)->digest, SHOAL_DIGEST_BYTES) != 0);
    shoal_tree_destroy(&tree);
    s_done();
}

void test_node_tree_cache_skips_files_modified_just_now(void);
void
test_node_tree_cache_skips_files_modified_just_now(void)
{
    s_repo();
    const char *cache = s_cache();
    s_file("a.txt", "jello\n"); /* a same-size write in the same clock tick would not show */
    size_t hashed = 0;
    shoal_tree_t *tree = s_scan(NULL, 0, cache, &hashed);
    shoal_tree_destroy(&tree);
    tree = s_scan(NULL, 0, cache, &hashed);
    CHECK_INT(hashed, ==, 1);
    shoal_tree_destroy(&tree);
    s_done();
}

void test_node_tree_unusable_cache_still_scans(void);
void
test_node_tree_unusable_cache_still_scans(void)
{
    s_repo();
    char cache[128];
    snprintf(cache, sizeof(cache), "%s/a.txt/hashes.db", s_dir); /* below a file */
    size_t hashed = 0;
    shoal_tree_t *tree = s_scan(NULL, 0, cache, &hashed);
    CHECK_INT(hashed, ==, 4);
    CHECK_INT(shoal_tree_count(tree), ==, 5);
    shoal_tree_destroy(&tree);
    scratch_remove_tree(s_dir);
}

void test_node_tree_toplevel_finds_the_work_tree(void);
void
test_node_tree_toplevel_finds_the_work_tree(void)
{
    s_repo();
    char top[256], err[256] = "", real[256];
    CHECK(realpath(s_dir, real) != NULL);
    CHECK_INT(shoal_tree_toplevel(s_path("src"), top, sizeof(top), err, sizeof(err)), ==, 0);
    CHECK_STR(top, real);
    CHECK_INT(shoal_tree_toplevel("/", top, sizeof(top), err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "rev-parse") != NULL);
    err[0] = '\0';
    char none[] = "/tmp/shoal-tree-gone-XXXXXX";
    CHECK(mkdtemp(none) != NULL);
    CHECK(rmdir(none) == 0);
    CHECK(shoal_tree_scan(none, NULL, 0, NULL, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, none) != NULL);
    scratch_remove_tree(s_dir);
}

void test_node_tree_manifest_round_trip(void);
void
test_node_tree_manifest_round_trip(void)
{
    s_repo();
    s_file("copy.txt", "hello\n"); /* the same blob as a.txt */
    shoal_tree_t *tree = s_scan(NULL, 0, NULL, NULL);
    uint8_t *bytes = NULL, *again = NULL;
    long len = shoal_tree_encode(tree, &bytes);
    CHECK_INT(len, >, 0);
    char err[256] = "";
    shoal_tree_t *back = shoal_tree_decode(bytes, (size_t)len, err, sizeof(err));
    CHECK(back != NULL);
    uint8_t a[SHOAL_DIGEST_BYTES], b[SHOAL_DIGEST_BYTES];
    s_root(tree, a);
    s_root(back, b);
    CHECK(memcmp(a, b, SHOAL_DIGEST_BYTES) == 0);
    CHECK_INT(shoal_tree_encode(back, &again), ==, len);
    CHECK(memcmp(bytes, again, (size_t)len) == 0);
    CHECK_STR(s_paths(back), s_paths(tree));
    CHECK_STR(shoal_tree_entry(back, 3)->target, "a.txt");
    /* the distinct blobs: .gitignore, hello (twice), notes, run.sh */
    CHECK_INT(shoal_tree_bytes(back), ==, 20 + 6 + 10 + 18);
    const shoal_tree_entry_t *hello = shoal_tree_find_blob(back, shoal_tree_entry(back, 2)->digest);
    CHECK(hello != NULL);
    CHECK_STR(hello->path, "a.txt");
    uint8_t nothing[SHOAL_DIGEST_BYTES] = {0};
    CHECK(shoal_tree_find_blob(back, nothing) == NULL);
    char hex[SHOAL_DIGEST_HEX];
    shoal_digest_hex(hello->digest, hex);
    CHECK_INT(strlen(hex), ==, 64);
    CHECK_INT(shoal_digest_parse(hex, a), ==, 0);
    CHECK(memcmp(a, hello->digest, SHOAL_DIGEST_BYTES) == 0);
    hex[63] = 'g';
    CHECK_INT(shoal_digest_parse(hex, a), ==, -1);
    CHECK_INT(shoal_digest_parse("00", a), ==, -1);
    free(bytes);
    free(again);
    shoal_tree_destroy(&tree);
    shoal_tree_destroy(&back);
    scratch_remove_tree(s_dir);
}

/* ---------------------------------------------------------------- by hand */

/* One entry as a test writes it: data is a digest (bin) for kind 'f' unless
 * as_str, a target (str) for kind 'l'. */
typedef struct {
    const char *path;
    size_t path_len; /* 0: strlen */
    uint64_t kind, mode, size;
    const char *data;
    size_t data_len; /* 0: 32 for a file, strlen for a link */
    bool as_str;
} s_entry_t;

static const char s_digest[SHOAL_DIGEST_BYTES + 1] = "0123456789abcdef0123456789abcdef!";

static s_entry_t
s_f(const char *path)
{
    return (s_entry_t){.path = path, .kind = 'f', .mode = 0644, .size = 3, .data = s_digest};
}

static s_entry_t
s_l(const char *path)
{
    return (s_entry_t){.path = path, .kind = 'l', .mode = 0777, .data = "elsewhere"};
}

static msgpack_sbuffer s_buf;

static void
s_pack_entry(msgpack_packer *pk, const s_entry_t *e)
{
    size_t n = e->path_len ? e->path_len : strlen(e->path);
    msgpack_pack_array(pk, 5);
    msgpack_pack_str_with_body(pk, e->path, n);
    msgpack_pack_uint64(pk, e->kind);
    msgpack_pack_uint64(pk, e->mode);
    msgpack_pack_uint64(pk, e->size);
    bool link = e->kind == 'l';
    size_t d = e->data_len ? e->data_len : link ? strlen(e->data) : SHOAL_DIGEST_BYTES;
    if (link || e->as_str)
        msgpack_pack_str_with_body(pk, e->data, d);
    else
        msgpack_pack_bin_with_body(pk, e->data, d);
}

/* [version, [entries...]] into s_buf. */
static void
s_pack(unsigned version, const s_entry_t *entries, size_t count)
{
    msgpack_sbuffer_destroy(&s_buf);
    msgpack_sbuffer_init(&s_buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &s_buf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_unsigned_int(&pk, version);
    msgpack_pack_array(&pk, count);
    for (size_t i = 0; i < count; i++)
        s_pack_entry(&pk, &entries[i]);
}

static bool
s_decodes(void)
{
    char err[512] = "";
    shoal_tree_t *tree =
        shoal_tree_decode((const uint8_t *)s_buf.data, s_buf.size, err, sizeof(err));
    bool ok = tree != NULL;
    CHECK(ok || err[0]);
    shoal_tree_destroy(&tree);
    return ok;
}

/* Decodes entries packed as given: whether they are taken. */
static bool
s_takes(const s_entry_t *entries, size_t count)
{
    s_pack(1, entries, count);
    return s_decodes();
}

#define S_TAKES(...)                                                                               \
    s_takes((const s_entry_t[]){__VA_ARGS__},                                                      \
            sizeof((const s_entry_t[]){__VA_ARGS__}) / sizeof(s_entry_t))

void test_node_tree_decode_refuses_wrong_shapes(void);
void
test_node_tree_decode_refuses_wrong_shapes(void)
{
    CHECK(S_TAKES(s_f("a"), s_l("b"))); /* the control: hand packing is canonical */
    s_pack(2, (const s_entry_t[]){s_f("a")}, 1);
    CHECK(!s_decodes());
    s_pack(0, NULL, 0);
    CHECK(!s_decodes());
    s_pack(1, NULL, 0);
    CHECK(s_decodes()); /* an empty tree is a tree */
    s_entry_t kind_str = s_f("a");
    kind_str.kind = 'x';
    CHECK(!S_TAKES(kind_str));
    s_entry_t digest_as_str = s_f("a");
    digest_as_str.as_str = true;
    CHECK(!S_TAKES(digest_as_str));
    /* an entry with a sixth value, a manifest that is a map, a string */
    msgpack_sbuffer_clear(&s_buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &s_buf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_array(&pk, 6);
    msgpack_pack_str_with_body(&pk, "a", 1);
    msgpack_pack_uint8(&pk, 'f');
    msgpack_pack_uint16(&pk, 0644);
    msgpack_pack_uint8(&pk, 3);
    msgpack_pack_bin_with_body(&pk, s_digest, SHOAL_DIGEST_BYTES);
    msgpack_pack_nil(&pk);
    CHECK(!s_decodes());
    msgpack_sbuffer_clear(&s_buf);
    msgpack_pack_map(&pk, 0);
    CHECK(!s_decodes());
    msgpack_sbuffer_clear(&s_buf);
    msgpack_pack_str_with_body(&pk, "manifest", 8);
    CHECK(!s_decodes());
    msgpack_sbuffer_destroy(&s_buf);
}

void test_node_tree_decode_refuses_unsorted_or_repeated_paths(void);
void
test_node_tree_decode_refuses_unsorted_or_repeated_paths(void)
{
    CHECK(S_TAKES(s_f("B"), s_f("a.c"), s_f("a/b"), s_f("ab")));
    CHECK(!S_TAKES(s_f("b"), s_f("a")));
    CHECK(!S_TAKES(s_f("a"), s_l("a")));
    CHECK(!S_TAKES(s_f("a/b"), s_f("a.c"))); /* '.' sorts before '/' */
    msgpack_sbuffer_destroy(&s_buf);
}

void test_node_tree_decode_refuses_bad_paths(void);
void
test_node_tree_decode_refuses_bad_paths(void)
{
    const char *bad[] = {"", ".", "..", "a/../b", "/etc/passwd", "a//b", "a/", "./a", "a/."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(!S_TAKES(s_f(bad[i])));
        CHECK(!S_TAKES(s_l(bad[i])));
    }
    CHECK(S_TAKES(s_f("..a"), s_f(".a/b..")));
    s_entry_t nul = s_f("a\0b");
    nul.path_len = 3;
    CHECK(!S_TAKES(nul));
    char *longest = malloc(SHOAL_TREE_PATH_MAX + 2);
    CHECK(longest != NULL);
    memset(longest, 'x', SHOAL_TREE_PATH_MAX + 1);
    longest[SHOAL_TREE_PATH_MAX + 1] = '\0';
    CHECK(!S_TAKES(s_f(longest)));
    longest[SHOAL_TREE_PATH_MAX] = '\0';
    CHECK(S_TAKES(s_f(longest)));
    s_entry_t long_target = s_l("a");
    long_target.data = longest;
    CHECK(S_TAKES(long_target));
    longest[SHOAL_TREE_PATH_MAX] = 'x';
    CHECK(!S_TAKES(long_target));
    free(longest);
    s_entry_t empty_target = s_l("a");
    empty_target.data = "";
    CHECK(!S_TAKES(empty_target));
    msgpack_sbuffer_destroy(&s_buf);
}

void test_node_tree_decode_refuses_paths_below_files_or_links(void);
void
test_node_tree_decode_refuses_paths_below_files_or_links(void)
{
    CHECK(!S_TAKES(s_f("a"), s_f("a/b")));
    CHECK(!S_TAKES(s_l("a"), s_f("a/b")));
    CHECK(!S_TAKES(s_l("a"), s_l("a/b/c")));
    CHECK(!S_TAKES(s_f("a"), s_f("a!"), s_f("a.b"), s_f("a.c/d"), s_f("a/b")));
    CHECK(!S_TAKES(s_f("x/a"), s_f("x/a/b")));
    CHECK(S_TAKES(s_f("a.b"), s_f("a/b"), s_f("ab/c")));
    msgpack_sbuffer_destroy(&s_buf);
}

void test_node_tree_decode_refuses_modes_not_for_the_kind(void);
void
test_node_tree_decode_refuses_modes_not_for_the_kind(void)
{
    const uint64_t file_modes[] = {0, 0600, 0664, 0777, 0100644, 1ull << 40};
    for (size_t i = 0; i < sizeof(file_modes) / sizeof(file_modes[0]); i++) {
        s_entry_t f = s_f("a");
        f.mode = file_modes[i];
        CHECK(!S_TAKES(f));
    }
    s_entry_t exec = s_f("a");
    exec.mode = 0755;
    CHECK(S_TAKES(exec));
    s_entry_t link = s_l("a");
    link.mode = 0644;
    CHECK(!S_TAKES(link));
    link.mode = 0777;
    link.size = 1;
    CHECK(!S_TAKES(link));
    msgpack_sbuffer_destroy(&s_buf);
}

void test_node_tree_decode_refuses_digests_not_32_bytes(void);
void
test_node_tree_decode_refuses_digests_not_32_bytes(void)
{
    s_entry_t f = s_f("a");
    f.data_len = 31;
    CHECK(!S_TAKES(f));
    f.data_len = 33;
    CHECK(!S_TAKES(f));
    msgpack_sbuffer_destroy(&s_buf);
}

void test_node_tree_decode_refuses_counts_over_caps_and_other_encodings(void);
void
test_node_tree_decode_refuses_counts_over_caps_and_other_encodings(void)
{
    char err[256];
    /* [1, array32 of 0x7fffffff entries] with nothing after it */
    const uint8_t liar[] = {0x92, 0x01, 0xdd, 0x7f, 0xff, 0xff, 0xff, 0x90};
    CHECK(shoal_tree_decode(liar, sizeof(liar), err, sizeof(err)) == NULL);
    /* 2000 entries declared in 2000 bytes: each takes at least 10 */
    uint8_t *thin = calloc(1, 2005);
    CHECK(thin != NULL);
    memcpy(thin, (const uint8_t[]){0x92, 0x01, 0xdc, 0x07, 0xd0}, 5);
    memset(thin + 5, 0x90, 2000);
    CHECK(shoal_tree_decode(thin, 2005, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "declares") != NULL);
    free(thin);
    /* the entry count in array16 although it fits a fixarray */
    s_pack(1, (const s_entry_t[]){s_f("a")}, 1);
    uint8_t *wide = malloc(s_buf.size + 2);
    CHECK(wide != NULL);
    memcpy(wide, (const uint8_t[]){0x92, 0x01, 0xdc, 0x00, 0x01}, 5);
    memcpy(wide + 5, s_buf.data + 3, s_buf.size - 3);
    CHECK(shoal_tree_decode(wide, s_buf.size + 2, err, sizeof(err)) == NULL);
    free(wide);
    /* the mode as a uint32 instead of a uint16 */
    const uint8_t canonical[] = {0x95, 0xa1, 'a', 0x66, 0xcd, 0x01, 0xa4, 0x03, 0xc4, 0x20};
    CHECK(memcmp(s_buf.data + 3, canonical, sizeof(canonical)) == 0);
    uint8_t *loose = malloc(s_buf.size + 2);
    CHECK(loose != NULL);
    memcpy(loose, s_buf.data, 7);
    memcpy(loose + 7, (const uint8_t[]){0xce, 0x00, 0x00, 0x01, 0xa4}, 5);
    memcpy(loose + 12, s_buf.data + 10, s_buf.size - 10);
    CHECK(shoal_tree_decode(loose, s_buf.size + 2, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "canonical") != NULL);
    free(loose);
    /* the mode as an int16: as long as the uint16 */
    uint8_t *signed16 = malloc(s_buf.size);
    CHECK(signed16 != NULL);
    memcpy(signed16, s_buf.data, s_buf.size);
    CHECK(signed16[7] == 0xcd);
    signed16[7] = 0xd1;
    CHECK(shoal_tree_decode(signed16, s_buf.size, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "canonical") != NULL);
    free(signed16);
    /* a byte after the manifest */
    msgpack_sbuffer_write(&s_buf, "", 1);
    CHECK(!s_decodes());
    CHECK(shoal_tree_decode((const uint8_t *)s_buf.data, SHOAL_TREE_MANIFEST_MAX + 1ul, err,
                            sizeof(err)) == NULL);
    msgpack_sbuffer_destroy(&s_buf);
}

void test_node_tree_decode_survives_cut_and_random_bytes(void);
void
test_node_tree_decode_survives_cut_and_random_bytes(void)
{
    s_pack(1, (const s_entry_t[]){s_f("a"), s_l("b"), s_f("c/d")}, 3);
    CHECK(s_decodes());
    char err[256];
    for (size_t len = 0; len < s_buf.size; len++)
        CHECK(shoal_tree_decode((const uint8_t *)s_buf.data, len, err, sizeof(err)) == NULL);
    srand(7);
    uint8_t noise[512];
    size_t taken = 0;
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)rand() % sizeof(noise);
        for (size_t i = 0; i < len; i++)
            noise[i] = (uint8_t)rand();
        if (round % 2) /* mostly well-formed heads, so the entries are reached */
            memcpy(noise, s_buf.data, len < s_buf.size / 2 ? len : s_buf.size / 2);
        shoal_tree_t *tree = shoal_tree_decode(noise, len, err, sizeof(err));
        taken += tree != NULL;
        shoal_tree_destroy(&tree);
    }
    CHECK_INT(taken, ==, 0);
    msgpack_sbuffer_destroy(&s_buf);
}
