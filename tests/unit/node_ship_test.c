/* node/ship_msg.c and node/fetch.c: the shipping messages and the chunk
 * fetch, with a fake network of members that hold blobs in memory, a fake
 * clock, and a real store in a scratch directory. */
#include "harness.h"
#include "node/fetch.h"
#include "node/ship_msg.h"
#include "node/store.h"
#include "scratch.h"

#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- messages */

static shoal_ship_msg_t
s_roundtrip(const shoal_ship_msg_t *in)
{
    static uint8_t buf[GOSSIP_PAYLOAD_MAX];
    long len = shoal_ship_encode(in, buf, sizeof(buf));
    CHECK(len > 0);
    CHECK(shoal_ship_is(buf, (size_t)len));
    shoal_ship_msg_t out;
    CHECK(shoal_ship_decode(buf, (size_t)len, &out) == 0);
    return out;
}

void test_node_ship_messages_round_trip(void);
void
test_node_ship_messages_round_trip(void)
{
    uint8_t body[100], data[SHOAL_SHIP_CHUNK];
    randombytes_buf(body, sizeof(body));
    randombytes_buf(data, sizeof(data));
    shoal_ship_msg_t offer = {
        .type = SHOAL_SHIP_OFFER, .session = "s1", .body = body, .body_len = sizeof(body)};
    randombytes_buf(offer.key, sizeof(offer.key));
    randombytes_buf(offer.signature, sizeof(offer.signature));
    shoal_ship_msg_t out = s_roundtrip(&offer);
    CHECK(out.type == SHOAL_SHIP_OFFER && strcmp(out.session, "s1") == 0);
    CHECK(out.body_len == sizeof(body) && memcmp(out.body, body, sizeof(body)) == 0);
    CHECK(memcmp(out.key, offer.key, sizeof(out.key)) == 0);
    CHECK(memcmp(out.signature, offer.signature, sizeof(out.signature)) == 0);
    shoal_ship_msg_clear(&out);

    shoal_ship_msg_t chunk = {.type = SHOAL_SHIP_CHUNK_MSG,
                              .offset = SHOAL_SHIP_CHUNK,
                              .size = 3 * SHOAL_SHIP_CHUNK,
                              .data = data,
                              .data_len = sizeof(data)};
    chunk.digest[0] = 7;
    out = s_roundtrip(&chunk);
    CHECK(out.type == SHOAL_SHIP_CHUNK_MSG && out.digest[0] == 7);
    CHECK(out.offset == SHOAL_SHIP_CHUNK && out.size == 3 * SHOAL_SHIP_CHUNK);
    CHECK(out.data_len == sizeof(data) && memcmp(out.data, data, sizeof(data)) == 0);
    shoal_ship_msg_clear(&out);

    shoal_ship_msg_t answer = {
        .type = SHOAL_SHIP_ANSWER, .session = "s1", .accepted = false, .text = "toolchain differs"};
    out = s_roundtrip(&answer);
    CHECK(!out.accepted && strcmp(out.text, "toolchain differs") == 0);
    shoal_ship_msg_clear(&out);
}

void test_node_ship_messages_out_of_bounds_are_refused(void);
void
test_node_ship_messages_out_of_bounds_are_refused(void)
{
    static uint8_t buf[GOSSIP_PAYLOAD_MAX];
    shoal_ship_msg_t m;
    /* A chunk saying it lies past the blob's end. */
    uint8_t data[10] = {0};
    shoal_ship_msg_t chunk = {.type = SHOAL_SHIP_CHUNK_MSG,
                              .offset = 95,
                              .size = 100,
                              .data = data,
                              .data_len = sizeof(data)};
    long len = shoal_ship_encode(&chunk, buf, sizeof(buf));
    CHECK(len > 0);
    CHECK(shoal_ship_decode(buf, (size_t)len, &m) == -1);
    /* A want of nothing, or of more than a chunk. */
    shoal_ship_msg_t want = {.type = SHOAL_SHIP_WANT, .length = 0};
    len = shoal_ship_encode(&want, buf, sizeof(buf));
    CHECK(len > 0 && shoal_ship_decode(buf, (size_t)len, &m) == -1);
    want.length = SHOAL_SHIP_CHUNK + 1;
    len = shoal_ship_encode(&want, buf, sizeof(buf));
    CHECK(len > 0 && shoal_ship_decode(buf, (size_t)len, &m) == -1);
    want.length = 1;
    len = shoal_ship_encode(&want, buf, sizeof(buf));
    CHECK(len > 0 && shoal_ship_decode(buf, (size_t)len, &m) == 0);
    /* Every truncation of a good message, and its bytes flipped one by one. */
    for (long cut = 0; cut < len; cut++)
        CHECK(shoal_ship_decode(buf, (size_t)cut, &m) == -1);
    for (long i = 0; i < len; i++) {
        buf[i] ^= 0xff;
        if (shoal_ship_decode(buf, (size_t)len, &m) == 0)
            shoal_ship_msg_clear(&m);
        buf[i] ^= 0xff;
    }
    /* Too much data to encode at all. */
    static uint8_t big[SHOAL_SHIP_CHUNK + 1];
    chunk = (shoal_ship_msg_t){
        .type = SHOAL_SHIP_CHUNK_MSG, .size = sizeof(big), .data = big, .data_len = sizeof(big)};
    CHECK(shoal_ship_encode(&chunk, buf, sizeof(buf)) == -1);
}

