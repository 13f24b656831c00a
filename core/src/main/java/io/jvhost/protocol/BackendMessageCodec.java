package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import io.jvhost.protocol.BackendMessage.ConfigChange;
import io.jvhost.protocol.BackendMessage.IotlbMsg;
import io.jvhost.protocol.BackendMessage.SharedObjectAdd;
import io.jvhost.protocol.BackendMessage.SharedObjectLookup;
import io.jvhost.protocol.BackendMessage.SharedObjectRemove;
import io.jvhost.protocol.BackendMessage.VringCall;
import io.jvhost.protocol.BackendMessage.VringErr;
import io.jvhost.protocol.BackendMessage.VringHostNotifier;
import java.util.List;

/** Payload layouts of the back-end requests; limits are checked by {@link MessageCodec}. */
final class BackendMessageCodec {
    private static final byte[] EMPTY = new byte[0];

    private BackendMessageCodec() {}

    static byte[] encodePayload(BackendMessage message) {
        return switch (message) {
            case IotlbMsg m -> Wire.iotlb(m.entry());
            case ConfigChange m -> EMPTY;
            case VringHostNotifier m ->
                new PayloadWriter(24)
                        .u64(Wire.indexAndFdFlag(m.index(), m.fd().isPresent()))
                        .u64(m.size())
                        .u64(m.offset())
                        .done();
            case VringCall m -> Wire.vringState(m.index(), 0);
            case VringErr m -> Wire.vringState(m.index(), 0);
            case SharedObjectAdd m -> new PayloadWriter(16).uuid(m.uuid()).done();
            case SharedObjectRemove m -> new PayloadWriter(16).uuid(m.uuid()).done();
            case SharedObjectLookup m -> new PayloadWriter(16).uuid(m.uuid()).done();
        };
    }

    static BackendMessage decode(BackendRequest request, PayloadReader r, int size, List<Fd> fds, Header header)
            throws ProtocolException {
        return switch (request) {
            case IOTLB_MSG -> new IotlbMsg(Wire.iotlb(r));
            case CONFIG_CHANGE_MSG -> new ConfigChange();
            case VRING_HOST_NOTIFIER_MSG -> {
                Wire.IndexAndFd f = Wire.indexAndFd(r.u64(), fds);
                yield new VringHostNotifier(f.index(), r.u64(), r.u64(), f.fd());
            }
            case VRING_CALL -> new VringCall(Wire.stateIndexIgnoringNum(r));
            case VRING_ERR -> new VringErr(Wire.stateIndexIgnoringNum(r));
            case SHARED_OBJECT_ADD -> new SharedObjectAdd(r.uuid());
            case SHARED_OBJECT_REMOVE -> new SharedObjectRemove(r.uuid());
            case SHARED_OBJECT_LOOKUP -> new SharedObjectLookup(r.uuid());
        };
    }
}
