package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import io.jvhost.protocol.Reply.Config;
import io.jvhost.protocol.Reply.ConfigFailure;
import io.jvhost.protocol.Reply.CryptoSession;
import io.jvhost.protocol.Reply.DeviceStateFd;
import io.jvhost.protocol.Reply.FdOnly;
import io.jvhost.protocol.Reply.Inflight;
import io.jvhost.protocol.Reply.MemoryRegion;
import io.jvhost.protocol.Reply.MemoryTable;
import io.jvhost.protocol.Reply.SharedObjectLookup;
import io.jvhost.protocol.Reply.ShmemConfig;
import io.jvhost.protocol.Reply.U64;
import io.jvhost.protocol.Reply.VringState;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reply payload layouts, and which reply types answer which request. */
final class ReplyCodec {
    private static final byte[] EMPTY = new byte[0];

    private ReplyCodec() {}

    /** The reply types a request may be answered with; U64 alone means "a u64 value or ack". */
    static List<Class<? extends Reply>> replyTypes(Request request) {
        return switch (request) {
            case FrontendRequest r -> frontendReplyTypes(r);
            case BackendRequest r -> backendReplyTypes(r);
        };
    }

    /** Parses a reply whose framing (flags, request id, length) is already checked. */
    static Reply decode(Request request, PayloadReader r, int size, List<Fd> fds, Header header)
            throws ProtocolException {
        return switch (request) {
            case FrontendRequest q -> decodeFrontendReply(q, r, size, fds, header);
            case BackendRequest q -> decodeBackendReply(q, r, size, fds, header);
        };
    }

    private static List<Class<? extends Reply>> frontendReplyTypes(FrontendRequest request) {
        return switch (request) {
            case GET_VRING_BASE -> List.of(VringState.class);
            case GET_CONFIG -> List.of(Config.class, ConfigFailure.class);
            case GET_INFLIGHT_FD -> List.of(Inflight.class);
            case SET_DEVICE_STATE_FD -> List.of(DeviceStateFd.class);
            case GET_SHARED_OBJECT, POSTCOPY_ADVISE -> List.of(FdOnly.class);
            case GET_SHMEM_CONFIG -> List.of(ShmemConfig.class);
            case CREATE_CRYPTO_SESSION -> List.of(CryptoSession.class);
            case SET_MEM_TABLE -> List.of(U64.class, MemoryTable.class);
            case ADD_MEM_REG -> List.of(U64.class, MemoryRegion.class);
            case GET_FEATURES,
                    SET_FEATURES,
                    SET_OWNER,
                    RESET_OWNER,
                    SET_LOG_BASE,
                    SET_LOG_FD,
                    SET_VRING_NUM,
                    SET_VRING_ADDR,
                    SET_VRING_BASE,
                    SET_VRING_KICK,
                    SET_VRING_CALL,
                    SET_VRING_ERR,
                    GET_PROTOCOL_FEATURES,
                    SET_PROTOCOL_FEATURES,
                    GET_QUEUE_NUM,
                    SET_VRING_ENABLE,
                    SEND_RARP,
                    NET_SET_MTU,
                    SET_BACKEND_REQ_FD,
                    IOTLB_MSG,
                    SET_VRING_ENDIAN,
                    SET_CONFIG,
                    CLOSE_CRYPTO_SESSION,
                    POSTCOPY_LISTEN,
                    POSTCOPY_END,
                    SET_INFLIGHT_FD,
                    GPU_SET_SOCKET,
                    RESET_DEVICE,
                    VRING_KICK,
                    GET_MAX_MEM_SLOTS,
                    REM_MEM_REG,
                    SET_STATUS,
                    GET_STATUS,
                    CHECK_DEVICE_STATE -> List.of(U64.class);
        };
    }

    private static List<Class<? extends Reply>> backendReplyTypes(BackendRequest request) {
        return switch (request) {
            case SHARED_OBJECT_LOOKUP -> List.of(SharedObjectLookup.class);
            case IOTLB_MSG,
                    CONFIG_CHANGE_MSG,
                    VRING_HOST_NOTIFIER_MSG,
                    VRING_CALL,
                    VRING_ERR,
                    SHARED_OBJECT_ADD,
                    SHARED_OBJECT_REMOVE -> List.of(U64.class);
        };
    }

