"""shoal's warm Python (zygote.h): a zygote that has imported pytest and
the standard library modules earlier workers of the same key imported
(never a third-party package, whose import-time state may depend on the
test run, nor what pytest rewrites: it must import those itself), and
forks a worker for each request, so a worker starts without interpreter
start-up or those imports. Each worker gets a process namespace of its own
(isolate()).

    python3 shoal_zygote.py SOCKET IDLE_SECONDS RECYCLE MODULES_FILE

Listens on SOCKET (a name in the current directory). A request is one
message: the client's descriptors (stdin, stdout, stderr, channel) by
SCM_RIGHTS and "length\\n" then NUL-separated fields: cwd, home, argc, the
argv words, then "KEY=VALUE" environment entries. Replies, one line each:
"pid N" once forked, then "exit N" or "signal N" when the worker ended; or
"cold REASON" when this worker cannot be forked warm (the client then runs
it the usual way). A client that goes away takes its worker with it
(SIGKILL to the worker's process group).

Writes "shoal-zygote: EVENT" lines on stdout (ready, forked, cold REASON,
warmed N, draining REASON) for the daemon's counters and log. Drains
(stops taking requests and exits once its workers ended) when SOCKET is
removed, after RECYCLE forks, or when an import starts a thread (a fork
would lose it) or imports a module pytest rewrites (the module is written
to MODULES_FILE.deny, which later zygotes skip). Exits after IDLE_SECONDS
without a worker, and at once when workers cannot have namespaces here.
"""
import fcntl
import os
import select
import signal
import socket
import sys
import time

S_REQUEST_MAX = 4 << 20
S_FDS = 4
S_LEARNING_WORKERS = 3  # the first workers say what they imported (it costs them a heap walk)

