package io.jvhost.devices.fs.passthrough;

import static io.jvhost.devices.fs.passthrough.DeltaInodes.F_HANDLE;
import static io.jvhost.devices.fs.passthrough.DeltaInodes.F_HANDLE_DIFF;
import static io.jvhost.devices.fs.passthrough.DeltaInodes.F_LOCATION;
import static io.jvhost.devices.fs.passthrough.DeltaInodes.F_SAME_HANDLE_TYPE;
import static io.jvhost.devices.fs.passthrough.DeltaInodes.F_SAME_LOOKUPS;
import static io.jvhost.devices.fs.passthrough.DeltaInodes.F_SAME_PARENT;
import static io.jvhost.devices.fs.passthrough.DeltaInodes.F_SAME_TYPE;
import static io.jvhost.devices.fs.passthrough.FsStateCodecTest.DEV;
import static io.jvhost.devices.fs.passthrough.FsStateCodecTest.HANDLE_MOUNT;
import static io.jvhost.devices.fs.passthrough.FsStateCodecTest.MOUNT;
import static io.jvhost.devices.fs.passthrough.FsStateCodecTest.at;
import static io.jvhost.devices.fs.passthrough.FsStateCodecTest.blob;
import static io.jvhost.devices.fs.passthrough.FsStateCodecTest.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.Stat;
import io.jvhost.state.SectionOutput;
import io.jvhost.state.StateFormatException;
import io.jvhost.state.StateWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The "inodes" v3 records, each coded against the one before: round trips, refusals, size, records encoded ahead. */
class DeltaInodesTest {
    private static final String LONG = "entry-with-a-rather-long-name-to-fill-the-pipe-";

    /** As ext4 gives them (FILEID_INO32_GEN): the inode number and its generation, little-endian. */
    private static FileHandle ext4(long ino, int generation) {
        byte[] b = new byte[8];
        for (int i = 0; i < 4; i++) {
            b[i] = (byte) (ino >>> (8 * i));
            b[4 + i] = (byte) (generation >>> (8 * i));
        }
        return new FileHandle(HANDLE_MOUNT, 1, b);
    }

    private static FsSnapshot.InodeState node(long id, long lookups, long ino, int type, Location loc, FileHandle h) {
        return new FsSnapshot.InodeState(id, lookups, DEV, ino, MOUNT, type, loc, h);
    }

    private static String repeat(char c, int n) {
        return String.valueOf(c).repeat(n);
    }

