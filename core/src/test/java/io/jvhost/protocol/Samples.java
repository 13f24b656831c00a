package io.jvhost.protocol;

import static io.jvhost.protocol.TestFds.eventfd;

import io.jvhost.protocol.BackendMessage.ConfigChange;
import io.jvhost.protocol.BackendMessage.SharedObjectAdd;
import io.jvhost.protocol.BackendMessage.SharedObjectRemove;
import io.jvhost.protocol.BackendMessage.VringCall;
import io.jvhost.protocol.BackendMessage.VringErr;
import io.jvhost.protocol.BackendMessage.VringHostNotifier;
import io.jvhost.protocol.FrontendMessage.*;
import io.jvhost.protocol.Reply.Config;
import io.jvhost.protocol.Reply.ConfigFailure;
import io.jvhost.protocol.Reply.CryptoSession;
import io.jvhost.protocol.Reply.DeviceStateFd;
import io.jvhost.protocol.Reply.FdOnly;
import io.jvhost.protocol.Reply.Inflight;
import io.jvhost.protocol.Reply.MemoryRegion;
import io.jvhost.protocol.Reply.MemoryTable;
import io.jvhost.protocol.Reply.ShmemConfig;
import io.jvhost.protocol.Reply.U64;
import io.jvhost.protocol.Reply.VringState;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.IntStream;

/**
 * Example messages: every request type at least once, edge values where the layout has them.
 * Each call creates fresh eventfds; callers close them.
 */
final class Samples {
    static final UUID UUID_SAMPLE = UUID.fromString("01234567-89ab-cdef-fedc-ba9876543210");

    private Samples() {}

