package io.jvhost.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.function.Consumer;

/**
 * The one place that calls FFM's restricted methods (binding a C function, giving a raw address
 * a size): they can crash the JVM when handed a wrong descriptor or length, so they sit behind a
 * single {@code @SuppressWarnings("restricted")} that a reviewer can read whole, and the rest of
 * the package goes through here. Anything new that needs a restricted call adds a method here;
 * the compiler flags a restricted call anywhere else.
 */
@SuppressWarnings("restricted")
final class NativeAccess {
    private NativeAccess() {}

    private static final Linker LINKER = Linker.nativeLinker();

    /**
     * A downcall handle for {@code symbol} with the C signature {@code fd}, linked on first use or
     * by {@link Downcalls#linkAll}; {@code capturesState}: {@code options} hold a captureCallState.
     */
    static MethodHandle downcall(
            MemorySegment symbol, FunctionDescriptor fd, boolean capturesState, Linker.Option... options) {
        return Downcalls.lazy(fd, capturesState, () -> LINKER.downcallHandle(symbol, fd, options));
    }

    /** {@code raw} (an address the C library returned) as {@code size} bytes in its own scope. */
    static MemorySegment sized(MemorySegment raw, long size) {
        return raw.reinterpret(size);
    }

    /** {@code raw} as {@code size} bytes owned by {@code arena}; closing it runs {@code cleanup}. */
    static MemorySegment sized(MemorySegment raw, long size, Arena arena, Consumer<MemorySegment> cleanup) {
        return raw.reinterpret(size, arena, cleanup);
    }
}
