package io.jvhost.bench.fs;

import io.jvhost.devices.fs.client.FuseClient.Reply;
import java.io.IOException;

/**
 * One case on one back-end: {@code depth} independent streams of requests, as that many guest
 * threads would send them. A stream submits its first request in {@link #start}; each reply is
 * checked in {@link #complete}, which submits the stream's next request unless the run is
 * stopping and the stream is at a boundary (nothing left open half-way). State (cursors,
 * counters) lives on across the rounds of a run.
 */
abstract class Workload {
    protected final Target target;
    /** Replies (or, for writes, regions read back) found correct. */
    long verified;

    Workload(Target target) {
        this.target = target;
    }

    /** Submits stream {@code slot}'s first request (tag: the slot). */
    abstract void start(int slot) throws IOException;

    /** Checks a reply of stream {@code (int) r.request().tag()}; returns the units (ops or bytes) it completed. */
    abstract long complete(Reply r, boolean stopping) throws IOException;

    /** Checks after the timed part what a reply alone cannot show (written data read back). */
    void verifyAfter() throws IOException {}

    /** Verified units, comparable with the units counted. */
    long verifiedUnits() {
        return verified;
    }

    static int slot(Reply r) {
        return (Integer) r.request().tag();
    }

    static IOException wrong(Target t, String what) {
        return new IOException(t.name + ": " + what);
    }
}
