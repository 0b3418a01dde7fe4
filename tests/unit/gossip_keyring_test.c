/* Behaviours of the cluster keyring (gossip/keyring.c): sealed frames open
 * only under a key the ring holds, any changed byte is caught, insecure and
 * keyed rings refuse each other's frames, keys rotate without a flag day, and
 * key files fail with the file and line named.
 */
#include "harness.h"
#define TEST(g, n) void test_##g##_##n(void);
#include "gossip.list"
#undef TEST

#include "gossip/gossip.h"

#include <errno.h>
#include <sodium.h>
#include <unistd.h>

static const char s_plain[] = "a gossip frame, more or less";
#define S_PLAIN_LEN (sizeof(s_plain) - 1)

static void
s_key(uint8_t key[GOSSIP_KEY_BYTES], uint8_t fill)
{
    memset(key, fill, GOSSIP_KEY_BYTES);
}

/* A ring holding the keys filled with each byte of fills, in order. */
static gossip_keyring_t *
s_ring(const char *fills)
{
    gossip_keyring_t *ring = gossip_keyring_new();
    CHECK(ring);
    for (const char *f = fills; *f; f++) {
        uint8_t key[GOSSIP_KEY_BYTES];
        s_key(key, (uint8_t)*f);
        CHECK_INT(gossip_keyring_add(ring, key), ==, 0);
    }
    CHECK_INT(gossip_keyring_size(ring), ==, strlen(fills));
    return ring;
}

static long
s_seal(const gossip_keyring_t *ring, uint8_t *out, size_t out_size)
{
    return gossip_keyring_seal(ring, (const uint8_t *)s_plain, S_PLAIN_LEN, out, out_size);
}

/* Opens sealed with ring; if it opens, the plaintext must be s_plain. */
static long
s_open(const gossip_keyring_t *ring, const uint8_t *sealed, size_t len)
{
    uint8_t out[256];
    long rc = gossip_keyring_open(ring, sealed, len, out, sizeof(out));
    if (rc >= 0) {
        CHECK_INT(rc, ==, S_PLAIN_LEN);
        CHECK(memcmp(out, s_plain, S_PLAIN_LEN) == 0);
    }
    return rc;
}

/* Whether a frame sealed by the primary of from opens with to. */
static long
s_cross(const gossip_keyring_t *from, const gossip_keyring_t *to)
{
    uint8_t sealed[256];
    long len = s_seal(from, sealed, sizeof(sealed));
    CHECK_INT(len, >, 0);
    return s_open(to, sealed, (size_t)len);
}

/* The same for two rings made from fills, as s_ring() makes them. */
static long
s_cross_rings(const char *from_fills, const char *to_fills)
{
    gossip_keyring_t *from = s_ring(from_fills), *to = s_ring(to_fills);
    long rc = s_cross(from, to);
    gossip_keyring_destroy(&from);
    gossip_keyring_destroy(&to);
    return rc;
}

static char s_dir[] = "/tmp/shoal-keyring-XXXXXX";
static char s_path[sizeof(s_dir) + 16];

/* Writes text to keys.txt in a fresh directory; returns its path. */
static const char *
s_write_file(const char *text)
{
    CHECK(mkdtemp(s_dir));
    snprintf(s_path, sizeof(s_path), "%s/keys.txt", s_dir);
    FILE *f = fopen(s_path, "w");
    CHECK(f);
    fputs(text, f);
    fclose(f);
    return s_path;
}

static void
s_remove_file(void)
{
    unlink(s_path);
    rmdir(s_dir);
}

/* ------------------------------------------------------------ sealing */

void
test_gossip_keyring_seal_open_roundtrip(void)
{
    gossip_keyring_t *ring = s_ring("A");
    uint8_t sealed[256], again[256];
    long len = s_seal(ring, sealed, sizeof(sealed));
    CHECK_INT(len, ==, S_PLAIN_LEN + GOSSIP_SEAL_OVERHEAD);
    CHECK(sealed[0] != 0);
    CHECK(memmem(sealed, (size_t)len, s_plain, 8) == NULL);
    CHECK_INT(s_open(ring, sealed, (size_t)len), ==, S_PLAIN_LEN);
    /* A fresh nonce each time: the same plaintext never seals the same. */
    CHECK_INT(s_seal(ring, again, sizeof(again)), ==, len);
    CHECK(memcmp(sealed, again, (size_t)len) != 0);
    /* An empty plaintext is still a frame. */
    len = gossip_keyring_seal(ring, NULL, 0, sealed, sizeof(sealed));
    CHECK_INT(len, ==, GOSSIP_SEAL_OVERHEAD);
    CHECK_INT(gossip_keyring_open(ring, sealed, (size_t)len, again, sizeof(again)), ==, 0);
    gossip_keyring_destroy(&ring);
    CHECK(ring == NULL);
    gossip_keyring_destroy(&ring);
}

