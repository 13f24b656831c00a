package io.jvhost.devices.fs;

import io.jvhost.devices.fs.api.Attr;
import io.jvhost.devices.fs.api.AttrReply;
import io.jvhost.devices.fs.api.Created;
import io.jvhost.devices.fs.api.DirEntry;
import io.jvhost.devices.fs.api.DirSink;
import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.Opened;
import io.jvhost.devices.fs.api.ReadSink;
import io.jvhost.devices.fs.api.RequestContext;
import io.jvhost.devices.fs.api.SetAttr;
import io.jvhost.devices.fs.api.StatFs;
import io.jvhost.devices.fs.api.WriteSource;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A small in-memory file system for the FUSE server's tests: a real tree with lookup counting,
 * handles, xattrs and symlinks; file contents live in memfds so READ and WRITE go through the
 * zero-copy sinks with real file descriptors. Records the calls it gets, so tests can check
 * what reached it (and what did not).
 */
final class MemoryFs implements FileSystem {
    static final long TIMEOUT = 1_500_000_000L; // 1.5 s: both the seconds and nanoseconds fields matter
    static final int S_IFDIR = 0040000, S_IFREG = 0100000, S_IFLNK = 0120000, S_IFMT = 0170000;
    static final int DT_DIR = 4, DT_REG = 8, DT_LNK = 10;

    final class Node {
        final long id;
        int mode;
        int nlink = 1;
        int uid, gid, rdev;
        long atime, mtime, ctime = 1_700_000_000L;
        final TreeMap<String, Long> children = new TreeMap<>();
        byte[] target;
        Fd data;
        long size;
        final Map<String, byte[]> xattrs = new LinkedHashMap<>();
        long lookups;
        long parent;

        Node(long id, int mode) {
            this.id = id;
            this.mode = mode;
        }

        boolean isDir() {
            return (mode & S_IFMT) == S_IFDIR;
        }

        Attr attr() {
            long s = isDir() ? 4096 : target != null ? target.length : size;
            return new Attr(
                    1000 + id, s, (s + 511) / 512, atime, mtime, ctime, 1, 2, 3, mode, nlink, uid, gid, rdev, 4096, 0);
        }

        Entry entry() {
            lookups++;
            return new Entry(id, 7, attr(), TIMEOUT, TIMEOUT);
        }

        int dtype() {
            return switch (mode & S_IFMT) {
                case S_IFDIR -> DT_DIR;
                case S_IFLNK -> DT_LNK;
                default -> DT_REG;
            };
        }
    }

    private record Handle(long node, boolean dir) {}

    private final Map<Long, Node> nodes = new HashMap<>();
    private final Map<Long, Handle> handles = new HashMap<>();
    private long nextId = 2, nextFh = 100;
    private long supported;
    final List<String> calls = new ArrayList<>();
    long initFlags = -1;
    int destroys;
    FsException failNext; // the next operation (not init/destroy/forget) fails with this
    RuntimeException crashNext;
    Error errorNext; // the next operation (as failNext) throws this Error

    MemoryFs(long supportedInitFlags) {
        this.supported = supportedInitFlags;
        Node root = new Node(ROOT_ID, S_IFDIR | 0755);
        root.nlink = 2;
        root.parent = ROOT_ID;
        nodes.put(ROOT_ID, root);
    }

    // ------------------------------------------------------------ test helpers

    synchronized long lookups(long id) {
        Node n = nodes.get(id);
        return n == null ? -1 : n.lookups;
    }

    synchronized boolean exists(long id) {
        return nodes.containsKey(id);
    }

    synchronized Node node(long id) {
        return nodes.get(id);
    }

    synchronized int openHandles() {
        return handles.size();
    }

