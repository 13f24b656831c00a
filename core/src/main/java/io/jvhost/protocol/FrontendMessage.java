package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * Every request a front-end sends, one immutable record each (ids 1–44), so a back-end can
 * dispatch with an exhaustive {@code switch}. Fields are the decoded payload; records that carry
 * file descriptors own them (see {@link CarriesFds}). Unsigned wire numbers are kept as raw Java
 * ints/longs unless a narrower range is noted. Record constructors enforce the field rules, and
 * the decoder relies on them, so a decoded message is always well formed.
 */
public sealed interface FrontendMessage extends Message<FrontendRequest> {
    /** QEMU's VHOST_USER_MAX_CONFIG_SIZE: largest config space access. */
    int MAX_CONFIG_SIZE = 256;
    /** Upper bound on u32 vring indices accepted (see {@link Checks#vringIndex}). */
    int MAX_VRINGS = 0x8000;

    /** From {@link FrontendRequest}'s table, which names each request's record. */
    @Override
    default FrontendRequest request() {
        return Direction.FRONTEND.requestOf(this);
    }

    record GetFeatures() implements FrontendMessage {}

    record SetFeatures(long features) implements FrontendMessage {
        @Override
        public String toString() {
            return "SetFeatures[" + VirtioFeatures.describe(features) + "]";
        }
    }

    record SetOwner() implements FrontendMessage {}

    record ResetOwner() implements FrontendMessage {}

    /** The whole memory table: region i is mapped from fds.get(i). */
    record SetMemTable(List<MemoryRegionDescriptor> regions, List<Fd> fds) implements FrontendMessage {
        public SetMemTable {
            regions = List.copyOf(regions);
            fds = List.copyOf(fds);
            if (regions.isEmpty() || regions.size() > Header.MAX_FDS) {
                throw new IllegalArgumentException(
                        "memory table with " + regions.size() + " regions, expected 1.." + Header.MAX_FDS);
            }
            if (fds.size() != regions.size()) {
                throw new IllegalArgumentException(
                        "memory table with " + regions.size() + " regions but " + fds.size() + " fds");
            }
        }
    }

    /** Dirty log: {@code size} bytes of bitmap starting at {@code offset} in {@code fd}. */
    record SetLogBase(long size, long offset, Fd fd) implements FrontendMessage {
        public SetLogBase {
            Checks.fd(fd);
        }

        public List<Fd> fds() {
            return List.of(fd);
        }
    }

    record SetLogFd(Fd fd) implements FrontendMessage {
        public SetLogFd {
            Checks.fd(fd);
        }

        public List<Fd> fds() {
            return List.of(fd);
        }
    }

    record SetVringNum(int index, int num) implements FrontendMessage {
        public SetVringNum {
            Checks.vringIndex(index);
        }
    }

    /**
     * Ring addresses in the front-end's virtual address space (or IOVAs with ACCESS_PLATFORM),
     * and the guest address used to log used-ring writes when {@link #LOG} is in {@code flags}.
     */
    record SetVringAddr(
            int index, int flags, long descUserAddr, long usedUserAddr, long availUserAddr, long logGuestAddr)
            implements FrontendMessage {
        /** VHOST_VRING_F_LOG (bit 0): log used-ring writes. The only defined flag. */
        public static final int LOG = 0x1;

        public SetVringAddr {
            Checks.vringIndex(index);
            if ((flags & ~LOG) != 0) {
                throw new IllegalArgumentException("unknown vring address flags 0x" + Integer.toHexString(flags));
            }
        }

        public boolean logUsedRing() {
            return (flags & LOG) != 0;
        }
    }

    /**
     * Next available index (split: bits 0–15; packed: avail index, wrap counters and used index,
     * see spec "Vring descriptor indices for packed virtqueues"), kept raw.
     */
    record SetVringBase(int index, int num) implements FrontendMessage {
        public SetVringBase {
            Checks.vringIndex(index);
        }
    }

    /** Stops the ring; the request's num field is reserved and ignored. */
    record GetVringBase(int index) implements FrontendMessage {
        public GetVringBase {
            Checks.vringIndex(index);
        }
    }

    /**
     * SET_VRING_KICK/CALL/ERR: an eventfd for ring {@code index} (0–255: the u64 has only bits
     * 0–7 for it), or none when bit 8 says "no fd" (poll instead).
     */
    sealed interface VringFile extends FrontendMessage permits SetVringKick, SetVringCall, SetVringErr {
        int index();

