package io.jvhost.bench.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Threads are attributed to the part of a migration their names say they play. */
class ThreadCpuTest {
    @Test
    void threadNamesMapToTheirPart() {
        assertEquals(ThreadCpu.A, ThreadCpu.role("jvhost-synthetic-state-save"));
        assertEquals(ThreadCpu.B, ThreadCpu.role("jvhost-virtio-fs-state-load"));
        assertEquals(ThreadCpu.SOURCE, ThreadCpu.role("migration-source-ch3"));
        assertEquals(ThreadCpu.DESTINATION, ThreadCpu.role("migration-destination-ch0"));
        assertEquals(ThreadCpu.BENCH, ThreadCpu.role("bench-pipe-reader"));
        assertEquals(ThreadCpu.OTHER, ThreadCpu.role("bench-cpu-sampler"));
        assertEquals(ThreadCpu.OTHER, ThreadCpu.role("C2 CompilerThread0"));
    }

    @Test
    void aBusyThreadThatEndedStillCounts() throws Exception {
        try (ThreadCpu cpu = new ThreadCpu()) {
            Map<String, Long> before = cpu.sample();
            Thread t = Thread.ofPlatform().name("migration-source-ch0").start(() -> {
                long end = System.nanoTime() + 200_000_000L;
                long x = 0;
                while (System.nanoTime() < end) x += end ^ x;
                if (x == 42) System.out.print("");
            });
            t.join();
            long used = ThreadCpu.between(before, cpu.sample()).get(ThreadCpu.SOURCE);
            // The sampler read it while it ran; at most one interval at its end is lost.
            assertTrue(used > 50_000_000L, "counted " + used + " ns of a 200 ms busy thread");
        }
    }
}
