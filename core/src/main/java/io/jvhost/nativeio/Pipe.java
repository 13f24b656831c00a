package io.jvhost.nativeio;

/** A pipe's two ends, close-on-exec; the device-state transfer channel of seeds 000–002. */
public record Pipe(Fd readEnd, Fd writeEnd) implements AutoCloseable {
    /** Creates a pipe; {@code capacity} > 0 asks the kernel for that buffer size (F_SETPIPE_SZ). */
    public static Pipe create(int capacity) throws NativeException {
        Fd[] ends = Libc.pipe2(Libc.O_CLOEXEC);
        try {
            if (capacity > 0) Libc.fcntl(ends[1].value(), Libc.F_SETPIPE_SZ, capacity, "fcntl(F_SETPIPE_SZ)");
        } catch (NativeException e) {
            ends[0].close();
            ends[1].close();
            throw e;
        }
        return new Pipe(ends[0], ends[1]);
    }

    @Override
    public void close() {
        readEnd.close();
        writeEnd.close();
    }
}
