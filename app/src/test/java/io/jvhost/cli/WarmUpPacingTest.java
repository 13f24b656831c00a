package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WarmUpPacingTest {
    @TempDir
    Path dir;

    @Test
    void aSpareCpuLetsTheWarmUpGoOnAtOnce() {
        WarmUpPacing p = new WarmUpPacing(() -> false, () -> true, Duration.ofSeconds(60));
        assertFalse(p.getAsBoolean());
    }

    @Test
    void aMigrationMakesItGiveWayWhateverTheHost() {
        assertTrue(new WarmUpPacing(() -> true, () -> true, Duration.ofSeconds(60)).getAsBoolean());
        assertTrue(new WarmUpPacing(() -> true, () -> false, Duration.ofSeconds(60)).getAsBoolean());
    }

    @Test
    void aBusyHostIsWaitedOutUntilACpuIsSpare() {
        AtomicInteger asked = new AtomicInteger();
        WarmUpPacing p = new WarmUpPacing(() -> false, () -> asked.incrementAndGet() > 3, Duration.ofSeconds(60));
        assertFalse(p.getAsBoolean(), "goes on once a CPU is spare");
        assertEquals(4, asked.get(), "it asked again after each wait");
    }

    @Test
    void aMigrationThatBeginsWhileItWaitsEndsTheWait() {
        AtomicInteger asked = new AtomicInteger();
        AtomicBoolean begun = new AtomicBoolean();
        WarmUpPacing p = new WarmUpPacing(
                begun::get,
                () -> {
                    if (asked.incrementAndGet() == 2) begun.set(true);
                    return false;
                },
                Duration.ofSeconds(60));
        assertTrue(p.getAsBoolean());
    }

    @Test
    void aHostBusyPastThePatienceEndsTheWarmUpForGood() {
        AtomicBoolean spare = new AtomicBoolean();
        WarmUpPacing p = new WarmUpPacing(() -> false, spare::get, Duration.ofMillis(50));
        assertTrue(p.getAsBoolean(), "gave up");
        spare.set(true);
        assertTrue(p.getAsBoolean(), "and stays given up");
    }

    @Test
    void procStatsRunnableTasksLessTheCallerAreCountedAgainstTheCpus() throws Exception {
        Path stat = dir.resolve("stat");
        Files.writeString(stat, "cpu  1 2 3 4\nctxt 99\nprocs_running 3\nprocs_blocked 0\n");
        assertEquals(2, new SpareCpu(stat, 2).othersRunnable());
        assertFalse(new SpareCpu(stat, 2).available(), "two others on two CPUs: none spare");
        assertTrue(new SpareCpu(stat, 4).available());
        Files.writeString(stat, "procs_running 2\n");
        assertTrue(new SpareCpu(stat, 2).available(), "one other on two CPUs");
    }

    @Test
    void aHostThatCannotTellCountsAsHavingACpuToSpare() throws Exception {
        assertEquals(-1, new SpareCpu(dir.resolve("missing"), 1).othersRunnable());
        assertTrue(new SpareCpu(dir.resolve("missing"), 1).available());
        Path stat = dir.resolve("odd");
        Files.writeString(stat, "procs_running many\n");
        assertTrue(new SpareCpu(stat, 1).available());
    }

    @Test
    void thisHostsProcStatIsRead() {
        assertTrue(SpareCpu.ofThisHost().othersRunnable() >= 0, "procs_running is in /proc/stat");
    }
}
