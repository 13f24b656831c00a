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
        write(s, Map.of(), w);
    }

    /** An encoder of "inodes" elements ahead of the save ({@link #encode}). */
    static StateWriter.ElementEncoder inodeEncoder() {
        return StateWriter.encoder(INODES, 1);
    }

    /** The bytes {@code n} is written as in the "inodes" section. */
    static byte[] encode(StateWriter.ElementEncoder encoder, FsSnapshot.InodeState n) throws IOException {
        return encoder.encode(FsStateCodec::writeInode, n);
    }

    /**
     * Writes {@code s}; a node whose very record (the same instance) is in {@code encoded} is
     * written as those bytes ({@link #encode}), any other is encoded here.
     */
    static void write(SavedFs s, Map<FsSnapshot.InodeState, byte[]> encoded, StateWriter w) throws IOException {
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
        w.section(INODES, 1, 1, o -> {
            o.count(snap.inodes().size());
            for (FsSnapshot.InodeState n : snap.inodes()) {
                byte[] ahead = encoded.isEmpty() ? null : encoded.get(n);
                if (ahead != null) o.encoded(ahead);
                else writeInode(o, n);
            }
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

    private static void writeInode(SectionOutput o, FsSnapshot.InodeState n) throws IOException {
        o.varint(n.nodeId())
                .varint(n.lookups())
                .u32(n.fileType() & 0xFFFF_FFFFL)
                .u64(n.dev())
                .u64(n.ino())
                .u64(n.mountId());
        o.bool(n.location() != null);
        if (n.location() != null)
            o.varint(n.location().parentId()).bytes(n.location().name());
        o.bool(n.fileHandle() != null);
        if (n.fileHandle() != null) {
            o.u32(n.fileHandle().mountId() & 0xFFFF_FFFFL)
                    .u32(n.fileHandle().type() & 0xFFFF_FFFFL)
                    .bytes(n.fileHandle().bytes());
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
        b.section(INODES, 1, (v, in) -> in.list(MAX_NODES, FsStateCodec::readInode));
        b.section(
                HANDLES,
                1,
                (v, in) -> in.list(MAX_NODES, r -> {
                    long fh = r.varint(), node = r.varint();
                    long flags = r.u32();
                    return new FsSnapshot.HandleState(fh, node, (int) flags, r.bool());
                }));
    }

    private static FsSnapshot.InodeState readInode(SectionInput in) throws IOException {
        long id = in.varint(), lookups = in.varint();
        int type = (int) in.u32();
        long dev = in.u64(), ino = in.u64(), mnt = in.u64();
        Location loc = null;
        if (in.bool()) {
            long parent = in.varint();
            byte[] name = in.bytes(Names.NAME_MAX);
            if (!Names.isValidComponent(name)) throw in.malformed("node " + id + " has an invalid name");
            loc = new Location(parent, name);
        }
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
        Map<Long, FsSnapshot.InodeState> byId = new HashMap<>();
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
        Set<Long> fhs = new HashSet<>();
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
