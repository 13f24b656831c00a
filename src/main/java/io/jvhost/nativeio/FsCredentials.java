package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Per-thread file-system identity: the fsuid/fsgid the kernel checks permissions against and
 * assigns to new files, and the umask. Both are per thread on Linux (setfsuid(2) is not
 * broadcast to other threads by glibc; the umask becomes per thread after
 * {@link #unshareFsAttributes}). Java platform threads are kernel threads, so this works for
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
}
