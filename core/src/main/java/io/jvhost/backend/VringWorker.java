package io.jvhost.backend;

import io.jvhost.nativeio.Epoll;
import io.jvhost.nativeio.EventFd;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.NativeException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thread that waits on its rings' kick fds with epoll (token = ring index) and processes
 * the ring that was kicked, as rust-vmm's vhost-user-backend worker does; it also runs the
 * handlers of the device's own event sources ({@link DeviceContext#watch}, tokens from
 * {@link #FIRST_SOURCE_TOKEN}, above any ring index). A private eventfd wakes it for shutdown.
 */
final class VringWorker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(VringWorker.class);
    private static final long WAKE_TOKEN = -1;
    private static final long FIRST_SOURCE_TOKEN = 1L << 32;
    /** Chains one ring may take before the worker looks at the others again. */
    static final int BUDGET = 64;

    private final Epoll epoll;
    private final EventFd wake;
    /** The rings this worker was asked to watch, by index (the epoll token). */
    private final Map<Long, Vring> rings = new ConcurrentHashMap<>();
    /** The device's event sources, by token. */
    private final Map<Long, Source> sources = new ConcurrentHashMap<>();

    private long nextSourceToken = FIRST_SOURCE_TOKEN; // guarded by this
    private boolean epollClosed; // guarded by this
    private final Device device;
    private final Runnable onDeath;
    private final Thread thread;
    private volatile boolean closing;

    /**
     * @param onDeath called on the worker if it stops for any reason but {@link #close()}: the
     *                session then ends rather than serve a front-end whose rings nobody processes
     */
    VringWorker(String name, Device device, Runnable onDeath) throws NativeException {
        this.device = device;
        this.onDeath = onDeath;
        this.epoll = Epoll.create();
        this.wake = EventFd.create(true);
        epoll.add(wake.fd(), Epoll.EPOLLIN, WAKE_TOKEN);
        this.thread = Thread.ofPlatform().name(name).daemon().start(this::run);
    }

    void watch(Vring ring, EventFd kick) throws NativeException {
        rings.put((long) ring.index(), ring);
        epoll.add(kick.fd(), Epoll.EPOLLIN, ring.index());
    }

    void unwatch(EventFd kick) {
        try {
            epoll.remove(kick.fd());
        } catch (NativeException e) {
            LOG.debug("epoll remove: {}", e.getMessage());
        }
    }

    /** A device's event source: runs {@code handler} on this thread while {@code fd} is readable. */
    synchronized DeviceContext.Registration watch(Fd fd, DeviceContext.EventHandler handler)
            throws NativeException, DeviceException {
        if (epollClosed) throw new DeviceException("the session ended: " + fd + " cannot be watched");
        Source source = new Source(nextSourceToken++, fd, handler);
        sources.put(source.token, source);
        try {
            epoll.add(fd, Epoll.EPOLLIN, source.token);
        } catch (NativeException e) {
            sources.remove(source.token);
            throw e;
        }
        return source::unregister;
    }

    private final class Source {
        final long token;
        final Fd fd;
        final DeviceContext.EventHandler handler;

        Source(long token, Fd fd, DeviceContext.EventHandler handler) {
            this.token = token;
            this.fd = fd;
            this.handler = handler;
        }

        void run() {
            try {
                handler.onReadable();
            } catch (Throwable t) { // a source that keeps failing would keep the worker spinning
                LOG.error(
                        "{}: the handler of event source {} failed, no longer watching it: {}",
                        device.name(),
                        fd,
                        t.toString(),
                        t);
                unregister();
            }
        }

        void unregister() {
            synchronized (VringWorker.this) {
                if (sources.remove(token) == null || epollClosed) return;
                try {
                    epoll.remove(fd);
                } catch (NativeException | RuntimeException e) { // the device closed the fd first
                    LOG.debug("epoll remove of {}: {}", fd, e.getMessage());
                }
            }
        }
    }

    private void run() {
        // Rings left with chains pending after their budget ("busy"). Each pass polls epoll once
        // (without waiting while any ring is busy), serves the newly kicked rings one budget
        // each, then one budget of every busy ring (draining its kick if it had one): a ring
        // that keeps the worker busy gets no second budget before the others were looked at.
        Set<Vring> busy = new LinkedHashSet<>();
        Set<Vring> kicked = new HashSet<>();
        Set<Vring> fresh = new LinkedHashSet<>(); // kicked this pass, served once already
        List<Source> ready = new ArrayList<>();
        try (Epoll.Events events = new Epoll.Events(16)) {
            while (!closing) {
                int n = epoll.await(events, busy.isEmpty() ? -1 : 0);
                kicked.clear();
                ready.clear();
                for (int i = 0; i < n; i++) {
                    long token = events.token(i);
                    Vring ring = rings.get(token);
                    if (ring != null) kicked.add(ring);
                    Source source = sources.get(token);
                    if (source != null) ready.add(source);
                }
                for (Source source : ready) {
                    if (closing) break;
                    source.run();
                }
                fresh.clear();
                for (Vring ring : kicked) {
                    if (closing) break;
                    if (busy.contains(ring)) continue;
                    fresh.add(ring);
                    if (ring.onKick(device, BUDGET)) busy.add(ring);
                }
                for (Iterator<Vring> it = busy.iterator(); it.hasNext() && !closing; ) {
                    Vring ring = it.next();
                    if (fresh.contains(ring)) continue;
                    boolean more = kicked.contains(ring) ? ring.onKick(device, BUDGET) : ring.resume(device, BUDGET);
                    if (!more) it.remove();
                }
            }
        } catch (Throwable t) { // rings catch what their chains throw: this is epoll failing, or a bug
            if (closing) return;
            LOG.error("ring worker stopped, ending the session: {}", t.toString(), t);
            onDeath.run();
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
        synchronized (this) {
            epollClosed = true;
            sources.clear();
            epoll.close();
        }
        wake.close();
    }
}
