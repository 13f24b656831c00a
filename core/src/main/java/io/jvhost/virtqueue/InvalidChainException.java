package io.jvhost.virtqueue;

/**
 * The guest offered a descriptor chain that breaks the virtio rules. The chain has been
 * consumed from the available ring; if its head was a valid descriptor index it has already
 * been returned on the used ring with length 0, so the driver gets its descriptors back and the
 * queue keeps serving (rust-vmm rejects per chain too; QEMU instead marks the whole device
 * broken). Call {@link SplitQueue#needsNotification()} as after any completion.
 */
public final class InvalidChainException extends VirtqueueException {
    private static final long serialVersionUID = 1L;
    private final int head;
    private final boolean returnedToGuest;

    public InvalidChainException(int head, boolean returnedToGuest, String message) {
        this(head, returnedToGuest, message, null);
    }

    public InvalidChainException(int head, boolean returnedToGuest, String message, Throwable cause) {
        super(message, cause);
        this.head = head;
        this.returnedToGuest = returnedToGuest;
    }

    /** The head index the available ring named (possibly out of range). */
    public int head() {
        return head;
    }

    /** Whether the head went back on the used ring (false only for an out-of-range head). */
    public boolean returnedToGuest() {
        return returnedToGuest;
    }
}
