package io.jvhost.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;

/**
 * Native scratch memory for the arguments of one downcall (paths, stat buffers, iovecs), taken
 * from a per-thread block instead of a new confined arena per call: an arena costs a malloc, a
 * zero fill and a free per allocation, which showed up on every FUSE request. Allocations are
 * zeroed like an arena's. What does not fit the block (or a nested use on the same thread) goes
 * to a confined arena closed with the scratch. Use in try-with-resources; never let a segment
 * escape it.
 */
public final class Scratch implements SegmentAllocator, AutoCloseable {
    private static final long BLOCK = 64 * 1024;
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    private final MemorySegment block;
    private int[] words = new int[0];
    private long used;
    private boolean open;
    private Arena overflow;

    private Scratch() {
        block = Arena.ofAuto().allocate(BLOCK, 16); // lives as long as its thread
    }

    /** This thread's scratch, emptied; a new one if the thread's is in use (nested call). */
    public static Scratch open() {
        Scratch s = LOCAL.get();
        if (s.open) s = new Scratch();
        s.open = true;
        s.used = 0;
        return s;
    }

    @Override
    public MemorySegment allocate(long byteSize, long byteAlignment) {
        long at = (used + byteAlignment - 1) & -byteAlignment;
        if (byteSize > BLOCK - at) {
            if (overflow == null) overflow = Arena.ofConfined();
            return overflow.allocate(byteSize, byteAlignment);
        }
        used = at + byteSize;
        return block.asSlice(at, byteSize).fill((byte) 0);
    }

    /**
     * A heap array of at least {@code count} ints, this scratch's own (contents undefined), to
     * copy a returned struct into in one call and decode it there: an array per call was the
     * largest allocation of a GETATTR (statx, JFR).
     */
    int[] words(int count) {
        if (words.length < count) words = new int[count];
        return words;
    }

    @Override
    public void close() {
        open = false;
        if (overflow != null) {
            overflow.close();
            overflow = null;
        }
    }
}