    static byte[] encodePayload(Reply reply) {
        return switch (reply) {
            case U64 r -> Wire.u64(r.value());
            case VringState r -> Wire.vringState(r.index(), r.num());
            case Config r -> Wire.config(r.offset(), r.flags(), r.data());
            case ConfigFailure r -> EMPTY;
            case Inflight r -> Wire.inflight(r.mmapSize(), r.mmapOffset(), r.numQueues(), r.queueSize());
            case MemoryRegion r -> Wire.singleRegion(r.region());
            case MemoryTable r -> Wire.memoryTable(r.regions());
            case ShmemConfig r -> {
                PayloadWriter w =
                        new PayloadWriter(ShmemConfig.SIZE).u32(r.regionCount()).u32(0);
                r.memorySizes().forEach(w::u64);
                yield w.done();
            }
            case DeviceStateFd r -> Wire.u64(r.toU64());
            case FdOnly r -> EMPTY;
            case SharedObjectLookup r -> Wire.u64(r.result());
            case CryptoSession r -> r.session();
        };
    }

    private static Reply decodeFrontendReply(
            FrontendRequest request, PayloadReader r, int size, List<Fd> fds, Header header) throws ProtocolException {
        Shape s = new Shape(request, size, fds, header);
        return switch (request) {
            case GET_VRING_BASE -> {
                s.expect(8, 0);
                yield new VringState(r.u32(), r.u32());
            }
            case GET_CONFIG -> {
                if (size == 0) {
                    s.expect(0, 0);
                    yield new ConfigFailure();
                }
                s.expectRange(12, 12 + FrontendMessage.MAX_CONFIG_SIZE, 0, 0);
                int offset = r.u32();
                int length = Wire.configLength(r.u32(), size, header);
                yield new Config(offset, r.u32(), r.bytes(length));
            }
            case GET_INFLIGHT_FD -> {
                s.expectRange(24, 24, 0, 1);
                long mmapSize = r.u64();
                long mmapOffset = r.u64();
                int queues = r.u16();
                int queueSize = r.u16();
                r.skip(4);
                yield new Inflight(mmapSize, mmapOffset, queues, queueSize, first(fds));
            }
            case SET_DEVICE_STATE_FD -> {
                s.expectRange(8, 8, 0, 1);
                yield deviceStateResult(r.u64(), fds);
            }
            case GET_SHARED_OBJECT -> {
                // rust-vmm answers with an empty payload, libvhost-user echoes the 16-byte UUID;
                // QEMU looks only at the fd.
                if (size == 16) {
                    s.expectRange(16, 16, 0, 1);
                } else {
                    s.expectRange(0, 0, 0, 1);
                }
                yield new FdOnly(first(fds));
            }
            case POSTCOPY_ADVISE -> {
                s.expectRange(0, 0, 0, 1); // QEMU refuses any payload here
                yield new FdOnly(first(fds));
            }
            case GET_SHMEM_CONFIG -> {
                s.expect(ShmemConfig.SIZE, 0);
                int count = r.u32();
                r.skip(4);
                List<Long> sizes = new ArrayList<>(ShmemConfig.MAX_REGIONS);
                for (int i = 0; i < ShmemConfig.MAX_REGIONS; i++) sizes.add(r.u64());
                yield new ShmemConfig(count, sizes);
            }
            case CREATE_CRYPTO_SESSION -> {
                s.expectRange(16, Header.MAX_PAYLOAD, 0, 0);
                yield new CryptoSession(r.bytes(size));
            }
            case SET_MEM_TABLE -> {
                if (size == 8) yield s.ack(r);
                s.expectRange(8 + MemoryRegionDescriptor.SIZE, 8 + MemoryRegionDescriptor.SIZE * Header.MAX_FDS, 0, 0);
                int count = r.u32();
                r.skip(4);
                if (count < 1 || count > Header.MAX_FDS || size != 8 + MemoryRegionDescriptor.SIZE * count) {
                    throw new ProtocolException(
                            "SET_MEM_TABLE reply of " + size + " bytes claims " + Integer.toUnsignedString(count)
                                    + " regions",
                            header);
                }
                List<MemoryRegionDescriptor> regions = new ArrayList<>(count);
                for (int i = 0; i < count; i++) regions.add(r.region());
                yield new MemoryTable(regions);
            }
            case ADD_MEM_REG -> {
                if (size == 8) yield s.ack(r);
                s.expect(8 + MemoryRegionDescriptor.SIZE, 0);
                yield new MemoryRegion(Wire.singleRegion(r));
            }
            case SET_LOG_BASE -> {
                // The spec gives this reply no payload and QEMU ignores it. rust-vmm echoes the
                // 16-byte log description, and only on success: read that as success. A u64 is
                // kept as sent; note that libvhost-user leaves the log size in it, so non-zero
                // from a foreign back-end need not mean refusal.
                if (size == 16) {
                    s.expect(16, 0);
                    yield U64.SUCCESS;
                }
                yield s.ack(r);
            }
            case GET_FEATURES,
                    SET_FEATURES,
                    SET_OWNER,
                    RESET_OWNER,
                    SET_LOG_FD,
                    SET_VRING_NUM,
                    SET_VRING_ADDR,
                    SET_VRING_BASE,
                    SET_VRING_KICK,
                    SET_VRING_CALL,
                    SET_VRING_ERR,
                    GET_PROTOCOL_FEATURES,
                    SET_PROTOCOL_FEATURES,
                    GET_QUEUE_NUM,
                    SET_VRING_ENABLE,
                    SEND_RARP,
                    NET_SET_MTU,
                    SET_BACKEND_REQ_FD,
                    IOTLB_MSG,
                    SET_VRING_ENDIAN,
                    SET_CONFIG,
                    CLOSE_CRYPTO_SESSION,
                    POSTCOPY_LISTEN,
                    POSTCOPY_END,
                    SET_INFLIGHT_FD,
                    GPU_SET_SOCKET,
                    RESET_DEVICE,
                    VRING_KICK,
                    GET_MAX_MEM_SLOTS,
                    REM_MEM_REG,
                    SET_STATUS,
                    GET_STATUS,
                    CHECK_DEVICE_STATE -> s.ack(r);
        };
    }

