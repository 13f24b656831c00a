package io.jvhost.migration;

import java.time.Duration;
import java.util.Optional;

/**
 * A snapshot of a transfer.
 *
 * @param bytes          back-end state bytes moved so far
 * @param totalBytes     the back-end state size if known, else -1
 * @param packets        packets moved so far
 * @param elapsed        since the first state byte was sent or expected
 * @param bytesPerSecond average rate since the start
 * @param finished       true for the last report of a successful transfer
 */
public record Progress(
        long bytes, long totalBytes, long packets, Duration elapsed, double bytesPerSecond, boolean finished) {

    /** Time left at the average rate so far; empty when the size is unknown or nothing moved yet. */
    public Optional<Duration> eta() {
        if (totalBytes < 0 || bytesPerSecond <= 0) {
            return Optional.empty();
        }
        long left = Math.max(0, totalBytes - bytes);
        return Optional.of(Duration.ofNanos((long) (left / bytesPerSecond * 1e9)));
    }

    /** 0..1 when the size is known, else empty. */
    public Optional<Double> fraction() {
        if (totalBytes < 0) {
            return Optional.empty();
        }
        return Optional.of(totalBytes == 0 ? 1.0 : Math.min(1.0, (double) bytes / totalBytes));
    }
}