    /** Every kind of record, and every way one can resemble the record before it or not. */
    static FsSnapshot rich() {
        byte[] big = new byte[128];
        new Random(7).nextBytes(big);
        byte[] bigger = big.clone();
        bigger[77] ^= 1;
        List<FsSnapshot.InodeState> n = new ArrayList<>();
        n.add(node(1, 1, 2, Stat.S_IFDIR, null, ext4(2, 0))); // the root, first against the zero record
        n.add(node(2, 1, 12, Stat.S_IFDIR, at(1, "d"), ext4(12, 5)));
        n.add(node(5, 1, 13, Stat.S_IFREG, at(2, repeat('a', 255)), ext4(13, 6))); // ids with a gap, NAME_MAX
        n.add(node(6, 2, 14, Stat.S_IFREG, at(2, repeat('a', 254) + "b"), ext4(14, 6))); // 254 bytes shared
        n.add(node(7, 2, 11, Stat.S_IFREG, at(2, repeat('a', 254) + "b"), ext4(11, 6))); // the same name, ino back
        n.add(node(8, 1, 15, Stat.S_IFLNK, at(1, "a"), null)); // a shorter name, the root again, no handle
        n.add(node(9, 3, 16, Stat.S_IFREG, null, ext4(16, -1))); // unlinked, a handle after none
        n.add(node(10, 1, -1L, Stat.S_IFREG, at(1, "x"), null)); // ino 2^64 - 1
        n.add(new FsSnapshot.InodeState( // ino wraps to 0; a submount: other dev, mount, handle mount and type
                11, 1, 0x900, 0, 99, Stat.S_IFDIR, at(1, "sub"), new FileHandle(99, 0x4d, new byte[20])));
        n.add(new FsSnapshot.InodeState(
                12, 1, 0x900, 1, 99, Stat.S_IFDIR, at(11, "sub2"), new FileHandle(99, 0x4d, new byte[20])));
        n.add(node(13, 1, 20, Stat.S_IFREG, at(11, "big"), new FileHandle(HANDLE_MOUNT, 0x81, big)));
        n.add(node(14, 1, 21, Stat.S_IFREG, at(11, "bigger"), new FileHandle(HANDLE_MOUNT, 0x81, bigger)));
        n.add(node(15, 1, 22, Stat.S_IFIFO, at(11, "fifo"), null));
        n.add(node(16, 1, 23, Stat.S_IFREG, at(11, "empty-handle"), new FileHandle(HANDLE_MOUNT, 0, new byte[0])));
        n.add(node(17, 0, 24, Stat.S_IFREG, at(11, "no-lookups"), new FileHandle(HANDLE_MOUNT, 0, new byte[3])));
        n.add(node(18, Long.MAX_VALUE, Long.MIN_VALUE, Stat.S_IFSOCK, at(1, "s"), ext4(3, 3)));
        n.add(node(19, 1, Long.MAX_VALUE, Stat.S_IFCHR, at(1, "\u00e9t\u00e9"), ext4(4, 4)));
        n.add(node(1L << 40, 1, 5, Stat.S_IFBLK, at(1, "\u00e9t\u00e9-2"), ext4(5, 4))); // a long jump of ids
        n.add(node(Long.MAX_VALUE - 1, 1, 6, Stat.S_IFREG, at(1, "last"), ext4(6, 4)));
        return new FsSnapshot(Long.MAX_VALUE, 1, 0, n, List.of());
    }

    @Test
    void everyKindOfRecordComesBackAsItWas() throws Exception {
        FsSnapshot snap = rich();
        assertEquals(snap.inodes(), read(blob(snap)).snapshot().inodes());
    }

    @Test
    void recordsEncodedAheadAreTheBytesOfAFreshEncode() throws IOException {
        FsSnapshot snap = rich();
        assertArrayEquals(blob(snap), blob(snap, FsStateCodecTest.encodedAhead(snap)));
    }

    @Test
    void idsThatDoNotAscendCannotBeWritten() {
        FsSnapshot.InodeState root = node(1, 1, 2, Stat.S_IFDIR, null, null),
                f = node(2, 1, 3, Stat.S_IFREG, null, null);
        for (List<FsSnapshot.InodeState> nodes : List.of(List.of(root, f, f), List.of(root, f, root))) {
            var e = assertThrows(IllegalArgumentException.class, () -> blob(new FsSnapshot(3, 1, 0, nodes, List.of())));
            assertTrue(e.getMessage().contains("ids must ascend"), e.getMessage());
        }
    }

    /** A share as FsMigrationDowntimeQemuTest has it: 1,000 files of one directory, 51-byte names with a counter, ext4 handles. */
    @Test
    void sequentialFilesTakeAFifthOfTheSecondLayout() throws IOException {
        Random random = new Random(42);
        List<FsSnapshot.InodeState> nodes = new ArrayList<>(List.of(node(1, 1, 2, Stat.S_IFDIR, null, ext4(2, 0))));
        for (int i = 2; i < 1002; i++) {
            long ino = 1_000_000 + i;
            nodes.add(
                    node(i, 1, ino, Stat.S_IFREG, at(1, LONG + String.format("%04d", i)), ext4(ino, random.nextInt())));
        }
        FsSnapshot snap = new FsSnapshot(1002, 1, 0, nodes, List.of());
        int v2 = OlderInodeLayouts.blob(snap, 2, DEV, 2).length, v3 = blob(snap).length;
        assertTrue(v3 * 5 < v2, "v3 " + v3 + " bytes, v2 " + v2);
    }

