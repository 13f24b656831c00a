package io.jvhost.migration;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/** Counts bytes and packets from several threads and reports to a listener at most every interval. */
final class ProgressMeter {
    private final ProgressListener listener;
    private final long totalBytes;
    private final long intervalNanos;
    private final long start = System.nanoTime();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong packets = new AtomicLong();
    private final AtomicLong nextReport;
    private final ReentrantLock reporting = new ReentrantLock();

    ProgressMeter(ProgressListener listener, long totalBytes, Duration interval) {
        this.listener = listener;
        this.totalBytes = totalBytes;
        this.intervalNanos = interval.toNanos();
        this.nextReport = new AtomicLong(start + intervalNanos);
    }

    /** {@code n} more bytes of state in {@code packetCount} more packets. */
    void add(long n, int packetCount) {
        bytes.addAndGet(n);
        packets.addAndGet(packetCount);
        long now = System.nanoTime();
        long due = nextReport.get();
        // One thread wins the slot; the others skip rather than queue behind the listener.
        if (now - due >= 0 && nextReport.compareAndSet(due, now + intervalNanos) && reporting.tryLock()) {
            try {
                listener.onProgress(snapshot(now, false));
            } finally {
                reporting.unlock();
            }
        }
    }

    void finish() {
        reporting.lock();
        try {
            listener.onProgress(snapshot(System.nanoTime(), true));
        } finally {
            reporting.unlock();
        }
    }

    Progress snapshot(long now, boolean finished) {
        long b = bytes.get();
        long elapsed = Math.max(1, now - start);
        return new Progress(b, totalBytes, packets.get(), Duration.ofNanos(elapsed), b * 1e9 / elapsed, finished);
    }
}
