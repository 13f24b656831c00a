package io.jvhost.backend;

import io.jvhost.memory.DirtyLog;
import io.jvhost.memory.MemoryTable;
import io.jvhost.nativeio.EventFd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.protocol.Connection;
import io.jvhost.protocol.DeviceStateDirection;
import io.jvhost.protocol.Direction;
import io.jvhost.protocol.FrontendMessage;
import io.jvhost.protocol.FrontendMessage.*;
import io.jvhost.protocol.FrontendRequest;
import io.jvhost.protocol.PeerClosedException;
import io.jvhost.protocol.ProtocolException;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.ReceivedMessage;
import io.jvhost.protocol.Reply;
import io.jvhost.protocol.ReplyRule;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.VirtqueueException;
import io.jvhost.virtqueue.VringAddresses;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One front-end connection: reads requests, applies them to memory, rings and the device, and
 * answers: the message dispatch, with the rings ({@link Rings}), the shared memory
 * ({@link SessionMemory}) and the device-state transfers ({@link DeviceStateControl}) in classes
 * of their own. Runs on the thread that accepted the connection; rings are processed on
 * {@link VringWorker}s. Errors in a request are answered (an error reply or a non-zero ack) and
 * logged; only a broken connection or an undecodable stream ends the session.
 */
public final class BackendSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackendSession.class);

    private final Connection<FrontendRequest, FrontendMessage> connection;
    private final Device device;
    private final Rings rings;
    private final SessionMemory memory;
    private final DeviceStateControl deviceState;
    private final Negotiation negotiation;
    private final BackendChannel backendChannel;
    private final MigrationHooks migration;
    private final DeviceContext context;
    private int status;

    public BackendSession(Connection<FrontendRequest, FrontendMessage> connection, Device device)
            throws NativeException {
        this(connection, device, DeviceStateOptions.defaults());
    }

    public BackendSession(
            Connection<FrontendRequest, FrontendMessage> connection, Device device, DeviceStateOptions stateOptions)
            throws NativeException {
        this.connection = connection;
        this.device = device;
        this.negotiation = new Negotiation(device);
        MemoryTable table = new MemoryTable();
        DirtyLog log = new DirtyLog();
        this.rings = new Rings(device, table, log, this::disconnect);
        this.memory = new SessionMemory(table, log, rings);
        this.deviceState = new DeviceStateControl(
                device,
                rings,
                stateOptions,
                () -> negotiation.negotiated(ProtocolFeature.DEVICE_STATE),
                this::frontendHungUp);
        this.backendChannel = new BackendChannel(negotiation);
        this.migration = new MigrationHooks(device);
        this.context = new SessionContext(rings, backendChannel, table);
    }

    /** Serves until the front-end closes the connection or sends something undecodable. */
    public void run() {
        try {
            device.activate(context);
        } catch (DeviceException | RuntimeException | Error e) {
            LOG.error("{} could not be activated for this front-end, closing the connection", device.name(), e);
            return;
        }
        while (true) {
            ReceivedMessage<FrontendMessage> received;
            try {
                received = connection.receive();
            } catch (PeerClosedException e) {
                LOG.info("front-end disconnected");
                return;
            } catch (ProtocolException e) {
                if (!e.streamInSync() || !answerMalformed(e)) {
                    LOG.error("malformed message from the front-end, closing the connection: {}", e.getMessage());
                    return;
                }
                continue;
            } catch (IOException e) {
                LOG.error("connection to the front-end failed: {}", e.getMessage());
                return;
            }
            try {
                dispatch(received);
            } catch (IOException e) {
                LOG.error("sending a reply failed, closing the connection: {}", e.getMessage());
                return;
            } catch (RuntimeException | Error e) {
                // A bug, or device code overflowing the stack: this front-end loses its session,
                // the server does not stop accepting the next one.
                LOG.error(
                        "{} failed unexpectedly, closing the connection",
                        received.message().request(),
                        e);
                received.message().closeFds();
                return;
            }
        }
    }

    /**
     * A malformed message whose frame was read whole: the stream is still in step. If the
     * request's only answer would be an ack, send a failing one (when asked) and go on; a
     * request that always has a payload reply can't be answered meaningfully, so the caller
     * closes the connection rather than leave the front-end waiting.
     */
    private boolean answerMalformed(ProtocolException e) {
        var header = e.header().orElse(null);
        if (header == null) return false;
        var request = Direction.FRONTEND.find(header.request()).orElse(null);
        if (request == null || request.replyRule() != ReplyRule.ON_NEED_REPLY) return false;
        LOG.warn("malformed {} ignored: {}", request, e.getMessage());
        if (header.needsReply()) {
            try {
                connection.sendReply(request, Reply.U64.FAILURE);
            } catch (IOException io) {
                return false;
            }
        }
        return true;
    }

    private void dispatch(ReceivedMessage<FrontendMessage> received) throws IOException {
        FrontendMessage m = received.message();
        // Read before the message is handled: how long a front-end waits on each answer (a
        // migration's downtime is made of a few of them) shows at debug level.
        long t0 = LOG.isDebugEnabled() ? System.nanoTime() : 0;
        LOG.debug("<- {}", m);
        try {
            answer(received, m);
        } finally {
            if (t0 != 0) LOG.debug("-> {} answered in {} µs", m.request(), (System.nanoTime() - t0) / 1000);
        }
    }

    private void answer(ReceivedMessage<FrontendMessage> received, FrontendMessage m) throws IOException {
        Reply reply;
        try {
            reply = handle(m);
        } catch (RequestRejected e) {
            LOG.warn("{} refused: {}", m.request(), e.getMessage());
            m.closeFds();
            reply = errorReply(m);
            if (reply == null) {
                if (received.needsReply()) {
                    connection.sendReply(m.request(), Reply.U64.FAILURE);
                }
                return;
            }
        }
        if (reply != null) {
            connection.sendReply(m.request(), reply);
            reply.closeFds();
        } else if (received.needsReply()) {
            // Honoured even without REPLY_ACK, as libvhost-user does (see ReplyRule).
            connection.sendReply(m.request(), Reply.U64.SUCCESS);
        }
        if (m instanceof SetDeviceStateFd) deviceState.answered();
        else if (m instanceof CheckDeviceState) deviceState.checkAnswered();
    }

    /**
     * The reply a request that always has one gets when it fails, so the front-end never waits
     * for an answer that doesn't come; null for requests answered only by REPLY_ACK.
     */
    private static Reply errorReply(FrontendMessage m) {
        return switch (m) {
            case GetVringBase g -> new Reply.VringState(g.index(), 0);
            case GetConfig g -> new Reply.ConfigFailure();
            case SetLogBase s -> Reply.U64.FAILURE;
            case SetDeviceStateFd s -> Reply.DeviceStateFd.refused(1);
            case CheckDeviceState c -> Reply.U64.FAILURE;
            case GetInflightFd g -> new Reply.Inflight(0, 0, 0, 0, Optional.empty());
            case GetSharedObject g -> new Reply.FdOnly(Optional.empty());
            case GetShmemConfig g -> new Reply.ShmemConfig(0, List.of());
            case CreateCryptoSession c -> Reply.U64.FAILURE;
            default -> null;
        };
    }

    private Reply handle(FrontendMessage m) throws RequestRejected {
        return switch (m) {
            case GetFeatures g -> new Reply.U64(negotiation.offeredFeatures());
            case SetFeatures s -> setFeatures(s.features());
            case SetOwner s -> null;
            case ResetOwner r -> {
                resetDevice();
                yield null;
            }
            case GetProtocolFeatures g -> new Reply.U64(negotiation.offeredProtocolFeatures());
            case SetProtocolFeatures s -> {
                negotiation.ackProtocolFeatures(s.features());
                yield null;
            }
            case GetQueueNum g -> new Reply.U64(rings.size());
            case GetMaxMemSlots g -> new Reply.U64(memory.maxSlots());
            case SetMemTable s -> {
                memory.setTable(s);
                yield null;
            }
            case AddMemReg a -> {
                memory.add(a);
                yield null;
            }
            case RemMemReg r -> {
                memory.remove(r);
                yield null;
            }
            case SetLogBase s -> {
                memory.setLogBase(s);
                // Spec: with LOG_SHMFD the back-end confirms the log is mapped with a zero u64.
                yield negotiation.negotiated(ProtocolFeature.LOG_SHMFD) ? Reply.U64.SUCCESS : null;
            }
            case SetLogFd s -> {
                s.fd().close(); // the log eventfd only matters for QEMU's own vhost-net path
                yield null;
            }
            case SetVringNum s -> onRing(s.index(), r -> r.setSize(checkSize(s.num())));
            case SetVringAddr s ->
                onRing(
                        s.index(),
                        r -> r.setAddresses(new VringAddresses(
                                s.flags(), s.descUserAddr(), s.usedUserAddr(), s.availUserAddr(), s.logGuestAddr())));
            case SetVringBase s -> onRing(s.index(), r -> r.setBase(s.num()));
            case GetVringBase g -> {
                int base = rings.get(g.index()).stop();
                deviceState.ringStopped();
                // Debug, not info: a migration's save timeline reports the stop at info, and a
                // daemon's start-up rehearsal stops its own rings many times.
                LOG.debug("ring {} stopped at avail index {}", g.index(), base);
                yield new Reply.VringState(g.index(), base);
            }
            case SetVringKick s ->
                onRing(
                        s.index(),
                        r -> r.setKick(EventFd.adopt(s.fd().orElseThrow(
                                        () -> new RequestRejected("polling mode (no kick fd) is not supported")))));
            case SetVringCall s ->
                onRing(s.index(), r -> r.setCall(s.fd().map(EventFd::adopt).orElse(null)));
            case SetVringErr s ->
                onRing(s.index(), r -> r.setErr(s.fd().map(EventFd::adopt).orElse(null)));
            case SetVringEnable s -> onRing(s.index(), r -> r.setEnabled(s.enable()));
            case GetConfig g -> getConfig(g);
            case SetConfig s -> {
                try {
                    device.writeConfig(s.offset(), s.data());
                } catch (DeviceException e) {
                    throw new RequestRejected(e.getMessage(), e);
                }
                yield null;
            }
            case SetStatus s -> {
                status = s.status();
                yield null;
            }
            case GetStatus g -> new Reply.U64(status & 0xffL);
            case ResetDevice r -> {
                resetDevice();
                yield null;
            }
            case SetBackendReqFd s -> {
                backendChannel.replace(s.fd());
                yield null;
            }
            case VringKick k -> {
                throw new RequestRejected("in-band notifications were not offered");
            }
            case SetDeviceStateFd s -> deviceState.setFd(s);
            case CheckDeviceState c -> {
                if (deviceState.check() == DeviceStateDirection.SAVE) migration.stateSaved();
                yield Reply.U64.SUCCESS;
            }
            case SendRarp s -> throw unsupported(m);
            case NetSetMtu s -> throw unsupported(m);
            case IotlbMsg i -> throw unsupported(m);
            case SetVringEndian s -> throw unsupported(m);
            case CreateCryptoSession c -> throw unsupported(m);
            case CloseCryptoSession c -> throw unsupported(m);
            case PostcopyAdvise p -> throw unsupported(m);
            case PostcopyListen p -> throw unsupported(m);
            case PostcopyEnd p -> throw unsupported(m);
            case GetInflightFd g -> throw unsupported(m);
            case SetInflightFd s -> throw unsupported(m);
            case GpuSetSocket g -> throw unsupported(m);
            case GetSharedObject g -> throw unsupported(m);
            case GetShmemConfig g -> throw unsupported(m);
        };
    }

    private static RequestRejected unsupported(FrontendMessage m) {
        return new RequestRejected(m.request() + " belongs to a feature this back-end does not offer");
    }

    private int checkSize(int num) throws RequestRejected {
        if (num > device.maxQueueSize()) {
            throw new RequestRejected("queue size " + num + " exceeds the device maximum " + device.maxQueueSize());
        }
        return num;
    }

    @FunctionalInterface
    private interface RingChange {
        void apply(Vring ring) throws VirtqueueException, NativeException, RequestRejected;
    }

    /** A request on one ring; what the queue or the kernel refuses is answered as refused, naming the ring. */
    private Reply onRing(int index, RingChange change) throws RequestRejected {
        Vring r = rings.get(index);
        try {
            change.apply(r);
        } catch (VirtqueueException | NativeException | RequestRejected e) {
            throw new RequestRejected("ring " + index + ": " + e.getMessage(), e);
        }
        return null;
    }

    private Reply setFeatures(long features) throws RequestRejected {
        negotiation.requireOffered(features);
        try (Vring.Locked _ = rings.lockAll()) {
            rings.applyFeatures(
                    VirtioFeatures.has(features, VirtioFeatures.RING_EVENT_IDX),
                    !VirtioFeatures.has(features, VirtioFeatures.PROTOCOL_FEATURES));
        }
        memory.setLogging(VirtioFeatures.has(features, VirtioFeatures.LOG_ALL));
        negotiation.ackFeatures(features);
        device.featuresAcknowledged(features & ~VirtioFeatures.mask(VirtioFeatures.LOG_ALL));
        migration.logAll(VirtioFeatures.has(features, VirtioFeatures.LOG_ALL));
        return null;
    }

    private Reply getConfig(GetConfig g) throws RequestRejected {
        byte[] config = device.config();
        long end = (long) g.offset() + g.size();
        if (g.offset() < 0 || end > config.length) {
            throw new RequestRejected("config read [" + g.offset() + ", " + end + ") outside the " + config.length
                    + "-byte config space");
        }
        return new Reply.Config(g.offset(), g.flags(), Arrays.copyOfRange(config, g.offset(), (int) end));
    }

    private static final int POLLRDHUP = 0x2000;

    private boolean frontendHungUp() {
        try {
            int revents = Libc.pollOne(connection.socket().fd(), POLLRDHUP, 0);
            return (revents & (POLLRDHUP | Libc.POLLHUP | Libc.POLLERR | Libc.POLLNVAL)) != 0;
        } catch (NativeException | RuntimeException e) {
            return true;
        }
    }

    private void resetDevice() {
        deviceState.cancelQuietly("device reset");
        rings.reset();
        status = 0;
        negotiation.resetFeatures();
        migration.reset();
        memory.setLogging(false);
        device.reset();
        LOG.info("device reset");
    }

    /** Ends {@link #run()} from another thread (server shutdown). */
    void disconnect() {
        connection.socket().shutdown();
    }

    /** Features the front-end acknowledged (for tests and state reports). */
    public long ackedFeatures() {
        return negotiation.ackedFeatures();
    }

    @Override
    public void close() {
        deviceState.cancelQuietly("the session ends");
        rings.close();
        backendChannel.close();
        memory.close();
        try {
            device.reset();
        } catch (RuntimeException | Error e) {
            LOG.error("resetting the device after the session failed", e);
        } finally {
            connection.close();
        }
    }
}
