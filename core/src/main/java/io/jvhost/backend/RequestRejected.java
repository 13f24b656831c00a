package io.jvhost.backend;

/**
 * A front-end request the back-end cannot honour (bad index, feature not offered, ...). The
 * session answers it with an error where the protocol has a reply, logs it, and keeps serving.
 */
final class RequestRejected extends Exception {
    private static final long serialVersionUID = 1L;

    RequestRejected(String message) {
        super(message);
    }

    RequestRejected(String message, Throwable cause) {
        super(message, cause);
    }
}
