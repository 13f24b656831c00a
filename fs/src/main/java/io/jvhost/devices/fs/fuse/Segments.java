package io.jvhost.devices.fs.fuse;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** Views of a run of bytes spread over several guest buffers, for scatter/gather I/O. */
final class Segments {
    private Segments() {}

    /** The bytes {@code [from, from + length)} of the concatenation of {@code buffers}. */
    static List<MemorySegment> range(List<MemorySegment> buffers, long from, long length) {
        List<MemorySegment> out = new ArrayList<>();
        long skip = from, left = length;
        for (MemorySegment b : buffers) {
            if (left == 0) break;
            if (skip >= b.byteSize()) {
                skip -= b.byteSize();
                continue;
            }
            long n = Math.min(b.byteSize() - skip, left);
            if (n > 0) out.add(b.asSlice(skip, n));
            left -= n;
            skip = 0;
        }
        if (left != 0) throw new IndexOutOfBoundsException("range [" + from + ", +" + length + ") beyond the buffers");
        return out;
    }

    static long total(List<MemorySegment> buffers) {
        long t = 0;
        for (MemorySegment b : buffers) t += b.byteSize();
        return t;
    }
}
