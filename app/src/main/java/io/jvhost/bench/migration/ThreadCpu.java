package io.jvhost.bench.migration;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CPU time of this process's threads, summed by the part of a migration they play (their names
 * say it: {@code jvhost-<device>-state-save} is back-end A's save, {@code migration-source-*} the
 * source front-end, ...). In a real deployment each part is a process of its own, so this is the
 * CPU each process would use. A thread's CPU time can only be read while it lives, so a sampler
 * reads every thread every few milliseconds and keeps each one's last value: a thread that ends
 * between samples loses at most one interval of its time.
 */
final class ThreadCpu implements AutoCloseable {
    /** The parts, in the order the table shows them. */
    static final String A = "A (save)",
            SOURCE = "source front-end",
            DESTINATION = "destination front-end",
            B = "B (load)",
            BENCH = "bench thread",
            OTHER = "JVM, sessions";

    private static final long INTERVAL_MILLIS = 5;

    private final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private final Map<Long, String> roles = new HashMap<>();
    private final Map<Long, Long> lastCpu = new HashMap<>();
    private final Thread sampler;
    private volatile boolean stopped;

    ThreadCpu() {
        sampler = Thread.ofPlatform().daemon().name("bench-cpu-sampler").start(this::run);
    }

    private void run() {
        while (!stopped) {
            sample();
            try {
                Thread.sleep(INTERVAL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Reads every live thread's CPU time now; returns the CPU nanoseconds used so far by each part. */
    synchronized Map<String, Long> sample() {
        long[] ids = threads.getAllThreadIds();
        long[] cpu = threads.getThreadCpuTime(ids);
        for (int i = 0; i < ids.length; i++) {
            if (cpu[i] < 0) continue; // ended meanwhile
            long id = ids[i];
            if (!roles.containsKey(id)) {
                ThreadInfo info = threads.getThreadInfo(id);
                if (info == null) continue;
                roles.put(id, role(info.getThreadName()));
            }
            lastCpu.merge(id, cpu[i], Math::max);
        }
        Map<String, Long> byRole = new LinkedHashMap<>();
        for (String r : new String[] {A, SOURCE, DESTINATION, B, BENCH, OTHER}) byRole.put(r, 0L);
        lastCpu.forEach((id, ns) -> byRole.merge(roles.get(id), ns, Long::sum));
        return byRole;
    }

    static String role(String threadName) {
        if (threadName.startsWith("jvhost-") && threadName.endsWith("-state-save")) return A;
        if (threadName.startsWith("jvhost-") && threadName.endsWith("-state-load")) return B;
        if (threadName.startsWith("migration-source")) return SOURCE;
        if (threadName.startsWith("migration-destination")) return DESTINATION;
        if (threadName.equals("main") || threadName.startsWith("bench-") && !threadName.equals("bench-cpu-sampler"))
            return BENCH;
        return OTHER;
    }

    /** CPU nanoseconds per part between two {@link #sample}s. */
    static Map<String, Long> between(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new LinkedHashMap<>();
        after.forEach((role, ns) -> d.put(role, ns - before.getOrDefault(role, 0L)));
        return d;
    }

    @Override
    public void close() {
        stopped = true;
        sampler.interrupt();
    }
}
