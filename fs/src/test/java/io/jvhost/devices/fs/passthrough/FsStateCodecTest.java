package io.jvhost.devices.fs.passthrough;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.Stat;
import io.jvhost.state.SectionOutput;
import io.jvhost.state.StateFormatException;
import io.jvhost.state.StateReader;
import io.jvhost.state.StateWriter;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The "inodes" section's delta-coded v3 records, and the v1 and v2 records an older source still writes. */
class FsStateCodecTest {
    static final long DEV = 0x803, MOUNT = 27;
    static final int HANDLE_MOUNT = 27;

    static FsSnapshot.InodeState root() {
        return new FsSnapshot.InodeState(1, 1, DEV, 2, MOUNT, Stat.S_IFDIR, null, handle(HANDLE_MOUNT, 2));
    }

    static FileHandle handle(int mount, int seed) {
        byte[] b = new byte[8];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (seed * 31 + i);
        return new FileHandle(mount, 0x81, b);
    }

    static Location at(long parent, String name) {
        return new Location(parent, name.getBytes(StandardCharsets.UTF_8));
    }

    /** A share with every kind of record: defaults, another device and mount (a submount), no handle, unlinked, a foreign handle mount, big numbers. */
    static FsSnapshot varied() {
        List<FsSnapshot.InodeState> nodes = new ArrayList<>();
        nodes.add(root());
        nodes.add(new FsSnapshot.InodeState(2, 3, DEV, 100, MOUNT, Stat.S_IFREG, at(1, "a"), handle(HANDLE_MOUNT, 3)));
        nodes.add(new FsSnapshot.InodeState(3, 1, 0x900, 2, 99, Stat.S_IFDIR, at(1, "sub"), handle(99, 4)));
        nodes.add(new FsSnapshot.InodeState(4, 1, DEV, 101, MOUNT, Stat.S_IFLNK, at(1, "link"), null));
        nodes.add(new FsSnapshot.InodeState(5, 7, DEV, 102, MOUNT, Stat.S_IFREG, null, handle(HANDLE_MOUNT, 5)));
        nodes.add(new FsSnapshot.InodeState(
                6, Long.MAX_VALUE, -1L, -1L, -1L, Stat.S_IFSOCK, at(3, "s"), new FileHandle(-1, -1, new byte[128])));
        nodes.add(
                new FsSnapshot.InodeState(7, 0, DEV, 103, MOUNT, Stat.S_IFIFO, at(3, "fifo"), handle(HANDLE_MOUNT, 7)));
        return new FsSnapshot(8, 3, 0, nodes, List.of(new FsSnapshot.HandleState(1, 2, 2, false)));
    }

