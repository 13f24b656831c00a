package io.jvhost.frontend;

import java.io.IOException;

/** The back-end answered a request with an error (a non-zero ack or an error reply). */
public final class BackendRefusedException extends IOException {
    private static final long serialVersionUID = 1L;

    public BackendRefusedException(String message) {
        super(message);
    }
}
