package io.jvhost.frontend;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.Mapping;
import io.jvhost.nativeio.NativeException;
import io.jvhost.protocol.MemoryRegionDescriptor;
import io.jvhost.virtqueue.DriverMemory;

/**
 * The guest-driver model's "guest RAM": one memfd, mapped here and shared with the back-end,
 * as QEMU's memory-backend-memfd,share=on. Guest-physical addresses start at {@code gpaBase};
 * the "front-end user address" is where it is mapped in this process, as in QEMU.
 */
public final class GuestRam implements AutoCloseable {
    private final Fd memfd;
    private final Mapping mapping;
    private final long guestPhysBase;

    private GuestRam(Fd memfd, Mapping mapping, long guestPhysBase) {
        this.memfd = memfd;
        this.mapping = mapping;
        this.guestPhysBase = guestPhysBase;
    }

    public static GuestRam create(long size, long guestPhysBase) throws NativeException {
        Fd fd = Libc.memfdCreate("jvhost-guest-ram", Libc.MFD_CLOEXEC);
        try {
            Libc.ftruncate(fd, size);
            return new GuestRam(fd, Mapping.map(fd, 0, size, true), guestPhysBase);
        } catch (NativeException | RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    public Fd fd() {
        return memfd;
    }

    public long size() {
        return mapping.size();
    }

    public long guestPhysBase() {
        return guestPhysBase;
    }

    public long userAddr() {
        return mapping.segment().address();
    }

    /** The region as SET_MEM_TABLE / ADD_MEM_REG describe it. */
    public MemoryRegionDescriptor descriptor() {
        return new MemoryRegionDescriptor(guestPhysBase, size(), userAddr(), 0);
    }

    /** All of it, with its addresses, for the driver-side rings and buffers. */
    public DriverMemory asDriverMemory() {
        return new DriverMemory(mapping.segment(), guestPhysBase, userAddr());
    }

    @Override
    public void close() {
        mapping.close();
        memfd.close();
    }
}