    static MemoryRegionDescriptor region(int i) {
        return new MemoryRegionDescriptor(
                0x1_0000_0000L * i, 0x4000_0000L, 0x7f00_0000_0000L + 0x1_0000_0000L * i, 0x1000L * i);
    }

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (seed + 31 * i);
        return b;
    }

    /** ADD_MEM_REG / REM_MEM_REG payload: 8 bytes padding and {@link #region region(1)}. */
    static ByteBuffer singleRegionPayload() {
        ByteBuffer b = ByteBuffer.allocate(40).order(ByteOrder.nativeOrder());
        putRegion(b.position(8), region(1));
        return b.clear();
    }

    /** SET_MEM_TABLE payload claiming {@code declared} regions and holding {@code present} valid ones. */
    static ByteBuffer memTablePayload(int declared, int present) {
        ByteBuffer b = ByteBuffer.allocate(8 + 32 * present).order(ByteOrder.nativeOrder());
        b.putInt(declared).putInt(0);
        for (int i = 0; i < present; i++) putRegion(b, region(i));
        return b.clear();
    }

    private static void putRegion(ByteBuffer b, MemoryRegionDescriptor r) {
        b.putLong(r.guestPhysAddr()).putLong(r.size()).putLong(r.userAddr()).putLong(r.mmapOffset());
    }

    static List<FrontendMessage> frontend() {
        List<FrontendMessage> all = new ArrayList<>();
        all.add(new GetFeatures());
        all.add(new SetFeatures(VirtioFeatures.mask(VirtioFeatures.VERSION_1, VirtioFeatures.PROTOCOL_FEATURES)
                | 0x8000_0000_0000_0001L));
        all.add(new SetOwner());
        all.add(new ResetOwner());
        all.add(new SetMemTable(List.of(region(0)), List.of(eventfd())));
        all.add(new SetMemTable(IntStream.range(0, 8).mapToObj(Samples::region).toList(), TestFds.eventfds(8)));
        all.add(new SetLogBase(0x2_0000, 0x1000, eventfd()));
        all.add(new SetLogFd(eventfd()));
        all.add(new SetVringNum(1, 256));
        all.add(new SetVringNum(FrontendMessage.MAX_VRINGS - 1, 32768));
        all.add(new SetVringAddr(1, SetVringAddr.LOG, 0x7f00_0000_1000L, 0x7f00_0000_3000L, 0x7f00_0000_2000L, 0x3000));
        all.add(new SetVringAddr(0, 0, -1L, -2L, -3L, -4L));
        all.add(new SetVringBase(2, 0xffff));
        all.add(new SetVringBase(3, 0x8001_8002)); // packed: both wrap counters set
        all.add(new GetVringBase(0));
        all.add(new SetVringKick(0, Optional.of(eventfd())));
        all.add(new SetVringKick(255, Optional.empty()));
        all.add(new SetVringCall(1, Optional.of(eventfd())));
        all.add(new SetVringCall(2, Optional.empty()));
        all.add(new SetVringErr(3, Optional.of(eventfd())));
        all.add(new SetVringErr(4, Optional.empty()));
        all.add(new GetProtocolFeatures());
        all.add(new SetProtocolFeatures(ProtocolFeature.KNOWN_MASK));
        all.add(new GetQueueNum());
        all.add(new SetVringEnable(1, true));
        all.add(new SetVringEnable(0, false));
        all.add(new SendRarp(new byte[] {0x52, 0x54, 0, 0x12, 0x34, 0x56}));
        all.add(new NetSetMtu(9000));
        all.add(new SetBackendReqFd(eventfd()));
        all.add(new IotlbMsg(new Iotlb(0x1000, 0x2000, 0x7f00_0000_0000L, Iotlb.Access.READ_WRITE, Iotlb.Type.UPDATE)));
        all.add(new IotlbMsg(new Iotlb(0x1000, 0x2000, 0, Iotlb.Access.NONE, Iotlb.Type.INVALIDATE)));
        all.add(new SetVringEndian(0, true));
        all.add(new SetVringEndian(1, false));
        all.add(new GetConfig(0, 60, 0));
        all.add(new GetConfig(4, 0, 0));
        all.add(new SetConfig(0, SetConfig.WRITABLE, bytes(256, 7)));
        all.add(new SetConfig(8, SetConfig.MIGRATION, new byte[0]));
        all.add(new CreateCryptoSession(bytes(1104, 3)));
        all.add(new CloseCryptoSession(42));
        all.add(new PostcopyAdvise());
        all.add(new PostcopyListen());
        all.add(new PostcopyEnd());
        all.add(new GetInflightFd(2, 1024));
        all.add(new SetInflightFd(0x4_0000, 0, 2, 1024, eventfd()));
        all.add(new GpuSetSocket(eventfd()));
        all.add(new ResetDevice());
        all.add(new VringKick(7));
        all.add(new GetMaxMemSlots());
        all.add(new AddMemReg(region(3), eventfd()));
        all.add(new RemMemReg(region(3)));
        all.add(new SetStatus(0x0f));
        all.add(new GetStatus());
        all.add(new GetSharedObject(UUID_SAMPLE));
        all.add(new SetDeviceStateFd(DeviceStateDirection.SAVE, DeviceStatePhase.STOPPED, eventfd()));
        all.add(new SetDeviceStateFd(1, 7, eventfd())); // unknown phase must still decode
        all.add(new CheckDeviceState());
        all.add(new GetShmemConfig());
        return all;
    }

    static List<BackendMessage> backend() {
        List<BackendMessage> all = new ArrayList<>();
        all.add(new BackendMessage.IotlbMsg(new Iotlb(0x5000, 0x1000, 0, Iotlb.Access.READ, Iotlb.Type.MISS)));
        all.add(new BackendMessage.IotlbMsg(new Iotlb(0x5000, 0, 0, Iotlb.Access.WRITE, Iotlb.Type.ACCESS_FAIL)));
        all.add(new ConfigChange());
        all.add(new VringHostNotifier(1, 4096, 0x3000, Optional.of(eventfd())));
        all.add(new VringHostNotifier(255, 0, 0, Optional.empty()));
        all.add(new VringCall(0));
        all.add(new VringErr(5));
        all.add(new SharedObjectAdd(UUID_SAMPLE));
        all.add(new SharedObjectRemove(UUID_SAMPLE));
        all.add(new BackendMessage.SharedObjectLookup(UUID_SAMPLE));
        return all;
    }

    /** A reply for a front-end request, paired with the request it answers. */
    record FrontendReplyCase(FrontendRequest request, Reply reply) {}

    static List<FrontendReplyCase> frontendReplies() {
        List<FrontendReplyCase> all = new ArrayList<>();
        for (FrontendRequest r : FrontendRequest.values()) {
            if (MessageCodec.replyTypes(r).contains(U64.class))
                all.add(new FrontendReplyCase(r, U64.ack(r.id() % 3 != 0)));
        }
        all.add(new FrontendReplyCase(FrontendRequest.GET_FEATURES, new U64(0x1_7000_0000L)));
        all.add(new FrontendReplyCase(FrontendRequest.GET_VRING_BASE, new VringState(1, 0x1234)));
        all.add(new FrontendReplyCase(FrontendRequest.GET_CONFIG, new Config(0, 0, bytes(60, 1))));
        all.add(new FrontendReplyCase(FrontendRequest.GET_CONFIG, new ConfigFailure()));
        all.add(new FrontendReplyCase(
                FrontendRequest.GET_INFLIGHT_FD, new Inflight(0x4_0000, 0, 2, 1024, Optional.of(eventfd()))));
        all.add(new FrontendReplyCase(FrontendRequest.GET_INFLIGHT_FD, new Inflight(0, 0, 2, 1024, Optional.empty())));
        all.add(new FrontendReplyCase(FrontendRequest.ADD_MEM_REG, new MemoryRegion(region(2))));
        all.add(new FrontendReplyCase(FrontendRequest.SET_MEM_TABLE, new MemoryTable(List.of(region(0), region(1)))));
        all.add(new FrontendReplyCase(
                FrontendRequest.GET_SHMEM_CONFIG, new ShmemConfig(2, List.of(0x1000L, 0L, 0x20_0000L))));
        all.add(new FrontendReplyCase(FrontendRequest.SET_DEVICE_STATE_FD, DeviceStateFd.accepted()));
        all.add(new FrontendReplyCase(FrontendRequest.SET_DEVICE_STATE_FD, DeviceStateFd.acceptedWith(eventfd())));
        all.add(new FrontendReplyCase(FrontendRequest.SET_DEVICE_STATE_FD, DeviceStateFd.refused(5)));
        all.add(new FrontendReplyCase(FrontendRequest.GET_SHARED_OBJECT, new FdOnly(Optional.of(eventfd()))));
        all.add(new FrontendReplyCase(FrontendRequest.GET_SHARED_OBJECT, new FdOnly(Optional.empty())));
        all.add(new FrontendReplyCase(FrontendRequest.POSTCOPY_ADVISE, new FdOnly(Optional.of(eventfd()))));
        all.add(new FrontendReplyCase(FrontendRequest.CREATE_CRYPTO_SESSION, new CryptoSession(bytes(1104, 9))));
        return all;
    }

    record BackendReplyCase(BackendRequest request, Reply reply) {}

    static List<BackendReplyCase> backendReplies() {
        List<BackendReplyCase> all = new ArrayList<>();
        for (BackendRequest r : BackendRequest.values()) {
            if (MessageCodec.replyTypes(r).contains(U64.class)) all.add(new BackendReplyCase(r, U64.FAILURE));
        }
        all.add(new BackendReplyCase(
                BackendRequest.SHARED_OBJECT_LOOKUP, new Reply.SharedObjectLookup(0, Optional.of(eventfd()))));
        all.add(new BackendReplyCase(
                BackendRequest.SHARED_OBJECT_LOOKUP, new Reply.SharedObjectLookup(-22, Optional.empty())));
        return all;
    }
}
