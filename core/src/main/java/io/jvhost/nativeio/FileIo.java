package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Calls on open files beyond read/write ({@link Libc#pread}/{@link Libc#pwrite}): flushing,
 * space allocation, seeking for data and holes, in-kernel copies and file-system statistics.
 */
public final class FileIo {
    private FileIo() {}

    public static final int SEEK_SET = 0, SEEK_CUR = 1, SEEK_END = 2, SEEK_DATA = 3, SEEK_HOLE = 4;
    public static final int FALLOC_FL_KEEP_SIZE = 1, FALLOC_FL_PUNCH_HOLE = 2, FALLOC_FL_ZERO_RANGE = 0x10;

    private static final MethodHandle FSYNC = Libc.errnoCall("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FDATASYNC =
            Libc.errnoCall("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle SYNCFS = Libc.errnoCall("syncfs", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FSTATFS =
            Libc.errnoCall("fstatfs64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle FALLOCATE =
            Libc.errnoCall("fallocate64", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle LSEEK =
            Libc.errnoCall("lseek64", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle COPY_FILE_RANGE = Libc.errnoCall(
            "copy_file_range",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT));

    private static void simple(MethodHandle h, String call, Fd fd) throws NativeException {
        MemorySegment st = Libc.capture();
        try {
            while (true) {
                int r = (int) h.invokeExact(st, fd.value());
                if (r >= 0) return;
                if (Libc.errno(st) != Errno.EINTR) throw Libc.fail(call, st);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    public static void fsync(Fd fd) throws NativeException {
        simple(FSYNC, "fsync", fd);
    }

    public static void fdatasync(Fd fd) throws NativeException {
        simple(FDATASYNC, "fdatasync", fd);
    }

    /** syncfs(2): flushes the whole file system {@code fd} lives on (needs a real, not O_PATH, descriptor). */
    public static void syncfs(Fd fd) throws NativeException {
        simple(SYNCFS, "syncfs", fd);
    }

    /** fstatfs(2); works on O_PATH descriptors. */
    public static FsStats fstatfs(Fd fd) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            // struct statfs on 64-bit Linux: eleven 8-byte words then spare (f_fsid is 2 ints = 8 bytes).
            MemorySegment buf = a.allocate(120, 8);
            FileCalls.check((int) FSTATFS.invokeExact(st, fd.value(), buf), "fstatfs", st);
            return new FsStats(
                    buf.get(JAVA_LONG, 0),
                    buf.get(JAVA_LONG, 8),
                    buf.get(JAVA_LONG, 16),
                    buf.get(JAVA_LONG, 24),
                    buf.get(JAVA_LONG, 32),
                    buf.get(JAVA_LONG, 40),
                    buf.get(JAVA_LONG, 48),
                    buf.get(JAVA_LONG, 64),
                    buf.get(JAVA_LONG, 72),
                    buf.get(JAVA_LONG, 80));
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    public static void fallocate(Fd fd, int mode, long offset, long length) throws NativeException {
        MemorySegment st = Libc.capture();
        try {
            while (true) {
                int r = (int) FALLOCATE.invokeExact(st, fd.value(), mode, offset, length);
                if (r >= 0) return;
                if (Libc.errno(st) != Errno.EINTR) throw Libc.fail("fallocate", st);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** lseek(2), SEEK_DATA and SEEK_HOLE included; returns the new offset (ENXIO past the last data). */
    public static long lseek(Fd fd, long offset, int whence) throws NativeException {
        MemorySegment st = Libc.capture();
        try {
            long r = (long) LSEEK.invokeExact(st, fd.value(), offset, whence);
            if (r < 0) throw Libc.fail("lseek", st);
            return r;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** copy_file_range(2) between explicit offsets (file positions untouched); returns bytes copied. */
    public static long copyFileRange(Fd in, long offIn, Fd out, long offOut, long length, int flags)
            throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            MemorySegment pin = a.allocateFrom(JAVA_LONG, offIn);
            MemorySegment pout = a.allocateFrom(JAVA_LONG, offOut);
            while (true) {
                long r = (long) COPY_FILE_RANGE.invokeExact(st, in.value(), pin, out.value(), pout, length, flags);
                if (r >= 0) return r;
                if (Libc.errno(st) != Errno.EINTR) throw Libc.fail("copy_file_range", st);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }
}
