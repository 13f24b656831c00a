package io.jvhost.backend;

import io.jvhost.nativeio.CancellableFd;
import io.jvhost.nativeio.NativeException;
import io.jvhost.protocol.DeviceStateDirection;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device-state transfer started by SET_DEVICE_STATE_FD, running on its own thread so the
 * message loop never waits for the front-end's end of the channel. CHECK_DEVICE_STATE
 * {@linkplain #await joins} it. Saving writes the captured state and closes the channel (EOF);
 * loading reads to EOF, has the device parse and validate everything, and only then commits.
 */
final class StateTransfer {
    private static final Logger LOG = LoggerFactory.getLogger(StateTransfer.class);

    /** What CHECK_DEVICE_STATE reports. */
    record Outcome(boolean succeeded, String detail) {
        static Outcome ok(String detail) {
            return new Outcome(true, detail);
        }

        static Outcome failed(String detail) {
            return new Outcome(false, detail);
        }
    }

    /** Installs a prepared state; refuses (with the reason) if the device may no longer change. */
    @FunctionalInterface
    interface Committer {
        void commit(StatefulDevice.PreparedState state) throws DeviceException;
    }

    private final DeviceStateDirection direction;
    private final CancellableFd channel;
    /** A save: the bytes the channel buffers, which the session thread may write itself (see {@link #start}); 0 never. */
    private final int inlineLimit;
    /** A save: the captured state; null for a load. */
    private final StatefulDevice.SavedState snapshot;
    /** A save: bytes the session thread wrote before the thread took over. */
    private long writtenInline;

    private final Thread thread;
    private final TransferTimeline times;
    private volatile Outcome outcome;
    /**
     * Counted down once CHECK may be answered: at a success as soon as its outcome is known (the
     * thread's tail, closing and exiting, is no business of the front-end's, which waits inside
     * the guest's downtime), at a failure only once the thread has released everything.
     */
    private final CountDownLatch answerable = new CountDownLatch(1);

    private boolean cancelled;
    /** Guarded by this: {@link #start} ran. */
    private boolean started;

    private boolean committing;

    private StateTransfer(
            String deviceName,
            DeviceStateDirection direction,
            CancellableFd channel,
            int inlineLimit,
            StatefulDevice.SavedState snapshot,
            TransferTimeline times,
            Runnable body) {
        this.direction = direction;
        this.channel = channel;
        this.inlineLimit = inlineLimit;
        this.snapshot = snapshot;
        this.times = times;
        this.thread = Thread.ofPlatform()
                .daemon()
                .name("jvhost-" + deviceName + "-state-" + direction.name().toLowerCase())
                .unstarted(() -> {
                    try {
                        body.run();
                    } finally {
                        answerable.countDown();
                    }
                });
    }

    DeviceStateDirection direction() {
        return direction;
    }

    /** Where this transfer's time went so far. */
    TransferTimeline times() {
        return times;
    }

    /**
     * A transfer that, once {@link #start}ed, writes {@code snapshot} into {@code channel} (ours to
     * close), through vmsplice when {@code zeroCopy} (the channel is then a pipe the back-end
     * created). {@code channelBuffer} is how many bytes the channel holds without a reader (a
     * pipe's size), 0 if unknown: a state that fits is written by the caller of {@link #start}.
     */
    static StateTransfer save(
            String deviceName,
            StatefulDevice.SavedState snapshot,
            CancellableFd channel,
            boolean zeroCopy,
            int channelBuffer,
            TransferTimeline times) {
        StateTransfer[] self = new StateTransfer[1];
        StateTransfer t = new StateTransfer(
                deviceName,
                DeviceStateDirection.SAVE,
                channel,
                channelBuffer,
                snapshot,
                times,
                () -> self[0].runSave(zeroCopy));
        self[0] = t;
        return t;
    }

    /** A transfer that, once {@link #start}ed, reads a state from {@code channel} (ours to close) and commits it through {@code committer}. */
    static StateTransfer load(
            String deviceName,
            StatefulDevice device,
            CancellableFd channel,
            Committer committer,
            TransferTimeline times) {
        StateTransfer[] self = new StateTransfer[1];
        StateTransfer t = new StateTransfer(
                deviceName,
                DeviceStateDirection.LOAD,
                channel,
                0,
                null,
                times,
                () -> self[0].runLoad(device, committer));
        self[0] = t;
        return t;
    }

    /**
     * Starts the transfer's thread (once; not after a cancel). The session does it once the
     * SET_DEVICE_STATE_FD is answered: started before, a save's writer would take the CPU from
     * the reply the front-end waits for, inside the guest's downtime.
     */
    synchronized void start() {
        if (started || cancelled) return;
        started = true;
        if (inlineLimit > 0 && savedInline()) return;
        thread.start();
    }

    /**
     * Writes a save on the calling (session) thread as far as the channel takes it at once: a new
     * thread took 0.2–2.5 ms to first run on a busy two-CPU host, inside the guest's downtime,
     * and a state smaller than the channel's buffer (a pipe grown to 1 MiB) never waits. Once the
     * channel is full, the thread writes the state again from its start, dropping the bytes
     * already written ({@link StatefulDevice.SavedState} writes the same bytes each time): at
     * most a buffer's worth written twice, for a state too large to matter. True if the
     * transfer ended here.
     */
    private boolean savedInline() {
        InlineOutput out = new InlineOutput(channel);
        try {
            snapshot.writeTo(out);
            out.flush();
        } catch (Throwable e) { // an Error too, as on the thread
            if (out.full) {
                times.mark("channel full", out.count + " bytes written, the rest on a thread");
                writtenInline = out.count;
                return false;
            }
            try {
                finish(Outcome.failed("saving failed after " + out.count + " bytes: " + describe(e)));
            } finally {
                channel.close();
                answerable.countDown();
            }
            return true;
        }
        times.mark("bytes written", out.count + " bytes");
        channel.close();
        times.mark("EOF");
        finish(Outcome.ok("saved " + out.count + " bytes"));
        return true;
    }

    private void runSave(boolean zeroCopy) {
        times.mark("writer running");
        CountingOutput counted = null;
        VmspliceOutput spliced = null;
        try {
            OutputStream raw;
            if (zeroCopy) {
                spliced = new VmspliceOutput(channel);
                raw = spliced;
            } else {
                raw = channel.output();
            }
            // Counts the whole state; what the session thread already wrote is not written again.
            counted = new CountingOutput(writtenInline > 0 ? new Skipping(raw, writtenInline) : raw);
            try (OutputStream out = counted) {
                snapshot.writeTo(out);
                out.flush();
                times.mark("bytes written", counted.count + " bytes");
            }
            times.mark("EOF");
            finish(Outcome.ok("saved " + counted.count + " bytes"));
        } catch (Throwable e) { // an Error too: CHECK_DEVICE_STATE must learn why, not find a dead thread
            long n = counted == null ? 0 : counted.count;
            finish(Outcome.failed("saving failed after " + n + " bytes: " + describe(e)));
        } finally {
            if (spliced != null) spliced.release();
            channel.close();
        }
    }

    private void runLoad(StatefulDevice device, Committer committer) {
        CountingInput in = new CountingInput(channel.input(), () -> times.mark("first byte"));
        StatefulDevice.PreparedState prepared = null;
        boolean mayDiscard = true; // false once a commit may have begun: its fds may be live then
        try (in) {
            prepared = device.prepareLoad(in);
            if (in.read() != -1) {
                throw new DeviceException("the state ended after " + (in.count - 1) + " bytes but more followed");
            }
            times.mark("parsed and reopened, EOF", in.count + " bytes");
            if (!beginCommit()) throw new IOException("transfer cancelled");
            try {
                committer.commit(prepared);
            } catch (Throwable t) {
                mayDiscard = t instanceof DeviceException; // a refusal, before anything was installed
                throw t;
            }
            mayDiscard = false;
            times.mark("committed");
            finish(Outcome.ok("loaded " + in.count + " bytes"));
        } catch (Throwable e) { // an Error too (a deep state overflowing the stack): logged, reported, never lost
            finish(Outcome.failed(
                    "loading failed after " + in.count + " bytes, device state unchanged: " + describe(e)));
        } finally {
            if (prepared != null && mayDiscard) discard(prepared);
            channel.close();
        }
    }

    private static void discard(StatefulDevice.PreparedState prepared) {
        try {
            prepared.discard();
        } catch (Throwable t) {
            LOG.error("releasing a state that was not loaded failed: {}", t.toString(), t);
        }
    }

    /** The reason for a failure; an Error is named, its message alone may say nothing ("null", "Java heap space"). */
    private static String describe(Throwable e) {
        if (e instanceof Error) return e.toString();
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }

    private void finish(Outcome o) {
        outcome = o;
        if (o.succeeded()) {
            answerable.countDown();
            LOG.debug("device state {}: {}", direction.name().toLowerCase(), o.detail()); // CHECK logs it at info
        } else {
            LOG.warn("device state {}: {}", direction.name().toLowerCase(), o.detail());
        }
    }

    /** Past this point a cancel no longer stops a load: the commit is short and runs to its end. */
    private synchronized boolean beginCommit() {
        if (cancelled) return false;
        committing = true;
        return true;
    }

    /**
     * Aborts the transfer (a new SET_DEVICE_STATE_FD, a reset, the session ends) and waits for
     * the thread; returns false if it did not stop within {@code timeout}.
     */
    boolean cancel(Duration timeout) {
        synchronized (this) {
            if (!committing) cancelled = true;
            if (!started) { // no thread to close the channel
                channel.close();
                answerable.countDown();
                return true;
            }
        }
        channel.cancel();
        try {
            thread.join(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }

    /**
     * Waits for the transfer to end (CHECK_DEVICE_STATE). Gives up, cancelling it, after
     * {@code timeout} or as soon as {@code peerGone} says the front-end went away: a CHECK that
     * comes before the front-end finished its side would otherwise wait for ever.
     */
    Outcome await(Duration timeout, BooleanSupplier peerGone) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (!answerable.await(100, TimeUnit.MILLISECONDS)) {
                if (peerGone.getAsBoolean()) {
                    cancel(Duration.ofSeconds(5));
                    return Outcome.failed("the front-end went away during the transfer");
                }
                if (System.nanoTime() - deadline > 0) {
                    cancel(Duration.ofSeconds(5));
                    return Outcome.failed(
                            "the transfer did not finish within " + timeout.toSeconds() + " s of CHECK_DEVICE_STATE");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancel(Duration.ofSeconds(5));
            return Outcome.failed("interrupted");
        }
        Outcome o = outcome;
        return o != null ? o : Outcome.failed("the transfer thread ended without a result");
    }

    /** Opens the channel for this direction (non-blocking, cancellable). */
    static CancellableFd open(io.jvhost.nativeio.Fd fd, DeviceStateDirection direction) throws NativeException {
        return switch (direction) {
            case SAVE -> CancellableFd.forWriting(fd, 0);
            case LOAD -> CancellableFd.forReading(fd, 0);
        };
    }

    private static final class CountingOutput extends OutputStream {
        private final OutputStream out;
        long count;

        CountingOutput(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /**
     * Writes into the channel what it takes now; when it has no room, the write fails and {@link
     * #full} says why (whatever the device made of the exception).
     */
    private static final class InlineOutput extends OutputStream {
        private final CancellableFd channel;
        long count;
        boolean full;

        InlineOutput(CancellableFd channel) {
            this.channel = channel;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            int w = channel.writeNow(b, off, len);
            count += w;
            if (w < len) {
                full = true;
                throw new IOException("the channel is full after " + count + " bytes");
            }
        }
    }

    /** Drops the first {@code skip} bytes written through it (already in the channel), then passes the rest on. */
    private static final class Skipping extends OutputStream {
        private final OutputStream out;
        private long skip;

        Skipping(OutputStream out, long skip) {
            this.out = out;
            this.skip = skip;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (skip >= len) {
                skip -= len;
                return;
            }
            int dropped = (int) skip;
            skip = 0;
            out.write(b, off + dropped, len - dropped);
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    private static final class CountingInput extends InputStream {
        private final InputStream in;
        private final Runnable firstByte;
        long count;

        CountingInput(InputStream in, Runnable firstByte) {
            this.in = in;
            this.firstByte = firstByte;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) counted(1);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) counted(n);
            return n;
        }

        private void counted(int n) {
            if (count == 0) firstByte.run();
            count += n;
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }
}
