"""What the shipped-session cluster tests share: running a setup command,
and reading a serving daemon's state (its `shoal status --json` and its
store on disk)."""
import os
import subprocess

import harness
from harness import TestFailure


def sh(argv, cwd=None, env=None):
    """Runs a setup command; its stdout, or a TestFailure naming it."""
    out = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=60)
    if out.returncode != 0:
        raise TestFailure("%s: %s" % (" ".join(argv), out.stderr.strip()[-2000:]))
    return out.stdout


def commit_all(root, init_only=False):
    """Makes root a git work tree (once) and commits everything in it."""
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t")
    if not os.path.isdir(os.path.join(root, ".git")):
        sh(["git", "init", "-q"], cwd=root, env=env)
    if not init_only:
        sh(["git", "add", "-A"], cwd=root, env=env)
        sh(["git", "commit", "-q", "--allow-empty", "-m", "tests"], cwd=root, env=env)


def loopback_daemons(cluster, names, slots, extra=None, env=None):
    """A developer identity and serving daemons on loopback that accept it.

    Makes the identity (its file is returned), writes the --accept-from file
    listing its public key, starts one `--serve` daemon per name (each with
    its own XDG_CACHE_HOME, the options extra[name] and the environment
    variables env[name], the later ones joining the first) and waits for the mesh to converge. Returns
    (identity file, daemons, {name: cache})."""
    tmp = cluster.tmpdir
    ident = os.path.join(tmp, "identity")
    pub = sh([cluster.shoal, "keygen", "--identity", ident]).strip()
    accept = os.path.join(tmp, "developers.pub")
    with open(accept, "w") as f:
        f.write(pub + "\n")
    caches = {}
    daemons = []
    for name in names:
        n = cluster.node(name)
        caches[name] = os.path.join(tmp, name + "-cache")
        n.start(join=[daemons[0].addr] if daemons else (),
                extra=["--serve", "--accept-from", accept, "--slots", str(slots)]
                + list((extra or {}).get(name, ())),
                env=dict((env or {}).get(name, {}), XDG_CACHE_HOME=caches[name]))
        n.wait_started()
        daemons.append(n)
    cluster.wait_converged(daemons, timeout=20)
    return ident, daemons, caches


def status(node):
    """The node's `shoal status --json` array ([] when it does not answer)."""
    return harness.ask_control(node.cluster.shoal, node.control, "status", node.name) or []


def intake(node):
    """The daemon's intake entry ({"serving": [...], "intake": {...}}), or None."""
    for app in status(node):
        if "intake" in app:
            return app
    return None


def running_here(node, session):
    """How many tests of the session run on the node now."""
    here = [a for a in status(node) if a.get("session") == session]
    return here[0].get("running_here", 0) if here else 0


def session_dirs(cache):
    """The session directories under a daemon's XDG_CACHE_HOME (one
    directory per developer identity holds them)."""
    d = os.path.join(cache, "shoal", "store", "sessions")
    found = []
    for developer in (os.listdir(d) if os.path.isdir(d) else []):
        below = os.path.join(d, developer)
        found += [os.path.join(developer, s) for s in os.listdir(below)] \
            if os.path.isdir(below) else [developer]
    return found
