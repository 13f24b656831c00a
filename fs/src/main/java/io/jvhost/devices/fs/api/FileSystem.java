package io.jvhost.devices.fs.api;

/**
 * What the FUSE server asks of a file system, one method per FUSE operation, in Java types.
 * The server owns the wire format (decoding requests from guest memory, encoding replies);
 * an implementation owns node ids, handles and what they refer to. Modelled on the shape of
 * fuse-backend-rs's FileSystem trait.
 *
 * <p>Names arrive as the raw bytes the guest sent (no NUL); an implementation validates them.
 * Node ids and handles arrive as the guest sent them too: an implementation must reject any it
 * never handed out (EBADF for handles, ENOENT/ESTALE for nodes), never trust them.
 *
 * <p>Lookup counting: every {@link Entry} with a non-zero node id returned from lookup, mknod,
 * mkdir, symlink, link, create or readdirplus counts one lookup of that node; {@link #forget}
 * gives counts back, and a node is dropped when its count reaches zero. The root node
 * ({@link #ROOT_ID}) is never dropped.
 *
 * <p>Calls may come from several threads at once (one per request queue, or a pool).
 */
public interface FileSystem {
    /** FUSE_ROOT_ID. */
    long ROOT_ID = 1;

    /** FUSE_INIT flags (FUSE_* capability bits of the kernel ABI) this file system can honour. */
    long supportedInitFlags();

    /** INIT done: the flags both sides agreed on, kept so that migration can restore them. */
    void init(long negotiatedFlags) throws FsException;

    /** DESTROY, or the device was reset: drop every node but the root and every handle. */
    void destroy();

    Entry lookup(RequestContext ctx, long parent, byte[] name) throws FsException;

    /** FORGET / one item of BATCH_FORGET. Never fails; unknown nodes are ignored. */
    void forget(long node, long count);

    AttrReply getattr(RequestContext ctx, long node, long fh, boolean fhValid) throws FsException;

    AttrReply setattr(RequestContext ctx, long node, SetAttr attr) throws FsException;

    byte[] readlink(RequestContext ctx, long node) throws FsException;

    Entry symlink(RequestContext ctx, byte[] target, long parent, byte[] name) throws FsException;

    Entry mknod(RequestContext ctx, long parent, byte[] name, int mode, int rdev, int umask) throws FsException;

    Entry mkdir(RequestContext ctx, long parent, byte[] name, int mode, int umask) throws FsException;

    void unlink(RequestContext ctx, long parent, byte[] name) throws FsException;

    void rmdir(RequestContext ctx, long parent, byte[] name) throws FsException;

    /** RENAME (flags 0) and RENAME2 (RENAME_NOREPLACE 1, RENAME_EXCHANGE 2, RENAME_WHITEOUT 4). */
    void rename(RequestContext ctx, long oldParent, byte[] oldName, long newParent, byte[] newName, int flags)
            throws FsException;

    Entry link(RequestContext ctx, long node, long newParent, byte[] newName) throws FsException;

    /**
     * fuse_open_in/fuse_create_in.open_flags FUSE_OPEN_KILL_SUIDGID (with HANDLE_KILLPRIV_V2): the
     * O_TRUNC of this open is to clear the file's set-user-ID and set-group-ID bits.
     */
    int OPEN_KILL_SUIDGID = 1 << 0;

    /** fuse_write_in.write_flags FUSE_WRITE_CACHE: the write comes from the guest's page cache (writeback, mmap). */
    int WRITE_CACHE = 1 << 0;

    /** fuse_write_in.write_flags FUSE_WRITE_KILL_SUIDGID (with HANDLE_KILLPRIV_V2): the write clears set-user-ID/set-group-ID. */
    int WRITE_KILL_SUIDGID = 1 << 2;

    /**
     * OPEN with the guest's open(2) flags (O_CREAT/O_EXCL/O_NOCTTY ignored, as the kernel strips
     * them) and FUSE's {@code openFlags} ({@link #OPEN_KILL_SUIDGID}).
     */
    Opened open(RequestContext ctx, long node, int flags, int openFlags) throws FsException;

