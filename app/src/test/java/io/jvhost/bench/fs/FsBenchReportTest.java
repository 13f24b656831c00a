package io.jvhost.bench.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files {@code bench-fs --output} writes: the table with its caption, and a PNG of the ratios. */
class FsBenchReportTest {
    @TempDir
    Path dir;

    private static FsBenchResult.Measurement m(double... rounds) {
        double[] sorted = rounds.clone();
        Arrays.sort(sorted);
        return new FsBenchResult.Measurement(
                sorted[sorted.length / 2], Arrays.stream(rounds).boxed().toList(), 100, 100, rounds.length);
    }

    @Test
    void writesTheTableWithRoundRatiosAndAPlot() throws Exception {
        List<FsBenchResult> results = List.of(
                new FsBenchResult("GETATTR", "ops/s", m(200, 300, 250), Optional.of(m(100, 100, 125))),
                new FsBenchResult("READ 1 MiB", "MiB/s", m(50, 50, 50), Optional.of(m(100, 100, 100))));
        List<Path> files = FsBenchReport.write(dir, 2, "caption of the run", results);
        assertEquals(List.of(dir.resolve("bench-fs-pool2.md"), dir.resolve("bench-fs-pool2.png")), files);
        String md = Files.readString(files.get(0));
        assertTrue(md.startsWith("caption of the run\n\n| case |"), md);
        assertTrue(md.contains("| GETATTR | ops/s | 250 | 100 | 2.50 | 2.00–3.00 |"), md);
        assertTrue(md.contains("| READ 1 MiB | MiB/s | 50.0 | 100 | 0.50 | 0.50–0.50 |"), md);
        byte[] png = Arrays.copyOf(Files.readAllBytes(files.get(1)), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, png, "a PNG file");
    }

    @Test
    void withoutVirtiofsdThereIsATableButNoPlot() throws Exception {
        List<Path> files = FsBenchReport.write(
                dir, 0, "alone", List.of(new FsBenchResult("GETATTR", "ops/s", m(1, 2, 3), Optional.empty())));
        assertEquals(List.of(dir.resolve("bench-fs-pool0.md")), files);
        assertTrue(Files.readString(files.get(0)).contains("| GETATTR | ops/s | 2.0 | - | - | - |"));
    }
}
