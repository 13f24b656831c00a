package io.jvhost.migration;

/** This side's {@code cancel()} was called; the peer was told the reason. */
public final class MigrationCancelledException extends MigrationException {
    public MigrationCancelledException(String reason) {
        super("migration cancelled: " + reason);
    }

    public MigrationCancelledException(String reason, Throwable cause) {
        super("migration cancelled: " + reason, cause);
    }
}