void
test_gossip_keyring_insecure_roundtrip(void)
{
    gossip_keyring_t *ring = s_ring("");
    uint8_t sealed[256];
    long len = s_seal(ring, sealed, sizeof(sealed));
    CHECK_INT(len, ==, S_PLAIN_LEN + 1);
    CHECK_INT(sealed[0], ==, 0);
    CHECK(memcmp(sealed + 1, s_plain, S_PLAIN_LEN) == 0);
    CHECK_INT(s_open(ring, sealed, (size_t)len), ==, S_PLAIN_LEN);
    gossip_keyring_destroy(&ring);
}

void
test_gossip_keyring_rejects_wrong_key(void)
{
    CHECK_INT(s_cross_rings("A", "B"), ==, GOSSIP_KEYRING_EKEYID);
    gossip_keyring_t *a = s_ring("A");

    /* A key with the same id byte but other bits: found by search, since
     * the id is a single hash byte. It must fail to authenticate. */
    uint8_t sealed[256], key[GOSSIP_KEY_BYTES], hash[crypto_generichash_BYTES];
    long len = s_seal(a, sealed, sizeof(sealed));
    gossip_keyring_t *twin = NULL;
    for (uint32_t i = 0; !twin; i++) {
        s_key(key, 'A');
        memcpy(key, &i, sizeof(i));
        crypto_generichash(hash, sizeof(hash), key, sizeof(key), NULL, 0);
        if (hash[0] % 255 + 1 == sealed[0] && memcmp(key, "AAAA", 4) != 0) {
            twin = gossip_keyring_new();
            gossip_keyring_add(twin, key);
        }
    }
    CHECK_INT(s_open(twin, sealed, (size_t)len), ==, GOSSIP_KEYRING_EAUTH);
    /* Colliding ids are each tried: [twin, A] still opens A's frames. */
    uint8_t a_key[GOSSIP_KEY_BYTES];
    s_key(a_key, 'A');
    gossip_keyring_add(twin, a_key);
    CHECK_INT(s_open(twin, sealed, (size_t)len), ==, S_PLAIN_LEN);
    gossip_keyring_destroy(&a);
    gossip_keyring_destroy(&twin);
}

void
test_gossip_keyring_rejects_tampering(void)
{
    gossip_keyring_t *ring = s_ring("A");
    uint8_t sealed[256];
    long len = s_seal(ring, sealed, sizeof(sealed));
    for (long i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            sealed[i] ^= (uint8_t)(1u << bit);
            CHECK_INT(s_open(ring, sealed, (size_t)len), <, 0);
            sealed[i] ^= (uint8_t)(1u << bit);
        }
    }
    CHECK_INT(s_open(ring, sealed, (size_t)len), ==, S_PLAIN_LEN);
    /* Every prefix is refused too, and so is a byte added at the end. */
    for (long cut = 0; cut < len; cut++)
        CHECK_INT(s_open(ring, sealed, (size_t)cut), <, 0);
    CHECK_INT(s_open(ring, sealed, 0), ==, GOSSIP_KEYRING_ETRUNCATED);
    CHECK_INT(s_open(ring, sealed, GOSSIP_SEAL_OVERHEAD - 1), ==, GOSSIP_KEYRING_ETRUNCATED);
    sealed[len] = 0;
    CHECK_INT(s_open(ring, sealed, (size_t)len + 1), ==, GOSSIP_KEYRING_EAUTH);
    gossip_keyring_destroy(&ring);
}

void
test_gossip_keyring_keyed_rejects_unsealed(void)
{
    CHECK_INT(s_cross_rings("", "A"), ==, GOSSIP_KEYRING_EPLAIN);
}

void
test_gossip_keyring_empty_rejects_sealed(void)
{
    CHECK_INT(s_cross_rings("A", ""), ==, GOSSIP_KEYRING_ESEALED);
}

