package io.jvhost.cli;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.slf4j.LoggerFactory;

/**
 * The start-up warm-up's {@code giveWay}, asked between its steps: true once a migration of the
 * served device began (the CPU is the migration's); while the host has no CPU to spare it
 * waits, so the warm-up never competes with the work it prepares for (a destination daemon is
 * started beside its source while their QEMUs copy the guest's memory); past {@code patience}
 * of waiting in all it gives up (true): the host is too busy for a warm-up to pay.
 *
 * <p>Waiting, not a lower scheduling priority: a runnable Java thread that the scheduler starves
 * holds up every safepoint of its JVM, the served device's collections among them.
 */
final class WarmUpPacing implements BooleanSupplier {
    private static final long STEP_NANOS = 20_000_000;

    private final BooleanSupplier migrationBegun;
    private final BooleanSupplier spareCpu;
    private final long patienceNanos;
    private long waitedNanos;
    private boolean gaveUp;

    WarmUpPacing(BooleanSupplier migrationBegun, BooleanSupplier spareCpu, Duration patience) {
        this.migrationBegun = migrationBegun;
        this.spareCpu = spareCpu;
        this.patienceNanos = patience.toNanos();
    }

    @Override
    public boolean getAsBoolean() {
        while (true) {
            if (gaveUp || migrationBegun.getAsBoolean()) return true;
            if (spareCpu.getAsBoolean()) return false;
            if (waitedNanos >= patienceNanos) {
                gaveUp = true;
                LoggerFactory.getLogger(WarmUpPacing.class)
                        .info("state path warm-up: given up, no CPU was spare for {} s", patienceNanos / 1_000_000_000);
                return true;
            }
            long t0 = System.nanoTime();
            java.util.concurrent.locks.LockSupport.parkNanos(STEP_NANOS);
            waitedNanos += System.nanoTime() - t0;
        }
    }
}
