package io.jvhost.migration;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one back-end's state to a {@link MigrationDestination}: a main channel for the handshake,
 * the totals and the verdict, and N state channels whose threads each read their next packet
 * from the state through one shared {@link PacketProducer}, so a faster channel carries more. One instance per migration;
 * {@link #cancel} may be called from any thread and aborts promptly, telling the destination why.
 *
 * <pre>{@code
 * MigrationSource src = new MigrationSource(SourceConfig.defaults().withChannels(4));
 * SendResult r = src.send(dest, "virtio-fs", virtioState, backendStatePipe, -1);
 * }</pre>
 */
public final class MigrationSource {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationSource.class);

    private final SourceConfig config;
    private final FirstFailure failure = new FirstFailure();
    private final List<Socket> sockets = new ArrayList<>();
    private final ReentrantLock mainWrite = new ReentrantLock();
    private DataOutputStream mainOut;
    private boolean started;

    public MigrationSource(SourceConfig config) {
        this.config = config;
        failure.onFailure(this::tearDown);
    }

    /**
     * Aborts the migration from any thread: {@link #send} throws {@link MigrationCancelledException}
     * and the destination fails with {@link PeerAbortedException} carrying {@code reason}.
     */
    public void cancel(String reason) {
        failure.fail(new MigrationCancelledException(reason));
    }

    /**
     * Streams {@code state} (read to EOF) and then {@code virtio} to the destination, and waits for
     * its verdict.
     *
     * @param stateSize the size of {@code state} if known (for ETA and the destination's bounds), else -1
     * @return once the destination confirmed it received, verified and passed on everything
     * @throws MigrationException if anything failed; the destination has then not completed its load
     */
    public SendResult send(
            InetSocketAddress destination,
            String deviceType,
            VirtioDeviceState virtio,
            InputStream state,
            long stateSize)
            throws IOException {
        return send(destination, deviceType, virtio, StreamChannels.readable(state), stateSize);
    }

    /**
     * {@link #send(InetSocketAddress, String, VirtioDeviceState, InputStream, long)} from a
     * blocking channel: the state is read into the packets' direct buffers, so a channel over a
     * pipe or socket fd moves it with no copy in user space.
     */
    public SendResult send(
            InetSocketAddress destination,
            String deviceType,
            VirtioDeviceState virtio,
            ReadableByteChannel state,
            long stateSize)
            throws IOException {
        synchronized (this) {
            if (started) {
                throw new IllegalStateException("a MigrationSource sends once");
            }
            started = true;
        }
        long start = System.nanoTime();
        try {
            return run(destination, deviceType, virtio, state, stateSize, start);
        } catch (MigrationException e) {
            failure.fail(e);
            throw failure.cause();
        } catch (IOException e) {
            failure.fail(new MigrationException("connection to " + destination + " failed: " + e.getMessage(), e));
            throw failure.cause();
        } finally {
            failure.awaitSettled();
            closeAll();
        }
    }

    private SendResult run(
            InetSocketAddress destination,
            String deviceType,
            VirtioDeviceState virtio,
            ReadableByteChannel state,
            long stateSize,
            long start)
            throws IOException {
        failure.throwIfFailed();
        SessionId session = SessionId.random();
        Socket main = connect(destination);
        main.setTcpNoDelay(true);
        DataInputStream mainIn = new DataInputStream(new BufferedInputStream(main.getInputStream()));
        mainWrite.lock();
        try {
            mainOut = new DataOutputStream(main.getOutputStream());
            ControlCodec.writePreamble(mainOut, StreamFormat.ROLE_MAIN, session);
            ControlCodec.write(
                    mainOut,
                    new ControlMessage.Hello(
                            deviceType, virtio.features(), config.channels(), config.packetSize(), stateSize));
        } finally {
            mainWrite.unlock();
        }
        awaitAccept(main, mainIn);

        List<WritableByteChannel> channelOut = new ArrayList<>();
        for (int ch = 0; ch < config.channels(); ch++) {
            Socket s = connect(destination);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            ControlCodec.writePreamble(out, StreamFormat.ROLE_STATE, session);
            out.writeInt(ch);
            out.flush();
            // Unfiltered, the packets' direct buffers go to the socket as they are; a filter is a
            // java.io stream and gets each packet copied into an array, as one write.
            channelOut.add(
                    config.channelFilter() == ChannelFilter.NONE
                            ? s.getChannel()
                            : StreamChannels.writable(config.channelFilter().wrap(ch, s.getOutputStream())));
        }
        failure.throwIfFailed();

        CompletableFuture<Void> verdict = new CompletableFuture<>();
        startDaemon("migration-source-main", () -> readVerdicts(mainIn, verdict));

        PacketProducer producer =
                new PacketProducer(state, config.packetSize(), VirtioStateCodec.encode(virtio), failure);
        ProgressMeter meter = new ProgressMeter(config.progress(), stateSize, config.progressInterval());
        AtomicLongArray perChannel = new AtomicLongArray(config.channels());
        List<CompletableFuture<Void>> senders = new ArrayList<>();
        for (int ch = 0; ch < config.channels(); ch++) {
            int channel = ch;
            CompletableFuture<Void> done = new CompletableFuture<>();
            senders.add(done);
            startDaemon("migration-source-ch" + ch, () -> {
                sendPackets(channel, channelOut.get(channel), producer, meter, perChannel);
                done.complete(null);
            });
        }
        awaitOrFail(CompletableFuture.allOf(senders.toArray(CompletableFuture[]::new)), null, "sending");
        failure.throwIfFailed();

        ControlMessage.End end = producer.end();
        mainWrite.lock();
        try {
            ControlCodec.write(mainOut, end);
        } catch (IOException e) {
            failure.failTransport(new ConnectionLostException("main channel failed: " + e.getMessage(), e));
            failure.throwIfFailed();
        } finally {
            mainWrite.unlock();
        }
        awaitOrFail(verdict, config.replyTimeout(), "the destination's verdict");
        meter.finish();
        List<Long> counts = new ArrayList<>();
        for (int i = 0; i < perChannel.length(); i++) {
            counts.add(perChannel.get(i));
        }
        return new SendResult(
                producer.stateBytes(),
                end.packets(),
                end.crc32c(),
                counts,
                Duration.ofNanos(System.nanoTime() - start));
    }

    /** A socket of a {@link SocketChannel} (blocking), so state channels can write direct buffers. */
    private Socket connect(InetSocketAddress destination) throws IOException {
        Socket s = SocketChannel.open().socket();
        synchronized (sockets) {
            failure.throwIfFailed();
            sockets.add(s);
        }
        s.connect(destination, (int) config.connectTimeout().toMillis());
        return s;
    }

    private void awaitAccept(Socket main, DataInputStream mainIn) throws IOException {
        main.setSoTimeout((int) config.connectTimeout().toMillis());
        try {
            ControlMessage m = ControlCodec.read(mainIn);
            switch (m) {
                case ControlMessage.Accept a -> {}
                case ControlMessage.Abort a -> throw new PeerAbortedException("destination", a.reason());
                case ControlMessage.Hello h -> throw new MigrationException("destination sent Hello instead of Accept");
                case ControlMessage.End e -> throw new MigrationException("destination sent End instead of Accept");
                case ControlMessage.Ok o -> throw new MigrationException("destination sent Ok before any state");
            }
        } catch (SocketTimeoutException e) {
            throw new MigrationException(
                    "destination did not accept the handshake within " + config.connectTimeout(), e);
        } catch (EOFException e) {
            throw new MigrationException("destination closed the main channel during the handshake", e);
        }
        main.setSoTimeout(0);
    }

    private void sendPackets(
            int channel,
            WritableByteChannel out,
            PacketProducer producer,
            ProgressMeter meter,
            AtomicLongArray perChannel) {
        try {
            PacketProducer.Batch batch = producer.newBatch();
            PacketWriter writer = PacketWriter.over(out);
            while (producer.next(batch)) {
                writer.write(batch);
                perChannel.addAndGet(channel, batch.packets());
                if (!batch.isConfigState()) {
                    meter.add(batch.stateBytes(), batch.packets());
                }
            }
            if (failure.hasFailed()) {
                return;
            }
            // FIN tells the destination this channel carries nothing more.
            out.close();
        } catch (IOException e) {
            failure.failTransport(
                    new ConnectionLostException("state channel " + channel + " failed: " + e.getMessage(), e));
        }
    }

    /** Reads the destination's Ok or Abort; anything else from it is a protocol error. */
    private void readVerdicts(DataInputStream in, CompletableFuture<Void> verdict) {
        try {
            ControlMessage m = ControlCodec.read(in);
            switch (m) {
                case ControlMessage.Ok o -> verdict.complete(null);
                case ControlMessage.Abort a -> failure.peerAborted(new PeerAbortedException("destination", a.reason()));
                case ControlMessage.Hello h ->
                    failure.fail(new MigrationException("destination sent an unexpected Hello"));
                case ControlMessage.Accept a ->
                    failure.fail(new MigrationException("destination sent a second Accept"));
                case ControlMessage.End e -> failure.fail(new MigrationException("destination sent End"));
            }
        } catch (EOFException e) {
            failure.failTransport(new ConnectionLostException("destination closed the main channel", e));
        } catch (MigrationException e) {
            failure.fail(e);
        } catch (IOException e) {
            failure.failTransport(new ConnectionLostException("main channel failed: " + e.getMessage(), e));
        }
    }

    /** Waits for {@code what} or the session's failure, whichever comes first. */
    private void awaitOrFail(CompletableFuture<?> what, Duration timeout, String description)
            throws MigrationException {
        CompletableFuture<Object> either = CompletableFuture.anyOf(what, failure.asFuture());
        try {
            if (timeout == null) {
                either.get();
            } else {
                either.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (TimeoutException e) {
            throw new MigrationException("no answer for " + description + " within " + timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MigrationCancelledException("interrupted while waiting for " + description, e);
        } catch (ExecutionException e) {
            throw new MigrationException("unexpected failure waiting for " + description, e.getCause());
        }
        failure.throwIfFailed();
    }

    /** On failure: tell the destination why (best effort), then break every connection so all threads stop. */
    private void tearDown() {
        MigrationException cause = failure.cause();
        if (!(cause instanceof PeerAbortedException)) {
            String reason = cause instanceof MigrationCancelledException
                    ? cause.getMessage()
                    : "source failed: " + cause.getMessage();
            try {
                // The lock is only held for small writes; don't wait long if one is stuck.
                if (mainWrite.tryLock(100, TimeUnit.MILLISECONDS)) {
                    try {
                        if (mainOut != null) {
                            ControlCodec.write(mainOut, new ControlMessage.Abort(reason));
                        }
                    } finally {
                        mainWrite.unlock();
                    }
                }
            } catch (IOException e) {
                LOG.debug("could not tell the destination why: {}", e.toString());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeAll();
        LOG.info("migration source failed: {}", cause.getMessage());
    }

    private void closeAll() {
        List<Socket> all;
        synchronized (sockets) {
            all = List.copyOf(sockets);
        }
        for (Socket s : all) {
            try {
                s.close();
            } catch (IOException e) {
                LOG.debug("close: {}", e.toString());
            }
        }
    }

    static void startDaemon(String name, Runnable body) {
        Thread.ofPlatform().daemon().name(name).start(body);
    }
}
