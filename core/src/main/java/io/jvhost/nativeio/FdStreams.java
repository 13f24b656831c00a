package io.jvhost.nativeio;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Blocking java.io streams over an fd (pipe, socket, file). The stream owns the fd when asked
 * to: closing the output stream is what signals EOF to a pipe's reader.
 */
public final class FdStreams {
    private static final int CHUNK = 64 * 1024;

    private FdStreams() {}

    public static InputStream input(Fd fd, boolean owning) {
        return new InputStream() {
            private final Arena arena = Arena.ofShared();
            private final MemorySegment buf = arena.allocate(CHUNK);

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n <= 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public synchronized int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) return 0;
                long r = Libc.read(fd, buf, Math.min(len, CHUNK));
                if (r == -1) throw new IOException("read would block on a non-blocking fd");
                if (r == 0) return -1;
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, b, off, (int) r);
                return (int) r;
            }

            @Override
            public synchronized void close() {
                if (arena.scope().isAlive()) arena.close();
                if (owning) fd.close();
            }
        };
    }

    public static OutputStream output(Fd fd, boolean owning) {
        return new OutputStream() {
            private final Arena arena = Arena.ofShared();
            private final MemorySegment buf = arena.allocate(CHUNK);

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public synchronized void write(byte[] b, int off, int len) throws IOException {
                while (len > 0) {
                    int n = Math.min(len, CHUNK);
                    MemorySegment.copy(b, off, buf, ValueLayout.JAVA_BYTE, 0, n);
                    long done = 0;
                    while (done < n) {
                        long w = Libc.write(fd, buf.asSlice(done), n - done);
                        if (w == -1) throw new IOException("write would block on a non-blocking fd");
                        done += w;
                    }
                    off += n;
                    len -= n;
                }
            }

            @Override
            public synchronized void close() {
                if (arena.scope().isAlive()) arena.close();
                if (owning) fd.close();
            }
        };
    }
}
