package io.jvhost.memory;

import static io.jvhost.memory.GuestMemoryException.hex;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Mapping;
import io.jvhost.nativeio.NativeException;
import java.lang.foreign.MemorySegment;

/**
 * One region of guest RAM as the back-end sees it: where it sits in guest-physical and in the
 * front-end's address space, and the mapped memory behind it.
 *
 * <p>The region is mapped from file offset 0 for {@code mmapOffset + size} bytes and then
 * sliced, as libvhost-user does: mmap needs a page-aligned offset and hugetlbfs needs a huge-page
 * aligned one, which the front-end's mmap offset need not be.
 */
public final class MemoryRegion implements AutoCloseable {
    private final RegionDescriptor descriptor;
    private final MemorySegment segment;
    private final MemorySegment readOnly;
    private final Mapping mapping; // null when the memory belongs to someone else

    private MemoryRegion(RegionDescriptor descriptor, MemorySegment segment, Mapping mapping) {
        this.descriptor = descriptor;
        this.segment = segment;
        this.readOnly = segment.asReadOnly();
        this.mapping = mapping;
    }

    /** Maps the region the front-end described from its file descriptor (the caller keeps {@code fd}). */
    public static MemoryRegion map(RegionDescriptor descriptor, Fd fd) throws GuestMemoryException, NativeException {
        descriptor.validate();
        BackingFile.requireCovers(
                fd,
                descriptor.mmapOffset() + descriptor.size(),
                "memory region " + descriptor,
                descriptor.guestPhysAddr());
        Mapping mapping = Mapping.map(fd, 0, descriptor.mmapOffset() + descriptor.size(), true);
        MemorySegment slice = mapping.segment().asSlice(descriptor.mmapOffset(), descriptor.size());
        return new MemoryRegion(descriptor, slice, mapping);
    }

    /**
     * A region over memory this process already has (the guest-driver model, tests). Closing
     * the region does not free that memory.
     */
    public static MemoryRegion over(long guestPhysAddr, long userAddr, MemorySegment memory)
            throws GuestMemoryException {
        RegionDescriptor d = new RegionDescriptor(guestPhysAddr, memory.byteSize(), userAddr, 0);
        d.validate();
        return new MemoryRegion(d, memory, null);
    }

    public RegionDescriptor descriptor() {
        return descriptor;
    }

    public long guestPhysAddr() {
        return descriptor.guestPhysAddr();
    }

    public long size() {
        return descriptor.size();
    }

    public long userAddr() {
        return descriptor.userAddr();
    }

    public long mmapOffset() {
        return descriptor.mmapOffset();
    }

    /** Whether {@code [guestPhysAddr, +len)} lies inside this region (unsigned, overflow-safe). */
    public boolean containsGuestRange(long guestPhysAddr, long len) {
        return containsRange(descriptor.guestPhysAddr(), guestPhysAddr, len);
    }

    /** Whether {@code [userAddr, +len)} lies inside this region in the front-end's address space. */
    public boolean containsUserRange(long userAddr, long len) {
        return containsRange(descriptor.userAddr(), userAddr, len);
    }

    private boolean containsRange(long base, long addr, long len) {
        long offset = addr - base;
        long size = descriptor.size();
        return Long.compareUnsigned(addr, base) >= 0
                && Long.compareUnsigned(offset, size) < 0
                && len >= 0
                && len <= size - offset;
    }

    /** The whole region, writable. Package-private: writers go through {@link LoggedSegment}. */
    MemorySegment writableSegment() {
        return segment;
    }

    /** The whole region, read-only. */
    public MemorySegment readOnlySegment() {
        return readOnly;
    }

    /** Whether closing this region unmaps memory (false for {@link #over} regions). */
    public boolean ownsMapping() {
        return mapping != null;
    }

    /**
     * Unmaps the region if it owns its mapping. Any thread still holding a segment of it gets
     * an IllegalStateException on its next access instead of touching unmapped memory.
     *
     * @throws IllegalStateException if a native call currently holds the memory (then retry later)
     */
    @Override
    public void close() {
        if (mapping != null) mapping.close();
    }

    @Override
    public String toString() {
        return "MemoryRegion[gpa=" + hex(guestPhysAddr()) + ".." + hex(guestPhysAddr() + size() - 1) + ", user="
                + hex(userAddr()) + ", mmapOffset=" + hex(mmapOffset()) + "]";
    }
}
