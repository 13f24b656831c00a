package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The calling thread's CPU scheduling policy (sched_setscheduler(2) on thread id 0). A policy is
 * per thread in Linux, and the threads a thread creates afterwards inherit it.
 */
public final class Scheduling {
    private Scheduling() {}

    private static final int SCHED_IDLE = 5;

    private static final MethodHandle SCHED_SETSCHEDULER =
            Libc.errnoCall("sched_setscheduler", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SCHED_GETSCHEDULER =
            Libc.errnoCall("sched_getscheduler", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

    /**
     * Runs this thread (and the threads it creates from now on) only when a CPU has nothing
     * else to do, SCHED_IDLE. No privilege is needed to lower one's own priority; without
     * CAP_SYS_NICE there is no way back, so call it on a thread that does background work only.
     */
    public static void idleThisThread() throws NativeException {
        set(SCHED_IDLE, "sched_setscheduler(0, SCHED_IDLE)");
    }

    /** Whether this thread runs at SCHED_IDLE. */
    public static boolean isIdle() throws NativeException {
        try {
            MemorySegment st = Libc.capture();
            int policy = (int) SCHED_GETSCHEDULER.invokeExact(st, 0);
            if (policy < 0) throw Libc.fail("sched_getscheduler(0)", st);
            return policy == SCHED_IDLE;
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }

    private static void set(int policy, String call) throws NativeException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment param = arena.allocate(JAVA_INT); // struct sched_param: priority 0
            MemorySegment st = Libc.capture();
            if ((int) SCHED_SETSCHEDULER.invokeExact(st, 0, policy, param) < 0) throw Libc.fail(call, st);
        } catch (NativeException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.unexpected(t);
        }
    }
}
