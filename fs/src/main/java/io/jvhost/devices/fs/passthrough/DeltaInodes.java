package io.jvhost.devices.fs.passthrough;

import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.Stat;
import io.jvhost.state.SectionInput;
import io.jvhost.state.SectionOutput;
import java.io.IOException;

/**
 * The records of an "inodes" v3 section (docs/virtio-fs.md), each coded against the record
 * written just before it, the first against an all-zero, all-empty one: the node id as a
 * positive delta, the inode number as a zigzag delta, the name as the length of the prefix it
 * shares with the previous name plus the rest, and flags for what equals the previous record
 * (parent, lookups, file type, handle type) so that it is not written. A share's records are
 * in id order and mostly alike (siblings looked up one after the other, consecutive inode
 * numbers, names that differ in a counter), so a record shrinks to a dozen bytes or so.
 *
 * <p>"Previous" is the record just before, never an older one: a record's bytes depend on that
 * one record only, which lets records encoded ahead be used when their predecessor is the same
 * (see {@link FsStateCodec.EncodedInode}). A record without a location has parent 0 and an empty
 * name, one without a handle has handle type 0 and empty handle bytes, as the zero record.
 */
final class DeltaInodes {
    static final int VERSION = 3;

    /*
     * The flags varint. The bits a common record sets (a node on the root's file system, in
     * the directory of the record before) are in the first seven, so its flags take one byte;
     * another device, mount or handle mount (a submount) sets a bit of the second.
     */
    static final int F_LOCATION = 1, F_SAME_PARENT = 2, F_HANDLE = 4, F_SAME_HANDLE_TYPE = 8;
    /** The handle has the previous handle's length and is written as the bytes that differ from it. */
    static final int F_HANDLE_DIFF = 16;

    static final int F_SAME_LOOKUPS = 32, F_SAME_TYPE = 64;
    static final int F_DEV = 128, F_MOUNT = 256, F_HANDLE_MOUNT = 512;
    private static final int F_ALL = 1023;
    private static final int F_HANDLE_FIELDS = F_SAME_HANDLE_TYPE | F_HANDLE_DIFF | F_HANDLE_MOUNT;

    private static final byte[] EMPTY = new byte[0];

    private DeltaInodes() {}

    /**
     * Writes {@code n}'s record after {@code prev}'s ({@code null}: the first record). Node ids
     * must ascend: a v3 section cannot hold a node twice or out of order.
     */
    static void write(
            SectionOutput o, FsStateCodec.InodeDefaults d, FsSnapshot.InodeState prev, FsSnapshot.InodeState n)
            throws IOException {
        int type = n.fileType();
        if ((type & ~Stat.S_IFMT) != 0) throw new IllegalArgumentException("file type " + Integer.toOctalString(type));
        long prevId = prev == null ? 0 : prev.nodeId();
        if (n.nodeId() <= prevId)
            throw new IllegalArgumentException("node " + n.nodeId() + " after node " + prevId + ": ids must ascend");
        Location loc = n.location(), prevLoc = prev == null ? null : prev.location();
        FileHandle h = n.fileHandle(), prevH = prev == null ? null : prev.fileHandle();
        byte[] hb = h == null ? null : h.bytes(), prevHb = prevH == null ? EMPTY : prevH.bytes();
        boolean diff = hb != null && hb.length == prevHb.length && diffLength(hb, prevHb) < fullLength(hb);
        int flags = (n.dev() != d.dev() ? F_DEV : 0)
                | (n.mountId() != d.mountId() ? F_MOUNT : 0)
                | (n.lookups() == (prev == null ? 0 : prev.lookups()) ? F_SAME_LOOKUPS : 0)
                | (type == (prev == null ? 0 : prev.fileType()) ? F_SAME_TYPE : 0)
                | (loc != null ? F_LOCATION : 0)
                | (loc != null && loc.parentId() == (prevLoc == null ? 0 : prevLoc.parentId()) ? F_SAME_PARENT : 0)
                | (h != null ? F_HANDLE : 0)
                | (h != null && h.mountId() != d.handleMountId() ? F_HANDLE_MOUNT : 0)
                | (h != null && h.type() == (prevH == null ? 0 : prevH.type()) ? F_SAME_HANDLE_TYPE : 0)
                | (diff ? F_HANDLE_DIFF : 0);
        o.varint(n.nodeId() - prevId).varint(flags);
        if ((flags & F_SAME_LOOKUPS) == 0) o.varint(n.lookups());
        if ((flags & F_SAME_TYPE) == 0) o.u8(type >>> 12);
        o.varint(zigzag(n.ino() - (prev == null ? 0 : prev.ino())));
        if ((flags & F_DEV) != 0) o.u64(n.dev());
        if ((flags & F_MOUNT) != 0) o.u64(n.mountId());
        if (loc != null) {
            if ((flags & F_SAME_PARENT) == 0) o.varint(loc.parentId());
            byte[] name = loc.name(), prevName = prevLoc == null ? EMPTY : prevLoc.name();
            int shared = sharedPrefix(name, prevName);
            o.varint(shared).bytes(name, shared, name.length - shared);
        }
        if (h != null) {
            if ((flags & F_HANDLE_MOUNT) != 0) o.u32(h.mountId() & 0xFFFF_FFFFL);
            if ((flags & F_SAME_HANDLE_TYPE) == 0) o.varint(h.type() & 0xFFFF_FFFFL);
            if (diff) writeDiff(o, hb, prevHb);
            else o.bytes(hb);
        }
    }

