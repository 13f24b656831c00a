package io.jvhost.testing.qemu;

import java.time.Duration;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long a live-migrated guest really stood still: from the source QEMU stopping it to the
 * destination QEMU starting it, read from both QEMUs' {@code vmstate_downtime_checkpoint} trace
 * lines ({@link QemuGuest.Builder#traceDowntime}). QEMU's own "downtime" (query-migrate) ends when
 * the source has sent everything, so it leaves out the destination's load, a back-end's included.
 * Both QEMUs run on this host and stamp with the same clock.
 */
public final class GuestPause {
    private static final Pattern CHECKPOINT =
            Pattern.compile("(?m)^\\d+@(\\d+)\\.(\\d{6}):vmstate_downtime_checkpoint (\\S+)");
    static final String STOPPED = "src-downtime-start", STARTED = "dst-precopy-bh-vm-started";

    private GuestPause() {}

    /**
     * The pause of the last migration out of {@code source} into {@code destination}; waits up to
     * {@code wait} for the destination's line (its trace file is written as QEMU goes).
     */
    public static Duration between(QemuGuest source, QemuGuest destination, Duration wait) throws InterruptedException {
        Instant stopped = last(source.traceLog(), STOPPED);
        if (stopped == null)
            throw new IllegalStateException(
                    source.name() + " traced no " + STOPPED + " (build its guest with traceDowntime())");
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            Instant started = last(destination.traceLog(), STARTED);
            if (started != null) return Duration.between(stopped, started);
            if (System.nanoTime() > deadline)
                throw new IllegalStateException(destination.name() + " traced no " + STARTED + " within " + wait
                        + " (build its guest with traceDowntime())");
            Thread.sleep(20);
        }
    }

    /** The time of the last {@code checkpoint} line in {@code trace}, or null. */
    static Instant last(String trace, String checkpoint) {
        Instant at = null;
        Matcher m = CHECKPOINT.matcher(trace);
        while (m.find()) {
            if (m.group(3).equals(checkpoint)) {
                at = Instant.ofEpochSecond(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)) * 1000);
            }
        }
        return at;
    }
}
