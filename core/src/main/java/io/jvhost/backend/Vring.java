package io.jvhost.backend;

import io.jvhost.memory.DirtyLog;
import io.jvhost.memory.GuestMemorySource;
import io.jvhost.nativeio.EventFd;
import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.virtqueue.BrokenQueueException;
import io.jvhost.virtqueue.DescriptorChain;
import io.jvhost.virtqueue.InvalidChainException;
import io.jvhost.virtqueue.SplitQueue;
import io.jvhost.virtqueue.VirtqueueException;
import io.jvhost.virtqueue.VringAddresses;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ring as the spec's "Ring states" section describes it: started/stopped (first kick /
 * GET_VRING_BASE) and enabled/disabled (SET_VRING_ENABLE) are independent. The session thread
 * configures it and its {@link VringWorker} processes it; both hold the ring's lock (every
 * method here takes it), so GET_VRING_BASE waits for a batch in flight and then nothing touches
 * guest memory for this ring.
 *
 * <p>A device with a request executor ({@link Device#requestExecutor(int)}, e.g. virtio-fs with
 * --thread-pool-size) gets each chain handled on that executor: the worker only pops, and
 * completions (used ring, notification) come back in any order. The split queue itself is only
 * ever touched under {@link #queueLock}; {@link #drain()} waits for every chain in flight, and
 * whoever stops the ring or changes guest memory drains first, so the "no guest memory access
 * after GET_VRING_BASE" rule holds for pooled requests too.
 */
final class Vring {
    private static final Logger LOG = LoggerFactory.getLogger(Vring.class);

    private final int index;
    private final SplitQueue queue;
    private final VringWorker worker;
    /**
     * Fair: a batch gives way between chains to a message waiting for the ring (see {@link
     * #process}), and the worker's next batch must then queue behind it, not barge in.
     */
    private final ReentrantLock lock = new ReentrantLock(true);

    private EventFd kick;
    private EventFd call;
    private EventFd err;
    private boolean enabled;
    private boolean brokenReported;
    /** Guards {@link #queue} against the worker and completing pool threads at once. */
    private final ReentrantLock queueLock = new ReentrantLock();

    private final Condition idle = queueLock.newCondition();
    private int inFlight;
    private final Executor executor;

    /** Holds a lock until closed; {@link #close()} throws nothing. */
    interface Locked extends AutoCloseable {
        @Override
        void close();
    }

    Vring(int index, GuestMemorySource memory, DirtyLog log, Executor executor, VringWorker worker) {
        this.index = index;
        this.queue = new SplitQueue(memory, log);
        this.executor = executor;
        this.worker = worker;
    }

    int index() {
        return index;
    }

    VringWorker worker() {
        return worker;
    }

    /** Holds this ring's lock: no batch runs on it until the result is closed. */
    Locked lock() {
        lock.lock();
        return lock::unlock;
    }

    boolean isStarted() {
        try (Locked _ = lock()) {
            return queue.isStarted();
        }
    }

    /** SET_VRING_NUM. */
    void setSize(int num) throws VirtqueueException {
        try (Locked _ = lock()) {
            queue.setSize(num);
        }
    }

    /** SET_VRING_ADDR. */
    void setAddresses(VringAddresses addresses) throws VirtqueueException {
        try (Locked _ = lock()) {
            queue.setAddresses(addresses);
        }
    }

    /** SET_VRING_BASE. */
    void setBase(int base) throws VirtqueueException {
        try (Locked _ = lock()) {
            queue.setBase(base);
        }
    }

    /**
     * SET_FEATURES: the ring's event-idx mode, and without PROTOCOL_FEATURES it is enabled at
     * once (spec "Ring states"). A running ring keeps its event-idx mode: QEMU re-sends
     * SET_FEATURES while rings run only to toggle LOG_ALL.
     */
    void applyFeatures(boolean eventIdx, boolean enableAtOnce) throws RequestRejected {
        try (Locked _ = lock()) {
            if (queue.isStarted() && queue.eventIdx() != eventIdx) {
                throw new RequestRejected("EVENT_IDX cannot change while ring " + index + " runs");
            }
            queue.setEventIdx(eventIdx);
            if (enableAtOnce) enabled = true;
        }
    }

    /** SET_VRING_KICK: the worker watches {@code next} from now on; the previous kick fd is closed. */
    void setKick(EventFd next) throws NativeException {
        try (Locked _ = lock()) {
            dropKick();
            try {
                worker.watch(this, next);
            } catch (NativeException e) {
                next.close();
                throw e;
            }
            kick = next;
        }
    }

    private void dropKick() {
        if (kick == null) return;
        worker.unwatch(kick);
        kick.close();
        kick = null;
    }

    /** SET_VRING_CALL (null: no notifications); the previous fd is closed. */
    void setCall(EventFd next) {
        try (Locked _ = lock()) {
            if (call != null) call.close();
            call = next;
        }
    }

    /** SET_VRING_ERR (null: errors are only logged); the previous fd is closed. */
    void setErr(EventFd next) {
        try (Locked _ = lock()) {
            if (err != null) err.close();
            err = next;
        }
    }

    /**
     * SET_VRING_ENABLE. Chains the driver queued while the ring was disabled got their kick
     * already: enabling a started ring processes them now (on the worker, by kicking ourselves).
     */
    void setEnabled(boolean on) throws NativeException {
        try (Locked _ = lock()) {
            enabled = on;
            if (on && queue.isStarted() && kick != null) kick.signal();
        }
    }

    /**
     * GET_VRING_BASE: waits for the chains in flight, stops the ring and stops watching its kick
     * fd (closed); returns the next avail index.
     */
    int stop() {
        try (Locked _ = lock()) {
            drain();
            brokenReported = false;
            int base = queue.stop();
            dropKick();
            return base;
        }
    }

    /** RESET_DEVICE: stopped, no kick fd, disabled. */
    void reset() {
        try (Locked _ = lock()) {
            stop();
            enabled = false;
        }
    }

    /**
     * Waits until no chain popped from this ring is still being handled (pooled devices; a
     * no-op otherwise). Callers hold {@link #lock()}, so nothing new is popped meanwhile.
     */
    void drain() {
        queueLock.lock();
        try {
            boolean interrupted = false;
            while (inFlight > 0) {
                try {
                    idle.await();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        } finally {
            queueLock.unlock();
        }
    }

    /**
     * Called on the worker when the kick fd is readable: starts the ring and processes up to
     * {@code budget} chains; true if it stopped with chains left (the worker comes back for them).
     */
    boolean onKick(Device device, int budget) {
        lock.lock();
        try {
            if (kick == null) return false;
            // The fd may have been swapped since epoll reported it: only read what is there.
            if (Libc.pollOne(kick.fd(), Libc.POLLIN, 0) == 0) return false;
            kick.drain();
            if (!queue.isStarted()) queue.start();
            return process(device, budget);
        } catch (VirtqueueException e) {
            reportBroken(e.getMessage());
        } catch (NativeException e) {
            LOG.warn("ring {}: kick fd failed: {}", index, e.getMessage());
        } catch (Throwable t) {
            breakRing(t);
        } finally {
            lock.unlock();
        }
        return false;
    }

    /** The worker comes back to a ring it left with chains pending; true if some are still left. */
    boolean resume(Device device, int budget) {
        lock.lock();
        try {
            return process(device, budget);
        } catch (VirtqueueException e) {
            reportBroken(e.getMessage());
        } catch (Throwable t) {
            breakRing(t);
        } finally {
            lock.unlock();
        }
        return false;
    }

    /**
     * Processes available chains, at most {@code budget} of them, so that one busy ring cannot
     * starve the others on the same worker (virtio-fs: FORGETs on hiprio behind a stream of
     * requests). Returns true if it stopped at the budget with chains left; the worker then
     * comes back.
     *
     * <p>Each completion is offered to the driver at once (notified if it asks: EVENT_IDX's
     * used_event, or no NO_INTERRUPT), as virtiofsd and QEMU's devices do, not once per batch:
     * a driver woken by the first reply refills the ring while later requests of the batch are
     * handled, so driver and device overlap instead of taking turns. With EVENT_IDX a driver
     * still busy with earlier replies has not moved used_event and is not woken again. Either way driver notifications are on again when it returns, as after a full
     * pass, so a ring stopped meanwhile is in the state a front-end expects (QEMU, and jvhost's
     * own, kick every ring when they start it again).
     */
    private boolean process(Device device, int budget) throws VirtqueueException {
        if (!queue.isStarted() || !enabled || queue.isBroken()) return false;
        boolean used = false;
        int taken = 0;
        queueLock.lock();
        try {
            do {
                queue.disableNotification();
                while (true) {
                    // A message waiting for the ring (QEMU's SET_VRING_ENABLE and GET_VRING_BASE at
                    // a migration's stop, inside the guest's downtime) waits one chain, not a batch.
                    if (taken++ >= budget || lock.hasQueuedThreads()) {
                        queue.enableNotification();
                        return true;
                    }
                    DescriptorChain chain;
                    try {
                        chain = queue.pop();
                    } catch (InvalidChainException e) {
                        LOG.warn("ring {}: rejected a descriptor chain: {}", index, e.getMessage());
                        used = true;
                        continue;
                    }
                    if (chain == null) break;
                    if (executor != null && submit(device, chain)) continue;
                    long written = 0;
                    Throwable fatal = null;
                    queueLock.unlock(); // the device may take its time; completions need the queue
                    try {
                        written = handleOne(device, chain);
                    } catch (RingFault f) {
                        fatal = f.getCause();
                    } finally {
                        queueLock.lock();
                    }
                    if (fatal == null) {
                        queue.addUsed(chain, written);
                        notifyDriver();
                        used = false;
                        continue;
                    }
                    used = false; // notified here, before the ring stops
                    try { // the chain goes back empty (if the rings still can be touched), then the ring stops
                        queue.addUsed(chain, 0);
                        notifyDriver();
                    } finally {
                        breakRing(fatal);
                    }
                    return false;
                }
            } while (queue.enableNotification());
        } catch (BrokenQueueException e) {
            reportBroken(e.getMessage());
        } finally {
            try {
                if (used) notifyDriver();
            } finally {
                queueLock.unlock();
            }
        }
        return false;
    }

    /**
     * Hands a chain to the pool; false if the pool refused it (shut down), so the caller
     * handles it itself. The caller holds {@link #queueLock}.
     */
    private boolean submit(Device device, DescriptorChain chain) {
        inFlight++;
        try {
            executor.execute(() -> {
                try {
                    complete(chain, handleOne(device, chain), null);
                } catch (RingFault f) {
                    complete(chain, 0, f.getCause());
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            if (--inFlight == 0) idle.signalAll();
            return false;
        }
    }

    /** The device threw something after which this ring must stop (see {@link #handleOne}). */
    private static final class RingFault extends Exception {
        private static final long serialVersionUID = 1L;

        RingFault(Throwable cause) {
            super(null, cause, false, false);
        }
    }

    /**
     * Runs the device on one chain: the used length, or a {@link RingFault} when the ring must
     * stop; nothing else escapes.
     *
     * <p>Two Errors end the request only, and the ring goes on. StackOverflowError: the stack
     * has unwound to here and finally blocks released what they held. OutOfMemoryError: what
     * failed is most likely this request's own allocation, whose garbage went with it. Stopping
     * the ring for either would hand any guest that finds one a denial of service. Anything
     * else (InternalError: guest memory faulted because the front-end shrank the file behind
     * it after SET_MEM_TABLE; LinkageError, AssertionError: a bug) says this ring's memory or
     * code can no longer be trusted: the ring stops and reports it through its err fd.
     */
    private long handleOne(Device device, DescriptorChain chain) throws RingFault {
        try {
            return device.handle(index, chain);
        } catch (VirtqueueException | DeviceException e) {
            LOG.warn("ring {}: request failed: {}", index, e.getMessage());
            return 0;
        } catch (RuntimeException e) {
            LOG.error("ring {}: request failed unexpectedly", index, e);
            return 0;
        } catch (StackOverflowError | OutOfMemoryError e) {
            LOG.error("ring {}: request failed with {}; the ring goes on", index, e.toString());
            return 0;
        } catch (Throwable t) {
            throw new RingFault(t);
        }
    }

    /**
     * A pooled chain is done: publish it and wake the driver, then stop the ring if the device
     * failed fatally (any thread). Never throws, and always counts the chain as finished, so
     * {@link #drain()} cannot wait for a task that died.
     */
    private void complete(DescriptorChain chain, long written, Throwable fatal) {
        queueLock.lock();
        try {
            queue.addUsed(chain, written);
            notifyDriver();
        } catch (BrokenQueueException e) {
            reportBroken(e.getMessage());
        } catch (VirtqueueException e) {
            LOG.warn("ring {}: completing a request failed: {}", index, e.getMessage());
        } catch (Throwable t) {
            breakRing(t);
        } finally {
            try {
                if (fatal != null) breakRing(fatal);
            } finally {
                if (--inFlight == 0) idle.signalAll();
                queueLock.unlock();
            }
        }
    }

    /**
     * Stops the ring after an unexpected throwable (see {@link #handleOne}): logged, the queue
     * marked broken until the front-end sets it up again, the err fd signalled.
     */
    private void breakRing(Throwable t) {
        String why = t instanceof InternalError ? "guest memory faulted (" + t.getMessage() + ")" : t.toString();
        queueLock.lock();
        try {
            queue.markBroken(why);
            reportBroken(why, t);
        } finally {
            queueLock.unlock();
        }
    }

    private void notifyDriver() throws VirtqueueException {
        if (call == null || !queue.needsNotification()) return;
        try {
            call.signal();
        } catch (NativeException e) {
            LOG.warn("ring {}: call notification failed: {}", index, e.getMessage());
        }
    }

    private void reportBroken(String why) {
        reportBroken(why, null);
    }

    /** Logs (once per ring start) that the ring stopped, and tells the front-end through the err fd. */
    private void reportBroken(String why, Throwable cause) {
        if (brokenReported) return;
        brokenReported = true;
        LOG.error("ring {}: stopped processing: {}", index, why, cause);
        if (err != null) {
            try {
                err.signal();
            } catch (NativeException e) {
                LOG.warn("ring {}: error notification failed: {}", index, e.getMessage());
            }
        }
    }

    /** The session ends: waits for the chains in flight and closes every fd (the worker is closed already). */
    void close() {
        try (Locked _ = lock()) {
            drain();
            if (kick != null) kick.close();
            if (call != null) call.close();
            if (err != null) err.close();
            kick = call = err = null;
        }
    }
}
