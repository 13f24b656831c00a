package io.jvhost.backend;

import io.jvhost.memory.GuestMemoryException;
import io.jvhost.memory.GuestMemorySource;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * Read-only access to guest memory for a device ({@link DeviceContext#memory()}), beyond the
 * descriptor chains the rings hand it: copies out of guest-physical addresses, each range
 * checked against the regions the front-end shared, and no way to write. Addresses come from the
 * guest: a range that is not wholly mapped is refused, never read in part.
 */
public final class GuestMemoryView {
    private final GuestMemorySource memory;

    GuestMemoryView(GuestMemorySource memory) {
        this.memory = memory;
    }

    /** Copies {@code length} bytes at {@code guestPhysAddr} into {@code into[offset, offset + length)}. */
    public void read(long guestPhysAddr, byte[] into, int offset, int length) throws DeviceException {
        Objects.checkFromIndexSize(offset, length, into.length);
        try {
            int at = offset;
            for (MemorySegment piece : memory.current().sliceSpanning(guestPhysAddr, length)) {
                MemorySegment.copy(piece, ValueLayout.JAVA_BYTE, 0, into, at, (int) piece.byteSize());
                at += (int) piece.byteSize();
            }
        } catch (GuestMemoryException e) {
            throw new DeviceException("reading guest memory: " + e.getMessage(), e);
        } catch (IllegalStateException e) { // the region was unmapped meanwhile (the front-end replaced it)
            throw new DeviceException(
                    "reading guest memory at 0x" + Long.toHexString(guestPhysAddr)
                            + ": the region went away during the read",
                    e);
        }
    }

    /** The {@code length} bytes at {@code guestPhysAddr}. */
    public byte[] read(long guestPhysAddr, int length) throws DeviceException {
        if (length < 0) throw new IllegalArgumentException("negative length " + length);
        byte[] bytes = new byte[length];
        read(guestPhysAddr, bytes, 0, length);
        return bytes;
    }
}
