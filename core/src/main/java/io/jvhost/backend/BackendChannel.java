package io.jvhost.backend;

import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.UnixSocket;
import io.jvhost.protocol.BackendMessage;
import io.jvhost.protocol.BackendRequest;
import io.jvhost.protocol.Connection;
import io.jvhost.protocol.Direction;
import io.jvhost.protocol.ProtocolFeature;
import java.io.IOException;

/**
 * The back-end request channel a front-end sets up with SET_BACKEND_REQ_FD, through which the
 * device's threads send requests to the front-end (see {@link DeviceContext#notifyConfigChange()}).
 *
 * <p>Threads: the session thread replaces and closes the channel, any device thread sends. A
 * channel is only closed under the lock, after its socket was shut down outside it, so that a
 * send blocked on a front-end that does not read fails instead of holding up the session.
 */
final class BackendChannel implements AutoCloseable {
    private final Negotiation negotiation;
    private volatile Connection<BackendRequest, BackendMessage> channel; // written under this
    private boolean closed;

    BackendChannel(Negotiation negotiation) {
        this.negotiation = negotiation;
    }

    /** SET_BACKEND_REQ_FD: {@code fd} is ours from here on; a previous channel is closed. */
    void replace(Fd fd) {
        Connection<BackendRequest, BackendMessage> next = new Connection<>(UnixSocket.adopt(fd), Direction.BACKEND);
        Connection<BackendRequest, BackendMessage> previous = channel;
        if (previous != null) previous.shutdown();
        synchronized (this) {
            if (previous != null) previous.close();
            channel = closed ? null : next;
        }
        if (channel != next) next.close();
    }

    void notifyConfigChange() throws DeviceException {
        require(ProtocolFeature.BACKEND_REQ, "the front-end takes no back-end requests");
        require(ProtocolFeature.CONFIG, "the front-end does not read the config space from the back-end");
        send(new BackendMessage.ConfigChange());
    }

    private void require(ProtocolFeature f, String meaning) throws DeviceException {
        if (!negotiation.negotiated(f)) throw new DeviceException(f + " was not negotiated: " + meaning);
    }

    private synchronized void send(BackendMessage m) throws DeviceException {
        if (closed) throw new DeviceException("the session ended: no " + m.request() + " can be sent");
        if (channel == null) {
            throw new DeviceException("the front-end sent no SET_BACKEND_REQ_FD: no " + m.request() + " can be sent");
        }
        try {
            channel.send(m, false);
        } catch (IOException e) {
            throw new DeviceException("sending " + m.request() + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        Connection<BackendRequest, BackendMessage> c = channel;
        if (c != null) c.shutdown();
        synchronized (this) {
            closed = true;
            if (c != null) c.close();
            channel = null;
        }
    }
}
