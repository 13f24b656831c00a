package io.jvhost.devices.synthetic;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.backend.StatefulDevice;
import io.jvhost.state.StateFormatException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SyntheticStateDeviceTest {

    private static byte[] save(SyntheticStateDevice d) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        d.captureState().writeTo(out);
        return out.toByteArray();
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 7, 8, 65536, 65537, 200_000})
    void aSavedStateLoadsIntoAnotherDeviceWithTheGeneratorsCrc(long size) throws Exception {
        SyntheticStateDevice a = new SyntheticStateDevice(size, 99);
        byte[] blob = save(a);
        int expected = new SyntheticContent(99, size).crc32c();
        assertEquals(Optional.of(new SyntheticStateDevice.Saved(blob.length, expected)), a.lastSave());

        SyntheticStateDevice b = SyntheticStateDevice.empty();
        StatefulDevice.PreparedState prepared = b.prepareLoad(new ByteArrayInputStream(blob));
        assertEquals(0, b.held().size(), "nothing changes before the commit");
        prepared.commit();
        assertEquals(new SyntheticStateDevice.Held(99, size, Optional.of(expected)), b.held());
        assertEquals(1, b.commits());
    }

    @Test
    void aFlippedContentByteIsRejectedAndTheDeviceKeepsItsState() throws Exception {
        byte[] blob = save(new SyntheticStateDevice(100_000, 5));
        blob[blob.length / 2] ^= 0x10;
        SyntheticStateDevice b = new SyntheticStateDevice(10, 1);
        assertThrows(StateFormatException.class, () -> b.prepareLoad(new ByteArrayInputStream(blob)));
        assertEquals(new SyntheticStateDevice.Held(1, 10, Optional.empty()), b.held());
        assertEquals(0, b.commits());
    }

    @Test
    void contentDependsOnSeedAndBlocksDiffer() {
        SyntheticContent c = new SyntheticContent(1, 3L * SyntheticContent.BLOCK);
        byte[] x = new byte[SyntheticContent.BLOCK];
        byte[] y = new byte[SyntheticContent.BLOCK];
        c.generate(0, x);
        c.generate(1, y);
        assertFalse(java.util.Arrays.equals(x, y));
        assertEquals(1, SyntheticContent.storedIndex(y, y.length));
        assertNotEquals(c.crc32c(), new SyntheticContent(2, c.size()).crc32c());
    }

    @Test
    void theStreamIsTheGeneratedBlocksWhateverTheReadSizes() throws Exception {
        SyntheticContent c = new SyntheticContent(7, 3L * SyntheticContent.BLOCK + 1234);
        ByteArrayOutputStream generated = new ByteArrayOutputStream();
        byte[] block = new byte[SyntheticContent.BLOCK];
        for (long i = 0; i < c.blocks(); i++) {
            c.generate(i, block);
            generated.write(block, 0, c.length(i));
        }
        byte[] expected = generated.toByteArray();
        for (int piece : new int[] {1, 1000, SyntheticContent.BLOCK, SyntheticContent.BLOCK + 3, 1 << 20}) {
            ByteArrayOutputStream streamed = new ByteArrayOutputStream();
            try (java.io.InputStream in = c.stream()) {
                byte[] buf = new byte[piece + 5];
                for (int n; (n = in.read(buf, 5, piece)) > 0; ) streamed.write(buf, 5, n);
                assertEquals(-1, in.read());
            }
            assertArrayEquals(expected, streamed.toByteArray(), "reads of " + piece + " bytes");
        }
    }
}
