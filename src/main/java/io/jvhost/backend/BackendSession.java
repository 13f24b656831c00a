package io.jvhost.backend;

import io.jvhost.memory.DirtyLog;
import io.jvhost.memory.GuestMemoryException;
import io.jvhost.memory.MemoryTable;
import io.jvhost.memory.RegionDescriptor;
import io.jvhost.nativeio.EventFd;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.CancellableFd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Pipe;
import io.jvhost.protocol.DeviceStateDirection;
import io.jvhost.protocol.DeviceStatePhase;
import io.jvhost.protocol.Connection;
import io.jvhost.protocol.Direction;
import io.jvhost.protocol.FrontendMessage;
import io.jvhost.protocol.FrontendRequest;
import io.jvhost.protocol.ReplyRule;
import io.jvhost.protocol.FrontendMessage.*;
import io.jvhost.protocol.MemoryRegionDescriptor;
import io.jvhost.protocol.PeerClosedException;
import io.jvhost.protocol.ProtocolException;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.ReceivedMessage;
import io.jvhost.protocol.Reply;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.VirtqueueException;
import io.jvhost.virtqueue.VringAddresses;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One front-end connection: reads requests, applies them to memory, rings and the device, and
 * answers. Runs on the thread that accepted the connection; rings are processed on a
 * {@link VringWorker}. Errors in a request are answered (an error reply or a non-zero ack) and
 * logged; only a broken connection or an undecodable stream ends the session.
 */
