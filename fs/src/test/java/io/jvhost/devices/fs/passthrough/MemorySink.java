package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.ReadSink;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A READ reply buffer in native memory standing in for guest memory: pread straight into it. */
final class MemorySink implements ReadSink {
    private final MemorySegment buffer;
    private long filled;

    MemorySink(int capacity) {
        buffer = Arena.ofAuto().allocate(Math.max(1, capacity));
    }

    @Override
    public long remaining() {
        return buffer.byteSize() - filled;
    }

    @Override
    public long readFrom(Fd file, long offset, long size) throws FsException {
        long n = Math.min(size, remaining());
        try {
            long r = Libc.pread(file, buffer.asSlice(filled, n), n, offset);
            filled += r;
            return r;
        } catch (NativeException e) {
            throw new FsException(e.errno(), e.getMessage());
        }
    }

    byte[] bytes() {
        return buffer.asSlice(0, filled).toArray(ValueLayout.JAVA_BYTE);
    }
}