    static byte[] blob(FsSnapshot snap, FsStateCodec.EncodedInodes encoded) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(out, "virtio-fs");
        FsStateCodec.write(new SavedFs(snap, MigrationMode.FIND_PATHS, DEV, 2), encoded, w);
        w.finish();
        return out.toByteArray();
    }

    static byte[] blob(FsSnapshot snap) throws IOException {
        return blob(snap, FsStateCodec.EncodedInodes.NONE);
    }

    static SavedFs read(byte[] blob) throws Exception {
        StateReader.Builder b = StateReader.forDevice("virtio-fs");
        FsStateCodec.register(b);
        return FsStateCodec.read(b.build().readAll(new ByteArrayInputStream(blob)));
    }

    static byte[] olderBlob(FsSnapshot snap, int version) throws IOException {
        return OlderInodeLayouts.blob(snap, version, DEV, 2);
    }

    /** {@code nodes[from, to)} encoded ahead one after the other, as one piece, as the preparation does. */
    static FsStateCodec.Encoded encodedAhead(
            FsStateCodec.InodeEncoder encoder, List<FsSnapshot.InodeState> nodes, int from, int to) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int i = from; i < to; i++) b.write(encoder.encode(i == 0 ? null : nodes.get(i - 1), nodes.get(i)));
        byte[] bytes = b.toByteArray();
        return new FsStateCodec.Encoded(
                bytes, 0, bytes.length, to - from, from == 0 ? null : nodes.get(from - 1), nodes.get(to - 1));
    }

    /** Every record encoded ahead, one piece. */
    static FsStateCodec.EncodedInodes encodedAhead(FsSnapshot snap) throws IOException {
        FsStateCodec.InodeEncoder encoder =
                new FsStateCodec.InodeEncoder(snap.inodes().getFirst());
        return new FsStateCodec.EncodedInodes(
                encoder.defaults(),
                List.of(encodedAhead(encoder, snap.inodes(), 0, snap.inodes().size())));
    }

    @Test
    void everyKindOfNodeComesBackAsItWas() throws Exception {
        FsSnapshot snap = varied();
        SavedFs back = read(blob(snap));
        assertEquals(snap.inodes(), back.snapshot().inodes());
        assertEquals(snap.handles(), back.snapshot().handles());
        assertEquals(snap.nextNodeId(), back.snapshot().nextNodeId());
    }

    @Test
    void aBlobOfTheFirstLayoutStillLoads() throws Exception {
        FsSnapshot snap = varied();
        assertEquals(snap.inodes(), read(olderBlob(snap, 1)).snapshot().inodes());
    }

    @Test
    void aBlobOfTheSecondLayoutStillLoads() throws Exception {
        FsSnapshot snap = varied();
        assertEquals(snap.inodes(), read(olderBlob(snap, 2)).snapshot().inodes());
    }

    @Test
    void aReaderOfTheSecondLayoutRefusesTheThirdNamingTheSection() throws IOException {
        StateReader old = StateReader.forDevice("virtio-fs")
                .section(FsStateCodec.PASSTHROUGH, 1, (v, in) -> {
                    in.varint();
                    in.varint();
                    in.u64();
                    in.u8();
                    in.u64();
                    return in.u64();
                })
                .section(FsStateCodec.INODES, 1, 2, (v, in) -> in.count(10))
                .section(FsStateCodec.HANDLES, 1, (v, in) -> in.count(10))
                .build();
        StateFormatException e =
                assertThrows(StateFormatException.class, () -> old.readAll(new ByteArrayInputStream(blob(varied()))));
        assertTrue(e.getMessage().contains("inodes") && e.getMessage().contains("3"), e.getMessage());
    }

    @Test
    void aReaderOfTheFirstLayoutOnlyRefusesTheNewOneNamingTheSection() throws IOException {
        StateReader old = StateReader.forDevice("virtio-fs")
                .section(FsStateCodec.PASSTHROUGH, 1, (v, in) -> {
                    in.varint();
                    in.varint();
                    in.u64();
                    in.u8();
                    in.u64();
                    return in.u64();
                })
                .section(FsStateCodec.INODES, 1, (v, in) -> in.count(10))
                .section(FsStateCodec.HANDLES, 1, (v, in) -> in.count(10))
                .build();
        StateFormatException e =
                assertThrows(StateFormatException.class, () -> old.readAll(new ByteArrayInputStream(blob(varied()))));
        assertTrue(e.getMessage().contains("inodes"), e.getMessage());
    }

    @Test
    void recordsOnTheRootsFileSystemAreLessThanHalfTheFirstLayout() throws IOException {
        List<FsSnapshot.InodeState> nodes = new ArrayList<>(List.of(root()));
        for (int i = 2; i < 1002; i++) {
            nodes.add(new FsSnapshot.InodeState(
                    i, 1, DEV, 1_000_000 + i, MOUNT, Stat.S_IFREG, at(1, "file-" + i), handle(HANDLE_MOUNT, i)));
        }
        FsSnapshot snap = new FsSnapshot(1002, 1, 0, nodes, List.of());
        int v1 = olderBlob(snap, 1).length, v3 = blob(snap).length;
        assertTrue(v3 * 2 < v1, "v3 " + v3 + " bytes, v1 " + v1);
    }

    @Test
    void recordsEncodedAheadAreWrittenAsTheyWouldBeAtTheSave() throws IOException {
        FsSnapshot snap = varied();
        assertArrayEquals(blob(snap), blob(snap, encodedAhead(snap)));
        // Runs ahead around records encoded at the save, as after changes.
        List<FsSnapshot.InodeState> nodes = snap.inodes();
        FsStateCodec.InodeEncoder encoder = new FsStateCodec.InodeEncoder(nodes.getFirst());
        FsStateCodec.EncodedInodes mixed = new FsStateCodec.EncodedInodes(
                encoder.defaults(),
                List.of(
                        encodedAhead(encoder, nodes, 0, 2),
                        new FsStateCodec.Fresh(nodes.get(2)),
                        new FsStateCodec.Fresh(nodes.get(3)),
                        encodedAhead(encoder, nodes, 4, nodes.size())));
        assertArrayEquals(blob(snap), blob(snap, mixed));
    }

    @Test
    void recordsEncodedAgainstOtherDefaultsAreNotWritten() throws Exception {
        FsSnapshot snap = varied();
        byte[] junk = {1, 2, 3};
        FsStateCodec.EncodedInodes other = new FsStateCodec.EncodedInodes(
                new FsStateCodec.InodeDefaults(DEV + 1, MOUNT, HANDLE_MOUNT),
                List.of(new FsStateCodec.Encoded(
                        junk, 0, 3, snap.inodes().size(), null, snap.inodes().getLast())));
        assertArrayEquals(blob(snap), blob(snap, other));
    }

    @Test
    void piecesThatDoNotHoldEveryRecordAreNotWritten() throws Exception {
        FsSnapshot snap = varied();
        List<FsSnapshot.InodeState> nodes = snap.inodes();
        FsStateCodec.InodeEncoder encoder = new FsStateCodec.InodeEncoder(nodes.getFirst());
        // A node added since: pieces of the records before it hold one record too few.
        FsStateCodec.EncodedInodes tooFew = new FsStateCodec.EncodedInodes(
                encoder.defaults(), List.of(encodedAhead(encoder, nodes, 0, nodes.size() - 1)));
        assertArrayEquals(blob(snap), blob(snap, tooFew));
    }

    @Test
    void aRunIsWrittenOnlyAfterTheRecordItWasEncodedAfter() throws Exception {
        FsSnapshot snap = varied();
        List<FsSnapshot.InodeState> nodes = snap.inodes();
        FsStateCodec.InodeEncoder encoder = new FsStateCodec.InodeEncoder(nodes.getFirst());
        // Node 2 changed (a fresh record) but the run after it was coded after its old record.
        FsSnapshot.InodeState a = nodes.get(2);
        FsSnapshot.InodeState renamed = new FsSnapshot.InodeState(
                a.nodeId(), a.lookups(), a.dev(), a.ino(), a.mountId(), a.fileType(), at(1, "b"), a.fileHandle());
        List<FsSnapshot.InodeState> changed = new ArrayList<>(nodes);
        changed.set(2, renamed);
        FsSnapshot after = new FsSnapshot(snap.nextNodeId(), snap.nextFh(), 0, changed, snap.handles());
        FsStateCodec.EncodedInodes stale = new FsStateCodec.EncodedInodes(
                encoder.defaults(),
                List.of(
                        encodedAhead(encoder, nodes, 0, 2),
                        new FsStateCodec.Fresh(renamed),
                        encodedAhead(encoder, nodes, 3, nodes.size())));
        assertArrayEquals(blob(after), blob(after, stale));
        assertEquals(changed, read(blob(after, stale)).snapshot().inodes());
    }

    /** A blob with one hand-made v2 record after the root's (the v2 reader's own checks). */
    private static byte[] withRecord(RecordBody body) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(out, "virtio-fs");
        w.section(
                FsStateCodec.PASSTHROUGH,
                1,
                1,
                o -> o.varint(3).varint(1).u64(0).u8(0).u64(DEV).u64(2));
        w.section(FsStateCodec.INODES, 2, 2, o -> {
            o.u64(DEV).u64(MOUNT).u32(HANDLE_MOUNT).count(2);
            o.varint(1).varint(1).u8(0).u8(Stat.S_IFDIR >>> 12).varint(2);
            body.write(o);
        });
        w.section(FsStateCodec.HANDLES, 1, 1, o -> o.count(0));
        w.finish();
        return out.toByteArray();
    }

    @FunctionalInterface
    private interface RecordBody {
        void write(SectionOutput o) throws IOException;
    }

    @Test
    void aHandMadeRecordWithDefaultsLoads() throws Exception {
        byte[] blob = withRecord(o -> o.varint(2)
                .varint(1)
                .u8(4 | 8)
                .u8(Stat.S_IFREG >>> 12)
                .varint(77)
                .varint(1)
                .bytes("x".getBytes(StandardCharsets.UTF_8))
                .varint(0x81)
                .bytes(new byte[] {9, 9}));
        FsSnapshot.InodeState n = read(blob).snapshot().inodes().get(1);
        assertEquals(
                new FsSnapshot.InodeState(
                        2, 1, DEV, 77, MOUNT, Stat.S_IFREG, at(1, "x"), new FileHandle(HANDLE_MOUNT, 0x81, new byte[] {
                            9, 9
                        })),
                n);
    }

    @Test
    void unknownFlagsAreRefused() {
        var e = assertThrows(
                StateFormatException.class,
                () -> read(withRecord(o ->
                        o.varint(2).varint(1).u8(32).u8(Stat.S_IFREG >>> 12).varint(77))));
        assertTrue(e.getMessage().contains("unknown flags"), e.getMessage());
    }

    @Test
    void aHandleMountWithoutAHandleIsRefused() {
        var e = assertThrows(
                StateFormatException.class,
                () -> read(withRecord(o -> o.varint(2)
                        .varint(1)
                        .u8(16)
                        .u8(Stat.S_IFREG >>> 12)
                        .varint(77)
                        .u32(5))));
        assertTrue(e.getMessage().contains("no handle"), e.getMessage());
    }

    @Test
    void aFileTypeBeyondTheModeBitsIsRefused() {
        var e = assertThrows(
                StateFormatException.class,
                () -> read(withRecord(o -> o.varint(2).varint(1).u8(0).u8(16).varint(77))));
        assertTrue(e.getMessage().contains("file type"), e.getMessage());
    }

    @Test
    void aTypeOfZeroParsesButTheStructureCheckRefusesIt() throws IOException {
        byte[] blob = withRecord(o -> o.varint(2).varint(1).u8(0).u8(0).varint(77));
        var e = assertThrows(FsStateCodec.StructureException.class, () -> read(blob));
        assertTrue(e.getMessage().contains("file type"), e.getMessage());
    }

    @Test
    void aHandleTypeBeyond32BitsIsRefused() {
        var e = assertThrows(
                StateFormatException.class,
                () -> read(withRecord(o -> o.varint(2)
                        .varint(1)
                        .u8(8)
                        .u8(Stat.S_IFREG >>> 12)
                        .varint(77)
                        .varint(1L << 32)
                        .bytes(new byte[] {9}))));
        assertTrue(e.getMessage().contains("handle type"), e.getMessage());
    }

    @Test
    void aNameThatIsNoComponentIsRefused() {
        var e = assertThrows(
                StateFormatException.class,
                () -> read(withRecord(o -> o.varint(2)
                        .varint(1)
                        .u8(4)
                        .u8(Stat.S_IFREG >>> 12)
                        .varint(77)
                        .varint(1)
                        .bytes("../x".getBytes(StandardCharsets.UTF_8)))));
        assertTrue(e.getMessage().contains("invalid name"), e.getMessage());
    }
}
