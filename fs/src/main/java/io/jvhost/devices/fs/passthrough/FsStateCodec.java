package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.Stat;
import io.jvhost.state.LoadedState;
import io.jvhost.state.SectionInput;
import io.jvhost.state.SectionOutput;
import io.jvhost.state.StateReader;
import io.jvhost.state.StateWriter;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The passthrough file system's sections in the device-state blob (docs/virtio-fs.md):
 * "passthrough" (counters, INIT flags, source mode and shared-directory identity), "inodes" and
 * "handles". Loading checks the structure completely (unique ids below the counters, parents
 * that exist and are directories, valid names, handles of existing nodes of the right kind), so
 * that preparing a load only has to deal with the host's file system.
 */
final class FsStateCodec {
    static final String PASSTHROUGH = "passthrough", INODES = "inodes", HANDLES = "handles";
    /**
     * A source holds one descriptor per node (and per handle), and Linux caps a process at
     * fs.nr_open descriptors, 1 << 20 by default: more is no real state, only a blob that would
     * cost the destination gigabytes of heap to parse.
     */
    static final int MAX_NODES = 1 << 20;

    static final int MAX_HANDLE_BYTES = 128; // MAX_HANDLE_SZ

    private FsStateCodec() {}

    record Header(long nextNodeId, long nextFh, long initFlags, MigrationMode sourceMode, long rootDev, long rootIno) {}

    static void write(SavedFs s, StateWriter w) throws IOException {
        write(s, EncodedInodes.NONE, w);
    }

    /**
     * What an "inodes" v2 or v3 record leaves out when it matches: the root's device, mount id and
     * file-handle mount id. Nearly every node of a share lies on the root's file system, so its
     * record holds id, lookups, type, inode number, name and handle bytes, and nothing else.
     */
    record InodeDefaults(long dev, long mountId, int handleMountId) {
        static InodeDefaults of(FsSnapshot snap) {
            return snap.inodes().isEmpty()
                    ? new InodeDefaults(0, 0, 0)
                    : of(snap.inodes().getFirst());
        }

        static InodeDefaults of(FsSnapshot.InodeState root) {
            return new InodeDefaults(
                    root.dev(),
                    root.mountId(),
                    root.fileHandle() == null ? 0 : root.fileHandle().mountId());
        }
    }

    /**
     * The "inodes" list encoded ahead of the save, against {@code defaults}: the records in id
     * order as pieces, stretches of records encoded while the guest ran and single records to
     * encode at the save (those changed since, and the one after each change, which is coded
     * against its predecessor). The save then copies a few runs of bytes, whatever the number of
     * nodes: per-node code inside the downtime ran interpreted or half-compiled (its JIT log:
     * 4–7 ms for 5,000 nodes).
     */
    record EncodedInodes(InodeDefaults defaults, List<Piece> pieces) {
        static final EncodedInodes NONE = new EncodedInodes(null, List.of());

        /** How many records the pieces hold. */
        int count() {
            int n = 0;
            for (Piece p : pieces) n += p.count();
            return n;
        }
    }

    /** Some of the "inodes" list's records, in order. */
    sealed interface Piece {
        int count();
    }

    /**
     * {@code count} records encoded ahead one after the other, as {@code bytes[from, to)}, the
     * first of them after {@code after} (null: as the list's first), the last of them {@code last}.
     */
    record Encoded(byte[] bytes, int from, int to, int count, FsSnapshot.InodeState after, FsSnapshot.InodeState last)
            implements Piece {}

    /** One record encoded at the save. */
    record Fresh(FsSnapshot.InodeState node) implements Piece {
        @Override
        public int count() {
            return 1;
        }
    }

    /** Encodes "inodes" records ahead of the save, against the defaults of the snapshot's root. Not thread-safe. */
    static final class InodeEncoder {
        private final InodeDefaults defaults;
        private final StateWriter.ElementEncoder encoder = StateWriter.encoder(INODES, INODES_VERSION);
        private FsSnapshot.InodeState after;
        private final io.jvhost.state.ElementWriter<FsSnapshot.InodeState> record =
                (o, n) -> DeltaInodes.write(o, defaults(), after, n);

        InodeEncoder(FsSnapshot.InodeState root) {
            defaults = InodeDefaults.of(root);
        }

        InodeDefaults defaults() {
            return defaults;
        }

        /** {@code n}'s record as the save writes it after {@code after} (null: as the first). */
        byte[] encode(FsSnapshot.InodeState after, FsSnapshot.InodeState n) throws IOException {
            this.after = after;
            return encoder.encode(record, n);
        }
    }

    static final int INODES_VERSION = DeltaInodes.VERSION;
    // The flags byte of an "inodes" v2 record: which optional fields follow.
    private static final int F_DEV = 1, F_MOUNT = 2, F_LOCATION = 4, F_HANDLE = 8, F_HANDLE_MOUNT = 16;
    private static final int F_ALL = F_DEV | F_MOUNT | F_LOCATION | F_HANDLE | F_HANDLE_MOUNT;

