package io.jvhost.frontend;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.UnixSocket;
import io.jvhost.protocol.Connection;
import io.jvhost.protocol.DeviceStateDirection;
import io.jvhost.protocol.DeviceStatePhase;
import io.jvhost.protocol.Direction;
import io.jvhost.protocol.FrontendMessage;
import io.jvhost.protocol.FrontendMessage.*;
import io.jvhost.protocol.FrontendRequest;
import io.jvhost.protocol.MemoryRegionDescriptor;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.Reply;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The front-end side of vhost-user: one typed call per request. Requests without a reply of
 * their own are sent with NEED_REPLY once REPLY_ACK is negotiated and their ack is checked, as
 * QEMU does, so every call returns only after the back-end applied (or refused) it.
 */
public final class FrontendClient implements AutoCloseable {
    private final Connection<FrontendRequest, FrontendMessage> connection;
    private long protocolFeatures;
    private boolean protocolFeaturesSet;

    public FrontendClient(UnixSocket socket) {
        this.connection = new Connection<>(socket, Direction.FRONTEND);
    }

    public static FrontendClient connect(Path socketPath) throws IOException {
        return new FrontendClient(UnixSocket.connect(socketPath));
    }

    public Connection<FrontendRequest, FrontendMessage> connection() {
        return connection;
    }

    public boolean negotiated(ProtocolFeature f) {
        return f.isIn(protocolFeatures);
    }

    private Reply call(FrontendMessage m) throws IOException {
        return connection.call(m, false);
    }

    /** Sends a request that has no reply of its own; waits for its ack when REPLY_ACK is on. */
    private void command(FrontendMessage m) throws IOException {
        if (!negotiated(ProtocolFeature.REPLY_ACK)) {
            connection.send(m, false);
            return;
        }
        Reply r = connection.call(m, true);
        if (!(r instanceof Reply.U64 ack)) throw new IOException("ack to " + m.request() + " is " + r);
        if (!ack.isSuccess())
            throw new BackendRefusedException(m.request() + " refused by the back-end (ack " + ack.value() + ")");
    }

    private static long u64(Reply r, FrontendMessage m) throws IOException {
        if (r instanceof Reply.U64 v) return v.value();
        throw new IOException("reply to " + m.request() + " is " + r);
    }

    public long getFeatures() throws IOException {
        GetFeatures m = new GetFeatures();
        return u64(call(m), m);
    }

    public void setFeatures(long features) throws IOException {
        command(new SetFeatures(features));
    }

    public void setOwner() throws IOException {
        command(new SetOwner());
    }

    public long getProtocolFeatures() throws IOException {
        GetProtocolFeatures m = new GetProtocolFeatures();
        return u64(call(m), m);
    }

    /** Acks protocol features; from then on NEED_REPLY is used if REPLY_ACK is among them. */
    public void setProtocolFeatures(long features) throws IOException {
        connection.send(new SetProtocolFeatures(features), false);
        protocolFeatures = features;
        protocolFeaturesSet = true;
    }

    /** Whether SET_PROTOCOL_FEATURES was sent on this connection. */
    public boolean protocolFeaturesSet() {
        return protocolFeaturesSet;
    }

    /** The protocol features acked with SET_PROTOCOL_FEATURES (0 before). */
    public long protocolFeatures() {
        return protocolFeatures;
    }

    public int getQueueNum() throws IOException {
        GetQueueNum m = new GetQueueNum();
        return (int) u64(call(m), m);
    }

    public int getMaxMemSlots() throws IOException {
        GetMaxMemSlots m = new GetMaxMemSlots();
        return (int) u64(call(m), m);
    }

    /** The whole table at once (fds stay owned by the caller). */
    public void setMemTable(List<MemoryRegionDescriptor> regions, List<Fd> fds) throws IOException {
        command(new SetMemTable(regions, fds));
    }

    public void addMemReg(MemoryRegionDescriptor region, Fd fd) throws IOException {
        command(new AddMemReg(region, fd));
    }

    public void remMemReg(MemoryRegionDescriptor region) throws IOException {
        command(new RemMemReg(region));
    }

