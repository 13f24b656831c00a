package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import io.jvhost.protocol.FrontendMessage.AddMemReg;
import io.jvhost.protocol.FrontendMessage.CheckDeviceState;
import io.jvhost.protocol.FrontendMessage.CloseCryptoSession;
import io.jvhost.protocol.FrontendMessage.CreateCryptoSession;
import io.jvhost.protocol.FrontendMessage.GetConfig;
import io.jvhost.protocol.FrontendMessage.GetFeatures;
import io.jvhost.protocol.FrontendMessage.GetInflightFd;
import io.jvhost.protocol.FrontendMessage.GetMaxMemSlots;
import io.jvhost.protocol.FrontendMessage.GetProtocolFeatures;
import io.jvhost.protocol.FrontendMessage.GetQueueNum;
import io.jvhost.protocol.FrontendMessage.GetSharedObject;
import io.jvhost.protocol.FrontendMessage.GetShmemConfig;
import io.jvhost.protocol.FrontendMessage.GetStatus;
import io.jvhost.protocol.FrontendMessage.GetVringBase;
import io.jvhost.protocol.FrontendMessage.GpuSetSocket;
import io.jvhost.protocol.FrontendMessage.IotlbMsg;
import io.jvhost.protocol.FrontendMessage.NetSetMtu;
import io.jvhost.protocol.FrontendMessage.PostcopyAdvise;
import io.jvhost.protocol.FrontendMessage.PostcopyEnd;
import io.jvhost.protocol.FrontendMessage.PostcopyListen;
import io.jvhost.protocol.FrontendMessage.RemMemReg;
import io.jvhost.protocol.FrontendMessage.ResetDevice;
import io.jvhost.protocol.FrontendMessage.ResetOwner;
import io.jvhost.protocol.FrontendMessage.SendRarp;
import io.jvhost.protocol.FrontendMessage.SetBackendReqFd;
import io.jvhost.protocol.FrontendMessage.SetConfig;
import io.jvhost.protocol.FrontendMessage.SetDeviceStateFd;
import io.jvhost.protocol.FrontendMessage.SetFeatures;
import io.jvhost.protocol.FrontendMessage.SetInflightFd;
import io.jvhost.protocol.FrontendMessage.SetLogBase;
import io.jvhost.protocol.FrontendMessage.SetLogFd;
import io.jvhost.protocol.FrontendMessage.SetMemTable;
import io.jvhost.protocol.FrontendMessage.SetOwner;
import io.jvhost.protocol.FrontendMessage.SetProtocolFeatures;
import io.jvhost.protocol.FrontendMessage.SetStatus;
import io.jvhost.protocol.FrontendMessage.SetVringAddr;
import io.jvhost.protocol.FrontendMessage.SetVringBase;
import io.jvhost.protocol.FrontendMessage.SetVringCall;
import io.jvhost.protocol.FrontendMessage.SetVringEnable;
import io.jvhost.protocol.FrontendMessage.SetVringEndian;
import io.jvhost.protocol.FrontendMessage.SetVringErr;
import io.jvhost.protocol.FrontendMessage.SetVringKick;
import io.jvhost.protocol.FrontendMessage.SetVringNum;
import io.jvhost.protocol.FrontendMessage.VringFile;
import io.jvhost.protocol.FrontendMessage.VringKick;
import java.util.ArrayList;
import java.util.List;

/** Payload layouts of the front-end requests; framing, size and fd-count limits are checked by {@link MessageCodec}. */
final class FrontendMessageCodec {
    private static final byte[] EMPTY = new byte[0];

    private FrontendMessageCodec() {}

