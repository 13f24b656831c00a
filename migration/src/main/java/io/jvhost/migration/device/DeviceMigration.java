package io.jvhost.migration.device;

import io.jvhost.frontend.DeviceStateTransfer;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.migration.DestinationConfig;
import io.jvhost.migration.MigrationCancelledException;
import io.jvhost.migration.MigrationDestination;
import io.jvhost.migration.MigrationException;
import io.jvhost.migration.MigrationReport;
import io.jvhost.migration.MigrationSource;
import io.jvhost.migration.ReceiveResult;
import io.jvhost.migration.SendResult;
import io.jvhost.migration.SourceConfig;
import io.jvhost.migration.VirtioDeviceState;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DriverQueue;
import io.jvhost.virtqueue.VringAddresses;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Migrates a vhost-user back-end's state from A to B, the way QEMU's front-end does, over
 * jvhost's migration stream: the source suspends A's rings, starts SET_DEVICE_STATE_FD(save)
 * and forwards A's bytes into a {@link MigrationSource} as they come; the destination feeds
 * them into B through SET_DEVICE_STATE_FD(load) as they arrive in order, and only after the
 * stream verified (totals, CRC32C) closes B's channel and asks CHECK; B's verdict decides the
 * OK the source waits for. Nothing holds the whole state.
 *
 * <p>On any failure the source resumes A's rings and the destination abandons B's session (an
 * unfinished load never commits), so the guest continues on A.
 */