    private static Reply decodeBackendReply(
            BackendRequest request, PayloadReader r, int size, List<Fd> fds, Header header) throws ProtocolException {
        Shape s = new Shape(request, size, fds, header);
        return switch (request) {
            case SHARED_OBJECT_LOOKUP -> {
                s.expectRange(8, 8, 0, 1);
                yield new SharedObjectLookup(r.u64(), first(fds));
            }
            case IOTLB_MSG,
                    CONFIG_CHANGE_MSG,
                    VRING_HOST_NOTIFIER_MSG,
                    VRING_CALL,
                    VRING_ERR,
                    SHARED_OBJECT_ADD,
                    SHARED_OBJECT_REMOVE -> s.ack(r);
        };
    }

    /**
     * SET_DEVICE_STATE_FD's u64: bits 0–7 error, bit 8 no fd. An error reply that carries an fd
     * is refused (spec: "must not both indicate an error and return a file descriptor"), as is a
     * success whose bit 8 disagrees with the fds received. An error with bit 8 clear but no fd is
     * read as the error, since QEMU checks the error bits first. Bits 9–63 are ignored, as QEMU does.
     */
    private static DeviceStateFd deviceStateResult(long value, List<Fd> fds) {
        int error = (int) (value & DeviceStateFd.ERROR_MASK);
        boolean noFd = (value & DeviceStateFd.NO_FD) != 0;
        if (error != 0) {
            if (!fds.isEmpty()) {
                throw new IllegalArgumentException("device state reply reports error " + error + " and carries an fd");
            }
            return new DeviceStateFd(error, Optional.empty());
        }
        if (noFd && !fds.isEmpty())
            throw new IllegalArgumentException("device state reply sets no-fd but carries an fd");
        if (!noFd && fds.isEmpty())
            throw new IllegalArgumentException("device state reply announces an fd but has none");
        return new DeviceStateFd(0, first(fds));
    }

    private static Optional<Fd> first(List<Fd> fds) {
        return fds.isEmpty() ? Optional.empty() : Optional.of(fds.getFirst());
    }

    /** Size and fd-count expectations of one reply, with errors naming the request. */
    private record Shape(Request request, int size, List<Fd> fds, Header header) {
        void expect(int exactSize, int exactFds) throws ProtocolException {
            expectRange(exactSize, exactSize, exactFds, exactFds);
        }

        void expectRange(int minSize, int maxSize, int minFds, int maxFds) throws ProtocolException {
            if (size < minSize || size > maxSize) {
                throw new ProtocolException(
                        "reply to " + request.describe() + ": payload of " + size + " bytes, expected "
                                + MessageCodec.range(minSize, maxSize),
                        header);
            }
            if (fds.size() < minFds || fds.size() > maxFds) {
                throw new ProtocolException(
                        "reply to " + request.describe() + ": " + fds.size() + " fds, expected "
                                + MessageCodec.range(minFds, maxFds),
                        header);
            }
        }

        U64 ack(PayloadReader r) throws ProtocolException {
            expect(8, 0);
            return new U64(r.u64());
        }
    }
}
