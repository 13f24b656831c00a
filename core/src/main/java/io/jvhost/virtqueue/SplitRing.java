package io.jvhost.virtqueue;

/**
 * Split-virtqueue layout facts (virtio 1.x, "Split Virtqueues"), shared by the device side
 * ({@link SplitQueue}) and the driver side ({@link DriverQueue}). All fields are little-endian.
 *
 * <pre>
 * descriptor table  16 * n          align 16   { le64 addr; le32 len; le16 flags; le16 next; }
 * available ring    6 + 2 * n       align 2    { le16 flags; le16 idx; le16 ring[n]; le16 used_event; }
 * used ring         6 + 8 * n       align 4    { le16 flags; le16 idx; {le32 id; le32 len} ring[n]; le16 avail_event; }
 * </pre>
 */
public final class SplitRing {
    /** Largest split queue (virtio: Queue Size is at most 32768). */
    public static final int MAX_SIZE = 32768;

    public static final int DESC_F_NEXT = 1;
    public static final int DESC_F_WRITE = 2;
    public static final int DESC_F_INDIRECT = 4;
    /** avail->flags: the driver does not want interrupts (used without EVENT_IDX). */
    public static final int AVAIL_F_NO_INTERRUPT = 1;
    /** used->flags: the device does not want kicks (used without EVENT_IDX). */
    public static final int USED_F_NO_NOTIFY = 1;

    public static final int DESC_SIZE = 16;
    public static final int USED_ELEM_SIZE = 8;
    public static final int DESC_ALIGN = 16;
    public static final int AVAIL_ALIGN = 2;
    public static final int USED_ALIGN = 4;

    /** QEMU's VIRTQUEUE_MAX_SIZE: the descriptors it accepts in one request, whatever the queue size. */
    public static final int QEMU_MAX_CHAIN = 1024;

    static final long FLAGS_OFFSET = 0;
    static final long IDX_OFFSET = 2;
    static final long RING_OFFSET = 4;

    private SplitRing() {}

    public static boolean isValidSize(int size) {
        return size >= 1 && size <= MAX_SIZE && Integer.bitCount(size) == 1;
    }

    public static long descTableBytes(int size) {
        return (long) DESC_SIZE * size;
    }

    public static long availRingBytes(int size) {
        return 6 + 2L * size;
    }

    public static long usedRingBytes(int size) {
        return 6 + (long) USED_ELEM_SIZE * size;
    }

    static long availEntryOffset(int slot) {
        return RING_OFFSET + 2L * slot;
    }

    static long usedEventOffset(int size) {
        return RING_OFFSET + 2L * size;
    }

    static long usedElemOffset(int slot) {
        return RING_OFFSET + (long) USED_ELEM_SIZE * slot;
    }

    static long availEventOffset(int size) {
        return RING_OFFSET + (long) USED_ELEM_SIZE * size;
    }

    /**
     * vring_need_event (virtio 1.x, "Used Buffer Notification Suppression"): whether moving an
     * index from {@code oldIdx} to {@code newIdx} passes {@code eventIdx}, in 16-bit wrap-around
     * arithmetic.
     */
    public static boolean needEvent(int eventIdx, int newIdx, int oldIdx) {
        return ((newIdx - eventIdx - 1) & 0xffff) < ((newIdx - oldIdx) & 0xffff);
    }

    /**
     * The most descriptors one chain (or one indirect table) may hold. The spec says the queue
     * size, but Linux builds indirect tables as long as the request (virtqueue_add_split only
     * bounds direct chains by the ring size), and QEMU accepts up to 1024; so do we.
     */
    public static int maxChainLength(int size) {
        return Math.max(size, QEMU_MAX_CHAIN);
    }
}
