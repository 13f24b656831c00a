package io.jvhost.migration;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The first reason a session failed; every later one is attached to it as suppressed. Failing runs
 * the registered reactions once (tell the peer, close the sockets, wake waiting threads), so
 * whichever thread notices a problem first brings the whole session down promptly.
 *
 * <p>A broken connection is usually the <em>consequence</em> of the peer giving up, and the peer
 * says why on the main channel, which may arrive a moment after the reset on a state channel. So a
 * transport error waits briefly for the peer's reason and reports that instead when it comes.
 */
final class FirstFailure {
    /** How long a transport error waits for the peer's Abort message; loopback and LAN deliver it in well under this. */
    static final Duration PEER_REASON_GRACE = Duration.ofMillis(300);

    private static final int MAX_SUPPRESSED = 8;

    private final CompletableFuture<MigrationException> failed = new CompletableFuture<>();
    /** Completes after the reactions ran, so a waiter that then closes everything can't cut off the peer's Abort. */
    private final CompletableFuture<MigrationException> settled = new CompletableFuture<>();

    private final CompletableFuture<PeerAbortedException> peerReason = new CompletableFuture<>();
    private final List<Runnable> reactions = new ArrayList<>();
    private int suppressed;

    /** Runs once, on the failing thread, when the session fails; immediately if it already has. */
    void onFailure(Runnable reaction) {
        boolean runNow;
        synchronized (this) {
            runNow = failed.isDone();
            if (!runNow) {
                reactions.add(reaction);
            }
        }
        if (runNow) {
            reaction.run();
        }
    }

    void fail(MigrationException cause) {
        List<Runnable> toRun;
        synchronized (this) {
            if (failed.isDone()) {
                MigrationException first = failed.getNow(null);
                if (first != cause && suppressed++ < MAX_SUPPRESSED) {
                    first.addSuppressed(cause);
                }
                return;
            }
            failed.complete(cause);
            toRun = List.copyOf(reactions);
            reactions.clear();
        }
        try {
            for (Runnable r : toRun) {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    cause.addSuppressed(e);
                }
            }
        } finally {
            settled.complete(cause);
        }
    }

    /** The peer said why it gave up: that reason is the one to report. */
    void peerAborted(PeerAbortedException e) {
        peerReason.complete(e);
        fail(e);
    }

    /** A connection broke: report the peer's reason instead if it arrives within the grace period. */
    void failTransport(MigrationException cause) {
        if (failed.isDone()) {
            fail(cause); // just records it as suppressed
            return;
        }
        try {
            PeerAbortedException reason = peerReason.get(PEER_REASON_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            reason.addSuppressed(cause);
            fail(reason);
        } catch (TimeoutException e) {
            fail(cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(cause);
        } catch (ExecutionException e) {
            throw new AssertionError("peerReason never completes exceptionally", e);
        }
    }

    boolean hasFailed() {
        return failed.isDone();
    }

    /** The first failure, or null. */
    MigrationException cause() {
        return failed.getNow(null);
    }

    /** Completes once the session failed and the reactions (telling the peer, closing) have run. */
    CompletableFuture<MigrationException> asFuture() {
        return settled;
    }

    /** If the session failed, waits (bounded) until the reactions finished, e.g. before closing sockets. */
    void awaitSettled() {
        if (!failed.isDone()) {
            return;
        }
        try {
            settled.get(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // a reaction stuck in a write: close anyway
        }
    }

    void throwIfFailed() throws MigrationException {
        MigrationException e = cause();
        if (e != null) {
            throw e;
        }
    }
}
