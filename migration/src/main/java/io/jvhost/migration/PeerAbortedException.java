package io.jvhost.migration;

/** The other side gave up and said why (an Abort message on the main channel). */
public final class PeerAbortedException extends MigrationException {
    private final String reason;

    public PeerAbortedException(String who, String reason) {
        super(who + " aborted the migration: " + reason);
        this.reason = reason;
    }

    /** The reason exactly as the peer sent it. */
    public String reason() {
        return reason;
    }
}