sock_name, idle_seconds, recycle, modules_file = (
    sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
modules_file = os.path.abspath(modules_file)  # workers write it from their own directory
deny_file = modules_file + ".deny"
own_env = {k: v for k, v in os.environ.items()
           if k.startswith("PYTHON") and k != "PYTHONPATH"}
own_path = [p for p in os.environ.get("PYTHONPATH", "").split(":") if p]
base_path = [p for p in sys.path[1:] if p not in own_path]


def stdlib_roots():
    """Where the standard library is, and the site-packages to leave out
    (a virtualenv or pyenv puts them below it)."""
    import site
    import sysconfig
    paths = sysconfig.get_paths()
    roots = {os.path.join(paths[k], "") for k in ("stdlib", "platstdlib") if k in paths}
    sites = set(getattr(site, "getsitepackages", lambda: [])())
    sites.add(getattr(site, "getusersitepackages", lambda: "")() or "/nonexistent")
    sites |= {paths.get("purelib", ""), paths.get("platlib", "")} - {""}
    return tuple(roots), tuple(os.path.join(p, "") for p in sites)


def say(event):
    sys.stdout.write("shoal-zygote: %s\n" % event)
    sys.stdout.flush()


def read_lines(path):
    try:
        with open(path) as f:
            return [line.strip() for line in f if line.strip()]
    except OSError:
        return []


def learned_lines():
    """What workers wrote to MODULES_FILE: the modules to import, and the
    ones pytest rewrites ("=NAME": that module; "!NAME": it and below)."""
    names, exact, below = [], set(), set()
    for line in read_lines(modules_file):
        if line[0] == "=":
            exact.add(line[1:])
        elif line[0] == "!":
            below.add(line[1:])
        else:
            names.append(line)
    return names, exact, below


def rewrites(name, exact, below):
    return name in exact or any(name == b or name.startswith(b + ".") for b in below)


def warm(names, denied):
    """Imports names not imported yet. False once an import started a
    thread (a fork would lose it) or imported a module pytest rewrites (it
    could not rewrite it then); that module is denied to later zygotes."""
    import threading
    _, exact, below = learned_lines()
    for name in names:
        if name in sys.modules or name in denied or rewrites(name, exact, below):
            continue
        before = set(sys.modules)
        try:
            __import__(name)
        except BaseException:  # a module that fails to import stays cold
            denied.add(name)
            continue
        if threading.active_count() > 1 or \
                any(rewrites(m, exact, below) for m in set(sys.modules) - before):
            with open(deny_file, "a") as f:
                f.write(name + "\n")
            return False
    return True


def rewritten():
    """The modules pytest rewrote (conftests, tests) and the names it marks
    for rewriting (plugins: those and below them): it must import them
    itself, so they are never warmed. Its hook has left sys.meta_path by
    the time the worker exits, so it is found among the live objects.
    (rewritten, marked, whether a hook was found)."""
    rewrite = sys.modules.get("_pytest.assertion.rewrite")
    cls = getattr(rewrite, "AssertionRewritingHook", None)
    if cls is None:
        return set(), set(), False
    import gc
    exact, below, found = set(), set(), False
    for hook in gc.get_objects():
        if isinstance(hook, cls):
            found = True
            exact |= set(getattr(hook, "_rewritten_names", ()))
            below |= set(getattr(hook, "_must_rewrite", ()))
    return exact, below, found


def recv_request(conn):
    conn.settimeout(10)
    head, fds, _, _ = socket.recv_fds(conn, 64, S_FDS)
    if len(fds) != S_FDS or b"\n" not in head:
        for fd in fds:
            os.close(fd)
        raise ValueError("a request without its descriptors")
    size, _, body = head.partition(b"\n")
    size = int(size)
    if size > S_REQUEST_MAX:
        raise ValueError("a request of %d bytes" % size)
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ValueError("a request cut short")
        body += chunk
    fields = [f.decode("utf-8", "surrogateescape") for f in body.split(b"\0")]
    cwd, home, argc = fields[0], fields[1], int(fields[2])
    argv = fields[3:3 + argc]
    env = dict(e.split("=", 1) for e in fields[3 + argc:] if "=" in e)
    return fds, cwd, home, argv, env


def front(argv, cwd, env):
    """What the worker's sys.path starts with before the interpreter's own
    entries: the directory `-m` or the script puts first, then PYTHONPATH.
    (the entries, the script or None); None for a script not found."""
    extra = [os.path.join(cwd, p) for p in env.get("PYTHONPATH", "").split(":") if p]
    if os.path.basename(argv[0]).startswith("python"):
        return [cwd] + extra, None  # why_cold saw `-m pytest` follow
    import shutil
    script = argv[0] if "/" in argv[0] else shutil.which(argv[0], path=env.get("PATH", os.defpath))
    if not script:
        return None, None
    script = os.path.join(cwd, script)
    return [os.path.dirname(os.path.realpath(script))] + extra, script


def shadowed(entries):
    """A module the zygote imported that the worker would find elsewhere,
    in one of entries (its checkout's queue.py, say), or None."""
    import importlib.machinery
    for name, module in list(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        if "." in name or spec is None or spec.origin in (None, "built-in", "frozen"):
            continue
        found = importlib.machinery.PathFinder.find_spec(name, entries)
        if found is not None and found.origin not in (None, spec.origin):
            return name
    return None


def why_cold(argv, cwd, env):
    ours = {k: v for k, v in env.items()
            if k.startswith("PYTHON") and k != "PYTHONPATH"}
    if ours != own_env:
        return "its PYTHON* environment differs from the warm one's"
    python = argv and os.path.basename(argv[0]).startswith("python")
    if not argv or (python and argv[1:3] != ["-m", "pytest"]):
        return "interpreter options before the command"
    entries, _ = front(argv, cwd, env)
    if entries is None:
        return "%s is not found" % argv[0]
    name = shadowed(entries)
    if name:
        return "its own %s shadows the warm interpreter's" % name
    return None


def die_with_parent():
    """SIGKILL when the parent dies (unsandboxed, nothing else would)."""
    try:
        libc().prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID = 0x00020000, 0x10000000, 0x20000000
MS_REC, MS_PRIVATE = 0x4000, 0x40000


def libc():
    import ctypes
    return ctypes.CDLL(None, use_errno=True)


def isolate():
    """Of what bwrap gives each cold worker, a process namespace of its own
    (and a mount namespace, for its /proc), no capabilities; not a /tmp of
    its own (a tmpfs there would hide the session directories bound below
    /tmp when the store is there). The calling process stays
    outside and relays how the worker ended; inside, an init (pid 1) reaps;
    the worker (pid 2) returns from here. Raises OSError when the kernel
    will not make the namespaces."""
    import ctypes
    c = libc()
    uid, gid = os.getuid(), os.getgid()
    if c.unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare")
    for name, text in (("setgroups", "deny"), ("uid_map", "%d %d 1" % (uid, uid)),
                       ("gid_map", "%d %d 1" % (gid, gid))):
        with open("/proc/self/" + name, "w") as f:
            f.write(text)
    low = os.pipe()
    r, w = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64) for fd in low)  # above 0-3
    for fd in low:
        os.close(fd)
    init = os.fork()
    if init:
        os.close(w)  # the relay: ends as the worker did
        os.closerange(0, 4)  # the worker's pipe and channel end with it
        os.waitpid(init, 0)
        status = os.read(r, 32)
        if not status:
            os._exit(128 + signal.SIGKILL)
        status = int(status)
        if os.WIFSIGNALED(status):
            signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
            os.kill(os.getpid(), os.WTERMSIG(status))
        os._exit(os.waitstatus_to_exitcode(status) & 0xff)
    os.close(r)
    die_with_parent()
    if c.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "mount")
    c.mount(b"proc", b"/proc", b"proc", 0, None)  # this namespace's, where allowed
    worker = os.fork()
    if worker:
        os.closerange(0, 4)
        while True:  # init: reaps every orphan until the worker ends
            pid, status = os.wait()
            if pid == worker:
                os.write(w, b"%d" % status)
                os._exit(0)
    os.close(w)
    die_with_parent()
    drop_capabilities(c)


