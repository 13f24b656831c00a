package io.jvhost.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether this host has a CPU to spare now: fewer tasks runnable besides the caller
 * ({@code procs_running} of /proc/stat, the caller among them) than the CPUs this process may
 * use. A host that cannot tell (no /proc/stat) counts as having one.
 */
final class SpareCpu {
    /** Samples taken before a host counts as busy, {@link #GAP_NANOS} apart: a moment's burst is not a busy host. */
    private static final int SAMPLES = 3;

    private static final long GAP_NANOS = 1_000_000;

    private final Path stat;
    private final int cpus;

    SpareCpu(Path procStat, int cpus) {
        this.stat = procStat;
        this.cpus = cpus;
    }

    static SpareCpu ofThisHost() {
        return new SpareCpu(Path.of("/proc/stat"), Runtime.getRuntime().availableProcessors());
    }

    /** False only if every sample found the other runnable tasks taking every CPU. */
    boolean available() {
        for (int i = 0; i < SAMPLES; i++) {
            if (i > 0) java.util.concurrent.locks.LockSupport.parkNanos(GAP_NANOS);
            int others = othersRunnable();
            if (others < 0 || others < cpus) return true;
        }
        return false;
    }

    /** Runnable tasks other than the caller, or -1 if /proc/stat does not say. */
    int othersRunnable() {
        try {
            for (String line : Files.readAllLines(stat)) {
                if (line.startsWith("procs_running ")) {
                    return Math.max(
                            0,
                            Integer.parseInt(line.substring("procs_running ".length())
                                            .trim())
                                    - 1);
                }
            }
        } catch (IOException | RuntimeException e) {
            // unreadable or not what the kernel writes: no answer
        }
        return -1;
    }
}
