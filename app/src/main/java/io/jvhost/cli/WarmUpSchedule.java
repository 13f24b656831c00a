package io.jvhost.cli;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * When a daemon's warm-up runs: once listening, and again after a migration of the served device
 * it gave way to. A destination's daemon, started by libvirt just before the migration it
 * receives, gives way at once, and the guest it then serves may move on again (a migration
 * back) through the source's code that warm-up never ran: QEMU's ring stop took 14.5 ms on such
 * a daemon, under 1 ms on a warm one.
 */
final class WarmUpSchedule {
    /** Warm-ups at most: the first, and two after migrations they gave way to. */
    static final int TIMES = 3;
    /**
     * How long no migration must have run before a warm-up starts (again): a destination's rings
     * start and its guest resumes just after the load is committed, and the warm-up's CPU is not
     * to be taken from that.
     */
    static final Duration QUIET = Duration.ofSeconds(1);

    private static final long POLL_MILLIS = 100;

    private WarmUpSchedule() {}

    /**
     * Runs {@code warmUp} (true: it ran to its end, false: it gave way) once no migration has run
     * ({@code migrating}) for {@code quiet}, until it ran to its end or ran {@code times} times.
     * Returns the warm-ups run; stops early if the thread is interrupted.
     */
    static int run(BooleanSupplier migrating, Duration quiet, int times, BooleanSupplier warmUp) {
        int ran = 0;
        while (ran < times) {
            if (!awaitQuiet(migrating, quiet, ran == 0)) break;
            ran++;
            if (warmUp.getAsBoolean()) break;
        }
        return ran;
    }

    /** Waits until no migration has run for {@code quiet} ({@code first}: not counting before the call); false if interrupted. */
    private static boolean awaitQuiet(BooleanSupplier migrating, Duration quiet, boolean first) {
        long quietSince = first && !migrating.getAsBoolean() ? System.nanoTime() - quiet.toNanos() : 0;
        try {
            while (true) {
                if (migrating.getAsBoolean()) quietSince = 0;
                else if (quietSince == 0) quietSince = System.nanoTime();
                if (quietSince != 0 && System.nanoTime() - quietSince >= quiet.toNanos()) return true;
                Thread.sleep(POLL_MILLIS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
