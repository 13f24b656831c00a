package io.jvhost.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * An mmap'd range owned through a shared Arena: closing it unmaps the memory and invalidates
 * the segment for every thread at once (the JDK's handshake), so a worker that still holds the
 * segment gets an IllegalStateException instead of touching unmapped memory.
 */
public final class Mapping implements AutoCloseable {
    private final Arena arena;
    private final MemorySegment segment;

    private Mapping(Arena arena, MemorySegment segment) {
        this.arena = arena;
        this.segment = segment;
    }

    /** Maps {@code size} bytes of {@code fd} from {@code offset}, shared, read-write or read-only. */
    public static Mapping map(Fd fd, long offset, long size, boolean writable) throws NativeException {
        if (size <= 0) throw new IllegalArgumentException("mapping size must be positive: " + size);
        if (offset < 0) throw new IllegalArgumentException("negative mmap offset " + offset);
        int prot = Libc.PROT_READ | (writable ? Libc.PROT_WRITE : 0);
        MemorySegment raw = Libc.mmap(size, prot, Libc.MAP_SHARED, fd.value(), offset);
        Arena arena = Arena.ofShared();
        MemorySegment seg = NativeAccess.sized(raw, size, arena, s -> Libc.munmap(s, size));
        return new Mapping(arena, seg);
    }

    /** Anonymous private memory (e.g. test buffers that must be page aligned). */
    public static Mapping anonymous(long size) throws NativeException {
        MemorySegment raw =
                Libc.mmap(size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        Arena arena = Arena.ofShared();
        return new Mapping(arena, NativeAccess.sized(raw, size, arena, s -> Libc.munmap(s, size)));
    }

    public MemorySegment segment() {
        return segment;
    }

    public long size() {
        return segment.byteSize();
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}