public final class BackendSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BackendSession.class);

    /** Protocol features every jvhost back-end implements (CONFIG and DEVICE_STATE depend on the device). */
    static final Set<ProtocolFeature> BASE_PROTOCOL_FEATURES = EnumSet.of(
            ProtocolFeature.MQ, ProtocolFeature.LOG_SHMFD, ProtocolFeature.REPLY_ACK,
            ProtocolFeature.RESET_DEVICE,
            ProtocolFeature.CONFIGURE_MEM_SLOTS, ProtocolFeature.STATUS);

    private final Connection<FrontendRequest, FrontendMessage> connection;
    private final Device device;
    private final MemoryTable memory = new MemoryTable();
    private final DirtyLog dirtyLog = new DirtyLog();
    private final List<Vring> rings;
    private final VringWorker worker;
    private final long offeredFeatures;
    private final long offeredProtocolFeatures;
    private long ackedFeatures;
    private long ackedProtocolFeatures;
    private boolean featuresSet;
    private int status;
    private Fd backendRequestChannel;
    private final DeviceStateOptions stateOptions;
    /** The transfer started by the last SET_DEVICE_STATE_FD, until CHECK_DEVICE_STATE consumes it. */
    private StateTransfer transfer;

    public BackendSession(Connection<FrontendRequest, FrontendMessage> connection, Device device) throws NativeException {
        this(connection, device, DeviceStateOptions.defaults());
    }

    public BackendSession(Connection<FrontendRequest, FrontendMessage> connection, Device device, DeviceStateOptions stateOptions) throws NativeException {
        this.connection = connection;
        this.device = device;
        this.stateOptions = stateOptions;
        this.offeredFeatures = device.features()
                | VirtioFeatures.mask(VirtioFeatures.PROTOCOL_FEATURES, VirtioFeatures.LOG_ALL);
        EnumSet<ProtocolFeature> pf = EnumSet.copyOf(BASE_PROTOCOL_FEATURES);
        pf.addAll(device.protocolFeatures());
        // Offered only by devices that can migrate their state: QEMU refuses to migrate a
        // vhost-user-fs back-end without it, which is the honest answer for a device that can't.
        if (device instanceof StatefulDevice sd && sd.canMigrate()) pf.add(ProtocolFeature.DEVICE_STATE);
        else pf.remove(ProtocolFeature.DEVICE_STATE);
        // Offered only by devices with a config space, as virtiofsd does (only with --tag): QEMU's
        // vhost-user-rng/-fs build their config themselves and warn about a back-end offering it.
        if (device.hasConfigSpace()) pf.add(ProtocolFeature.CONFIG);
        else pf.remove(ProtocolFeature.CONFIG);
        this.offeredProtocolFeatures = ProtocolFeature.maskOf(pf);
        List<Vring> list = new ArrayList<>();
        for (int i = 0; i < device.queueCount(); i++) list.add(new Vring(i, memory, dirtyLog, device.requestExecutor()));
        this.rings = List.copyOf(list);
        this.worker = new VringWorker("jvhost-" + device.name() + "-rings", rings, device, this::disconnect);
    }

    /** Serves until the front-end closes the connection or sends something undecodable. */
    public void run() {
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
                LOG.error("{} failed unexpectedly, closing the connection", received.message().request(), e);
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

    private boolean negotiated(ProtocolFeature f) {
        return f.isIn(ackedProtocolFeatures);
    }

    private void dispatch(ReceivedMessage<FrontendMessage> received) throws IOException {
        FrontendMessage m = received.message();
        LOG.debug("<- {}", m);
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

    private Vring ring(int index) throws RequestRejected {
        if (index < 0 || index >= rings.size()) {
            throw new RequestRejected("ring index " + index + " out of range (device has " + rings.size() + ")");
        }
        return rings.get(index);
    }

    private Reply handle(FrontendMessage m) throws RequestRejected {
        return switch (m) {
            case GetFeatures g -> new Reply.U64(offeredFeatures);
            case SetFeatures s -> setFeatures(s.features());
            case SetOwner s -> null;
            case ResetOwner r -> {
                resetDevice();
                yield null;
            }
            case GetProtocolFeatures g -> new Reply.U64(offeredProtocolFeatures);
            case SetProtocolFeatures s -> {
                long unknown = s.features() & ~offeredProtocolFeatures;
                if (unknown != 0) throw new RequestRejected("protocol features not offered: 0x" + Long.toHexString(unknown));
                ackedProtocolFeatures = s.features();
                LOG.info("protocol features: {}", ProtocolFeature.describe(ackedProtocolFeatures));
                yield null;
            }
            case GetQueueNum g -> new Reply.U64(rings.size());
            case GetMaxMemSlots g -> new Reply.U64(memory.maxSlots());
            case SetMemTable s -> setMemTable(s);
            case AddMemReg a -> addMemReg(a);
            case RemMemReg r -> removeMemReg(r);
            case SetLogBase s -> setLogBase(s);
            case SetLogFd s -> {
                s.fd().close(); // the log eventfd only matters for QEMU's own vhost-net path
                yield null;
            }
            case SetVringNum s -> withRing(s.index(), r -> r.queue.setSize(checkSize(s.num())));
            case SetVringAddr s -> withRing(s.index(), r -> r.queue.setAddresses(new VringAddresses(s.flags(),
                    s.descUserAddr(), s.usedUserAddr(), s.availUserAddr(), s.logGuestAddr())));
            case SetVringBase s -> withRing(s.index(), r -> r.queue.setBase(s.num()));
            case GetVringBase g -> getVringBase(g.index());
            case SetVringKick s -> setVringKick(s.index(), s.fd());
            case SetVringCall s -> {
                Vring r = ring(s.index());
                locked(r, () -> r.setCall(s.fd().map(EventFd::adopt).orElse(null)));
                yield null;
            }
            case SetVringErr s -> {
                Vring r = ring(s.index());
                locked(r, () -> r.setErr(s.fd().map(EventFd::adopt).orElse(null)));
                yield null;
            }
            case SetVringEnable s -> setVringEnable(s.index(), s.enable());
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
                // Kept so the channel stays open for the front-end; no device here sends requests.
                if (backendRequestChannel != null) backendRequestChannel.close();
                backendRequestChannel = s.fd();
                yield null;
            }
            case VringKick k -> {
                throw new RequestRejected("in-band notifications were not offered");
            }
            case SetDeviceStateFd s -> setDeviceStateFd(s);
            case CheckDeviceState c -> checkDeviceState();
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
    private interface RingAction {
        void apply(Vring ring) throws VirtqueueException, RequestRejected;
    }

    private Reply withRing(int index, RingAction action) throws RequestRejected {
        Vring r = ring(index);
        r.lock.lock();
        try {
            action.apply(r);
        } catch (VirtqueueException e) {
            throw new RequestRejected("ring " + index + ": " + e.getMessage(), e);
        } finally {
            r.lock.unlock();
        }
        return null;
    }

    private static void locked(Vring r, Runnable action) {
        r.lock.lock();
        try {
            action.run();
        } finally {
            r.lock.unlock();
        }
    }

    private Reply setFeatures(long features) throws RequestRejected {
        long unknown = features & ~offeredFeatures;
        if (unknown != 0) throw new RequestRejected("features not offered: " + VirtioFeatures.describe(unknown));
        boolean eventIdx = VirtioFeatures.has(features, VirtioFeatures.RING_EVENT_IDX);
        for (Vring r : rings) {
            r.lock.lock();
            try {
                // A running ring keeps its event-idx mode; QEMU re-sends SET_FEATURES only to toggle LOG_ALL.
                if (!r.queue.isStarted() || r.queue.eventIdx() == eventIdx) r.queue.setEventIdx(eventIdx);
                else throw new RequestRejected("EVENT_IDX cannot change while ring " + r.index + " runs");
                // Spec "Ring states": without PROTOCOL_FEATURES every ring is enabled at once.
                if (!VirtioFeatures.has(features, VirtioFeatures.PROTOCOL_FEATURES)) r.setEnabled(true);
            } finally {
                r.lock.unlock();
            }
        }
        dirtyLog.setEnabled(VirtioFeatures.has(features, VirtioFeatures.LOG_ALL));
        ackedFeatures = features;
        featuresSet = true;
        device.featuresAcknowledged(features & ~VirtioFeatures.mask(VirtioFeatures.LOG_ALL));
        LOG.info("features: {}", VirtioFeatures.describe(features));
        return null;
    }

    private static RegionDescriptor toRegion(MemoryRegionDescriptor d) {
        return new RegionDescriptor(d.guestPhysAddr(), d.size(), d.userAddr(), d.mmapOffset());
    }

    /** Memory changes run with every ring locked: no worker is inside guest memory meanwhile. */
    private void withAllRingsLocked(MemoryChange change) throws RequestRejected {
        for (Vring r : rings) r.lock.lock();
        try {
            for (Vring r : rings) r.drain(); // pooled requests still read and write guest memory
            change.apply();
            memory.reclaimRetired();
        } catch (GuestMemoryException | NativeException e) {
            throw new RequestRejected(e.getMessage(), e);
        } finally {
            for (int i = rings.size() - 1; i >= 0; i--) rings.get(i).lock.unlock();
        }
    }

    @FunctionalInterface
    private interface MemoryChange {
        void apply() throws GuestMemoryException, NativeException;
    }

    private Reply setMemTable(SetMemTable s) throws RequestRejected {
        try {
            withAllRingsLocked(() -> memory.replaceAll(s.regions().stream().map(BackendSession::toRegion).toList(), s.fds()));
            LOG.info("memory table: {} region(s)", s.regions().size());
        } finally {
            s.closeFds(); // mapped (or refused): the fds themselves are no longer needed
        }
        return null;
    }

    private Reply addMemReg(AddMemReg a) throws RequestRejected {
        try {
            withAllRingsLocked(() -> memory.add(toRegion(a.region()), a.fd()));
            LOG.info("added memory region {}", a.region());
        } finally {
            a.fd().close();
        }
        return null;
    }

    private Reply removeMemReg(RemMemReg r) throws RequestRejected {
        withAllRingsLocked(() -> memory.remove(toRegion(r.region())));
        LOG.info("removed memory region {}", r.region());
        return null;
    }

    private Reply setLogBase(SetLogBase s) throws RequestRejected {
        try {
            dirtyLog.setBase(s.fd(), s.offset(), s.size());
            LOG.info("dirty log: {} bytes", s.size());
        } catch (GuestMemoryException | NativeException e) {
            throw new RequestRejected("dirty log: " + e.getMessage(), e);
        } finally {
            s.fd().close();
        }
        // Spec: with LOG_SHMFD the back-end confirms the log is mapped with a zero u64.
        return negotiated(ProtocolFeature.LOG_SHMFD) ? Reply.U64.SUCCESS : null;
    }

    private Reply getVringBase(int index) throws RequestRejected {
        Vring r = ring(index);
        r.lock.lock();
        try {
            int base = r.stop();
            EventFd kick = r.swapKick(null);
            if (kick != null) {
                worker.unwatch(kick);
                kick.close();
            }
            LOG.info("ring {} stopped at avail index {}", index, base);
            return new Reply.VringState(index, base);
        } finally {
            r.lock.unlock();
        }
    }

    private Reply setVringKick(int index, Optional<Fd> fd) throws RequestRejected {
        Vring r = ring(index);
        if (fd.isEmpty()) throw new RequestRejected("ring " + index + ": polling mode (no kick fd) is not supported");
        EventFd next = EventFd.adopt(fd.get());
        r.lock.lock();
        try {
            EventFd previous = r.swapKick(next);
            if (previous != null) {
                worker.unwatch(previous);
                previous.close();
            }
            worker.watch(r, next);
        } catch (NativeException e) {
            r.swapKick(null);
            next.close();
            throw new RequestRejected("ring " + index + ": " + e.getMessage(), e);
        } finally {
            r.lock.unlock();
        }
        return null;
    }

    private Reply setVringEnable(int index, boolean enable) throws RequestRejected {
        Vring r = ring(index);
        r.lock.lock();
        try {
            r.setEnabled(enable);
            // Chains the driver queued while the ring was disabled got their kick already:
            // process them now (on the worker, by kicking ourselves).
            if (enable && r.queue.isStarted() && r.kick() != null) r.kick().signal();
        } catch (NativeException e) {
            throw new RequestRejected("ring " + index + ": " + e.getMessage(), e);
        } finally {
            r.lock.unlock();
        }
        return null;
    }

    private Reply getConfig(GetConfig g) throws RequestRejected {
        byte[] config = device.config();
        long end = (long) g.offset() + g.size();
        if (g.offset() < 0 || end > config.length) {
            throw new RequestRejected("config read [" + g.offset() + ", " + end + ") outside the "
                    + config.length + "-byte config space");
        }
        return new Reply.Config(g.offset(), g.flags(), Arrays.copyOfRange(config, g.offset(), (int) end));
    }

    private StatefulDevice statefulDevice() throws RequestRejected {
        if (!(device instanceof StatefulDevice sd) || !sd.canMigrate()) {
            throw new RequestRejected("device state transfer is not offered by " + device.name());
        }
        if (!negotiated(ProtocolFeature.DEVICE_STATE)) {
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
    private Reply setDeviceStateFd(SetDeviceStateFd s) throws RequestRejected {
        Fd theirs = s.fd();
        try {
            StatefulDevice sd = statefulDevice();
            DeviceStateDirection direction = s.knownDirection().orElseThrow(
                    () -> new RequestRejected("unknown transfer direction " + Integer.toUnsignedString(s.direction())));
            DeviceStatePhase phase = s.knownPhase().orElseThrow(
                    () -> new RequestRejected("unsupported migration phase " + Integer.toUnsignedString(s.phase())));
            switch (phase) {
                case STOPPED -> {} // the only phase: the device must be suspended, checked below
            }
            cancelTransfer("a new SET_DEVICE_STATE_FD arrived");
            return switch (direction) {
                case SAVE -> startSave(sd, theirs);
                case LOAD -> startLoad(sd, theirs);
            };
        } finally {
            theirs.close(); // a transfer works on its own dup; a back-end channel replaces it
        }
    }

    private Reply startSave(StatefulDevice sd, Fd theirs) throws RequestRejected {
        // Captured with every ring locked: no chain is in flight, and none can start meanwhile.
        StatefulDevice.SavedState snapshot;
        for (Vring r : rings) r.lock.lock();
        try {
            requireSuspended("save");
            snapshot = sd.captureState();
        } catch (DeviceException e) {
            throw new RequestRejected("capturing the device state: " + e.getMessage(), e);
        } finally {
            for (int i = rings.size() - 1; i >= 0; i--) rings.get(i).lock.unlock();
        }
        Channel c = channel(theirs, DeviceStateDirection.SAVE);
        transfer = StateTransfer.save(device.name(), snapshot, c.ours(), stateOptions.backendChannel());
        return c.reply();
    }

    private Reply startLoad(StatefulDevice sd, Fd theirs) throws RequestRejected {
        for (Vring r : rings) r.lock.lock();
        try {
            requireSuspended("load");
        } finally {
            for (int i = rings.size() - 1; i >= 0; i--) rings.get(i).lock.unlock();
        }
        Channel c = channel(theirs, DeviceStateDirection.LOAD);
        transfer = StateTransfer.load(device.name(), sd, c.ours(), this::commitLoaded);
        return c.reply();
    }

    /** Runs on the transfer thread: installs a validated state while no ring can run. */
    private void commitLoaded(StatefulDevice.PreparedState prepared) throws DeviceException {
        for (Vring r : rings) r.lock.lock();
        try {
            requireSuspended("load");
            prepared.commit();
        } catch (RequestRejected e) {
            throw new DeviceException(e.getMessage());
        } finally {
            for (int i = rings.size() - 1; i >= 0; i--) rings.get(i).lock.unlock();
        }
    }

    /** Spec: the state moves while the device is suspended, i.e. every ring stopped. The caller holds every ring lock. */
    private void requireSuspended(String what) throws RequestRejected {
        for (Vring r : rings) {
            if (r.queue.isStarted()) {
                throw new RequestRejected("cannot " + what + " the device state while ring " + r.index
                        + " runs (stop it with GET_VRING_BASE first)");
            }
        }
    }

    private record Channel(CancellableFd ours, Reply reply) {}

    /**
     * Our end of the transfer channel: a dup of the front-end's fd (the message's own copy is
     * closed by the caller), or with {@link DeviceStateOptions#backendChannel()} a pipe of our
     * own whose other end goes back in the reply.
     */
    private Channel channel(Fd theirs, DeviceStateDirection direction) throws RequestRejected {
        try {
            if (!stateOptions.backendChannel()) {
                Fd dup = theirs.dup();
                try {
                    return new Channel(StateTransfer.open(dup, direction), Reply.DeviceStateFd.accepted());
                } catch (NativeException e) {
                    dup.close();
                    throw e;
                }
            }
            Pipe pipe = Pipe.create(stateOptions.pipeCapacity());
            try {
                return switch (direction) {
                    case SAVE -> new Channel(StateTransfer.open(pipe.writeEnd(), direction),
                            Reply.DeviceStateFd.acceptedWith(pipe.readEnd()));
                    case LOAD -> new Channel(StateTransfer.open(pipe.readEnd(), direction),
                            Reply.DeviceStateFd.acceptedWith(pipe.writeEnd()));
                };
            } catch (NativeException e) {
                pipe.close();
                throw e;
            }
        } catch (NativeException e) {
            throw new RequestRejected("setting up the transfer channel: " + e.getMessage(), e);
        }
    }

    /** CHECK_DEVICE_STATE: joins the latest transfer; 0 only if it completed. */
    private Reply checkDeviceState() throws RequestRejected {
        statefulDevice();
        StateTransfer t = transfer;
        if (t == null) throw new RequestRejected("no device state transfer to check (SET_DEVICE_STATE_FD first)");
        transfer = null;
        StateTransfer.Outcome o = t.await(stateOptions.checkTimeout(), this::frontendHungUp);
        if (!o.succeeded()) throw new RequestRejected(o.detail());
        LOG.info("device state {} checked: {}", t.direction().name().toLowerCase(), o.detail());
        return Reply.U64.SUCCESS;
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

    private void cancelTransfer(String why) throws RequestRejected {
        StateTransfer t = transfer;
        if (t == null) return;
        transfer = null;
        LOG.info("cancelling the running device state {}: {}", t.direction().name().toLowerCase(), why);
        if (!t.cancel(Duration.ofSeconds(5))) {
            throw new RequestRejected("the previous device state transfer did not stop");
        }
    }

    private void resetDevice() {
        try {
            cancelTransfer("device reset");
        } catch (RequestRejected e) {
            LOG.error("{}", e.getMessage());
        }
        for (Vring r : rings) {
            r.lock.lock();
            try {
                r.stop();
                EventFd kick = r.swapKick(null);
                if (kick != null) {
                    worker.unwatch(kick);
                    kick.close();
                }
                r.setEnabled(false);
            } finally {
                r.lock.unlock();
            }
        }
        status = 0;
        ackedFeatures = 0;
        featuresSet = false;
        dirtyLog.setEnabled(false);
        device.reset();
        LOG.info("device reset");
    }

    /** Ends {@link #run()} from another thread (server shutdown). */
    void disconnect() {
        connection.socket().shutdown();
    }

    /** Features the front-end acknowledged (for tests and state reports). */
    public long ackedFeatures() {
        return featuresSet ? ackedFeatures : 0;
    }

    @Override
    public void close() {
        try {
            cancelTransfer("the session ends");
        } catch (RequestRejected e) {
            LOG.error("{}", e.getMessage());
        }
        worker.close();
        for (Vring r : rings) {
            r.lock.lock();
            try {
                r.close();
            } finally {
                r.lock.unlock();
            }
        }
        if (backendRequestChannel != null) backendRequestChannel.close();
        dirtyLog.close();
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
