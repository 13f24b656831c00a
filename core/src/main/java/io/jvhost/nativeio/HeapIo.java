package io.jvhost.nativeio;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Objects;

/**
 * read(2) and write(2) straight between a <em>non-blocking</em> fd and a Java array: FFM critical
 * downcalls with heap access, so the kernel copies into or out of the array itself, without a
 * native bounce buffer and the extra copy of every byte it costs (the device state's pipes move
 * a GiB through here). A critical call holds off the garbage collector until it returns, which
 * is why the fd must never block: the call then only ever copies what the pipe or socket holds
 * or has room for, at most {@link #MAX_CALL} bytes.
 */
public final class HeapIo {
    /** Bytes one call moves at most: bounds how long a call can hold off a safepoint. */
    public static final int MAX_CALL = 1 << 20;

    private HeapIo() {}

    /**
     * Reads into {@code b[off, off + len)} (at most {@link #MAX_CALL} bytes) from a non-blocking
     * fd: bytes read, 0 at EOF, -1 if nothing is there yet (EAGAIN). Retries on EINTR.
     */
    public static int read(Fd fd, byte[] b, int off, int len) throws NativeException {
        return call(Libc.READ_HEAP, "read", fd, b, off, len);
    }

    /** Writes {@code b[off, off + len)} (at most {@link #MAX_CALL} bytes) to a non-blocking fd; -1 on EAGAIN. */
    public static int write(Fd fd, byte[] b, int off, int len) throws NativeException {
        return call(Libc.WRITE_HEAP, "write", fd, b, off, len);
    }

    private static int call(MethodHandle h, String name, Fd fd, byte[] b, int off, int len) throws NativeException {
        Objects.checkFromIndexSize(off, len, b.length);
        MemorySegment buf = MemorySegment.ofArray(b).asSlice(off, len);
        long n = Math.min(len, MAX_CALL);
        MemorySegment st = Libc.capture();
        try {
            while (true) {
                long r = (long) h.invokeExact(st, fd.value(), buf, n);
                if (r >= 0) return (int) r;
                int e = Libc.errno(st);
                if (e == Errno.EINTR) continue;
                if (e == Errno.EAGAIN) return -1;
                throw new NativeException(name, e);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }
}
