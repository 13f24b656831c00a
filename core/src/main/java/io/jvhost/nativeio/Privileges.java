package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/**
 * The calling thread's privileges: capability sets (capget/capset), the bounding set and
 * ambient set (prctl), no_new_privs, and supplementary groups. All of these are per thread in
 * Linux; glibc's setgroups is the exception, it makes every thread of the process do the same
 * (the set*id broadcast). A thread's settings reach the threads it creates afterwards and the
 * program it execs, which is how a process gets them everywhere ({@link SelfExec}).
 */
public final class Privileges {
    private Privileges() {}

    private static final int PR_CAPBSET_READ = 23,
            PR_CAPBSET_DROP = 24,
            PR_SET_NO_NEW_PRIVS = 38,
            PR_GET_NO_NEW_PRIVS = 39,
            PR_CAP_AMBIENT = 47,
            PR_CAP_AMBIENT_CLEAR_ALL = 4;
    private static final int LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    private static final MethodHandle PRCTL = Libc.errnoCall(
            "prctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
            Linker.Option.firstVariadicArg(1));
    private static final MethodHandle CAPGET =
            Libc.errnoCall("capget", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle CAPSET =
            Libc.errnoCall("capset", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle SETGROUPS =
            Libc.errnoCall("setgroups", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS));

    /** The calling thread's effective, permitted and inheritable capabilities. */
    public record CapabilitySets(long effective, long permitted, long inheritable) {
        public boolean has(Capability c) {
            return (effective & (1L << c.number)) != 0;
        }
    }

    public static CapabilitySets capabilities() throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment header = header(arena);
            MemorySegment data = arena.allocate(24);
            MemorySegment st = Libc.capture();
            check((int) CAPGET.invokeExact(st, header, data), "capget", st);
            return new CapabilitySets(join(data, 0), join(data, 4), join(data, 8));
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** capset(2) on the calling thread: effective and permitted {@code keep}, inheritable none. */
    public static void setCapabilities(long keep) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment header = header(arena);
            MemorySegment data = arena.allocate(24);
            for (int half = 0; half < 2; half++) {
                int bits = (int) (keep >>> (32 * half));
                data.set(JAVA_INT, 12L * half, bits); // effective
                data.set(JAVA_INT, 12L * half + 4, bits); // permitted
                data.set(JAVA_INT, 12L * half + 8, 0); // inheritable
            }
            MemorySegment st = Libc.capture();
            check((int) CAPSET.invokeExact(st, header, data), "capset", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /**
     * capset(2) on the calling thread: the effective set {@code effective} (within the permitted
     * set), permitted and inheritable as {@code current} has them, so a capability dropped from
     * the effective set can be raised again.
     */
    public static void setEffectiveCapabilities(CapabilitySets current, long effective) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment header = header(arena);
            MemorySegment data = arena.allocate(24);
            for (int half = 0; half < 2; half++) {
                data.set(JAVA_INT, 12L * half, (int) (effective >>> (32 * half)));
                data.set(JAVA_INT, 12L * half + 4, (int) (current.permitted() >>> (32 * half)));
                data.set(JAVA_INT, 12L * half + 8, (int) (current.inheritable() >>> (32 * half)));
            }
            MemorySegment st = Libc.capture();
            check((int) CAPSET.invokeExact(st, header, data), "capset", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap). */
    public static int lastCapability() throws IOException {
        return Integer.parseInt(
                ProcFiles.readString(Path.of("/proc/sys/kernel/cap_last_cap")).trim());
    }

    /** PR_CAPBSET_READ for every capability: the calling thread's bounding set. */
    public static long boundingSet() throws IOException {
        long set = 0;
        for (int cap = 0, last = Math.min(lastCapability(), 63); cap <= last; cap++) {
            if (prctl(PR_CAPBSET_READ, cap, "prctl(PR_CAPBSET_READ)") == 1) set |= 1L << cap;
        }
        return set;
    }

    /** PR_CAPBSET_DROP of every capability outside {@code keep} (needs CAP_SETPCAP). */
    public static void limitBoundingSet(long keep) throws IOException {
        for (int cap = 0, last = Math.min(lastCapability(), 63); cap <= last; cap++) {
            if ((keep & (1L << cap)) == 0) prctl(PR_CAPBSET_DROP, cap, "prctl(PR_CAPBSET_DROP, " + cap + ")");
        }
    }

    public static void clearAmbientSet() throws NativeException {
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    }

    /** PR_SET_NO_NEW_PRIVS: no execve of this thread or its descendants gains a privilege again. */
    public static void setNoNewPrivs() throws NativeException {
        prctl(PR_SET_NO_NEW_PRIVS, 1, "prctl(PR_SET_NO_NEW_PRIVS)");
    }

    public static boolean noNewPrivs() throws NativeException {
        return prctl(PR_GET_NO_NEW_PRIVS, 0, "prctl(PR_GET_NO_NEW_PRIVS)") == 1;
    }

    /**
     * glibc's setgroups(0, NULL): no supplementary group, for every thread of the process (glibc
     * signals each to make the call). Needs CAP_SETGID.
     */
    public static void dropSupplementaryGroups() throws NativeException {
        try {
            MemorySegment st = Libc.capture();
            check((int) SETGROUPS.invokeExact(st, 0L, MemorySegment.NULL), "setgroups(0, NULL)", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    private static int prctl(int option, long arg, String what) throws NativeException {
        try {
            MemorySegment st = Libc.capture();
            return check((int) PRCTL.invokeExact(st, option, arg, 0L, 0L, 0L), what, st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    /** As FileCalls.check, without loading FileCalls: this runs in the image that is about to be replaced. */
    private static int check(int r, String call, MemorySegment st) throws NativeException {
        if (r < 0) throw Libc.fail(call, st);
        return r;
    }

    private static MemorySegment header(Arena arena) {
        MemorySegment header = arena.allocate(8);
        header.set(JAVA_INT, 0, LINUX_CAPABILITY_VERSION_3);
        header.set(JAVA_INT, 4, 0); // this thread
        return header;
    }

    /** One capability set of the two 32-bit halves of struct __user_cap_data_struct[2]. */
    private static long join(MemorySegment data, long offset) {
        return Integer.toUnsignedLong(data.get(JAVA_INT, offset))
                | Integer.toUnsignedLong(data.get(JAVA_INT, 12 + offset)) << 32;
    }
}
