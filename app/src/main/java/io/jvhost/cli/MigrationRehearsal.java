package io.jvhost.cli;

import io.jvhost.backend.BackendSession;
import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.devices.fs.fuse.InitFlags;
import io.jvhost.frontend.DeviceStateTransfer;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.UnixSocket;
import io.jvhost.protocol.Connection;
import io.jvhost.protocol.Direction;
import io.jvhost.protocol.VirtioFeatures;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * One live migration of a virtio-fs device, rehearsed in-process once a daemon listens: a guest
 * driver on a socket pair mounts a device of the daemon's own (INIT, LOOKUP and OPEN of what the
 * device's warm-up found), announces the migration (dirty log, LOG_ALL), stops the rings, saves,
 * loads into a second device and starts the rings there, through the very session, transfer and
 * memory code a front-end drives. A first migration otherwise loads those classes, spins their
 * method handles and links their downcalls inside the guest's downtime, on both sides (measured
 * under QEMU: SET_DEVICE_STATE_FD answered in 10–30 ms, ADD_MEM_REG in 18–51 ms, against well
 * under 1 ms once warm). The devices are the caller's and serve nobody else.
 */
final class MigrationRehearsal {
    private static final int QUEUES = 2;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    /** Files of the share the rehearsing guest looks up by name and opens: a few, the code runs either way. */
    private static final int FILES = 16;
    /**
     * Stops and starts of the destination's rings after the migration (QEMU's stop and start: ring
     * disable, GET_VRING_BASE, then the ring set-up messages), each followed by a request: a
     * migration's downtime is a handful of such messages, and run once each they stay interpreted
     * (measured under QEMU, loaded machine: 1–3 ms an answer, against 0.05 ms for virtiofsd). This
     * many runs the shared session path past the JIT's thresholds. (100 left 2.6 MiB more resident
     * in an idle daemon for no clear gain: the source's four stop answers took 2.6 ms in all with
     * 100, 3.5 ms with 50, 9.5 ms with none; one QEMU run each.)
     */
    static final int RING_CYCLES = 50;
    /** Dirty log the rehearsing driver shares: one bit per 4 KiB page of its 16 MiB of RAM, rounded up. */
    private static final long LOG_BYTES = 4096;

    private MigrationRehearsal() {}

    /**
     * Migrates {@code source}'s state (a guest's view of {@code names} in its root) into {@code
     * destination}; returns how many of the nodes the guest looked up on the source answer
     * GETATTR on the destination (all of them, unless a file went away meanwhile). Once {@code
     * giveWay} turns true it ends at its next step (IOException), and the ring cycles stop.
     */
    static int run(FsDevice source, FsDevice destination, List<String> names, BooleanSupplier giveWay)
            throws IOException {
        List<Thread> sessions = new ArrayList<>();
        try (GuestDriver driver = GuestDriver.start(serve(source, sessions), GuestDriver.Options.defaults(QUEUES))) {
            FuseClient fuse = new FuseClient(driver, TIMEOUT);
            fuse.init(InitFlags.SUBMOUNTS); // as a Linux guest offers it: without, the daemon warns it cannot announce
            // them
            List<Long> nodes = new ArrayList<>();
            for (String name : names.subList(0, Math.min(FILES, names.size()))) {
                long node;
                try {
                    node = fuse.lookup(FuseClient.ROOT_ID, name);
                } catch (IOException e) {
                    continue; // gone meanwhile
                }
                nodes.add(node);
                try {
                    fuse.release(fuse.open(node));
                } catch (IOException e) {
                    // a directory, or a file we may not open: the lookup was what counted
                }
            }
            giveWay(giveWay);
            announce(driver);
            ByteArrayOutputStream state = new ByteArrayOutputStream();
            DeviceStateTransfer.migrateOut(driver, state);
            giveWay(giveWay);
            FrontendClient toDestination = serve(destination, sessions);
            GuestDriver.connectDevice(toDestination, QUEUES);
            new DeviceStateTransfer(toDestination).load(new ByteArrayInputStream(state.toByteArray()));
            driver.moveTo(toDestination);
            int kept = 0;
            for (long node : nodes) {
                try {
                    fuse.getattrSize(node); // known to the destination only through the state
                    kept++;
                } catch (IOException e) {
                    // the file went away meanwhile
                }
            }
            for (int i = 0; i < RING_CYCLES && !giveWay.getAsBoolean(); i++) {
                driver.suspend();
                driver.resume();
                fuse.getattrSize(FuseClient.ROOT_ID);
            }
            return kept;
        } finally {
            for (Thread t : sessions) {
                try {
                    t.join(TIMEOUT.toMillis()); // each session ends when its driver hangs up
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
    }

    /** Ends the rehearsal between its steps once a real migration has begun: the CPU is that migration's. */
    private static void giveWay(BooleanSupplier giveWay) throws IOException {
        if (giveWay.getAsBoolean()) throw new IOException("a real migration began: the rehearsal gave way");
    }

    /** A front-end connected to {@code device}, whose session runs on a thread of its own. */
    private static FrontendClient serve(FsDevice device, List<Thread> sessions) throws IOException {
        UnixSocket[] pair = UnixSocket.pair();
        BackendSession session;
        try {
            session = new BackendSession(new Connection<>(pair[0], Direction.FRONTEND), device);
        } catch (IOException | RuntimeException e) {
            pair[0].close();
            pair[1].close();
            throw e;
        }
        Thread t = Thread.ofPlatform().daemon().name("jvhost-rehearsal-session").unstarted(() -> {
            try (session) {
                session.run();
            }
        });
        sessions.add(t);
        t.start();
        return new FrontendClient(pair[1]);
    }

    /** As QEMU when its RAM copy starts: a dirty log, then LOG_ALL (the device starts preparing its state). */
    private static void announce(GuestDriver driver) throws IOException {
        try (Fd log = Libc.memfdCreate("jvhost-rehearsal-log", Libc.MFD_CLOEXEC)) {
            Libc.ftruncate(log, LOG_BYTES);
            driver.client().setLogBase(LOG_BYTES, 0, log);
        }
        driver.client().setFeatures(driver.features() | VirtioFeatures.mask(VirtioFeatures.LOG_ALL));
    }
}
