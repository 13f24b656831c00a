package io.jvhost.devices.fs.passthrough;

import java.util.concurrent.TimeUnit;

/**
 * How long the guest may cache names and attributes, as virtiofsd's --cache option: never
 * (0, and file data bypasses the guest page cache), auto (1 s), always (one day, data and
 * directory listings kept in the guest's cache across opens) or metadata (one day for names,
 * attributes and listings, while file data bypasses the guest page cache).
 */
public enum CachePolicy {
    NEVER(0),
    AUTO(TimeUnit.SECONDS.toNanos(1)),
    ALWAYS(TimeUnit.SECONDS.toNanos(86_400)),
    METADATA(TimeUnit.SECONDS.toNanos(86_400));

    private final long timeoutNanos;

    CachePolicy(long timeoutNanos) {
        this.timeoutNanos = timeoutNanos;
    }

    /** Entry and attribute timeout. */
    public long timeoutNanos() {
        return timeoutNanos;
    }
}
