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
    /**
     * Words a call copies a struct out into before decoding it (statx's, a file handle's header):
     * an array per call was a young collection's worth per 15,000 files of a migration's load.
     */
    private final int[] words = new int[WORDS];

    static final int WORDS = 64;
    private long used;
    private boolean open;
    private Arena overflow;

    private Scratch() {
        block = Arena.ofAuto().allocate(BLOCK, 16); // lives as long as its thread
    }

    /**
     * Sets up this thread's per-thread native memory (its scratch block, its errno capture) now.
     * For a thread made for a burst of downcalls: ThreadLocal's first-use branch then runs here,
     * not inside a compiled downcall wrapper that never saw it (the JIT log of a migration's load:
     * statx deoptimized at that branch as the load's fresh threads made their first calls).
     */
    public static void prepareThisThread() {
        LOCAL.get();
        Libc.capture();
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

    /** This scratch's {@link #WORDS} words, for one copy-out at a time; their old contents are garbage. */
    int[] words() {
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
