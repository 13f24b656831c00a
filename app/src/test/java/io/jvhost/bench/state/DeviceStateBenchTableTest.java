package io.jvhost.bench.state;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.migration.MigrationReport;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The bench's table: medians per phase (suspend, save, load, CHECK on B, resume), the downtime's spread, jvhost against the virtiofsd row of its size. */
class DeviceStateBenchTableTest {
    private static MigrationReport report(long downtimeMs, long saveMs) {
        return new MigrationReport(
                Duration.ofMillis(3), // suspend
                Duration.ofMillis(saveMs),
                Duration.ZERO,
                Duration.ZERO,
                Optional.of(Duration.ofMillis(1)),
                Optional.of(Duration.ofMillis(2)),
                Duration.ofMillis(4), // resume
                Duration.ofMillis(downtimeMs),
                100,
                1,
                List.of(1L));
    }

    @Test
    void jvhostIsComparedWithVirtiofsdAtTheSameSize() {
        String t = DeviceStateBench.table(List.of(
                new DeviceStateBench.Row("jvhost", 1000, 100, List.of(report(30, 10), report(10, 5), report(20, 7))),
                new DeviceStateBench.Row(
                        "virtiofsd", 1000, 100, List.of(report(40, 1), report(40, 1), report(40, 1)))));
        assertTrue(
                t.contains("| 1000 | 100 | jvhost | 20.0 (10.0–30.0) | 3.0 | 7.0 | 1.0 | 2.0 | 4.0 | 100 | 0.50 |"), t);
        assertTrue(
                t.contains("| 1000 | 100 | virtiofsd | 40.0 (40.0–40.0) | 3.0 | 1.0 | 1.0 | 2.0 | 4.0 | 100 | - |"), t);
    }
}
