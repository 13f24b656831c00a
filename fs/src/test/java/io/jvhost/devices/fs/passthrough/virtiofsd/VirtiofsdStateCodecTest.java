package io.jvhost.devices.fs.passthrough.virtiofsd;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState.Location;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** virtiofsd's wire format against blobs virtiofsd 1.13 wrote (see the resources' README) and hostile ones. */
class VirtiofsdStateCodecTest {
    static byte[] golden(String name) throws Exception {
        try (InputStream in = VirtiofsdStateCodecTest.class.getResourceAsStream(name)) {
            assertNotNull(in, name);
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"after-init-v2.bin", "lookups-v2.bin", "open-files-v2.bin"})
    void goldensDecodeAndReencodeByteForByte(String name) throws Exception {
        byte[] blob = golden(name);
        VirtiofsdState s = VirtiofsdStateCodec.decode(blob);
        assertEquals(VirtiofsdState.Version.V2, s.version());
        assertArrayEquals(blob, VirtiofsdStateCodec.encode(s));
        assertTrue(s.mountPaths().isEmpty(), "find-paths mode has no mount paths");
        VirtiofsdState.Inode root = s.inodes().getFirst();
        assertEquals(1, root.id());
        assertInstanceOf(Location.RootNode.class, root.location());
    }

    @Test
    void afterInitIsTheRootAlone() throws Exception {
        VirtiofsdState s = VirtiofsdStateCodec.decode(golden("after-init-v2.bin"));
        assertEquals(List.of(new VirtiofsdState.Inode(1, 2, new Location.RootNode(), null)), s.inodes());
        assertEquals(2, s.nextInode());
        assertEquals(0, s.nextHandle(), "virtiofsd counts handles from 0");
        assertEquals(new VirtiofsdState.NegotiatedOpts(false, false, false, false), s.negotiatedOpts());
    }

    @Test
    void lookupsCarryNamesAndRefcounts() throws Exception {
        VirtiofsdState s = VirtiofsdStateCodec.decode(golden("lookups-v2.bin"));
        assertEquals(
                List.of(
                        new VirtiofsdState.Inode(1, 4, new Location.RootNode(), null),
                        // sub: one lookup, plus the reference its child nested.txt holds
                        new VirtiofsdState.Inode(2, 2, new Location.Path(1, "sub"), null),
                        new VirtiofsdState.Inode(3, 1, new Location.Path(2, "nested.txt"), null),
                        new VirtiofsdState.Inode(4, 2, new Location.Path(1, "grüße ☃.txt"), null)),
                s.inodes());
        assertTrue(s.handles().isEmpty());
    }

    @Test
    void openFilesCarryHandlesWithTheirFlags() throws Exception {
        VirtiofsdState s = VirtiofsdStateCodec.decode(golden("open-files-v2.bin"));
        assertEquals(6, s.handles().size());
        assertTrue(s.negotiatedOpts().supGroupExtension());
        long directories = s.handles().stream()
                .filter(h -> (((VirtiofsdState.HandleSource.OpenInode) h.source()).flags() & 0200000) != 0)
                .count();
        assertEquals(1, directories, "OPENDIR's handle has O_DIRECTORY");
        assertTrue(
                s.inodes().stream()
                        .anyMatch(n -> n.location() instanceof Location.Path p
                                && p.filename().equals("moved.txt")),
                "the file renamed on the host is found under its new name");
    }

    /** virtiofsd up to 1.10 wrote V1: V2 without mount paths, variant 0. */
    static byte[] asV1(byte[] v2) {
        assertEquals(1, v2[0]);
        assertEquals(0, v2[v2.length - 1], "no mount paths");
        byte[] v1 = Arrays.copyOf(v2, v2.length - 1);
        v1[0] = 0;
        return v1;
    }

    @Test
    void v1DecodesAndReencodes() throws Exception {
        byte[] v1 = asV1(golden("open-files-v2.bin"));
        VirtiofsdState s = VirtiofsdStateCodec.decode(v1);
        assertEquals(VirtiofsdState.Version.V1, s.version());
        assertEquals(VirtiofsdStateCodec.decode(golden("open-files-v2.bin")).inodes(), s.inodes());
        assertArrayEquals(v1, VirtiofsdStateCodec.encode(s));
    }

    @Test
    void everyTruncationIsRefused() throws Exception {
        byte[] blob = golden("open-files-v2.bin");
        for (int n = 0; n < blob.length; n++) {
            byte[] cut = Arrays.copyOf(blob, n);
            assertThrows(VirtiofsdFormatException.class, () -> VirtiofsdStateCodec.decode(cut), "length " + n);
        }
    }

