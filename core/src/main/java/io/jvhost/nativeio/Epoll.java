package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * epoll(7) with a caller-chosen 64-bit token per registration. struct epoll_event is packed
 * (12 bytes) on x86_64 and naturally aligned (16 bytes) elsewhere; both layouts are handled.
 */
public final class Epoll implements AutoCloseable {
    public static final int EPOLLIN = 0x1,
            EPOLLOUT = 0x4,
            EPOLLERR = 0x8,
            EPOLLHUP = 0x10,
            EPOLLRDHUP = 0x2000,
            EPOLLET = 1 << 31;
    private static final int EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;
    private static final int EPOLL_CLOEXEC = 02000000;
    private static final boolean PACKED =
            "amd64".equals(System.getProperty("os.arch")) || "x86_64".equals(System.getProperty("os.arch"));
    private static final long EVENT_SIZE = PACKED ? 12 : 16;
    private static final long DATA_OFFSET = PACKED ? 4 : 8;

    private static final MethodHandle CREATE =
            Libc.errnoCall("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle CTL =
            Libc.errnoCall("epoll_ctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle WAIT =
            Libc.errnoCall("epoll_wait", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));

    /** A reusable buffer of ready events, owned by the one thread that waits. */
    public static final class Events implements AutoCloseable {
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment buf;
        private final int capacity;
        private int count;

        public Events(int capacity) {
            this.capacity = capacity;
            this.buf = arena.allocate(EVENT_SIZE * capacity, 8);
        }

        public int count() {
            return count;
        }

        public int events(int i) {
            return buf.get(ValueLayouts.INT, i * EVENT_SIZE);
        }

        public long token(int i) {
            return buf.get(ValueLayouts.LONG, i * EVENT_SIZE + DATA_OFFSET);
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    private final Fd fd;

    private Epoll(Fd fd) {
        this.fd = fd;
    }

    public static Epoll create() throws NativeException {
        MemorySegment st = Libc.capture();
        try {
            int r = (int) CREATE.invokeExact(st, EPOLL_CLOEXEC);
            if (r < 0) throw Libc.fail("epoll_create1", st);
            return new Epoll(Fd.adopt(r));
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    public void add(Fd target, int events, long token) throws NativeException {
        ctl(EPOLL_CTL_ADD, target, events, token, "epoll_ctl(ADD)");
    }

    public void modify(Fd target, int events, long token) throws NativeException {
        ctl(EPOLL_CTL_MOD, target, events, token, "epoll_ctl(MOD)");
    }

    public void remove(Fd target) throws NativeException {
        ctl(EPOLL_CTL_DEL, target, 0, 0, "epoll_ctl(DEL)");
    }

    private void ctl(int op, Fd target, int events, long token, String what) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ev = a.allocate(EVENT_SIZE, 8);
            ev.set(ValueLayouts.INT, 0, events);
            ev.set(ValueLayouts.LONG, DATA_OFFSET, token);
            int r = (int) CTL.invokeExact(st, fd.value(), op, target.value(), ev);
            if (r < 0) throw Libc.fail(what, st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** Waits for events; returns how many are ready (0 on timeout or signal interruption). */
    public int await(Events out, int timeoutMillis) throws NativeException {
        MemorySegment st = Libc.capture();
        try {
            int r = (int) WAIT.invokeExact(st, fd.value(), out.buf, out.capacity, timeoutMillis);
            if (r < 0) {
                if (Libc.errno(st) == Errno.EINTR) r = 0;
                else throw Libc.fail("epoll_wait", st);
            }
            out.count = r;
            return r;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
