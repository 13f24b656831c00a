package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.Attr;
import io.jvhost.devices.fs.api.AttrReply;
import io.jvhost.devices.fs.api.Created;
import io.jvhost.devices.fs.api.DirEntry;
import io.jvhost.devices.fs.api.DirSink;
import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.MigratableFileSystem;
import io.jvhost.devices.fs.api.Opened;
import io.jvhost.devices.fs.api.ReadSink;
import io.jvhost.devices.fs.api.RequestContext;
import io.jvhost.devices.fs.api.SecurityContext;
import io.jvhost.devices.fs.api.SetAttr;
import io.jvhost.devices.fs.api.StatFs;
import io.jvhost.devices.fs.api.WriteSource;
import io.jvhost.devices.fs.idmap.GuestIds;
import io.jvhost.devices.fs.passthrough.HandleTable.Kind;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState;
import io.jvhost.nativeio.DirEntries;
import io.jvhost.nativeio.DirEntry64;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.FileIo;
import io.jvhost.nativeio.FsStats;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Stat;
import io.jvhost.nativeio.Xattrs;
import io.jvhost.state.LoadedState;
import io.jvhost.state.StateReader;
import io.jvhost.state.StateWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link FileSystem} that passes the guest's requests through to a directory of the host,
 * shaped like virtiofsd's passthrough: every node holds an O_PATH descriptor opened relative
 * to its parent's with O_NOFOLLOW, nodes are identified by (st_dev, st_ino, mount id) so two
 * lookups of one file give one node id, and opens go through the node's descriptor.
 *
 * <p>Confinement: every name is one validated path component ({@link Names}), every call is
 * relative to a node's descriptor, nothing follows a symlink, and the only path the server
 * builds itself is /proc/self/fd/N of its own descriptors (to reopen an inode, or to reach it
 * where the call takes no O_PATH descriptor). Only regular files and directories are opened
 * ({@link NodeOpener}, for OPEN, CREATE and migrated handles alike); device nodes and FIFOs the
 * guest opens are the guest kernel's business, and opening them here would hand the guest host
 * devices or block the request thread (EBADF), a symlink cannot be opened (ELOOP).
 *
 * <p>Request threads must be platform threads: creating calls switch the thread's
 * fsuid/fsgid and umask ({@link CallerIdentity}).
 */
public final class PassthroughFs implements MigratableFileSystem, AutoCloseable {
    // FUSE_INIT capability bits (include/uapi/linux/fuse.h) this file system honours.
    static final long FUSE_ASYNC_READ = 1L << 0,
            FUSE_ATOMIC_O_TRUNC = 1L << 3,
            FUSE_BIG_WRITES = 1L << 5,
            FUSE_DONT_MASK = 1L << 6,
            FUSE_AUTO_INVAL_DATA = 1L << 12,
            FUSE_DO_READDIRPLUS = 1L << 13,
            FUSE_READDIRPLUS_AUTO = 1L << 14,
            FUSE_WRITEBACK_CACHE = 1L << 16,
            FUSE_PARALLEL_DIROPS = 1L << 18,
            FUSE_POSIX_ACL = 1L << 20,
            FUSE_SUBMOUNTS = 1L << 27,
            FUSE_HANDLE_KILLPRIV_V2 = 1L << 28,
            FUSE_SETXATTR_EXT = 1L << 29,
            FUSE_SECURITY_CTX = 1L << 32,
            FUSE_CREATE_SUPP_GROUP = 1L << 34,
            FUSE_DIRECT_IO_ALLOW_MMAP = 1L << 36;
    /** fuse_setxattr_in.setxattr_flags: clear set-group-ID when setting the access ACL. */
    private static final int SETXATTR_ACL_KILL_SGID = 1;

    private static final int S_ISGID = 02000;

    private static final int RENAME_FLAGS =
            FileCalls.RENAME_NOREPLACE | FileCalls.RENAME_EXCHANGE | FileCalls.RENAME_WHITEOUT;
    private static final int READDIR_BUFFER = 32 * 1024;
    private static final int F_OK = 0, X_OK = 1, W_OK = 2, R_OK = 4;
    private static final int O_TMPFILE = 020000000 | Libc.O_DIRECTORY;

    private static final Logger LOG = LoggerFactory.getLogger(PassthroughFs.class);

    private final PassthroughConfig config;
    private final MigrationConfig migration;
    private final InodeTable inodes;
    private final HandleTable handles;
    private final PrivilegedFiles privileged;
    private final InodeFiles files;
    private final XattrNames xattrNames;
    private volatile long initFlags;
    /** The state a migration that started is preparing (guarded by this), or null. */
    private StatePreparation preparation;

    private PassthroughFs(PassthroughConfig config, MigrationConfig migration, Inode root, InodeFiles files) {
        this.config = config;
        this.migration = migration;
        this.files = files;
        this.inodes = new InodeTable(root);
        this.handles = new HandleTable(inodes);
        this.privileged = new PrivilegedFiles(config.denyPrivilegedFiles());
        this.xattrNames = new XattrNames(config.xattrMap());
    }

    /** Serves {@code sharedDir} (a directory; symlinks in the path given here are followed, once). */
    public static PassthroughFs open(Path sharedDir, PassthroughConfig config) throws IOException {
        return open(sharedDir, config, MigrationConfig.defaults());
    }

