package io.jvhost.backend;

import io.jvhost.memory.DirtyLog;
import io.jvhost.memory.GuestMemorySource;
import io.jvhost.nativeio.NativeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A session's rings and the workers that process them, one worker thread for each number
 * {@link Device#workerFor} gives. Whatever must see no chain in flight (memory changes, state
 * capture and commit, features) runs inside {@link #lockAll()}.
 */
final class Rings implements AutoCloseable {
    private final List<Vring> rings;
    private final List<VringWorker> workers;

    /**
     * @param onWorkerDeath run on a worker that stops for any reason but {@link #close()}: the
     *                      session then ends rather than serve a front-end whose rings nobody processes
     */
    Rings(Device device, GuestMemorySource memory, DirtyLog log, Runnable onWorkerDeath) throws NativeException {
        int count = device.queueCount();
        Map<Integer, VringWorker> byNumber = new TreeMap<>();
        List<Vring> list = new ArrayList<>();
        try {
            for (int q = 0; q < count; q++) {
                int number = device.workerFor(q);
                if (number < 0 || number >= count) {
                    throw new IllegalArgumentException(device.name() + " maps queue " + q + " to worker " + number
                            + ", outside [0, " + count + ")");
                }
                VringWorker worker = byNumber.get(number);
                if (worker == null) {
                    // Worker 0 keeps the name it had when there was only one.
                    String name = "jvhost-" + device.name() + "-rings" + (number == 0 ? "" : "-" + number);
                    worker = new VringWorker(name, device, onWorkerDeath);
                    byNumber.put(number, worker);
                }
                list.add(new Vring(q, memory, log, device.requestExecutor(q), worker));
            }
        } catch (NativeException | RuntimeException e) {
            for (VringWorker w : byNumber.values()) w.close();
            throw e;
        }
        this.workers = List.copyOf(byNumber.values());
        this.rings = List.copyOf(list);
    }

    int size() {
        return rings.size();
    }

    /** The ring a front-end request names; an index out of range is refused. */
    Vring get(int index) throws RequestRejected {
        if (index < 0 || index >= rings.size()) {
            throw new RequestRejected("ring index " + index + " out of range (device has " + rings.size() + ")");
        }
        return rings.get(index);
    }

    /**
     * Holds every ring's lock (taken in index order, released in reverse) until closed: no worker
     * starts a batch meanwhile. Chains a pooled device still handles are not waited for: see
     * {@link #drainAll()}.
     */
    Vring.Locked lockAll() {
        List<Vring.Locked> held = new ArrayList<>(rings.size());
        try {
            for (Vring r : rings) held.add(r.lock());
        } catch (Throwable t) {
            unlock(held);
            throw t;
        }
        return () -> unlock(held);
    }

    private static void unlock(List<Vring.Locked> held) {
        for (int i = held.size() - 1; i >= 0; i--) held.get(i).close();
    }

    /** Waits for every chain a pooled device still handles; the caller holds {@link #lockAll()}. */
    void drainAll() {
        for (Vring r : rings) r.drain();
    }

    /** Spec: the state moves while the device is suspended, i.e. every ring stopped. The caller holds {@link #lockAll()}. */
    void requireStopped(String what) throws RequestRejected {
        for (Vring r : rings) {
            if (r.isStarted()) {
                throw new RequestRejected("cannot " + what + " the device state while ring " + r.index()
                        + " runs (stop it with GET_VRING_BASE first)");
            }
        }
    }

    /** SET_FEATURES for every ring (see {@link Vring#applyFeatures}); the caller holds {@link #lockAll()}. */
    void applyFeatures(boolean eventIdx, boolean enableAtOnce) throws RequestRejected {
        for (Vring r : rings) r.applyFeatures(eventIdx, enableAtOnce);
    }

    /** RESET_DEVICE: every ring stopped, without a kick fd, and disabled. */
    void reset() {
        for (Vring r : rings) r.reset();
    }

    /** Stops the workers, then closes every ring's fds. */
    @Override
    public void close() {
        for (VringWorker w : workers) w.close();
        for (Vring r : rings) r.close();
    }
}
