package io.jvhost.memory;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.NativeException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The back-end's guest memory table, changed by SET_MEM_TABLE (replace all), ADD_MEM_REG and
 * REM_MEM_REG, read by workers through {@link #current()}: every change builds a new immutable
 * {@link GuestMemory} and publishes it through a volatile field, so readers never lock.
 *
 * <p>Regions that leave the table are unmapped only after the new snapshot is published. A
 * worker still holding a segment of one then gets an IllegalStateException rather than a
 * fault. Unmapping fails while a native call (a read(2) into guest memory, say) holds the
 * memory; such regions stay queued and are retried on the next change or {@link #reclaimRetired()}.
 *
 * <p>Mutators are synchronized (the message thread calls them; tests may call from anywhere).
 */
public final class MemoryTable implements GuestMemorySource, AutoCloseable {
    /**
     * GET_MAX_MEM_SLOTS answer: 509, what rust-vmm's vhost-user-backend reports (the old KVM
     * limit of 512 slots minus 3 reserved, which the kernel's vhost also supports).
     */
    public static final int DEFAULT_MAX_SLOTS = 509;

    private static final Logger LOG = LoggerFactory.getLogger(MemoryTable.class);

    private final int maxSlots;
    private volatile GuestMemory current = GuestMemory.EMPTY;
    private final List<MemoryRegion> retired = new ArrayList<>();
    private boolean closed;

    public MemoryTable() {
        this(DEFAULT_MAX_SLOTS);
    }

    public MemoryTable(int maxSlots) {
        if (maxSlots < 1) throw new IllegalArgumentException("maxSlots must be positive: " + maxSlots);
        this.maxSlots = maxSlots;
    }

    /** The latest snapshot (lock-free). */
    @Override
    public GuestMemory current() {
        return current;
    }

    /** The number of regions the back-end accepts (GET_MAX_MEM_SLOTS). */
    public int maxSlots() {
        return maxSlots;
    }

    /**
     * SET_MEM_TABLE: maps every region, then swaps the whole table. All or nothing: if one
     * region cannot be mapped or the set is inconsistent, the new mappings are released and the
     * old table stays. {@code fds[i]} belongs to {@code regions[i]}; the caller keeps the fds
     * (they may be closed once this returns).
     */
    public synchronized void replaceAll(List<RegionDescriptor> regions, List<Fd> fds)
            throws GuestMemoryException, NativeException {
        ensureOpen();
        if (regions.size() != fds.size()) {
            throw new IllegalArgumentException(regions.size() + " regions but " + fds.size() + " file descriptors");
        }
        if (regions.size() > maxSlots) {
            throw new GuestMemoryException(
                    regions.size() + " memory regions exceed the " + maxSlots + " slots",
                    regions.getFirst().guestPhysAddr());
        }
        List<MemoryRegion> mapped = new ArrayList<>(regions.size());
        try {
            for (int i = 0; i < regions.size(); i++) mapped.add(MemoryRegion.map(regions.get(i), fds.get(i)));
            GuestMemory next = GuestMemory.of(mapped);
            List<MemoryRegion> old = current.regions();
            current = next;
            retire(old);
        } catch (GuestMemoryException | NativeException | RuntimeException e) {
            for (MemoryRegion r : mapped) r.close();
            throw e;
        }
    }

    /** ADD_MEM_REG: maps one more region (the caller keeps {@code fd}). */
    public synchronized MemoryRegion add(RegionDescriptor region, Fd fd) throws GuestMemoryException, NativeException {
        ensureOpen();
        checkSlotFree(region);
        MemoryRegion mapped = MemoryRegion.map(region, fd);
        try {
            install(mapped);
        } catch (GuestMemoryException | RuntimeException e) {
            mapped.close();
            throw e;
        }
        return mapped;
    }

    /** Adds a region over memory this process already has (the guest-driver model, tests). */
    public synchronized void add(MemoryRegion region) throws GuestMemoryException {
        ensureOpen();
        checkSlotFree(region.descriptor());
        install(region);
    }

    private void checkSlotFree(RegionDescriptor region) throws GuestMemoryException {
        if (current.regionCount() >= maxSlots) {
            throw new GuestMemoryException(
                    "no free memory slot for " + region + " (all " + maxSlots + " in use)", region.guestPhysAddr());
        }
    }

    private void install(MemoryRegion region) throws GuestMemoryException {
        List<MemoryRegion> all = new ArrayList<>(current.regions());
        all.add(region);
        current = GuestMemory.of(all); // rejects an overlap before anything is published
        reclaimRetired();
    }

    /**
     * REM_MEM_REG: removes every region with the same guest address, user address and size
     * (the spec ignores the mmap offset; libvhost-user also removes duplicates) and unmaps it
     * after publishing the smaller table. Returns how many were removed.
     */
    public synchronized int remove(RegionDescriptor region) throws GuestMemoryException {
        ensureOpen();
        List<MemoryRegion> kept = new ArrayList<>(), removed = new ArrayList<>();
        for (MemoryRegion r : current.regions()) {
            (r.descriptor().sameRegionAs(region) ? removed : kept).add(r);
        }
        if (removed.isEmpty()) {
            throw new GuestMemoryException("no memory region matches " + region, region.guestPhysAddr());
        }
        current = GuestMemory.of(kept);
        retire(removed);
        return removed.size();
    }

    private void retire(List<MemoryRegion> regions) {
        retired.addAll(regions);
        reclaimRetired();
    }

    /**
     * Unmaps regions that left the table and could not be unmapped yet because a native call
     * held them. Returns how many are still waiting.
     */
    public synchronized int reclaimRetired() {
        for (Iterator<MemoryRegion> it = retired.iterator(); it.hasNext(); ) {
            MemoryRegion r = it.next();
            try {
                r.close();
                it.remove();
            } catch (IllegalStateException inUse) {
                LOG.debug("{} is still in use by a native call; unmapping later", r);
            }
        }
        return retired.size();
    }

    private void ensureOpen() {
        if (closed) throw new IllegalStateException("memory table closed");
    }

    /** Publishes an empty table and unmaps everything (what is in use is unmapped when reclaimed). */
    @Override
    public synchronized void close() {
        if (closed) return;
        List<MemoryRegion> old = current.regions();
        current = GuestMemory.EMPTY;
        retire(old);
        closed = true;
        if (!retired.isEmpty()) LOG.warn("{} memory regions still in use at close", retired.size());
    }
}
