package io.jvhost.protocol;

import static io.jvhost.protocol.ReplyRule.ALWAYS;
import static io.jvhost.protocol.ReplyRule.IN_POSTCOPY;
import static io.jvhost.protocol.ReplyRule.ON_NEED_REPLY;
import static io.jvhost.protocol.ReplyRule.WITH_LOG_SHMFD;

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
import io.jvhost.protocol.FrontendMessage.VringKick;

/**
 * Requests the front-end sends to the back-end (spec "Front-end message types"), with their
 * payload size range, fd count range, reply rule and message record (the one table that
 * {@link FrontendMessage#request()} reads). Sizes are those QEMU puts on the wire.
 */
public enum FrontendRequest implements Request {
    GET_FEATURES(1, 0, 0, 0, 0, ALWAYS, GetFeatures.class),
    SET_FEATURES(2, 8, 8, 0, 0, ON_NEED_REPLY, SetFeatures.class),
    SET_OWNER(3, 0, 0, 0, 0, ON_NEED_REPLY, SetOwner.class),
    /** Deprecated; back-ends should ignore it or disable all rings (spec). */
    RESET_OWNER(4, 0, 0, 0, 0, ON_NEED_REPLY, ResetOwner.class),
    /** u32 count, u32 padding, count × 32-byte regions; one fd per region, 1..8 regions. */
    SET_MEM_TABLE(
            5,
            8 + MemoryRegionDescriptor.SIZE,
            8 + MemoryRegionDescriptor.SIZE * Header.MAX_FDS,
            1,
            Header.MAX_FDS,
            IN_POSTCOPY,
            SetMemTable.class),
    /** Log description (u64 size, u64 offset) plus the shared log fd (LOG_SHMFD; we require it, as rust-vmm). */
    SET_LOG_BASE(6, 16, 16, 1, 1, WITH_LOG_SHMFD, SetLogBase.class),
    SET_LOG_FD(7, 0, 0, 1, 1, ON_NEED_REPLY, SetLogFd.class),
    SET_VRING_NUM(8, 8, 8, 0, 0, ON_NEED_REPLY, SetVringNum.class),
    /** struct vhost_vring_addr: u32 index, u32 flags, u64 desc, used, avail, log. */
    SET_VRING_ADDR(9, 40, 40, 0, 0, ON_NEED_REPLY, SetVringAddr.class),
    SET_VRING_BASE(10, 8, 8, 0, 0, ON_NEED_REPLY, SetVringBase.class),
    GET_VRING_BASE(11, 8, 8, 0, 0, ALWAYS, GetVringBase.class),
    /** u64: bits 0–7 ring index, bit 8 "no fd" (polling); one fd unless bit 8 is set. */
    SET_VRING_KICK(12, 8, 8, 0, 1, ON_NEED_REPLY, SetVringKick.class),
    SET_VRING_CALL(13, 8, 8, 0, 1, ON_NEED_REPLY, SetVringCall.class),
    SET_VRING_ERR(14, 8, 8, 0, 1, ON_NEED_REPLY, SetVringErr.class),
    GET_PROTOCOL_FEATURES(15, 0, 0, 0, 0, ALWAYS, GetProtocolFeatures.class),
    SET_PROTOCOL_FEATURES(16, 8, 8, 0, 0, ON_NEED_REPLY, SetProtocolFeatures.class),
    GET_QUEUE_NUM(17, 0, 0, 0, 0, ALWAYS, GetQueueNum.class),
    SET_VRING_ENABLE(18, 8, 8, 0, 0, ON_NEED_REPLY, SetVringEnable.class),
    SEND_RARP(19, 8, 8, 0, 0, ON_NEED_REPLY, SendRarp.class),
    NET_SET_MTU(20, 8, 8, 0, 0, ON_NEED_REPLY, NetSetMtu.class),
    /** Previously SET_SLAVE_REQ_FD. */
    SET_BACKEND_REQ_FD(21, 0, 0, 1, 1, ON_NEED_REPLY, SetBackendReqFd.class),
    /** struct vhost_iotlb_msg, 32 bytes with its tail padding; QEMU always sets NEED_REPLY. */
    IOTLB_MSG(22, 32, 32, 0, 0, ON_NEED_REPLY, IotlbMsg.class),
    SET_VRING_ENDIAN(23, 8, 8, 0, 0, ON_NEED_REPLY, SetVringEndian.class),
    /** u32 offset, u32 size, u32 flags, size bytes (≤ 256, QEMU's VHOST_USER_MAX_CONFIG_SIZE). */
    GET_CONFIG(24, 12, 12 + FrontendMessage.MAX_CONFIG_SIZE, 0, 0, ALWAYS, GetConfig.class),
    SET_CONFIG(25, 12, 12 + FrontendMessage.MAX_CONFIG_SIZE, 0, 0, ON_NEED_REPLY, SetConfig.class),
    /** QEMU's VhostUserCryptoSession, carried opaquely: u64 op code ... i64 session id. */
    CREATE_CRYPTO_SESSION(26, 16, Header.MAX_PAYLOAD, 0, 0, ALWAYS, CreateCryptoSession.class),
    CLOSE_CRYPTO_SESSION(27, 8, 8, 0, 0, ON_NEED_REPLY, CloseCryptoSession.class),
    /** Replied with the back-end's userfaultfd. */
    POSTCOPY_ADVISE(28, 0, 0, 0, 0, ALWAYS, PostcopyAdvise.class),
    POSTCOPY_LISTEN(29, 0, 0, 0, 0, ON_NEED_REPLY, PostcopyListen.class),
    /** The spec gives it a u64 reply; QEMU sends it with NEED_REPLY and waits. */
    POSTCOPY_END(30, 0, 0, 0, 0, ALWAYS, PostcopyEnd.class),
    /** Inflight description: u64 mmap size, u64 mmap offset, u16 queues, u16 queue size, 4 bytes padding. */
    GET_INFLIGHT_FD(31, 24, 24, 0, 0, ALWAYS, GetInflightFd.class),
    SET_INFLIGHT_FD(32, 24, 24, 1, 1, ON_NEED_REPLY, SetInflightFd.class),
    GPU_SET_SOCKET(33, 0, 0, 1, 1, ON_NEED_REPLY, GpuSetSocket.class),
    RESET_DEVICE(34, 0, 0, 0, 0, ON_NEED_REPLY, ResetDevice.class),
    /** In-band kick (INBAND_NOTIFICATIONS): vring state, num reserved. */
    VRING_KICK(35, 8, 8, 0, 0, ON_NEED_REPLY, VringKick.class),
    GET_MAX_MEM_SLOTS(36, 0, 0, 0, 0, ALWAYS, GetMaxMemSlots.class),
    /** u64 padding + one region, exactly one fd. */
    ADD_MEM_REG(
            37, 8 + MemoryRegionDescriptor.SIZE, 8 + MemoryRegionDescriptor.SIZE, 1, 1, IN_POSTCOPY, AddMemReg.class),
    /** Like ADD_MEM_REG but without an fd; one stray fd is accepted and closed (spec: MAY accept). */
    REM_MEM_REG(
            38, 8 + MemoryRegionDescriptor.SIZE, 8 + MemoryRegionDescriptor.SIZE, 0, 1, ON_NEED_REPLY, RemMemReg.class),
    SET_STATUS(39, 8, 8, 0, 0, ON_NEED_REPLY, SetStatus.class),
    GET_STATUS(40, 0, 0, 0, 0, ALWAYS, GetStatus.class),
    /** 16-byte UUID; replied with a dma-buf fd, or none on failure. */
    GET_SHARED_OBJECT(41, 16, 16, 0, 0, ALWAYS, GetSharedObject.class),
    /** u32 direction, u32 phase, plus the transfer fd. */
    SET_DEVICE_STATE_FD(42, 8, 8, 1, 1, ALWAYS, SetDeviceStateFd.class),
    CHECK_DEVICE_STATE(43, 0, 0, 0, 0, ALWAYS, CheckDeviceState.class),
    GET_SHMEM_CONFIG(44, 0, 0, 0, 0, ALWAYS, GetShmemConfig.class);

    private final RequestLimits limits;

    FrontendRequest(
            int id,
            int minPayload,
            int maxPayload,
            int minFds,
            int maxFds,
            ReplyRule replyRule,
            Class<? extends FrontendMessage> messageType) {
        this.limits = new RequestLimits(id, minPayload, maxPayload, minFds, maxFds, replyRule, messageType);
    }

    @Override
    public RequestLimits limits() {
        return limits;
    }
}
