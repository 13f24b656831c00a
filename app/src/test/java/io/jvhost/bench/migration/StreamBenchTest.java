package io.jvhost.bench.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The benchmark's plumbing on a small state; its numbers are not checked, only that it measures what it says. */
class StreamBenchTest {

    @Test
    void sizesAcceptBinaryUnits() {
        assertEquals(512L << 20, StreamBench.parseSize("512M"));
        assertEquals(1L << 30, StreamBench.parseSize("1G"));
        assertEquals(1L << 30, StreamBench.parseSize("1GiB"));
        assertEquals(64L << 10, StreamBench.parseSize("64k"));
        assertEquals(1000, StreamBench.parseSize("1000"));
        assertThrows(IllegalArgumentException.class, () -> StreamBench.parseSize("lots"));
        assertThrows(IllegalArgumentException.class, () -> StreamBench.parseSize("-1G"));
    }

    @Test
    void smallRunPrintsOneRowPerTransfer() throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        List<StreamBench.Row> rows =
                new StreamBench(new PrintStream(text, true, StandardCharsets.UTF_8), 256 * 1024).run(8L << 20, 1, 3);
        assertEquals(
                List.of("raw pipe (nativeio)", "raw TCP, 1 socket", "stream, 1 channel", "stream, 3 channels"),
                rows.stream().map(StreamBench.Row::what).toList());
        for (StreamBench.Row r : rows) {
            assertEquals(8L << 20, r.bytes());
            assertTrue(r.mibPerSecond() > 0);
        }
        String table = text.toString(StandardCharsets.UTF_8);
        assertTrue(table.contains("stream, 3 channels") && table.contains("vs TCP"), table);
    }
}
