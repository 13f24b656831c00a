package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Per-thread file-system identity: the fsuid/fsgid the kernel checks permissions against and
 * assigns to new files, the supplementary groups it checks them against too, and the umask.
 * All are per thread on Linux (setfsuid(2) is not broadcast to other threads by glibc, the
 * groups are set with the raw system call, not glibc's setgroups which changes every thread;
 * the umask becomes per thread after {@link #unshareFsAttributes}). Java platform threads are kernel threads, so this works for
 * them; a virtual thread could move to another carrier between the calls, so do not use it
 * there.
 */
public final class FsCredentials {
    private FsCredentials() {}

    private static final int CLONE_FS = 0x200;

    private static final MethodHandle SETFSUID = Libc.plainCall("setfsuid", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle SETFSGID = Libc.plainCall("setfsgid", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle GETEUID = Libc.plainCall("geteuid", FunctionDescriptor.of(JAVA_INT));
    private static final MethodHandle UMASK = Libc.plainCall("umask", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle UNSHARE = Libc.errnoCall("unshare", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle SYSCALL_GROUPS = Libc.errnoCall(
            "syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS),
            Linker.Option.firstVariadicArg(1));
    private static final boolean X86_64 =
            "amd64".equals(System.getProperty("os.arch")) || "x86_64".equals(System.getProperty("os.arch"));
    // asm/unistd_64.h on x86_64; asm-generic/unistd.h (aarch64, riscv64) elsewhere.
    private static final long SYS_GETGROUPS = X86_64 ? 115 : 158, SYS_SETGROUPS = X86_64 ? 116 : 159;
    /** NGROUPS_MAX of Linux. */
    public static final int MAX_GROUPS = 65536;

    /**
     * setfsuid(2): returns the previous fsuid. The call reports no error; a change that was not
     * allowed leaves the fsuid as it was, so callers check with {@link #fsuid()}.
     */
    public static int setfsuid(int uid) {
        try {
            return (int) SETFSUID.invokeExact(uid);
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    public static int setfsgid(int gid) {
        try {
            return (int) SETFSGID.invokeExact(gid);
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** The calling thread's fsuid (setfsuid(-1) changes nothing and answers the current one). */
    public static int fsuid() {
        return setfsuid(-1);
    }

    public static int fsgid() {
        return setfsgid(-1);
    }

    public static int geteuid() {
        try {
            return (int) GETEUID.invokeExact();
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** umask(2): sets the mask, returns the previous one. Process-wide unless unshared. */
    public static int umask(int mask) {
        try {
            return (int) UMASK.invokeExact(mask);
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** unshare(CLONE_FS): gives the calling thread its own umask, cwd and root from now on. */
    public static void unshareFsAttributes() throws NativeException {
        MemorySegment st = Libc.capture();
        try {
            FileCalls.check((int) UNSHARE.invokeExact(st, CLONE_FS), "unshare(CLONE_FS)", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** The calling thread's supplementary groups (getgroups(2) answers for the calling thread only). */
    public static int[] threadGroups() throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment st = Libc.capture();
            long n = (long) SYSCALL_GROUPS.invokeExact(st, SYS_GETGROUPS, 0L, MemorySegment.NULL);
            FileCalls.check((int) n, "getgroups", st);
            if (n == 0) return new int[0];
            MemorySegment list = arena.allocate(JAVA_INT, n);
            long got = (long) SYSCALL_GROUPS.invokeExact(st, SYS_GETGROUPS, n, list);
            FileCalls.check((int) got, "getgroups", st); // EINVAL if a group was added in between: say so
            return list.asSlice(0, got * 4).toArray(JAVA_INT);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /**
     * Sets the calling thread's supplementary groups, and only this thread's: the raw
     * setgroups system call (glibc's wrapper would signal every thread of the process to do
     * the same). Needs CAP_SETGID.
     */
    public static void setThreadGroups(int[] groups) throws NativeException {
        if (groups.length > MAX_GROUPS) throw new IllegalArgumentException(groups.length + " groups");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment list = groups.length == 0 ? MemorySegment.NULL : arena.allocateFrom(JAVA_INT, groups);
            MemorySegment st = Libc.capture();
            long r = (long) SYSCALL_GROUPS.invokeExact(st, SYS_SETGROUPS, (long) groups.length, list);
            FileCalls.check((int) r, "setgroups (this thread)", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }
}
