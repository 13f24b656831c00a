package io.jvhost.bench.migration;

import io.jvhost.bench.report.RatioChart;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

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
        if (rows.stream().anyMatch(r -> !r.parts().isEmpty())) {
            md.append("\nCPU seconds per GiB by part of the transfer (median of the rounds; in a deployment each part ")
                    .append("is a process of its own):\n\n")
                    .append(partsTable(rows));
        }
        Files.createDirectories(dir);
        Path table = Files.writeString(dir.resolve("bench-migration.md"), md);
        Path png = dir.resolve("bench-migration.png");
        RatioChart.write(png, "bench-migration: device-state throughput", "transfer", "raw pipe", bars);
        return List.of(table, png);
    }

    /** Markdown: a row per transfer, a column per part ({@link ThreadCpu}), CPU seconds per GiB. */
    static String partsTable(List<MigrationBench.Row> rows) {
        List<String> parts = rows.stream()
                .flatMap(r -> r.parts().keySet().stream())
                .distinct()
                .toList();
        StringBuilder t = new StringBuilder("| transfer |");
        parts.forEach(p -> t.append(' ').append(p).append(" |"));
        t.append(" all |\n|---|");
        parts.forEach(p -> t.append("---:|"));
        t.append("---:|\n");
        for (MigrationBench.Row r : rows) {
            Map<String, Double> byPart = r.cpuSecondsPerGibByPart();
            t.append("| ").append(r.what()).append(" |");
            parts.forEach(p -> t.append(String.format(Locale.ROOT, " %.2f |", byPart.getOrDefault(p, 0.0))));
            t.append(String.format(Locale.ROOT, " %.2f |%n", r.cpuSecondsPerGib()));
        }
        return t.toString();
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
