package io.jvhost.bench.fs;

import io.jvhost.bench.report.RatioChart;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The bench's results as files for the docs: {@code bench-fs-pool<N>.md} (the caption and the
 * table as printed) and {@code bench-fs-pool<N>.png} (jvhost's rate relative to virtiofsd per case).
 */
public final class FsBenchReport {
    private FsBenchReport() {}

    /** Writes both files into {@code dir}; returns them (the plot only when virtiofsd was measured). */
    public static List<Path> write(Path dir, int poolSize, String conditions, List<FsBenchResult> results)
            throws IOException {
        Files.createDirectories(dir);
        String base = "bench-fs-pool" + poolSize;
        StringBuilder md = new StringBuilder(conditions)
                .append("\n\n")
                .append(FsBenchTable.header())
                .append('\n');
        for (FsBenchResult r : results) md.append(FsBenchTable.row(r)).append('\n');
        Path table = Files.writeString(dir.resolve(base + ".md"), md);
        List<Path> written = new ArrayList<>(List.of(table));
        List<RatioChart.Bar> bars = new ArrayList<>();
        for (FsBenchResult r : results) {
            if (r.ratio().isEmpty()) continue;
            double[] spread = r.ratioSpread()
                    .orElse(new double[] {r.ratio().get(), r.ratio().get()});
            bars.add(new RatioChart.Bar(r.name(), r.ratio().get(), spread[0], spread[1]));
        }
        if (!bars.isEmpty()) {
            Path png = dir.resolve(base + ".png");
            RatioChart.write(png, "bench-fs, --thread-pool-size " + poolSize, "jvhost", "virtiofsd", bars);
            written.add(png);
        }
        return written;
    }
}
