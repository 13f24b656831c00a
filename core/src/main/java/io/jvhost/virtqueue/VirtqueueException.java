package io.jvhost.virtqueue;

/**
 * Something about a virtqueue's guest-controlled state prevents the operation. The base class
 * leaves the queue as it was (e.g. the rings are not mapped right now, a request is shorter than
 * its header); the subclasses say when a chain was consumed ({@link InvalidChainException}) or
 * the queue cannot go on ({@link BrokenQueueException}).
 */
public class VirtqueueException extends Exception {
    private static final long serialVersionUID = 1L;

    public VirtqueueException(String message) {
        super(message);
    }

    public VirtqueueException(String message, Throwable cause) {
        super(message, cause);
    }
}
