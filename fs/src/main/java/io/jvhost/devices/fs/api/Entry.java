package io.jvhost.devices.fs.api;

/**
 * The answer to anything that hands the guest a node (LOOKUP, MKDIR, CREATE, READDIRPLUS...):
 * each such answer counts one lookup of {@code nodeId}, which the guest gives back with FORGET.
 * Timeouts are how long the guest may cache the name and the attributes.
 */
public record Entry(long nodeId, long generation, Attr attr, long entryTimeoutNanos, long attrTimeoutNanos) {
    /** A negative entry: "no such name", cacheable for the entry timeout (node id 0). */
    public static Entry negative(long entryTimeoutNanos) {
        return new Entry(0, 0, new Attr(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), entryTimeoutNanos, 0);
    }
}
