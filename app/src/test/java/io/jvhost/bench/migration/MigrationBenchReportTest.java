package io.jvhost.bench.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.migration.MigrationReport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files {@code bench-migration --output} writes: ratios against the same round's raw pipe. */
class MigrationBenchReportTest {
    @TempDir
    Path dir;

    private static List<Duration> ms(long... v) {
        return java.util.Arrays.stream(v).mapToObj(Duration::ofMillis).toList();
    }

    @Test
    void eachRowIsComparedWithTheRawPipeOfItsRound() throws Exception {
        long gib = 1L << 30;
        MigrationBench.Row pipe =
                new MigrationBench.Row("raw pipe (nativeio)", gib, ms(100, 200, 100), ms(1, 1, 1), "");
        MigrationBench.Row save =
                new MigrationBench.Row("vhost-user save A→pipe", gib, ms(200, 200, 400), ms(2, 2, 2), "");
        MigrationReport any = new MigrationReport(
                Duration.ZERO,
                Duration.ZERO,
                Duration.ZERO,
                Duration.ZERO,
                Optional.empty(),
                Optional.empty(),
                Duration.ZERO,
                Duration.ZERO,
                gib,
                1,
                List.of(1L));
        List<Path> files =
                MigrationBenchReport.write(dir, "caption", new MigrationBench.Result(List.of(pipe, save), any));
        assertEquals(List.of(dir.resolve("bench-migration.md"), dir.resolve("bench-migration.png")), files);
        String md = Files.readString(files.get(0));
        // medians 100 ms and 200 ms: 0.50 of the pipe; rounds: 100/200, 200/200, 100/400
        assertTrue(md.contains("| vhost-user save A→pipe | 0.20 | 5120.0 | 5120.0 | 0.50 | 0.25–1.00 |"), md);
        assertTrue(md.contains("| raw pipe (nativeio) | 0.10 | 10240.0 | 10240.0 | 1.00 | 1.00–1.00 |"), md);
        assertTrue(Files.size(files.get(1)) > 1000, "a plot");
        assertTrue(!md.contains("by part"), "no parts measured, no parts table:\n" + md);
    }

    @Test
    void theCpuOfEachPartIsTabledPerGib() throws Exception {
        long half = 1L << 29;
        MigrationBench.Row pipe = new MigrationBench.Row("raw pipe (nativeio)", half, ms(100), ms(100), "");
        MigrationBench.Row m = new MigrationBench.Row(
                "migration A→B, 1 ch",
                half,
                ms(400),
                ms(900),
                java.util.Map.of(ThreadCpu.A, ms(100), ThreadCpu.DESTINATION, ms(300)),
                "");
        MigrationReport any = new MigrationReport(
                Duration.ZERO,
                Duration.ZERO,
                Duration.ZERO,
                Duration.ZERO,
                Optional.empty(),
                Optional.empty(),
                Duration.ZERO,
                Duration.ZERO,
                half,
                1,
                List.of(1L));
        String md = Files.readString(
                MigrationBenchReport.write(dir, "caption", new MigrationBench.Result(List.of(pipe, m), any))
                        .get(0));
        // per GiB: half a GiB took 100 ms on A, 300 ms on the destination, 900 ms in all
        assertTrue(
                md.contains("| migration A→B, 1 ch | 0.20 | 0.60 | 1.80 |")
                        || md.contains("| migration A→B, 1 ch | 0.60 | 0.20 | 1.80 |"),
                md);
        assertTrue(md.contains("| raw pipe (nativeio) | 0.00 | 0.00 | 0.20 |"), md);
    }
}
