package io.jvhost.bench.fs;

import java.util.Locale;

/** The bench's table, in Markdown so that it can go into the docs as printed. */
final class FsBenchTable {
    private FsBenchTable() {}

    static String header() {
        return "| case | unit | jvhost | virtiofsd | jvhost/virtiofsd | rounds' ratios |\n|---|---|---:|---:|---:|---:|";
    }

    static String row(FsBenchResult r) {
        return String.format(
                Locale.ROOT,
                "| %s | %s | %s | %s | %s | %s |",
                r.name(),
                r.unit(),
                format(r.jvhost().rate()),
                r.virtiofsd().map(v -> format(v.rate())).orElse("-"),
                r.ratio().map(x -> String.format(Locale.ROOT, "%.2f", x)).orElse("-"),
                r.ratioSpread()
                        .map(x -> String.format(Locale.ROOT, "%.2f–%.2f", x[0], x[1]))
                        .orElse("-"));
    }

    private static String format(double rate) {
        return rate >= 100 ? String.format(Locale.ROOT, "%,.0f", rate) : String.format(Locale.ROOT, "%.1f", rate);
    }
}
