package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jvhost.devices.rng.RngDevice;
import io.jvhost.frontend.BackendRefusedException;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.memory.Memfd;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.protocol.FrontendMessage.SetLogBase;
import io.jvhost.protocol.MemoryRegionDescriptor;
import io.jvhost.protocol.Reply;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A front-end that describes more memory than its fd holds (issue 14, rows 7 and 8): touching
 * the part past the end of a memfd raises SIGBUS, which the JVM turns into an InternalError in
 * whatever thread touched it. Regions and the dirty log are checked against the fd's size when
 * they are set, and refused; the session answers the refusal and goes on.
 */
class MemoryPastEofTest {
    private static final Duration T = Duration.ofSeconds(10);
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void memTableRegionLargerThanItsMemfdIsRefused() throws Exception {
        try (BackgroundServer s = BackgroundServer.start(dir.resolve("rng.sock"), new RngDevice());
                FrontendClient c = GuestDriver.connectDevice(s.socket(), 1);
                Memfd ram = new Memfd("short-ram", MIB)) {
            var tooBig = new MemoryRegionDescriptor(0x1_0000_0000L, 2 * MIB, ram.userAddr(), 0);
            assertThrows(BackendRefusedException.class, () -> c.setMemTable(List.of(tooBig), List.of(ram.fd())));
            var pastEnd = new MemoryRegionDescriptor(0x1_0000_0000L, MIB, ram.userAddr(), 4096);
            assertThrows(
                    BackendRefusedException.class,
                    () -> c.setMemTable(List.of(pastEnd), List.of(ram.fd())),
                    "mmap offset + size past the end");
            // The session still answers, and a region that fits is accepted.
            assertTrue(c.getFeatures() != 0);
            c.setMemTable(
                    List.of(new MemoryRegionDescriptor(0x1_0000_0000L, MIB, ram.userAddr(), 0)), List.of(ram.fd()));
        }
    }

    @Test
    void addedRegionLargerThanItsMemfdIsRefused() throws Exception {
        try (BackgroundServer s = BackgroundServer.start(dir.resolve("rng.sock"), new RngDevice());
                FrontendClient c = GuestDriver.connectDevice(s.socket(), 1);
                Memfd ram = new Memfd("short-ram", MIB)) {
            var tooBig = new MemoryRegionDescriptor(0x1_0000_0000L, 16 * MIB, ram.userAddr(), 0);
            assertThrows(BackendRefusedException.class, () -> c.addMemReg(tooBig, ram.fd()));
            assertTrue(c.getFeatures() != 0);
            c.addMemReg(new MemoryRegionDescriptor(0x1_0000_0000L, MIB, ram.userAddr(), 0), ram.fd());
        }
    }

    @Test
    void dirtyLogLargerThanItsMemfdIsRefused() throws Exception {
        try (BackgroundServer s = BackgroundServer.start(dir.resolve("rng.sock"), new RngDevice());
                GuestDriver d = GuestDriver.connect(s.socket(), GuestDriver.Options.defaults(1));
                Fd empty = Libc.memfdCreate("empty-log", Libc.MFD_CLOEXEC)) {
            // With LOG_SHMFD the back-end answers SET_LOG_BASE with a u64: 0 means mapped.
            Reply r = d.client().connection().call(new SetLogBase(4096, 0, empty), false);
            assertNotEquals(0, ((Reply.U64) r).value(), "a 4 KiB log over an empty memfd must be refused");
            try (Memfd log = new Memfd("log", 4096)) {
                Reply past = d.client().connection().call(new SetLogBase(4096, 8, log.fd()), false);
                assertNotEquals(0, ((Reply.U64) past).value(), "offset + size past the end");
                Reply ok = d.client().connection().call(new SetLogBase(4096, 0, log.fd()), false);
                assertEquals(0, ((Reply.U64) ok).value(), "a log that fits is mapped");
            }
            assertEquals(512, d.request(0, List.of(), 512, T).length, "the device still serves");
        }
    }
}
