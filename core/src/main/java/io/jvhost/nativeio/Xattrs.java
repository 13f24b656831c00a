package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Extended attributes, by path (following: meant for /proc/self/fd/N paths of O_PATH
 * descriptors, see {@link FileCalls#procSelfFd}), by path without following the last
 * component (l*), or by open descriptor (f*, which O_PATH descriptors do not accept).
 */
public final class Xattrs {
    private Xattrs() {}

    public static final int XATTR_CREATE = 1, XATTR_REPLACE = 2;
    /** The kernel's XATTR_SIZE_MAX and XATTR_LIST_MAX. */
    public static final int SIZE_MAX = 65536, LIST_MAX = 65536;

    /** How a call names its file. */
    public enum Target {
        PATH,
        LINK,
        FD
    }

    private static final FunctionDescriptor GET_BY_PATH =
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG);
    private static final FunctionDescriptor GET_BY_FD =
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG);
    private static final FunctionDescriptor SET_BY_PATH =
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final FunctionDescriptor SET_BY_FD =
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT);
    private static final FunctionDescriptor LIST_BY_PATH =
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG);
    private static final FunctionDescriptor LIST_BY_FD = FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG);
    private static final FunctionDescriptor REMOVE_BY_PATH = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS);
    private static final FunctionDescriptor REMOVE_BY_FD = FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS);

    private static final MethodHandle GET = Libc.errnoCall("getxattr", GET_BY_PATH);
    private static final MethodHandle LGET = Libc.errnoCall("lgetxattr", GET_BY_PATH);
    private static final MethodHandle FGET = Libc.errnoCall("fgetxattr", GET_BY_FD);
    private static final MethodHandle SET = Libc.errnoCall("setxattr", SET_BY_PATH);
    private static final MethodHandle LSET = Libc.errnoCall("lsetxattr", SET_BY_PATH);
    private static final MethodHandle FSET = Libc.errnoCall("fsetxattr", SET_BY_FD);
    private static final MethodHandle LIST = Libc.errnoCall("listxattr", LIST_BY_PATH);
    private static final MethodHandle LLIST = Libc.errnoCall("llistxattr", LIST_BY_PATH);
    private static final MethodHandle FLIST = Libc.errnoCall("flistxattr", LIST_BY_FD);
    private static final MethodHandle REMOVE = Libc.errnoCall("removexattr", REMOVE_BY_PATH);
    private static final MethodHandle LREMOVE = Libc.errnoCall("lremovexattr", REMOVE_BY_PATH);
    private static final MethodHandle FREMOVE = Libc.errnoCall("fremovexattr", REMOVE_BY_FD);

    /** A file named the way {@code target} says: a path, or a descriptor. */
    public record File(Target target, byte[] path, Fd fd) {
        public static File path(byte[] path) {
            return new File(Target.PATH, path, null);
        }

        public static File link(byte[] path) {
            return new File(Target.LINK, path, null);
        }

        public static File fd(Fd fd) {
            return new File(Target.FD, null, fd);
        }

        /** The inode an O_PATH descriptor holds, through its /proc/self/fd magic link. */
        public static File inode(Fd opath) {
            return path(FileCalls.procSelfFd(opath));
        }
    }

    /** The whole value of {@code name}. */
    public static byte[] get(File f, byte[] name) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = FileCalls.cString(a, name);
            MemorySegment p = f.target() == Target.FD ? null : FileCalls.cString(a, f.path());
            // Ask for the size, then read; if the value grew in between (ERANGE), ask again.
            while (true) {
                long size = get(f, p, n, MemorySegment.NULL, 0, st);
                MemorySegment buf = a.allocate(Math.max(1, size));
                try {
                    long r = get(f, p, n, buf, size, st);
                    return buf.asSlice(0, r).toArray(JAVA_BYTE);
                } catch (NativeException e) {
                    if (e.errno() != Errno.ERANGE || size >= SIZE_MAX) throw e;
                }
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    private static long get(File f, MemorySegment p, MemorySegment n, MemorySegment buf, long size, MemorySegment st)
            throws Throwable {
        long r = switch (f.target()) {
            case PATH -> (long) GET.invokeExact(st, p, n, buf, size);
            case LINK -> (long) LGET.invokeExact(st, p, n, buf, size);
            case FD -> (long) FGET.invokeExact(st, f.fd().value(), n, buf, size);
        };
        if (r < 0) throw Libc.fail("getxattr", st);
        return r;
    }

    /** Sets {@code name} to {@code value}; flags XATTR_CREATE / XATTR_REPLACE. */
    public static void set(File f, byte[] name, byte[] value, int flags) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = FileCalls.cString(a, name);
            MemorySegment v = a.allocate(Math.max(1, value.length));
            MemorySegment.copy(value, 0, v, JAVA_BYTE, 0, value.length);
            long len = value.length;
            int r = switch (f.target()) {
                case PATH -> (int) SET.invokeExact(st, FileCalls.cString(a, f.path()), n, v, len, flags);
                case LINK -> (int) LSET.invokeExact(st, FileCalls.cString(a, f.path()), n, v, len, flags);
                case FD -> (int) FSET.invokeExact(st, f.fd().value(), n, v, len, flags);
            };
            FileCalls.check(r, "setxattr", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** The names, each NUL-terminated, concatenated (as listxattr(2) returns them). */
    public static byte[] list(File f) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = f.target() == Target.FD ? null : FileCalls.cString(a, f.path());
            while (true) {
                long size = list(f, p, MemorySegment.NULL, 0, st);
                MemorySegment buf = a.allocate(Math.max(1, size));
                try {
                    long r = list(f, p, buf, size, st);
                    return buf.asSlice(0, r).toArray(JAVA_BYTE);
                } catch (NativeException e) {
                    if (e.errno() != Errno.ERANGE || size >= LIST_MAX) throw e;
                }
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    private static long list(File f, MemorySegment p, MemorySegment buf, long size, MemorySegment st) throws Throwable {
        long r = switch (f.target()) {
            case PATH -> (long) LIST.invokeExact(st, p, buf, size);
            case LINK -> (long) LLIST.invokeExact(st, p, buf, size);
            case FD -> (long) FLIST.invokeExact(st, f.fd().value(), buf, size);
        };
        if (r < 0) throw Libc.fail("listxattr", st);
        return r;
    }

    public static void remove(File f, byte[] name) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = FileCalls.cString(a, name);
            int r = switch (f.target()) {
                case PATH -> (int) REMOVE.invokeExact(st, FileCalls.cString(a, f.path()), n);
                case LINK -> (int) LREMOVE.invokeExact(st, FileCalls.cString(a, f.path()), n);
                case FD -> (int) FREMOVE.invokeExact(st, f.fd().value(), n);
            };
            FileCalls.check(r, "removexattr", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }
}