    /** Serves {@code sharedDir}, migrating as {@code migration} says. */
    public static PassthroughFs open(Path sharedDir, PassthroughConfig config, MigrationConfig migration)
            throws IOException {
        Fd fd = FileCalls.openat(
                null, FileCalls.bytes(sharedDir.toString()), Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        InodeFiles files = null;
        try {
            Stat st = FileCalls.fstat(fd);
            files = InodeFiles.open(fd, config.inodeFileHandles(), config.fileHandles());
            // The root keeps its descriptor whatever the mode: it is one, and never goes.
            Inode root = new Inode(ROOT_ID, InodeKey.of(st), st.fileType(), fd, files.handleOf(fd));
            return new PassthroughFs(config, migration, root, files);
        } catch (IOException | RuntimeException e) {
            if (files != null) files.close();
            fd.close();
            throw e;
        }
    }

    public PassthroughConfig config() {
        return config;
    }

    /** How inodes are kept: the configured mode, or never where prefer found file handles unusable. */
    public InodeFileHandles inodeFileHandles() {
        return files.mode();
    }

    /** A consistent copy of nodes, handles, counters and INIT flags (what a migration carries). */
    public FsSnapshot snapshot() {
        synchronized (handles) {
            synchronized (inodes) {
                return new FsSnapshot(
                        inodes.nextNodeId(),
                        handles.nextFh(),
                        initFlags,
                        List.copyOf(inodes.snapshot()),
                        List.copyOf(handles.snapshot()));
            }
        }
    }

    public MigrationConfig migration() {
        return migration;
    }

    // ---- migration ----

    /** Starts preparing the state on a thread of its own; one that was being prepared is given up first. */
    @Override
    public synchronized void prepareMigration() {
        cancelMigration();
        preparation = StatePreparation.start(
                inodes,
                handles,
                Thread.ofPlatform().name("jvhost-fs-state-prepare").daemon().factory(),
                this::rehearse);
    }

    /** Writes {@code snap} as a save would, into {@code sink} (see {@link StatePreparation.Rehearsal}). */
    private void rehearse(FsSnapshot snap, FsStateCodec.EncodedInodes encoded, java.io.OutputStream sink)
            throws IOException {
        StateWriter w = StateWriter.create(sink, "rehearsal");
        FsStateCodec.write(
                new SavedFs(
                        snap,
                        migration.mode(),
                        inodes.root().key.dev(),
                        inodes.root().key.ino()),
                encoded,
                w);
        w.finish();
    }

    @Override
    public synchronized void cancelMigration() {
        if (preparation == null) return;
        preparation.close();
        preparation = null;
        LOG.info("migration: the prepared state was dropped");
    }

    /** The snapshot a save writes: what was prepared plus the changes since (which ends the preparation), else a fresh one. */
    private synchronized StatePreparation.Finished captureSnapshot() {
        StatePreparation p = preparation;
        if (p == null) return StatePreparation.Finished.fresh(snapshot());
        preparation = null;
        try (p) {
            return p.finish(initFlags);
        }
    }

    @Override
    public Capture capture() throws FsException {
        long t0 = System.nanoTime();
        StatePreparation.Finished captured = captureSnapshot();
        FsSnapshot snap = confirmedPaths(captured.snapshot());
        SavedFs saved = new SavedFs(
                snap,
                migration.mode(),
                inodes.root().key.dev(),
                inodes.root().key.ino());
        // Records re-checked by --migration-confirm-paths are not the ones encoded ahead.
        FsStateCodec.EncodedInodes encoded =
                snap == captured.snapshot() ? captured.encoded() : FsStateCodec.EncodedInodes.NONE;
        long took = System.nanoTime() - t0;
        // Logged by the session once SET_DEVICE_STATE_FD is answered: the front-end waits for it.
        return new Capture() {
            @Override
            public void writeTo(StateWriter out) throws IOException {
                FsStateCodec.write(saved, encoded, out);
            }

            /*
             * A StringBuilder, not '+': a concatenation's call site is linked the first time it
             * runs (~5-9 ms), and a daemon's rehearsals, whose migrations are not reported, never
             * run this one; CHECK_DEVICE_STATE waited behind it (QEMU's trace).
             */
            @Override
            public String summary() {
                if (!migration.reported()) return "";
                StringBuilder b = new StringBuilder("migration: captured ")
                        .append(saved.snapshot().inodes().size())
                        .append(" inodes and ")
                        .append(saved.snapshot().handles().size())
                        .append(" open handles in ")
                        .append(ms(took))
                        .append(" ms");
                captured.describeChanges(b);
                return b.toString();
            }
        };
    }

    @Override
    public VirtiofsdState captureVirtiofsd() throws FsException {
        return VirtiofsdExport.toVirtiofsd(confirmedPaths(captureSnapshot().snapshot()));
    }

    /** {@code snap}, its paths re-checked if --migration-confirm-paths asks it. */
    private FsSnapshot confirmedPaths(FsSnapshot snap) throws FsException {
        if (!migration.confirmPaths()) return snap;
        try {
            return PathConfirmation.confirm(snap, inodes);
        } catch (NativeException e) {
            throw new FsException(e.errno(), "--migration-confirm-paths: the shared directory: " + e.getMessage(), e);
        }
    }

    @Override
    public void registerLoaders(StateReader.Builder reader) {
        registerStateSections(reader);
    }

    /** Registers the loaders of the passthrough sections (static: a tool reads a blob without a file system). */
    public static void registerStateSections(StateReader.Builder reader) {
        FsStateCodec.register(reader);
    }

    /** The passthrough state a blob read with {@link #registerStateSections} holds, checked for consistency. */
    public static SavedFs savedState(LoadedState state) throws FsException {
        try {
            return FsStateCodec.read(state);
        } catch (FsStateCodec.StructureException e) {
            throw new FsException(Errno.EINVAL, "inconsistent file-system state: " + e.getMessage(), e);
        }
    }

    @Override
    public Prepared prepare(LoadedState state) throws FsException {
        long t0 = System.nanoTime();
        return prepare(savedState(state), t0);
    }

    @Override
    public Prepared prepare(VirtiofsdState state, long initFlags) throws FsException {
        long t0 = System.nanoTime();
        SavedFs saved;
        try {
            Stat share = FileCalls.fstat(inodes.root().fd());
            saved = VirtiofsdImport.toSaved(state, initFlags, share.dev(), share.ino());
        } catch (FsStateCodec.StructureException e) {
            throw new FsException(Errno.EINVAL, "inconsistent virtiofsd state: " + e.getMessage(), e);
        } catch (NativeException e) {
            throw new FsException(e.errno(), "the shared directory: " + e.getMessage(), e);
        }
        return prepare(saved, t0);
    }

    /**
     * A migration's report at info, a warm-up's at debug. Plain info/debug calls, not the fluent
     * {@code atLevel}: its builder classes would first load inside a real migration's downtime.
     */
    private void report(String format, Object... args) {
        if (migration.reported()) LOG.info(format, args);
        else LOG.debug(format, args);
    }

    /** Restores {@code saved} (read from a blob since {@code t0}) without touching the live state. */
    private Prepared prepare(SavedFs saved, long t0) throws FsException {
        long t1 = System.nanoTime();
        acceptsSession(saved.snapshot().initFlags());
        FsRestorer.Restored r = new FsRestorer(inodes.root(), files, migration, config.readOnly()).restore(saved);
        report(
                "migration: checked {} inodes and {} handles in {} ms; reopened {} inodes and {} handles"
                        + " ({} unavailable) in {} ms (the handles {} ms), inodes kept as {}",
                saved.snapshot().inodes().size(),
                saved.snapshot().handles().size(),
                ms(t1 - t0),
                r.inodes().size() + 1,
                r.handles().size(),
                r.failedNodes().size() + r.failedHandles().size(),
                ms(System.nanoTime() - t1),
                ms(r.handleNanos()),
                files.mode() == InodeFileHandles.NEVER ? "O_PATH descriptors" : "file handles where possible");
        return new Prepared() {
            @Override
            public void commit() {
                synchronized (handles) {
                    handles.clear();
                    inodes.restore(r.rootLookups(), r.inodes(), r.nextNodeId(), r.failedNodes());
                    handles.restore(r.handles(), r.nextFh(), r.failedHandles());
                    initFlags = r.initFlags();
                }
            }

            @Override
            public void discard() {
                r.close();
            }
        };
    }

    /**
     * What the source agreed with the guest, and the guest goes on relying on, this file system
     * must have been started with (as virtiofsd's destination refuses it): the writeback cache
     * (the guest reads through files it opened write-only, and appends itself), submounts
     * announced (the guest has submounts whose entries must stay marked).
     */
    private void acceptsSession(long sourceFlags) throws FsException {
        if ((sourceFlags & FUSE_WRITEBACK_CACHE) != 0 && !config.writeback())
            throw new FsException(
                    Errno.EINVAL, "the source has the writeback cache enabled, this back-end was started without it");
        if ((sourceFlags & FUSE_SUBMOUNTS) != 0 && !config.announceSubmounts())
            throw new FsException(
                    Errno.EINVAL, "the source announces submounts, this back-end was started without announcing them");
    }

    /** Closes every descriptor, the root's too. */
    @Override
    public void close() {
        cancelMigration();
        destroy();
        inodes.root().retire();
        files.close();
    }

    // ---- session ----

    @Override
    public long supportedInitFlags() {
        long flags = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_DONT_MASK | FUSE_PARALLEL_DIROPS;
        if (config.readdirplus()) flags |= FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO;
        if (config.cache() == CachePolicy.AUTO) flags |= FUSE_AUTO_INVAL_DATA;
        if (config.allowMmap()) flags |= FUSE_DIRECT_IO_ALLOW_MMAP;
        if (config.posixAcl()) flags |= FUSE_POSIX_ACL | FUSE_SETXATTR_EXT;
        if (config.securityLabel()) flags |= FUSE_SECURITY_CTX;
        // The guest only offers SUBMOUNTS, and never acts on it in the answer: granted, it records
        // (and a migration carries) that FUSE_ATTR_SUBMOUNT may be sent.
        if (config.announceSubmounts()) flags |= FUSE_SUBMOUNTS;
        if (config.writeback()) flags |= FUSE_WRITEBACK_CACHE;
        if (config.killprivV2()) flags |= FUSE_HANDLE_KILLPRIV_V2;
        // The guest then names the parent's group when its caller is in it only as a supplementary group.
        return CallerIdentity.takesSupplementaryGroups() ? flags | FUSE_CREATE_SUPP_GROUP : flags;
    }

    /** As virtiofsd: a guest that cannot do the ACLs or labels asked for does not mount (EPROTO). */
    @Override
    public void init(long negotiatedFlags) throws FsException {
        long acl = FUSE_POSIX_ACL | FUSE_DONT_MASK | FUSE_SETXATTR_EXT;
        if (config.posixAcl() && (negotiatedFlags & acl) != acl) {
            throw new FsException(
                    Errno.EPROTO, "--posix-acl: the guest offers no POSIX_ACL, DONT_MASK and SETXATTR_EXT");
        }
        if (config.securityLabel() && (negotiatedFlags & FUSE_SECURITY_CTX) == 0) {
            throw new FsException(Errno.EPROTO, "--security-label: the guest offers no SECURITY_CTX");
        }
        initFlags = negotiatedFlags;
        if (config.announceSubmounts() && (negotiatedFlags & FUSE_SUBMOUNTS) == 0)
            LOG.warn("cannot announce submounts: the guest does not support it");
        if (config.writeback() && (negotiatedFlags & FUSE_WRITEBACK_CACHE) == 0)
            LOG.warn("cannot enable the writeback cache: the guest does not support it");
        if (config.killprivV2() && (negotiatedFlags & FUSE_HANDLE_KILLPRIV_V2) == 0)
            LOG.warn("cannot enable KILLPRIV_V2: the guest does not support it");
    }

    @Override
    public void destroy() {
        synchronized (handles) {
            handles.clear();
            inodes.clear();
        }
        initFlags = 0;
    }

    // ---- names ----

    @Override
    public Entry lookup(RequestContext ctx, long parent, byte[] name) throws FsException {
        Names.component(name);
        try (Inode dir = inodes.pin(parent)) {
            return lookupAndCount(dir, name);
        }
    }

    @Override
    public void forget(long node, long count) {
        inodes.forget(node, count);
    }

    @Override
    public Entry mknod(RequestContext ctx, long parent, byte[] name, int mode, int rdev, int umask) throws FsException {
        writable();
        Names.component(name);
        try (Inode dir = inodes.pin(parent)) {
            Fd at = dir.fd(); // before the caller's fsuid, which drops CAP_DAC_READ_SEARCH (open_by_handle_at)
            try (CallerIdentity id = CallerIdentity.become(config.guestIds().hostCaller(ctx), umask)) {
                FileCalls.mknodat(at, name, id.mode(privileged.newFileMode(mode), umask), fuseToDev(rdev));
            }
            label(ctx, at, name, null, 0);
            return lookupAndCount(dir, name);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public Entry mkdir(RequestContext ctx, long parent, byte[] name, int mode, int umask) throws FsException {
        writable();
        Names.component(name);
        try (Inode dir = inodes.pin(parent)) {
            Fd at = dir.fd();
            try (CallerIdentity id = CallerIdentity.become(config.guestIds().hostCaller(ctx), umask)) {
                FileCalls.mkdirat(at, name, id.mode(mode & 07777, umask));
            }
            label(ctx, at, name, null, FileCalls.AT_REMOVEDIR);
            return lookupAndCount(dir, name);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public Entry symlink(RequestContext ctx, byte[] target, long parent, byte[] name) throws FsException {
        writable();
        Names.component(name);
        Names.symlinkTarget(target);
        try (Inode dir = inodes.pin(parent)) {
            Fd at = dir.fd();
            try (CallerIdentity _ = CallerIdentity.become(config.guestIds().hostCaller(ctx), 0)) {
                FileCalls.symlinkat(target, at, name);
            }
            label(ctx, at, name, null, 0);
            return lookupAndCount(dir, name);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public byte[] readlink(RequestContext ctx, long node) throws FsException {
        try (Inode n = inodes.pin(node)) {
            if (!n.isSymlink()) throw new FsException(Errno.EINVAL, "not a symlink");
            return FileCalls.readlinkat(n.fd(), new byte[0]);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public void unlink(RequestContext ctx, long parent, byte[] name) throws FsException {
        writable();
        remove(parent, name, 0);
    }

    @Override
    public void rmdir(RequestContext ctx, long parent, byte[] name) throws FsException {
        writable();
        remove(parent, name, FileCalls.AT_REMOVEDIR);
    }

    private void remove(long parent, byte[] name, int flags) throws FsException {
        Names.component(name);
        try (Inode dir = inodes.pin(parent)) {
            FileCalls.unlinkat(dir.fd(), name, flags);
            inodes.unlinked(dir.nodeId, name);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public void rename(RequestContext ctx, long oldParent, byte[] oldName, long newParent, byte[] newName, int flags)
            throws FsException {
        writable();
        Names.component(oldName);
        Names.component(newName);
        if ((flags & ~RENAME_FLAGS) != 0) throw new FsException(Errno.EINVAL, "unknown rename flags " + flags);
        try (Inode from = inodes.pin(oldParent);
                Inode to = inodes.pin(newParent)) {
            FileCalls.renameat2(from.fd(), oldName, to.fd(), newName, flags);
            inodes.renamed(
                    new Location(from.nodeId, oldName),
                    new Location(to.nodeId, newName),
                    (flags & FileCalls.RENAME_EXCHANGE) != 0);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public Entry link(RequestContext ctx, long node, long newParent, byte[] newName) throws FsException {
        writable();
        Names.component(newName);
        try (Inode n = inodes.pin(node);
                Inode dir = inodes.pin(newParent)) {
            if (n.isDirectory()) throw new FsException(Errno.EPERM, "hard link to a directory");
            FileCalls.linkInode(n.fd(), dir.fd(), newName);
            return lookupAndCount(dir, newName);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    // ---- attributes ----

    @Override
    public AttrReply getattr(RequestContext ctx, long node, long fh, boolean fhValid) throws FsException {
        try (Inode n = inodes.pin(node)) {
            if (fhValid)
                handles.pin(fh, node, n.isDirectory() ? Kind.DIRECTORY : Kind.FILE)
                        .close();
            return new AttrReply(guestAttr(FileCalls.fstat(n.fd())), timeout());
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public AttrReply setattr(RequestContext ctx, long node, SetAttr a) throws FsException {
        writable();
        try (Inode n = inodes.pin(node);
                Handle h = a.has(SetAttr.FH) ? handles.pin(a.fh(), node, Kind.FILE) : null) {
            // The owner the guest gives, as the host's (forbid-guest: EPERM before anything is changed).
            int uid = a.has(SetAttr.UID) ? config.guestIds().hostUid(a.uid()) : -1;
            int gid = a.has(SetAttr.GID) ? config.guestIds().hostGid(a.gid()) : -1;
            if (privileged.denies()) checkPrivileges(n, a, uid, gid);
            if (a.has(SetAttr.MODE)) {
                if (h != null) {
                    FileCalls.fchmod(h.fd, a.mode() & 07777);
                } else {
                    if (n.isSymlink()) throw new FsException(Errno.EOPNOTSUPP, "chmod of a symlink");
                    FileCalls.fchmodat(null, FileCalls.procSelfFd(n.fd()), a.mode() & 07777);
                }
            }
            if (a.has(SetAttr.UID) || a.has(SetAttr.GID)) {
                FileCalls.fchownat(
                        n.fd(), new byte[0], uid, gid, FileCalls.AT_EMPTY_PATH | FileCalls.AT_SYMLINK_NOFOLLOW);
            }
            if (a.has(SetAttr.SIZE)) {
                if (a.size() < 0) throw new FsException(Errno.EINVAL, "negative size");
                if (h != null) {
                    try (WithoutFsetid _ = WithoutFsetid.enterIf(kills(a.valid(), SetAttr.KILL_SUIDGID))) {
                        Libc.ftruncate(h.fd, a.size());
                    }
                } else {
                    if (n.isDirectory()) throw new FsException(Errno.EISDIR);
                    if (!n.isRegularFile()) throw new FsException(Errno.EINVAL, "truncate of a special file");
                    try (Fd w = openFile(n.fd(), n.fileType, Libc.O_WRONLY);
                            WithoutFsetid _ = WithoutFsetid.enterIf(kills(a.valid(), SetAttr.KILL_SUIDGID))) {
                        Libc.ftruncate(w, a.size());
                    }
                }
            }
            if (a.has(SetAttr.ATIME) || a.has(SetAttr.MTIME)) {
                long aNsec = !a.has(SetAttr.ATIME)
                        ? FileCalls.UTIME_OMIT
                        : a.has(SetAttr.ATIME_NOW) ? FileCalls.UTIME_NOW : a.atimeNsec();
                long mNsec = !a.has(SetAttr.MTIME)
                        ? FileCalls.UTIME_OMIT
                        : a.has(SetAttr.MTIME_NOW) ? FileCalls.UTIME_NOW : a.mtimeNsec();
                if (h != null) {
                    FileCalls.utimensat(h.fd, null, a.atime(), aNsec, a.mtime(), mNsec, 0);
                } else {
                    // The magic link ends at the node itself, a symlink included.
                    FileCalls.utimensat(null, FileCalls.procSelfFd(n.fd()), a.atime(), aNsec, a.mtime(), mNsec, 0);
                }
            }
            return new AttrReply(guestAttr(FileCalls.fstat(n.fd())), timeout());
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    /** The --deny-privileged-files checks of a SETATTR, before any of it is done. */
    private void checkPrivileges(Inode n, SetAttr a, int hostUid, int hostGid) throws NativeException, FsException {
        Stat st = FileCalls.fstat(n.fd());
        int mode = a.has(SetAttr.MODE) ? a.mode() & 07777 : st.mode();
        if (a.has(SetAttr.MODE)) privileged.checkChmod(st, mode);
        if (a.has(SetAttr.UID) || a.has(SetAttr.GID)) privileged.checkChown(st, mode, hostUid, hostGid);
    }

    @Override
    public StatFs statfs(RequestContext ctx, long node) throws FsException {
        try (Inode n = inodes.pin(node)) {
            FsStats s = FileIo.fstatfs(n.fd());
            return new StatFs(
                    s.blocks(), s.bfree(), s.bavail(), s.files(), s.ffree(), (int) s.bsize(), (int) s.namelen(), (int)
                            s.frsize());
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    /**
     * ACCESS, decided from the mode bits for the caller's uid/gid (FUSE does not send the
     * caller's supplementary groups, so those do not count). Root may do anything but execute
     * a file nobody may execute.
     */
    @Override
    public void access(RequestContext ctx, long node, int mask) throws FsException {
        if ((mask & ~(R_OK | W_OK | X_OK)) != 0) throw new FsException(Errno.EINVAL, "bad access mask " + mask);
        if ((mask & W_OK) != 0) writable();
        try (Inode n = inodes.pin(node)) {
            Stat st = FileCalls.fstat(n.fd());
            if (mask == F_OK) return;
            int mode = st.mode();
            if (ctx.uid() == 0) {
                if ((mask & X_OK) != 0 && !st.isDirectory() && (mode & 0111) == 0) throw new FsException(Errno.EACCES);
                return;
            }
            // The owner as the guest sees it, against the guest's caller (as virtiofsd).
            GuestIds ids = config.guestIds();
            int bits = ctx.uid() == ids.guestUid(st.uid())
                    ? mode >> 6
                    : ctx.gid() == ids.guestGid(st.gid()) ? mode >> 3 : mode;
            if ((bits & mask & 7) != mask) throw new FsException(Errno.EACCES);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    // ---- extended attributes ----

    @Override
    public void setxattr(RequestContext ctx, long node, byte[] name, byte[] value, int flags) throws FsException {
        setxattr(ctx, node, name, value, flags, 0);
    }

    /**
     * SETXATTR_ACL_KILL_SGID (the guest's caller is neither in the file's group nor has
     * CAP_FSETID, so setting the access ACL must clear set-group-ID, which the host kernel would
     * not do for this root daemon): cleared first, as virtiofsd does.
     */
    @Override
    public void setxattr(RequestContext ctx, long node, byte[] name, byte[] value, int flags, int setxattrFlags)
            throws FsException {
        writable();
        xattrsEnabled();
        Names.xattrName(name);
        byte[] host = xattrNames.host(name, aclOn());
        privileged.checkXattr(host);
        if (value.length > Xattrs.SIZE_MAX) throw new FsException(Errno.E2BIG);
        try (Inode n = inodes.pin(node)) {
            if (aclOn()
                    && (setxattrFlags & SETXATTR_ACL_KILL_SGID) != 0
                    && Arrays.equals(host, XattrNames.ACL_ACCESS)) {
                int mode = FileCalls.fstat(n.fd()).mode();
                if ((mode & S_ISGID) != 0 && !n.isSymlink()) {
                    FileCalls.fchmodat(null, FileCalls.procSelfFd(n.fd()), mode & 07777 & ~S_ISGID);
                }
            }
            Xattrs.set(Xattrs.File.inode(n.fd()), host, value, flags);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    /** A name a bad rule refuses reads as absent (ENODATA), as in virtiofsd. */
    @Override
    public byte[] getxattr(RequestContext ctx, long node, byte[] name) throws FsException {
        xattrsEnabled();
        Names.xattrName(name);
        byte[] host;
        try {
            host = xattrNames.host(name, aclOn());
        } catch (FsException e) {
            throw e.errno() == Errno.EPERM ? new FsException(Errno.ENODATA, e.getMessage()) : e;
        }
        try (Inode n = inodes.pin(node)) {
            return Xattrs.get(Xattrs.File.inode(n.fd()), host);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public byte[] listxattr(RequestContext ctx, long node) throws FsException {
        xattrsEnabled();
        try (Inode n = inodes.pin(node)) {
            return xattrNames.guestList(Xattrs.list(Xattrs.File.inode(n.fd())), aclOn());
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public void removexattr(RequestContext ctx, long node, byte[] name) throws FsException {
        writable();
        xattrsEnabled();
        Names.xattrName(name);
        byte[] host = xattrNames.host(name, aclOn());
        try (Inode n = inodes.pin(node)) {
            Xattrs.remove(Xattrs.File.inode(n.fd()), host);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    /** --posix-acl, and the guest agreed to it at INIT. */
    private boolean aclOn() {
        return config.posixAcl() && (initFlags & FUSE_POSIX_ACL) != 0;
    }

    /**
     * --security-label: gives the node just made as {@code name} in {@code dir} the label its
     * request carries, as the daemon (security.* needs CAP_SYS_ADMIN), before the guest hears of
     * the node; if that fails the node is removed again ({@code removeFlags} for unlinkat), so
     * no unlabeled file stays behind. A created file is labeled through its open descriptor;
     * other nodes through an O_PATH descriptor, as they may be device nodes.
     */
    private void label(RequestContext ctx, Fd dir, byte[] name, Fd opened, int removeFlags)
            throws FsException, NativeException {
        SecurityContext label = ctx.securityContext();
        if (!config.securityLabel() || label == null) return;
        try {
            byte[] host = xattrNames.host(label.name(), aclOn());
            privileged.checkXattr(host);
            if (opened != null) {
                Xattrs.set(Xattrs.File.fd(opened), host, label.value(), 0);
            } else {
                try (Fd p = FileCalls.openPath(dir, name)) {
                    Xattrs.set(Xattrs.File.inode(p), host, label.value(), 0);
                }
            }
        } catch (FsException | NativeException | RuntimeException e) {
            try {
                FileCalls.unlinkat(dir, name, removeFlags);
            } catch (NativeException gone) {
                LOG.warn(
                        "--security-label: cannot remove {} after labeling it failed: {}",
                        new String(name, java.nio.charset.StandardCharsets.UTF_8),
                        gone.getMessage());
            }
            if (opened != null) opened.close();
            throw e;
        }
    }

    /** --readonly: nothing in the shared directory changes. */
    private void writable() throws FsException {
        if (config.readOnly()) throw new FsException(Errno.EROFS, "read-only share");
    }

    /**
     * --readonly: a file opens for reading only, and nothing that would change it on open
     * (truncation, a temporary file, exclusive creation) passes.
     */
    private void openableReadOnly(int flags) throws FsException {
        if (!config.readOnly()) return;
        if ((flags & Libc.O_ACCMODE) != Libc.O_RDONLY || (flags & (Libc.O_TRUNC | Libc.O_EXCL)) != 0)
            throw new FsException(Errno.EROFS, "read-only share");
        if ((flags & O_TMPFILE) == O_TMPFILE) throw new FsException(Errno.EINVAL, "O_TMPFILE on a read-only share");
    }

    private void xattrsEnabled() throws FsException {
        if (!config.xattr()) throw new FsException(Errno.ENOSYS, "xattrs are off");
    }

    // ---- files ----

    @Override
    public Opened open(RequestContext ctx, long node, int guestFlags, int openFlags) throws FsException {
        int flags = config.guestOpenFlags(guestFlags);
        openableReadOnly(flags);
        flags = cachedOpenFlags(flags);
        try (Inode n = inodes.pin(node)) {
            Fd fd;
            try (WithoutFsetid _ = WithoutFsetid.enterIf(kills(openFlags, FileSystem.OPEN_KILL_SUIDGID))) {
                fd = openFile(n.fd(), n.fileType, flags);
            }
            return new Opened(handles.add(n, fd, NodeOpener.handleFlags(flags), Kind.FILE).fh, fileOpenFlags());
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    /**
     * With the writeback cache the guest reads pages of a file its caller opened write-only (to
     * fill a partly written page), so such a file is opened read-write; and it appends itself, at
     * offsets it knows (virtiofsd's open_inode), so O_APPEND, which would make the host append
     * every write wherever the guest put it, goes.
     */
    private int cachedOpenFlags(int flags) {
        if (!config.writeback() || (initFlags & FUSE_WRITEBACK_CACHE) == 0) return flags;
        if ((flags & Libc.O_ACCMODE) == Libc.O_WRONLY) flags = (flags & ~Libc.O_ACCMODE) | Libc.O_RDWR;
        return flags & ~Libc.O_APPEND;
    }

    /** Whether the guest asked (with {@code bit} in {@code flags}) for this call to clear set-user-ID/set-group-ID, and may. */
    private boolean kills(int flags, int bit) {
        return config.killprivV2() && (flags & bit) != 0;
    }

    /**
     * CREATE: O_EXCL first, so that a new file is always a regular file this call made. If the
     * name exists (and the guest did not ask for O_EXCL itself), the existing node is opened as
     * OPEN would open it ({@link NodeOpener}: never a device node or a FIFO), through an O_PATH
     * descriptor of that name, never by opening the name with O_CREAT.
     */
    @Override
    public Created create(
            RequestContext ctx, long parent, byte[] name, int mode, int guestFlags, int umask, int openFlags)
            throws FsException {
        Names.component(name);
        int flags = config.guestOpenFlags(guestFlags);
        if (config.readOnly()) return openExisting(ctx, parent, name, flags);
        flags = cachedOpenFlags(flags);
        try (Inode dir = inodes.pin(parent)) {
            if (!dir.isDirectory()) throw new FsException(Errno.ENOTDIR);
            Fd io;
            Fd opath = null;
            Fd at = dir.fd(); // before the caller's fsuid, which drops CAP_DAC_READ_SEARCH (open_by_handle_at)
            // Without CAP_FSETID once the caller's (whose fsuid change may raise it again) is taken.
            try (CallerIdentity id = CallerIdentity.become(config.guestIds().hostCaller(ctx), umask);
                    WithoutFsetid _ = WithoutFsetid.enterIf(kills(openFlags, FileSystem.OPEN_KILL_SUIDGID))) {
                try {
                    io = FileCalls.openat(
                            at,
                            name,
                            NodeOpener.fileFlags(flags) | Libc.O_CREAT | Libc.O_EXCL,
                            id.mode(privileged.newFileMode(mode & 07777), umask));
                } catch (NativeException e) {
                    if (e.errno() != Errno.EEXIST || (flags & Libc.O_EXCL) != 0) throw e;
                    opath = FileCalls.openPath(at, name);
                    try {
                        io = openFile(opath, FileCalls.fstat(opath).fileType(), flags);
                    } catch (Throwable t) {
                        opath.close();
                        throw t;
                    }
                }
            }
            if (opath == null) label(ctx, at, name, io, 0);
            try {
                // The node is the inode opened, whatever happens to the name meanwhile.
                Entry entry = countLookup(dir, name, opath != null ? opath : NodeOpener.path(io));
                try (Inode n = inodes.pin(entry.nodeId())) {
                    Handle h = handles.add(n, io, NodeOpener.handleFlags(flags), Kind.FILE);
                    return new Created(entry, new Opened(h.fh, fileOpenFlags()));
                }
            } catch (Throwable t) {
                io.close();
                throw t;
            }
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    /**
     * CREATE on a --readonly share: a name that exists opens as OPEN would open it (the guest's
     * cache may not have known it); a new one cannot be made.
     */
    private Created openExisting(RequestContext ctx, long parent, byte[] name, int flags) throws FsException {
        openableReadOnly(flags & ~Libc.O_CREAT);
        Entry entry;
        try {
            entry = lookup(ctx, parent, name);
        } catch (FsException e) {
            throw e.errno() == Errno.ENOENT ? new FsException(Errno.EROFS, "read-only share") : e;
        }
        try {
            return new Created(entry, open(ctx, entry.nodeId(), flags & ~Libc.O_CREAT));
        } catch (FsException | RuntimeException e) {
            forget(entry.nodeId(), 1);
            throw e;
        }
    }

    @Override
    public long read(RequestContext ctx, long node, long fh, long offset, int size, ReadSink sink) throws FsException {
        if (offset < 0 || size < 0) throw new FsException(Errno.EINVAL, "negative offset or size");
        try (Handle h = handles.pin(fh, node, Kind.FILE)) {
            return sink.readFrom(h.fd, offset, Math.min(size, sink.remaining()));
        }
    }

    @Override
    public long write(RequestContext ctx, long node, long fh, long offset, WriteSource source, int writeFlags)
            throws FsException {
        writable();
        if (offset < 0) throw new FsException(Errno.EINVAL, "negative offset");
        try (Handle h = handles.pin(fh, node, Kind.FILE);
                WithoutFsetid _ = WithoutFsetid.enterIf(kills(writeFlags, FileSystem.WRITE_KILL_SUIDGID))) {
            return source.writeTo(h.fd, offset);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    /** FLUSH: closes a duplicate of the descriptor, which is what close(2) in the guest means to the host (locks, NFS). */
    @Override
    public void flush(RequestContext ctx, long node, long fh, long lockOwner) throws FsException {
        try (Handle h = handles.pin(fh, node, Kind.FILE)) {
            h.fd.dup().close();
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public void release(RequestContext ctx, long node, long fh, int flags) throws FsException {
        handles.remove(fh, node, Kind.FILE);
    }

    @Override
    public void fsync(RequestContext ctx, long node, long fh, boolean dataOnly) throws FsException {
        sync(node, fh, dataOnly, Kind.FILE);
    }

    @Override
    public void fallocate(RequestContext ctx, long node, long fh, int mode, long offset, long length)
            throws FsException {
        writable();
        try (Handle h = handles.pin(fh, node, Kind.FILE)) {
            FileIo.fallocate(h.fd, mode, offset, length);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public long lseek(RequestContext ctx, long node, long fh, long offset, int whence) throws FsException {
        try (Handle h = handles.pin(fh, node, Kind.FILE)) {
            return FileIo.lseek(h.fd, offset, whence);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public long copyFileRange(
            RequestContext ctx,
            long nodeIn,
            long fhIn,
            long offsetIn,
            long nodeOut,
            long fhOut,
            long offsetOut,
            long length,
            int flags)
            throws FsException {
        writable();
        try (Handle in = handles.pin(fhIn, nodeIn, Kind.FILE);
                Handle out = handles.pin(fhOut, nodeOut, Kind.FILE)) {
            return FileIo.copyFileRange(in.fd, offsetIn, out.fd, offsetOut, length, flags);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    /** SYNCFS: the file system of the node's directory (of the shared directory for a non-directory node). */
    @Override
    public void syncfs(RequestContext ctx, long node) throws FsException {
        try (Inode n = inodes.pin(node)) {
            Inode dir = n.isDirectory() ? n : inodes.root();
            try (Fd d = NodeOpener.directory(dir.fd(), dir.fileType)) {
                FileIo.syncfs(d);
            }
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    // ---- directories ----

    @Override
    public Opened opendir(RequestContext ctx, long node, int flags) throws FsException {
        try (Inode n = inodes.pin(node)) {
            Fd fd = NodeOpener.directory(n.fd(), n.fileType);
            int fopen = switch (config.cache()) {
                case ALWAYS, METADATA -> Opened.FOPEN_CACHE_DIR | Opened.FOPEN_KEEP_CACHE;
                case NEVER, AUTO -> 0;
            };
            return new Opened(handles.add(n, fd, NodeOpener.DIRECTORY_FLAGS, Kind.DIRECTORY).fh, fopen);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public void readdir(RequestContext ctx, long node, long fh, long offset, DirSink sink) throws FsException {
        list(node, fh, offset, sink, false);
    }

    @Override
    public void readdirplus(RequestContext ctx, long node, long fh, long offset, DirSink sink) throws FsException {
        list(node, fh, offset, sink, true);
    }

    /**
     * Lists from {@code offset}: the directory descriptor is positioned there (offsets are the
     * file system's own d_off cookies, so they stay valid across calls and concurrent
     * changes), and entries go to the sink until it is full. For readdirplus each entry is
     * looked up (one count) and the count given back if the sink refuses the entry.
     */
    private void list(long node, long fh, long offset, DirSink sink, boolean plus) throws FsException {
        try (Handle h = handles.pin(fh, node, Kind.DIRECTORY);
                Inode dir = pinned(h.inode)) {
            h.position.lock();
            try {
                FileIo.lseek(h.fd, offset, FileIo.SEEK_SET);
                while (true) {
                    List<DirEntry64> batch = DirEntries.read(h.fd, READDIR_BUFFER);
                    if (batch.isEmpty()) return;
                    for (DirEntry64 e : batch) {
                        DirEntry entry = new DirEntry(e.ino(), e.offset(), e.type(), e.name());
                        if (!plus) {
                            if (!sink.add(entry)) return;
                        } else if (e.isDotOrDotDot()) {
                            if (!sink.addPlus(entry, Entry.negative(0))) return;
                        } else {
                            Entry looked;
                            try {
                                looked = lookupAndCount(dir, e.name());
                            } catch (FsException gone) {
                                if (gone.errno() == Errno.ENOENT) continue; // removed since getdents64 saw it
                                throw gone;
                            }
                            if (!sink.addPlus(entry, looked)) {
                                inodes.forget(looked.nodeId(), 1);
                                return;
                            }
                        }
                    }
                }
            } finally {
                h.position.unlock();
            }
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    @Override
    public void releasedir(RequestContext ctx, long node, long fh, int flags) throws FsException {
        handles.remove(fh, node, Kind.DIRECTORY);
    }

    @Override
    public void fsyncdir(RequestContext ctx, long node, long fh, boolean dataOnly) throws FsException {
        sync(node, fh, dataOnly, Kind.DIRECTORY);
    }

    private void sync(long node, long fh, boolean dataOnly, Kind kind) throws FsException {
        try (Handle h = handles.pin(fh, node, kind)) {
            if (dataOnly) FileIo.fdatasync(h.fd);
            else FileIo.fsync(h.fd);
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    // ---- helpers ----

    /** A handle's node, pinned for one use: the handle's reference keeps it in the table until DESTROY. */
    private static Inode pinned(Inode n) throws FsException {
        if (!n.pin()) throw new FsException(Errno.EBADF, "node " + n.nodeId + " is gone");
        return n;
    }

    /**
     * Looks {@code name} up in {@code dir} and counts one lookup of the node it finds (a new
     * node if the file was unknown). {@code name} must already be validated, or come from the
     * directory itself.
     */
    private Entry lookupAndCount(Inode dir, byte[] name) throws FsException {
        if (!dir.isDirectory()) throw new FsException(Errno.ENOTDIR);
        try {
            return countLookup(dir, name, FileCalls.openPath(dir.fd(), name));
        } catch (NativeException e) {
            throw fsError(e);
        }
    }

    /** Counts one lookup of the file {@code opath} (an O_PATH descriptor, which this takes over) seen as {@code dir}/{@code name}. */
    private Entry countLookup(Inode dir, byte[] name, Fd opath) throws NativeException {
        Stat st;
        Inode n;
        try {
            st = FileCalls.fstat(opath);
            Location at = new Location(dir.nodeId, name);
            InodeKey key = InodeKey.of(st);
            // Handle inodes are matched by handle; O_PATH ones need theirs only when new (for migration).
            boolean byHandle = files.mode() != InodeFileHandles.NEVER;
            FileHandle handle = byHandle ? files.handleOf(opath) : null;
            n = inodes.countExisting(key, handle, at);
            if (n != null) {
                opath.close();
            } else {
                if (!byHandle) handle = files.handleOf(opath);
                // Made outside the table's lock: a handle inode closes opath here.
                n = inodes.addOrCount(key, st.fileType(), files.keep(opath, st.fileType(), handle), handle, at);
            }
        } catch (NativeException | RuntimeException e) {
            opath.close();
            throw e;
        }
        long t = timeout();
        return new Entry(n.nodeId, 0, announced(guestAttr(st), dir, st), t, t);
    }

    /**
     * {@code a} marked FUSE_ATTR_SUBMOUNT where {@code st} is a directory on another mount than its
     * parent {@code dir} (another device or mount id), once the guest agreed to submounts: it
     * then mounts it apart, with a device number of its own (virtiofsd's do_lookup).
     */
    private Attr announced(Attr a, Inode dir, Stat st) {
        if (!config.announceSubmounts() || (initFlags & FUSE_SUBMOUNTS) == 0 || !st.isDirectory()) return a;
        boolean mountPoint = st.dev() != dir.key.dev() || st.mountId() != dir.key.mountId();
        return mountPoint ? a.withFlags(a.flags() | Attr.SUBMOUNT) : a;
    }

    /** {@link NodeOpener#file}, after the --deny-privileged-files check of what is opened. */
    private Fd openFile(Fd opath, int fileType, int flags) throws FsException, NativeException {
        if (privileged.denies()) privileged.checkOpen(FileCalls.fstat(opath), flags);
        return NodeOpener.file(opath, fileType, flags);
    }

    private int fileOpenFlags() {
        return switch (config.cache()) {
            case NEVER, METADATA -> Opened.FOPEN_DIRECT_IO;
            case AUTO -> 0;
            case ALWAYS -> Opened.FOPEN_KEEP_CACHE;
        };
    }

    private long timeout() {
        return config.cache().timeoutNanos();
    }

    static String ms(long nanos) {
        return String.format(java.util.Locale.ROOT, "%.2f", nanos / 1e6);
    }

    static FsException fsError(NativeException e) {
        return new FsException(e.errno(), e.getMessage(), e);
    }

    /** The attributes the guest is shown: the owner translated host to guest (--translate-uid/gid). */
    private Attr guestAttr(Stat s) {
        Attr a = attr(s);
        GuestIds ids = config.guestIds();
        if (ids.isIdentity()) return a;
        return new Attr(
                a.ino(),
                a.size(),
                a.blocks(),
                a.atime(),
                a.mtime(),
                a.ctime(),
                a.atimeNsec(),
                a.mtimeNsec(),
                a.ctimeNsec(),
                a.mode(),
                a.nlink(),
                ids.guestUid(a.uid()),
                ids.guestGid(a.gid()),
                a.rdev(),
                a.blksize(),
                a.flags());
    }

    static Attr attr(Stat s) {
        return new Attr(
                s.ino(),
                s.size(),
                s.blocks(),
                s.atime(),
                s.mtime(),
                s.ctime(),
                s.atimeNsec(),
                s.mtimeNsec(),
                s.ctimeNsec(),
                s.mode(),
                s.nlink(),
                s.uid(),
                s.gid(),
                devToFuse(s.rdev()),
                s.blksize(),
                0);
    }

    /** dev_t to the 32-bit encoding FUSE carries (the kernel's new_encode_dev). */
    static int devToFuse(long dev) {
        long major = Stat.major(dev), minor = Stat.minor(dev);
        return (int) ((minor & 0xff) | (major << 8) | ((minor & ~0xffL) << 12));
    }

    /** FUSE's 32-bit device number (new_encode_dev) to dev_t. */
    static long fuseToDev(int rdev) {
        long r = Integer.toUnsignedLong(rdev);
        return Stat.makedev((r & 0xfff00) >>> 8, (r & 0xff) | ((r >>> 12) & 0xfff00));
    }
}
