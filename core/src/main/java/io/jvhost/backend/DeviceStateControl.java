package io.jvhost.backend;

import io.jvhost.nativeio.CancellableFd;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Pipe;
import io.jvhost.protocol.DeviceStateDirection;
import io.jvhost.protocol.DeviceStatePhase;
import io.jvhost.protocol.FrontendMessage.SetDeviceStateFd;
import io.jvhost.protocol.Reply;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A session's device-state requests (spec "Migrating back-end state"): SET_DEVICE_STATE_FD
 * starts a {@link StateTransfer}, CHECK_DEVICE_STATE joins it, a reset or the session's end
 * cancels it. Runs on the session thread; the transfer itself runs on its own.
 */
final class DeviceStateControl {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceStateControl.class);

    private final Device device;
    private final Rings rings;
    private final DeviceStateOptions options;
    private final BooleanSupplier negotiated;
    private final BooleanSupplier frontendGone;
    /** The transfer started by the last SET_DEVICE_STATE_FD, until CHECK_DEVICE_STATE consumes it. */
    private StateTransfer transfer;
    /** When GET_VRING_BASE last stopped a ring (System.nanoTime), where a save's downtime starts; 0 before. */
    private long ringStoppedNanos;
    /**
     * What a transfer's requests have to report, logged once CHECK_DEVICE_STATE is answered (or
     * the next SET_DEVICE_STATE_FD comes, or the session ends): the front-end waits for these
     * replies inside the guest's downtime, and a log line is no business of its. (Lines, not
     * lambdas: a lambda's first call site is linked when first run, inside the downtime.)
     */
    private final List<Line> report = new ArrayList<>();

    private record Line(String format, Object[] args) {}

    /** The last save's capture, whose summary is logged with the report. */
    private StatefulDevice.SavedState summarized;

    private void report(String format, Object... args) {
        report.add(new Line(format, args));
    }

    /**
     * @param negotiated   whether the front-end acked DEVICE_STATE
     * @param frontendGone whether the front-end hung up (a CHECK then stops waiting)
     */
    DeviceStateControl(
            Device device,
            Rings rings,
            DeviceStateOptions options,
            BooleanSupplier negotiated,
            BooleanSupplier frontendGone) {
        this.device = device;
        this.rings = rings;
        this.options = options;
        this.negotiated = negotiated;
        this.frontendGone = frontendGone;
    }

    /** GET_VRING_BASE stopped a ring: a save that follows counts its time from the last one. */
    void ringStopped() {
        ringStoppedNanos = System.nanoTime();
    }

    /** Whether DEVICE_STATE is offered to the front-end: only devices that can migrate their state. */
    static boolean offered(Device device) {
        return device instanceof StatefulDevice sd && sd.canMigrate();
    }

    private StatefulDevice statefulDevice() throws RequestRejected {
        if (!(device instanceof StatefulDevice sd) || !sd.canMigrate()) {
            throw new RequestRejected("device state transfer is not offered by " + device.name());
        }
        if (!negotiated.getAsBoolean()) {
            throw new RequestRejected("DEVICE_STATE was not negotiated");
        }
        return sd;
    }

    /**
     * SET_DEVICE_STATE_FD. Everything is checked before the transfer starts, so a refusal
     * leaves no thread behind; the fd is ours from here on and is closed on every path.
     *
     * <p>A SET_DEVICE_STATE_FD while a transfer runs cancels that transfer and starts the new
     * one: the front-end is the only party that knows the old one is abandoned (QEMU retries a
     * failed migration this way), and the old one's CHECK can no longer come, since CHECK
     * always refers to the latest transfer. A cancelled load never commits, so the device
     * keeps its state.
     */
    Reply setFd(SetDeviceStateFd s) throws RequestRejected {
        reported(); // of an earlier transfer that got no CHECK
        Fd theirs = s.fd();
        try {
            StatefulDevice sd = statefulDevice();
            DeviceStateDirection direction = s.knownDirection()
                    .orElseThrow(() -> new RequestRejected(
                            "unknown transfer direction " + Integer.toUnsignedString(s.direction())));
            DeviceStatePhase phase = s.knownPhase()
                    .orElseThrow(() ->
                            new RequestRejected("unsupported migration phase " + Integer.toUnsignedString(s.phase())));
            switch (phase) {
                case STOPPED -> {} // the only phase: the device must be suspended, checked below
            }
            cancel("a new SET_DEVICE_STATE_FD arrived");
            return switch (direction) {
                case SAVE -> startSave(sd, theirs);
                case LOAD -> startLoad(sd, theirs);
            };
        } finally {
            theirs.close(); // a transfer works on its own dup; a back-end channel replaces it
        }
    }

    private Reply startSave(StatefulDevice sd, Fd theirs) throws RequestRejected {
        TransferTimeline times = ringStoppedNanos != 0
                ? new TransferTimeline("rings stopped", ringStoppedNanos)
                : new TransferTimeline("SET_DEVICE_STATE_FD", System.nanoTime());
        if (ringStoppedNanos != 0) times.mark("SET_DEVICE_STATE_FD");
        // Captured with every ring locked: no chain is in flight, and none can start meanwhile.
        StatefulDevice.SavedState snapshot;
        try (Vring.Locked _ = rings.lockAll()) {
            rings.requireStopped("save");
            snapshot = sd.captureState();
        } catch (DeviceException e) {
            throw new RequestRejected("capturing the device state: " + e.getMessage(), e);
        }
        times.mark("capture");
        summarized = snapshot; // its summary is made and logged once the reply is out
        Channel c = channel(theirs, DeviceStateDirection.SAVE);
        times.mark("channel");
        transfer = StateTransfer.save(device.name(), snapshot, c.ours(), options.backendChannel(), c.buffered(), times);
        return c.reply();
    }

    private Reply startLoad(StatefulDevice sd, Fd theirs) throws RequestRejected {
        try (Vring.Locked _ = rings.lockAll()) {
            rings.requireStopped("load");
        }
        Channel c = channel(theirs, DeviceStateDirection.LOAD);
        TransferTimeline times = new TransferTimeline("SET_DEVICE_STATE_FD", System.nanoTime());
        transfer = StateTransfer.load(device.name(), sd, c.ours(), this::commitLoaded, times);
        return c.reply();
    }

    /** Runs on the transfer thread: installs a validated state while no ring can run. */
    private void commitLoaded(StatefulDevice.PreparedState prepared) throws DeviceException {
        try (Vring.Locked _ = rings.lockAll()) {
            rings.requireStopped("load");
            prepared.commit();
        } catch (RequestRejected e) {
            throw new DeviceException(e.getMessage(), e);
        }
    }

    /** Our end of the channel, the reply, and how many bytes the channel holds without a reader (0: unknown). */
    private record Channel(CancellableFd ours, Reply reply, int buffered) {}

    /**
     * Our end of the transfer channel: a dup of the front-end's fd (the message's own copy is
     * closed by the caller), or with {@link DeviceStateOptions#backendChannel()} a pipe of our
     * own whose other end goes back in the reply.
     */
    private Channel channel(Fd theirs, DeviceStateDirection direction) throws RequestRejected {
        try {
            if (!options.backendChannel()) {
                Fd dup = theirs.dup();
                try {
                    int buffered = growPipe(dup);
                    return new Channel(StateTransfer.open(dup, direction), Reply.DeviceStateFd.accepted(), buffered);
                } catch (NativeException e) {
                    dup.close();
                    throw e;
                }
            }
            Pipe pipe = Pipe.create(options.pipeCapacity());
            try {
                int buffered = Libc.fcntl(pipe.writeEnd().value(), Libc.F_GETPIPE_SZ, "fcntl(F_GETPIPE_SZ)");
                return switch (direction) {
                    case SAVE ->
                        new Channel(
                                StateTransfer.open(pipe.writeEnd(), direction),
                                Reply.DeviceStateFd.acceptedWith(pipe.readEnd()),
                                buffered);
                    case LOAD ->
                        new Channel(
                                StateTransfer.open(pipe.readEnd(), direction),
                                Reply.DeviceStateFd.acceptedWith(pipe.writeEnd()),
                                buffered);
                };
            } catch (NativeException e) {
                pipe.close();
                throw e;
            }
        } catch (NativeException e) {
            throw new RequestRejected("setting up the transfer channel: " + e.getMessage(), e);
        }
    }

    /**
     * Grows the front-end's channel, if it is a pipe smaller than {@link
     * DeviceStateOptions#pipeCapacity()}, to that size: QEMU's pipe holds 64 KiB, so a state of a few
     * hundred KiB would otherwise be written in as many turns of the two processes, each one a
     * wake-up inside the guest's downtime. Refused (not a pipe, or past the user's pipe-size
     * limit): the channel works as it is. Returns the pipe's size, 0 if it is not a pipe.
     */
    private int growPipe(Fd channel) {
        int size;
        try {
            size = Libc.fcntl(channel.value(), Libc.F_GETPIPE_SZ, "fcntl(F_GETPIPE_SZ)");
        } catch (NativeException e) {
            report("the transfer channel is not a pipe: {}", e.getMessage());
            return 0;
        }
        if (size >= options.pipeCapacity()) return size;
        try {
            int grown = Libc.fcntl(channel.value(), Libc.F_SETPIPE_SZ, options.pipeCapacity(), "fcntl(F_SETPIPE_SZ)");
            report("the front-end's transfer pipe was grown from {} to {} bytes", size, grown);
            return grown;
        } catch (NativeException e) {
            report("the transfer pipe keeps its size ({} bytes): {}", size, e.getMessage());
            return size;
        }
    }

    /** SET_DEVICE_STATE_FD was answered: the transfer it set up starts (see {@link StateTransfer#start}). */
    void answered() {
        StateTransfer t = transfer;
        if (t != null) {
            t.times().mark("answered");
            t.start();
        }
    }

    /** CHECK_DEVICE_STATE was answered: what the transfer had to report is logged. */
    void checkAnswered() {
        reported();
    }

    private void reported() {
        StatefulDevice.SavedState s = summarized;
        summarized = null;
        if (s != null) {
            String summary = s.summary();
            if (!summary.isEmpty()) LOG.info("{}", summary);
        }
        for (Line l : report) LOG.info(l.format(), l.args());
        report.clear();
    }

    /** CHECK_DEVICE_STATE: joins the latest transfer; returns its direction only if it completed. */
    DeviceStateDirection check() throws RequestRejected {
        statefulDevice();
        StateTransfer t = transfer;
        if (t == null) throw new RequestRejected("no device state transfer to check (SET_DEVICE_STATE_FD first)");
        transfer = null;
        StateTransfer.Outcome o = t.await(options.checkTimeout(), frontendGone);
        if (!o.succeeded()) throw new RequestRejected(o.detail());
        t.times().mark("CHECK");
        String direction = t.direction().name().toLowerCase();
        report("device state {} checked: {}", direction, o.detail());
        report("device state {} timeline: {}", direction, t.times());
        return t.direction();
    }

    /** Cancels the running transfer, if any; refused if it does not stop. */
    void cancel(String why) throws RequestRejected {
        StateTransfer t = transfer;
        if (t == null) return;
        transfer = null;
        LOG.info(
                "cancelling the running device state {}: {}",
                t.direction().name().toLowerCase(),
                why);
        if (!t.cancel(Duration.ofSeconds(5))) {
            throw new RequestRejected("the previous device state transfer did not stop");
        }
    }

    /** Cancels the running transfer where nobody can be answered (reset, session end): a failure is logged. */
    void cancelQuietly(String why) {
        reported();
        try {
            cancel(why);
        } catch (RequestRejected e) {
            LOG.error("{}", e.getMessage());
        }
    }
}
