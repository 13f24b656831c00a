package io.jvhost.backend;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.devices.rng.RngDevice;
import io.jvhost.devices.synthetic.SyntheticStateDevice;
import io.jvhost.frontend.BackendRefusedException;
import io.jvhost.frontend.DeviceStateTransfer;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FdStreams;
import io.jvhost.nativeio.Pipe;
import io.jvhost.protocol.DeviceStateDirection;
import io.jvhost.protocol.DeviceStatePhase;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.testing.FaultInjectingDevice;
import io.jvhost.testing.StateFault;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The back-end's SET_DEVICE_STATE_FD / CHECK_DEVICE_STATE, driven by jvhost's front-end and by
 * hand: the happy path both ways and over both channels, and every way it can go wrong.
 */
class DeviceStateSessionTest {
    private static final Duration T = Duration.ofSeconds(10);
    private static final int BIG = 4 << 20; // well above any pipe's capacity: the writer must block

    @TempDir
    Path dir;

    private final List<BackgroundServer> served = new java.util.ArrayList<>();

    @AfterEach
    void stopAll() throws Exception {
        for (BackgroundServer s : served) s.close();
    }

    private BackgroundServer serve(String name, Device device, DeviceStateOptions options) throws Exception {
        BackgroundServer s = BackgroundServer.start(dir.resolve(name + ".sock"), device, options);
        served.add(s);
        return s;
    }

    private BackgroundServer serve(String name, Device device) throws Exception {
        return serve(name, device, DeviceStateOptions.defaults());
    }

