package io.jvhost.frontend;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.backend.BackgroundServer;
import io.jvhost.devices.synthetic.SyntheticStateDevice;
import io.jvhost.testing.FaultInjectingDevice;
import io.jvhost.testing.StateFault;
import io.jvhost.virtqueue.Submission;
import io.jvhost.virtqueue.UsedElement;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The front-end's migration sequence: what happens to the driver when a step fails, and in-flight requests. */
class MigrationFlowTest {
    private static final Duration T = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    private BackgroundServer a, b;
    private SyntheticStateDevice devA, devB;
    private final AtomicReference<StateFault> faultA = new AtomicReference<>(StateFault.NONE);
    private final AtomicReference<StateFault> faultB = new AtomicReference<>(StateFault.NONE);

    private void serveBoth() throws Exception {
        devA = new SyntheticStateDevice(200_000, 1);
        devB = new SyntheticStateDevice(10, 2);
        a = BackgroundServer.start(dir.resolve("a.sock"), new FaultInjectingDevice(devA, faultA::get));
        b = BackgroundServer.start(dir.resolve("b.sock"), new FaultInjectingDevice(devB, faultB::get));
    }

    @AfterEach
    void stop() throws Exception {
        if (a != null) a.close();
        if (b != null) b.close();
    }

    private static long served(byte[] answer) {
        return ByteBuffer.wrap(answer).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static long ask(GuestDriver d) throws Exception {
        return served(d.request(0, List.of(), 16, T));
    }

    @Test
    void aFailedSaveResumesTheSource() throws Exception {
        serveBoth();
        try (GuestDriver d = GuestDriver.connect(a.socket(), GuestDriver.Options.defaults(1))) {
            assertEquals(1, ask(d));
            faultA.set(StateFault.REFUSE_SAVE);
            assertThrows(
                    BackendRefusedException.class,
                    () -> DeviceStateTransfer.migrateOut(d, new ByteArrayOutputStream()));
            assertFalse(d.isSuspended(), "migrateOut resumed the source");
            assertEquals(2, ask(d), "the source goes on serving from where it stopped");
        }
    }

    @Test
    void aFailedLoadOnTheDestinationLeavesTheSourceResumable() throws Exception {
        serveBoth();
        try (GuestDriver d = GuestDriver.connect(a.socket(), GuestDriver.Options.defaults(1))) {
            assertEquals(1, ask(d));
            ByteArrayOutputStream saved = new ByteArrayOutputStream();
            DeviceStateTransfer.migrateOut(d, saved);
            faultB.set(StateFault.REFUSE_LOAD);
            try (FrontendClient toB = GuestDriver.connectDevice(b.socket(), 1)) {
                assertThrows(
                        BackendRefusedException.class,
                        () -> new DeviceStateTransfer(toB).load(new ByteArrayInputStream(saved.toByteArray())));
            }
            assertEquals(0, devB.commits());
            d.resume();
            assertEquals(2, ask(d));
        }
    }

    @Test
    void aRequestInFlightAtSwitchOverCompletesOnTheDestination() throws Exception {
        serveBoth();
        try (GuestDriver d = GuestDriver.connect(a.socket(), GuestDriver.Options.defaults(1))) {
            for (int i = 0; i < 3; i++) ask(d);
            ByteArrayOutputStream saved = new ByteArrayOutputStream();
            int[] bases = DeviceStateTransfer.migrateOut(d, saved);
            assertEquals(3, bases[0]);
            // Posted while suspended: A must not take it, B must.
            try (Submission s = d.submit(0, List.of(), 16)) {
                Thread.sleep(100);
                assertNull(d.queue(0).pollUsed(), "a suspended source processed a request");
                FrontendClient toB = GuestDriver.connectDevice(b.socket(), 1);
                new DeviceStateTransfer(toB).load(new ByteArrayInputStream(saved.toByteArray()));
                d.moveTo(toB);
                UsedElement e = d.awaitUsed(0, T);
                assertEquals(s.head(), e.head());
                assertEquals(4, served(s.readWritten(e.length())), "B continued A's count");
            }
            assertEquals(5, ask(d));
            assertEquals(3, devA.served());
        }
    }

    @Test
    void loadWithoutNegotiatedDeviceStateIsRefusedLocally() throws Exception {
        serveBoth();
        try (FrontendClient c = FrontendClient.connect(b.socket())) {
            c.setOwner(); // no protocol features negotiated
            assertThrows(
                    BackendRefusedException.class,
                    () -> new DeviceStateTransfer(c).load(new ByteArrayInputStream(new byte[1])));
        }
    }
}
