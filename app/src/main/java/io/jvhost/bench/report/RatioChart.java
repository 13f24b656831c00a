package io.jvhost.bench.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * A bench's outcome as a PNG (XChart): one bar per case, the measured value relative to the
 * reference of the same run (virtiofsd, a raw pipe), with the lowest and highest round as error
 * bars, and a bar of 1.0 for the reference itself, so that "faster than the reference" reads as a
 * bar above its neighbour.
 */
public final class RatioChart {
    /** One case: its name, the median ratio, and the lowest and highest round's ratio. */
    public record Bar(String name, double ratio, double low, double high) {}

    private RatioChart() {}

    /** Writes {@code file} (a .png); {@code reference} names what 1.0 is. */
    public static void write(Path file, String title, String subject, String reference, List<Bar> bars)
            throws IOException {
        if (bars.isEmpty()) throw new IllegalArgumentException("nothing to plot");
        System.setProperty("java.awt.headless", "true"); // a bench runs on servers: no display
        CategoryChart chart = new CategoryChartBuilder()
                .width(900)
                .height(480)
                .title(title)
                .xAxisTitle("case")
                .yAxisTitle("rate relative to " + reference)
                .build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setErrorBarsColor(java.awt.Color.BLACK);
        List<String> names = new ArrayList<>();
        List<Double> ratios = new ArrayList<>(), errors = new ArrayList<>(), ones = new ArrayList<>();
        for (Bar b : bars) {
            names.add(b.name());
            ratios.add(b.ratio());
            // XChart draws symmetric error bars: half the round-to-round range, around the median.
            errors.add(Math.max(0, (b.high() - b.low()) / 2));
            ones.add(1.0);
        }
        chart.addSeries(reference, names, ones);
        chart.addSeries(subject, names, ratios, errors);
        Files.createDirectories(file.toAbsolutePath().getParent());
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
