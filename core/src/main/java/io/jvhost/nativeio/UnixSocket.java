package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * An AF_UNIX stream socket with file-descriptor passing (SCM_RIGHTS), as vhost-user needs:
 * fds travel as ancillary data with the first byte of a message. Received fds are created
 * close-on-exec (MSG_CMSG_CLOEXEC) and handed to the caller as owned {@link Fd}s.
 */
public final class UnixSocket implements AutoCloseable {
    /** vhost-user allows at most 8 fds per message; we accept the same. */
    public static final int MAX_FDS = 8;

    private static final int SUN_PATH_MAX = 108;
    private static final long SOCKADDR_UN_SIZE = 110;
    private static final long MSGHDR_SIZE = 56;
    private static final long CMSG_HEADER = 16;

    private static final MethodHandle SOCKET =
            Libc.errnoCall("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SOCKETPAIR =
            Libc.errnoCall("socketpair", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle BIND =
            Libc.errnoCall("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LISTEN =
            Libc.errnoCall("listen", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle ACCEPT4 =
            Libc.errnoCall("accept4", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle CONNECT =
            Libc.errnoCall("connect", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SENDMSG =
            Libc.errnoCall("sendmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RECVMSG =
            Libc.errnoCall("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SHUTDOWN =
            Libc.errnoCall("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));

    /** What one recvmsg delivered: bytes == 0 means the peer closed (EOF). */
    public record Received(int bytes, List<Fd> fds, boolean controlTruncated) {
        public Received {
            fds = List.copyOf(fds);
        }
    }

    private final Fd fd;

    private UnixSocket(Fd fd) {
        this.fd = fd;
    }

    /** Wraps an inherited, already connected or listening socket (e.g. {@code --fd N}). */
    public static UnixSocket adopt(Fd fd) {
        return new UnixSocket(fd);
    }

    public Fd fd() {
        return fd;
    }

    private static Fd newSocket() throws NativeException {
        return newSocket(Libc.SOCK_STREAM);
    }

    private static Fd newSocket(int type) throws NativeException {
        MemorySegment st = Libc.capture();
        try {
            int r = (int) SOCKET.invokeExact(st, Libc.AF_UNIX, type | Libc.SOCK_CLOEXEC, 0);
            if (r < 0) throw Libc.fail("socket", st);
            return Fd.adopt(r);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    private static MemorySegment sockaddr(Arena a, Path path) {
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        if (p.length >= SUN_PATH_MAX) {
            throw new IllegalArgumentException("socket path longer than " + (SUN_PATH_MAX - 1) + " bytes: " + path);
        }
        MemorySegment sa = a.allocate(SOCKADDR_UN_SIZE, 2);
        sa.set(ValueLayouts.SHORT, 0, (short) Libc.AF_UNIX);
        MemorySegment.copy(p, 0, sa, java.lang.foreign.ValueLayout.JAVA_BYTE, 2, p.length);
        return sa;
    }

    /**
     * A listening socket bound to {@code path} (an existing file there is not replaced). It is
     * bound and set listening under a temporary name beside {@code path}, then linked into place:
     * whoever waits for the file (QEMU, libvirt, a test) may connect as soon as it appears, where
     * between bind() and listen() a connect would be refused. A path too long for the temporary
     * name is bound in place.
     */
    public static UnixSocket listen(Path path, int backlog) throws NativeException {
        Path staging = path.resolveSibling(
                "." + path.getFileName() + "." + ProcessHandle.current().pid() + "~");
        if (staging.toString().getBytes(StandardCharsets.UTF_8).length >= SUN_PATH_MAX) {
            return bindAndListen(path, backlog);
        }
        byte[] stagingName = FileCalls.bytes(staging.toString());
        unlinkIfThere(stagingName); // left by a process of the same pid that died right there
        UnixSocket s = bindAndListen(staging, backlog);
        try {
            FileCalls.linkat(null, stagingName, null, FileCalls.bytes(path.toString()), 0);
            return s;
        } catch (NativeException e) {
            s.close();
            throw e;
        } finally {
            unlinkIfThere(stagingName);
        }
    }

    private static void unlinkIfThere(byte[] path) throws NativeException {
        try {
            FileCalls.unlinkat(null, path, 0);
        } catch (NativeException e) {
            if (e.errno() != Errno.ENOENT) throw e;
        }
    }

    private static UnixSocket bindAndListen(Path path, int backlog) throws NativeException {
        Fd s = newSocket();
        MemorySegment st = Libc.capture();
        try (Arena a = Arena.ofConfined()) {
            if ((int) BIND.invokeExact(st, s.value(), sockaddr(a, path), (int) SOCKADDR_UN_SIZE) < 0) {
                throw Libc.fail("bind(" + path + ")", st);
            }
            if ((int) LISTEN.invokeExact(st, s.value(), backlog) < 0) throw Libc.fail("listen", st);
            return new UnixSocket(s);
        } catch (NativeException e) {
            s.close();
            throw e;
        } catch (Throwable t) {
            s.close();
            throw Libc.unexpected(t);
        }
    }

    public static UnixSocket connect(Path path) throws NativeException {
        return connect(path, Libc.SOCK_STREAM);
    }

    /**
     * A datagram socket connected to {@code path} (syslog's /dev/log): each {@link Libc#write}
     * on its descriptor sends one datagram.
     */
    public static UnixSocket connectDatagram(Path path) throws NativeException {
        return connect(path, Libc.SOCK_DGRAM);
    }

    private static UnixSocket connect(Path path, int type) throws NativeException {
        Fd s = newSocket(type);
        MemorySegment st = Libc.capture();
        try (Arena a = Arena.ofConfined()) {
            while (true) {
                int r = (int) CONNECT.invokeExact(st, s.value(), sockaddr(a, path), (int) SOCKADDR_UN_SIZE);
                if (r == 0) return new UnixSocket(s);
                if (Libc.errno(st) != Errno.EINTR) throw Libc.fail("connect(" + path + ")", st);
            }
        } catch (NativeException e) {
            s.close();
            throw e;
        } catch (Throwable t) {
            s.close();
            throw Libc.unexpected(t);
        }
    }

    /** A connected pair (socketpair), for tests and in-process front-end/back-end wiring. */
    public static UnixSocket[] pair() throws NativeException {
        MemorySegment st = Libc.capture();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment fds = a.allocate(JAVA_INT, 2);
            int r = (int) SOCKETPAIR.invokeExact(st, Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0, fds);
            if (r < 0) throw Libc.fail("socketpair", st);
            return new UnixSocket[] {
                new UnixSocket(Fd.adopt(fds.getAtIndex(JAVA_INT, 0))),
                new UnixSocket(Fd.adopt(fds.getAtIndex(JAVA_INT, 1)))
            };
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** Blocks until a peer connects; the new socket is close-on-exec. */
    public UnixSocket accept() throws NativeException {
        MemorySegment st = Libc.capture();
        try {
            while (true) {
                int r = (int)
                        ACCEPT4.invokeExact(st, fd.value(), MemorySegment.NULL, MemorySegment.NULL, Libc.SOCK_CLOEXEC);
                if (r >= 0) return new UnixSocket(Fd.adopt(r));
                if (Libc.errno(st) != Errno.EINTR) throw Libc.fail("accept4", st);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /**
     * Sends all remaining bytes of {@code data}; {@code fds} (at most 8) ride with the first
     * chunk. The fds stay owned by the caller. MSG_NOSIGNAL: a dead peer is an EPIPE exception,
     * not a process-killing SIGPIPE.
     */
    public void sendMsg(ByteBuffer data, List<Fd> fds) throws NativeException {
        if (fds.size() > MAX_FDS) throw new IllegalArgumentException("at most " + MAX_FDS + " fds per message");
        MemorySegment st = Libc.capture();
        try (Arena a = Arena.ofConfined()) {
            int len = data.remaining();
            MemorySegment buf = a.allocate(Math.max(1, len));
            MemorySegment.copy(MemorySegment.ofBuffer(data), 0, buf, 0, len);
            MemorySegment iov = a.allocate(16, 8);
            MemorySegment msg = a.allocate(MSGHDR_SIZE, 8);
            long sent = 0;
            boolean withFds = !fds.isEmpty();
            do {
                msg.fill((byte) 0);
                iov.set(ADDRESS, 0, buf.asSlice(sent));
                iov.set(JAVA_LONG, 8, len - sent);
                msg.set(ADDRESS, 16, iov);
                msg.set(JAVA_LONG, 24, 1L);
                if (withFds) {
                    long space = cmsgSpace(fds.size());
                    MemorySegment cmsg = a.allocate(space, 8);
                    cmsg.set(JAVA_LONG, 0, CMSG_HEADER + 4L * fds.size());
                    cmsg.set(JAVA_INT, 8, Libc.SOL_SOCKET);
                    cmsg.set(JAVA_INT, 12, Libc.SCM_RIGHTS);
                    for (int i = 0; i < fds.size(); i++)
                        cmsg.set(JAVA_INT, CMSG_HEADER + 4L * i, fds.get(i).value());
                    msg.set(ADDRESS, 32, cmsg);
                    msg.set(JAVA_LONG, 40, space);
                }
                long r = (long) SENDMSG.invokeExact(st, fd.value(), msg, Libc.MSG_NOSIGNAL);
                if (r < 0) {
                    if (Libc.errno(st) == Errno.EINTR) continue;
                    throw Libc.fail("sendmsg", st);
                }
                sent += r;
                withFds = false;
            } while (sent < len);
            data.position(data.limit());
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    private static long cmsgSpace(int nfds) {
        return CMSG_HEADER + ((4L * nfds + 7) & ~7L);
    }

    /**
     * One recvmsg into {@code dst} (up to its remaining space), accepting up to {@code maxFds}
     * fds. If the peer sent more fds than fit, the kernel truncates the control data
     * (MSG_CTRUNC): the fds that did arrive are returned and {@code controlTruncated} is set so
     * the caller can reject the message.
     */
    public Received recvMsg(ByteBuffer dst, int maxFds) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Arena a = Arena.ofConfined()) {
            int want = dst.remaining();
            MemorySegment buf = a.allocate(Math.max(1, want));
            MemorySegment iov = a.allocate(16, 8);
            iov.set(ADDRESS, 0, buf);
            iov.set(JAVA_LONG, 8, want);
            MemorySegment msg = a.allocate(MSGHDR_SIZE, 8);
            msg.set(ADDRESS, 16, iov);
            msg.set(JAVA_LONG, 24, 1L);
            long space = maxFds > 0 ? cmsgSpace(maxFds) : 0;
            MemorySegment control = space > 0 ? a.allocate(space, 8) : MemorySegment.NULL;
            msg.set(ADDRESS, 32, control);
            msg.set(JAVA_LONG, 40, space);
            long r;
            while (true) {
                r = (long) RECVMSG.invokeExact(st, fd.value(), msg, Libc.MSG_CMSG_CLOEXEC);
                if (r >= 0) break;
                if (Libc.errno(st) != Errno.EINTR) throw Libc.fail("recvmsg", st);
            }
            List<Fd> fds = new ArrayList<>();
            long controlLen = msg.get(JAVA_LONG, 40);
            int flags = msg.get(JAVA_INT, 48);
            long off = 0;
            while (space > 0 && off + CMSG_HEADER <= controlLen) {
                long cmsgLen = control.get(JAVA_LONG, off);
                int level = control.get(JAVA_INT, off + 8);
                int type = control.get(JAVA_INT, off + 12);
                if (cmsgLen < CMSG_HEADER || off + cmsgLen > controlLen) break;
                if (level == Libc.SOL_SOCKET && type == Libc.SCM_RIGHTS) {
                    long n = (cmsgLen - CMSG_HEADER) / 4;
                    for (long i = 0; i < n; i++) fds.add(Fd.adopt(control.get(JAVA_INT, off + CMSG_HEADER + 4 * i)));
                }
                off += (cmsgLen + 7) & ~7L;
            }
            MemorySegment.copy(buf, 0, MemorySegment.ofBuffer(dst), 0, r);
            dst.position(dst.position() + (int) r);
            // CMSG padding can fit one fd more than asked for: count that as truncation too.
            return new Received((int) r, fds, (flags & Libc.MSG_CTRUNC) != 0 || fds.size() > maxFds);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** Fills {@code dst} completely, rejecting any fds that arrive (closed at once). */
    public void recvFully(ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            Received r = recvMsg(dst, MAX_FDS);
            r.fds().forEach(Fd::close);
            if (r.bytes() == 0)
                throw new EOFException("peer closed the socket with " + dst.remaining() + " bytes missing");
            if (!r.fds().isEmpty()) throw new IOException("unexpected file descriptors in the middle of a message");
        }
    }

    /** shutdown(2) both directions: wakes a thread blocked in recvmsg/accept on this socket. */
    public void shutdown() {
        try {
            int r = (int) SHUTDOWN.invokeExact(Libc.capture(), fd.value(), Libc.SHUT_RDWR);
        } catch (IllegalStateException closed) {
            // already closed: nothing to wake
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    @Override
    public void close() {
        fd.close();
    }
}