        Optional<Fd> fd();

        default List<Fd> fds() {
            return fd().map(List::of).orElse(List.of());
        }
    }

    record SetVringKick(int index, Optional<Fd> fd) implements VringFile {
        public SetVringKick {
            Checks.unsignedByte("vring index", index);
            Checks.optionalFd(fd);
        }
    }

    record SetVringCall(int index, Optional<Fd> fd) implements VringFile {
        public SetVringCall {
            Checks.unsignedByte("vring index", index);
            Checks.optionalFd(fd);
        }
    }

    record SetVringErr(int index, Optional<Fd> fd) implements VringFile {
        public SetVringErr {
            Checks.unsignedByte("vring index", index);
            Checks.optionalFd(fd);
        }
    }

    record GetProtocolFeatures() implements FrontendMessage {}

    record SetProtocolFeatures(long features) implements FrontendMessage {
        @Override
        public String toString() {
            return "SetProtocolFeatures[" + ProtocolFeature.describe(features) + "]";
        }
    }

    record GetQueueNum() implements FrontendMessage {}

    /** num 1 enables, 0 disables; other values are refused, as rust-vmm does. */
    record SetVringEnable(int index, boolean enable) implements FrontendMessage {
        public SetVringEnable {
            Checks.vringIndex(index);
        }
    }

    /** The guest MAC: the first 6 bytes of the u64 payload. */
    record SendRarp(byte[] mac) implements FrontendMessage {
        public SendRarp {
            mac = Checks.copy(mac, "mac");
            if (mac.length != 6)
                throw new IllegalArgumentException("MAC address of " + mac.length + " bytes, expected 6");
        }

        @Override
        public byte[] mac() {
            return mac.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SendRarp other && Arrays.equals(mac, other.mac);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(mac);
        }

        @Override
        public String toString() {
            return "SendRarp[" + Checks.hex(mac) + "]";
        }
    }

    /** QEMU passes a u16 MTU in the u64. */
    record NetSetMtu(int mtu) implements FrontendMessage {
        public NetSetMtu {
            Checks.unsignedShort("MTU", mtu);
        }
    }

    /** The socket for back-end-initiated requests ({@link BackendMessage}). */
    record SetBackendReqFd(Fd fd) implements FrontendMessage {
        public SetBackendReqFd {
            Checks.fd(fd);
        }

        public List<Fd> fds() {
            return List.of(fd);
        }
    }

    record IotlbMsg(Iotlb entry) implements FrontendMessage {
        public IotlbMsg {
            Objects.requireNonNull(entry, "entry");
        }
    }

    /** Legacy devices: num 0 little endian, 1 big endian; other values are invalid (spec). */
    record SetVringEndian(int index, boolean bigEndian) implements FrontendMessage {
        public SetVringEndian {
            Checks.vringIndex(index);
        }
    }

    /**
     * Read {@code size} bytes of config space at {@code offset}. The request also carries
     * {@code size} payload bytes, which QEMU zeroes and which mean nothing, so they are not kept;
     * encoding writes zeros.
     */
    record GetConfig(int offset, int size, int flags) implements FrontendMessage {
        public GetConfig {
            if (size < 0 || size > MAX_CONFIG_SIZE) {
                throw new IllegalArgumentException(
                        "config size " + Integer.toUnsignedString(size) + " out of range 0.." + MAX_CONFIG_SIZE);
            }
        }
    }

    /**
     * Write config space. {@code flags}: {@link #WRITABLE} for guest writes, {@link #MIGRATION}
     * when restoring on a migration destination (spec: read-only fields only then); the offset
     * is checked against the device's config size by the handler.
     */
    record SetConfig(int offset, int flags, byte[] data) implements FrontendMessage {
        public static final int WRITABLE = 0;
        public static final int MIGRATION = 1;

        public SetConfig {
            data = Checks.copy(data, "data");
            if (data.length > MAX_CONFIG_SIZE) {
                throw new IllegalArgumentException(
                        "config data of " + data.length + " bytes, at most " + MAX_CONFIG_SIZE);
            }
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SetConfig other
                    && offset == other.offset
                    && flags == other.flags
                    && Arrays.equals(data, other.data);
        }

        @Override
        public int hashCode() {
            return Objects.hash(offset, flags, Arrays.hashCode(data));
        }

        @Override
        public String toString() {
            return "SetConfig[offset=" + offset + ", flags=" + flags + ", data=" + Checks.hex(data) + "]";
        }
    }

