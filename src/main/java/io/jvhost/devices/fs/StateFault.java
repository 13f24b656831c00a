package io.jvhost.devices.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Testing only: a fault a virtio-fs back-end puts into its own device-state transfer on purpose,
 * so that tests can prove a broken migration fails cleanly with real peers (QEMU cannot be
 * asked to damage the state it carries). Chosen per transfer by the content of a file
 * ({@code jvhost fs --x-state-fault-file F}), so one long-running back-end can be told to fail
 * one migration and not the next.
 */
public enum StateFault {
    /** No fault. */
    NONE,
    /** Save: one byte in the middle of the blob flipped. */
    CORRUPT,
    /** Save: only the first half of the blob written. */
    TRUNCATE,
    /** Save: the FUSE session section claims a version this jvhost cannot load. */
    FUTURE_VERSION,
    /** Load: wait (a minute) before reading, so a test can kill the back-end mid-load. */
    STALL_LOAD;

    /** The fault named in {@code file} (NONE if the file is null, missing or empty). */
    public static StateFault readFrom(Path file) {
        if (file == null) return NONE;
        try {
            String s = Files.readString(file).trim();
            return s.isEmpty() ? NONE : valueOf(s.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IOException e) {
            return NONE;
        }
    }
}
