package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

/**
 * The *at(2) family: opening, inspecting, creating, linking, renaming and removing names
 * relative to a directory descriptor. Names and paths are raw bytes (a file name need not be
 * UTF-8) without the trailing NUL; a {@code null} directory means AT_FDCWD. Every call captures
 * errno in its downcall and throws {@link NativeException} naming the call.
 */
public final class FileCalls {
    private FileCalls() {}

    public static final int AT_FDCWD = -100,
            AT_SYMLINK_NOFOLLOW = 0x100,
            AT_REMOVEDIR = 0x200,
            AT_SYMLINK_FOLLOW = 0x400,
            AT_EMPTY_PATH = 0x1000;
    public static final int RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2, RENAME_WHITEOUT = 4;
    public static final int STATX_BASIC_STATS = 0x7ff, STATX_MNT_ID = 0x1000;
    /** tv_nsec values of utimensat: "now" and "leave unchanged". */
    public static final long UTIME_NOW = (1L << 30) - 1, UTIME_OMIT = (1L << 30) - 2;

    public static final int PATH_MAX = 4096, NAME_MAX = 255;

    private static final MethodHandle OPENAT = Libc.errnoCall(
            "openat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
            Linker.Option.firstVariadicArg(3));
    private static final MethodHandle STATX =
            Libc.errnoCall("statx", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle MKDIRAT =
            Libc.errnoCall("mkdirat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle MKNODAT =
            Libc.errnoCall("mknodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle SYMLINKAT =
            Libc.errnoCall("symlinkat", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle READLINKAT =
            Libc.errnoCall("readlinkat", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle UNLINKAT =
            Libc.errnoCall("unlinkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RENAMEAT2 = Libc.errnoCall(
            "renameat2", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle LINKAT =
            Libc.errnoCall("linkat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FCHMODAT =
            Libc.errnoCall("fchmodat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle FCHMOD =
            Libc.errnoCall("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FCHOWNAT = Libc.errnoCall(
            "fchownat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle FUTIMENS =
            Libc.errnoCall("futimens", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle UTIMENSAT =
            Libc.errnoCall("utimensat", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));

    // ---- helpers shared by the file-system call classes ----

    static int dirfd(Fd dir) {
        return dir == null ? AT_FDCWD : dir.value();
    }

    /** A NUL-terminated copy of {@code bytes}; refuses embedded NULs, which C would cut short. */
    static MemorySegment cString(java.lang.foreign.SegmentAllocator arena, byte[] bytes) {
        for (byte b : bytes) {
            if (b == 0) throw new IllegalArgumentException("name or path contains a NUL byte");
        }
        MemorySegment s = arena.allocate(bytes.length + 1L);
        MemorySegment.copy(bytes, 0, s, JAVA_BYTE, 0, bytes.length);
        return s;
    }

    /** UTF-8 bytes of a path written in Java (tests, configuration). */
    public static byte[] bytes(String path) {
        return path.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * "/proc/self/fd/N" for one of our own descriptors: the magic link that lets a path-taking
     * call reach the very inode an O_PATH descriptor holds. Following it never follows anything
     * further (for an O_PATH descriptor of a symlink it ends at the symlink itself).
     */
    public static byte[] procSelfFd(Fd fd) {
        return bytes("/proc/self/fd/" + fd.value());
    }

    static int check(int r, String call, MemorySegment st) throws NativeException {
        if (r < 0) throw Libc.fail(call, st);
        return r;
    }

    // ---- open / stat ----

    /** openat(2); {@code mode} matters only with O_CREAT / O_TMPFILE. Retries on EINTR. */
    public static Fd openat(Fd dir, byte[] path, int flags, int mode) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            MemorySegment p = cString(a, path);
            while (true) {
                int r = (int) OPENAT.invokeExact(st, dirfd(dir), p, flags, mode);
                if (r >= 0) return Fd.adopt(r);
                if (Libc.errno(st) != Errno.EINTR) throw Libc.fail("openat", st);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** An O_PATH descriptor that does not follow a final symlink: the handle of an inode. */
    public static Fd openPath(Fd dir, byte[] name) throws NativeException {
        return openat(dir, name, Libc.O_PATH | Libc.O_NOFOLLOW | Libc.O_CLOEXEC, 0);
    }

    /** statx(2) of {@code path} relative to {@code dir}, asking for the basic fields and the mount id. */
    public static Stat statx(Fd dir, byte[] path, int flags) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            MemorySegment buf = a.allocate(256, 8);
            int r = (int)
                    STATX.invokeExact(st, dirfd(dir), cString(a, path), flags, STATX_BASIC_STATS | STATX_MNT_ID, buf);
            check(r, "statx", st);
            return statxFields(buf, a.words());
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** struct statx's fields up to stx_mnt_id, as 32-bit words. */
    private static final int STATX_WORDS = 38;

    private static final boolean LITTLE_ENDIAN = java.nio.ByteOrder.nativeOrder() == java.nio.ByteOrder.LITTLE_ENDIAN;

    /**
     * The fields of a struct statx, copied out in one call and decoded from an int array: read
     * one by one, the 18 segment accesses (each a bounds, alignment and liveness check) were half
     * of a restore's reopening threads' samples (perf) while statx ran in code the JIT had not yet
     * compiled fully, against a syscall that costs less.
     */
    private static Stat statxFields(MemorySegment buf, int[] w) {
        MemorySegment.copy(buf, JAVA_INT, 0, w, 0, STATX_WORDS);
        int mask = w[0];
        return new Stat(
                Stat.makedev(Integer.toUnsignedLong(w[34]), Integer.toUnsignedLong(w[35])),
                u64(w, 8),
                (mask & STATX_MNT_ID) != 0 ? u64(w, 36) : 0,
                (LITTLE_ENDIAN ? w[7] : w[7] >>> 16) & 0xffff, // stx_mode, a u16 before a pad
                w[4],
                w[5],
                w[6],
                Stat.makedev(Integer.toUnsignedLong(w[32]), Integer.toUnsignedLong(w[33])),
                u64(w, 10),
                w[1],
                u64(w, 12),
                u64(w, 16),
                w[18],
                u64(w, 28),
                w[30],
                u64(w, 24),
                w[26]);
    }

    /** The 64-bit field at 32-bit word {@code i} of a native-order copy. */
    private static long u64(int[] w, int i) {
        long first = Integer.toUnsignedLong(w[i]), second = Integer.toUnsignedLong(w[i + 1]);
        return LITTLE_ENDIAN ? second << 32 | first : first << 32 | second;
    }

    private static final byte[] EMPTY_PATH = {};

    /** statx of the file {@code fd} itself (AT_EMPTY_PATH), O_PATH descriptors included; never follows. */
    public static Stat fstat(Fd fd) throws NativeException {
        return statx(fd, EMPTY_PATH, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
    }

    // ---- creating names ----

    public static void mkdirat(Fd dir, byte[] name, int mode) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            check((int) MKDIRAT.invokeExact(st, dirfd(dir), cString(a, name), mode), "mkdirat", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** mknodat(2); {@code dev} in dev_t encoding (see {@link Stat#makedev}). */
    public static void mknodat(Fd dir, byte[] name, int mode, long dev) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            check((int) MKNODAT.invokeExact(st, dirfd(dir), cString(a, name), mode, dev), "mknodat", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** symlinkat(2): creates {@code name} in {@code dir} holding {@code target} verbatim. */
    public static void symlinkat(byte[] target, Fd dir, byte[] name) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            check((int) SYMLINKAT.invokeExact(st, cString(a, target), dirfd(dir), cString(a, name)), "symlinkat", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /**
     * readlinkat(2): the target bytes. An empty {@code path} reads the symlink an O_PATH
     * descriptor {@code dir} refers to.
     */
    public static byte[] readlinkat(Fd dir, byte[] path) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            MemorySegment buf = a.allocate(PATH_MAX + 1);
            long r = (long) READLINKAT.invokeExact(st, dirfd(dir), cString(a, path), buf, (long) PATH_MAX + 1);
            if (r < 0) throw Libc.fail("readlinkat", st);
            if (r > PATH_MAX) throw new NativeException("readlinkat", Errno.ENAMETOOLONG);
            return buf.asSlice(0, r).toArray(JAVA_BYTE);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** linkat(2): a new name {@code newName} in {@code newDir} for {@code oldPath} (relative to {@code oldDir}). */
    public static void linkat(Fd oldDir, byte[] oldPath, Fd newDir, byte[] newName, int flags) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            check(
                    (int) LINKAT.invokeExact(
                            st, dirfd(oldDir), cString(a, oldPath), dirfd(newDir), cString(a, newName), flags),
                    "linkat",
                    st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /**
     * A new name for the inode an O_PATH descriptor holds, without CAP_DAC_READ_SEARCH: linkat
     * of its /proc/self/fd magic link with AT_SYMLINK_FOLLOW (what virtiofsd does).
     */
    public static void linkInode(Fd inode, Fd newDir, byte[] newName) throws NativeException {
        linkat(null, procSelfFd(inode), newDir, newName, AT_SYMLINK_FOLLOW);
    }

    // ---- removing and renaming ----

    /** unlinkat(2); AT_REMOVEDIR in {@code flags} removes an empty directory. */
    public static void unlinkat(Fd dir, byte[] name, int flags) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            check((int) UNLINKAT.invokeExact(st, dirfd(dir), cString(a, name), flags), "unlinkat", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** renameat2(2) with RENAME_NOREPLACE / RENAME_EXCHANGE / RENAME_WHITEOUT flags. */
    public static void renameat2(Fd oldDir, byte[] oldName, Fd newDir, byte[] newName, int flags)
            throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            check(
                    (int) RENAMEAT2.invokeExact(
                            st, dirfd(oldDir), cString(a, oldName), dirfd(newDir), cString(a, newName), flags),
                    "renameat2",
                    st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    // ---- attributes ----

    /** fchmodat(2). Linux has no AT_SYMLINK_NOFOLLOW here; callers pass a /proc/self/fd path. */
    public static void fchmodat(Fd dir, byte[] path, int mode) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            check((int) FCHMODAT.invokeExact(st, dirfd(dir), cString(a, path), mode, 0), "fchmodat", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** fchmod(2) of an open (not O_PATH) descriptor. */
    public static void fchmod(Fd fd, int mode) throws NativeException {
        MemorySegment st = Libc.capture();
        try {
            check((int) FCHMOD.invokeExact(st, fd.value(), mode), "fchmod", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** fchownat(2); -1 leaves that id unchanged. With an empty path and AT_EMPTY_PATH it takes O_PATH descriptors. */
    public static void fchownat(Fd dir, byte[] path, int uid, int gid, int flags) throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            check((int) FCHOWNAT.invokeExact(st, dirfd(dir), cString(a, path), uid, gid, flags), "fchownat", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /**
     * utimensat(2) setting access and modification times; a nanosecond value of
     * {@link #UTIME_NOW} or {@link #UTIME_OMIT} means "now" or "unchanged". A {@code null} path
     * means futimens(dir) on an open (not O_PATH) descriptor.
     */
    public static void utimensat(Fd dir, byte[] path, long atime, long atimeNsec, long mtime, long mtimeNsec, int flags)
            throws NativeException {
        MemorySegment st = Libc.capture();
        try (Scratch a = Scratch.open()) {
            MemorySegment times = a.allocate(32, 8);
            times.set(JAVA_LONG, 0, atime);
            times.set(JAVA_LONG, 8, atimeNsec);
            times.set(JAVA_LONG, 16, mtime);
            times.set(JAVA_LONG, 24, mtimeNsec);
            if (path == null) {
                check((int) FUTIMENS.invokeExact(st, dir.value(), times), "futimens", st);
            } else {
                check((int) UTIMENSAT.invokeExact(st, dirfd(dir), cString(a, path), times, flags), "utimensat", st);
            }
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }
}