    private static int sharedPrefix(byte[] a, byte[] b) {
        int m = java.util.Arrays.mismatch(a, b);
        return m < 0 ? a.length : m;
    }

    private static int fullLength(byte[] b) {
        return (b.length < 128 ? 1 : 2) + b.length;
    }

    /** A bitmap of the positions that differ (a bit per byte), then the bytes at those positions. */
    private static int diffLength(byte[] b, byte[] prev) {
        int differ = 0;
        for (int i = 0; i < b.length; i++) if (b[i] != prev[i]) differ++;
        return (b.length + 7) / 8 + differ;
    }

    private static void writeDiff(SectionOutput o, byte[] b, byte[] prev) throws IOException {
        for (int at = 0; at < b.length; at += 8) {
            int bits = 0;
            for (int i = at; i < Math.min(b.length, at + 8); i++) if (b[i] != prev[i]) bits |= 1 << (i - at);
            o.u8(bits);
        }
        for (int i = 0; i < b.length; i++) if (b[i] != prev[i]) o.u8(b[i] & 0xFF);
    }

    static long zigzag(long v) {
        return (v << 1) ^ (v >> 63);
    }

    static long unzigzag(long v) {
        return (v >>> 1) ^ -(v & 1);
    }

    /**
     * Reads the records of one section in order, each against the one read before. Everything is
     * bounded by the limits of v2: names by NAME_MAX, handles by MAX_HANDLE_BYTES (a diffed
     * handle has the previous one's length).
     */
    static final class Reader {
        private final FsStateCodec.InodeDefaults d;
        private long id, lookups, ino, parent;
        private int type, handleType;
        private byte[] name = EMPTY, handle = EMPTY;

        Reader(FsStateCodec.InodeDefaults d) {
            this.d = d;
        }

