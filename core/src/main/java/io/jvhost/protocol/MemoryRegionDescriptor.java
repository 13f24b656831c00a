package io.jvhost.protocol;

/**
 * One guest memory region (spec "Memory region description"): guest physical address, size,
 * front-end virtual ("user") address, and the offset into the region's fd where it starts.
 * All four are unsigned 64-bit values.
 *
 * <p>Like rust-vmm we refuse an empty region and one whose end wraps past 2^64 in any of the
 * three address spaces, so later arithmetic in the memory layer cannot overflow. The Xen variant
 * of this struct (XEN_MMAP, two extra u32s) is not supported: we never offer that feature.
 */
public record MemoryRegionDescriptor(long guestPhysAddr, long size, long userAddr, long mmapOffset) {
    public static final int SIZE = 32;

    public MemoryRegionDescriptor {
        if (size == 0)
            throw new IllegalArgumentException(
                    "memory region of size 0 at guest address 0x" + Long.toHexString(guestPhysAddr));
        checkNoWrap("guest address", guestPhysAddr, size);
        checkNoWrap("user address", userAddr, size);
        checkNoWrap("mmap offset", mmapOffset, size);
    }

    private static void checkNoWrap(String what, long start, long size) {
        // start + size must be ≤ 2^64 as unsigned; equality (ending exactly at 2^64) still wraps to 0.
        if (Long.compareUnsigned(start, -size) >= 0) {
            throw new IllegalArgumentException("memory region " + what + " 0x" + Long.toHexString(start) + " + size 0x"
                    + Long.toHexString(size) + " wraps around");
        }
    }

    /** First guest physical address after the region. */
    public long guestPhysEnd() {
        return guestPhysAddr + size;
    }

    @Override
    public String toString() {
        return "MemoryRegion[gpa=0x" + Long.toHexString(guestPhysAddr) + ", size=0x" + Long.toHexString(size)
                + ", uaddr=0x" + Long.toHexString(userAddr) + ", offset=0x" + Long.toHexString(mmapOffset) + "]";
    }
}