    public void setLogBase(long size, long offset, Fd fd) throws IOException {
        SetLogBase m = new SetLogBase(size, offset, fd);
        if (negotiated(ProtocolFeature.LOG_SHMFD)) {
            // Like QEMU, only the reply's shape is checked: libvhost-user leaves the log size in it.
            u64(call(m), m);
        } else {
            command(m);
        }
    }

    public void setVringNum(int index, int num) throws IOException {
        command(new SetVringNum(index, num));
    }

    public void setVringAddr(int index, int flags, long desc, long used, long avail, long log) throws IOException {
        command(new SetVringAddr(index, flags, desc, used, avail, log));
    }

    public void setVringBase(int index, int base) throws IOException {
        command(new SetVringBase(index, base));
    }

    /** Stops the ring; returns the next avail index the back-end would have processed. */
    public int getVringBase(int index) throws IOException {
        GetVringBase m = new GetVringBase(index);
        Reply r = call(m);
        if (r instanceof Reply.VringState s && s.index() == index) return s.num();
        throw new IOException("reply to GET_VRING_BASE(" + index + ") is " + r);
    }

    public void setVringKick(int index, Fd fd) throws IOException {
        command(new SetVringKick(index, Optional.of(fd)));
    }

    public void setVringCall(int index, Fd fd) throws IOException {
        command(new SetVringCall(index, Optional.ofNullable(fd)));
    }

    public void setVringErr(int index, Fd fd) throws IOException {
        command(new SetVringErr(index, Optional.ofNullable(fd)));
    }

    public void setVringEnable(int index, boolean enable) throws IOException {
        command(new SetVringEnable(index, enable));
    }

    public byte[] getConfig(int offset, int size) throws IOException {
        GetConfig m = new GetConfig(offset, size, 0);
        Reply r = call(m);
        if (r instanceof Reply.Config c) return c.data();
        throw new BackendRefusedException("GET_CONFIG(" + offset + ", " + size + ") refused: " + r);
    }

    public void setStatus(int status) throws IOException {
        command(new SetStatus(status));
    }

    public int getStatus() throws IOException {
        GetStatus m = new GetStatus();
        return (int) u64(call(m), m);
    }

    /**
     * SET_DEVICE_STATE_FD: hands {@code fd} (one end of the transfer channel; still owned by the
     * caller) to the back-end. Returns the back-end's own channel fd if it provides one, which
     * the caller must then use instead (and close). A refusal throws
     * {@link BackendRefusedException}.
     */
    public Optional<Fd> setDeviceStateFd(DeviceStateDirection direction, DeviceStatePhase phase, Fd fd)
            throws IOException {
        return setDeviceStateFd(direction.code(), phase.code(), fd);
    }

    /** As above with raw codes, for values the enums do not have (tests, future phases). */
    public Optional<Fd> setDeviceStateFd(int direction, int phase, Fd fd) throws IOException {
        SetDeviceStateFd m = new SetDeviceStateFd(direction, phase, fd);
        Reply r = call(m);
        if (!(r instanceof Reply.DeviceStateFd result)) throw new IOException("reply to " + m.request() + " is " + r);
        if (!result.succeeded()) {
            throw new BackendRefusedException("SET_DEVICE_STATE_FD(direction " + direction + ", phase " + phase
                    + ") refused by the back-end (error " + result.error() + ")");
        }
        return result.fd();
    }

    /**
     * CHECK_DEVICE_STATE: returns once the back-end knows whether the transfer worked; throws
     * {@link BackendRefusedException} if it did not.
     */
    public void checkDeviceState() throws IOException {
        CheckDeviceState m = new CheckDeviceState();
        long v = u64(call(m), m);
        if (v != 0) throw new BackendRefusedException("CHECK_DEVICE_STATE: the back-end reports failure (" + v + ")");
    }

    public void resetDevice() throws IOException {
        command(new ResetDevice());
    }

    /** Sends any request as it is, e.g. for hostile-input tests; returns without waiting. */
    public void sendRaw(FrontendMessage m, boolean needReply) throws IOException {
        connection.send(m, needReply);
    }

    @Override
    public void close() {
        connection.close();
    }
}