        FsSnapshot.InodeState read(SectionInput in) throws IOException {
            long delta = in.varint();
            if (delta <= 0 || id + delta < 0)
                throw in.malformed("the node after node " + id + " has id delta " + Long.toUnsignedString(delta)
                        + ": ids must ascend");
            long node = id + delta;
            long flags = in.varint();
            if ((flags & ~F_ALL) != 0)
                throw in.malformed("node " + node + " has unknown flags " + Long.toHexString(flags));
            if ((flags & F_SAME_PARENT) != 0 && (flags & F_LOCATION) == 0)
                throw in.malformed("node " + node + " has the previous parent but no location");
            if ((flags & F_HANDLE_FIELDS) != 0 && (flags & F_HANDLE) == 0)
                throw in.malformed("node " + node + " has handle fields but no handle");
            long count = (flags & F_SAME_LOOKUPS) != 0 ? lookups : in.varint();
            int t = type;
            if ((flags & F_SAME_TYPE) == 0) {
                int b = in.u8();
                if (b > (Stat.S_IFMT >>> 12)) throw in.malformed("node " + node + " has file type " + b);
                t = b << 12;
            }
            long i = ino + unzigzag(in.varint()); // modulo 2^64, as written: inode numbers are u64
            long dev = (flags & F_DEV) != 0 ? in.u64() : d.dev();
            long mnt = (flags & F_MOUNT) != 0 ? in.u64() : d.mountId();
            Location loc = null;
            if ((flags & F_LOCATION) != 0) {
                long p = (flags & F_SAME_PARENT) != 0 ? parent : in.varint();
                byte[] full = name(in, node);
                loc = new Location(p, full); // copies it: this.name stays the reader's own
                parent = p;
                name = full;
            } else {
                parent = 0;
                name = EMPTY;
            }
            FileHandle fh = null;
            if ((flags & F_HANDLE) != 0) {
                int mountId = (flags & F_HANDLE_MOUNT) != 0 ? (int) in.u32() : d.handleMountId();
                if ((flags & F_SAME_HANDLE_TYPE) == 0) {
                    long v = in.varint();
                    if (v < 0 || v > 0xFFFF_FFFFL) throw in.malformed("node " + node + " has handle type " + v);
                    handleType = (int) v;
                }
                handle = (flags & F_HANDLE_DIFF) != 0 ? diffed(in, node) : in.bytes(FsStateCodec.MAX_HANDLE_BYTES);
                fh = new FileHandle(mountId, handleType, handle); // copies it, as Location
            } else {
                handleType = 0;
                handle = EMPTY;
            }
            id = node;
            lookups = count;
            type = t;
            ino = i;
            return new FsSnapshot.InodeState(node, count, dev, i, mnt, t, loc, fh);
        }

        /** The name: the previous record's first bytes, then the rest. */
        private byte[] name(SectionInput in, long node) throws IOException {
            long shared = in.varint();
            if (shared > name.length)
                throw in.malformed("node " + node + " shares " + Long.toUnsignedString(shared)
                        + " bytes with the previous record's name of " + name.length);
            byte[] suffix = in.bytes(Names.NAME_MAX);
            if (shared + suffix.length > Names.NAME_MAX)
                throw in.malformed("node " + node + " has a name of " + (shared + suffix.length) + " bytes, over "
                        + Names.NAME_MAX);
            byte[] full = new byte[(int) shared + suffix.length];
            System.arraycopy(name, 0, full, 0, (int) shared);
            System.arraycopy(suffix, 0, full, (int) shared, suffix.length);
            if (!Names.isValidComponent(full)) throw in.malformed("node " + node + " has an invalid name");
            return full;
        }

        /** The previous handle with the bytes the bitmap marks replaced (its length: at most MAX_HANDLE_BYTES). */
        private byte[] diffed(SectionInput in, long node) throws IOException {
            byte[] bytes = handle; // the reader's own (FileHandle copied it): replaced in place
            long low = 0, high = 0; // the bitmap, 128 bits at most
            int last = 0;
            for (int k = 0; k < bytes.length; k += 8) {
                last = in.u8();
                if (k < 64) low |= (long) last << k;
                else high |= (long) last << (k - 64);
            }
            if ((bytes.length & 7) != 0 && last >>> (bytes.length & 7) != 0)
                throw in.malformed("node " + node + " marks handle bytes beyond the previous handle's " + bytes.length);
            for (int k = 0; k < bytes.length; k++)
                if ((((k < 64 ? low : high) >>> (k & 63)) & 1) != 0) bytes[k] = (byte) in.u8();
            return bytes;
        }
    }
}
