package io.jvhost.devices.fs.fuse;

import io.jvhost.devices.fs.api.Attr;
import io.jvhost.devices.fs.api.AttrReply;
import io.jvhost.devices.fs.api.Entry;
import io.jvhost.devices.fs.api.Opened;
import io.jvhost.devices.fs.api.StatFs;
import io.jvhost.virtqueue.ChainWriter;
import io.jvhost.virtqueue.VirtqueueException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Reply structs of the FUSE ABI as little-endian bytes, at the size the session's protocol
 * minor expects: before 7.9 fuse_attr had no blksize (FUSE_COMPAT_ATTR_OUT_SIZE,
 * FUSE_COMPAT_ENTRY_OUT_SIZE), before 7.4 fuse_kstatfs ended after namelen
 * (FUSE_COMPAT_STATFS_SIZE).
 */
public final class ReplyEncoder {
    public static final int OUT_HEADER_SIZE = 16;
    public static final int ATTR_SIZE = 88, COMPAT_ATTR_SIZE = 80;
    public static final int OPEN_OUT_SIZE = 16, WRITE_OUT_SIZE = 8, GETXATTR_OUT_SIZE = 8, LSEEK_OUT_SIZE = 8;
    public static final int STATFS_OUT_SIZE = 80, COMPAT_STATFS_SIZE = 48;
    public static final int INIT_OUT_SIZE = 64, COMPAT_INIT_OUT_SIZE = 8, COMPAT_22_INIT_OUT_SIZE = 24;
    public static final int DIRENT_HEADER_SIZE = 24;
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private ReplyEncoder() {}

    public static int attrSize(int minor) {
        return minor < 9 ? COMPAT_ATTR_SIZE : ATTR_SIZE;
    }

    public static int entryOutSize(int minor) {
        return 40 + attrSize(minor);
    }

    public static int attrOutSize(int minor) {
        return 16 + attrSize(minor);
    }

    public static int statfsOutSize(int minor) {
        return minor < 4 ? COMPAT_STATFS_SIZE : STATFS_OUT_SIZE;
    }

    /** fuse_init_out is as long as the guest's minor knows it (libfuse and virtiofsd do the same). */
    public static int initOutSize(int guestMinor) {
        return guestMinor < 5 ? COMPAT_INIT_OUT_SIZE : guestMinor < 23 ? COMPAT_22_INIT_OUT_SIZE : INIT_OUT_SIZE;
    }

    static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    static void putAttr(ByteBuffer b, Attr a, int minor) {
        b.putLong(a.ino())
                .putLong(a.size())
                .putLong(a.blocks())
                .putLong(a.atime())
                .putLong(a.mtime())
                .putLong(a.ctime())
                .putInt(a.atimeNsec())
                .putInt(a.mtimeNsec())
                .putInt(a.ctimeNsec())
                .putInt(a.mode())
                .putInt(a.nlink())
                .putInt(a.uid())
                .putInt(a.gid())
                .putInt(a.rdev());
        if (minor >= 9) b.putInt(a.blksize()).putInt(a.flags()); // never FUSE_ATTR_DAX: no DAX window
    }

    /** A timeout as fuse's (seconds, nanoseconds) pair; negative means "do not cache". */
    private static long seconds(long nanos) {
        return Math.max(0, nanos) / NANOS_PER_SECOND;
    }

    private static int subNanos(long nanos) {
        return (int) (Math.max(0, nanos) % NANOS_PER_SECOND);
    }

    static void putEntry(ByteBuffer b, Entry e, int minor) {
        b.putLong(e.nodeId())
                .putLong(e.generation())
                .putLong(seconds(e.entryTimeoutNanos()))
                .putLong(seconds(e.attrTimeoutNanos()))
                .putInt(subNanos(e.entryTimeoutNanos()))
                .putInt(subNanos(e.attrTimeoutNanos()));
        putAttr(b, e.attr(), minor);
    }

    /** Out header and fuse_entry_out to {@code w} (one copy); returns the reply's length. */
    public static long entryOut(ChainWriter w, long unique, Entry e, int minor) throws VirtqueueException {
        ReplyScratch r = ReplyScratch.begin();
        putEntry(r.body(), e, minor);
        return r.send(w, unique);
    }

    /** Out header and fuse_attr_out to {@code w} (one copy); returns the reply's length. */
    public static long attrOut(ChainWriter w, long unique, AttrReply a, int minor) throws VirtqueueException {
        ReplyScratch r = ReplyScratch.begin();
        r.body()
                .putLong(seconds(a.attrTimeoutNanos()))
                .putInt(subNanos(a.attrTimeoutNanos()))
                .putInt(0);
        putAttr(r.body(), a.attr(), minor);
        return r.send(w, unique);
    }

    public static byte[] openOut(Opened o) {
        return buffer(OPEN_OUT_SIZE)
                .putLong(o.fh())
                .putInt(o.openFlags())
                .putInt(0)
                .array();
    }

    /** CREATE: out header, fuse_entry_out then fuse_open_out to {@code w} (one copy); returns the reply's length. */
    public static long createOut(ChainWriter w, long unique, Entry e, Opened o, int minor) throws VirtqueueException {
        ReplyScratch r = ReplyScratch.begin();
        putEntry(r.body(), e, minor);
        r.body().putLong(o.fh()).putInt(o.openFlags()).putInt(0);
        return r.send(w, unique);
    }

    /** fuse_write_out (also COPY_FILE_RANGE's answer). */
    public static byte[] writeOut(long size) {
        return buffer(WRITE_OUT_SIZE).putInt((int) size).putInt(0).array();
    }

    public static byte[] getxattrOut(long size) {
        return buffer(GETXATTR_OUT_SIZE).putInt((int) size).putInt(0).array();
    }

    public static byte[] lseekOut(long offset) {
        return buffer(LSEEK_OUT_SIZE).putLong(offset).array();
    }

    public static byte[] statfsOut(StatFs s, int minor) {
        ByteBuffer b = buffer(STATFS_OUT_SIZE);
        b.putLong(s.blocks())
                .putLong(s.bfree())
                .putLong(s.bavail())
                .putLong(s.files())
                .putLong(s.ffree())
                .putInt(s.bsize())
                .putInt(s.namelen())
                .putInt(s.frsize()); // padding and spare stay 0
        byte[] all = b.array();
        return minor < 4 ? java.util.Arrays.copyOf(all, COMPAT_STATFS_SIZE) : all;
    }

    /** fuse_init_out, cut to {@code size} (see {@link #initOutSize}). */
    public static byte[] initOut(InitReply r, int size) {
        ByteBuffer b = buffer(INIT_OUT_SIZE);
        b.putInt(r.major())
                .putInt(r.minor())
                .putInt(r.maxReadahead())
                .putInt((int) r.flags())
                .putShort((short) r.maxBackground())
                .putShort((short) r.congestionThreshold())
                .putInt(r.maxWrite())
                .putInt(r.timeGran())
                .putShort((short) r.maxPages())
                .putShort((short) 0) // map_alignment: no DAX window
                .putInt((int) (r.flags() >>> 32)); // flags2
        return java.util.Arrays.copyOf(b.array(), size);
    }

    /** FUSE_DIRENT_ALIGN: records are padded to 8 bytes. */
    public static long direntSize(int nameLength) {
        return (DIRENT_HEADER_SIZE + (long) nameLength + 7) & ~7L;
    }

    public static long direntplusSize(int nameLength, int minor) {
        return entryOutSize(minor) + direntSize(nameLength);
    }
}
