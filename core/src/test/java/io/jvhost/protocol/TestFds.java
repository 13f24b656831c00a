package io.jvhost.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/** File descriptors for tests: non-blocking eventfds, identity checks through the counter, leak counting. */
final class TestFds {
    private static final AtomicLong TOKEN = new AtomicLong(1000);

    private TestFds() {}

    static Fd eventfd() {
        try {
            return Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        } catch (NativeException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Fd> eventfds(int n) {
        List<Fd> fds = new ArrayList<>();
        for (int i = 0; i < n; i++) fds.add(eventfd());
        return fds;
    }

    /** What the kernel does when passing fds: new numbers for the same open files. */
    static List<Fd> dupAll(List<Fd> fds) {
        List<Fd> copies = new ArrayList<>();
        try {
            for (Fd fd : fds) copies.add(fd.dup());
        } catch (NativeException e) {
            copies.forEach(Fd::close);
            throw new UncheckedIOException(e);
        }
        return copies;
    }

    /**
     * Asserts that {@code received} is open and refers to the same eventfd as {@code original}:
     * a unique value added through one must be read back through the other.
     */
    static void assertSameEventfd(Fd original, Fd received) {
        assertTrue(received.isOpen(), "received fd is closed");
        assertTrue(original.value() != received.value(), "expected a distinct descriptor number");
        long token = TOKEN.incrementAndGet();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(ValueLayout.JAVA_LONG);
            v.set(ValueLayout.JAVA_LONG, 0, token);
            assertEquals(8, Libc.write(original, v, 8));
            v.set(ValueLayout.JAVA_LONG, 0, 0);
            assertEquals(8, Libc.read(received, v, 8), "nothing to read: not the same eventfd");
            assertEquals(token, v.get(ValueLayout.JAVA_LONG, 0), "counter value differs: not the same eventfd");
        } catch (NativeException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Number of open descriptors of this process. */
    static long openCount() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count() - 1; // the directory stream's own fd
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
