package io.jvhost.backend;

import io.jvhost.memory.GuestMemorySource;
import io.jvhost.nativeio.EventFd;
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
    public Notifier notifier(int queue, EventHandler handler) throws DeviceException {
        EventFd event;
        try {
            event = EventFd.create(true);
        } catch (NativeException e) {
            throw new DeviceException("creating a notifier's eventfd: " + e.getMessage(), e);
        }
        try {
            Registration watching = watch(queue, event.fd(), () -> {
                event.drain(); // level-triggered: what made it readable is read before the handler runs
                handler.onReadable();
            });
            return new EventFdNotifier(event, watching);
        } catch (DeviceException | RuntimeException e) {
            event.close();
            throw e;
        }
    }

    /** A notifier over an eventfd the session owns: the registration goes first, then the fd. */
    private static final class EventFdNotifier implements Notifier {
        private final EventFd event;
        private final Registration watching;
        private volatile boolean closed;

        EventFdNotifier(EventFd event, Registration watching) {
            this.event = event;
            this.watching = watching;
        }

        @Override
        public void signal() throws DeviceException {
            if (closed) throw new DeviceException("the notifier is closed");
            try {
                event.signal();
            } catch (NativeException | IllegalStateException e) { // closed meanwhile
                throw new DeviceException("signalling a notifier: " + e.getMessage(), e);
            }
        }

        @Override
        public synchronized void close() {
            if (closed) return;
            closed = true;
            watching.close();
            event.close();
        }
    }

    @Override
    public GuestMemoryView memory() {
        return memory;
    }
}
