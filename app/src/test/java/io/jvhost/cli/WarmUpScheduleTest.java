package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class WarmUpScheduleTest {
    private static final Duration QUIET = Duration.ofMillis(300);

    @Test
    void aWarmUpThatRanToItsEndRunsOnceAndAtOnce() {
        long t0 = System.nanoTime();
        assertEquals(1, WarmUpSchedule.run(() -> false, Duration.ofSeconds(30), 3, () -> true));
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(10).toNanos(), "the first one waits for nothing");
    }

    @Test
    void aWarmUpThatGaveWayRunsAgainOnceTheMigrationIsOverAndQuiet() {
        AtomicBoolean migrating = new AtomicBoolean();
        List<Long> starts = new ArrayList<>();
        long[] ended = new long[1];
        int ran = WarmUpSchedule.run(migrating::get, QUIET, 3, () -> {
            starts.add(System.nanoTime());
            if (starts.size() == 1) {
                // A migration begins and ends while the first warm-up runs: it gives way.
                migrating.set(true);
                Thread.ofPlatform().start(() -> {
                    sleep(200);
                    ended[0] = System.nanoTime();
                    migrating.set(false);
                });
                return false;
            }
            return true;
        });
        assertEquals(2, ran, "once, then once more after the migration");
        assertTrue(
                starts.get(1) - ended[0] >= QUIET.toNanos(),
                "the second one waited for the migration's end and then " + QUIET.toMillis() + " ms");
    }

    @Test
    void atMostTimesWarmUps() {
        assertEquals(3, WarmUpSchedule.run(() -> false, Duration.ZERO, 3, () -> false));
    }

    @Test
    void noWarmUpWhileAMigrationRuns() throws Exception {
        AtomicBoolean migrating = new AtomicBoolean(true);
        AtomicBoolean ran = new AtomicBoolean();
        Thread t = Thread.ofPlatform()
                .start(() -> WarmUpSchedule.run(migrating::get, QUIET, 3, () -> {
                    ran.set(true);
                    return true;
                }));
        t.join(800);
        assertTrue(!ran.get(), "it waits while the served device migrates");
        migrating.set(false);
        t.join(10_000);
        assertTrue(ran.get(), "and runs once it is over");
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