    synchronized byte[] contents(long id) throws NativeException {
        Node n = nodes.get(id);
        byte[] out = new byte[(int) n.size];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(1, out.length));
            long got = Libc.pread(n.data, buf, out.length, 0);
            MemorySegment.copy(buf, 0, MemorySegment.ofArray(out), 0, got);
        }
        return out;
    }

    /** Creates a file with {@code content} under the root, not counted as looked up. */
    synchronized long addFile(String name, byte[] content) throws FsException {
        Node n = newNode(nodes.get(ROOT_ID), name.getBytes(StandardCharsets.UTF_8), S_IFREG | 0644);
        n.lookups = 0;
        if (content.length > 0) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment buf = a.allocateFrom(java.lang.foreign.ValueLayout.JAVA_BYTE, content);
                Libc.pwrite(n.data, buf, content.length, 0);
            } catch (NativeException e) {
                throw new FsException(e.errno());
            }
            n.size = content.length;
        }
        return n.id;
    }

    private void call(String op) throws FsException {
        calls.add(op);
        if (errorNext != null) {
            Error e = errorNext;
            errorNext = null;
            throw e;
        }
        if (crashNext != null) {
            RuntimeException c = crashNext;
            crashNext = null;
            throw c;
        }
        if (failNext != null) {
            FsException f = failNext;
            failNext = null;
            throw f;
        }
    }

    private Node node(long id, int errnoIfMissing) throws FsException {
        Node n = nodes.get(id);
        if (n == null) throw new FsException(errnoIfMissing);
        return n;
    }

    private Node dir(long id) throws FsException {
        Node n = node(id, Errno.ENOENT);
        if (!n.isDir()) throw new FsException(Errno.ENOTDIR);
        return n;
    }

    private static String key(byte[] name) throws FsException {
        if (name.length == 0 || name.length > 255) throw new FsException(Errno.EINVAL);
        for (byte b : name) if (b == '/') throw new FsException(Errno.EINVAL);
        return new String(name, StandardCharsets.ISO_8859_1);
    }

    private Node newNode(Node parent, byte[] name, int mode) throws FsException {
        String k = key(name);
        if (parent.children.containsKey(k)) throw new FsException(Errno.EEXIST);
        Node n = new Node(nextId++, mode);
        n.parent = parent.id;
        if ((mode & S_IFMT) == S_IFREG) {
            try {
                n.data = Libc.memfdCreate("memoryfs-" + n.id, Libc.MFD_CLOEXEC);
            } catch (NativeException e) {
                throw new FsException(e.errno());
            }
        }
        if (n.isDir()) {
            n.nlink = 2;
            parent.nlink++;
        }
        nodes.put(n.id, n);
        parent.children.put(k, n.id);
        n.lookups = 1;
        return n;
    }

    private Handle handle(long fh, long node) throws FsException {
        Handle h = handles.get(fh);
        if (h == null || h.node != node) throw new FsException(Errno.EBADF);
        return h;
    }

    private void dropIfUnused(Node n) {
        if (n.id != ROOT_ID && n.lookups <= 0 && n.nlink == 0) {
            nodes.remove(n.id);
            if (n.data != null) n.data.close();
        }
    }

    // ------------------------------------------------------------ FileSystem

    @Override
    public synchronized long supportedInitFlags() {
        return supported;
    }

    @Override
    public synchronized void init(long negotiatedFlags) throws FsException {
        call("init");
        initFlags = negotiatedFlags;
    }

    @Override
    public synchronized void destroy() {
        calls.add("destroy");
        destroys++;
        handles.clear();
        for (Node n : nodes.values()) if (n.id != ROOT_ID) n.lookups = 0;
    }

    @Override
    public synchronized Entry lookup(RequestContext ctx, long parent, byte[] name) throws FsException {
        call("lookup");
        Long id = dir(parent).children.get(key(name));
        if (id == null) throw new FsException(Errno.ENOENT);
        return nodes.get(id).entry();
    }

    @Override
    public synchronized void forget(long node, long count) {
        calls.add("forget");
        Node n = nodes.get(node);
        if (n == null || n.id == ROOT_ID) return;
        n.lookups -= count;
        dropIfUnused(n);
    }

    @Override
    public synchronized AttrReply getattr(RequestContext ctx, long node, long fh, boolean fhValid) throws FsException {
        call("getattr");
        Node n = node(node, Errno.ENOENT);
        if (fhValid) handle(fh, node);
        return new AttrReply(n.attr(), TIMEOUT);
    }

    @Override
    public synchronized AttrReply setattr(RequestContext ctx, long node, SetAttr a) throws FsException {
        call("setattr");
        Node n = node(node, Errno.ENOENT);
        if (a.has(SetAttr.SIZE)) {
            if (n.data == null) throw new FsException(n.isDir() ? Errno.EISDIR : Errno.EINVAL);
            try {
                Libc.ftruncate(n.data, a.size());
            } catch (NativeException e) {
                throw new FsException(e.errno());
            }
            n.size = a.size();
        }
        if (a.has(SetAttr.MODE)) n.mode = (n.mode & S_IFMT) | (a.mode() & 07777);
        if (a.has(SetAttr.UID)) n.uid = a.uid();
        if (a.has(SetAttr.GID)) n.gid = a.gid();
        if (a.has(SetAttr.ATIME)) n.atime = a.atime();
        if (a.has(SetAttr.MTIME)) n.mtime = a.mtime();
        return new AttrReply(n.attr(), TIMEOUT);
    }

    @Override
    public synchronized byte[] readlink(RequestContext ctx, long node) throws FsException {
        call("readlink");
        Node n = node(node, Errno.ENOENT);
        if (n.target == null) throw new FsException(Errno.EINVAL);
        return n.target.clone();
    }

    @Override
    public synchronized Entry symlink(RequestContext ctx, byte[] target, long parent, byte[] name) throws FsException {
        call("symlink");
        Node n = newNode(dir(parent), name, S_IFLNK | 0777);
        n.target = target.clone();
        return new Entry(n.id, 7, n.attr(), TIMEOUT, TIMEOUT);
    }

    @Override
    public synchronized Entry mknod(RequestContext ctx, long parent, byte[] name, int mode, int rdev, int umask)
            throws FsException {
        call("mknod");
        if ((mode & S_IFMT) != S_IFREG) throw new FsException(Errno.EPERM, "only regular files");
        Node n = newNode(dir(parent), name, mode & ~umask);
        n.rdev = rdev;
        return new Entry(n.id, 7, n.attr(), TIMEOUT, TIMEOUT);
    }

    @Override
    public synchronized Entry mkdir(RequestContext ctx, long parent, byte[] name, int mode, int umask)
            throws FsException {
        call("mkdir");
        Node n = newNode(dir(parent), name, S_IFDIR | (mode & ~umask & 07777));
        return new Entry(n.id, 7, n.attr(), TIMEOUT, TIMEOUT);
    }

    private Node child(Node parent, byte[] name) throws FsException {
        Long id = parent.children.get(key(name));
        if (id == null) throw new FsException(Errno.ENOENT);
        return nodes.get(id);
    }

    @Override
    public synchronized void unlink(RequestContext ctx, long parent, byte[] name) throws FsException {
        call("unlink");
        Node p = dir(parent);
        Node n = child(p, name);
        if (n.isDir()) throw new FsException(Errno.EISDIR);
        p.children.remove(key(name));
        n.nlink--;
        dropIfUnused(n);
    }

    @Override
    public synchronized void rmdir(RequestContext ctx, long parent, byte[] name) throws FsException {
        call("rmdir");
        Node p = dir(parent);
        Node n = child(p, name);
        if (!n.isDir()) throw new FsException(Errno.ENOTDIR);
        if (!n.children.isEmpty()) throw new FsException(Errno.ENOTEMPTY);
        p.children.remove(key(name));
        p.nlink--;
        n.nlink = 0;
        dropIfUnused(n);
    }

    @Override
    public synchronized void rename(
            RequestContext ctx, long oldParent, byte[] oldName, long newParent, byte[] newName, int flags)
            throws FsException {
        call("rename" + (flags == 0 ? "" : "2:" + flags));
        Node from = dir(oldParent), to = dir(newParent);
        Node n = child(from, oldName);
        String newKey = key(newName);
        Long existing = to.children.get(newKey);
        switch (flags) {
            case 0 -> {
                if (existing != null) {
                    Node victim = nodes.get(existing);
                    victim.nlink = 0;
                    dropIfUnused(victim);
                }
            }
            case 1 -> { // RENAME_NOREPLACE
                if (existing != null) throw new FsException(Errno.EEXIST);
            }
            case 2 -> { // RENAME_EXCHANGE
                if (existing == null) throw new FsException(Errno.ENOENT);
                from.children.put(key(oldName), existing);
                to.children.put(newKey, n.id);
                return;
            }
            default -> throw new FsException(Errno.EINVAL);
        }
        from.children.remove(key(oldName));
        to.children.put(newKey, n.id);
        n.parent = to.id;
    }

    @Override
    public synchronized Entry link(RequestContext ctx, long node, long newParent, byte[] newName) throws FsException {
        call("link");
        Node n = node(node, Errno.ENOENT);
        if (n.isDir()) throw new FsException(Errno.EPERM);
        Node p = dir(newParent);
        String k = key(newName);
        if (p.children.containsKey(k)) throw new FsException(Errno.EEXIST);
        p.children.put(k, n.id);
        n.nlink++;
        return n.entry();
    }

    @Override
    public synchronized Opened open(RequestContext ctx, long node, int flags, int openFlags) throws FsException {
        call("open");
        Node n = node(node, Errno.ENOENT);
        if (n.isDir()) throw new FsException(Errno.EISDIR);
        if ((flags & Libc.O_TRUNC) != 0 && n.data != null) {
            try {
                Libc.ftruncate(n.data, 0);
            } catch (NativeException e) {
                throw new FsException(e.errno());
            }
            n.size = 0;
        }
        long fh = nextFh++;
        handles.put(fh, new Handle(node, false));
        return new Opened(fh, Opened.FOPEN_KEEP_CACHE);
    }

    @Override
    public synchronized Created create(
            RequestContext ctx, long parent, byte[] name, int mode, int flags, int umask, int openFlags)
            throws FsException {
        call("create");
        Node n = newNode(dir(parent), name, S_IFREG | (mode & ~umask & 07777));
        long fh = nextFh++;
        handles.put(fh, new Handle(n.id, false));
        return new Created(new Entry(n.id, 7, n.attr(), TIMEOUT, TIMEOUT), new Opened(fh, 0));
    }

    @Override
    public synchronized long read(RequestContext ctx, long node, long fh, long offset, int size, ReadSink sink)
            throws FsException {
        call("read:" + size);
        handle(fh, node);
        Node n = nodes.get(node);
        if (offset < 0) throw new FsException(Errno.EINVAL);
        if (offset >= n.size) return 0;
        return sink.readFrom(n.data, offset, Math.min(size, n.size - offset));
    }

    @Override
    public synchronized long write(
            RequestContext ctx, long node, long fh, long offset, WriteSource source, int writeFlags)
            throws FsException {
        call("write:" + source.size());
        handle(fh, node);
        Node n = nodes.get(node);
        if (offset < 0) throw new FsException(Errno.EINVAL);
        long written = source.writeTo(n.data, offset);
        n.size = Math.max(n.size, offset + written);
        return written;
    }

    @Override
    public synchronized StatFs statfs(RequestContext ctx, long node) throws FsException {
        call("statfs");
        node(node, Errno.ENOENT);
        return new StatFs(1000, 900, 800, 100, 100 - nodes.size(), 4096, 255, 4096);
    }

    @Override
    public synchronized void flush(RequestContext ctx, long node, long fh, long lockOwner) throws FsException {
        call("flush:" + lockOwner);
        handle(fh, node);
    }

    @Override
    public synchronized void release(RequestContext ctx, long node, long fh, int flags) throws FsException {
        call("release");
        handle(fh, node);
        handles.remove(fh);
    }

    @Override
    public synchronized void fsync(RequestContext ctx, long node, long fh, boolean dataOnly) throws FsException {
        call("fsync:" + dataOnly);
        handle(fh, node);
    }

    @Override
    public synchronized void setxattr(RequestContext ctx, long node, byte[] name, byte[] value, int flags)
            throws FsException {
        call("setxattr");
        Node n = node(node, Errno.ENOENT);
        String k = key(name);
        if ((flags & 1) != 0 && n.xattrs.containsKey(k)) throw new FsException(Errno.EEXIST); // XATTR_CREATE
        if ((flags & 2) != 0 && !n.xattrs.containsKey(k)) throw new FsException(Errno.ENODATA); // XATTR_REPLACE
        n.xattrs.put(k, value.clone());
    }

    @Override
    public synchronized byte[] getxattr(RequestContext ctx, long node, byte[] name) throws FsException {
        call("getxattr");
        byte[] v = node(node, Errno.ENOENT).xattrs.get(key(name));
        if (v == null) throw new FsException(Errno.ENODATA);
        return v.clone();
    }

    @Override
    public synchronized byte[] listxattr(RequestContext ctx, long node) throws FsException {
        call("listxattr");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String k : node(node, Errno.ENOENT).xattrs.keySet()) {
            out.writeBytes(k.getBytes(StandardCharsets.ISO_8859_1));
            out.write(0);
        }
        return out.toByteArray();
    }

    @Override
    public synchronized void removexattr(RequestContext ctx, long node, byte[] name) throws FsException {
        call("removexattr");
        if (node(node, Errno.ENOENT).xattrs.remove(key(name)) == null) throw new FsException(Errno.ENODATA);
    }

    @Override
    public synchronized Opened opendir(RequestContext ctx, long node, int flags) throws FsException {
        call("opendir");
        dir(node);
        long fh = nextFh++;
        handles.put(fh, new Handle(node, true));
        return new Opened(fh, Opened.FOPEN_CACHE_DIR);
    }

    /** ".", "..", then the children by name; entry i continues at offset i + 1. */
    private void listDir(long node, long fh, long offset, DirSink sink, boolean plus) throws FsException {
        handle(fh, node);
        Node d = nodes.get(node);
        List<Map.Entry<String, Long>> all = new ArrayList<>();
        all.add(Map.entry(".", d.id));
        all.add(Map.entry("..", d.parent));
        all.addAll(d.children.entrySet());
        for (long i = Math.max(0, offset); i < all.size(); i++) {
            Map.Entry<String, Long> e = all.get((int) i);
            Node n = nodes.get(e.getValue());
            DirEntry de = new DirEntry(1000 + n.id, i + 1, n.dtype(), e.getKey().getBytes(StandardCharsets.ISO_8859_1));
            boolean dot = i < 2;
            if (!plus) {
                if (!sink.add(de)) return;
            } else if (dot) {
                if (!sink.addPlus(de, Entry.negative(0))) return;
            } else if (!sink.addPlus(de, n.entry())) {
                n.lookups--; // the guest never saw it: give the count back, as the contract says
                return;
            }
        }
    }

    @Override
    public synchronized void readdir(RequestContext ctx, long node, long fh, long offset, DirSink sink)
            throws FsException {
        call("readdir");
        listDir(node, fh, offset, sink, false);
    }

    @Override
    public synchronized void readdirplus(RequestContext ctx, long node, long fh, long offset, DirSink sink)
            throws FsException {
        call("readdirplus");
        listDir(node, fh, offset, sink, true);
    }

    @Override
    public synchronized void releasedir(RequestContext ctx, long node, long fh, int flags) throws FsException {
        call("releasedir");
        if (!handle(fh, node).dir) throw new FsException(Errno.EBADF);
        handles.remove(fh);
    }

    @Override
    public synchronized void fsyncdir(RequestContext ctx, long node, long fh, boolean dataOnly) throws FsException {
        call("fsyncdir:" + dataOnly);
        handle(fh, node);
    }

    @Override
    public synchronized void access(RequestContext ctx, long node, int mask) throws FsException {
        call("access:" + mask);
        Node n = node(node, Errno.ENOENT);
        int bits = ctx.uid() == n.uid ? (n.mode >> 6) & 7 : n.mode & 7;
        if (ctx.uid() != 0 && (mask & ~bits & 7) != 0) throw new FsException(Errno.EACCES);
    }

    @Override
    public synchronized void fallocate(RequestContext ctx, long node, long fh, int mode, long offset, long length)
            throws FsException {
        call("fallocate");
        handle(fh, node);
        if (mode != 0) throw new FsException(Errno.EOPNOTSUPP);
        Node n = nodes.get(node);
        if (offset + length > n.size) {
            try {
                Libc.ftruncate(n.data, offset + length);
            } catch (NativeException e) {
                throw new FsException(e.errno());
            }
            n.size = offset + length;
        }
    }

    @Override
    public synchronized long lseek(RequestContext ctx, long node, long fh, long offset, int whence) throws FsException {
        call("lseek:" + whence);
        handle(fh, node);
        long size = nodes.get(node).size;
        return switch (whence) {
            case 0, 1 -> offset;
            case 2 -> size + offset;
            case 3 -> { // SEEK_DATA: no holes in this file system
                if (offset >= size) throw new FsException(Errno.ENXIO);
                yield offset;
            }
            case 4 -> { // SEEK_HOLE
                if (offset >= size) throw new FsException(Errno.ENXIO);
                yield size;
            }
            default -> throw new FsException(Errno.EINVAL);
        };
    }

    @Override
    public synchronized long copyFileRange(
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
        call("copy_file_range");
        handle(fhIn, nodeIn);
        handle(fhOut, nodeOut);
        Node in = nodes.get(nodeIn), out = nodes.get(nodeOut);
        if (offsetIn < 0 || offsetOut < 0) throw new FsException(Errno.EINVAL);
        long n = Math.max(0, Math.min(Math.min(length, in.size - offsetIn), 1 << 20)); // a short copy is allowed
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(Math.max(1, n));
            long got = Libc.pread(in.data, buf, n, offsetIn);
            long put = Libc.pwrite(out.data, buf, got, offsetOut);
            out.size = Math.max(out.size, offsetOut + put);
            return put;
        } catch (NativeException e) {
            throw new FsException(e.errno());
        }
    }

    @Override
    public synchronized void syncfs(RequestContext ctx, long node) throws FsException {
        call("syncfs");
    }
}
