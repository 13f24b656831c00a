package io.jvhost.protocol;

import static io.jvhost.protocol.ReplyRule.ALWAYS;
import static io.jvhost.protocol.ReplyRule.ON_NEED_REPLY;

import io.jvhost.protocol.BackendMessage.ConfigChange;
import io.jvhost.protocol.BackendMessage.IotlbMsg;
import io.jvhost.protocol.BackendMessage.SharedObjectAdd;
import io.jvhost.protocol.BackendMessage.SharedObjectLookup;
import io.jvhost.protocol.BackendMessage.SharedObjectRemove;
import io.jvhost.protocol.BackendMessage.VringCall;
import io.jvhost.protocol.BackendMessage.VringErr;
import io.jvhost.protocol.BackendMessage.VringHostNotifier;

/**
 * Requests the back-end sends to the front-end over the back-end channel set up by
 * SET_BACKEND_REQ_FD (spec "Back-end message types"; previously the SLAVE_* messages).
 */
public enum BackendRequest implements Request {
    /** struct vhost_iotlb_msg (miss or access failure). */
    IOTLB_MSG(1, 32, 32, 0, 0, ON_NEED_REPLY, IotlbMsg.class),
    CONFIG_CHANGE_MSG(2, 0, 0, 0, 0, ON_NEED_REPLY, ConfigChange.class),
    /** Vring area: u64 (bits 0–7 index, bit 8 no fd), u64 size, u64 offset; fd unless bit 8. */
    VRING_HOST_NOTIFIER_MSG(3, 24, 24, 0, 1, ON_NEED_REPLY, VringHostNotifier.class),
    /** In-band call: vring state, num reserved. */
    VRING_CALL(4, 8, 8, 0, 0, ON_NEED_REPLY, VringCall.class),
    VRING_ERR(5, 8, 8, 0, 0, ON_NEED_REPLY, VringErr.class),
    SHARED_OBJECT_ADD(6, 16, 16, 0, 0, ON_NEED_REPLY, SharedObjectAdd.class),
    SHARED_OBJECT_REMOVE(7, 16, 16, 0, 0, ON_NEED_REPLY, SharedObjectRemove.class),
    /** Replied with u64 (0 = found) and the dma-buf fd when found. */
    SHARED_OBJECT_LOOKUP(8, 16, 16, 0, 0, ALWAYS, SharedObjectLookup.class);

    private final RequestLimits limits;

    BackendRequest(
            int id,
            int minPayload,
            int maxPayload,
            int minFds,
            int maxFds,
            ReplyRule replyRule,
            Class<? extends BackendMessage> messageType) {
        this.limits = new RequestLimits(id, minPayload, maxPayload, minFds, maxFds, replyRule, messageType);
    }

    @Override
    public RequestLimits limits() {
        return limits;
    }
}