    /** The device's 16-byte answer: served count and the size of the state it holds. */
    private record Answer(long served, long size) {
        static Answer of(byte[] r) {
            ByteBuffer b = ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN);
            return new Answer(b.getLong(), b.getLong());
        }
    }

    /** {@code dest} holds what {@code source} last saved: the same content (seed, size, CRC32C) and count. */
    private static void assertSameState(SyntheticStateDevice source, SyntheticStateDevice dest) {
        SyntheticStateDevice.Held h = source.held();
        int crc = source.lastSave().orElseThrow().crc32c();
        assertEquals(
                new SyntheticStateDevice.Held(h.seed(), h.size(), Optional.of(crc)),
                dest.held(),
                "state equal after load: " + source + " vs " + dest);
        assertEquals(source.served(), dest.served());
    }

    private static Answer ask(GuestDriver d) throws Exception {
        return Answer.of(d.request(0, List.of(), 16, T));
    }

    private static byte[] saveFrom(BackgroundServer s) throws Exception {
        try (FrontendClient c = GuestDriver.connectDevice(s.socket(), 1)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new DeviceStateTransfer(c).save(out);
            return out.toByteArray();
        }
    }

    @ParameterizedTest(name = "back-end channel: {0}")
    @ValueSource(booleans = {false, true})
    void stateMovesToADestinationAndTheDriverContinuesThere(boolean backendChannel) throws Exception {
        SyntheticStateDevice a = new SyntheticStateDevice(BIG + 12345, 1);
        SyntheticStateDevice b = new SyntheticStateDevice(100, 2);
        DeviceStateOptions options = DeviceStateOptions.defaults().withBackendChannel(backendChannel);
        BackgroundServer sa = serve("a", a, options);
        BackgroundServer sb = serve("b", b, options);
        try (GuestDriver d = GuestDriver.connect(sa.socket(), GuestDriver.Options.defaults(1))) {
            assertTrue(ProtocolFeature.DEVICE_STATE.isIn(d.protocolFeatures()));
            for (int i = 1; i <= 5; i++) assertEquals(i, ask(d).served());
            ByteArrayOutputStream saved = new ByteArrayOutputStream();
            int[] bases = DeviceStateTransfer.migrateOut(d, saved);
            assertArrayEquals(new int[] {5}, bases);
            assertTrue(saved.size() > BIG, "whole state saved: " + saved.size());

            // Destination order as QEMU 10 has it: LOAD and CHECK before features, memory, rings.
            FrontendClient toB = GuestDriver.connectDevice(sb.socket(), 1);
            long loaded = new DeviceStateTransfer(toB).load(new ByteArrayInputStream(saved.toByteArray()));
            assertEquals(saved.size(), loaded);
            assertSameState(a, b);
            assertEquals(1, b.commits());

            d.moveTo(toB);
            Answer next = ask(d);
            assertEquals(6, next.served(), "B continues A's count");
            assertEquals(BIG + 12345, next.size(), "B holds A's state");
            assertEquals(5, a.served(), "A served nothing after the switch");
        }
    }

    @Test
    void deviceWithoutStateDoesNotOfferIt() throws Exception {
        BackgroundServer rng = serve("rng", new RngDevice());
        try (FrontendClient c = GuestDriver.connectDevice(rng.socket(), 1);
                Pipe p = Pipe.create(0)) {
            assertFalse(ProtocolFeature.DEVICE_STATE.isIn(c.getProtocolFeatures()));
            assertThrows(
                    BackendRefusedException.class,
                    () -> c.setDeviceStateFd(DeviceStateDirection.SAVE, DeviceStatePhase.STOPPED, p.writeEnd()));
            assertThrows(BackendRefusedException.class, c::checkDeviceState);
            assertEquals(1, c.getQueueNum(), "session still serving");
        }
    }

    @Test
    void badParametersAndCheckWithoutTransferAreRefused() throws Exception {
        BackgroundServer s = serve("a", new SyntheticStateDevice(1000, 1));
        try (FrontendClient c = GuestDriver.connectDevice(s.socket(), 1);
                Pipe p = Pipe.create(0)) {
            assertThrows(BackendRefusedException.class, c::checkDeviceState, "CHECK without SET_DEVICE_STATE_FD");
            var e = assertThrows(
                    BackendRefusedException.class, () -> c.setDeviceStateFd(0, 1, p.writeEnd()), "phase 1");
            assertTrue(e.getMessage().contains("error 1"), e.getMessage());
            assertThrows(BackendRefusedException.class, () -> c.setDeviceStateFd(0, -1, p.writeEnd()), "phase 2^32-1");
            assertThrows(BackendRefusedException.class, () -> c.setDeviceStateFd(2, 0, p.writeEnd()), "direction 2");
            assertThrows(BackendRefusedException.class, c::checkDeviceState, "refused requests start nothing to check");
            assertEquals(1, c.getQueueNum());
        }
        assertTrue(saveFrom(s).length > 1000, "a save still works afterwards");
    }

    @Test
    void saveIsRefusedWhileARingRunsAndAllowedOnceStopped() throws Exception {
        SyntheticStateDevice a = new SyntheticStateDevice(1000, 1);
        BackgroundServer s = serve("a", a);
        try (GuestDriver d = GuestDriver.connect(s.socket(), GuestDriver.Options.defaults(1))) {
            ask(d); // the ring has started
            try (Pipe p = Pipe.create(0)) {
                assertThrows(
                        BackendRefusedException.class,
                        () -> d.client()
                                .setDeviceStateFd(DeviceStateDirection.SAVE, DeviceStatePhase.STOPPED, p.writeEnd()));
                assertThrows(
                        BackendRefusedException.class,
                        () -> d.client()
                                .setDeviceStateFd(DeviceStateDirection.LOAD, DeviceStatePhase.STOPPED, p.readEnd()),
                        "nor loaded");
            }
            assertEquals(2, ask(d).served(), "the refusal did not disturb the ring");
            d.suspend();
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new DeviceStateTransfer(d.client()).save(out);
            d.resume();
            assertEquals(3, ask(d).served());
        }
    }

    private static byte[] validState(int size, long seed) throws Exception {
        SyntheticStateDevice src = new SyntheticStateDevice(size, seed);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        src.captureState().writeTo(out);
        return out.toByteArray();
    }

    private static void assertLoadFails(BackgroundServer s, byte[] bytes, String why) throws Exception {
        try (FrontendClient c = GuestDriver.connectDevice(s.socket(), 1)) {
            assertThrows(
                    BackendRefusedException.class,
                    () -> new DeviceStateTransfer(c).load(new ByteArrayInputStream(bytes)),
                    why);
            assertEquals(1, c.getQueueNum(), "session still serving after: " + why);
        }
    }

    @Test
    void badStatesAreRejectedAndTheDeviceKeepsItsOwn() throws Exception {
        SyntheticStateDevice b = new SyntheticStateDevice(5000, 7);
        SyntheticStateDevice.Held before = b.held();
        AtomicReference<StateFault> fault = new AtomicReference<>(StateFault.NONE);
        BackgroundServer s = serve("b", new FaultInjectingDevice(b, fault::get));
        byte[] good = validState(300_000, 3);

        assertLoadFails(s, Arrays.copyOf(good, good.length / 2), "truncated");
        assertLoadFails(s, new byte[0], "empty");
        byte[] corrupt = good.clone();
        corrupt[good.length / 2] ^= 0x40;
        assertLoadFails(s, corrupt, "one bit flipped in the blob");
        byte[] trailing = Arrays.copyOf(good, good.length + 3);
        assertLoadFails(s, trailing, "bytes after the end");
        assertLoadFails(s, "not a state at all".getBytes(), "garbage");
        fault.set(StateFault.REFUSE_LOAD);
        assertLoadFails(s, good, "the device refuses the parsed state");
        fault.set(StateFault.NONE);

        assertEquals(before, b.held(), "the device kept its state through every failure");
        assertEquals(0, b.commits());

        try (FrontendClient c = GuestDriver.connectDevice(s.socket(), 1)) {
            new DeviceStateTransfer(c).load(new ByteArrayInputStream(good));
        }
        assertEquals(1, b.commits());
        assertEquals(300_000, b.held().size());
    }

    @Test
    void frontEndClosingTheSavePipeEarlyFailsTheCheckOnly() throws Exception {
        SyntheticStateDevice a = new SyntheticStateDevice(BIG, 1);
        BackgroundServer s = serve("a", a);
        try (FrontendClient c = GuestDriver.connectDevice(s.socket(), 1)) {
            Pipe p = Pipe.create(0);
            assertEquals(
                    Optional.empty(),
                    c.setDeviceStateFd(DeviceStateDirection.SAVE, DeviceStatePhase.STOPPED, p.writeEnd()));
            p.writeEnd().close();
            try (InputStream in = FdStreams.input(p.readEnd(), true)) {
                assertEquals(1000, in.readNBytes(1000).length);
            } // read end closed: the back-end's next write fails with EPIPE
            assertThrows(BackendRefusedException.class, c::checkDeviceState);
            assertEquals(1, c.getQueueNum());
        }
        assertTrue(saveFrom(s).length > BIG, "the next save works");
    }

    @Test
    void frontEndClosingTheLoadPipeEarlyLeavesTheDeviceAlone() throws Exception {
        SyntheticStateDevice b = new SyntheticStateDevice(1000, 9);
        SyntheticStateDevice.Held before = b.held();
        BackgroundServer s = serve("b", b);
        byte[] good = validState(BIG, 3);
        try (FrontendClient c = GuestDriver.connectDevice(s.socket(), 1)) {
            Pipe p = Pipe.create(0);
            c.setDeviceStateFd(DeviceStateDirection.LOAD, DeviceStatePhase.STOPPED, p.readEnd());
            p.readEnd().close();
            try (OutputStream out = FdStreams.output(p.writeEnd(), true)) {
                out.write(good, 0, good.length / 3);
            }
            assertThrows(BackendRefusedException.class, c::checkDeviceState);
        }
        assertEquals(before, b.held());
        assertEquals(0, b.commits());
    }

    @Test
    void frontEndDyingMidTransferLeavesTheServerUsable() throws Exception {
        SyntheticStateDevice a = new SyntheticStateDevice(BIG, 1);
        SyntheticStateDevice.Held before = a.held();
        BackgroundServer s = serve("a", a);
        // Saving: the back-end blocks on a full pipe nobody reads; then the front-end vanishes.
        FrontendClient c = GuestDriver.connectDevice(s.socket(), 1);
        Pipe p = Pipe.create(0);
        c.setDeviceStateFd(DeviceStateDirection.SAVE, DeviceStatePhase.STOPPED, p.writeEnd());
        Thread.sleep(100);
        c.close();
        // Loading: half a state, then the front-end vanishes without closing the pipe.
        FrontendClient c2 = GuestDriver.connectDevice(s.socket(), 1);
        Pipe p2 = Pipe.create(0);
        c2.setDeviceStateFd(DeviceStateDirection.LOAD, DeviceStatePhase.STOPPED, p2.readEnd());
        byte[] good = validState(BIG, 3);
        try (OutputStream out = FdStreams.output(p2.writeEnd().dup(), true)) {
            out.write(good, 0, 10_000);
        }
        c2.close();
        try (GuestDriver d = GuestDriver.connect(s.socket(), GuestDriver.Options.defaults(1))) {
            assertEquals(1, ask(d).served(), "a new front-end is served");
        }
        assertEquals(before, a.held(), "the half-loaded state was never applied");
        assertTrue(saveFrom(s).length > BIG);
        p.close();
        p2.close();
    }

    @Test
    void aSecondSetDeviceStateFdCancelsTheRunningTransfer() throws Exception {
        SyntheticStateDevice a = new SyntheticStateDevice(BIG, 1);
        BackgroundServer s = serve("a", a);
        try (FrontendClient c = GuestDriver.connectDevice(s.socket(), 1)) {
            // The first save blocks: its pipe fills up and nobody reads.
            Pipe first = Pipe.create(0);
            c.setDeviceStateFd(DeviceStateDirection.SAVE, DeviceStatePhase.STOPPED, first.writeEnd());
            first.writeEnd().close();
            Thread.sleep(100);
            // A second one replaces it: it completes and CHECK refers to it.
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            new DeviceStateTransfer(c).save(out);
            // The first channel was closed by the back-end after some bytes, far short of the state.
            try (InputStream in = FdStreams.input(first.readEnd(), true)) {
                byte[] partial = in.readAllBytes();
                assertTrue(partial.length < out.size(), partial.length + " of " + out.size());
            }
            // Same for a load: a half-written one is replaced by a complete one, applied once.
            SyntheticStateDevice other = new SyntheticStateDevice(50_000, 5);
            ByteArrayOutputStream otherState = new ByteArrayOutputStream();
            other.captureState().writeTo(otherState);
            Pipe half = Pipe.create(0);
            c.setDeviceStateFd(DeviceStateDirection.LOAD, DeviceStatePhase.STOPPED, half.readEnd());
            half.readEnd().close();
            OutputStream halfOut = FdStreams.output(half.writeEnd(), true);
            halfOut.write(otherState.toByteArray(), 0, 20_000);
            new DeviceStateTransfer(c).load(new ByteArrayInputStream(otherState.toByteArray()));
            assertSameState(other, a);
            assertEquals(1, a.commits());
            assertThrows(
                    java.io.IOException.class,
                    () -> halfOut.write(new byte[100_000]),
                    "the cancelled load's channel is closed");
            halfOut.close();
            assertThrows(BackendRefusedException.class, c::checkDeviceState, "both transfers were checked already");
        }
    }

    @Test
    void checkBeforeTheFrontEndFinishedGivesUpAfterTheTimeout() throws Exception {
        SyntheticStateDevice b = new SyntheticStateDevice(1000, 9);
        SyntheticStateDevice.Held before = b.held();
        BackgroundServer s = serve("b", b, DeviceStateOptions.defaults().withCheckTimeout(Duration.ofMillis(500)));
        try (FrontendClient c = GuestDriver.connectDevice(s.socket(), 1);
                Pipe p = Pipe.create(0)) {
            c.setDeviceStateFd(DeviceStateDirection.LOAD, DeviceStatePhase.STOPPED, p.readEnd());
            p.writeEnd().value(); // kept open: the back-end never sees EOF
            long t0 = System.nanoTime();
            assertThrows(BackendRefusedException.class, c::checkDeviceState);
            assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
            assertEquals(1, c.getQueueNum());
        }
        assertEquals(before, b.held());
    }

    @Test
    void backendProvidedChannelIsReturnedAndUsed() throws Exception {
        SyntheticStateDevice a = new SyntheticStateDevice(BIG, 4);
        BackgroundServer s = serve("a", a, DeviceStateOptions.defaults().withBackendChannel(true));
        try (FrontendClient c = GuestDriver.connectDevice(s.socket(), 1);
                Pipe p = Pipe.create(0)) {
            Optional<Fd> theirs = c.setDeviceStateFd(DeviceStateDirection.SAVE, DeviceStatePhase.STOPPED, p.writeEnd());
            assertTrue(theirs.isPresent(), "the back-end returned its own channel");
            p.writeEnd().close();
            // Read in odd-sized pieces, so the back-end keeps a full pipe and must recycle its
            // vmspliced chunks while pages are still partly unread: any reuse too early shows.
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try (InputStream in = FdStreams.input(theirs.get(), true)) {
                byte[] piece = new byte[777];
                for (int n; (n = in.read(piece)) > 0; ) got.write(piece, 0, n);
            }
            byte[] viaTheirs = got.toByteArray();
            c.checkDeviceState();
            try (InputStream in = FdStreams.input(p.readEnd(), false)) {
                assertEquals(-1, in.read(), "nothing went through the front-end's pipe");
            }
            SyntheticStateDevice copy = new SyntheticStateDevice(1, 0);
            copy.prepareLoad(new ByteArrayInputStream(viaTheirs)).commit();
            assertSameState(a, copy);
        }
    }
}
