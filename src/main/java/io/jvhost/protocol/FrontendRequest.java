package io.jvhost.protocol;

import static io.jvhost.protocol.ReplyRule.ALWAYS;
import static io.jvhost.protocol.ReplyRule.IN_POSTCOPY;
import static io.jvhost.protocol.ReplyRule.ON_NEED_REPLY;
import static io.jvhost.protocol.ReplyRule.WITH_LOG_SHMFD;

/**
 * Requests the front-end sends to the back-end (spec "Front-end message types"), with their
 * payload size range, fd count range and reply rule. Sizes are those QEMU puts on the wire.
 */
public enum FrontendRequest implements Request {
    GET_FEATURES(1, 0, 0, 0, 0, ALWAYS),
    SET_FEATURES(2, 8, 8, 0, 0, ON_NEED_REPLY),
    SET_OWNER(3, 0, 0, 0, 0, ON_NEED_REPLY),
    /** Deprecated; back-ends should ignore it or disable all rings (spec). */
    RESET_OWNER(4, 0, 0, 0, 0, ON_NEED_REPLY),
    /** u32 count, u32 padding, count × 32-byte regions; one fd per region, 1..8 regions. */
    SET_MEM_TABLE(5, 8 + MemoryRegionDescriptor.SIZE, 8 + MemoryRegionDescriptor.SIZE * Header.MAX_FDS,
            1, Header.MAX_FDS, IN_POSTCOPY),
    /** Log description (u64 size, u64 offset) plus the shared log fd (LOG_SHMFD; we require it, as rust-vmm). */
    SET_LOG_BASE(6, 16, 16, 1, 1, WITH_LOG_SHMFD),
    SET_LOG_FD(7, 0, 0, 1, 1, ON_NEED_REPLY),
    SET_VRING_NUM(8, 8, 8, 0, 0, ON_NEED_REPLY),
    /** struct vhost_vring_addr: u32 index, u32 flags, u64 desc, used, avail, log. */
    SET_VRING_ADDR(9, 40, 40, 0, 0, ON_NEED_REPLY),
    SET_VRING_BASE(10, 8, 8, 0, 0, ON_NEED_REPLY),
    GET_VRING_BASE(11, 8, 8, 0, 0, ALWAYS),
    /** u64: bits 0–7 ring index, bit 8 "no fd" (polling); one fd unless bit 8 is set. */
    SET_VRING_KICK(12, 8, 8, 0, 1, ON_NEED_REPLY),
    SET_VRING_CALL(13, 8, 8, 0, 1, ON_NEED_REPLY),
    SET_VRING_ERR(14, 8, 8, 0, 1, ON_NEED_REPLY),
    GET_PROTOCOL_FEATURES(15, 0, 0, 0, 0, ALWAYS),
    SET_PROTOCOL_FEATURES(16, 8, 8, 0, 0, ON_NEED_REPLY),
    GET_QUEUE_NUM(17, 0, 0, 0, 0, ALWAYS),
    SET_VRING_ENABLE(18, 8, 8, 0, 0, ON_NEED_REPLY),
    SEND_RARP(19, 8, 8, 0, 0, ON_NEED_REPLY),
    NET_SET_MTU(20, 8, 8, 0, 0, ON_NEED_REPLY),
    /** Previously SET_SLAVE_REQ_FD. */
    SET_BACKEND_REQ_FD(21, 0, 0, 1, 1, ON_NEED_REPLY),
    /** struct vhost_iotlb_msg, 32 bytes with its tail padding; QEMU always sets NEED_REPLY. */
    IOTLB_MSG(22, 32, 32, 0, 0, ON_NEED_REPLY),
    SET_VRING_ENDIAN(23, 8, 8, 0, 0, ON_NEED_REPLY),
    /** u32 offset, u32 size, u32 flags, size bytes (≤ 256, QEMU's VHOST_USER_MAX_CONFIG_SIZE). */
    GET_CONFIG(24, 12, 12 + FrontendMessage.MAX_CONFIG_SIZE, 0, 0, ALWAYS),
    SET_CONFIG(25, 12, 12 + FrontendMessage.MAX_CONFIG_SIZE, 0, 0, ON_NEED_REPLY),
    /** QEMU's VhostUserCryptoSession, carried opaquely: u64 op code ... i64 session id. */
    CREATE_CRYPTO_SESSION(26, 16, Header.MAX_PAYLOAD, 0, 0, ALWAYS),
    CLOSE_CRYPTO_SESSION(27, 8, 8, 0, 0, ON_NEED_REPLY),
    /** Replied with the back-end's userfaultfd. */
    POSTCOPY_ADVISE(28, 0, 0, 0, 0, ALWAYS),
    POSTCOPY_LISTEN(29, 0, 0, 0, 0, ON_NEED_REPLY),
    /** The spec gives it a u64 reply; QEMU sends it with NEED_REPLY and waits. */
    POSTCOPY_END(30, 0, 0, 0, 0, ALWAYS),
    /** Inflight description: u64 mmap size, u64 mmap offset, u16 queues, u16 queue size, 4 bytes padding. */
    GET_INFLIGHT_FD(31, 24, 24, 0, 0, ALWAYS),
    SET_INFLIGHT_FD(32, 24, 24, 1, 1, ON_NEED_REPLY),
    GPU_SET_SOCKET(33, 0, 0, 1, 1, ON_NEED_REPLY),
    RESET_DEVICE(34, 0, 0, 0, 0, ON_NEED_REPLY),
    /** In-band kick (INBAND_NOTIFICATIONS): vring state, num reserved. */
    VRING_KICK(35, 8, 8, 0, 0, ON_NEED_REPLY),
    GET_MAX_MEM_SLOTS(36, 0, 0, 0, 0, ALWAYS),
    /** u64 padding + one region, exactly one fd. */
    ADD_MEM_REG(37, 8 + MemoryRegionDescriptor.SIZE, 8 + MemoryRegionDescriptor.SIZE, 1, 1, IN_POSTCOPY),
    /** Like ADD_MEM_REG but without an fd; one stray fd is accepted and closed (spec: MAY accept). */
    REM_MEM_REG(38, 8 + MemoryRegionDescriptor.SIZE, 8 + MemoryRegionDescriptor.SIZE, 0, 1, ON_NEED_REPLY),
    SET_STATUS(39, 8, 8, 0, 0, ON_NEED_REPLY),
    GET_STATUS(40, 0, 0, 0, 0, ALWAYS),
    /** 16-byte UUID; replied with a dma-buf fd, or none on failure. */
    GET_SHARED_OBJECT(41, 16, 16, 0, 0, ALWAYS),
    /** u32 direction, u32 phase, plus the transfer fd. */
    SET_DEVICE_STATE_FD(42, 8, 8, 1, 1, ALWAYS),
    CHECK_DEVICE_STATE(43, 0, 0, 0, 0, ALWAYS),
    GET_SHMEM_CONFIG(44, 0, 0, 0, 0, ALWAYS);

    private final RequestLimits limits;

    FrontendRequest(int id, int minPayload, int maxPayload, int minFds, int maxFds, ReplyRule replyRule) {
        this.limits = new RequestLimits(id, minPayload, maxPayload, minFds, maxFds, replyRule);
    }

    @Override
    public RequestLimits limits() {
        return limits;
    }
}