static void
s_offer(shoal_offer_t *o, char *cwd, char *list)
{
    static char *argv[] = {"pytest", "tests/", NULL}, *env[] = {NULL};
    static char *probe[] = {"python3", "-c", "print(1)", NULL};
    memset(o, 0, sizeof(*o));
    o->handoff = (shoal_handoff_t){.argv = argv, .argc = 2, .cwd = cwd, .env = env};
    snprintf(o->handoff.run.session, sizeof(o->handoff.run.session), "s1");
    snprintf(o->handoff.list, sizeof(o->handoff.list), "%s", list);
    o->manifest_size = 1234;
    o->probe = probe;
    snprintf(o->toolchain, sizeof(o->toolchain), "python 3.11.2 pytest 7.2.1");
    snprintf(o->developer, sizeof(o->developer), "dev");
    o->issued = 1700000000;
}

void test_node_ship_offer_paths_stay_in_the_workspace(void);
void
test_node_ship_offer_paths_stay_in_the_workspace(void)
{
    struct {
        char *cwd, *list;
        int rc;
    } cases[] = {
        {"/", "", 0},           {"/sub/dir", "/tests/list", 0},
        {"/sub/../..", "", -1}, {"sub", "", -1},
        {"/", "/a/./b", -1},    {"/", "relative", -1},
        {"/a//b", "", -1},      {"/..", "", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        shoal_offer_t o, back;
        s_offer(&o, cases[i].cwd, cases[i].list);
        uint8_t *body = NULL;
        long len = shoal_offer_encode(&o, &body);
        CHECK(len > 0);
        int rc = shoal_offer_decode(body, (size_t)len, &back);
        if (rc != cases[i].rc)
            fprintf(stderr, "case %zu: cwd '%s' list '%s': %d\n", i, cases[i].cwd, cases[i].list,
                    rc);
        CHECK(rc == cases[i].rc);
        if (rc == 0) {
            CHECK(strcmp(back.handoff.cwd, cases[i].cwd) == 0);
            CHECK(strcmp(back.probe[0], "python3") == 0 && back.probe[3] == NULL);
            CHECK(strcmp(back.toolchain, o.toolchain) == 0 && back.issued == o.issued);
            CHECK(back.manifest_size == 1234 && strcmp(back.developer, "dev") == 0);
            shoal_offer_clear(&back);
        }
        free(body);
    }
}

/* ---------------------------------------------------------------- fetch */

#define S_MEMBERS 4
#define S_BLOBS 8

typedef struct {
    char name[16];
    const uint8_t *blobs[S_BLOBS]; /* NULL: lacks it */
    bool corrupt;                  /* flips a byte of what it sends */
    bool silent;                   /* never answers */
    bool gone;                     /* the mesh cannot send to it */
} s_member_t;

typedef struct {
    char to[16];
    uint8_t *payload;
    size_t len;
} s_sent_t;

typedef struct {
    s_member_t members[S_MEMBERS];
    uint8_t *data[S_BLOBS];
    size_t sizes[S_BLOBS];
    uint8_t digests[S_BLOBS][SHOAL_DIGEST_BYTES];
    s_sent_t queue[4096];
    size_t queued;
    unsigned drop_next; /* requests lost on the way */
    size_t max_queued;
} s_net_t;

static s_member_t *s_member(s_net_t *net, const char *name);

static int
s_send(void *ctx, const char *to, const uint8_t *payload, size_t len)
{
    s_net_t *net = ctx;
    s_member_t *m = s_member(net, to);
    if (m && m->gone)
        return -1;
    if (net->drop_next) {
        net->drop_next--;
        return 0;
    }
    CHECK(net->queued < sizeof(net->queue) / sizeof(net->queue[0]));
    s_sent_t *s = &net->queue[net->queued++];
    snprintf(s->to, sizeof(s->to), "%s", to);
    s->payload = malloc(len);
    memcpy(s->payload, payload, len);
    s->len = len;
    if (net->queued > net->max_queued)
        net->max_queued = net->queued;
    return 0;
}

static s_member_t *
s_member(s_net_t *net, const char *name)
{
    for (int i = 0; i < S_MEMBERS; i++)
        if (strcmp(net->members[i].name, name) == 0)
            return &net->members[i];
    return NULL;
}

/* Every queued WANT reaches its member, whose answer reaches the fetch. */
static void
s_deliver(s_net_t *net, shoal_fetch_t *fetch, uint64_t now)
{
    size_t count = net->queued;
    net->queued = 0;
    static s_sent_t batch[4096];
    memcpy(batch, net->queue, count * sizeof(s_sent_t));
    for (size_t i = 0; i < count; i++) {
        shoal_ship_msg_t want, reply = {0};
        CHECK(shoal_ship_decode(batch[i].payload, batch[i].len, &want) == 0);
        CHECK(want.type == SHOAL_SHIP_WANT);
        free(batch[i].payload);
        s_member_t *m = s_member(net, batch[i].to);
        CHECK(m != NULL);
        if (m->silent)
            continue;
        int b = -1;
        for (int k = 0; k < S_BLOBS; k++)
            if (memcmp(net->digests[k], want.digest, SHOAL_DIGEST_BYTES) == 0 && m->blobs[k])
                b = k;
        memcpy(reply.digest, want.digest, SHOAL_DIGEST_BYTES);
        static uint8_t chunk[SHOAL_SHIP_CHUNK];
        if (b < 0) {
            reply.type = SHOAL_SHIP_NOPE;
        } else {
            size_t n = net->sizes[b] - want.offset < want.length ? net->sizes[b] - want.offset
                                                                 : want.length;
            memcpy(chunk, m->blobs[b] + want.offset, n);
            if (m->corrupt && n)
                chunk[0] ^= 1;
            reply = (shoal_ship_msg_t){.type = SHOAL_SHIP_CHUNK_MSG,
                                       .offset = want.offset,
                                       .size = net->sizes[b],
                                       .data = chunk,
                                       .data_len = n};
            memcpy(reply.digest, want.digest, SHOAL_DIGEST_BYTES);
        }
        shoal_fetch_on_msg(fetch, m->name, &reply, now);
    }
}

static void
s_net_init(s_net_t *net, const size_t *sizes, size_t count)
{
    memset(net, 0, sizeof(*net));
    const char *names[S_MEMBERS] = {"origin", "peer-a", "peer-b", "peer-c"};
    for (int i = 0; i < S_MEMBERS; i++)
        snprintf(net->members[i].name, sizeof(net->members[i].name), "%s", names[i]);
    for (size_t b = 0; b < count; b++) {
        net->sizes[b] = sizes[b];
        net->data[b] = malloc(sizes[b] ? sizes[b] : 1);
        randombytes_buf(net->data[b], sizes[b]);
        crypto_generichash(net->digests[b], SHOAL_DIGEST_BYTES, net->data[b], sizes[b], NULL, 0);
        net->members[0].blobs[b] = net->data[b]; /* the origin holds everything */
    }
}

static void
s_net_free(s_net_t *net, size_t count)
{
    for (size_t b = 0; b < count; b++)
        free(net->data[b]);
}

/* Runs the fetch to its end (or its failure) on a fake clock; the ms it took. */
static uint64_t
s_run(s_net_t *net, shoal_fetch_t *fetch)
{
    uint64_t now = 1000;
    for (int turn = 0; turn < 100000 && !shoal_fetch_done(fetch) && !shoal_fetch_failed(fetch);
         turn++) {
        uint64_t next = shoal_fetch_tick(fetch, now);
        CHECK(net->queued <= SHOAL_FETCH_WINDOW);
        if (net->queued)
            s_deliver(net, fetch, now + 1);
        now = net->queued || shoal_fetch_done(fetch) ? now + 1 : (next > now ? next : now + 1);
    }
    return now - 1000;
}

static shoal_store_t *
s_store(char *dir)
{
    snprintf(dir, 64, "/tmp/shoal-ship-test-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char err[256];
    shoal_store_t *store = shoal_store_new(dir, 0, err, sizeof(err));
    CHECK(store != NULL);
    return store;
}

static void
s_check_stored(shoal_store_t *store, const s_net_t *net, size_t b)
{
    CHECK(shoal_store_has(store, net->digests[b]));
    uint8_t *back = malloc(net->sizes[b] + 1);
    CHECK(shoal_store_read(store, net->digests[b], 0, back, net->sizes[b] + 1) ==
          (long)net->sizes[b]);
    CHECK(memcmp(back, net->data[b], net->sizes[b]) == 0);
    free(back);
}

void test_node_ship_fetch_pulls_in_chunks_within_the_window(void);
void
test_node_ship_fetch_pulls_in_chunks_within_the_window(void)
{
    char dir[64];
    shoal_store_t *store = s_store(dir);
    /* A blob of 200 chunks and a partial one, an empty blob, a small one. */
    size_t sizes[] = {200 * SHOAL_SHIP_CHUNK + 17, 0, 5};
    s_net_t net;
    s_net_init(&net, sizes, 3);
    shoal_fetch_t *fetch = shoal_fetch_new(store, "origin", s_send, &net);
    for (size_t b = 0; b < 3; b++)
        CHECK(shoal_fetch_add(fetch, net.digests[b], sizes[b]) == 0);
    s_run(&net, fetch);
    CHECK(shoal_fetch_failed(fetch) == NULL);
    CHECK(shoal_fetch_done(fetch));
    CHECK(net.max_queued <= SHOAL_FETCH_WINDOW);
    CHECK(net.max_queued == SHOAL_FETCH_WINDOW); /* and it used it */
    for (size_t b = 0; b < 3; b++)
        s_check_stored(store, &net, b);
    const shoal_fetch_stats_t *st = shoal_fetch_stats(fetch);
    CHECK_INT(st->bytes_from_origin, ==, sizes[0] + sizes[2]);
    CHECK_INT(st->requests, ==, 201 + 1);
    shoal_fetch_destroy(&fetch);
    /* Wanted again, it is in the store: nothing travels. */
    fetch = shoal_fetch_new(store, "origin", s_send, &net);
    CHECK(shoal_fetch_add(fetch, net.digests[0], sizes[0]) == 0);
    CHECK(shoal_fetch_done(fetch));
    shoal_fetch_tick(fetch, 1);
    CHECK_INT(net.queued, ==, 0);
    shoal_fetch_destroy(&fetch);
    shoal_store_destroy(&store);
    scratch_remove_tree(dir);
    s_net_free(&net, 3);
}

void test_node_ship_fetch_prefers_peers_and_falls_back_to_the_origin(void);
void
test_node_ship_fetch_prefers_peers_and_falls_back_to_the_origin(void)
{
    char dir[64];
    shoal_store_t *store = s_store(dir);
    size_t sizes[] = {3 * SHOAL_SHIP_CHUNK, 100, 200, 300};
    s_net_t net;
    s_net_init(&net, sizes, 4);
    /* peer-a holds blobs 0 and 1; peer-b none; peer-c sends bad bytes of 2. */
    net.members[1].blobs[0] = net.data[0];
    net.members[1].blobs[1] = net.data[1];
    net.members[3].blobs[2] = net.data[2];
    net.members[3].corrupt = true;
    shoal_fetch_t *fetch = shoal_fetch_new(store, "origin", s_send, &net);
    const char *peers[] = {"peer-a", "peer-b", "peer-c", "origin"};
    shoal_fetch_set_peers(fetch, peers, 4);
    for (size_t b = 0; b < 4; b++)
        CHECK(shoal_fetch_add(fetch, net.digests[b], sizes[b]) == 0);
    s_run(&net, fetch);
    CHECK(shoal_fetch_failed(fetch) == NULL && shoal_fetch_done(fetch));
    for (size_t b = 0; b < 4; b++)
        s_check_stored(store, &net, b);
    const shoal_fetch_stats_t *st = shoal_fetch_stats(fetch);
    /* Blobs 0 and 1 come from peer-a whenever it is asked before the
     * origin, which it always is (the origin is asked last); blobs 2 and 3
     * end at the origin. */
    CHECK_INT(st->blobs_from_peers, ==, 2);
    CHECK_INT(st->blobs_from_origin, ==, 2);
    CHECK_INT(st->bytes_from_peers, >=, sizes[0] + sizes[1]);
    CHECK_INT(st->mismatches, ==, 1); /* peer-c's bad copy: every peer is asked before the origin */
    shoal_fetch_destroy(&fetch);
    shoal_store_destroy(&store);
    scratch_remove_tree(dir);
    s_net_free(&net, 4);
}

void test_node_ship_fetch_asks_again_what_is_lost(void);
void
test_node_ship_fetch_asks_again_what_is_lost(void)
{
    char dir[64];
    shoal_store_t *store = s_store(dir);
    size_t sizes[] = {4 * SHOAL_SHIP_CHUNK};
    s_net_t net;
    s_net_init(&net, sizes, 1);
    net.drop_next = 2; /* two requests lost */
    shoal_fetch_t *fetch = shoal_fetch_new(store, "origin", s_send, &net);
    CHECK(shoal_fetch_add(fetch, net.digests[0], sizes[0]) == 0);
    uint64_t took = s_run(&net, fetch);
    CHECK(shoal_fetch_done(fetch));
    CHECK_INT(took, >=, SHOAL_FETCH_TIMEOUT_MS);
    CHECK_INT(shoal_fetch_stats(fetch)->timeouts, ==, 2);
    s_check_stored(store, &net, 0);
    shoal_fetch_destroy(&fetch);
    /* A silent peer is given up for the origin. */
    size_t more[] = {2 * SHOAL_SHIP_CHUNK};
    s_net_t net2;
    s_net_init(&net2, more, 1);
    net2.members[1].blobs[0] = net2.data[0];
    net2.members[1].silent = true;
    fetch = shoal_fetch_new(store, "origin", s_send, &net2);
    const char *peers[] = {"peer-a"};
    shoal_fetch_set_peers(fetch, peers, 1);
    CHECK(shoal_fetch_add(fetch, net2.digests[0], more[0]) == 0);
    s_run(&net2, fetch);
    CHECK(shoal_fetch_done(fetch));
    CHECK_INT(shoal_fetch_stats(fetch)->blobs_from_origin, ==, 1);
    shoal_fetch_destroy(&fetch);
    /* A peer that left the mesh (nothing can be sent to it) is given up at
     * once: the fetch neither waits for it nor asks it for ever. */
    s_net_t net3;
    s_net_init(&net3, more, 1);
    net3.members[1].blobs[0] = net3.data[0];
    net3.members[1].gone = true;
    fetch = shoal_fetch_new(store, "origin", s_send, &net3);
    shoal_fetch_set_peers(fetch, peers, 1);
    CHECK(shoal_fetch_add(fetch, net3.digests[0], more[0]) == 0);
    took = s_run(&net3, fetch);
    CHECK(shoal_fetch_done(fetch));
    CHECK_INT(shoal_fetch_stats(fetch)->blobs_from_origin, ==, 1);
    CHECK_INT(took, <, SHOAL_FETCH_TIMEOUT_MS);
    shoal_fetch_destroy(&fetch);
    shoal_store_destroy(&store);
    scratch_remove_tree(dir);
    s_net_free(&net, 1);
    s_net_free(&net2, 1);
    s_net_free(&net3, 1);
}

void test_node_ship_fetch_fails_when_the_origin_lacks_a_blob(void);
void
test_node_ship_fetch_fails_when_the_origin_lacks_a_blob(void)
{
    char dir[64];
    shoal_store_t *store = s_store(dir);
    size_t sizes[] = {100};
    s_net_t net;
    s_net_init(&net, sizes, 1);
    net.members[0].blobs[0] = NULL; /* changed under the developer */
    shoal_fetch_t *fetch = shoal_fetch_new(store, "origin", s_send, &net);
    CHECK(shoal_fetch_add(fetch, net.digests[0], sizes[0]) == 0);
    s_run(&net, fetch);
    CHECK(!shoal_fetch_done(fetch));
    CHECK(shoal_fetch_failed(fetch) != NULL);
    CHECK(strstr(shoal_fetch_failed(fetch), "no longer holds") != NULL);
    CHECK(!shoal_store_has(store, net.digests[0]));
    /* The origin sending bad bytes fails it too, and stores nothing. */
    shoal_fetch_destroy(&fetch);
    net.members[0].blobs[0] = net.data[0];
    net.members[0].corrupt = true;
    fetch = shoal_fetch_new(store, "origin", s_send, &net);
    CHECK(shoal_fetch_add(fetch, net.digests[0], sizes[0]) == 0);
    s_run(&net, fetch);
    CHECK(shoal_fetch_failed(fetch) != NULL);
    CHECK_INT(shoal_fetch_stats(fetch)->mismatches, ==, 1);
    CHECK(!shoal_store_has(store, net.digests[0]));
    shoal_fetch_destroy(&fetch);
    shoal_store_destroy(&store);
    scratch_remove_tree(dir);
    s_net_free(&net, 1);
}

/* ---------------------------------------------------------------- manifest pages */

/* A manifest of n files whose file `changed` has other bytes. */
static size_t
s_manifest(uint8_t **out, size_t n, size_t changed)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < n; i++) {
        char path[32];
        int len = snprintf(path, sizeof(path), "data/f%05zu.txt", i);
        uint8_t digest[SHOAL_DIGEST_BYTES];
        crypto_generichash(digest, sizeof(digest), (const uint8_t *)path, (size_t)len,
                           (const uint8_t *)(i == changed ? "x" : "y"), 1);
        msgpack_pack_array(&pk, 5);
        msgpack_pack_str(&pk, (size_t)len);
        msgpack_pack_str_body(&pk, path, (size_t)len);
        msgpack_pack_uint8(&pk, 'f');
        msgpack_pack_uint16(&pk, 0644);
        msgpack_pack_uint16(&pk, 100 + (i == changed ? 1 : 0));
        msgpack_pack_bin(&pk, sizeof(digest));
        msgpack_pack_bin_body(&pk, digest, sizeof(digest));
    }
    *out = malloc(sbuf.size);
    memcpy(*out, sbuf.data, sbuf.size);
    size_t size = sbuf.size;
    msgpack_sbuffer_destroy(&sbuf);
    return size;
}

