package io.jvhost.backend;

import io.jvhost.memory.GuestMemorySource;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.NativeException;

/** The {@link DeviceContext} of one session. */
final class SessionContext implements DeviceContext {
    private final Rings rings;
    private final BackendChannel channel;
    private final GuestMemoryView memory;

    SessionContext(Rings rings, BackendChannel channel, GuestMemorySource memory) {
        this.rings = rings;
        this.channel = channel;
        this.memory = new GuestMemoryView(memory);
    }

    @Override
    public void notifyConfigChange() throws DeviceException {
        channel.notifyConfigChange();
    }

    @Override
    public Registration watch(int queue, Fd fd, EventHandler handler) throws DeviceException {
        VringWorker worker;
        try {
            worker = rings.get(queue).worker();
        } catch (RequestRejected e) {
            throw new DeviceException("no worker to watch " + fd + " on: " + e.getMessage(), e);
        }
        try {
            return worker.watch(fd, handler);
        } catch (NativeException e) {
            throw new DeviceException("watching " + fd + ": " + e.getMessage(), e);
        }
    }

    @Override
    public GuestMemoryView memory() {
        return memory;
    }
}
