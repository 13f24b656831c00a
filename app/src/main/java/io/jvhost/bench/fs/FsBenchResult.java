package io.jvhost.bench.fs;

import java.util.Optional;

/** One case's outcome on both back-ends (virtiofsd absent when it was not found). */
public record FsBenchResult(String name, String unit, Measurement jvhost, Optional<Measurement> virtiofsd) {
    /**
     * One back-end's numbers: the median rate of the rounds (in {@code unit}), and the units
     * done and verified over every round (equal when every reply was checked and right).
     */
    public record Measurement(double rate, long units, long verifiedUnits, int rounds) {}

    /** jvhost's rate over virtiofsd's (above 1: jvhost is faster). */
    public Optional<Double> ratio() {
        return virtiofsd.filter(v -> v.rate() > 0).map(v -> jvhost.rate() / v.rate());
    }
}
