package io.jvhost.bench.fs;

import java.util.List;
import java.util.Optional;

/** One case's outcome on both back-ends (virtiofsd absent when it was not found). */
public record FsBenchResult(String name, String unit, Measurement jvhost, Optional<Measurement> virtiofsd) {
    /**
     * One back-end's numbers: the median rate of the rounds (in {@code unit}), each round's rate,
     * and the units done and verified over every round (equal when every reply was checked and
     * right).
     */
    public record Measurement(double rate, List<Double> roundRates, long units, long verifiedUnits, int rounds) {
        public Measurement {
            roundRates = List.copyOf(roundRates);
        }
    }

    /** jvhost's rate over virtiofsd's (above 1: jvhost is faster). */
    public Optional<Double> ratio() {
        return virtiofsd.filter(v -> v.rate() > 0).map(v -> jvhost.rate() / v.rate());
    }

    /**
     * The lowest and highest of the rounds' ratios: round i of both back-ends ran back to back,
     * so their ratio shows how much the machine moved under that pair.
     */
    public Optional<double[]> ratioSpread() {
        return virtiofsd.map(v -> {
            double lo = Double.POSITIVE_INFINITY, hi = 0;
            for (int i = 0;
                    i < Math.min(v.roundRates().size(), jvhost.roundRates().size());
                    i++) {
                double vr = v.roundRates().get(i);
                if (vr <= 0) continue;
                double r = jvhost.roundRates().get(i) / vr;
                lo = Math.min(lo, r);
                hi = Math.max(hi, r);
            }
            return hi == 0 ? null : new double[] {lo, hi};
        });
    }
}