    static byte[] encodePayload(FrontendMessage message) {
        return switch (message) {
            case GetFeatures m -> EMPTY;
            case SetFeatures m -> Wire.u64(m.features());
            case SetOwner m -> EMPTY;
            case ResetOwner m -> EMPTY;
            case SetMemTable m -> Wire.memoryTable(m.regions());
            case SetLogBase m ->
                new PayloadWriter(16).u64(m.size()).u64(m.offset()).done();
            case SetLogFd m -> EMPTY;
            case SetVringNum m -> Wire.vringState(m.index(), m.num());
            case SetVringAddr m ->
                new PayloadWriter(40)
                        .u32(m.index())
                        .u32(m.flags())
                        .u64(m.descUserAddr())
                        .u64(m.usedUserAddr())
                        .u64(m.availUserAddr())
                        .u64(m.logGuestAddr())
                        .done();
            case SetVringBase m -> Wire.vringState(m.index(), m.num());
            case GetVringBase m -> Wire.vringState(m.index(), 0);
            case VringFile m -> Wire.u64(Wire.indexAndFdFlag(m.index(), m.fd().isPresent()));
            case GetProtocolFeatures m -> EMPTY;
            case SetProtocolFeatures m -> Wire.u64(m.features());
            case GetQueueNum m -> EMPTY;
            case SetVringEnable m -> Wire.vringState(m.index(), m.enable() ? 1 : 0);
            case SendRarp m -> new PayloadWriter(8).bytes(m.mac()).zeros(2).done();
            case NetSetMtu m -> Wire.u64(m.mtu());
            case SetBackendReqFd m -> EMPTY;
            case IotlbMsg m -> Wire.iotlb(m.entry());
            case SetVringEndian m -> Wire.vringState(m.index(), m.bigEndian() ? 1 : 0);
            case GetConfig m ->
                new PayloadWriter(12 + m.size())
                        .u32(m.offset())
                        .u32(m.size())
                        .u32(m.flags())
                        .zeros(m.size())
                        .done();
            case SetConfig m -> Wire.config(m.offset(), m.flags(), m.data());
            case CreateCryptoSession m -> m.session();
            case CloseCryptoSession m -> Wire.u64(m.sessionId());
            case PostcopyAdvise m -> EMPTY;
            case PostcopyListen m -> EMPTY;
            case PostcopyEnd m -> EMPTY;
            case GetInflightFd m -> Wire.inflight(0, 0, m.numQueues(), m.queueSize());
            case SetInflightFd m -> Wire.inflight(m.mmapSize(), m.mmapOffset(), m.numQueues(), m.queueSize());
            case GpuSetSocket m -> EMPTY;
            case ResetDevice m -> EMPTY;
            case VringKick m -> Wire.vringState(m.index(), 0);
            case GetMaxMemSlots m -> EMPTY;
            case AddMemReg m -> Wire.singleRegion(m.region());
            case RemMemReg m -> Wire.singleRegion(m.region());
            case SetStatus m -> Wire.u64(m.status());
            case GetStatus m -> EMPTY;
            case GetSharedObject m -> new PayloadWriter(16).uuid(m.uuid()).done();
            case SetDeviceStateFd m ->
                new PayloadWriter(8).u32(m.direction()).u32(m.phase()).done();
            case CheckDeviceState m -> EMPTY;
            case GetShmemConfig m -> EMPTY;
        };
    }