    /**
     * Writes {@code s}; the "inodes" list from {@code encoded}'s pieces if they hold its records,
     * encoded against the defaults this save writes, else record by record.
     */
    static void write(SavedFs s, EncodedInodes encoded, StateWriter w) throws IOException {
        FsSnapshot snap = s.snapshot();
        w.section(
                PASSTHROUGH,
                1,
                1,
                o -> o.varint(snap.nextNodeId())
                        .varint(snap.nextFh())
                        .u64(snap.initFlags())
                        .u8(s.sourceMode().ordinal())
                        .u64(s.rootDev())
                        .u64(s.rootIno()));
        InodeDefaults defaults = InodeDefaults.of(snap);
        boolean ahead = defaults.equals(encoded.defaults())
                && encoded.count() == snap.inodes().size()
                && chained(encoded.pieces());
        // A v1 or v2 reader cannot parse v3 records: the minimum is 3, so it refuses the blob naming the section.
        w.section(INODES, INODES_VERSION, INODES_VERSION, o -> {
            o.u64(defaults.dev()).u64(defaults.mountId()).u32(defaults.handleMountId() & 0xFFFF_FFFFL);
            o.count(snap.inodes().size());
            if (ahead) writePieces(o, defaults, encoded.pieces());
            else writeAll(o, defaults, snap.inodes());
        });
        w.section(
                HANDLES,
                1,
                1,
                o -> o.list(
                        snap.handles(),
                        (out, h) -> out.varint(h.fh())
                                .varint(h.nodeId())
                                .u32(h.flags() & 0xFFFF_FFFFL)
                                .bool(h.directory())));
    }

    /** Whether every run of bytes follows the very record (identity) it was encoded after. */
    private static boolean chained(List<Piece> pieces) {
        FsSnapshot.InodeState previous = null;
        for (Piece p : pieces) {
            switch (p) {
                case Encoded e -> {
                    if (e.after() != previous) return false;
                    previous = e.last();
                }
                case Fresh f -> previous = f.node();
            }
        }
        return true;
    }

    private static void writePieces(SectionOutput o, InodeDefaults d, List<Piece> pieces) throws IOException {
        FsSnapshot.InodeState previous = null;
        for (Piece p : pieces) {
            switch (p) {
                case Encoded e -> {
                    o.encoded(e.bytes(), e.from(), e.to() - e.from());
                    previous = e.last();
                }
                case Fresh f -> {
                    DeltaInodes.write(o, d, previous, f.node());
                    previous = f.node();
                }
            }
        }
    }

    private static void writeAll(SectionOutput o, InodeDefaults d, List<FsSnapshot.InodeState> nodes)
            throws IOException {
        FsSnapshot.InodeState previous = null;
        for (FsSnapshot.InodeState n : nodes) {
            DeltaInodes.write(o, d, previous, n);
            previous = n;
        }
    }

    static void register(StateReader.Builder b) {
        b.section(PASSTHROUGH, 1, (v, in) -> {
            long nextNode = in.varint(), nextFh = in.varint(), flags = in.u64();
            int mode = in.u8();
            if (mode >= MigrationMode.values().length) throw in.malformed("unknown migration mode " + mode);
            if (nextNode < 2 || nextFh < 1) throw in.malformed("counters " + nextNode + "/" + nextFh + " out of range");
            return new Header(nextNode, nextFh, flags, MigrationMode.values()[mode], in.u64(), in.u64());
        });
        b.section(INODES, 1, INODES_VERSION, (v, in) -> {
            if (v == 1) return in.list(MAX_NODES, FsStateCodec::readInodeV1);
            InodeDefaults d = new InodeDefaults(in.u64(), in.u64(), (int) in.u32());
            if (v == 2) return in.list(MAX_NODES, r -> readInodeV2(r, d));
            DeltaInodes.Reader records = new DeltaInodes.Reader(d);
            return in.list(MAX_NODES, records::read);
        });
        b.section(
                HANDLES,
                1,
                (v, in) -> in.list(MAX_NODES, r -> {
                    long fh = r.varint(), node = r.varint();
                    long flags = r.u32();
                    return new FsSnapshot.HandleState(fh, node, (int) flags, r.bool());
                }));
    }

