package io.jvhost.virtqueue;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Memory the guest-driver model owns and has told the back-end about: our own mapping of it,
 * its guest-physical address, and its address in the front-end's address space (what the
 * front-end put in the memory table as the user address).
 */
public record DriverMemory(MemorySegment segment, long guestPhysAddr, long userAddr) {
    public DriverMemory {
        Objects.requireNonNull(segment, "segment");
    }

    public long byteSize() {
        return segment.byteSize();
    }

    /** The sub-area {@code [offset, +len)} with its addresses shifted to match. */
    public DriverMemory slice(long offset, long len) {
        return new DriverMemory(segment.asSlice(offset, len), guestPhysAddr + offset, userAddr + offset);
    }
}
