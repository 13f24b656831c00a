package io.jvhost.backend;

import io.jvhost.nativeio.Epoll;
import io.jvhost.nativeio.EventFd;
import io.jvhost.nativeio.NativeException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thread that waits on every ring's kick fd with epoll (token = ring index) and processes
 * the ring that was kicked, as rust-vmm's vhost-user-backend worker does. A private eventfd
 * wakes it for shutdown.
 */
final class VringWorker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VringWorker.class);
    private static final long WAKE_TOKEN = -1;

    private final Epoll epoll;
    private final EventFd wake;
    private final List<Vring> rings;
    private final Device device;
    private final Thread thread;
    private volatile boolean closing;

    VringWorker(String name, List<Vring> rings, Device device) throws NativeException {
        this.rings = rings;
        this.device = device;
        this.epoll = Epoll.create();
        this.wake = EventFd.create(true);
        epoll.add(wake.fd(), Epoll.EPOLLIN, WAKE_TOKEN);
        this.thread = Thread.ofPlatform().name(name).daemon().start(this::run);
    }

    void watch(Vring ring, EventFd kick) throws NativeException {
        epoll.add(kick.fd(), Epoll.EPOLLIN, ring.index);
    }

    void unwatch(EventFd kick) {
        try {
            epoll.remove(kick.fd());
        } catch (NativeException e) {
            LOG.debug("epoll remove: {}", e.getMessage());
        }
    }

    private void run() {
        try (Epoll.Events events = new Epoll.Events(16)) {
            while (!closing) {
                int n = epoll.await(events, -1);
                for (int i = 0; i < n && !closing; i++) {
                    long token = events.token(i);
                    if (token == WAKE_TOKEN) continue;
                    rings.get((int) token).onKick(device);
                }
            }
        } catch (NativeException | RuntimeException e) {
            if (!closing) LOG.error("ring worker stopped: {}", e.toString(), e);
        }
    }

    @Override
    public void close() {
        closing = true;
        try {
            wake.signal();
            thread.join(10_000);
        } catch (NativeException e) {
            LOG.warn("waking the ring worker: {}", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        epoll.close();
        wake.close();
    }
}
