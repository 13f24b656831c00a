package io.jvhost.memory;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.Mapping;
import io.jvhost.nativeio.NativeException;
import java.lang.foreign.MemorySegment;

/**
 * A memfd with the front-end's own mapping of it, as QEMU has for guest RAM: tests hand the fd
 * to the back-end types, which map it a second time, and check both views share the bytes.
 */
public final class Memfd implements AutoCloseable {
    private final Fd fd;
    private final Mapping frontEndView;

    public Memfd(String name, long size) throws NativeException {
        fd = Libc.memfdCreate(name, Libc.MFD_CLOEXEC);
        Libc.ftruncate(fd, size);
        frontEndView = Mapping.map(fd, 0, size, true);
    }

    public Fd fd() {
        return fd;
    }

    /** The "front-end" mapping: its address is what goes into the memory table as user address. */
    public MemorySegment view() {
        return frontEndView.segment();
    }

    public long userAddr() {
        return frontEndView.segment().address();
    }

    @Override
    public void close() {
        frontEndView.close();
        fd.close();
    }
}