    @Test
    void randomCorruptionDecodesOrIsRefusedNeverWorse() throws Exception {
        byte[] blob = golden("open-files-v2.bin");
        Random rnd = new Random(13);
        int refused = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] c = blob.clone();
            for (int k = 1 + rnd.nextInt(4); k > 0; k--) c[rnd.nextInt(c.length)] = (byte) rnd.nextInt(256);
            try {
                VirtiofsdState s = VirtiofsdStateCodec.decode(c);
                assertArrayEquals(c, VirtiofsdStateCodec.encode(s), "what decodes re-encodes the same");
            } catch (VirtiofsdFormatException e) {
                refused++;
            }
        }
        assertTrue(refused > 1000, "most corruptions are caught: " + refused);
    }

    @Test
    void hugeLengthsAreRefusedBeforeAllocating() {
        // V2, 2^63 inodes
        byte[] b = {
            1,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            (byte) 0xFF,
            0x7F
        };
        var e = assertThrows(VirtiofsdFormatException.class, () -> VirtiofsdStateCodec.decode(b));
        assertTrue(e.getMessage().contains("inodes"), e.getMessage());
        // a name of 2^31 bytes
        byte[] name = {1, 1, 2, 1, 1, 1, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x08};
        assertThrows(VirtiofsdFormatException.class, () -> VirtiofsdStateCodec.decode(name));
    }

    @Test
    void malformedPrimitivesAreRefused() throws Exception {
        byte[] ok = golden("after-init-v2.bin"); // 01 01 01 02 00 00 02 00 00 00 00 00 00 00
        VirtiofsdStateCodec.decode(ok);
        refused(set(ok, 0, 2), "unknown variant");
        refused(set(ok, 4, 5), "unknown variant"); // InodeLocation
        refused(set(ok, 5, 2), "Option tag");
        refused(set(ok, 10, 2), "bool");
        refused(new byte[] {1, (byte) 0x81, 0x00}, "non-canonical");
        refused(new byte[] {(byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x10}, "too large");
        refused(Arrays.copyOf(ok, ok.length + 1), "after the state");
        refused(new byte[0], "empty");
        // V2 with mount paths {5: "a", 5: "b"}
        byte[] dup = Arrays.copyOf(ok, ok.length + 6);
        System.arraycopy(new byte[] {2, 5, 1, 'a', 5, 1, 'b'}, 0, dup, ok.length - 1, 7);
        refused(dup, "twice");
        // a filename that is not UTF-8
        refused(new byte[] {1, 1, 2, 1, 1, 1, 1, (byte) 0xFF, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0}, "not UTF-8");
    }

    @Test
    void signedAndWideValuesRoundTrip() throws Exception {
        var fh = new VirtiofsdState.FileHandle(-1L, Integer.MIN_VALUE, new byte[] {1, 2, 3});
        VirtiofsdState s = new VirtiofsdState(
                VirtiofsdState.Version.V2,
                List.of(
                        new VirtiofsdState.Inode(1, 2, new Location.RootNode(), fh),
                        new VirtiofsdState.Inode(2, Long.MAX_VALUE, new Location.ByFileHandle(fh), null),
                        new VirtiofsdState.Inode(3, 0, new Location.Invalid(), null),
                        new VirtiofsdState.Inode(4, 1, new Location.FullPath("a/b"), null)),
                5,
                List.of(
                        new VirtiofsdState.Handle(0, 2, new VirtiofsdState.HandleSource.OpenInode(-1)),
                        new VirtiofsdState.Handle(1, 2, new VirtiofsdState.HandleSource.OpenInode(Integer.MAX_VALUE))),
                2,
                new VirtiofsdState.NegotiatedOpts(true, false, true, false),
                List.of(new VirtiofsdState.MountPath(-1L, ""), new VirtiofsdState.MountPath(7, "mnt/x")));
        byte[] b = VirtiofsdStateCodec.encode(s);
        assertEquals(s, VirtiofsdStateCodec.decode(b));
        assertArrayEquals(b, VirtiofsdStateCodec.encode(VirtiofsdStateCodec.decode(b)));
    }

    @Test
    void readRefusesAStreamPastTheLimit() {
        InputStream endless = new InputStream() {
            @Override
            public int read() {
                return 0;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                return len;
            }
        };
        assertThrows(VirtiofsdFormatException.class, () -> VirtiofsdStateCodec.readBounded(endless, 1 << 16));
        assertDoesNotThrow(() -> VirtiofsdStateCodec.read(new ByteArrayInputStream(golden("lookups-v2.bin"))));
    }

    private static byte[] set(byte[] b, int at, int v) {
        byte[] c = b.clone();
        c[at] = (byte) v;
        return c;
    }

    private static void refused(byte[] b, String why) {
        var e = assertThrows(VirtiofsdFormatException.class, () -> VirtiofsdStateCodec.decode(b));
        assertTrue(e.getMessage().contains(why), why + ": " + e.getMessage());
    }
}
