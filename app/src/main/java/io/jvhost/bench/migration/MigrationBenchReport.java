package io.jvhost.bench.migration;

import io.jvhost.bench.report.RatioChart;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench-migration}'s results as files for the docs: {@code bench-migration.md} (the table,
 * with each row's throughput against the raw pipe of the same round) and {@code bench-migration.png}
 * (those ratios, the raw pipe being 1.0).
 */
public final class MigrationBenchReport {
    private MigrationBenchReport() {}

    /** Writes both files into {@code dir}, captioned by {@code conditions}; returns them. */
    public static List<Path> write(Path dir, String conditions, MigrationBench.Result result) throws IOException {
        List<MigrationBench.Row> rows = result.rows();
        MigrationBench.Row pipe = rows.getFirst();
        StringBuilder md = new StringBuilder(conditions)
                .append(
                        "\n\n| transfer | seconds (median) | MiB/s | best MiB/s | vs raw pipe | rounds' ratios | CPU s/GiB |")
                .append("\n|---|---:|---:|---:|---:|---:|---:|\n");
        List<RatioChart.Bar> bars = new ArrayList<>();
        for (MigrationBench.Row r : rows) {
            double[] spread = roundRatios(pipe, r);
            double ratio = r.mibPerSecond() / pipe.mibPerSecond();
            md.append(String.format(
                    Locale.ROOT,
                    "| %s | %.2f | %.1f | %.1f | %.2f | %.2f–%.2f | %.2f |%n",
                    r.what(),
                    r.median().toNanos() / 1e9,
                    r.mibPerSecond(),
                    r.mibPerSecond(r.best()),
                    ratio,
                    spread[0],
                    spread[1],
                    r.cpuSecondsPerGib()));
            if (r != pipe) bars.add(new RatioChart.Bar(r.what(), ratio, spread[0], spread[1]));
        }
        Files.createDirectories(dir);
        Path table = Files.writeString(dir.resolve("bench-migration.md"), md);
        Path png = dir.resolve("bench-migration.png");
        RatioChart.write(png, "bench-migration: device-state throughput", "transfer", "raw pipe", bars);
        return List.of(table, png);
    }

    /** The lowest and highest of round i's throughput over round i's raw pipe. */
    private static double[] roundRatios(MigrationBench.Row pipe, MigrationBench.Row r) {
        double lo = Double.POSITIVE_INFINITY, hi = 0;
        for (int i = 0; i < Math.min(pipe.times().size(), r.times().size()); i++) {
            double x = pipe.times().get(i).toNanos()
                    / (double) Math.max(1, r.times().get(i).toNanos());
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        return new double[] {lo, hi};
    }
}