    /**
     * The save at the stop with records encoded while the guest ran, then records changed,
     * inserted and removed: pieces made from what is left of the old records (runs of them that
     * still follow the record they were coded after, a random quarter of them encoded at the save
     * anyway), and pieces whose runs follow other records: byte for byte what a fresh encode writes.
     */
    @Test
    void recordsEncodedAheadOfRandomChangesAreWrittenAsAFreshEncode() throws Exception {
        Random random = new Random(20261203);
        for (int round = 0; round < 300; round++) {
            FsSnapshot before = randomShare(random);
            FsSnapshot after = changed(random, before);
            byte[] fresh = blob(after);
            assertArrayEquals(fresh, blob(after, pieces(random, before, after, true)), "round " + round);
            assertArrayEquals(fresh, blob(after, pieces(random, before, after, false)), "round " + round + ", stale");
            assertEquals(after.inodes(), parsed(fresh), "round " + round);
        }
    }

    /**
     * Pieces of {@code after}: {@code before}'s records encoded ahead, one run per record kept, and
     * the others fresh. {@code valid}: a record is in a run only if it still follows the record it
     * was coded after; otherwise the runs are taken as they come (the save must not use them).
     */
    private static FsStateCodec.EncodedInodes pieces(Random random, FsSnapshot before, FsSnapshot after, boolean valid)
            throws IOException {
        List<FsSnapshot.InodeState> old = before.inodes(), now = after.inodes();
        FsStateCodec.InodeEncoder encoder = new FsStateCodec.InodeEncoder(old.getFirst());
        java.util.IdentityHashMap<FsSnapshot.InodeState, Integer> at = new java.util.IdentityHashMap<>();
        for (int j = 0; j < old.size(); j++) at.put(old.get(j), j);
        List<FsStateCodec.Piece> pieces = new ArrayList<>();
        for (int i = 0; i < now.size(); i++) {
            Integer j = at.get(now.get(i));
            boolean follows = j != null && (j == 0 ? i == 0 : i > 0 && now.get(i - 1) == old.get(j - 1));
            if (j != null && (follows || !valid) && random.nextInt(4) != 0)
                pieces.add(FsStateCodecTest.encodedAhead(encoder, old, j, j + 1));
            else pieces.add(new FsStateCodec.Fresh(now.get(i)));
        }
        return new FsStateCodec.EncodedInodes(encoder.defaults(), pieces);
    }

    /** The records as parsed, without the structure check (random parents need not be directories). */
    private static List<?> parsed(byte[] blob) throws IOException {
        io.jvhost.state.StateReader.Builder b = io.jvhost.state.StateReader.forDevice("virtio-fs");
        FsStateCodec.register(b);
        return b.build().readAll(new java.io.ByteArrayInputStream(blob)).get(FsStateCodec.INODES, List.class);
    }

    private static FsSnapshot randomShare(Random random) {
        List<FsSnapshot.InodeState> nodes = new ArrayList<>(List.of(node(1, 1, 2, Stat.S_IFDIR, null, ext4(2, 0))));
        long id = 1;
        for (int i = 0, n = random.nextInt(40); i < n; i++) {
            id += 1 + random.nextInt(3);
            nodes.add(randomNode(random, id, nodes));
        }
        return new FsSnapshot(id + 10, 1, 0, nodes, List.of());
    }

