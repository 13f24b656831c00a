package io.jvhost.bench.fs;

import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.devices.fs.client.FuseClient.Reply;
import java.io.IOException;

/**
 * Runs a workload for a while with {@code depth} requests in flight: submit one per stream,
 * kick once; then for every batch of replies (one awaited, the rest already there) check each,
 * let its stream submit the next, and kick once for the batch. At the deadline streams stop at
 * their next boundary and the run drains; the time counted ends when the last reply is in.
 */
final class Pipeline {
    private Pipeline() {}

    /** Units completed and the nanoseconds they took. */
    record Run(long units, long nanos) {}

    static Run run(Workload w, int depth, long nanos) throws IOException {
        try {
            return drive(w, depth, nanos);
        } catch (IOException | RuntimeException e) {
            throw new IOException(w.target.name + ": " + e, e);
        }
    }

    private static Run drive(Workload w, int depth, long nanos) throws IOException {
        FuseClient c = w.target.fuse;
        long start = System.nanoTime(), deadline = start + nanos, units = 0;
        for (int s = 0; s < depth; s++) w.start(s);
        c.kick();
        boolean stopping = false;
        while (c.inFlight() > 0) {
            for (Reply r = c.next(); r != null; r = c.poll()) {
                try (Reply done = r) {
                    units += w.complete(done, stopping);
                }
            }
            c.kick();
            stopping = stopping || System.nanoTime() >= deadline;
        }
        return new Run(units, System.nanoTime() - start);
    }
}
