package io.jvhost.protocol;

import java.io.EOFException;

/**
 * The peer closed the connection cleanly, between two messages. This is how a vhost-user session
 * normally ends (the front-end disconnects), so it is kept apart from protocol errors; a close in
 * the middle of a message is a {@link ProtocolException} instead.
 */
public final class PeerClosedException extends EOFException {
    private static final long serialVersionUID = 1L;

    public PeerClosedException(String message) {
        super(message);
    }
}