void
test_gossip_keyring_rotation(void)
{
    /* Step 1: everyone on [old]. Step 2: some nodes on [new, old]: they
     * read the old nodes, but the old nodes cannot read them yet. Step 3:
     * [new] alone reads [new, old] but no longer [old]. */
    CHECK_INT(s_cross_rings("O", "NO"), ==, S_PLAIN_LEN);
    CHECK_INT(s_cross_rings("NO", "O"), ==, GOSSIP_KEYRING_EKEYID);
    CHECK_INT(s_cross_rings("NO", "N"), ==, S_PLAIN_LEN);
    CHECK_INT(s_cross_rings("N", "NO"), ==, S_PLAIN_LEN);
    CHECK_INT(s_cross_rings("O", "N"), ==, GOSSIP_KEYRING_EKEYID);
    /* [old, new]: seals with old (everyone still reads it), also reads new. */
    CHECK_INT(s_cross_rings("ON", "O"), ==, S_PLAIN_LEN);
    CHECK_INT(s_cross_rings("N", "ON"), ==, S_PLAIN_LEN);
}

void
test_gossip_keyring_holds_eight_keys(void)
{
    gossip_keyring_t *ring = s_ring("12345678");
    uint8_t key[GOSSIP_KEY_BYTES];
    s_key(key, '9');
    CHECK_INT(gossip_keyring_add(ring, key), ==, -1);
    CHECK_INT(gossip_keyring_size(ring), ==, 8);
    gossip_keyring_destroy(&ring);
}

void
test_gossip_keyring_rejects_small_buffers(void)
{
    gossip_keyring_t *keyed = s_ring("A"), *insecure = s_ring("");
    uint8_t sealed[256], out[256];
    CHECK_INT(s_seal(keyed, sealed, S_PLAIN_LEN + GOSSIP_SEAL_OVERHEAD - 1), ==, -1);
    CHECK_INT(s_seal(keyed, sealed, 3), ==, -1);
    CHECK_INT(s_seal(insecure, sealed, S_PLAIN_LEN), ==, -1);
    CHECK_INT(s_seal(insecure, sealed, 0), ==, -1);
    long len = s_seal(keyed, sealed, sizeof(sealed));
    CHECK_INT(gossip_keyring_open(keyed, sealed, (size_t)len, out, S_PLAIN_LEN - 1), ==,
              GOSSIP_KEYRING_ETOOBIG);
    len = s_seal(insecure, sealed, sizeof(sealed));
    CHECK_INT(gossip_keyring_open(insecure, sealed, (size_t)len, out, S_PLAIN_LEN - 1), ==,
              GOSSIP_KEYRING_ETOOBIG);
    gossip_keyring_destroy(&keyed);
    gossip_keyring_destroy(&insecure);
}

/* ------------------------------------------------------------ key text */

