package io.jvhost.backend;

/** A device refused a request; the server turns it into an error reply or a rejected chain. */
public final class DeviceException extends Exception {
    private static final long serialVersionUID = 1L;

    public DeviceException(String message) {
        super(message);
    }

    public DeviceException(String message, Throwable cause) {
        super(message, cause);
    }
}
