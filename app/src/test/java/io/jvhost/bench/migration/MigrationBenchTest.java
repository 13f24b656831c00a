package io.jvhost.bench.migration;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs the benchmark on a tiny state: every row present, every transfer verified. No timing checks. */
class MigrationBenchTest {

    @Test
    void aTinyRunMeasuresAndVerifiesEveryTransfer() throws Exception {
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        long size = 3 * 64 * 1024 + 123; // a short last block
        MigrationBench.Result result;
        try (PrintStream out = new PrintStream(printed, true, StandardCharsets.UTF_8)) {
            result = new MigrationBench(out, 16 * 1024, 2).run(size, 1, 2, 4);
        }
        String text = printed.toString(StandardCharsets.UTF_8);

        List<String> rows = result.rows().stream().map(MigrationBench.Row::what).toList();
        assertEquals(
                List.of(
                        "raw pipe (nativeio)",
                        "raw TCP, 1 socket",
                        "vhost-user save A→pipe",
                        "save A→A's pipe (vmsplice)",
                        "migration A→B, 1 ch",
                        "migration A→B, 2 ch",
                        "migration A→B, 4 ch",
                        "migration A→B, 1 ch, own pipes"),
                rows);
        for (MigrationBench.Row r : result.rows()) {
            assertEquals(2, r.times().size(), r.what());
            assertEquals(2, r.cpu().size(), r.what());
            assertEquals(size, r.bytes(), r.what());
            assertNotNull(r.verified(), r.what());
            assertEquals(
                    List.of(
                            ThreadCpu.A,
                            ThreadCpu.SOURCE,
                            ThreadCpu.DESTINATION,
                            ThreadCpu.B,
                            ThreadCpu.BENCH,
                            ThreadCpu.OTHER),
                    List.copyOf(r.cpuSecondsPerGibByPart().keySet()),
                    r.what());
            assertTrue(text.contains(r.what()), "printed: " + r.what() + "\n" + text);
        }
        assertTrue(
                result.rows().get(2).verified().startsWith("CHECK, "),
                result.rows().get(2).verified());
        assertTrue(result.rows().get(3).verified().startsWith("CHECK, "));
        assertTrue(result.rows().get(4).verified().contains("B loaded"));

        assertEquals(4, result.largest().channels());
        assertTrue(result.largest().stateBytes() > size, "the blob frames the content");
        assertTrue(result.largest().load().isPresent()
                && result.largest().checkDestination().isPresent());
        for (String phase : List.of(
                "vs pipe",
                "CPU s/GiB",
                "CPU seconds per GiB by part",
                "| " + ThreadCpu.DESTINATION + " |",
                "downtime",
                "suspend",
                "save",
                "transfer",
                "load",
                "check",
                "resume",
                "over 4 channel(s)")) {
            assertTrue(text.contains(phase), "missing '" + phase + "' in\n" + text);
        }
    }
}
