package io.jvhost.devices.fs.fuse;

/**
 * A request whose bytes contradict themselves (a length that disagrees with the chain, a name
 * without its NUL, a count larger than the data...): answered -EINVAL, never passed on.
 */
public final class MalformedRequestException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedRequestException(String message) {
        this(message, null);
    }

    public MalformedRequestException(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
