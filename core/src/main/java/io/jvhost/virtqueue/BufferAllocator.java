package io.jvhost.virtqueue;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A first-fit allocator of guest buffers over an area of driver memory, for tests and
 * benchmarks that post requests: free ranges in a sorted map, merged with their neighbours on
 * free. Thread-safe.
 */
public final class BufferAllocator {
    private final DriverMemory area;
    private final long alignment;
    private final TreeMap<Long, Long> free = new TreeMap<>(); // offset -> length
    private final Map<Long, Long> allocated = new HashMap<>(); // offset -> length
    private long freeBytes;

    /** @param alignment power of two; every buffer starts on it (guest-physically) */
    public BufferAllocator(DriverMemory area, long alignment) {
        if (alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two: " + alignment);
        }
        this.area = area;
        this.alignment = alignment;
        long skip = (-area.guestPhysAddr()) & (alignment - 1);
        if (skip < area.byteSize()) {
            free.put(skip, area.byteSize() - skip);
            freeBytes = area.byteSize() - skip;
        }
    }

    public BufferAllocator(DriverMemory area) {
        this(area, 16);
    }

    /** A zero-filled buffer of {@code length} bytes (> 0). */
    public synchronized GuestBuffer allocate(long length) {
        GuestBuffer b = tryAllocate(length);
        if (b == null) {
            throw new IllegalStateException(
                    "no free run of " + length + " bytes in driver memory (" + freeBytes + " free)");
        }
        return b;
    }

    /** Like {@link #allocate} but null when nothing fits. */
    public synchronized GuestBuffer tryAllocate(long length) {
        if (length <= 0) throw new IllegalArgumentException("buffer length must be positive: " + length);
        long rounded = (length + alignment - 1) & -alignment;
        for (Map.Entry<Long, Long> run : free.entrySet()) {
            long offset = run.getKey(), runLength = run.getValue();
            if (runLength >= rounded) {
                free.remove(offset); // ends the iteration: the entry may be reused by the map
                if (runLength > rounded) free.put(offset + rounded, runLength - rounded);
                allocated.put(offset, rounded);
                freeBytes -= rounded;
                var segment = area.segment().asSlice(offset, length);
                segment.fill((byte) 0);
                return new GuestBuffer(area.guestPhysAddr() + offset, segment);
            }
        }
        return null;
    }

    public synchronized void free(GuestBuffer buffer) {
        long offset = buffer.guestPhysAddr() - area.guestPhysAddr();
        Long length = allocated.remove(offset);
        if (length == null) throw new IllegalArgumentException("not an allocated buffer: " + buffer);
        freeBytes += length;
        long start = offset, len = length;
        Map.Entry<Long, Long> before = free.floorEntry(offset);
        if (before != null && before.getKey() + before.getValue() == offset) {
            start = before.getKey();
            len += before.getValue();
            free.remove(before.getKey());
        }
        Long afterLength = free.remove(offset + length);
        if (afterLength != null) len += afterLength;
        free.put(start, len);
    }

    public synchronized long freeBytes() {
        return freeBytes;
    }

    public DriverMemory area() {
        return area;
    }
}
