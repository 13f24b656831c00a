package io.jvhost.migration;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives one back-end's state from a {@link MigrationSource}, session after session, on one
 * listening socket: it accepts the main channel, checks the handshake, accepts the announced state
 * channels (same session id, each channel number once), reassembles their packets in index order
 * through a bounded {@link ReorderWindow} and streams them into the caller's {@link OutputStream}
 * as soon as each is next. The CONFIG_STATE packet is decoded into a {@link VirtioDeviceState}.
 *
 * <p>The output stream is closed, which is what tells a back-end reading a pipe that the state is
 * complete, only after the totals and the CRC32C matched the source's. On any failure it is left
 * open and the caller sees a {@link MigrationException}; the source learns the reason.
 */
public final class MigrationDestination implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MigrationDestination.class);
    /** The CONFIG_STATE packet holds a small encoded VirtioDeviceState, never this much. */
    static final int MAX_CONFIG_PACKET = 1 << 20;

    private final ServerSocket server;
    private final AcceptWaiter acceptor;
    private final DestinationConfig config;
    private final List<Socket> sessionSockets = new ArrayList<>();
    private final AtomicBoolean receiving = new AtomicBoolean();
    private volatile FirstFailure current;

    private MigrationDestination(ServerSocket server, AcceptWaiter acceptor, DestinationConfig config) {
        this.server = server;
        this.acceptor = acceptor;
        this.config = config;
    }

    /** Listens on {@code address} (port 0 picks a free one; see {@link #address()}). */
    public static MigrationDestination listen(InetSocketAddress address, DestinationConfig config) throws IOException {
        // A channel's socket: the state channels it accepts read into direct buffers (ChannelReader).
        ServerSocketChannel channel = ServerSocketChannel.open();
        ServerSocket s = channel.socket();
        try {
            s.bind(address, 16);
            return new MigrationDestination(s, new AcceptWaiter(channel), config);
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    /**
     * Waits for a source, receives its state into {@code out}, verifies it and answers the source.
     *
     * @return the virtio device state and statistics, once {@code out} was flushed and closed
     * @throws MigrationException if the source was refused, misbehaved, cancelled, died, or the data
     *                            did not match its checksum; {@code out} is then not closed
     */
    public ReceiveResult receive(OutputStream out) throws IOException {
        return receive(StreamChannels.writable(out));
    }

    /**
     * {@link #receive(OutputStream)} into a channel, which gets the packets' direct buffers as
     * they are (no copy in user space for a channel over a pipe's fd) and is closed likewise
     * only once everything verified.
     */
    public ReceiveResult receive(WritableByteChannel out) throws IOException {
        if (!receiving.compareAndSet(false, true)) {
            throw new IllegalStateException(
                    "receive() is already running: a destination takes one migration at a time");
        }
        try {
            return receiveOne(out);
        } finally {
            receiving.set(false);
        }
    }

    private ReceiveResult receiveOne(WritableByteChannel out) throws IOException {
        Opening opening = acceptMain();
        Session session;
        try {
            session = new Session(opening.socket(), opening.preamble().session());
        } catch (IOException e) {
            opening.socket().close();
            throw e;
        }
        current = session.failure;
        try {
            return session.run(out);
        } finally {
            session.closeAll();
            current = null;
        }
    }

    /** A connection whose preamble announced a main channel. */
    private record Opening(Socket socket, ControlCodec.Preamble preamble) {}

    /**
     * Waits for a main channel. Each newcomer's preamble is read on its own thread, so a silent or
     * slow connection can't keep a real source waiting; state channels and garbage are closed.
     */
    private Opening acceptMain() throws IOException {
        Arrivals<Opening> mains = new Arrivals<>(acceptor::wake);
        try {
            while (true) {
                Opening o = mains.poll();
                if (o != null) {
                    return o;
                }
                Socket s = acceptor.accept(50); // a handshake thread's main channel ends the wait
                if (s == null) continue;
                MigrationSource.startDaemon("migration-destination-handshake", () -> {
                    try {
                        s.setSoTimeout(millis(config.acceptTimeout()));
                        ControlCodec.Preamble p = ControlCodec.readPreamble(new DataInputStream(s.getInputStream()));
                        if (p.role() == StreamFormat.ROLE_MAIN) {
                            mains.add(new Opening(s, p), s);
                            return;
                        }
                        LOG.warn(
                                "ignoring a state channel from {} for session {}: no migration in progress",
                                s.getRemoteSocketAddress(),
                                p.session());
                    } catch (IOException e) {
                        LOG.warn("ignoring a connection from {}: {}", s.getRemoteSocketAddress(), e.getMessage());
                    }
                    closeQuietly(s);
                });
            }
        } finally {
            mains.close();
        }
    }

    /** Connections handed over by handshake threads; those arriving after {@link #close} are closed, not leaked. */
    private static final class Arrivals<T> {
        private final BlockingQueue<T> queue = new LinkedBlockingQueue<>();
        private final List<Socket> sockets = new ArrayList<>();
        /** Tells the accepting thread, which waits in {@link AcceptWaiter#accept}. */
        private final Runnable arrived;

        private boolean closed;

        Arrivals(Runnable arrived) {
            this.arrived = arrived;
        }

        synchronized void add(T item, Socket socket) {
            if (closed) {
                closeQuietly(socket);
                return;
            }
            queue.add(item);
            sockets.add(socket);
            arrived.run();
        }

        synchronized T poll() {
            T item = queue.poll();
            if (item != null) {
                sockets.remove(0); // FIFO, like the queue
            }
            return item;
        }

        synchronized void close() {
            closed = true;
            for (Socket s : sockets) {
                closeQuietly(s);
            }
            queue.clear();
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            LOG.debug("close: {}", e.toString());
        }
    }

    /** Stops listening and breaks a session in progress: the source sees its connections fail. */
    @Override
    public void close() throws IOException {
        server.close();
        acceptor.close(); // after the listener: a wait it ends finds the listener closed
        FirstFailure f = current;
        if (f != null) {
            synchronized (sessionSockets) {
                for (Socket s : sessionSockets) {
                    closeQuietly(s);
                }
            }
            f.fail(new MigrationException("destination closed"));
        }
    }

    private static int millis(Duration d) {
        return (int) Math.min(Integer.MAX_VALUE, d.toMillis());
    }

    /** One source's migration: its sockets, threads and failure. */
    private final class Session {
        private final Socket main;
        private final SessionId id;
        private final FirstFailure failure = new FirstFailure();
        private final Object mainWriteLock = new Object();
        private final CompletableFuture<ControlMessage.End> end = new CompletableFuture<>();
        private DataOutputStream mainOut;
        private volatile boolean answered;
        private volatile ReorderWindow window;
        private volatile Loader loader;

        Session(Socket main, SessionId id) throws IOException {
            this.main = main;
            this.id = id;
            track(main);
            main.setTcpNoDelay(true);
            mainOut = new DataOutputStream(main.getOutputStream());
            failure.onFailure(this::tearDown);
        }

        ReceiveResult run(WritableByteChannel out) throws IOException {
            long start = System.nanoTime();
            try {
                DataInputStream mainIn = new DataInputStream(new BufferedInputStream(main.getInputStream()));
                ControlMessage.Hello hello = readHello(mainIn);
                long maxPackets = packetBound(hello);
                synchronized (mainWriteLock) {
                    ControlCodec.write(mainOut, new ControlMessage.Accept());
                }
                window = new ReorderWindow(config.window(), maxPackets, hello.channels());
                main.setSoTimeout(0); // the End message comes when the source is done, however long that is
                MigrationSource.startDaemon("migration-destination-main", () -> readControl(mainIn));
                List<SocketChannel> channels = acceptStateChannels(hello.channels());
                BufferPool pool = new BufferPool(hello.packetSize());
                AtomicLongArray perChannel = new AtomicLongArray(hello.channels());
                ProgressMeter meter =
                        new ProgressMeter(config.progress(), hello.stateSize(), config.progressInterval());
                loader = new Loader(out, meter);
                for (int ch = 0; ch < channels.size(); ch++) {
                    int channel = ch;
                    MigrationSource.startDaemon(
                            "migration-destination-ch" + ch,
                            () -> readPackets(channel, channels.get(channel), hello.packetSize(), pool, perChannel));
                }
                Loaded loaded = loader.awaitLoaded();
                verify(hello, loaded);
                try {
                    out.close(); // the "complete" signal: only now, with everything verified
                } catch (IOException e) {
                    throw new MigrationException("completing the state output failed: " + e.getMessage(), e);
                }
                synchronized (mainWriteLock) {
                    answered = true;
                    ControlCodec.write(mainOut, new ControlMessage.Ok());
                }
                meter.finish();
                List<Long> counts = new ArrayList<>();
                for (int i = 0; i < perChannel.length(); i++) {
                    counts.add(perChannel.get(i));
                }
                return new ReceiveResult(
                        loaded.virtio,
                        hello.deviceType(),
                        loaded.stateBytes,
                        loaded.packets,
                        (int) loaded.crc,
                        counts,
                        window.peakHeld(),
                        pool.allocated(),
                        Duration.ofNanos(System.nanoTime() - start));
            } catch (ConnectionLostException e) {
                failure.failTransport(e); // the source's reason, if it comes within the grace period
                throw failure.cause();
            } catch (MigrationException e) {
                failure.fail(e);
                throw failure.cause();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure.fail(new MigrationException("interrupted", e));
                throw failure.cause();
            } catch (IOException e) {
                failure.failTransport(new ConnectionLostException("main channel failed: " + e.getMessage(), e));
                throw failure.cause();
            }
        }

        private ControlMessage.Hello readHello(DataInputStream in) throws IOException {
            ControlMessage m;
            try {
                m = ControlCodec.read(in);
            } catch (SocketTimeoutException e) {
                throw new MigrationException("source sent no Hello within " + config.acceptTimeout(), e);
            } catch (EOFException e) {
                throw new MigrationException("source closed the main channel before its Hello", e);
            }
            if (!(m instanceof ControlMessage.Hello h)) {
                throw new MigrationException("source sent " + m.getClass().getSimpleName() + " instead of Hello");
            }
            if (!h.deviceType().equals(config.deviceType())) {
                throw new MigrationException("source migrates a '" + h.deviceType()
                        + "' device, this destination takes '" + config.deviceType() + "'");
            }
            long missing = h.virtioFeatures() & ~config.supportedFeatures();
            if (missing != 0) {
                throw new MigrationException("destination lacks virtio features 0x" + Long.toHexString(missing));
            }
            if (h.channels() < 1 || h.channels() > config.maxChannels()) {
                throw new MigrationException("source wants " + h.channels()
                        + " state channels, this destination takes 1.." + config.maxChannels());
            }
            if (h.packetSize() < StreamFormat.MIN_PACKET_SIZE || h.packetSize() > config.maxPacketSize()) {
                throw new MigrationException(
                        "source packet size " + h.packetSize() + " is outside 1.." + config.maxPacketSize());
            }
            if (h.stateSize() < -1) {
                throw new MigrationException("source announced a state size of " + h.stateSize());
            }
            return h;
        }

        /** No index can exceed this: from the announced size if known, else the configured bound. */
        private long packetBound(ControlMessage.Hello h) throws MigrationException {
            if (h.stateSize() < 0) {
                return config.maxPackets();
            }
            long dataPackets = (h.stateSize() + h.packetSize() - 1) / h.packetSize();
            if (dataPackets + 1 > Integer.MAX_VALUE) {
                throw new MigrationException("announced state of " + h.stateSize() + " bytes needs more than "
                        + Integer.MAX_VALUE + " packets");
            }
            return dataPackets + 1;
        }

        /** A connection that arrived while the state channels were expected, after its preamble was read. */
        private record Arrival(Socket socket, ControlCodec.Preamble preamble, int channel, String rejection) {}

        /**
         * Accepts connections until every announced channel is there. Each newcomer's preamble is
         * read on its own thread, so a silent stray connection can't hold up the real ones.
         */
        private List<SocketChannel> acceptStateChannels(int count) throws IOException {
            SocketChannel[] channels = new SocketChannel[count];
            int connected = 0;
            List<String> rejected = new ArrayList<>();
            Arrivals<Arrival> arrivals = new Arrivals<>(acceptor::wake);
            long deadline = System.nanoTime() + config.acceptTimeout().toNanos();
            try {
                while (connected < count) {
                    failure.throwIfFailed(); // e.g. the source aborted on the main channel meanwhile
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0) {
                        throw new MigrationException(connected + " of " + count + " state channels connected within "
                                + config.acceptTimeout() + (rejected.isEmpty() ? "" : "; rejected: " + rejected));
                    }
                    // Short slices, so a failure on the main channel is noticed promptly; an arrival ends the wait.
                    Socket s = acceptor.accept(Math.min(left, 20));
                    if (s != null) {
                        MigrationSource.startDaemon(
                                "migration-destination-handshake", () -> arrivals.add(handshake(s), s));
                    }
                    Arrival a;
                    while ((a = arrivals.poll()) != null) {
                        if (a.rejection() != null) {
                            // A stray or stale connection must not take down the migration in progress.
                            LOG.warn(
                                    "rejected a connection from {}: {}",
                                    a.socket().getRemoteSocketAddress(),
                                    a.rejection());
                            rejected.add(a.rejection());
                            a.socket().close();
                            continue;
                        }
                        track(a.socket());
                        if (a.channel() < 0 || a.channel() >= count) {
                            throw new MigrationException(
                                    "state channel number " + a.channel() + " is outside 0.." + (count - 1));
                        }
                        if (channels[a.channel()] != null) {
                            throw new MigrationException("state channel " + a.channel() + " connected twice");
                        }
                        channels[a.channel()] = a.socket().getChannel();
                        connected++;
                    }
                }
            } finally {
                arrivals.close();
            }
            return List.of(channels);
        }

        private Arrival handshake(Socket s) {
            try {
                s.setSoTimeout(millis(config.acceptTimeout()));
                // Unbuffered: nothing past the preamble and the channel number may be read here,
                // the packets are read from the socket's channel (ChannelReader).
                DataInputStream in = new DataInputStream(s.getInputStream());
                ControlCodec.Preamble p = ControlCodec.readPreamble(in);
                if (p.role() != StreamFormat.ROLE_STATE) {
                    return new Arrival(s, p, -1, "a second main channel (session " + p.session() + ")");
                }
                if (!p.session().equals(id)) {
                    return new Arrival(s, p, -1, "a state channel of unknown session " + p.session());
                }
                return new Arrival(s, p, in.readInt(), null);
            } catch (IOException e) {
                return new Arrival(s, null, -1, e.getMessage());
            }
        }

        private void readPackets(
                int channel, SocketChannel socket, int packetSize, BufferPool pool, AtomicLongArray perChannel) {
            String name = "state channel " + channel;
            try (ChannelReader reader = new ChannelReader(socket, config.idleTimeout());
                    ChannelInput in = new ChannelInput(reader, pool, name)) {
                while (true) {
                    PacketHeader h = in.nextHeader();
                    if (h == null) {
                        window.channelEnded(channel);
                        return;
                    }
                    checkHeader(name, h, packetSize);
                    window.admit(channel, h);
                    // Data straight from the socket into a direct chunk, and from there into the output.
                    ReorderWindow.Packet p = in.data(h);
                    try {
                        window.put(channel, p);
                    } catch (MigrationException e) {
                        if (p.chunk() != null) p.chunk().release();
                        throw e;
                    }
                    perChannel.incrementAndGet(channel);
                    loader.pump();
                }
            } catch (SocketTimeoutException e) {
                failure.fail(new MigrationException(name + " sent nothing for " + config.idleTimeout(), e));
            } catch (ConnectionLostException e) {
                failure.failTransport(e);
            } catch (MigrationException e) {
                failure.fail(e);
            } catch (InterruptedException e) {
                failure.fail(new MigrationException(name + " reader interrupted", e));
            } catch (IOException e) {
                failure.failTransport(new ConnectionLostException(name + " failed: " + e.getMessage(), e));
            }
        }

        private static void checkHeader(String name, PacketHeader h, int packetSize) throws MigrationException {
            String what = name + ": packet " + Integer.toUnsignedString(h.idx());
            if (h.version() != StreamFormat.PACKET_VERSION) {
                throw new MigrationException(
                        what + " has version " + h.version() + ", expected " + StreamFormat.PACKET_VERSION);
            }
            if ((h.flags() & ~StreamFormat.KNOWN_FLAGS) != 0) {
                throw new MigrationException(what + " has unknown flags 0x" + Integer.toHexString(h.flags()));
            }
            int max = h.isConfigState() ? MAX_CONFIG_PACKET : packetSize;
            if (h.length() < 1 || h.length() > max) {
                throw new MigrationException(
                        what + " has length " + Integer.toUnsignedString(h.length()) + ", outside 1.." + max);
            }
        }

        private record Loaded(VirtioDeviceState virtio, long stateBytes, long totalBytes, long packets, long crc) {}

        /**
         * Streams packets out in index order as each becomes next, on the channel thread that put
         * it (or the one loading already, which then takes it too): a hand-off to a thread of its
         * own cost a wake-up per packet. Decodes the CONFIG_STATE packet. One thread at a time
         * holds {@code token}; the receiving thread only waits for the end.
         */
        private final class Loader {
            private final WritableByteChannel out;
            private final ProgressMeter meter;
            private final ReentrantLock token = new ReentrantLock();
            private final CRC32C crc = new CRC32C();
            private long stateBytes;
            private long total;
            private long packets;
            private VirtioDeviceState virtio;

            Loader(WritableByteChannel out, ProgressMeter meter) {
                this.out = out;
                this.meter = meter;
            }

            /**
             * Loads every packet that is next, unless another thread is loading. A packet put while
             * that thread was finishing is seen by it when it checks again after letting go.
             */
            void pump() throws MigrationException {
                while (token.tryLock()) {
                    try {
                        ReorderWindow.Packet p;
                        while ((p = window.poll()) != null) {
                            load(p);
                            window.release();
                        }
                    } finally {
                        token.unlock();
                    }
                    if (!window.hasNext()) {
                        return;
                    }
                }
            }

            private void load(ReorderWindow.Packet p) throws MigrationException {
                int len = p.header().length();
                ByteBuffer data = p.data(); // position 0, limit len
                crc.update(data);
                data.rewind();
                total += len;
                packets++;
                if (p.header().isConfigState()) {
                    try {
                        virtio = VirtioStateCodec.decode(data.array()); // a heap buffer of exactly len
                    } catch (IOException e) {
                        throw new MigrationException(
                                "the CONFIG_STATE packet is not a valid virtio device state: " + e.getMessage(), e);
                    }
                    return;
                }
                try {
                    while (data.hasRemaining()) {
                        out.write(data);
                    }
                } catch (IOException e) {
                    throw new MigrationException("writing the state to its output failed: " + e.getMessage(), e);
                }
                stateBytes += len;
                meter.add(len, 1);
                if (p.chunk() != null) p.chunk().release();
            }

            /** Once the last packet was loaded and every channel ended: the totals. */
            Loaded awaitLoaded() throws MigrationException, InterruptedException {
                window.awaitLoaded();
                // The source closes each channel after its last packet; anything else still coming is an error.
                if (!window.awaitAllEnded(config.idleTimeout().toMillis())) {
                    throw new MigrationException(
                            "state channels stayed open after the last packet for " + config.idleTimeout());
                }
                return new Loaded(virtio, stateBytes, total, packets, crc.getValue());
            }

            /** After a failure: waits (bounded) for a load in progress, so nothing writes to the output afterwards. */
            void quiesce() {
                try {
                    if (token.tryLock(config.idleTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                        return; // kept: the session is over, nobody loads again
                    }
                    LOG.warn(
                            "a state channel was still writing the output {} after the session ended",
                            config.idleTimeout());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        private void verify(ControlMessage.Hello hello, Loaded loaded) throws MigrationException, InterruptedException {
            ControlMessage.End e = awaitEnd();
            if (e.packets() != loaded.packets || e.totalBytes() != loaded.totalBytes) {
                throw new MigrationException("source sent " + e.packets() + " packets / " + e.totalBytes()
                        + " bytes, received " + loaded.packets + " / " + loaded.totalBytes);
            }
            if (e.crc32c() != (int) loaded.crc) {
                throw new MigrationException(String.format(
                        "checksum mismatch: source CRC32C %08x, received %08x", e.crc32c(), (int) loaded.crc));
            }
            if (hello.stateSize() >= 0 && hello.stateSize() != loaded.stateBytes) {
                throw new MigrationException(
                        "source announced " + hello.stateSize() + " bytes of state and sent " + loaded.stateBytes);
            }
            if (loaded.virtio.features() != hello.virtioFeatures()) {
                throw new MigrationException(
                        "virtio features in the device state (0x" + Long.toHexString(loaded.virtio.features())
                                + ") differ from the handshake (0x" + Long.toHexString(hello.virtioFeatures()) + ")");
            }
        }

        private ControlMessage.End awaitEnd() throws MigrationException, InterruptedException {
            CompletableFuture<Object> either = CompletableFuture.anyOf(end, failure.asFuture());
            try {
                either.get(config.idleTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                throw new MigrationException(
                        "source sent no End message within " + config.idleTimeout() + " after its last packet", e);
            } catch (ExecutionException e) {
                throw new MigrationException("unexpected failure", e.getCause());
            }
            failure.throwIfFailed();
            return end.getNow(null);
        }

        /** Reads the source's End or Abort while packets flow. */
        private void readControl(DataInputStream in) {
            try {
                while (true) {
                    ControlMessage m = ControlCodec.read(in);
                    switch (m) {
                        case ControlMessage.End e -> {
                            if (!end.complete(e)) {
                                throw new MigrationException("source sent End twice");
                            }
                        }
                        case ControlMessage.Abort a -> {
                            failure.peerAborted(new PeerAbortedException("source", a.reason()));
                            return;
                        }
                        case ControlMessage.Hello h -> throw new MigrationException("source sent a second Hello");
                        case ControlMessage.Accept a -> throw new MigrationException("source sent Accept");
                        case ControlMessage.Ok o -> throw new MigrationException("source sent Ok");
                    }
                }
            } catch (EOFException e) {
                if (!answered) {
                    failure.failTransport(new ConnectionLostException("source closed the main channel", e));
                }
            } catch (MigrationException e) {
                failure.fail(e);
            } catch (IOException e) {
                if (!answered) {
                    failure.failTransport(new ConnectionLostException("main channel failed: " + e.getMessage(), e));
                }
            }
        }

        private void track(Socket s) {
            synchronized (sessionSockets) {
                sessionSockets.add(s);
            }
        }

        /** Tells the source why (unless it told us), then breaks every connection so all threads stop. */
        private void tearDown() {
            MigrationException cause = failure.cause();
            if (!(cause instanceof PeerAbortedException)) {
                synchronized (mainWriteLock) {
                    try {
                        ControlCodec.write(
                                mainOut, new ControlMessage.Abort("destination failed: " + cause.getMessage()));
                        main.shutdownOutput();
                    } catch (IOException e) {
                        LOG.debug("could not tell the source why: {}", e.toString());
                    }
                }
            }
            closeStateChannels();
            // Last: this wakes the loader thread, which then closes the main channel too.
            ReorderWindow w = window;
            if (w != null) {
                w.abort(cause);
            }
            LOG.info("migration destination failed: {}", cause.getMessage());
        }

        private void closeStateChannels() {
            synchronized (sessionSockets) {
                for (Socket s : sessionSockets) {
                    if (s != main) {
                        try {
                            s.close();
                        } catch (IOException e) {
                            LOG.debug("close: {}", e.toString());
                        }
                    }
                }
            }
        }

        void closeAll() {
            failure.awaitSettled();
            Loader l = loader;
            if (l != null && failure.hasFailed()) {
                l.quiesce();
            }
            synchronized (sessionSockets) {
                for (Socket s : sessionSockets) {
                    try {
                        s.close();
                    } catch (IOException e) {
                        LOG.debug("close: {}", e.toString());
                    }
                }
                sessionSockets.clear();
            }
        }
    }
}
