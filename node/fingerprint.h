/* node/fingerprint.h: what a session shipped to a daemon says about the
 * environment it was made in, for its adapter: the toolchain the user's
 * command runs with (one line the toolchain prints about itself: "python
 * 3.11.2 pytest 7.2.1", "go version go1.21.5 linux/amd64") and a digest of
 * the files that pin its dependencies. A daemon computes the same in its own
 * environment and declines a session whose toolchain differs, saying both.
 * A fingerprint is at most SHOAL_FINGERPRINT_MAX - 1 bytes of printable
 * text, whitespace collapsed, so two runs of one toolchain compare equal.
 */
#ifndef SHOAL_NODE_FINGERPRINT_H
#define SHOAL_NODE_FINGERPRINT_H

#include "node/adapter.h"

#include <stddef.h>

#define SHOAL_FINGERPRINT_MAX 256 /* bytes of a toolchain fingerprint, with the NUL */
#define SHOAL_FINGERPRINT_TIMEOUT_MS 10000
#define SHOAL_FINGERPRINT_DEPS_HEX 65 /* hex BLAKE2b-256 and the NUL */

/* Runs argv (as shoal_exec_spec_t runs it: in cwd, NULL this process'; env,
 * NULL this process' environment, whose PATH finds argv[0]) and blocks until
 * it ends, up to SHOAL_FINGERPRINT_TIMEOUT_MS: call it beside the loop. Its
 * output (stdout and stderr merged), trimmed, each run of whitespace or
 * control bytes one space, cut to SHOAL_FINGERPRINT_MAX - 1 bytes (and to
 * out_size - 1) at a character boundary, goes to out. 0, or -1 with the
 * reason in err, naming the command: it cannot start, exits non-zero (with
 * the last line it printed: "python3 -c ...: exit 1: ModuleNotFoundError:
 * No module named 'pytest'"), dies of a signal, times out, or prints
 * nothing. */
int shoal_fingerprint_toolchain(char *const *argv, const char *cwd, char *const *env, char *out,
                                size_t out_size, char *err, size_t err_size);

/* shoal_fingerprint_toolchain of the adapter's toolchain command
 * (shoal_adapter_toolchain_argv); "" and 0 for an adapter without one. */
int shoal_fingerprint_adapter(const shoal_adapter_t *adapter, const char *cwd, char *const *env,
                              char *out, size_t out_size, char *err, size_t err_size);

/* The hex BLAKE2b-256 (64 digits and a NUL into out) over the regular files
 * directly in dir (not below it; symbolic links followed) whose names match
 * one of dep_files (names or fnmatch globs, NULL-terminated; a leading dot
 * must be matched by a dot), in byte order of their names, each as its name
 * and the digest of its bytes. No match, or dep_files NULL: the digest of
 * nothing. 0, or -1 with the reason in err (dir or a matching file cannot
 * be read). */
int shoal_fingerprint_deps(const char *const *dep_files, const char *dir,
                           char out[SHOAL_FINGERPRINT_DEPS_HEX], char *err, size_t err_size);

/* 0 when this daemon's toolchain fingerprint (ours) is the session's
 * (theirs); else -1 and why = "toolchain differs: the session's is 'X',
 * this daemon's is 'Y'" (cut to why_size). NULL is "". */
int shoal_fingerprint_compare(const char *ours, const char *theirs, char *why, size_t why_size);

#endif
