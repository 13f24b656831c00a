package io.jvhost.state;

import static io.jvhost.state.Blobs.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** A damaged blob must never load, not even partly: the device keeps the state it had. */
class IntegrityTest {
    static final SampleFs.State BEFORE = SampleFs.sample(new Random(42), 2, false, false);

    static byte[] smallBlob() throws IOException {
        return SampleFs.save(SampleFs.sample(new Random(1), 12, true, true), 2);
    }

    /** Over 64 KiB of inodes, so sections span several DATA frames. */
    static byte[] multiFrameBlob() throws IOException {
        return SampleFs.save(SampleFs.sample(new Random(2), 5000, true, true), 2);
    }

    static void assertRejectedWithoutCommit(SampleFs.Device device, byte[] damaged, String context, String fragment) {
        StateFormatException e = assertThrows(StateFormatException.class, () -> device.load(damaged), context);
        assertSame(StateFormatException.class, e.getClass());
        if (fragment != null) {
            assertTrue(e.getMessage().contains(fragment), () -> context + ": " + e.getMessage());
        }
        assertSame(BEFORE, device.state, context);
    }

    @Test
    void truncationAtEveryOffsetFailsAndCommitsNothing() throws IOException {
        byte[] blob = smallBlob();
        SampleFs.Device device = new SampleFs.Device(2, BEFORE);
        for (int cut = 0; cut < blob.length; cut++) {
            assertRejectedWithoutCommit(
                    device, Arrays.copyOf(blob, cut), "cut at " + cut + " of " + blob.length, "truncated");
        }
        device.load(blob);
        assertEquals(SampleFs.sample(new Random(1), 12, true, true), device.state);
    }

    @Test
    void truncationAroundEveryFrameBoundaryOfAMultiFrameBlob() throws IOException {
        byte[] blob = multiFrameBlob();
        assertTrue(blob.length > 2 * Wire.WRITER_CHUNK);
        TreeSet<Integer> cuts = new TreeSet<>();
        for (int i = 0; i + 4 < blob.length; i++) {
            // A DATA frame header: tag followed by a plausible length (cheap heuristic, extra cuts are harmless).
            if (blob[i] == 'D' && (blob[i + 3] | blob[i + 4]) == 0 && blob[i + 2] <= 1) {
                for (int d = -16; d <= 16; d++) {
                    cuts.add(Math.clamp(i + d, 0, blob.length - 1));
                }
            }
        }
        Random rnd = new Random(5);
        for (int i = 0; i < 400; i++) {
            cuts.add(rnd.nextInt(blob.length));
        }
        for (int i = 1; i <= 20; i++) {
            cuts.add(blob.length - i);
        }
        SampleFs.Device device = new SampleFs.Device(2, BEFORE);
        for (int cut : cuts) {
            assertRejectedWithoutCommit(device, Arrays.copyOf(blob, cut), "cut at " + cut, "truncated");
        }
    }

    @Test
    void everySingleBitFlipIsDetected() throws IOException {
        byte[] blob = smallBlob();
        SampleFs.Device device = new SampleFs.Device(2, BEFORE);
        for (int i = 0; i < blob.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] damaged = blob.clone();
                damaged[i] ^= (byte) (1 << bit);
                assertRejectedWithoutCommit(device, damaged, "bit " + bit + " of byte " + i, null);
            }
        }
    }

    @Test
    void everySingleBitFlipIsDetectedWhenDescribing() throws IOException {
        byte[] blob = smallBlob();
        for (int i = 0; i < blob.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] damaged = blob.clone();
                damaged[i] ^= (byte) (1 << bit);
                assertThrows(StateFormatException.class, () -> StateReader.describe(new ByteArrayInputStream(damaged)));
            }
        }
    }

    @Test
    void corruptionThatKeepsTheStructureIsCaughtByTheChecksum() throws IOException {
        byte[] blob = smallBlob();
        int at = indexOf(blob, "f\u00e97".getBytes(StandardCharsets.UTF_8));
        byte[] damaged = blob.clone();
        damaged[at] = 'g';
        assertRejectedWithoutCommit(new SampleFs.Device(2, BEFORE), damaged, "renamed inode", "CRC32C mismatch");
    }

    @Test
    void endMarkerChecks() throws IOException {
        StateReader r = StateReader.forDevice("dev").build();
        byte[] blob = RawBlob.header("dev").finish();
        byte[] withTrailer = Arrays.copyOf(blob, blob.length + 1);
        fails(r, withTrailer, "data after the end of state");

        byte[] wrongLength = blob.clone();
        wrongLength[blob.length - 12] ^= 1;
        fails(r, wrongLength, "end marker records");

        fails(r, RawBlob.header("dev").u8('S').unfinished(), "truncated");
        fails(r, RawBlob.header("dev").u8('D').le(1, 4).u8(0).finish(), "found field data where a section or the end");
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }
}
