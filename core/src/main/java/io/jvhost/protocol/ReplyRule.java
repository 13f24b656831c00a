package io.jvhost.protocol;

/** When a request gets a reply (spec "Communication" and "REPLY_ACK", and what QEMU waits for). */
public enum ReplyRule {
    /** The request always has a reply with a payload of its own (GET_FEATURES, ...). */
    ALWAYS,
    /** SET_LOG_BASE: replied once VHOST_USER_PROTOCOL_F_LOG_SHMFD is negotiated. */
    WITH_LOG_SHMFD,
    /**
     * SET_MEM_TABLE / ADD_MEM_REG: after POSTCOPY_LISTEN the back-end replies with the region
     * bases it mapped (that reply replaces the REPLY_ACK ack, as in QEMU).
     */
    IN_POSTCOPY,
    /** Only when the header has NEED_REPLY: a u64 ack, 0 on success. */
    ON_NEED_REPLY;

    /**
     * Whether the receiver of a request answers it.
     *
     * <p>A NEED_REPLY flag is honoured even when REPLY_ACK was not negotiated, as libvhost-user
     * does: QEMU sets NEED_REPLY on IOTLB_MSG and POSTCOPY_LISTEN unconditionally and waits for
     * the ack, so ignoring the flag would hang it. Conversely a sender should set NEED_REPLY only
     * after negotiating REPLY_ACK (rust-vmm back-ends answer it only then).
     *
     * @param protocolFeatures the negotiated protocol feature mask
     * @param postcopyListening whether POSTCOPY_LISTEN has been received and not yet ended
     */
    public boolean replyExpected(boolean needReply, long protocolFeatures, boolean postcopyListening) {
        return switch (this) {
            case ALWAYS -> true;
            case WITH_LOG_SHMFD -> needReply || ProtocolFeature.LOG_SHMFD.isIn(protocolFeatures);
            case IN_POSTCOPY -> needReply || postcopyListening;
            case ON_NEED_REPLY -> needReply;
        };
    }
}
