/* --artifacts: the messages that ask for and name them, the offer's globs,
 * what a daemon packs (made or changed files that a glob names, nothing the
 * workspace shipped as it is), storing a file only when its bytes match its
 * digest, and where the developer may write them.
 */
#include "harness.h"
#include "scratch.h"
#include "node/artifacts.h"
#include "node/files.h"
#include "node/ship_msg.h"
#include "node/store.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST(g, n) void test_##g##_##n(void);
#include "node.list"
#undef TEST

static char *
s_scratch(void)
{
    static char dir[64];
    snprintf(dir, sizeof(dir), "/tmp/shoal-artifacts-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    return dir;
}

static shoal_ship_msg_t
s_roundtrip(const shoal_ship_msg_t *in, int expect)
{
    static uint8_t buf[GOSSIP_PAYLOAD_MAX];
    long len = shoal_ship_encode(in, buf, sizeof(buf));
    CHECK(len > 0);
    shoal_ship_msg_t out;
    CHECK_INT(shoal_ship_decode(buf, (size_t)len, &out), ==, expect);
    return out;
}

void
test_node_artifacts_messages_round_trip(void)
{
    shoal_ship_msg_t collect = {.type = SHOAL_SHIP_COLLECT, .session = "s1"};
    shoal_ship_msg_t out = s_roundtrip(&collect, 0);
    CHECK(out.type == SHOAL_SHIP_COLLECT && strcmp(out.session, "s1") == 0);
    shoal_ship_msg_clear(&out);

    shoal_ship_msg_t ready = {.type = SHOAL_SHIP_ARTIFACTS,
                              .session = "s1",
                              .accepted = true,
                              .index_size = 40,
                              .files = 3,
                              .bytes = 1234};
    ready.digest[5] = 9;
    out = s_roundtrip(&ready, 0);
    CHECK(out.type == SHOAL_SHIP_ARTIFACTS && out.accepted && out.digest[5] == 9);
    CHECK(out.index_size == 40 && out.files == 3 && out.bytes == 1234);
    shoal_ship_msg_clear(&out);
    /* Nothing matched: ready, with no index to fetch. */
    ready.files = ready.index_size = ready.bytes = 0;
    out = s_roundtrip(&ready, 0);
    CHECK(out.accepted && out.files == 0);
    shoal_ship_msg_clear(&out);
    /* Files, but no index to find them by; more entries than a tree holds. */
    ready.files = 2;
    s_roundtrip(&ready, -1);
    ready.index_size = 40;
    ready.files = SHOAL_TREE_ENTRIES_MAX + 1;
    s_roundtrip(&ready, -1);

    shoal_ship_msg_t lost = {.type = SHOAL_SHIP_ARTIFACTS,
                             .session = "s1",
                             .text = "the session was abandoned on d1 before it completed"};
    out = s_roundtrip(&lost, 0);
    CHECK(!out.accepted && strcmp(out.text, lost.text) == 0);
    shoal_ship_msg_clear(&out);
    /* A COLLECT without a session. */
    collect.session[0] = '\0';
    s_roundtrip(&collect, -1);
}

void
test_node_artifacts_offer_carries_globs_within_the_cap(void)
{
    static char *argv[] = {"pytest", NULL}, *env[] = {NULL};
    char *globs[SHOAL_SHIP_ARTIFACT_GLOBS + 2];
    for (size_t count = SHOAL_SHIP_ARTIFACT_GLOBS; count <= SHOAL_SHIP_ARTIFACT_GLOBS + 1;
         count++) {
        for (size_t i = 0; i < count; i++)
            globs[i] = "reports/*.xml";
        globs[count] = NULL;
        shoal_offer_t o = {.handoff = {.argv = argv, .argc = 1, .cwd = "/", .env = env},
                           .manifest_size = 40,
                           .issued = 1700000000,
                           .artifacts = globs};
        snprintf(o.developer, sizeof(o.developer), "dev");
        snprintf(o.handoff.run.session, sizeof(o.handoff.run.session), "s1");
        uint8_t *body = NULL;
        long len = shoal_offer_encode(&o, &body);
        CHECK(len > 0);
        shoal_offer_t back;
        int rc = shoal_offer_decode(body, (size_t)len, &back);
        free(body);
        if (count > SHOAL_SHIP_ARTIFACT_GLOBS) {
            CHECK_INT(rc, ==, -1);
            continue;
        }
        CHECK_INT(rc, ==, 0);
        size_t n = 0;
        while (back.artifacts[n])
            CHECK(strcmp(back.artifacts[n++], "reports/*.xml") == 0);
        CHECK(n == count);
        shoal_offer_clear(&back);
    }
}

/* The store's blob, whole, as a string (malloc'd). */
static char *
s_blob(shoal_store_t *store, const uint8_t digest[SHOAL_DIGEST_BYTES])
{
    int64_t size = shoal_store_size(store, digest);
    CHECK(size >= 0);
    char *buf = calloc(1, (size_t)size + 1);
    CHECK(shoal_store_read(store, digest, 0, (uint8_t *)buf, (size_t)size) == (long)size);
    return buf;
}

void
test_node_artifacts_pack_keeps_what_the_tests_made_or_changed(void)
{
    char *root = s_scratch(), dir[128], err[512] = "";
    snprintf(dir, sizeof(dir), "%s/session", root);
    CHECK(mkdir(dir, 0755) == 0);
    scratch_write(dir, "data/input.txt", "tracked\n");
    scratch_write(dir, "data/same.txt", "tracked\n");
    scratch_write(dir, "src/code.py", "x = 1\n");
    const char *all[] = {"*"};
    shoal_tree_t *shipped = shoal_tree_scan_matching(dir, all, 1, NULL, err, sizeof(err));
    CHECK(shipped && shoal_tree_count(shipped) == 3);
    /* what the tests do */
    scratch_write(dir, "data/input.txt", "tracked\nchanged\n");
    scratch_write(dir, "data/new.txt", "new\n");
    scratch_write(dir, "out/deep/report.xml", "<r/>\n");
    scratch_write(dir, "scratch.log", "not named\n");
    char link[256];
    snprintf(link, sizeof(link), "%s/out/latest", dir);
    CHECK(symlink("deep/report.xml", link) == 0);

    char store_dir[128];
    snprintf(store_dir, sizeof(store_dir), "%s/store", root);
    shoal_store_t *store = shoal_store_new(store_dir, 0, err, sizeof(err));
    CHECK(store != NULL);
    char *globs[] = {"data/*", "out/*", NULL};
    shoal_artifacts_packed_t packed;
    CHECK_INT(shoal_artifacts_pack(store, dir, globs, shipped, &packed, err, sizeof(err)), ==, 0);
    CHECK(packed.files == 4 && packed.index_size > 0);

    /* The index names the manifest's pages; the manifest, the files. */
    uint8_t *index = (uint8_t *)s_blob(store, packed.root);
    shoal_page_t *pages = NULL;
    long count = shoal_pages_parse(index, packed.index_size, &pages);
    CHECK(count > 0);
    size_t len = pages[count - 1].offset + pages[count - 1].size;
    uint8_t *manifest = malloc(len);
    for (long i = 0; i < count; i++) {
        char *page = s_blob(store, pages[i].digest);
        memcpy(manifest + pages[i].offset, page, pages[i].size);
        free(page);
    }
    shoal_tree_t *tree = shoal_tree_decode(manifest, len, err, sizeof(err));
    CHECK(tree != NULL && shoal_tree_count(tree) == 4);
    const char *want[] = {"data/input.txt", "data/new.txt", "out/deep/report.xml", "out/latest"};
    for (size_t i = 0; i < 4; i++)
        CHECK(strcmp(shoal_tree_entry(tree, i)->path, want[i]) == 0);
    CHECK(shoal_tree_entry(tree, 3)->kind == SHOAL_TREE_LINK);
    char *changed = s_blob(store, shoal_tree_entry(tree, 0)->digest);
    CHECK(strcmp(changed, "tracked\nchanged\n") == 0);
    free(changed);
    CHECK_INT(packed.bytes, ==, strlen("tracked\nchanged\n") + strlen("new\n") + strlen("<r/>\n"));

    /* Nothing named: nothing stored. */
    char *none[] = {"nothing/*", NULL};
    uint64_t blobs = shoal_store_blobs(store);
    CHECK_INT(shoal_artifacts_pack(store, dir, none, shipped, &packed, err, sizeof(err)), ==, 0);
    CHECK(packed.files == 0 && packed.index_size == 0 && shoal_store_blobs(store) == blobs);

    shoal_tree_destroy(&tree);
    free(manifest);
    free(pages);
    free(index);
    shoal_tree_destroy(&shipped);
    shoal_store_destroy(&store);
    scratch_remove_tree(root);
}

void
test_node_artifacts_put_file_stores_only_matching_bytes(void)
{
    char *root = s_scratch(), path[128], store_dir[128], err[512] = "";
    scratch_write(root, "file", "the bytes hashed\n");
    snprintf(path, sizeof(path), "%s/file", root);
    snprintf(store_dir, sizeof(store_dir), "%s/store", root);
    shoal_store_t *store = shoal_store_new(store_dir, 0, err, sizeof(err));
    CHECK(store != NULL);
    uint8_t digest[SHOAL_DIGEST_BYTES];
    CHECK(shoal_tree_hash_file(path, digest) == 0);
    /* The file changes between the scan and the copy. */
    scratch_write(root, "file", "other bytes now!\n");
    CHECK_INT(shoal_store_put_file(store, path, digest, 17, err, sizeof(err)), ==, -1);
    CHECK(!shoal_store_has(store, digest));
    scratch_write(root, "file", "the bytes hashed\n");
    CHECK_INT(shoal_store_put_file(store, path, digest, 17, err, sizeof(err)), ==, 0);
    CHECK(shoal_store_has(store, digest));
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/missing", root);
    uint8_t other[SHOAL_DIGEST_BYTES] = {1};
    CHECK_INT(shoal_store_put_file(store, missing, other, 1, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "missing") != NULL);
    shoal_store_destroy(&store);
    scratch_remove_tree(root);
}

static bool
s_exists(const char *dir, const char *name)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

void
test_node_artifacts_dir_is_written_only_when_shoal_owns_it(void)
{
    char *root = s_scratch(), dir[128], err[512] = "";
    /* missing: made, with the marker, at the start */
    snprintf(dir, sizeof(dir), "%s/missing/below", root);
    CHECK_INT(shoal_artifacts_claim_dir(dir, err, sizeof(err)), ==, 0);
    CHECK(s_exists(dir, SHOAL_ARTIFACTS_MARKER));
    /* empty: taken */
    snprintf(dir, sizeof(dir), "%s/empty", root);
    CHECK(mkdir(dir, 0755) == 0);
    CHECK_INT(shoal_artifacts_claim_dir(dir, err, sizeof(err)), ==, 0);
    CHECK(s_exists(dir, SHOAL_ARTIFACTS_MARKER));
    /* an earlier run's files go; a live run's store stays, a dead one's goes */
    scratch_write(dir, SHOAL_ARTIFACTS_MARKER, "d1\n");
    scratch_write(dir, "d1/out/old.txt", "old\n");
    char live[64], dead[64];
    snprintf(live, sizeof(live), ".store-%ld/blob", (long)getpid());
    snprintf(dead, sizeof(dead), ".store-%d/blob", 999999999);
    scratch_write(dir, live, "x");
    scratch_write(dir, dead, "x");
    CHECK_INT(shoal_artifacts_claim_dir(dir, err, sizeof(err)), ==, 0);
    CHECK(!s_exists(dir, "d1") && s_exists(dir, live) && !s_exists(dir, dead));
    CHECK(s_exists(dir, SHOAL_ARTIFACTS_MARKER));
    /* something the marker does not list is someone else's: refused, and
     * nothing removed, not even what the marker lists */
    scratch_write(dir, SHOAL_ARTIFACTS_MARKER, "d2\n");
    scratch_write(dir, "d2/out/old.txt", "old\n");
    scratch_write(dir, "analysis/report.csv", "mine\n");
    CHECK_INT(shoal_artifacts_claim_dir(dir, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "'analysis'") != NULL);
    CHECK(s_exists(dir, "analysis/report.csv") && s_exists(dir, "d2/out/old.txt"));
    /* the user's files: refused and left alone */
    scratch_write(root, "mine/notes.txt", "mine\n");
    snprintf(dir, sizeof(dir), "%s/mine", root);
    CHECK_INT(shoal_artifacts_claim_dir(dir, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "did not put there") != NULL);
    CHECK(s_exists(dir, "notes.txt") && !s_exists(dir, SHOAL_ARTIFACTS_MARKER));
    snprintf(dir, sizeof(dir), "%s/mine/notes.txt", root);
    CHECK_INT(shoal_artifacts_claim_dir(dir, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, "not a directory") != NULL);
    /* one that cannot be made: said at the start */
    snprintf(dir, sizeof(dir), "%s/mine/notes.txt/below", root);
    CHECK_INT(shoal_artifacts_claim_dir(dir, err, sizeof(err)), ==, -1);
    CHECK_INT(shoal_artifacts_claim_dir("", err, sizeof(err)), ==, -1);
    scratch_remove_tree(root);
}

void
test_node_artifacts_its_own_dir_is_never_shipped(void)
{
    char *root = s_scratch(), err[512] = "";
    scratch_write(root, "keep.txt", "mine\n");
    scratch_write(root, "sub/shoal-artifacts/" SHOAL_ARTIFACTS_MARKER, "");
    scratch_write(root, "sub/shoal-artifacts/d1/out/big.bin", "theirs\n");
    scratch_write(root, "sub/shoal-artifacts/.store-1/blob", "x");
    scratch_write(root, "sub/shoal-artifactsx/kept.txt", "mine\n");
    const char *all[] = {"*"};
    shoal_tree_t *tree = shoal_tree_scan_matching(root, all, 1, NULL, err, sizeof(err));
    CHECK(tree != NULL);
    CHECK_INT(shoal_tree_count(tree), ==, 2);
    CHECK(strcmp(shoal_tree_entry(tree, 0)->path, "keep.txt") == 0);
    CHECK(strcmp(shoal_tree_entry(tree, 1)->path, "sub/shoal-artifactsx/kept.txt") == 0);
    shoal_tree_destroy(&tree);
    scratch_remove_tree(root);
}

void
test_node_artifacts_globs_that_can_never_match_are_named(void)
{
    const char *bad[] = {"",         "/tmp/*", "./out/*", "out/",    "../*",
                         "out/../x", "a/..",   "out//*",  "out/./*", "."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(shoal_tree_glob_problem(bad[i]) != NULL);
    const char *good[] = {"out/*", "*.log", "..data/*", "a/..b", "[", "x"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(shoal_tree_glob_problem(good[i]) == NULL);
}

/* What the tests left when they made a directory unreadable or a path too
 * long to name, as the daemon's unprivileged user (nobody, when these tests
 * run as root, which reads any directory anyway): the walk opens up what
 * the user owns, says when a path is too long, and the session directory
 * is removed either way. Runs in a child; its exit status is the verdict. */
static int
s_pack_as_owner(const char *root)
{
    if (geteuid() == 0 &&
        (chown(root, 65534, 65534) != 0 || setgid(65534) != 0 || setuid(65534) != 0))
        return 10;
    char dir[128], err[512] = "", store_dir[128];
    snprintf(dir, sizeof(dir), "%s/session", root);
    snprintf(store_dir, sizeof(store_dir), "%s/store", root);
    scratch_write(root, "session/art/report.txt", "kept\n");
    scratch_write(root, "session/scratch/locked/secret.txt", "x");
    scratch_write(root, "session/art/locked.txt", "kept too\n");
    char locked[160];
    snprintf(locked, sizeof(locked), "%s/scratch/locked", dir);
    char locked_file[160];
    snprintf(locked_file, sizeof(locked_file), "%s/art/locked.txt", dir);
    if (chmod(locked, 0) != 0 || chmod(locked_file, 0) != 0)
        return 11;
    shoal_store_t *store = shoal_store_new(store_dir, 0, err, sizeof(err));
    if (!store)
        return 12;
    char *globs[] = {"art/*", NULL};
    shoal_artifacts_packed_t packed;
    if (shoal_artifacts_pack(store, dir, globs, NULL, &packed, err, sizeof(err)) != 0 ||
        packed.files != 2)
        return 13;
    /* a path over SHOAL_TREE_PATH_MAX bytes: an error, not a file left out */
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    char name[201];
    memset(name, 'd', 200);
    name[200] = '\0';
    for (int i = 0; i < 25; i++) {
        int next = mkdirat(fd, name, 0755) == 0 ? openat(fd, name, O_RDONLY | O_DIRECTORY) : -1;
        close(fd);
        if (next < 0)
            return 14;
        fd = next;
    }
    close(fd);
    if (shoal_artifacts_pack(store, dir, globs, NULL, &packed, err, sizeof(err)) == 0 ||
        !strstr(err, "longer than"))
        return 15;
    shoal_store_destroy(&store);
    if (chmod(locked, 0) != 0) /* the walk opened it up: locked again for the removal */
        return 16;
    shoal_remove_tree(dir);
    return access(dir, F_OK) == 0 ? 17 : 0;
}

void
test_node_artifacts_what_tests_lock_or_nest_deep_is_named_and_removed(void)
{
    char *root = s_scratch();
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
        _exit(s_pack_as_owner(root));
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "s_pack_as_owner: status %d\n", status);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    scratch_remove_tree(root);
}
