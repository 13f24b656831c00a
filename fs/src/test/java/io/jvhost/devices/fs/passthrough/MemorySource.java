package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.WriteSource;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** WRITE data in native memory standing in for guest memory: pwrite straight from it. */
final class MemorySource implements WriteSource {
    private final MemorySegment data;

    MemorySource(byte[] bytes) {
        data = Arena.ofAuto().allocate(Math.max(1, bytes.length)).asSlice(0, bytes.length);
        MemorySegment.copy(bytes, 0, data, ValueLayout.JAVA_BYTE, 0, bytes.length);
    }

    @Override
    public long size() {
        return data.byteSize();
    }

    @Override
    public long writeTo(Fd file, long offset) throws FsException {
        long done = 0;
        try {
            while (done < data.byteSize()) {
                long n = Libc.pwrite(file, data.asSlice(done), data.byteSize() - done, offset + done);
                if (n == 0) break;
                done += n;
            }
            return done;
        } catch (NativeException e) {
            throw new FsException(e.errno(), e.getMessage());
        }
    }
}
