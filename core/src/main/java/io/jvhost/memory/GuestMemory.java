package io.jvhost.memory;

import static io.jvhost.memory.GuestMemoryException.hex;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * An immutable snapshot of guest RAM: the regions in force at one moment, with bounds-checked
 * translation from guest-physical addresses (descriptors) and from front-end user addresses
 * (ring addresses in SET_VRING_ADDR) to memory segments. Worker threads use a snapshot without
 * locks; a new memory table is a new snapshot.
 *
 * <p>Every address is an unsigned 64-bit value held in a long. A range must lie inside one
 * region, except through {@link #ranges}, which splits a range across regions that are
 * adjacent in guest-physical space. Reads get read-only segments; writes get a
 * {@link LoggedSegment} so they reach the dirty log.
 */
public final class GuestMemory implements GuestMemorySource {
    public static final GuestMemory EMPTY = new GuestMemory(new MemoryRegion[0]);

    private final MemoryRegion[] byGuestAddr; // sorted by guest-physical address (unsigned)
    private final long[] starts; // their guest-physical starts, for binary search

    private GuestMemory(MemoryRegion[] sorted) {
        this.byGuestAddr = sorted;
        this.starts = new long[sorted.length];
        for (int i = 0; i < sorted.length; i++) starts[i] = sorted[i].guestPhysAddr();
    }

    /** A snapshot of {@code regions}; they must not overlap in guest-physical space. */
    public static GuestMemory of(List<MemoryRegion> regions) throws GuestMemoryException {
        MemoryRegion[] sorted = regions.toArray(new MemoryRegion[0]);
        Arrays.sort(sorted, Comparator.comparing(MemoryRegion::guestPhysAddr, Long::compareUnsigned));
        for (int i = 1; i < sorted.length; i++) {
            MemoryRegion prev = sorted[i - 1], next = sorted[i];
            // Regions never reach 2^64 (RegionDescriptor.validate), so the end does not wrap.
            if (Long.compareUnsigned(prev.guestPhysAddr() + prev.size(), next.guestPhysAddr()) > 0) {
                throw new GuestMemoryException(
                        "memory regions overlap in guest-physical space: " + prev + " and " + next,
                        next.guestPhysAddr());
            }
        }
        return new GuestMemory(sorted);
    }

    @Override
    public GuestMemory current() {
        return this;
    }

    public List<MemoryRegion> regions() {
        return List.of(byGuestAddr);
    }

    public int regionCount() {
        return byGuestAddr.length;
    }

    public boolean isEmpty() {
        return byGuestAddr.length == 0;
    }

    /** The region holding {@code guestPhysAddr}, or null. */
    public MemoryRegion regionAt(long guestPhysAddr) {
        int i = indexAt(guestPhysAddr);
        return i < 0 ? null : byGuestAddr[i];
    }

    private int indexAt(long guestPhysAddr) {
        int lo = 0, hi = starts.length - 1, found = -1;
        while (lo <= hi) { // last region whose start <= address (unsigned)
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(starts[mid], guestPhysAddr) <= 0) {
                found = mid;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        if (found < 0) return -1;
        MemoryRegion r = byGuestAddr[found];
        return Long.compareUnsigned(guestPhysAddr - r.guestPhysAddr(), r.size()) < 0 ? found : -1;
    }

    private MemoryRegion regionForRange(long guestPhysAddr, long len) throws GuestMemoryException {
        if (len < 0) {
            throw new GuestMemoryException(
                    "negative length " + len + " at guest address " + hex(guestPhysAddr), guestPhysAddr);
        }
        int i = indexAt(guestPhysAddr);
        if (i < 0) {
            throw new GuestMemoryException(
                    "guest address " + hex(guestPhysAddr) + " is not in guest memory", guestPhysAddr);
        }
        MemoryRegion r = byGuestAddr[i];
        if (!r.containsGuestRange(guestPhysAddr, len)) {
            throw new GuestMemoryException(
                    "guest range " + hex(guestPhysAddr) + "+" + hex(len) + " runs past the end of " + r, guestPhysAddr);
        }
        return r;
    }

    /**
     * The region holding all of {@code [guestPhysAddr, +len)} (checked as {@link #slice} does),
     * for a reader that keeps its offset into {@link MemoryRegion#readOnlySegment()} itself
     * instead of a slice per buffer.
     */
    public MemoryRegion regionFor(long guestPhysAddr, long len) throws GuestMemoryException {
        return regionForRange(guestPhysAddr, len);
    }

    /** Read-only memory of {@code [guestPhysAddr, +len)}, which must lie inside one region. */
    public MemorySegment slice(long guestPhysAddr, long len) throws GuestMemoryException {
        MemoryRegion r = regionForRange(guestPhysAddr, len);
        return r.readOnlySegment().asSlice(guestPhysAddr - r.guestPhysAddr(), len);
    }

    /** Writable memory of {@code [guestPhysAddr, +len)} whose writes are marked in {@code log}. */
    public LoggedSegment writable(long guestPhysAddr, long len, DirtyLog log) throws GuestMemoryException {
        MemoryRegion r = regionForRange(guestPhysAddr, len);
        return new LoggedSegment(
                r.writableSegment().asSlice(guestPhysAddr - r.guestPhysAddr(), len), guestPhysAddr, log);
    }

    /**
     * Splits {@code [guestPhysAddr, +len)} into per-region pieces, for a buffer that crosses
     * from one region into the next adjacent one. Fails on any gap. The number of pieces is
     * bounded by the number of regions.
     */
    public List<GuestRange> ranges(long guestPhysAddr, long len) throws GuestMemoryException {
        if (len < 0) {
            throw new GuestMemoryException(
                    "negative length " + len + " at guest address " + hex(guestPhysAddr), guestPhysAddr);
        }
        long lastAddr = guestPhysAddr + len - 1;
        if (len > 0 && Long.compareUnsigned(lastAddr, guestPhysAddr) < 0) {
            throw new GuestMemoryException(
                    "guest range " + hex(guestPhysAddr) + "+" + hex(len) + " overflows 64 bits", guestPhysAddr);
        }
        int i = indexAt(guestPhysAddr);
        if (i < 0) {
            throw new GuestMemoryException(
                    "guest address " + hex(guestPhysAddr) + " is not in guest memory", guestPhysAddr);
        }
        List<GuestRange> pieces = new ArrayList<>(2);
        long addr = guestPhysAddr, remaining = len;
        while (true) {
            MemoryRegion r = byGuestAddr[i];
            long inRegion = Math.min(remaining, r.size() - (addr - r.guestPhysAddr()));
            pieces.add(new GuestRange(addr, inRegion));
            remaining -= inRegion;
            if (remaining == 0) return pieces;
            addr += inRegion;
            if (++i == byGuestAddr.length || byGuestAddr[i].guestPhysAddr() != addr) {
                throw new GuestMemoryException(
                        "guest range " + hex(guestPhysAddr) + "+" + hex(len) + " reaches unmapped guest address "
                                + hex(addr),
                        addr);
            }
        }
    }

    /** Read-only segments for {@code [guestPhysAddr, +len)}, one per region it crosses. */
    public List<MemorySegment> sliceSpanning(long guestPhysAddr, long len) throws GuestMemoryException {
        List<GuestRange> pieces = ranges(guestPhysAddr, len);
        List<MemorySegment> segments = new ArrayList<>(pieces.size());
        for (GuestRange p : pieces) segments.add(slice(p.guestPhysAddr(), p.length()));
        return segments;
    }

    private MemoryRegion regionForUserRange(long userAddr, long len) throws GuestMemoryException {
        if (len < 0) {
            throw new GuestMemoryException("negative length " + len + " at user address " + hex(userAddr), userAddr);
        }
        // Linear: only ring setup translates user addresses, and the front-end may alias them.
        for (MemoryRegion r : byGuestAddr) {
            if (r.containsUserRange(userAddr, len)) return r;
        }
        throw new GuestMemoryException(
                "front-end user range " + hex(userAddr) + "+" + hex(len) + " is not inside one memory region",
                userAddr);
    }

    /** Read-only memory at a front-end user address (ring addresses are user addresses). */
    public MemorySegment sliceUserAddr(long userAddr, long len) throws GuestMemoryException {
        MemoryRegion r = regionForUserRange(userAddr, len);
        return r.readOnlySegment().asSlice(userAddr - r.userAddr(), len);
    }

    /**
     * Writable memory at a front-end user address; writes are logged at {@code logAddress} +
     * offset (the used ring is logged at SET_VRING_ADDR's log_guest_addr, not at a translation).
     */
    public LoggedSegment writableUserAddr(long userAddr, long len, long logAddress, DirtyLog log)
            throws GuestMemoryException {
        MemoryRegion r = regionForUserRange(userAddr, len);
        return new LoggedSegment(r.writableSegment().asSlice(userAddr - r.userAddr(), len), logAddress, log);
    }

    /** The guest-physical address behind a front-end user address. */
    public long userToGuestPhys(long userAddr) throws GuestMemoryException {
        MemoryRegion r = regionForUserRange(userAddr, 1);
        return r.guestPhysAddr() + (userAddr - r.userAddr());
    }

    @Override
    public String toString() {
        return "GuestMemory" + Arrays.toString(byGuestAddr);
    }
}
