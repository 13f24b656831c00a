package io.jvhost.state;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** How the state format's bytes reach the channel: in full 64 KiB writes, whatever the framing. */
class BlobOutputTest {
    /** Records each write's size and keeps the bytes. */
    private static final class Recording extends OutputStream {
        final List<Integer> writes = new ArrayList<>();
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public void write(int b) {
            writes.add(1);
            bytes.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            writes.add(len);
            bytes.write(b, off, len);
        }
    }

    @Test
    void aFramesHeaderLeavesWithItsDataInFullWrites() throws Exception {
        Recording channel = new Recording();
        BlobOutput out = new BlobOutput(channel);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        Random random = new Random(7);
        for (int frame = 0; frame < 20; frame++) {
            int header = 1 + random.nextInt(9), data = frame % 3 == 0 ? 1 << 16 : 1 + random.nextInt(3 << 16);
            for (int i = 0; i < header; i++) {
                out.u8(i);
                expected.write(i);
            }
            byte[] payload = new byte[data];
            random.nextBytes(payload);
            out.write(payload, 0, payload.length);
            expected.write(payload, 0, payload.length);
        }
        int crc = out.crc();
        out.flush();
        assertArrayEquals(expected.toByteArray(), channel.bytes.toByteArray(), "the same bytes, in order");
        CRC32C c = new CRC32C();
        c.update(expected.toByteArray());
        assertEquals((int) c.getValue(), crc, "the CRC covers every byte once");
        for (int i = 0; i < channel.writes.size() - 1; i++) {
            assertEquals(true, channel.writes.get(i) >= 1 << 16, "write " + i + " of " + channel.writes);
        }
    }
}