void test_node_ship_pages_move_little_for_one_changed_file(void);
void
test_node_ship_pages_move_little_for_one_changed_file(void)
{
    uint8_t *a, *b, *index;
    size_t len_a = s_manifest(&a, 5000, SIZE_MAX), len_b = s_manifest(&b, 5000, 2500);
    shoal_page_t *pa, *pb, *back;
    long na = shoal_pages_cut(a, len_a, &pa), nb = shoal_pages_cut(b, len_b, &pb);
    CHECK(na > 20 && nb > 20); /* about 5000 / SHOAL_PAGE_ENTRIES */
    /* Pages tile the manifest, each is its bytes' digest. */
    uint64_t at = 0;
    for (long i = 0; i < na; i++) {
        CHECK(pa[i].offset == at && pa[i].size > 0);
        uint8_t digest[SHOAL_DIGEST_BYTES];
        crypto_generichash(digest, sizeof(digest), a + pa[i].offset, pa[i].size, NULL, 0);
        CHECK(memcmp(digest, pa[i].digest, sizeof(digest)) == 0);
        at += pa[i].size;
    }
    CHECK(at == len_a);
    /* One changed entry: its page differs, the others are the same blobs. */
    long new_pages = 0;
    for (long i = 0; i < nb; i++) {
        bool known = false;
        for (long j = 0; j < na && !known; j++)
            known = memcmp(pb[i].digest, pa[j].digest, SHOAL_DIGEST_BYTES) == 0;
        new_pages += !known;
    }
    CHECK(new_pages >= 1 && new_pages <= 2); /* its page, or the two a moved cut touches */
    /* The index reads back as written; a broken one is refused. */
    long len = shoal_pages_index(pa, (size_t)na, &index);
    CHECK(len == na * SHOAL_PAGE_INDEX_BYTES);
    CHECK(shoal_pages_parse(index, (size_t)len, &back) == na);
    for (long i = 0; i < na; i++)
        CHECK(back[i].offset == pa[i].offset && back[i].size == pa[i].size &&
              memcmp(back[i].digest, pa[i].digest, SHOAL_DIGEST_BYTES) == 0);
    free(back);
    CHECK(shoal_pages_parse(index, (size_t)len - 1, &back) == -1);
    CHECK(shoal_pages_parse(index, 0, &back) == -1);
    memset(index + SHOAL_DIGEST_BYTES, 0, 8); /* a page of no bytes */
    CHECK(shoal_pages_parse(index, (size_t)len, &back) == -1);
    memset(index + SHOAL_DIGEST_BYTES, 0xff, 8); /* more than any manifest */
    CHECK(shoal_pages_parse(index, (size_t)len, &back) == -1);
    /* Not a manifest at all. */
    CHECK(shoal_pages_cut((const uint8_t *)"\x93\x01\x02\x03", 4, &back) == -1);
    free(index);
    free(pa);
    free(pb);
    free(a);
    free(b);
}
