package io.jvhost.memory;

import static io.jvhost.memory.GuestMemoryException.hex;

/**
 * One memory region as the front-end describes it in SET_MEM_TABLE / ADD_MEM_REG /
 * REM_MEM_REG (vhost-user spec, "Memory regions description"): guest-physical address, size,
 * the front-end's own virtual ("user") address of the region, and where the region starts in
 * the file descriptor sent with it. All four are unsigned 64-bit on the wire.
 */
public record RegionDescriptor(long guestPhysAddr, long size, long userAddr, long mmapOffset) {

    /**
     * Rejects what cannot be mapped or translated without overflow: a size that is zero or does
     * not fit a Java long, a range reaching 2^64 in either address space (so that an exclusive
     * end address always fits in 64 bits), or an mmap
     * offset that would make the mapping length overflow.
     */
    public void validate() throws GuestMemoryException {
        if (size <= 0) {
            throw new GuestMemoryException(
                    "memory region at guest " + hex(guestPhysAddr) + " has invalid size " + hex(size), guestPhysAddr);
        }
        if (Long.compareUnsigned(guestPhysAddr, -size) >= 0) {
            throw new GuestMemoryException(
                    "memory region guest range " + hex(guestPhysAddr) + "+" + hex(size) + " overflows 64 bits",
                    guestPhysAddr);
        }
        if (Long.compareUnsigned(userAddr, -size) >= 0) {
            throw new GuestMemoryException(
                    "memory region user range " + hex(userAddr) + "+" + hex(size) + " overflows 64 bits", userAddr);
        }
        if (mmapOffset < 0 || mmapOffset > Long.MAX_VALUE - size) {
            throw new GuestMemoryException(
                    "memory region at guest " + hex(guestPhysAddr) + " has unusable mmap offset " + hex(mmapOffset),
                    guestPhysAddr);
        }
    }

    /** REM_MEM_REG identifies a region by guest address, user address and size; the mmap offset is ignored. */
    public boolean sameRegionAs(RegionDescriptor other) {
        return guestPhysAddr == other.guestPhysAddr && size == other.size && userAddr == other.userAddr;
    }

    @Override
    public String toString() {
        return "Region[gpa=" + hex(guestPhysAddr) + ", size=" + hex(size) + ", user=" + hex(userAddr) + ", mmapOffset="
                + hex(mmapOffset) + "]";
    }
}
