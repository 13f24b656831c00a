package io.jvhost.virtqueue;

/**
 * The queue's shared state is inconsistent beyond one chain (the driver moved avail->idx more
 * than a queue size ahead), so nothing on it can be trusted: the queue refuses work until it is
 * set up again (SET_VRING_BASE / SET_VRING_ADDR and a new start), as QEMU's virtio_error does
 * for the whole device.
 */
public final class BrokenQueueException extends VirtqueueException {
    private static final long serialVersionUID = 1L;

    public BrokenQueueException(String message) {
        super(message);
    }
}