    /**
     * QEMU's VhostUserCryptoSession, kept opaque (its layout follows QEMU's crypto backend
     * structs and changes between versions): u64 op code first, i64 session id last.
     */
    record CreateCryptoSession(byte[] session) implements FrontendMessage {
        public CreateCryptoSession {
            session = Checks.copy(session, "session");
            if (session.length < 16 || session.length > Header.MAX_PAYLOAD) {
                throw new IllegalArgumentException(
                        "crypto session of " + session.length + " bytes, expected 16.." + Header.MAX_PAYLOAD);
            }
        }

        @Override
        public byte[] session() {
            return session.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CreateCryptoSession other && Arrays.equals(session, other.session);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(session);
        }

        @Override
        public String toString() {
            return "CreateCryptoSession[" + session.length + " bytes]";
        }
    }

    record CloseCryptoSession(long sessionId) implements FrontendMessage {}

    record PostcopyAdvise() implements FrontendMessage {}

    record PostcopyListen() implements FrontendMessage {}

    record PostcopyEnd() implements FrontendMessage {}

    /**
     * Ask for an inflight-tracking buffer for {@code numQueues} queues of {@code queueSize}; the
     * payload's mmap size/offset fields are unused in the request (QEMU sends zeros) and dropped.
     */
    record GetInflightFd(int numQueues, int queueSize) implements FrontendMessage {
        public GetInflightFd {
            Checks.unsignedShort("number of queues", numQueues);
            Checks.unsignedShort("queue size", queueSize);
        }
    }

    record SetInflightFd(long mmapSize, long mmapOffset, int numQueues, int queueSize, Fd fd)
            implements FrontendMessage {
        public SetInflightFd {
            Checks.unsignedShort("number of queues", numQueues);
            Checks.unsignedShort("queue size", queueSize);
            Checks.fd(fd);
        }

        public List<Fd> fds() {
            return List.of(fd);
        }
    }

    record GpuSetSocket(Fd fd) implements FrontendMessage {
        public GpuSetSocket {
            Checks.fd(fd);
        }

        public List<Fd> fds() {
            return List.of(fd);
        }
    }

    record ResetDevice() implements FrontendMessage {}

    /** In-band kick; the vring state's num field is reserved and ignored. */
    record VringKick(int index) implements FrontendMessage {
        public VringKick {
            Checks.vringIndex(index);
        }
    }

    record GetMaxMemSlots() implements FrontendMessage {}

    record AddMemReg(MemoryRegionDescriptor region, Fd fd) implements FrontendMessage {
        public AddMemReg {
            Objects.requireNonNull(region, "region");
            Checks.fd(fd);
        }

        public List<Fd> fds() {
            return List.of(fd);
        }
    }

    /**
     * Unmap the region matching guest address, user address and size (its mmap offset is
     * ignored, spec). A stray fd sent with it is closed by the decoder, as the spec allows and
     * rust-vmm does.
     */
    record RemMemReg(MemoryRegionDescriptor region) implements FrontendMessage {
        public RemMemReg {
            Objects.requireNonNull(region, "region");
        }
    }

    /** Virtio device status byte (u8 in a u64). */
    record SetStatus(int status) implements FrontendMessage {
        public SetStatus {
            Checks.unsignedByte("device status", status);
        }
    }

    record GetStatus() implements FrontendMessage {}

    record GetSharedObject(UUID uuid) implements FrontendMessage {
        public GetSharedObject {
            Objects.requireNonNull(uuid, "uuid");
        }
    }

    /**
     * Start a device-state transfer over {@code fd}. Direction and phase stay raw numbers so a
     * back-end can answer values it does not know (a future phase) with an error reply; use
     * {@link #knownDirection()} / {@link #knownPhase()} to interpret them.
     */
    record SetDeviceStateFd(int direction, int phase, Fd fd) implements FrontendMessage {
        public SetDeviceStateFd {
            Checks.fd(fd);
        }

        public SetDeviceStateFd(DeviceStateDirection direction, DeviceStatePhase phase, Fd fd) {
            this(direction.code(), phase.code(), fd);
        }

        public Optional<DeviceStateDirection> knownDirection() {
            return DeviceStateDirection.of(direction);
        }

        public Optional<DeviceStatePhase> knownPhase() {
            return DeviceStatePhase.of(phase);
        }

        public List<Fd> fds() {
            return List.of(fd);
        }
    }

    record CheckDeviceState() implements FrontendMessage {}

    record GetShmemConfig() implements FrontendMessage {}
}
