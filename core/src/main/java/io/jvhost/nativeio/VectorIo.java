package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * Scatter/gather file I/O (preadv/pwritev) between a file and several native segments in one
 * call: how file data moves straight between a file and guest buffers split across descriptors.
 * Segments must be native (mapped guest memory, off-heap buffers).
 */
public final class VectorIo {
    /** Linux UIO_MAXIOV: longer lists are sent in several calls. */
    public static final int IOV_MAX = 1024;

    private static final long IOVEC_SIZE = 16;

    private static final MethodHandle PREADV =
            Libc.errnoCall("preadv64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle PWRITEV =
            Libc.errnoCall("pwritev64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));

    private VectorIo() {}

    /**
     * One preadv(2) of {@code fd} at {@code offset} into {@code buffers} (at most {@link #IOV_MAX}
     * of them are used). Returns bytes read, 0 at end of file. Retries on EINTR.
     */
    public static long preadv(Fd fd, List<MemorySegment> buffers, long offset) throws NativeException {
        return transfer(PREADV, "preadv", fd, buffers, offset);
    }

    /** One pwritev(2) of {@code buffers} to {@code fd} at {@code offset}; returns bytes written. */
    public static long pwritev(Fd fd, List<MemorySegment> buffers, long offset) throws NativeException {
        return transfer(PWRITEV, "pwritev", fd, buffers, offset);
    }

    private static long transfer(MethodHandle call, String name, Fd fd, List<MemorySegment> buffers, long offset)
            throws NativeException {
        int n = Math.min(buffers.size(), IOV_MAX);
        if (n == 0) return 0;
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            MemorySegment iov = a.allocate(IOVEC_SIZE * n, 8);
            for (int i = 0; i < n; i++) {
                MemorySegment b = buffers.get(i);
                if (!b.isNative()) throw new IllegalArgumentException("not a native segment: " + b);
                iov.set(ADDRESS, IOVEC_SIZE * i, b);
                iov.set(JAVA_LONG, IOVEC_SIZE * i + 8, b.byteSize());
            }
            while (true) {
                long r = (long) call.invokeExact(st, fd.value(), iov, n, offset);
                if (r >= 0) return r;
                if (Libc.errno(st) == Errno.EINTR) continue;
                throw Libc.fail(name, st);
            }
        } catch (NativeException | IllegalArgumentException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }
}
