package io.jvhost.nativeio;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import org.junit.jupiter.api.Test;

/** A lazily linked downcall behaves as a linked one, before and after {@link Downcalls#linkAll}. */
class DowncallsTest {
    @Test
    void firstCallLinksAndCalls() throws Throwable {
        MethodHandle getpid = Libc.plainCall("getpid", FunctionDescriptor.of(JAVA_INT));
        assertEquals(ProcessHandle.current().pid(), (int) getpid.invokeExact());
        assertEquals(ProcessHandle.current().pid(), (int) getpid.invokeExact());
    }

    @Test
    void linkAllLinksWhatNoCallHas() throws Throwable {
        MethodHandle getppid = Libc.plainCall("getppid", FunctionDescriptor.of(JAVA_INT));
        assertTrue(Downcalls.linkAll() >= 1);
        long parent = ProcessHandle.current().parent().orElseThrow().pid();
        assertEquals(parent, (int) getppid.invokeExact());
    }

    @Test
    void capturingCallTakesTheCaptureSegmentFirst() throws Throwable {
        MethodHandle close = Libc.errnoCall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        MemorySegment st = Libc.capture();
        assertEquals(-1, (int) close.invokeExact(st, -1));
        assertEquals(Errno.EBADF, Libc.errno(st));
    }
}
