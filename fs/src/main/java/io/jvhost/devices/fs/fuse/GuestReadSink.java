package io.jvhost.devices.fs.fuse;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.ReadSink;
import io.jvhost.memory.LoggedSegment;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.VectorIo;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The device-writable part of a READ reply after the out header: {@link #readFrom} preadv's the
 * file straight into the mapped guest buffers and marks what it wrote in the dirty log, so file
 * data never passes through the Java heap.
 */
public final class GuestReadSink implements ReadSink {
    private final List<LoggedSegment> buffers;
    private final List<MemorySegment> raw;
    private final long capacity;
    private long written;

    /** @param buffers the guest buffers, in order, holding at most the bytes the guest asked for */
    public GuestReadSink(List<LoggedSegment> buffers) {
        this.buffers = List.copyOf(buffers);
        List<MemorySegment> r = new ArrayList<>(buffers.size());
        for (LoggedSegment b : this.buffers) r.add(b.unloggedView());
        this.raw = List.copyOf(r);
        this.capacity = Segments.total(raw);
    }

    @Override
    public long remaining() {
        return capacity - written;
    }

    /** Bytes placed in the guest buffers so far: the payload length of the reply. */
    public long written() {
        return written;
    }

    @Override
    public long readFrom(Fd file, long offset, long size) throws FsException {
        if (size < 0) throw new IllegalArgumentException("negative size " + size);
        long want = Math.min(size, remaining());
        long done = 0;
        try {
            while (done < want) {
                long n = VectorIo.preadv(file, Segments.range(raw, written, want - done), offset + done);
                if (n == 0) break; // end of file
                markWritten(written, n);
                written += n;
                done += n;
            }
            return done;
        } catch (NativeException e) {
            if (done > 0) return done; // a short read is an answer
            throw new FsException(e.errno(), e.getMessage(), e);
        }
    }

    /** Logs {@code [from, +len)} of the concatenated buffers as written. */
    private void markWritten(long from, long len) {
        long skip = from, left = len;
        for (LoggedSegment b : buffers) {
            if (left == 0) return;
            if (skip >= b.byteSize()) {
                skip -= b.byteSize();
                continue;
            }
            long n = Math.min(b.byteSize() - skip, left);
            b.markWritten(skip, n);
            left -= n;
            skip = 0;
        }
    }
}