    private static FsSnapshot.InodeState randomNode(Random random, long id, List<FsSnapshot.InodeState> existing) {
        long parent = random.nextInt(3) == 0
                ? existing.get(random.nextInt(existing.size())).nodeId()
                : 1;
        Location loc = random.nextInt(8) == 0
                ? null
                : at(parent, LONG.substring(random.nextInt(LONG.length())) + random.nextInt(30));
        FileHandle h = switch (random.nextInt(6)) {
            case 0 -> null;
            case 1 ->
                new FileHandle(random.nextInt(3) == 0 ? 99 : HANDLE_MOUNT, 0x4d, new byte[12 + random.nextInt(2)]);
            default -> ext4(1000 + id + random.nextInt(2), random.nextInt(3));
        };
        long dev = random.nextInt(10) == 0 ? 0x900 : DEV;
        int type = random.nextInt(3) == 0 ? Stat.S_IFDIR : Stat.S_IFREG;
        return new FsSnapshot.InodeState(
                id, 1 + random.nextInt(2), dev, 1000 + id + random.nextInt(3), MOUNT, type, loc, h);
    }

    /** {@code s} with some records replaced (new instances, some equal), some removed, some new ids inserted. */
    private static FsSnapshot changed(Random random, FsSnapshot s) {
        List<FsSnapshot.InodeState> out = new ArrayList<>();
        List<FsSnapshot.InodeState> in = s.inodes();
        for (int i = 0; i < in.size(); i++) {
            FsSnapshot.InodeState n = in.get(i);
            long nextId = i + 1 < in.size() ? in.get(i + 1).nodeId() : s.nextNodeId();
            switch (i == 0 ? 0 : random.nextInt(8)) {
                case 1 -> {} // removed
                case 2 -> out.add(randomNode(random, n.nodeId(), in)); // changed
                case 3 ->
                    out.add(new FsSnapshot.InodeState( // an equal copy: another record all the same
                            n.nodeId(),
                            n.lookups(),
                            n.dev(),
                            n.ino(),
                            n.mountId(),
                            n.fileType(),
                            n.location(),
                            n.fileHandle()));
                default -> out.add(n);
            }
            if (nextId > n.nodeId() + 1 && random.nextInt(5) == 0) out.add(randomNode(random, n.nodeId() + 1, in));
        }
        return new FsSnapshot(s.nextNodeId(), 1, 0, out, List.of());
    }

    // ---- Hand-made v3 sections: what a hostile or broken source could send.

    @FunctionalInterface
    private interface Fields {
        void write(SectionOutput o) throws IOException;
    }

    /** A blob whose "inodes" v3 section holds the root's record (id 1, lookups 1, a directory, ino 2) then {@code records}. */
    private static byte[] v3(Fields... records) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(out, "virtio-fs");
        w.section(
                FsStateCodec.PASSTHROUGH,
                1,
                1,
                o -> o.varint(1L << 20).varint(1).u64(0).u8(0).u64(DEV).u64(2));
        w.section(FsStateCodec.INODES, 3, 3, o -> {
            o.u64(DEV).u64(MOUNT).u32(HANDLE_MOUNT).count(1 + records.length);
            o.varint(1).varint(0).varint(1).u8(Stat.S_IFDIR >>> 12).varint(DeltaInodes.zigzag(2));
            for (Fields r : records) r.write(o);
        });
        w.section(FsStateCodec.HANDLES, 1, 1, o -> o.count(0));
        w.finish();
        return out.toByteArray();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The record after the root's of a regular file named {@code name} in the root, prefix 0. */
    private static Fields file(String name) {
        return o -> o.varint(1)
                .varint(F_LOCATION | F_SAME_LOOKUPS)
                .u8(Stat.S_IFREG >>> 12)
                .varint(DeltaInodes.zigzag(1))
                .varint(1)
                .varint(0)
                .bytes(b(name));
    }

    /** A record after {@link #file}'s: another file of the root, its name {@code shared} bytes of that one's and {@code suffix}. */
    private static Fields sibling(long shared, String suffix) {
        return o -> o.varint(1)
                .varint(F_LOCATION | F_SAME_PARENT | F_SAME_LOOKUPS | F_SAME_TYPE)
                .varint(DeltaInodes.zigzag(1))
                .varint(shared)
                .bytes(b(suffix));
    }

