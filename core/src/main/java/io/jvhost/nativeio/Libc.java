package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * Raw downcalls into the C library through FFM. Every call that can fail captures errno in the
 * same downcall (Linker.Option.captureCallState) and throws {@link NativeException} naming the
 * call, so errno is never read after the JVM had a chance to clobber it. Calls that may be
 * interrupted by signals are retried on EINTR. Higher-level types (Epoll, UnixSocket, ...)
 * wrap these; nothing outside this package sees raw addresses.
 */
public final class Libc {
    private Libc() {}

    // ---- constants (Linux, x86_64 / aarch64 generic ABI) ----
    public static final int O_RDONLY = 0,
            O_ACCMODE = 3,
            O_WRONLY = 1,
            O_RDWR = 2,
            O_CREAT = 0100,
            O_EXCL = 0200,
            O_NOCTTY = 0400,
            O_TRUNC = 01000,
            O_APPEND = 02000,
            O_NONBLOCK = 04000,
            O_DIRECT = 040000,
            O_DIRECTORY = 0200000,
            O_NOFOLLOW = 0400000,
            O_NOATIME = 01000000,
            O_CLOEXEC = 02000000,
            O_PATH = 010000000;
    public static final int F_DUPFD_CLOEXEC = 1030,
            F_GETFD = 1,
            F_SETFD = 2,
            F_GETFL = 3,
            F_SETFL = 4,
            F_SETPIPE_SZ = 1031,
            F_GETPIPE_SZ = 1032;
    public static final int PROT_READ = 1,
            PROT_WRITE = 2,
            MAP_SHARED = 1,
            MAP_PRIVATE = 2,
            MAP_ANONYMOUS = 0x20,
            MAP_NORESERVE = 0x4000;
    public static final int MFD_CLOEXEC = 1, MFD_ALLOW_SEALING = 2;
    public static final int EFD_SEMAPHORE = 1, EFD_NONBLOCK = 04000, EFD_CLOEXEC = 02000000;
    public static final int AF_UNIX = 1,
            SOCK_STREAM = 1,
            SOCK_DGRAM = 2,
            SOCK_NONBLOCK = 04000,
            SOCK_CLOEXEC = 02000000,
            SOL_SOCKET = 1,
            SCM_RIGHTS = 1;
    public static final int MSG_CTRUNC = 0x8, MSG_DONTWAIT = 0x40, MSG_NOSIGNAL = 0x4000, MSG_CMSG_CLOEXEC = 0x40000000;
    public static final int SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;
    public static final int SPLICE_F_MOVE = 1, SPLICE_F_NONBLOCK = 2, SPLICE_F_MORE = 4, SPLICE_F_GIFT = 8;
    public static final int POLLIN = 1, POLLOUT = 4, POLLERR = 8, POLLHUP = 0x10, POLLNVAL = 0x20;

    static final SymbolLookup LOOKUP = Linker.nativeLinker().defaultLookup();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO_HANDLE =
            CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /** One errno capture buffer per thread: downcalls are synchronous, so no call shares it. */
    private static final ThreadLocal<MemorySegment> CAPTURE =
            ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