def bounding_set():
    """This process' capability bounding set (what bwrap left it)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("CapBnd:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


zygote_bounding = bounding_set()  # a new user namespace resets it to full


def drop_capabilities(c):
    """The worker keeps none of what owning its user namespace gave it, and
    the bounding set of the zygote, as a cold worker has bwrap's."""
    import ctypes

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]
    for cap in range(64):
        if not zygote_bounding >> cap & 1:
            c.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP (fails past the last: fine)
    data = (Data * 2)()
    if c.capset(ctypes.byref(Header(0x20080522, 0)), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")


def become(fds, cwd, home, argv, env, learning):
    """In the child: the process `argv` would have been."""
    os.setsid()
    die_with_parent()
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in fds]
    for i, fd in enumerate((high[0], high[1], high[1], high[3])):
        os.dup2(fd, i)
    os.closerange(4, os.sysconf("SC_OPEN_MAX"))
    isolate()
    os.environ.clear()
    os.environ.update(env)
    os.environ["HOME"] = home
    os.chdir(cwd)
    entries, script = front(argv, cwd, env)
    sys.path[:] = entries + base_path
    sys.orig_argv[:] = argv
    if script is None:
        sys.argv = ["-m"] + argv[3:]
        target = ("module", "pytest")
    else:
        sys.argv = [script] + argv[1:]
        target = ("path", script)
    outside = set(sys.modules)

    def learn():
        # The standard library only: a third-party package may keep state
        # made at import that a test run sets up first (sympy's XFAIL
        # decorator asks at import whether pytest runs), which a module
        # imported in the zygote would have missed.
        roots, sites = stdlib_roots()
        exact, below, known = rewritten()
        if not known:
            return  # without pytest's list, a plugin could be warmed
        names = set()
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None) or ""
            if name not in outside and not name.startswith("_") and \
                    not rewrites(name, exact, below) and path.startswith(roots) and \
                    not path.startswith(sites) and not path.startswith(os.path.join(cwd, "")):
                names.add(name)
        if names:
            known = set(read_lines(modules_file))  # the file only grows by what is new
            lines = [n for n in sorted(names) + ["=" + n for n in sorted(exact)] +
                     ["!" + n for n in sorted(below)] if n not in known]
            fd = os.open(modules_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(fd, "".join(n + "\n" for n in lines).encode())
            os.close(fd)

    if learning:
        import atexit
        atexit.register(learn)
    return target


def serve(listener):
    """The zygote's loop; returns what a forked child runs."""
    children = {}  # pid -> connection
    clients = {}   # connection -> pid
    pidfds = {}    # pid -> its pidfd
    gone = set()   # connections whose stand-in went away
    forks, draining, idle_since = 0, None, time.monotonic()
    learned = set(learned_lines()[0])
    while True:
        if draining is None and not os.path.exists(sock_name):
            draining = "its socket was removed"
        if draining is None and forks >= recycle:
            draining = "recycled after %d workers" % forks
        if draining is not None and listener is not None:
            say("draining " + draining)
            listener.close()
            listener = None
            if os.path.exists(sock_name):
                os.unlink(sock_name)
        if not children and (listener is None or
                             time.monotonic() - idle_since > idle_seconds):
            return None
        # a child's pidfd turns readable when it exits: its stand-in hears at once
        watched = [c for c in clients if c not in gone] + list(pidfds.values()) + \
            ([listener] if listener else [])
        ready, _, _ = select.select(watched, [], [], 0.05)
        for pid, status in reap(children):
            conn = children.pop(pid)
            clients.pop(conn, None)
            gone.discard(conn)
            if pid in pidfds:
                os.close(pidfds.pop(pid))
            if os.WIFSIGNALED(status):
                line = "signal %d\n" % os.WTERMSIG(status)
            else:
                line = "exit %d\n" % os.waitstatus_to_exitcode(status)
            try:
                conn.sendall(line.encode())
            except OSError:
                pass
            conn.close()
            if not children:
                idle_since = time.monotonic()
        for conn in ready:
            if conn is listener:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                target = request(conn, listener, children, clients,
                                 forks < S_LEARNING_WORKERS)
                if target is not None:
                    return target
                if conn in clients:
                    forks += 1
                    try:
                        pidfds[clients[conn]] = os.pidfd_open(clients[conn])
                    except (AttributeError, OSError):
                        pass  # noticed within 50 ms instead
            elif conn in clients and not recv_or_eof(conn):
                # the client is gone (its session killed it): so is the worker
                gone.add(conn)
                kill_worker(clients[conn])
        if draining is None and not children:
            more = [n for n in learned_lines()[0] if n not in learned]
            learned.update(more)
            if more and not warm(more, set(read_lines(deny_file))):
                draining = "an import started a thread or imported a module pytest rewrites"
            elif more:
                say("warmed %d" % len(more))


def kill_worker(pid):
    """SIGKILL to the worker and its process group (its own once it ran
    setsid: before, the group is ours, so the worker alone)."""
    for kill in (os.killpg, os.kill):
        try:
            if kill is os.kill or os.getpgid(pid) == pid:
                kill(pid, signal.SIGKILL)
        except OSError:
            pass


def recv_or_eof(conn):
    """A byte from a stand-in (it sends none), b"" once it is gone."""
    try:
        return conn.recv(1)
    except OSError:
        return b""


def reap(children):
    out = []
    for pid in list(children):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            out.append((pid, status))
    return out


def request(conn, listener, children, clients, learning):
    try:
        fds, cwd, home, argv, env = recv_request(conn)
    except (OSError, ValueError) as e:
        say("cold %s" % e)
        conn.close()
        return None
    cold = why_cold(argv, cwd, env)
    if cold:
        say("cold " + cold)
        conn.sendall(("cold %s\n" % cold).encode())
        conn.close()
        for fd in fds:
            os.close(fd)
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        for sock in [conn, listener] + list(clients):
            sock.detach()  # closed with the rest in become
        return become(fds, cwd, home, argv, env, learning)
    for fd in fds:
        os.close(fd)
    conn.settimeout(None)
    try:
        conn.sendall(b"pid %d\n" % pid)
    except OSError:  # its stand-in is gone already: so is the worker
        kill_worker(pid)
    children[pid] = conn
    clients[conn] = pid
    say("forked")
    return None


def can_isolate():
    """Why workers could not have namespaces of their own here, or None."""
    pid = os.fork()
    if pid == 0:
        try:
            isolate()
        except Exception:
            os._exit(3)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    return None if status == 0 else "the kernel will not give a worker namespaces of its own"


def main():
    die_with_parent()
    why = can_isolate()
    if why:
        say("draining " + why)
        return None
    denied = set(read_lines(deny_file))
    __import__("pytest")  # the point of the zygote
    # pytest's own plugins, which every run imports before it reads a
    # conftest (they are not rewritten, and keep no state from import)
    config = sys.modules["_pytest.config"]
    for name in getattr(config, "essential_plugins", ()) + getattr(config, "default_plugins", ()):
        try:
            __import__("_pytest." + name)
        except Exception:
            pass
    thread_free = warm(learned_lines()[0], denied)
    if not thread_free:
        say("draining an import started a thread or imported a module pytest rewrites")
        return None
    if os.path.exists(sock_name):
        os.unlink(sock_name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_name)
    listener.listen(64)
    say("ready")
    return serve(listener)


target = main()
if target is None:
    sys.exit(0)
import runpy  # noqa: E402
if target[0] == "module":
    runpy.run_module(target[1], run_name="__main__", alter_sys=True)
else:
    runpy.run_path(target[1], run_name="__main__")
