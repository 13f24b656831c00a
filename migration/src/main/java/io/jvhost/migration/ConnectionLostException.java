package io.jvhost.migration;

/**
 * A connection ended or broke where data was due. Often the consequence of the peer giving up, so
 * it is reported only if the peer's own reason does not arrive shortly (see {@link FirstFailure}).
 */
final class ConnectionLostException extends MigrationException {
    ConnectionLostException(String message) {
        super(message);
    }

    ConnectionLostException(String message, Throwable cause) {
        super(message, cause);
    }
}
