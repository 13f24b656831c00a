package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.FileHandles;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Scratch;
import io.jvhost.nativeio.Stat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The destination half of a migration: reopens every node and handle a {@link SavedFs}
 * describes, relative to this process's own shared directory, without touching the live tables.
 *
 * <p>A node is found by path (its parent's descriptor + its name, O_NOFOLLOW) or by file handle
 * (open_by_handle_at), in the order the source's {@link MigrationMode} prefers, falling back to
 * the other. Whatever is opened must be the file the source had: the same file type always, and
 * when both sides serve the very same directory (same device and inode of the shared root) the
 * same inode. A file handle can name any file of the file system, so a node opened by handle
 * must also lie inside the shared directory (its /proc/self/fd path, " (deleted)" allowed for a
 * file the guest unlinked while holding it open: only handles reach those).
 *
 * <p>Nodes are reopened in parallel ({@link #THREADS} threads of this restore's own), a parent's
 * before its children ({@link ReopenPlan}).
 *
 * <p>The blob is the source's word, not the truth: parent chains are walked without recursion
 * (any depth, loops detected), a handle is reopened only as OPEN or OPENDIR would open it
 * ({@link NodeOpener}: never a device node or a FIFO, never with O_CREAT, O_TRUNC or O_PATH), and
 * a restore that fails, by whatever throwable, closes every descriptor it opened.
 */
final class FsRestorer {
    private static final Logger LOG = LoggerFactory.getLogger(FsRestorer.class);
    private static final String DELETED = " (deleted)";
    /** Failures logged one by one under guest-error; past these, only their number (a blob can hold millions). */
    private static final int LOGGED_FAILURES = 16;

    /** Reopening threads: a few, as virtiofsd's pool, and never more than the cores. */
    static final int THREADS = Math.min(4, Runtime.getRuntime().availableProcessors());
    /** Nodes of one parent reopened by one task (one pin of the parent); below this many nodes no thread is started. */
    static final int CHUNK = 256;

    private final Inode root;
    private final InodeFiles files;
    private final MigrationConfig migration;
    /** --readonly here: a handle the source had open for writing is one this side cannot reopen. */
    private final boolean readOnly;

    /** Sized for the state at {@link #restore}: growing it under two threads cost a resize per doubling. */
    private Map<Long, Inode> opened = Map.of();
    /** Guarded by itself. */
    private final Map<Long, String> failed = new LinkedHashMap<>();

    private Map<Long, FsSnapshot.InodeState> saved;
    private SavedFs state;
    private boolean sameDirectory;
    private String rootPath;
    /** Guarded by this. */
    private Fd mountFd;
    /** Set once a task failed the restore: the others stop at their next node. */
    private volatile boolean aborted;

    /** Guarded by {@link #failed}. */
    private int failures;

    /**
     * Everything reopened, ready for the tables; {@code failed*} are the nodes and handles that
     * answer EIO; {@code handleNanos}: how long the handles took of the restore (for its log line).
     */
    record Restored(
            long rootLookups,
            List<Inode> inodes,
            List<Handle> handles,
            Map<Long, Long> failedNodes,
            Set<Long> failedHandles,
            long nextNodeId,
            long nextFh,
            long initFlags,
            List<String> problems,
            long handleNanos) {
        void close() {
            for (Handle h : handles) h.retire();
            for (Inode n : inodes) n.retire();
        }
    }

    /**
     * A file found and verified: its descriptor, status, and file handle if the check made it; or,
     * found by name alone ({@code fd} null), the handle it is kept by.
     */
    private record Found(Fd fd, Stat stat, FileHandle handle, InodeFile.ByHandle byName) {
        Found(Fd fd, Stat stat, FileHandle handle) {
            this(fd, stat, handle, null);
        }

        static Found byName(Stat stat, InodeFile.ByHandle kept) {
            return new Found(null, stat, kept.handle(), kept);
        }
    }

    /**
     * The parent directory one task's last node was found in, kept pinned (its descriptor open,
     * for a handle inode) while its next nodes are in it too: a task's nodes share a parent, and
     * reopening the parent's handle for each child would cost a syscall per node.
     */
    private static final class Held implements AutoCloseable {
        Inode parent;

        Inode hold(Inode p) {
            if (parent != p) {
                Inode previous = parent;
                parent = pinned(p);
                if (previous != null) previous.close();
            }
            return p;
        }

        @Override
        public void close() {
            if (parent != null) parent.close();
            parent = null;
        }
    }

    /** One task: nodes of one wave, in one parent, or handles. */
    @FunctionalInterface
    private interface Task {
        void run() throws FsException;
    }

    FsRestorer(Inode root, InodeFiles files, MigrationConfig migration, boolean readOnly) {
        this.readOnly = readOnly;
        this.root = root;
        this.files = files;
        this.migration = migration;
    }

    /**
     * Reopens the nodes wave by wave ({@link ReopenPlan}: a node's path parent is decided in an
     * earlier wave), each wave's nodes in tasks of one parent spread over {@link #THREADS}
     * threads, then the handles the same way. The threads are this restore's own and end with it.
     */
    Restored restore(SavedFs s) throws FsException {
        this.state = s;
        this.saved = HashMap.newHashMap(s.snapshot().inodes().size());
        for (FsSnapshot.InodeState n : s.snapshot().inodes()) saved.put(n.nodeId(), n);
        this.opened = new ConcurrentHashMap<>(s.snapshot().inodes().size()); // room for them all, no resize
        List<Handle> handles = java.util.Collections.synchronizedList(new ArrayList<>());
        boolean done = false;
        int nodes = s.snapshot().inodes().size() + s.snapshot().handles().size();
        List<Thread> threads = java.util.Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.ThreadFactory named =
                Thread.ofPlatform().name("jvhost-fs-reopen-", 0).daemon().factory();
        ExecutorService pool = THREADS > 1 && nodes > CHUNK
                ? Executors.newFixedThreadPool(THREADS, r -> {
                    Thread t = named.newThread(() -> {
                        Scratch.prepareThisThread();
                        r.run();
                    });
                    threads.add(t);
                    return t;
                })
                : null;
        try {
            Stat rootStat = FileCalls.fstat(root.fd());
            sameDirectory = rootStat.dev() == s.rootDev() && rootStat.ino() == s.rootIno();
            rootPath = new String(FileCalls.readlinkat(null, FileCalls.procSelfFd(root.fd())), StandardCharsets.UTF_8);
            ReopenPlan plan = ReopenPlan.of(s.snapshot().inodes(), saved);
            for (List<List<FsSnapshot.InodeState>> wave : plan.waves()) {
                List<Task> tasks = new ArrayList<>();
                for (List<FsSnapshot.InodeState> group : wave) {
                    tasks.add(() -> {
                        try (Held held = new Held()) {
                            for (FsSnapshot.InodeState n : group) {
                                if (aborted) return;
                                decide(n, plan.loops().contains(n), held);
                            }
                        }
                    });
                }
                runAll(pool, tasks);
            }
            long handlesStarted = System.nanoTime();
            Set<Long> failedHandles = java.util.Collections.synchronizedSet(new HashSet<>());
            List<FsSnapshot.HandleState> saves = s.snapshot().handles();
            List<Task> tasks = new ArrayList<>();
            for (int from = 0; from < saves.size(); from += CHUNK) {
                List<FsSnapshot.HandleState> chunk = saves.subList(from, Math.min(saves.size(), from + CHUNK));
                tasks.add(() -> {
                    for (FsSnapshot.HandleState h : chunk) {
                        if (aborted) return;
                        reopenHandle(h, handles, failedHandles);
                    }
                });
            }
            runAll(pool, tasks);
            long handleNanos = System.nanoTime() - handlesStarted;
            if (failures > LOGGED_FAILURES) {
                LOG.warn(
                        "migration: {} more nodes and handles unavailable (not logged one by one)",
                        failures - LOGGED_FAILURES);
            }
            Map<Long, Long> failedNodes = new HashMap<>();
            for (long id : failed.keySet()) failedNodes.put(id, saved.get(id).lookups());
            List<String> problems = new ArrayList<>(failed.values());
            for (long fh : failedHandles) problems.add("fh " + fh + " unavailable");
            List<Inode> inodes = new ArrayList<>(opened.values());
            FsSnapshot snap = s.snapshot();
            Restored r = new Restored(
                    saved.get(FileSystem.ROOT_ID).lookups(),
                    inodes,
                    List.copyOf(handles),
                    failedNodes,
                    Set.copyOf(failedHandles),
                    snap.nextNodeId(),
                    snap.nextFh(),
                    snap.initFlags(),
                    problems,
                    handleNanos);
            done = true;
            return r;
        } catch (NativeException e) {
            throw new FsException(Errno.EIO, "restoring: " + e.getMessage(), e);
        } finally {
            if (pool != null) end(pool, threads);
            // Whatever ended the restore (an Error too), nothing it opened stays open.
            if (!done) {
                for (Handle h : handles) h.retire();
                for (Inode n : opened.values()) n.retire();
            }
            synchronized (this) {
                if (mountFd != null) mountFd.close();
            }
        }
    }

    /** Ends the reopening threads (their tasks have all ended: {@link #runAll} waits for every one) before the restore returns. */
    private static void end(ExecutorService pool, List<Thread> threads) {
        pool.shutdown();
        boolean interrupted = false;
        for (Thread t : List.copyOf(threads)) { // a terminated pool's threads may still be exiting
            while (t.isAlive()) {
                try {
                    t.join(10_000);
                    if (t.isAlive()) LOG.warn("migration: reopening thread {} takes long to end", t.getName());
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /**
     * Runs {@code tasks} on {@code pool} (here if none, or just one task) and waits for every one
     * of them, also after one failed (whatever a task opened must be in the maps before the
     * restore closes it); then throws the first failure.
     */
    private void runAll(ExecutorService pool, List<Task> tasks) throws FsException {
        if (pool == null || tasks.size() == 1) {
            for (Task t : tasks) t.run();
            return;
        }
        List<Future<?>> running = new ArrayList<>();
        for (Task t : tasks) {
            running.add(pool.submit(() -> {
                try {
                    t.run();
                } catch (FsException | RuntimeException | Error e) {
                    aborted = true;
                    throw e;
                }
                return null;
            }));
        }
        Throwable first = null;
        boolean interrupted = false;
        for (Future<?> f : running) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (ExecutionException e) {
                    if (first == null) first = e.getCause();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true; // the tasks end soon: they must be waited for
                    aborted = true;
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        switch (first) {
            case null -> {}
            case FsException e -> throw e;
            case RuntimeException e -> throw e;
            case Error e -> throw e;
            default -> throw new IllegalStateException(first);
        }
        if (interrupted) throw new FsException(Errno.EINTR, "restoring: interrupted");
    }

    private void reopenHandle(FsSnapshot.HandleState h, List<Handle> handles, Set<Long> failedHandles)
            throws FsException {
        Inode n = inode(h.nodeId());
        if (n == null) {
            fail(h.fh(), "fh " + h.fh() + ": its node " + h.nodeId() + " could not be reopened", failedHandles);
            return;
        }
        if (readOnly && !h.directory() && (h.flags() & Libc.O_ACCMODE) != Libc.O_RDONLY) {
            // Reopened as saved it would write to a read-only share; reopened read-only, the guest's
            // writes through it would fail only later, and less clearly: it fails here, by the policy.
            fail(
                    h.fh(),
                    "fh " + h.fh() + " of node " + h.nodeId() + " is open for writing, this share is read-only",
                    failedHandles);
            return;
        }
        try {
            handles.add(reopen(n, h));
        } catch (NativeException e) {
            requireResources(e, "fh " + h.fh());
            fail(h.fh(), "fh " + h.fh() + " of node " + h.nodeId() + ": " + e.getMessage(), failedHandles);
        } catch (FsException e) {
            fail(h.fh(), "fh " + h.fh() + " of node " + h.nodeId() + ": " + e.getMessage(), failedHandles);
        }
    }

    private void fail(long fh, String why, Set<Long> failedHandles) throws FsException {
        if (migration.onError() == MigrationOnError.ABORT) throw new FsException(Errno.EIO, why);
        warn(why);
        failedHandles.add(fh);
    }

    private void warn(String why) {
        boolean log;
        synchronized (failed) {
            log = ++failures <= LOGGED_FAILURES;
        }
        if (log) LOG.warn("migration: {}; the guest gets EIO for it", why);
    }

    /** The node reopened (the root included), or null if it is not (yet, or at all). */
    private Inode inode(long id) {
        return id == FileSystem.ROOT_ID ? root : opened.get(id);
    }

    /**
     * Tries {@code n}'s ways in the order the source's mode prefers (its path parent, if any, is
     * decided: an earlier wave), and decides it: opened, or failed by the policy. A node whose
     * parent chain loops back to itself ({@code loops}) has no path.
     */
    private void decide(FsSnapshot.InodeState n, boolean loops, Held held) throws FsException {
        List<String> tried = new ArrayList<>();
        boolean handleFirst = state.sourceMode() == MigrationMode.FILE_HANDLES;
        Found f = null;
        boolean pathTried = false;
        if (handleFirst && byName(n)) {
            // Found at its saved name with its saved handle, it is the very file the handle opens,
            // and inside the share: the cheaper proof, tried first (a file renamed since is not
            // there, and the handle finds it next).
            Inode parent =
                    loops || n.location() == null ? null : inode(n.location().parentId());
            if (parent != null) {
                f = attempt(n, tried, parent, held);
                pathTried = true;
            }
        }
        if (f == null && handleFirst) f = attempt(n, tried, null, held);
        if (f == null && !pathTried) {
            Location loc = n.location();
            if (loc != null && loops) {
                tried.add("path: its parent chain loops back to node " + loc.parentId());
            } else if (loc != null) {
                Inode parent = inode(loc.parentId());
                if (parent == null) tried.add("path: parent node " + loc.parentId() + " unavailable");
                else f = attempt(n, tried, parent, held);
            }
        }
        if (f == null && !handleFirst) f = attempt(n, tried, null, held);
        if (f == null) {
            String why = "node " + n.nodeId() + (n.location() == null ? "" : " (" + n.location() + ")") + " not found: "
                    + (tried.isEmpty() ? "no path and no file handle" : String.join("; ", tried));
            if (migration.onError() == MigrationOnError.ABORT) throw new FsException(Errno.EIO, why);
            warn(why);
            synchronized (failed) {
                failed.put(n.nodeId(), why);
            }
            return;
        }
        if (f.byName() != null) {
            Inode inode = new Inode(n.nodeId(), InodeKey.of(f.stat()), f.stat().fileType(), f.byName(), f.handle());
            inode.lookups = n.lookups();
            inode.location = n.location();
            opened.put(n.nodeId(), inode);
            return;
        }
        Fd fd = f.fd();
        try {
            Stat st = f.stat(); // its type is the saved one, unless the source recorded none
            // Kept as this side's mode says; a handle is always the one of the descriptor just verified.
            FileHandle handle = files.handleOf(fd, f.handle());
            Inode inode = new Inode(
                    n.nodeId(), InodeKey.of(st), st.fileType(), files.keep(fd, st.fileType(), handle), handle);
            inode.lookups = n.lookups();
            inode.location = n.location();
            opened.put(n.nodeId(), inode);
        } catch (NativeException e) {
            fd.close();
            throw new FsException(Errno.EIO, "node " + n.nodeId() + ": " + e.getMessage(), e);
        } catch (Throwable t) {
            fd.close();
            throw t;
        }
    }

    /** One way to find {@code n}'s file (by path in {@code parent}, by handle if null); null (and why, in {@code tried}) if it does not find it. */
    private Found attempt(FsSnapshot.InodeState n, List<String> tried, Inode parent, Held held) throws FsException {
        try {
            return parent == null ? openByHandle(n, tried) : openByPath(n, held.hold(parent), tried);
        } catch (NativeException e) {
            requireResources(e, "node " + n.nodeId());
            tried.add((parent == null ? "handle: " : "path: ") + e.getMessage());
            return null;
        }
    }

    /**
     * Running out of descriptors or memory is the destination's failure, not one node's: under
     * guest-error it would otherwise load a state that leaves nothing to serve the guest with.
     */
    private static void requireResources(NativeException e, String what) throws FsException {
        if (e.errno() == Errno.EMFILE || e.errno() == Errno.ENFILE || e.errno() == Errno.ENOMEM) {
            throw new FsException(
                    e.errno(),
                    "restoring " + what + ": " + e.getMessage()
                            + " (the destination is out of resources: the load fails whatever --migration-on-error says)");
        }
    }

    private Found openByPath(FsSnapshot.InodeState n, Inode parent, List<String> tried) throws NativeException {
        if (byName(n)) {
            Found f = byName(n, parent, tried);
            if (f != NOT_BY_NAME) return f;
        }
        Fd fd = FileCalls.openPath(parent.fd(), n.location().nameUncopied());
        return verified(fd, n, "path", tried, false);
    }

    /**
     * Whether {@code n} can be found by name alone: this side keeps handle inodes, and the source
     * saved the handle and inode of the very same directory's file to compare with.
     */
    private boolean byName(FsSnapshot.InodeState n) {
        return files.mode() != InodeFileHandles.NEVER && sameDirectory && n.fileHandle() != null && n.ino() != 0;
    }

    /** {@link #byName}'s answer where it cannot decide without a descriptor. */
    private static final Found NOT_BY_NAME = new Found(null, null, null);

    /**
     * A node this side keeps as a file handle, found without opening it: its handle by name
     * (name_to_handle_at without following a final symlink, as the O_NOFOLLOW open) and its status
     * by name, two syscalls where a descriptor costs four (open, status, handle, close). As strict
     * as {@link #verified}: the type and inode the source saved, and the very handle it saved (the
     * handle names one inode and its generation, so both lookups found the saved file even if the
     * name changed in between; the handle kept is the one made here, in the share). A mount this
     * side has no descriptor of yet, or a file system without handles, takes the descriptor way.
     */
    private Found byName(FsSnapshot.InodeState n, Inode parent, List<String> tried) throws NativeException {
        byte[] name = n.location().nameUncopied(); // only read by the two calls below
        FileHandle mine;
        try {
            mine = FileHandles.nameToHandle(parent.fd(), name, 0);
        } catch (NativeException e) {
            if (e.errno() == Errno.EOPNOTSUPP || e.errno() == Errno.EOVERFLOW) return NOT_BY_NAME;
            throw e;
        }
        InodeFile.ByHandle kept = files.byHandle(mine);
        if (kept == null) return NOT_BY_NAME;
        Stat st = FileCalls.statx(parent.fd(), name, FileCalls.AT_SYMLINK_NOFOLLOW);
        String problem = mismatch(n, st);
        if (problem == null && !sameHandle(mine, n.fileHandle()))
            problem = "found another file of inode " + st.ino() + " (its file handle differs)";
        if (problem == null) return Found.byName(st, kept);
        tried.add("path: " + problem);
        return null;
    }

    /** Why {@code st} is not the file {@code n} the source had (type, and inode on the very same directory), or null. */
    private String mismatch(FsSnapshot.InodeState n, Stat st) {
        if (n.fileType() != 0 && st.fileType() != n.fileType()) { // 0: unknown (virtiofsd's state)
            return "found a file of type " + Integer.toOctalString(st.fileType()) + ", not "
                    + Integer.toOctalString(n.fileType());
        }
        if (sameDirectory && n.ino() != 0 && (st.dev() != n.dev() || st.ino() != n.ino())) {
            // ino 0: none saved (virtiofsd's state); a handle then names the file by itself
            return "found inode " + st.ino() + ", the source had " + n.ino();
        }
        return null;
    }

    /** A node of this restore (not in any table yet, so never retired), pinned for one use of its descriptor. */
    private static Inode pinned(Inode n) {
        if (!n.pin()) throw new IllegalStateException("node " + n.nodeId + " retired during its restore");
        return n;
    }

    private Found openByHandle(FsSnapshot.InodeState n, List<String> tried) throws NativeException {
        FileHandle h = n.fileHandle();
        if (h == null || !sameDirectory) return null; // a handle means nothing on another file system
        Fd fd = FileHandles.open(mountFd(), h, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC);
        return verified(fd, n, "handle", tried, true);
    }

    private synchronized Fd mountFd() throws NativeException {
        if (mountFd == null) {
            // open_by_handle_at takes a real descriptor of the mount, not an O_PATH one.
            mountFd = FileCalls.openat(
                    null, FileCalls.procSelfFd(root.fd()), Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        }
        return mountFd;
    }

    /**
     * Keeps {@code fd} only if it is the file the source had (and, by handle, inside the share),
     * with the status and the file handle the checks made (so they are not made twice).
     */
    private Found verified(Fd fd, FsSnapshot.InodeState n, String how, List<String> tried, boolean checkInside)
            throws NativeException {
        try {
            Stat st = FileCalls.fstat(fd);
            FileHandle mine = null;
            String problem = mismatch(n, st);
            if (problem == null && checkInside && !inside(fd, st)) {
                problem = "the file lies outside the shared directory";
            } else if (problem == null && !checkInside && sameDirectory && n.fileHandle() != null) {
                mine = handleOf(fd);
                if (!sameHandle(mine, n.fileHandle()))
                    problem = "found another file of inode " + st.ino() + " (its file handle differs)";
            }
            if (problem == null) return new Found(fd, st, mine);
            tried.add(how + ": " + problem);
            fd.close();
            return null;
        } catch (Throwable t) {
            fd.close();
            throw t;
        }
    }

    /**
     * Whether a file found by path is the one whose handle the source saved: a source that keeps
     * inodes as handles holds no descriptor that would stop the host from reusing an unlinked
     * file's inode number, and the handle's generation tells the two apart. No handle on either
     * side: nothing to compare, the inode number must do.
     */
    private static boolean sameHandle(FileHandle mine, FileHandle saved) {
        return mine == null || mine.sameTypeAndBytes(saved);
    }

    /** The file handle of {@code fd}, or null where its file system gives none. */
    private static FileHandle handleOf(Fd fd) {
        try {
            return FileHandles.of(fd);
        } catch (NativeException e) {
            return null;
        }
    }

    /**
     * Whether {@code fd} (of status {@code st}) lies inside the share. Its path alone would not
     * do for the share's own path: a file the kernel cannot connect to its directory (a
     * non-directory decoded from a handle, whose dentry it did not have) reads as "/" + its name,
     * so it is the root only if it is the root's inode.
     */
    private boolean inside(Fd fd, Stat st) throws NativeException {
        String p = new String(FileCalls.readlinkat(null, FileCalls.procSelfFd(fd)), StandardCharsets.UTF_8);
        if (p.endsWith(DELETED)) p = p.substring(0, p.length() - DELETED.length());
        if (p.equals(rootPath)) return st.dev() == root.key.dev() && st.ino() == root.key.ino();
        return p.startsWith(rootPath.endsWith("/") ? rootPath : rootPath + "/");
    }

    /** A saved handle, reopened as OPEN or OPENDIR would open it: the flags it records are the ones used. */
    private static Handle reopen(Inode n, FsSnapshot.HandleState h) throws FsException, NativeException {
        int flags = h.directory() ? NodeOpener.DIRECTORY_FLAGS : NodeOpener.handleFlags(h.flags());
        Fd fd;
        if (!h.directory() && n.file instanceof InodeFile.ByHandle byHandle) {
            fd = NodeOpener.file(byHandle, n.nodeId, n.fileType, flags);
        } else {
            try (Inode p = pinned(n)) {
                fd = h.directory()
                        ? NodeOpener.directory(p.fd(), p.fileType)
                        : NodeOpener.file(p.fd(), p.fileType, flags);
            }
        }
        try {
            return new Handle(h.fh(), n, fd, flags, h.directory());
        } catch (Throwable t) {
            fd.close();
            throw t;
        }
    }
}