    /** OPEN without FUSE open flags. */
    default Opened open(RequestContext ctx, long node, int flags) throws FsException {
        return open(ctx, node, flags, 0);
    }

    /** CREATE: open(O_CREAT) of a new name in {@code parent}, with FUSE's {@code openFlags} as OPEN's. */
    Created create(RequestContext ctx, long parent, byte[] name, int mode, int flags, int umask, int openFlags)
            throws FsException;

    /** CREATE without FUSE open flags. */
    default Created create(RequestContext ctx, long parent, byte[] name, int mode, int flags, int umask)
            throws FsException {
        return create(ctx, parent, name, mode, flags, umask, 0);
    }

    /** READ of {@code size} bytes at {@code offset} into {@code sink}; returns bytes read. */
    long read(RequestContext ctx, long node, long fh, long offset, int size, ReadSink sink) throws FsException;

    /** WRITE of the data in {@code source} at {@code offset} ({@code writeFlags}: {@link #WRITE_CACHE}...); returns bytes written. */
    long write(RequestContext ctx, long node, long fh, long offset, WriteSource source, int writeFlags)
            throws FsException;

    StatFs statfs(RequestContext ctx, long node) throws FsException;

    void flush(RequestContext ctx, long node, long fh, long lockOwner) throws FsException;

    void release(RequestContext ctx, long node, long fh, int flags) throws FsException;

    void fsync(RequestContext ctx, long node, long fh, boolean dataOnly) throws FsException;

    void setxattr(RequestContext ctx, long node, byte[] name, byte[] value, int flags) throws FsException;

    /**
     * SETXATTR with fuse_setxattr_in.setxattr_flags (FUSE_SETXATTR_EXT: SETXATTR_ACL_KILL_SGID 1);
     * a file system that never offers SETXATTR_EXT gets the plain call.
     */
    default void setxattr(RequestContext ctx, long node, byte[] name, byte[] value, int flags, int setxattrFlags)
            throws FsException {
        setxattr(ctx, node, name, value, flags);
    }

    /** The whole value; the server answers a size query or ERANGE from its length. */
    byte[] getxattr(RequestContext ctx, long node, byte[] name) throws FsException;

    /** The NUL-terminated names, concatenated; the server answers size queries and ERANGE. */
    byte[] listxattr(RequestContext ctx, long node) throws FsException;

    void removexattr(RequestContext ctx, long node, byte[] name) throws FsException;

    Opened opendir(RequestContext ctx, long node, int flags) throws FsException;

    /** READDIR from {@code offset} (0 = start; else an earlier entry's nextOffset). */
    void readdir(RequestContext ctx, long node, long fh, long offset, DirSink sink) throws FsException;

    /** READDIRPLUS: like readdir, each entry with its looked-up node ({@link DirSink#addPlus}). */
    void readdirplus(RequestContext ctx, long node, long fh, long offset, DirSink sink) throws FsException;

    void releasedir(RequestContext ctx, long node, long fh, int flags) throws FsException;

    void fsyncdir(RequestContext ctx, long node, long fh, boolean dataOnly) throws FsException;

    /** ACCESS with an access(2) mask (F_OK 0, X_OK 1, W_OK 2, R_OK 4). */
    void access(RequestContext ctx, long node, int mask) throws FsException;

    void fallocate(RequestContext ctx, long node, long fh, int mode, long offset, long length) throws FsException;

    /** LSEEK with SEEK_SET/CUR/END/DATA/HOLE; returns the new offset. */
    long lseek(RequestContext ctx, long node, long fh, long offset, int whence) throws FsException;

    long copyFileRange(
            RequestContext ctx,
            long nodeIn,
            long fhIn,
            long offsetIn,
            long nodeOut,
            long fhOut,
            long offsetOut,
            long length,
            int flags)
            throws FsException;

    void syncfs(RequestContext ctx, long node) throws FsException;
}
