package io.jvhost.virtqueue;

/**
 * A completion the driver found on the used ring: the head it had posted, the length the device
 * wrote, and the {@link Submission} if the request was posted with {@link DriverQueue#submit}.
 */
public record UsedElement(int head, int length, Submission submission) {
    /** The bytes the device wrote (its reported length), read from the submission's writable buffers. */
    public byte[] response() {
        if (submission == null) throw new IllegalStateException("request was not posted with submit()");
        return submission.readWritten(length);
    }
}
