package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TransferTimelineTest {
    @Test
    void describesEveryPhaseInOrderWithItsDetailAndTheTotal() {
        TransferTimeline t = new TransferTimeline("rings stopped", System.nanoTime() - 5_000_000);
        t.mark("capture");
        t.mark("bytes written", "42 bytes");
        t.mark("EOF");
        t.mark("CHECK");
        String s = t.describe();
        assertTrue(
                s.matches("rings stopped → capture (\\d+\\.\\d\\d) ms → bytes written \\d+\\.\\d\\d ms \\(42 bytes\\)"
                        + " → EOF \\d+\\.\\d\\d ms → CHECK \\d+\\.\\d\\d ms; \\d+\\.\\d\\d ms in all"),
                s);
        assertTrue(Double.parseDouble(s.replaceAll(".*; (\\S+) ms in all", "$1")) >= 5.0, s);
    }
}