    private static String refused(byte[] blob) {
        return assertThrows(StateFormatException.class, () -> read(blob)).getMessage();
    }

    @Test
    void handMadeRecordsLoad() throws Exception {
        List<FsSnapshot.InodeState> nodes =
                read(v3(file("abc"), sibling(2, "x"))).snapshot().inodes();
        assertEquals(
                List.of(
                        node(1, 1, 2, Stat.S_IFDIR, null, null),
                        node(2, 1, 3, Stat.S_IFREG, at(1, "abc"), null),
                        node(3, 1, 4, Stat.S_IFREG, at(1, "abx"), null)),
                nodes);
    }

    @Test
    void anIdDeltaOfZeroIsRefused() throws IOException {
        String m =
                refused(v3(o -> o.varint(0).varint(F_SAME_LOOKUPS | F_SAME_TYPE).varint(0)));
        assertTrue(m.contains("after node 1 has id delta 0"), m);
    }

    @Test
    void aNegativeIdDeltaIsRefused() throws IOException {
        String m = refused(
                v3(o -> o.varint(-1L).varint(F_SAME_LOOKUPS | F_SAME_TYPE).varint(0)));
        assertTrue(m.contains("after node 1 has id delta 18446744073709551615"), m);
    }

    @Test
    void anIdBeyondLongMaxIsRefused() throws IOException {
        String m = refused(v3(o ->
                o.varint(Long.MAX_VALUE).varint(F_SAME_LOOKUPS | F_SAME_TYPE).varint(0)));
        assertTrue(m.contains("ids must ascend"), m);
    }

    @Test
    void aPrefixLongerThanThePreviousNameIsRefused() throws IOException {
        String m = refused(v3(file("ab"), sibling(3, "")));
        assertTrue(m.contains("node 3 shares 3 bytes with the previous record's name of 2"), m);
    }

    @Test
    void aPrefixAfterARecordWithoutANameIsRefused() throws IOException {
        String m = refused(v3(o -> o.varint(1)
                .varint(F_LOCATION | F_SAME_LOOKUPS)
                .u8(Stat.S_IFREG >>> 12)
                .varint(0)
                .varint(1)
                .varint(1)
                .bytes(b("x"))));
        assertTrue(m.contains("node 2 shares 1 bytes with the previous record's name of 0"), m);
    }

    @Test
    void aPrefixAndSuffixOverNameMaxAreRefused() throws IOException {
        String m = refused(v3(file(repeat('a', 255)), sibling(255, "b")));
        assertTrue(m.contains("node 3 has a name of 256 bytes, over 255"), m);
        String m2 = refused(v3(file(repeat('a', 100)), sibling(50, repeat('c', 206))));
        assertTrue(m2.contains("node 3 has a name of 256 bytes"), m2);
    }

    @Test
    void aReassembledNameThatIsNoComponentIsRefused() throws IOException {
        String m = refused(v3(file("..x"), sibling(2, ""))); // ".." from valid parts
        assertTrue(m.contains("node 3 has an invalid name"), m);
        String m2 = refused(v3(file("ab"), sibling(1, "/c")));
        assertTrue(m2.contains("node 3 has an invalid name"), m2);
    }

    @Test
    void anInoDeltaBeyond64BitsIsRefused() throws IOException {
        byte[] over = {-1, -1, -1, -1, -1, -1, -1, -1, -1, 2}; // 2^64 and more
        String m =
                refused(v3(o -> o.varint(1).varint(F_SAME_LOOKUPS | F_SAME_TYPE).encoded(over)));
        assertTrue(m.contains("varint overflows 64 bits"), m);
    }

    @Test
    void unknownFlagsAreRefused() throws IOException {
        String m = refused(v3(o -> o.varint(1).varint(1024)));
        assertTrue(m.contains("node 2 has unknown flags 400"), m);
    }