    /**
     * Parses a payload whose size and fd count are already within the request's limits. Record
     * constructors throw IllegalArgumentException for out-of-range fields; the caller converts.
     */
    static FrontendMessage decode(FrontendRequest request, PayloadReader r, int size, List<Fd> fds, Header header)
            throws ProtocolException {
        return switch (request) {
            case GET_FEATURES -> new GetFeatures();
            case SET_FEATURES -> new SetFeatures(r.u64());
            case SET_OWNER -> new SetOwner();
            case RESET_OWNER -> new ResetOwner();
            case SET_MEM_TABLE -> {
                int count = r.u32();
                r.skip(4);
                if (count < 1 || count > Header.MAX_FDS) {
                    throw new ProtocolException(
                            "SET_MEM_TABLE with " + Integer.toUnsignedString(count) + " regions, expected 1.."
                                    + Header.MAX_FDS,
                            header);
                }
                if (size != 8 + MemoryRegionDescriptor.SIZE * count) {
                    throw new ProtocolException(
                            "SET_MEM_TABLE payload of " + size + " bytes does not hold " + count + " regions (expected "
                                    + (8 + MemoryRegionDescriptor.SIZE * count) + ")",
                            header);
                }
                if (fds.size() != count) {
                    throw new ProtocolException(
                            "SET_MEM_TABLE with " + count + " regions but " + fds.size() + " fds", header);
                }
                List<MemoryRegionDescriptor> regions = new ArrayList<>(count);
                for (int i = 0; i < count; i++) regions.add(r.region());
                yield new SetMemTable(regions, fds);
            }
            case SET_LOG_BASE -> new SetLogBase(r.u64(), r.u64(), fds.getFirst());
            case SET_LOG_FD -> new SetLogFd(fds.getFirst());
            case SET_VRING_NUM -> new SetVringNum(r.u32(), r.u32());
            case SET_VRING_ADDR -> new SetVringAddr(r.u32(), r.u32(), r.u64(), r.u64(), r.u64(), r.u64());
            case SET_VRING_BASE -> new SetVringBase(r.u32(), r.u32());
            case GET_VRING_BASE -> new GetVringBase(Wire.stateIndexIgnoringNum(r));
            case SET_VRING_KICK -> {
                Wire.IndexAndFd f = Wire.indexAndFd(r.u64(), fds);
                yield new SetVringKick(f.index(), f.fd());
            }
            case SET_VRING_CALL -> {
                Wire.IndexAndFd f = Wire.indexAndFd(r.u64(), fds);
                yield new SetVringCall(f.index(), f.fd());
            }
            case SET_VRING_ERR -> {
                Wire.IndexAndFd f = Wire.indexAndFd(r.u64(), fds);
                yield new SetVringErr(f.index(), f.fd());
            }
            case GET_PROTOCOL_FEATURES -> new GetProtocolFeatures();
            case SET_PROTOCOL_FEATURES -> new SetProtocolFeatures(r.u64());
            case GET_QUEUE_NUM -> new GetQueueNum();
            case SET_VRING_ENABLE -> new SetVringEnable(r.u32(), Wire.zeroOrOne("enable", r.u32()));
            case SEND_RARP -> {
                byte[] mac = r.bytes(6);
                r.skip(2);
                yield new SendRarp(mac);
            }
            case NET_SET_MTU -> new NetSetMtu(Wire.boundedU64("MTU", r.u64(), 0xffff));
            case SET_BACKEND_REQ_FD -> new SetBackendReqFd(fds.getFirst());
            case IOTLB_MSG -> new IotlbMsg(Wire.iotlb(r));
            case SET_VRING_ENDIAN -> new SetVringEndian(r.u32(), Wire.zeroOrOne("endianness", r.u32()));
            case GET_CONFIG -> {
                int offset = r.u32();
                int length = Wire.configLength(r.u32(), size, header);
                int flags = r.u32();
                r.skip(length);
                yield new GetConfig(offset, length, flags);
            }
            case SET_CONFIG -> {
                int offset = r.u32();
                int length = Wire.configLength(r.u32(), size, header);
                int flags = r.u32();
                yield new SetConfig(offset, flags, r.bytes(length));
            }
            case CREATE_CRYPTO_SESSION -> new CreateCryptoSession(r.bytes(size));
            case CLOSE_CRYPTO_SESSION -> new CloseCryptoSession(r.u64());
            case POSTCOPY_ADVISE -> new PostcopyAdvise();
            case POSTCOPY_LISTEN -> new PostcopyListen();
            case POSTCOPY_END -> new PostcopyEnd();
            case GET_INFLIGHT_FD -> {
                r.skip(16); // mmap size and offset: unused in the request
                GetInflightFd m = new GetInflightFd(r.u16(), r.u16());
                r.skip(4);
                yield m;
            }
            case SET_INFLIGHT_FD -> {
                long mmapSize = r.u64();
                long mmapOffset = r.u64();
                int queues = r.u16();
                int queueSize = r.u16();
                r.skip(4);
                yield new SetInflightFd(mmapSize, mmapOffset, queues, queueSize, fds.getFirst());
            }
            case GPU_SET_SOCKET -> new GpuSetSocket(fds.getFirst());
            case RESET_DEVICE -> new ResetDevice();
            case VRING_KICK -> new VringKick(Wire.stateIndexIgnoringNum(r));
            case GET_MAX_MEM_SLOTS -> new GetMaxMemSlots();
            case ADD_MEM_REG -> new AddMemReg(Wire.singleRegion(r), fds.getFirst());
            // A stray fd is not taken by the record; MessageCodec closes whatever is left over.
            case REM_MEM_REG -> new RemMemReg(Wire.singleRegion(r));
            case SET_STATUS -> new SetStatus(Wire.boundedU64("device status", r.u64(), 0xff));
            case GET_STATUS -> new GetStatus();
            case GET_SHARED_OBJECT -> new GetSharedObject(r.uuid());
            case SET_DEVICE_STATE_FD -> new SetDeviceStateFd(r.u32(), r.u32(), fds.getFirst());
            case CHECK_DEVICE_STATE -> new CheckDeviceState();
            case GET_SHMEM_CONFIG -> new GetShmemConfig();
        };
    }
}