void
test_gossip_keyring_parse_base64(void)
{
    uint8_t key[GOSSIP_KEY_BYTES], want[GOSSIP_KEY_BYTES];
    for (int i = 0; i < GOSSIP_KEY_BYTES; i++)
        want[i] = (uint8_t)i;
    CHECK_INT(gossip_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", key), ==, 0);
    CHECK(memcmp(key, want, sizeof(key)) == 0);
}

void
test_gossip_keyring_parse_hex(void)
{
    uint8_t key[GOSSIP_KEY_BYTES], want[GOSSIP_KEY_BYTES];
    for (int i = 0; i < GOSSIP_KEY_BYTES; i++)
        want[i] = (uint8_t)(0xa0 + i);
    CHECK_INT(
        gossip_key_parse("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf", key),
        ==, 0);
    CHECK(memcmp(key, want, sizeof(key)) == 0);
    CHECK_INT(
        gossip_key_parse("A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF", key),
        ==, 0);
    CHECK(memcmp(key, want, sizeof(key)) == 0);
}

void
test_gossip_keyring_parse_rejects_garbage(void)
{
    static const char *bad[] = {
        "",
        "hunter2",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",                      /* no padding */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==",                    /* 45 chars */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh!=",                     /* bad char */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",                   /* untrimmed */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v", /* 48 bytes */
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebg", /* not hex */
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbeb",  /* 63 */
    };
    uint8_t key[GOSSIP_KEY_BYTES];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK_INT(gossip_key_parse(bad[i], key), ==, -1);
}

void
test_gossip_keyring_generate(void)
{
    char a[64], b[64], small[44];
    uint8_t key[GOSSIP_KEY_BYTES];
    gossip_key_generate(a, sizeof(a));
    gossip_key_generate(b, 45);
    CHECK_INT(strlen(a), ==, 44);
    CHECK_INT(strlen(b), ==, 44);
    CHECK(strcmp(a, b) != 0);
    CHECK_INT(gossip_key_parse(a, key), ==, 0);
    gossip_key_generate(small, sizeof(small));
    CHECK_STR(small, "");
}

/* ------------------------------------------------------------ key files */

void
test_gossip_keyring_load_with_comments(void)
{
    const char *path = s_write_file("# cluster keys, newest first\n"
                                    "\n"
                                    "   AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=  \r\n"
                                    "\t# the old one, drop after the rollout\n"
                                    "4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f"
                                    "4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f");
    gossip_keyring_t *ring = gossip_keyring_new();
    char err[256] = "";
    CHECK_INT(gossip_keyring_load(ring, path, err, sizeof(err)), ==, 0);
    CHECK_INT(gossip_keyring_size(ring), ==, 2);

    /* The first key seals; the second ('O' * 32) still opens. */
    uint8_t first[GOSSIP_KEY_BYTES];
    CHECK_INT(gossip_key_parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", first), ==, 0);
    gossip_keyring_t *primary = gossip_keyring_new(), *old = s_ring("O");
    gossip_keyring_add(primary, first);
    CHECK_INT(s_cross(ring, primary), ==, S_PLAIN_LEN);
    CHECK_INT(s_cross(old, ring), ==, S_PLAIN_LEN);
    s_remove_file();
    gossip_keyring_destroy(&ring);
    gossip_keyring_destroy(&primary);
    gossip_keyring_destroy(&old);
}

void
test_gossip_keyring_load_reports_bad_line(void)
{
    const char *path = s_write_file("# keys\n"
                                    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
                                    "not-a-key\n");
    gossip_keyring_t *ring = gossip_keyring_new();
    char err[512], want[512];
    CHECK_INT(gossip_keyring_load(ring, path, err, sizeof(err)), ==, -1);
    snprintf(want, sizeof(want), "%s:3: not a 32-byte key in base64 or hex", path);
    CHECK_STR(err, want);
    /* A bad file adds nothing, not even its good lines. */
    CHECK_INT(gossip_keyring_size(ring), ==, 0);
    s_remove_file();
    gossip_keyring_destroy(&ring);
}

void
test_gossip_keyring_load_reports_missing_file(void)
{
    gossip_keyring_t *ring = gossip_keyring_new();
    char err[512], want[512];
    const char *path = "/nonexistent/shoal/keys.txt";
    CHECK_INT(gossip_keyring_load(ring, path, err, sizeof(err)), ==, -1);
    snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
    CHECK_STR(err, want);
    gossip_keyring_destroy(&ring);
}

void
test_gossip_keyring_load_rejects_no_key(void)
{
    const char *path = s_write_file("# nothing here yet\n\n   \n");
    gossip_keyring_t *ring = gossip_keyring_new();
    char err[512];
    CHECK_INT(gossip_keyring_load(ring, path, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, path) == err);
    CHECK(strstr(err, "no key"));
    s_remove_file();
    gossip_keyring_destroy(&ring);
}

void
test_gossip_keyring_load_rejects_ninth_key(void)
{
    char text[1024] = "";
    for (int i = 0; i < 9; i++)
        strcat(text, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n");
    const char *path = s_write_file(text);
    gossip_keyring_t *ring = gossip_keyring_new();
    char err[512];
    CHECK_INT(gossip_keyring_load(ring, path, err, sizeof(err)), ==, -1);
    CHECK(strstr(err, ":9: "));
    CHECK_INT(gossip_keyring_size(ring), ==, 0);
    s_remove_file();
    gossip_keyring_destroy(&ring);
}

void
test_gossip_keyring_error_names(void)
{
    CHECK_STR(gossip_keyring_error_str(GOSSIP_KEYRING_EAUTH), "failed to authenticate");
    CHECK_STR(gossip_keyring_error_str(GOSSIP_KEYRING_EKEYID), "unknown key id");
    CHECK_STR(gossip_keyring_error_str(-42), "unknown error");
}
