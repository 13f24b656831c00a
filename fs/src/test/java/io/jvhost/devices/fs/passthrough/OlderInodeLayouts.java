package io.jvhost.devices.fs.passthrough;

import io.jvhost.nativeio.FileHandle;
import io.jvhost.state.SectionOutput;
import io.jvhost.state.StateWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * Blobs as older sources wrote them: "inodes" v1 (every field written out) and v2 (each record
 * on its own against the root's defaults), the writers as they were, for the loads a
 * destination must still do.
 */
final class OlderInodeLayouts {
    private OlderInodeLayouts() {}

    /** A whole blob with an "inodes" section of {@code version} 1 or 2. */
    static byte[] blob(FsSnapshot snap, int version, long rootDev, long rootIno) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(out, "virtio-fs");
        w.section(
                FsStateCodec.PASSTHROUGH,
                1,
                1,
                o -> o.varint(snap.nextNodeId())
                        .varint(snap.nextFh())
                        .u64(snap.initFlags())
                        .u8(MigrationMode.FIND_PATHS.ordinal())
                        .u64(rootDev)
                        .u64(rootIno));
        FsStateCodec.InodeDefaults d = FsStateCodec.InodeDefaults.of(snap);
        w.section(FsStateCodec.INODES, version, version, o -> {
            switch (version) {
                case 1 -> o.list(snap.inodes(), OlderInodeLayouts::writeV1);
                case 2 -> {
                    o.u64(d.dev()).u64(d.mountId()).u32(d.handleMountId() & 0xFFFF_FFFFL);
                    o.list(snap.inodes(), (r, n) -> writeV2(r, d, n));
                }
                default -> throw new IllegalArgumentException("inodes v" + version);
            }
        });
        w.section(
                FsStateCodec.HANDLES,
                1,
                1,
                o -> o.list(
                        snap.handles(),
                        (h, s) -> h.varint(s.fh())
                                .varint(s.nodeId())
                                .u32(s.flags() & 0xFFFF_FFFFL)
                                .bool(s.directory())));
        w.finish();
        return out.toByteArray();
    }

    static void writeV1(SectionOutput o, FsSnapshot.InodeState n) throws IOException {
        o.varint(n.nodeId())
                .varint(n.lookups())
                .u32(n.fileType())
                .u64(n.dev())
                .u64(n.ino())
                .u64(n.mountId());
        o.bool(n.location() != null);
        if (n.location() != null)
            o.varint(n.location().parentId()).bytes(n.location().name());
        o.bool(n.fileHandle() != null);
        if (n.fileHandle() != null)
            o.u32(n.fileHandle().mountId() & 0xFFFF_FFFFL)
                    .u32(n.fileHandle().type() & 0xFFFF_FFFFL)
                    .bytes(n.fileHandle().bytes());
    }

    // The flags byte of a v2 record.
    static final int F_DEV = 1, F_MOUNT = 2, F_LOCATION = 4, F_HANDLE = 8, F_HANDLE_MOUNT = 16;

    static void writeV2(SectionOutput o, FsStateCodec.InodeDefaults d, FsSnapshot.InodeState n) throws IOException {
        int type = n.fileType();
        FileHandle h = n.fileHandle();
        int flags = (n.dev() != d.dev() ? F_DEV : 0)
                | (n.mountId() != d.mountId() ? F_MOUNT : 0)
                | (n.location() != null ? F_LOCATION : 0)
                | (h != null ? F_HANDLE : 0)
                | (h != null && h.mountId() != d.handleMountId() ? F_HANDLE_MOUNT : 0);
        o.varint(n.nodeId()).varint(n.lookups()).u8(flags).u8(type >>> 12).varint(n.ino());
        if ((flags & F_DEV) != 0) o.u64(n.dev());
        if ((flags & F_MOUNT) != 0) o.u64(n.mountId());
        if (n.location() != null)
            o.varint(n.location().parentId()).bytes(n.location().name());
        if (h != null) {
            if ((flags & F_HANDLE_MOUNT) != 0) o.u32(h.mountId() & 0xFFFF_FFFFL);
            o.varint(h.type() & 0xFFFF_FFFFL).bytes(h.bytes());
        }
    }
}
