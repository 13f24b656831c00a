package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * This process's limit on open file descriptors (RLIMIT_NOFILE: getrlimit/setrlimit). A limit is
 * per process and survives exec, so it may be set before a daemon restarts itself with fewer
 * privileges; raising the hard limit needs CAP_SYS_RESOURCE.
 */
public final class FileLimits {
    private FileLimits() {}

    private static final int RLIMIT_NOFILE = 7;

    private static final MethodHandle GETRLIMIT =
            Libc.errnoCall("getrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SETRLIMIT =
            Libc.errnoCall("setrlimit", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));

    /** The soft (enforced) and hard (ceiling) limits. */
    public record Limit(long soft, long hard) {}

    public static Limit openFiles() throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rl = arena.allocate(16);
            MemorySegment st = Libc.capture();
            if ((int) GETRLIMIT.invokeExact(st, RLIMIT_NOFILE, rl) < 0) throw Libc.fail("getrlimit(RLIMIT_NOFILE)", st);
            return new Limit(rl.get(JAVA_LONG, 0), rl.get(JAVA_LONG, 8));
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    public static void setOpenFiles(Limit limit) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rl = arena.allocate(16);
            rl.set(JAVA_LONG, 0, limit.soft());
            rl.set(JAVA_LONG, 8, limit.hard());
            MemorySegment st = Libc.capture();
            if ((int) SETRLIMIT.invokeExact(st, RLIMIT_NOFILE, rl) < 0) throw Libc.fail("setrlimit(RLIMIT_NOFILE)", st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }
}
