package io.jvhost.devices.fs.fuse;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.WriteSource;
import io.jvhost.nativeio.Errno;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.VectorIo;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * WRITE data still in the chain's device-readable buffers: {@link #writeTo} hands those guest
 * buffers to pwritev, so the data goes from guest memory to the file without a heap copy.
 */
public final class GuestWriteSource implements WriteSource {
    private final List<MemorySegment> data;
    private final long size;

    /** @param data read-only views of the guest buffers holding exactly the data */
    public GuestWriteSource(List<MemorySegment> data) {
        this.data = List.copyOf(data);
        this.size = Segments.total(this.data);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public long writeTo(Fd file, long offset) throws FsException {
        long done = 0;
        try {
            while (done < size) {
                long n = VectorIo.pwritev(file, Segments.range(data, done, size - done), offset + done);
                if (n == 0) throw new FsException(Errno.EIO, "pwritev wrote nothing");
                done += n;
            }
            return done;
        } catch (NativeException e) {
            if (done > 0) return done; // a short write is an answer; the guest retries the rest
            throw new FsException(e.errno(), e.getMessage(), e);
        }
    }
}
