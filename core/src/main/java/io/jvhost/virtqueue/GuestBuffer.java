package io.jvhost.virtqueue;

import java.lang.foreign.MemorySegment;

/** A buffer in guest memory as the driver sees it: its guest-physical address and our view of it. */
public record GuestBuffer(long guestPhysAddr, MemorySegment segment) {
    public long length() {
        return segment.byteSize();
    }
}