    @Test
    void thePreviousParentWithoutALocationIsRefused() throws IOException {
        String m = refused(v3(o ->
                o.varint(1).varint(F_SAME_PARENT | F_SAME_LOOKUPS | F_SAME_TYPE).varint(0)));
        assertTrue(m.contains("node 2 has the previous parent but no location"), m);
    }

    @Test
    void handleFieldsWithoutAHandleAreRefused() throws IOException {
        for (int f : new int[] {F_SAME_HANDLE_TYPE, F_HANDLE_DIFF, DeltaInodes.F_HANDLE_MOUNT}) {
            String m = refused(
                    v3(o -> o.varint(1).varint(f | F_SAME_LOOKUPS | F_SAME_TYPE).varint(0)));
            assertTrue(m.contains("node 2 has handle fields but no handle"), m);
        }
    }

    @Test
    void aFileTypeBeyondTheModeBitsIsRefused() throws IOException {
        String m = refused(v3(o -> o.varint(1).varint(F_SAME_LOOKUPS).u8(16).varint(0)));
        assertTrue(m.contains("node 2 has file type 16"), m);
    }

    @Test
    void aHandleTypeBeyond32BitsIsRefused() throws IOException {
        String m = refused(v3(o -> o.varint(1)
                .varint(F_HANDLE | F_SAME_LOOKUPS | F_SAME_TYPE)
                .varint(0)
                .varint(1L << 32)
                .bytes(new byte[] {9})));
        assertTrue(m.contains("node 2 has handle type 4294967296"), m);
    }

    @Test
    void aHandleOverTheLimitIsRefused() throws IOException {
        String m = refused(v3(o -> o.varint(1)
                .varint(F_HANDLE | F_SAME_HANDLE_TYPE | F_SAME_LOOKUPS | F_SAME_TYPE)
                .varint(0)
                .bytes(new byte[129])));
        assertTrue(m.contains("exceeds the limit of 128"), m);
    }

    @Test
    void aHandleDiffMarkingBytesBeyondThePreviousHandleIsRefused() throws Exception {
        Fields first = o -> o.varint(1)
                .varint(F_HANDLE | F_SAME_LOOKUPS | F_SAME_TYPE)
                .varint(0)
                .varint(1)
                .bytes(new byte[] {1, 2, 3});
        byte[] ok = v3(
                first,
                o -> o.varint(1)
                        .varint(F_HANDLE | F_SAME_HANDLE_TYPE | F_HANDLE_DIFF | F_SAME_LOOKUPS | F_SAME_TYPE)
                        .varint(0)
                        .u8(0b100)
                        .u8(9));
        assertEquals(
                new FileHandle(HANDLE_MOUNT, 1, new byte[] {1, 2, 9}),
                read(ok).snapshot().inodes().get(2).fileHandle());
        String m = refused(v3(
                first,
                o -> o.varint(1)
                        .varint(F_HANDLE | F_SAME_HANDLE_TYPE | F_HANDLE_DIFF | F_SAME_LOOKUPS | F_SAME_TYPE)
                        .varint(0)
                        .u8(0b1000)
                        .u8(9)));
        assertTrue(m.contains("node 3 marks handle bytes beyond the previous handle's 3"), m);
    }

    @Test
    void aDiffedHandleAfterNoneIsEmpty() throws Exception {
        byte[] blob = v3(o -> o.varint(1)
                .varint(F_HANDLE | F_SAME_HANDLE_TYPE | F_HANDLE_DIFF | F_SAME_LOOKUPS | F_SAME_TYPE)
                .varint(0));
        FileHandle h = read(blob).snapshot().inodes().get(1).fileHandle();
        assertEquals(0, h.type());
        assertArrayEquals(new byte[0], h.bytes());
        assertTrue(Arrays.equals(new byte[0], h.bytes()));
    }
}