    /** The second layout, each record on its own: still loaded, as a source may run an older jvhost. */
    private static FsSnapshot.InodeState readInodeV2(SectionInput in, InodeDefaults d) throws IOException {
        long id = in.varint(), lookups = in.varint();
        int flags = in.u8(), type = in.u8();
        if ((flags & ~F_ALL) != 0)
            throw in.malformed("node " + id + " has unknown flags " + Integer.toHexString(flags));
        if ((flags & F_HANDLE_MOUNT) != 0 && (flags & F_HANDLE) == 0)
            throw in.malformed("node " + id + " has a handle mount id but no handle");
        if (type > (Stat.S_IFMT >>> 12)) throw in.malformed("node " + id + " has file type " + type);
        long ino = in.varint();
        long dev = (flags & F_DEV) != 0 ? in.u64() : d.dev();
        long mnt = (flags & F_MOUNT) != 0 ? in.u64() : d.mountId();
        Location loc = (flags & F_LOCATION) != 0 ? location(in, id) : null;
        FileHandle fh = null;
        if ((flags & F_HANDLE) != 0) {
            int mountId = (flags & F_HANDLE_MOUNT) != 0 ? (int) in.u32() : d.handleMountId();
            long htype = in.varint();
            if (htype < 0 || htype > 0xFFFF_FFFFL) throw in.malformed("node " + id + " has handle type " + htype);
            fh = new FileHandle(mountId, (int) htype, in.bytes(MAX_HANDLE_BYTES));
        }
        return new FsSnapshot.InodeState(id, lookups, dev, ino, mnt, type << 12, loc, fh);
    }

    private static Location location(SectionInput in, long id) throws IOException {
        long parent = in.varint();
        byte[] name = in.bytes(Names.NAME_MAX);
        if (!Names.isValidComponent(name)) throw in.malformed("node " + id + " has an invalid name");
        return new Location(parent, name);
    }

    /** The first layout, every field written out: still loaded, as a source may run an older jvhost. */
    private static FsSnapshot.InodeState readInodeV1(SectionInput in) throws IOException {
        long id = in.varint(), lookups = in.varint();
        int type = (int) in.u32();
        long dev = in.u64(), ino = in.u64(), mnt = in.u64();
        Location loc = in.bool() ? location(in, id) : null;
        FileHandle fh = null;
        if (in.bool()) {
            int mountId = (int) in.u32(), htype = (int) in.u32();
            fh = new FileHandle(mountId, htype, in.bytes(MAX_HANDLE_BYTES));
        }
        return new FsSnapshot.InodeState(id, lookups, dev, ino, mnt, type, loc, fh);
    }

    /** The blob's content, checked for internal consistency. */
    @SuppressWarnings("unchecked")
    static SavedFs read(LoadedState state) throws StructureException {
        Header h = state.get(PASSTHROUGH, Header.class);
        List<FsSnapshot.InodeState> inodes = state.get(INODES, List.class);
        List<FsSnapshot.HandleState> handles = state.get(HANDLES, List.class);
        // Sized for the nodes read (they exist, so the size is no guest's or source's claim): no resizes.
        Map<Long, FsSnapshot.InodeState> byId = HashMap.newHashMap(inodes.size());
        for (FsSnapshot.InodeState n : inodes) {
            if (n.nodeId() < 1 || n.nodeId() >= h.nextNodeId())
                throw new StructureException("node id " + n.nodeId() + " out of range");
            if (byId.put(n.nodeId(), n) != null) throw new StructureException("node id " + n.nodeId() + " twice");
            if ((n.fileType() & ~Stat.S_IFMT) != 0 || n.fileType() == 0)
                throw new StructureException(
                        "node " + n.nodeId() + " has file type " + Integer.toOctalString(n.fileType()));
        }
        FsSnapshot.InodeState root = byId.get(FileSystem.ROOT_ID);
        if (root == null || root.location() != null || root.fileType() != Stat.S_IFDIR) {
            throw new StructureException("no root directory node");
        }
        for (FsSnapshot.InodeState n : inodes) {
            if (n.location() == null) continue;
            FsSnapshot.InodeState parent = byId.get(n.location().parentId());
            if (parent == null || parent.fileType() != Stat.S_IFDIR) {
                throw new StructureException(
                        "node " + n.nodeId() + " lies in " + n.location().parentId() + ", not a directory node");
            }
        }
        Set<Long> fhs = HashSet.newHashSet(handles.size());
        for (FsSnapshot.HandleState hs : handles) {
            // 0 is a valid fh: virtiofsd counts from it, and its handles may come through jvhost.
            if (hs.fh() < 0 || hs.fh() >= h.nextFh() || !fhs.add(hs.fh()))
                throw new StructureException("bad or repeated fh " + hs.fh());
            FsSnapshot.InodeState n = byId.get(hs.nodeId());
            if (n == null) throw new StructureException("fh " + hs.fh() + " of unknown node " + hs.nodeId());
            if (hs.directory() != (n.fileType() == Stat.S_IFDIR))
                throw new StructureException("fh " + hs.fh() + " has the wrong kind for node " + hs.nodeId());
        }
        return new SavedFs(
                new FsSnapshot(h.nextNodeId(), h.nextFh(), h.initFlags(), inodes, handles),
                h.sourceMode(),
                h.rootDev(),
                h.rootIno());
    }

    /** The blob parsed but does not describe a consistent file system. */
    static final class StructureException extends Exception {
        StructureException(String message) {
            super(message);
        }
    }
}
