/* The developer's side of shipping (see shipment.h): scan, name the
 * toolchain, sign. Runs before the node's loop turns, once per run. */
#include "node/shipment.h"
#include "node/fingerprint.h"
#include "node/log.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* path (absolute, real) as rooted at top: "/" for top itself, "/a/b" below
 * it; -1 when it is not below top. */
static int
s_rooted(const char *top, const char *path, char *out, size_t size)
{
    size_t n = strlen(top);
    if (strncmp(path, top, n) != 0 || (path[n] != '\0' && path[n] != '/'))
        return -1;
    int len = snprintf(out, size, "%s", path[n] ? path + n : "/");
    return len < 0 || (size_t)len >= size ? -1 : 0;
}

/* The offer's hand-off: the session's options and command, its paths
 * rooted at the workspace's top, no environment. */
static int
s_handoff(shoal_shipment_t *self, shoal_handoff_t *h, const shoal_run_config_t *run,
          const char *adapter_name, const char *list, int argc, char **argv, char *err,
          size_t err_size)
{
    static char *no_env[] = {NULL};
    char cwd[PATH_MAX], real[PATH_MAX];
    static char rooted_cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)) || !realpath(cwd, real) ||
        s_rooted(self->top, real, rooted_cwd, sizeof(rooted_cwd)) != 0) {
        snprintf(err, err_size, "the current directory is not inside the workspace %s", self->top);
        return -1;
    }
    *h = (shoal_handoff_t){
        .run = *run, .argv = argv, .argc = argc, .cwd = rooted_cwd, .env = no_env};
    h->run.junit[0] = h->run.json[0] = h->run.history_db[0] = '\0';
    h->run.cwd = NULL;
    h->run.env = NULL;
    snprintf(h->adapter, sizeof(h->adapter), "%s", adapter_name ? adapter_name : "");
    if (list[0] &&
        (!realpath(list, real) || s_rooted(self->top, real, h->list, sizeof(h->list)) != 0)) {
        snprintf(err, err_size,
                 "--list %s: not a file inside the workspace %s (a daemon gets "
                 "only the workspace)",
                 list, self->top);
        return -1;
    }
    return 0;
}

int
shoal_shipment_prepare(shoal_shipment_t *self, const shoal_run_config_t *run,
                       const shoal_adapter_t *adapter, const char *adapter_name, const char *list,
                       int argc, char **argv, const char *developer,
                       const shoal_shipment_options_t *options, char *err, size_t err_size)
{
    memset(self, 0, sizeof(*self));
    char path[PATH_MAX], cwd[PATH_MAX], cache[PATH_MAX], why[512];
    shoal_identity_t identity;
    int rc = -1;
    shoal_offer_t offer = {.network = options->network, .issued = (int64_t)time(NULL)};
    if (options->identity_path[0])
        snprintf(path, sizeof(path), "%s", options->identity_path);
    else
        shoal_identity_default_path(path, sizeof(path));
    if (shoal_identity_load(path, &identity, why, sizeof(why)) != 0) {
        snprintf(err, err_size,
                 "--ship needs your identity: %s (make one with `shoal keygen "
                 "--identity`)",
                 why);
        return -1;
    }
    shoal_identity_name(identity.public_key, identity.comment, self->who, sizeof(self->who));
    if (!getcwd(cwd, sizeof(cwd)) ||
        shoal_tree_toplevel(cwd, self->top, sizeof(self->top), why, sizeof(why)) != 0) {
        snprintf(err, err_size, "--ship ships the files git would track: %s", why);
        goto done;
    }
    shoal_tree_default_cache(cache, sizeof(cache));
    self->tree = shoal_tree_scan(self->top, options->includes, options->include_count, cache,
                                 &self->hashed, why, sizeof(why));
    long len = self->tree ? shoal_tree_encode(self->tree, &self->manifest) : -1;
    if (len < 0) {
        snprintf(err, err_size, "cannot scan the workspace %s: %s", self->top,
                 self->tree ? "out of memory" : why);
        goto done;
    }
    self->manifest_len = (size_t)len;
    long pages = shoal_pages_cut(self->manifest, self->manifest_len, &self->pages);
    long index = pages > 0 ? shoal_pages_index(self->pages, (size_t)pages, &self->index) : -1;
    if (index < 0) {
        snprintf(err, err_size, "out of memory");
        goto done;
    }
    self->page_count = (size_t)pages;
    self->index_len = (size_t)index;
    offer.manifest_size = self->index_len;
    crypto_generichash(offer.root, sizeof(offer.root), self->index, self->index_len, NULL, 0);
    if (s_handoff(self, &offer.handoff, run, adapter_name, list, argc, argv, err, err_size) != 0)
        goto done;
    /* The toolchain, as this machine names it: a daemon compares its own. */
    offer.probe = shoal_adapter_toolchain_argv(adapter);
    if (offer.probe &&
        shoal_fingerprint_toolchain(offer.probe, cwd, environ, offer.toolchain,
                                    sizeof(offer.toolchain), why, sizeof(why)) != 0) {
        snprintf(err, err_size, "cannot name the toolchain to ship with: %s", why);
        goto done;
    }
    if (shoal_fingerprint_deps(shoal_adapter_dep_files(adapter), cwd, offer.deps, why,
                               sizeof(why)) != 0) {
        snprintf(err, err_size, "cannot read the dependency files to ship with: %s", why);
        goto done;
    }
    snprintf(offer.developer, sizeof(offer.developer), "%s", developer);
    offer.artifacts = (char **)options->artifacts; /* only read */
    uint8_t *body = NULL;
    long body_len = shoal_offer_encode(&offer, &body);
    if (body_len < 0) {
        snprintf(err, err_size, "the command is too long to ship (over %d bytes)",
                 SHOAL_SHIP_OFFER_MAX);
        goto done;
    }
    self->offer =
        (shoal_ship_msg_t){.type = SHOAL_SHIP_OFFER, .body = body, .body_len = (size_t)body_len};
    snprintf(self->offer.session, sizeof(self->offer.session), "%s", run->session);
    memcpy(self->offer.key, identity.public_key, sizeof(self->offer.key));
    shoal_identity_sign(&identity, body, (size_t)body_len, self->offer.signature);
    char text[SHOAL_SESSION_ID_MAX + 16];
    size_t text_len = shoal_ship_cancel_text(run->session, text, sizeof(text));
    shoal_identity_sign(&identity, (const uint8_t *)text, text_len, self->cancel);
    shoal_log_info("shipping %zu files (%llu bytes, %zu hashed now) of %s as %s; toolchain: %s",
                   shoal_tree_count(self->tree), (unsigned long long)shoal_tree_bytes(self->tree),
                   self->hashed, self->top, self->who,
                   offer.toolchain[0] ? offer.toolchain : "not pinned");
    rc = 0;
done:
    /* The hand-off's words are the caller's: only what was made here goes. */
    for (size_t i = 0; offer.probe && offer.probe[i]; i++)
        free(offer.probe[i]);
    free(offer.probe);
    sodium_memzero(&identity, sizeof(identity));
    if (rc != 0)
        shoal_shipment_clear(self);
    return rc;
}

void
shoal_shipment_clear(shoal_shipment_t *self)
{
    shoal_tree_destroy(&self->tree);
    free(self->manifest);
    free(self->pages);
    free(self->index);
    shoal_ship_msg_clear(&self->offer);
    memset(self, 0, sizeof(*self));
}