public final class DeviceMigration {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceMigration.class);
    /** How long A may pause while writing, or B while reading, before the transfer gives up. */
    public static final Duration STATE_IDLE_TIMEOUT = Duration.ofSeconds(30);
    /** Small packets so a state's first bytes leave while A is still writing the rest. */
    public static final int PACKET_SIZE = 64 * 1024;

    private DeviceMigration() {}

    /** Wraps the source's state bytes before they are packetized: throttling, and tests that corrupt a state. */
    @FunctionalInterface
    public interface StateFilter {
        StateFilter NONE = in -> in;

        InputStream wrap(InputStream state) throws IOException;
    }

    /** The stream's settings for a device migration: {@code channels} state channels, {@link #PACKET_SIZE}. */
    public static SourceConfig sourceConfig(int channels) {
        return SourceConfig.defaults().withChannels(channels).withPacketSize(PACKET_SIZE);
    }

    /**
     * The source's half, done.
     *
     * @param bases        where each ring stopped: the destination starts from there
     * @param suspendStart {@link System#nanoTime()} when the suspend began (downtime starts)
     * @param okAt         {@link System#nanoTime()} when the destination's OK arrived
     */
    public record Sent(
            int[] bases,
            VirtioDeviceState virtio,
            SendResult stream,
            long suspendStart,
            long okAt,
            Duration suspend,
            Duration save,
            Duration checkSource,
            Duration transfer) {
        public Sent {
            bases = bases.clone();
        }

        /**
         * The source's view when the destination is another process: B's load and CHECK are
         * inside the transfer time; downtime ends with the OK plus {@code resume}.
         */
        public MigrationReport report(Duration resume) {
            return new MigrationReport(
                    suspend,
                    save,
                    checkSource,
                    transfer,
                    Optional.empty(),
                    Optional.empty(),
                    resume,
                    Duration.ofNanos(okAt - suspendStart).plus(resume),
                    stream.stateBytes(),
                    stream.packetsPerChannel().size(),
                    stream.packetsPerChannel());
        }

        @Override
        public int[] bases() {
            return bases.clone();
        }
    }

    /** The destination's half, done: B loaded the state and CHECK passed. */
    public record Received(ReceiveResult stream, Duration load, Duration check) {}

    // ------------------------------------------------------------------ source

    /**
     * Suspends {@code driver}'s rings, streams A's state and the virtio state to {@code to}, and
     * returns once the destination's back-end loaded and checked it. The driver stays suspended
     * on A: hand it over with {@link GuestDriver#moveTo}. On failure A's rings run again from
     * where they stopped, then the failure is thrown.
     */
    public static Sent send(
            GuestDriver driver, String deviceType, InetSocketAddress to, SourceConfig config, StateFilter filter)
            throws IOException {
        long start = System.nanoTime();
        int[] bases = driver.suspend();
        Duration suspend = since(start);
        try {
            VirtioDeviceState virtio = virtioState(driver, bases);
            Streamed s = stream(driver.client(), deviceType, virtio, to, config, filter);
            return new Sent(bases, virtio, s.result, start, System.nanoTime(), suspend, s.save, s.check, s.transfer);
        } catch (IOException | RuntimeException e) {
            long r = System.nanoTime();
            try {
                driver.resume();
                LOG.info(
                        "migration failed, the source resumed in {} ms: {}",
                        MigrationReport.ms(since(r)),
                        e.getMessage());
            } catch (IOException | RuntimeException resumeFailure) {
                e.addSuppressed(resumeFailure);
            }
            throw e;
        }
    }

    /**
     * The source's half for a front-end session whose rings never ran (the {@code jvhost migrate}
     * command): the back-end counts as suspended, {@code virtio} describes the session.
     */
    public static Sent send(
            FrontendClient client,
            VirtioDeviceState virtio,
            String deviceType,
            InetSocketAddress to,
            SourceConfig config)
            throws IOException {
        long start = System.nanoTime();
        Streamed s = stream(client, deviceType, virtio, to, config, StateFilter.NONE);
        int[] bases = virtio.queues().stream()
                .mapToInt(VirtioDeviceState.QueueState::nextAvail)
                .toArray();
        return new Sent(bases, virtio, s.result, start, System.nanoTime(), Duration.ZERO, s.save, s.check, s.transfer);
    }

    /** Transport features a front-end session of ours acknowledges when offered. */
    private static final long SESSION_FEATURES = VirtioFeatures.mask(
            VirtioFeatures.VERSION_1,
            VirtioFeatures.RING_EVENT_IDX,
            VirtioFeatures.RING_INDIRECT_DESC,
            VirtioFeatures.PROTOCOL_FEATURES);

    /**
     * Opens a front-end session for a state transfer only: the device handshake (protocol
     * features incl. DEVICE_STATE, queue count, owner) and SET_FEATURES, no memory, no rings, so
     * the back-end counts as suspended. Returns that session's virtio state: its features,
     * status 0, and {@code queues} never-configured queues.
     */
    public static VirtioDeviceState openStateSession(FrontendClient client, int queues) throws IOException {
        long offered = client.getFeatures();
        GuestDriver.connectDevice(client, queues);
        if (!client.negotiated(ProtocolFeature.DEVICE_STATE)) {
            throw new IOException("the back-end does not offer DEVICE_STATE: its state cannot migrate");
        }
        long features = offered & SESSION_FEATURES;
        client.setFeatures(features);
        List<VirtioDeviceState.QueueState> unconfigured = new ArrayList<>();
        for (int i = 0; i < queues; i++) unconfigured.add(new VirtioDeviceState.QueueState(0, 0, false, 0, 0, 0));
        return new VirtioDeviceState(features, 0, new byte[0], unconfigured);
    }

    private record Streamed(SendResult result, Duration save, Duration check, Duration transfer) {}

    private static Streamed stream(
            FrontendClient client,
            String deviceType,
            VirtioDeviceState virtio,
            InetSocketAddress to,
            SourceConfig config,
            StateFilter filter)
            throws IOException {
        DeviceStateTransfer transfer = new DeviceStateTransfer(client, STATE_IDLE_TIMEOUT);
        long saveStart = System.nanoTime();
        SaveStream save = new SaveStream(transfer.openSave(), transfer, saveStart);
        try {
            long t = System.nanoTime();
            // Unfiltered, A's pipe is read as a channel, into the packets' direct buffers.
            InputStream state = filter.wrap(save);
            SendResult result = state == save
                    ? new MigrationSource(config).send(to, deviceType, virtio, (ReadableByteChannel) save, -1)
                    : new MigrationSource(config).send(to, deviceType, virtio, state, -1);
            Duration sending = since(t);
            return new Streamed(result, save.saveTime(), save.checkTime(), sending);
        } finally {
            save.abandonIfOpen();
        }
    }

    /**
     * A's state channel. At EOF, before the stream's reader sees it, asks CHECK on A: a save that
     * A reports as failed must not reach the destination as complete.
     */
    private static final class SaveStream extends InputStream implements ReadableByteChannel {
        private final InputStream channel;
        /** The same pipe as a channel (a CancellableFd's stream is one), for direct buffers. */
        private final ReadableByteChannel direct;

        private final DeviceStateTransfer transfer;
        private final long start;
        private long eofAt;
        private long checkedAt;
        private boolean finished;

        SaveStream(InputStream channel, DeviceStateTransfer transfer, long start) {
            this.channel = channel;
            this.direct = channel instanceof ReadableByteChannel c ? c : Channels.newChannel(channel);
            this.transfer = transfer;
            this.start = start;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) <= 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public synchronized int read(byte[] b, int off, int len) throws IOException {
            if (finished) return -1;
            int n = channel.read(b, off, len);
            if (n >= 0) return n;
            finish();
            return -1;
        }

        @Override
        public synchronized int read(ByteBuffer dst) throws IOException {
            if (finished) return -1;
            int n = direct.read(dst);
            if (n >= 0) return n;
            finish();
            return -1;
        }

        private void finish() throws IOException {
            eofAt = System.nanoTime();
            finished = true;
            channel.close();
            transfer.check();
            checkedAt = System.nanoTime();
        }

        @Override
        public synchronized boolean isOpen() {
            return !finished;
        }

        Duration saveTime() {
            return Duration.ofNanos(eofAt - start);
        }

        Duration checkTime() {
            return Duration.ofNanos(checkedAt - eofAt);
        }

        /** After a failed send: close the channel (A's writer stops) and let A finish the transfer. */
        synchronized void abandonIfOpen() {
            if (finished) return;
            finished = true;
            try {
                channel.close();
                transfer.check();
            } catch (IOException e) {
                LOG.debug("CHECK on the source after an abandoned save: {}", e.getMessage());
            }
        }
    }

    /** The virtio core's view of the driver's device, with the ring indices GET_VRING_BASE reported. */
    static VirtioDeviceState virtioState(GuestDriver driver, int[] bases) throws IOException {
        FrontendClient client = driver.client();
        int status = client.negotiated(ProtocolFeature.STATUS) ? client.getStatus() : 0;
        List<VirtioDeviceState.QueueState> queues = new ArrayList<>();
        for (int i = 0; i < bases.length; i++) {
            DriverQueue q = driver.queue(i);
            VringAddresses a = q.addresses(false);
            queues.add(new VirtioDeviceState.QueueState(
                    q.size(), bases[i], true, a.descUserAddr(), a.availUserAddr(), a.usedUserAddr()));
        }
        return new VirtioDeviceState(driver.features(), status, new byte[0], queues);
    }

    // ------------------------------------------------------------------ destination

    /**
     * Receives one migration into back-end B, whose front-end session {@code b} has done the
     * device handshake ({@link GuestDriver#connectDevice}) and nothing more. Returns once B
     * loaded the state, CHECK passed and the source was told. On failure {@code b} is closed:
     * B's session ends, so a load it had not completed is cancelled and never commits.
     */
    public static Received receive(FrontendClient b, MigrationDestination destination) throws IOException {
        LoadStream out = new LoadStream(new DeviceStateTransfer(b, STATE_IDLE_TIMEOUT));
        try {
            ReceiveResult r = destination.receive((WritableByteChannel) out);
            return new Received(r, out.loadTime(), out.checkTime());
        } catch (IOException | RuntimeException e) {
            b.close();
            out.discard();
            throw e;
        }
    }

    /**
     * B's state channel, opened at the first byte (so B's transfer does not wait on a slow
     * source). {@link MigrationDestination} closes it only once the stream verified: then the
     * EOF completes B's load and CHECK runs; a failed CHECK fails close(), so the destination
     * answers the source with an Abort carrying B's reason instead of OK.
     */
    private static final class LoadStream extends OutputStream implements WritableByteChannel {
        private final DeviceStateTransfer transfer;
        private OutputStream channel;
        private long firstByteAt;
        private long eofAt;
        private long checkedAt;
        private boolean closed;

        LoadStream(DeviceStateTransfer transfer) {
            this.transfer = transfer;
        }

        private OutputStream channel() throws IOException {
            if (channel == null) {
                firstByteAt = System.nanoTime();
                channel = transfer.openLoad();
            }
            return channel;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) throws IOException {
            if (closed) throw new IOException("the load channel is closed");
            channel().write(b, off, len);
        }

        /** Straight from the (direct) buffer into B's pipe, when the pipe's stream is a channel. */
        @Override
        public synchronized int write(ByteBuffer src) throws IOException {
            if (closed) throw new IOException("the load channel is closed");
            OutputStream c = channel();
            if (c instanceof WritableByteChannel w) return w.write(src);
            int n = src.remaining();
            byte[] copy = new byte[n];
            src.get(copy);
            c.write(copy);
            return n;
        }

        @Override
        public synchronized boolean isOpen() {
            return !closed;
        }

        @Override
        public synchronized void close() throws IOException {
            if (closed) return;
            OutputStream c = channel();
            closed = true;
            c.close();
            eofAt = System.nanoTime();
            transfer.check();
            checkedAt = System.nanoTime();
        }

        /** After a failure, once B's session is gone: release our end without completing anything. */
        synchronized void discard() {
            if (closed || channel == null) return;
            closed = true;
            try {
                channel.close();
            } catch (IOException e) {
                LOG.debug("closing an abandoned load channel: {}", e.getMessage());
            }
        }

        Duration loadTime() {
            return Duration.ofNanos(eofAt - firstByteAt);
        }

        Duration checkTime() {
            return Duration.ofNanos(checkedAt - eofAt);
        }
    }

    // ------------------------------------------------------------------ both in one process

    /**
     * Migrates {@code driver}'s back-end A to B over the loopback stream and continues the driver
     * on B ({@link GuestDriver#moveTo}: SET_VRING_BASE = A's indices); A's connection is closed.
     * {@code b} must have done {@link GuestDriver#connectDevice} only. On failure the driver runs
     * on A again, {@code b} is closed, and the failure is thrown.
     */
    @SuppressWarnings("try") // a failed send closes the destination early, so its receiver returns before the join
    public static MigrationReport migrate(
            GuestDriver driver, FrontendClient b, String deviceType, SourceConfig config, StateFilter filter)
            throws IOException {
        DestinationConfig dc = DestinationConfig.forDevice(deviceType, b.getFeatures())
                .withLimits(Math.max(8, config.channels()), config.packetSize(), 16, 1 << 24);
        try (MigrationDestination destination =
                MigrationDestination.listen(new InetSocketAddress("127.0.0.1", 0), dc)) {
            CompletableFuture<Received> incoming = new CompletableFuture<>();
            Thread receiver = Thread.ofPlatform()
                    .daemon()
                    .name("migration-destination")
                    .start(() -> {
                        try {
                            incoming.complete(receive(b, destination));
                        } catch (Throwable t) {
                            incoming.completeExceptionally(t);
                        }
                    });
            Sent sent;
            try {
                sent = send(driver, deviceType, destination.address(), config, filter);
            } catch (IOException | RuntimeException e) {
                destination.close();
                join(receiver);
                b.close(); // even if B completed: the driver stays on A
                throw e;
            }
            Received received = awaitReceived(incoming, driver, b);
            if (!received.stream().virtio().equals(sent.virtio())) {
                throw resumeAndFail(
                        driver,
                        b,
                        new MigrationException(
                                "B received " + received.stream().virtio() + ", A sent " + sent.virtio()));
            }
            long r = System.nanoTime();
            FrontendClient a = driver.client();
            try {
                driver.moveTo(b);
            } catch (IOException | RuntimeException e) {
                // Refused before the driver switched (e.g. B lacks a feature): A can take over again.
                // Once switched, A's rings are gone with the driver's old session: nothing to resume.
                if (driver.client() != a) throw e;
                throw resumeAndFail(driver, b, new MigrationException("continuing on B failed: " + e.getMessage(), e));
            }
            long end = System.nanoTime();
            return new MigrationReport(
                    sent.suspend(),
                    sent.save(),
                    sent.checkSource(),
                    sent.transfer(),
                    Optional.of(received.load()),
                    Optional.of(received.check()),
                    Duration.ofNanos(end - r),
                    Duration.ofNanos(end - sent.suspendStart()),
                    sent.stream().stateBytes(),
                    config.channels(),
                    sent.stream().packetsPerChannel());
        }
    }

    /** The source had its OK, so the destination finished; its result normally is already there. */
    private static Received awaitReceived(CompletableFuture<Received> incoming, GuestDriver driver, FrontendClient b)
            throws IOException {
        try {
            return incoming.get(10, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw resumeAndFail(
                    driver,
                    b,
                    new MigrationException(
                            "the destination failed after its OK: "
                                    + e.getCause().getMessage(),
                            e.getCause()));
        } catch (TimeoutException e) {
            throw resumeAndFail(driver, b, new MigrationException("the destination did not finish after its OK", e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw resumeAndFail(driver, b, new MigrationCancelledException("interrupted", e));
        }
    }

    private static MigrationException resumeAndFail(GuestDriver driver, FrontendClient b, MigrationException e) {
        b.close();
        try {
            driver.resume();
        } catch (IOException | RuntimeException r) {
            e.addSuppressed(r);
        }
        return e;
    }

    private static void join(Thread t) {
        try {
            t.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Duration since(long start) {
        return Duration.ofNanos(System.nanoTime() - start);
    }
}