    static MethodHandle errnoCall(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] opts = new Linker.Option[extra.length + 1];
        opts[0] = CAPTURE_ERRNO;
        System.arraycopy(extra, 0, opts, 1, extra.length);
        return NativeAccess.downcall(symbol(name), fd, true, opts);
    }

    static MethodHandle plainCall(String name, FunctionDescriptor fd) {
        return NativeAccess.downcall(symbol(name), fd, false);
    }

    private static MemorySegment symbol(String name) {
        return LOOKUP.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    }

    static MemorySegment capture() {
        return CAPTURE.get();
    }

    static int errno(MemorySegment capture) {
        return (int) ERRNO_HANDLE.get(capture, 0L);
    }

    static NativeException fail(String call, MemorySegment capture) {
        return new NativeException(call, errno(capture));
    }

    static RuntimeException unexpected(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException("native call failed", t);
    }

    // ---- handles ----
    private static final MethodHandle CLOSE = errnoCall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FCNTL_INT = errnoCall(
            "fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle FCNTL0 = errnoCall("fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle READ =
            errnoCall("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle WRITE =
            errnoCall("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    /**
     * read(2) and write(2) as critical calls that may take a heap segment ({@link HeapIo}). Here,
     * not in HeapIo: a daemon links the handles of the classes initialized when it listens, and
     * HeapIo is first used by a migration, whose downtime would then pay for linking them.
     */
    static final MethodHandle READ_HEAP = errnoCall(
            "read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), Linker.Option.critical(true));

    static final MethodHandle WRITE_HEAP = errnoCall(
            "write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), Linker.Option.critical(true));
    private static final MethodHandle PREAD =
            errnoCall("pread64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PWRITE =
            errnoCall("pwrite64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle MEMFD_CREATE =
            errnoCall("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FTRUNCATE =
            errnoCall("ftruncate64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MMAP = errnoCall(
            "mmap64", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = errnoCall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle EVENTFD =
            errnoCall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle PIPE2 = errnoCall("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle POLL =
            errnoCall("poll", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle SPLICE = errnoCall(
            "splice", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle VMSPLICE =
            errnoCall("vmsplice", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));
    private static final MethodHandle STRERROR = plainCall("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

    // ---- fd basics ----
    static void closeQuietly(int fd) {
        try {
            int r = (int) CLOSE.invokeExact(capture(), fd);
            // EINTR on close: Linux has already released the fd; retrying could close a reused one.
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static int dupCloexec(int fd) throws NativeException {
        return fcntl(fd, F_DUPFD_CLOEXEC, 3, "fcntl(F_DUPFD_CLOEXEC)");
    }

    public static int fcntl(int fd, int cmd, int arg, String what) throws NativeException {
        MemorySegment st = capture();
        try {
            int r = (int) FCNTL_INT.invokeExact(st, fd, cmd, arg);
            if (r < 0) throw fail(what, st);
            return r;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static int fcntl(int fd, int cmd, String what) throws NativeException {
        MemorySegment st = capture();
        try {
            int r = (int) FCNTL0.invokeExact(st, fd, cmd);
            if (r < 0) throw fail(what, st);
            return r;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** Sets or clears O_NONBLOCK. */
    public static void setNonBlocking(Fd fd, boolean on) throws NativeException {
        int fl = fcntl(fd.value(), F_GETFL, "fcntl(F_GETFL)");
        int nfl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
        if (nfl != fl) fcntl(fd.value(), F_SETFL, nfl, "fcntl(F_SETFL)");
    }

    /**
     * read(2) into a native segment. Returns bytes read, 0 at EOF, -1 if the fd is non-blocking
     * and has nothing (EAGAIN). Retries on EINTR.
     */
    public static long read(Fd fd, MemorySegment buf, long len) throws NativeException {
        MemorySegment st = capture();
        try {
            while (true) {
                long r = (long) READ.invokeExact(st, fd.value(), buf, len);
                if (r >= 0) return r;
                int e = errno(st);
                if (e == Errno.EINTR) continue;
                if (e == Errno.EAGAIN) return -1;
                throw new NativeException("read", e);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** write(2) from a native segment; returns bytes written or -1 on EAGAIN. Retries on EINTR. */
    public static long write(Fd fd, MemorySegment buf, long len) throws NativeException {
        MemorySegment st = capture();
        try {
            while (true) {
                long r = (long) WRITE.invokeExact(st, fd.value(), buf, len);
                if (r >= 0) return r;
                int e = errno(st);
                if (e == Errno.EINTR) continue;
                if (e == Errno.EAGAIN) return -1;
                throw new NativeException("write", e);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long pread(Fd fd, MemorySegment buf, long len, long offset) throws NativeException {
        MemorySegment st = capture();
        try {
            while (true) {
                long r = (long) PREAD.invokeExact(st, fd.value(), buf, len, offset);
                if (r >= 0) return r;
                if (errno(st) == Errno.EINTR) continue;
                throw fail("pread", st);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static long pwrite(Fd fd, MemorySegment buf, long len, long offset) throws NativeException {
        MemorySegment st = capture();
        try {
            while (true) {
                long r = (long) PWRITE.invokeExact(st, fd.value(), buf, len, offset);
                if (r >= 0) return r;
                if (errno(st) == Errno.EINTR) continue;
                throw fail("pwrite", st);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- memory ----
    public static Fd memfdCreate(String name, int flags) throws NativeException {
        MemorySegment st = capture();
        try (Scratch a = Scratch.open()) {
            int r = (int) MEMFD_CREATE.invokeExact(st, a.allocateFrom(name), flags);
            if (r < 0) throw fail("memfd_create", st);
            return Fd.adopt(r);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    private static final MethodHandle EXIT_NOW = plainCall("_exit", FunctionDescriptor.ofVoid(JAVA_INT));

    /**
     * _exit(2): ends the process at once with {@code status}, skipping the JVM's exit (shutdown
     * hooks, and the wait for compiler threads to block, which can take hundreds of ms on a busy
     * host). For a daemon stopped by a signal, as virtiofsd's handler ends it.
     */
    public static void exitNow(int status) {
        try {
            EXIT_NOW.invokeExact(status);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    public static void ftruncate(Fd fd, long size) throws NativeException {
        MemorySegment st = capture();
        try {
            int r = (int) FTRUNCATE.invokeExact(st, fd.value(), size);
            if (r < 0) throw fail("ftruncate", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** mmap(2); returns the raw address (a zero-length segment). {@link Mapping} owns the result. */
    static MemorySegment mmap(long len, int prot, int flags, int fd, long offset) throws NativeException {
        MemorySegment st = capture();
        try {
            MemorySegment r = (MemorySegment) MMAP.invokeExact(st, MemorySegment.NULL, len, prot, flags, fd, offset);
            if (r.address() == -1L) throw fail("mmap", st);
            return r;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static void munmap(MemorySegment addr, long len) {
        try {
            int r = (int) MUNMAP.invokeExact(capture(), addr, len);
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    // ---- eventfd / pipe / poll ----
    public static Fd eventfd(int initval, int flags) throws NativeException {
        MemorySegment st = capture();
        try {
            int r = (int) EVENTFD.invokeExact(st, initval, flags);
            if (r < 0) throw fail("eventfd", st);
            return Fd.adopt(r);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** pipe2(2): returns {read end, write end}. */
    public static Fd[] pipe2(int flags) throws NativeException {
        MemorySegment st = capture();
        try (Scratch a = Scratch.open()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            int r = (int) PIPE2.invokeExact(st, fds, flags);
            if (r < 0) throw fail("pipe2", st);
            return new Fd[] {Fd.adopt(fds.getAtIndex(JAVA_INT, 0)), Fd.adopt(fds.getAtIndex(JAVA_INT, 1))};
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /**
     * poll(2) on one fd. Returns the revents, or 0 on timeout. timeoutMillis &lt; 0 waits forever.
     * Retries on EINTR (with the full timeout again: callers use it as an upper bound only).
     */
    public static int pollOne(Fd fd, int events, int timeoutMillis) throws NativeException {
        MemorySegment st = capture();
        try (Scratch a = Scratch.open()) {
            MemorySegment pfd = a.allocate(8, 4);
            pfd.set(JAVA_INT, 0, fd.value());
            pfd.set(ValueLayouts.SHORT, 4, (short) events);
            while (true) {
                int r = (int) POLL.invokeExact(st, pfd, 1L, timeoutMillis);
                if (r >= 0) return r == 0 ? 0 : pfd.get(ValueLayouts.SHORT, 6) & 0xffff;
                if (errno(st) == Errno.EINTR) continue;
                throw fail("poll", st);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** splice(2) between two fds (one must be a pipe) without offsets; -1 on EAGAIN. */
    public static long splice(Fd in, Fd out, long len, int flags) throws NativeException {
        MemorySegment st = capture();
        try {
            while (true) {
                long r = (long) SPLICE.invokeExact(
                        st, in.value(), MemorySegment.NULL, out.value(), MemorySegment.NULL, len, flags);
                if (r >= 0) return r;
                int e = errno(st);
                if (e == Errno.EINTR) continue;
                if (e == Errno.EAGAIN) return -1;
                throw new NativeException("splice", e);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    /** vmsplice(2) of one native buffer into a pipe's write end; -1 on EAGAIN. */
    public static long vmsplice(Fd pipeWrite, MemorySegment buf, long len, int flags) throws NativeException {
        MemorySegment st = capture();
        try (Scratch a = Scratch.open()) {
            MemorySegment iov = a.allocate(16, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, len);
            while (true) {
                long r = (long) VMSPLICE.invokeExact(st, pipeWrite.value(), iov, 1L, flags);
                if (r >= 0) return r;
                int e = errno(st);
                if (e == Errno.EINTR) continue;
                if (e == Errno.EAGAIN) return -1;
                throw new NativeException("vmsplice", e);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw unexpected(t);
        }
    }

    static String strerror(int errno) {
        try {
            MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
            if (s.address() == 0) return "errno " + errno;
            return NativeAccess.sized(s, 256).getString(0);
        } catch (Throwable t) {
            return "errno " + errno;
        }
    }
}
