package io.jvhost.migration;

import java.io.IOException;

/**
 * A migration stream failed: a protocol violation by the peer, a broken connection, a checksum
 * mismatch, a local cancel. Checked, like the {@code StateFormatException} it often wraps: a failed
 * migration is an expected outcome the caller must handle (the source resumes its device).
 */
public class MigrationException extends IOException {
    public MigrationException(String message) {
        super(message);
    }

    public MigrationException(String message, Throwable cause) {
        super(message, cause);
    }
}
