package io.jvhost.devices.fs;

import io.jvhost.backend.DeviceException;
import io.jvhost.backend.StatefulDevice;
import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.api.MigratableFileSystem;
import io.jvhost.devices.fs.api.RequestContext;
import io.jvhost.devices.fs.fuse.InitReply;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdFormatException;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdStateCodec;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.state.LoadedState;
import io.jvhost.state.StateReader;
import io.jvhost.state.StateWriter;
import io.jvhost.virtqueue.DescriptorChain;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * virtio-fs (virtio spec 5.11, device id 26) over a {@link FileSystem}: queue 0 is the hiprio
 * queue (FORGET/BATCH_FORGET, so that they never wait behind ordinary requests), queues 1..N the
 * request queues; every queue carries FUSE requests handled by one {@link FuseServer}.
 *
 * <p>The config space (struct virtio_fs_config: a 36-byte NUL-padded tag and le32
 * num_request_queues) exists only when a tag is given, as virtiofsd's --tag: it is then served
 * for front-ends that ask with GET_CONFIG, and PROTOCOL_F_CONFIG is offered. QEMU's
 * vhost-user-fs-pci does not ask: it builds that config itself from its {@code tag} and
 * {@code num-request-queues} properties, and warns about a back-end that offers CONFIG.
 *
 * <p>Migration (DEVICE_STATE) when the file system is a {@link MigratableFileSystem}: the blob
 * ({@code state} format, type "virtio-fs") holds a "fuse" section with the negotiated INIT
 * session, so the guest goes on without a new INIT, then the file system's own sections. A load
 * takes virtiofsd's state too ({@link VirtiofsdSession} for the session it does not carry).
 */
public final class FsDevice implements StatefulDevice, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FsDevice.class);
    /** Device type in the state blob's header. */
    public static final String STATE_TYPE = "virtio-fs";

    private static final String FUSE_SECTION = "fuse";

    /** sizeof(virtio_fs_config.tag). */
    public static final int TAG_SIZE = 36;

    public static final int CONFIG_SIZE = TAG_SIZE + 4;

    private final Optional<String> tag;
    private final StateFormat stateFormat;
    private final int numRequestQueues;
    private final FuseServer server;
    private final byte[] config;
    /** The hiprio queue's index (virtio spec 5.11.2); the request queues follow it. */
    static final int HIPRIO_QUEUE = 0;

    private final java.util.concurrent.ExecutorService pool;

    public FsDevice(String tag, FileSystem fs) {
        this(tag, 1, new FuseServer(fs));
    }

    /**
     * @param tag              the mount tag the guest uses (mount -t virtiofs TAG ...): 1 to 36 bytes of UTF-8
     * @param numRequestQueues request queues besides hiprio, at least 1
     */
    public FsDevice(String tag, int numRequestQueues, FuseServer server) {
        this(tag, numRequestQueues, server, 0);
    }

    /**
     * @param threadPoolSize 0: each queue's requests are handled one at a time on its worker
     *                       (virtiofsd's --thread-pool-size=0); N: by a pool of N threads, several
     *                       at once, completed in any order
     */
    public FsDevice(String tag, int numRequestQueues, FuseServer server, int threadPoolSize) {
        this(Optional.of(tag), numRequestQueues, server, threadPoolSize);
    }

    /**
     * @param tag without one the device has no config space, and PROTOCOL_F_CONFIG is not
     *            offered, as virtiofsd without --tag: QEMU's vhost-user-fs-pci builds the config
     *            from its own tag= and warns about a back-end that offers it
     */
    public FsDevice(Optional<String> tag, int numRequestQueues, FuseServer server, int threadPoolSize) {
        this(tag, numRequestQueues, server, threadPoolSize, StateFormat.JVHOST);
    }

    /** @param stateFormat what a save writes (a load takes either) */
    public FsDevice(
            Optional<String> tag,
            int numRequestQueues,
            FuseServer server,
            int threadPoolSize,
            StateFormat stateFormat) {
        byte[] t = tag.orElse("").getBytes(StandardCharsets.UTF_8);
        if (tag.isPresent() && (t.length == 0 || t.length > TAG_SIZE)) {
            throw new IllegalArgumentException(
                    "virtio-fs tag must be 1 to " + TAG_SIZE + " bytes, not " + t.length + ": " + tag.get());
        }
        if (tag.orElse("").indexOf('\0') >= 0) throw new IllegalArgumentException("virtio-fs tag contains NUL");
        if (numRequestQueues < 1 || numRequestQueues > 1023) {
            throw new IllegalArgumentException("request queues must be 1 to 1023: " + numRequestQueues);
        }
        if (threadPoolSize < 0 || threadPoolSize > 1024) {
            throw new IllegalArgumentException("thread pool size must be 0 to 1024: " + threadPoolSize);
        }
        this.tag = tag;
        this.stateFormat = java.util.Objects.requireNonNull(stateFormat, "stateFormat");
        this.numRequestQueues = numRequestQueues;
        // Platform threads: the passthrough file system switches per-thread fsuid/umask.
        this.pool = threadPoolSize == 0
                ? null
                : java.util.concurrent.Executors.newFixedThreadPool(
                        threadPoolSize,
                        Thread.ofPlatform().name("jvhost-fs-pool-", 0).daemon().factory());
        this.server = server;
        ByteBuffer c = ByteBuffer.allocate(tag.isPresent() ? CONFIG_SIZE : 0).order(ByteOrder.LITTLE_ENDIAN);
        if (tag.isPresent()) c.put(t).position(TAG_SIZE).putInt(numRequestQueues);
        this.config = c.array();
    }

    public Optional<String> tag() {
        return tag;
    }

    public int numRequestQueues() {
        return numRequestQueues;
    }

    public FuseServer server() {
        return server;
    }

    @Override
    public String name() {
        return "fs";
    }

    @Override
    public int queueCount() {
        return 1 + numRequestQueues;
    }

    @Override
    public long features() {
        // VIRTIO_FS_F_NOTIFICATION (bit 0) is not offered: no notification queue.
        return VirtioFeatures.mask(
                VirtioFeatures.VERSION_1, VirtioFeatures.RING_INDIRECT_DESC, VirtioFeatures.RING_EVENT_IDX);
    }

    /**
     * The pool for the request queues; hiprio (FORGET, BATCH_FORGET, INTERRUPT: no reply, a
     * table update each) is handled on its ring's worker as virtiofsd does: handed to the pool,
     * each FORGET cost a wake-up and queued behind the requests, and CREATE + RELEASE + FORGET
     * took three hand-offs where two do.
     */
    @Override
    public java.util.concurrent.Executor requestExecutor(int queueIndex) {
        return queueIndex == HIPRIO_QUEUE ? null : pool;
    }

    @Override
    public boolean hasConfigSpace() {
        return tag.isPresent();
    }

    @Override
    public byte[] config() {
        return config.clone();
    }

    @Override
    public long handle(int queueIndex, DescriptorChain chain) {
        return server.handle(chain);
    }

    @Override
    public void reset() {
        server.reset();
        if (server.fileSystem() instanceof MigratableFileSystem m) m.cancelMigration();
    }

    /** LOG_ALL set: the file system prepares its state while the guest runs (jvhost's format and virtiofsd's alike). */
    @Override
    public void migrationStarting() {
        migrating = true;
        if (server.fileSystem() instanceof MigratableFileSystem m) m.prepareMigration();
    }

    /**
     * Whether a migration is under way on this device: from LOG_ALL set until it is cleared
     * before a save (a cancel), or from a state's first bytes until the load is committed or
     * given up. A warm-up beside it gives way meanwhile, as the CPU it would take is the
     * migration's, and may go on after an incoming one (the guest may soon move on again).
     */
    public boolean migrating() {
        return migrating;
    }

    @Override
    public void migrationCancelled() {
        migrating = false;
        if (server.fileSystem() instanceof MigratableFileSystem m) m.cancelMigration();
    }

    /**
     * Ends the request executor's threads (this device made them), once the server that used it
     * has stopped: its sessions waited for their requests, so the pool is idle by then.
     */
    @Override
    public void close() {
        if (pool != null) pool.shutdown();
    }

    // ---- migration ----

    @Override
    public boolean canMigrate() {
        return server.fileSystem() instanceof MigratableFileSystem;
    }

    @Override
    public SavedState captureState() throws DeviceException {
        MigratableFileSystem fs = migratable();
        if (stateFormat == StateFormat.VIRTIOFSD) {
            try {
                VirtiofsdState state = fs.captureVirtiofsd(); // virtiofsd keeps no FUSE session of its own
                return out -> out.write(VirtiofsdStateCodec.encode(state));
            } catch (FsException e) {
                throw new DeviceException("cannot capture the file system's state: " + e.getMessage(), e);
            }
        }
        InitReply session = server.session().orElse(null);
        MigratableFileSystem.Capture captured;
        try {
            captured = fs.capture();
        } catch (FsException e) {
            throw new DeviceException("cannot capture the file system's state: " + e.getMessage(), e);
        }
        return new SavedState() {
            @Override
            public void writeTo(java.io.OutputStream out) throws IOException {
                StateWriter w = StateWriter.create(out, STATE_TYPE);
                w.section(FUSE_SECTION, 1, 1, o -> {
                    o.bool(session != null);
                    if (session != null) {
                        o.u32(session.major())
                                .u32(session.minor())
                                .u32(session.sessionMinor())
                                .u32(session.maxReadahead())
                                .u64(session.flags())
                                .u32(session.maxBackground())
                                .u32(session.congestionThreshold())
                                .u32(session.maxWrite())
                                .u32(session.timeGran())
                                .u32(session.maxPages());
                    }
                });
                captured.writeTo(w);
                w.finish();
            }

            @Override
            public String summary() {
                return captured.summary();
            }
        };
    }

    /**
     * Loads jvhost's own state (it starts with the format's magic) or, failing the magic,
     * virtiofsd's: a blob that is neither is refused, saying what each reading found.
     */
    @Override
    public PreparedState prepareLoad(InputStream in) throws IOException, DeviceException {
        migrating = true; // a destination gets no LOG_ALL: the state's arrival is its migration
        boolean prepared = false;
        try {
            MigratableFileSystem fs = migratable();
            PushbackInputStream p = new PushbackInputStream(in, StateReader.MAGIC_LENGTH);
            byte[] head = p.readNBytes(StateReader.MAGIC_LENGTH);
            p.unread(head);
            PreparedState state = StateReader.hasMagic(head) ? prepareJvhost(fs, p) : prepareVirtiofsd(fs, p);
            prepared = true;
            return state;
        } finally {
            if (!prepared) migrating = false; // refused: nothing of it is left to wait for
        }
    }

    private PreparedState prepareJvhost(MigratableFileSystem fs, InputStream in) throws IOException, DeviceException {
        LoadedState loaded = stateReader(fs::registerLoaders).build().readAll(in);
        Optional<InitReply> session = session(loaded);
        if (session.isPresent() && session.get().major() != FuseServer.MAJOR) {
            throw new DeviceException(
                    "the source's FUSE session has major " + session.get().major());
        }
        try {
            return prepared(session.orElse(null), fs.prepare(loaded));
        } catch (FsException e) {
            throw new DeviceException("cannot restore the file system: " + e.getMessage(), e);
        }
    }

    /**
     * A reader of this device's blob in jvhost's format: the "fuse" section, then the sections
     * {@code fsSections} registers (a file system's {@code registerLoaders}); also what a tool
     * uses to look into a blob without a device.
     */
    public static StateReader.Builder stateReader(Consumer<StateReader.Builder> fsSections) {
        StateReader.Builder reader = StateReader.forDevice(STATE_TYPE);
        reader.section(FUSE_SECTION, 1, (v, s) -> {
            if (!s.bool()) return Optional.empty();
            return Optional.of(new InitReply(
                    (int) s.u32(),
                    (int) s.u32(),
                    (int) s.u32(),
                    (int) s.u32(),
                    s.u64(),
                    (int) s.u32(),
                    (int) s.u32(),
                    (int) s.u32(),
                    (int) s.u32(),
                    (int) s.u32()));
        });
        fsSections.accept(reader);
        return reader;
    }

    /** The FUSE session a blob read with {@link #stateReader} carries, if the source had one. */
    @SuppressWarnings("unchecked")
    public static Optional<InitReply> session(LoadedState loaded) {
        return loaded.get(FUSE_SECTION, Optional.class);
    }

    private PreparedState prepareVirtiofsd(MigratableFileSystem fs, InputStream in)
            throws IOException, DeviceException {
        VirtiofsdState state;
        try {
            state = VirtiofsdStateCodec.read(in);
        } catch (VirtiofsdFormatException e) {
            throw new DeviceException("not a device state: neither jvhost's (no " + StateReader.MAGIC_LENGTH
                    + "-byte magic) nor virtiofsd's (" + e.getMessage() + ")");
        }
        // Before the guest's INIT virtiofsd has no inodes, and the guest no session to resume.
        InitReply session = state.inodes().isEmpty()
                ? null
                : VirtiofsdSession.derive(state.negotiatedOpts(), fs.supportedInitFlags());
        try {
            return prepared(session, fs.prepare(state, session == null ? 0 : session.flags()));
        } catch (FsException e) {
            throw new DeviceException("cannot restore the file system from virtiofsd's state: " + e.getMessage(), e);
        }
    }

    private PreparedState prepared(InitReply session, MigratableFileSystem.Prepared prepared) {
        return new PreparedState() {
            @Override
            public void commit() {
                server.restoreSession(session);
                prepared.commit();
                migrating = false;
            }

            @Override
            public void discard() {
                prepared.discard();
                migrating = false;
            }
        };
    }

    /** Set by the front-end's migration (see {@link #migrating}); read by a warm-up's thread. */
    private volatile boolean migrating;

    /** Nodes the state-path warm-up looks up, at most: enough for the JIT, few enough to cost no fd limit. */
    static final int WARM_UP_NODES = 1024;
    /**
     * Regular files among them the warm-up opens read-only (one descriptor each, and one more
     * while a load replaces it): a state's open files are reopened by code of their own.
     */
    static final int WARM_UP_FILES = 256;
    /** The OPEN flags of those files (fcntl.h): nothing but reading. */
    private static final int O_RDONLY = 0;
    /**
     * Save-and-load rounds of the warm-up: the per-node code then runs ~49,000 times. At 16 rounds
     * (~16,000 runs) the JIT log showed the restore's per-node methods still in C1's profiling
     * tier when the first real load came: C2 takes them only after ~15,000 runs in that tier,
     * later still while its queue is long. B's reopen of 15,000 files: 76-101 ms at 16, 54-88 at
     * 48 (docs/virtio-fs.md).
     */
    static final int WARM_UP_ROUNDS = 48;

    /**
     * Runs the save and load code off the request path on real nodes (up to {@link
     * #WARM_UP_NODES} existing entries of the shared directory, looked up as a guest would), so
     * that the first real migration does not run it cold inside the VM's downtime: a fresh
     * destination daemon is the usual one (libvirt starts it for the incoming migration), and
     * cold it reopened a node in ~150 µs instead of ~30. Call on a device that serves no
     * front-end: each load is committed into it, in place of the same nodes, and the lookups are
     * its own.
     * Stops after the round in which {@code giveWay} turns true (a real migration began); returns
     * the rounds run.
     */
    public int warmUpStatePath(BooleanSupplier giveWay) {
        if (!canMigrate()) return 0;
        long started = System.nanoTime();
        WarmUpNodes.Found found = WarmUpNodes.lookUp(server.fileSystem(), WARM_UP_NODES, WARM_UP_FILES);
        int handles = 0;
        for (long file : found.files()) {
            try {
                server.fileSystem().open(RequestContext.ROOT, file, O_RDONLY);
                handles++;
            } catch (FsException e) {
                // not readable to us: the warm-up does without it
            }
        }
        int rounds = 0;
        try {
            for (; rounds < WARM_UP_ROUNDS && !giveWay.getAsBoolean(); rounds++) {
                java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
                captureState().writeTo(out);
                // Committed into this device itself (the same nodes again): the commit's per-node
                // code, inside the downtime too, runs as often as the load's.
                prepareLoad(new PipeSizedReads(new java.io.ByteArrayInputStream(out.toByteArray())))
                        .commit();
            }
        } catch (IOException | DeviceException | RuntimeException e) {
            LOG.debug("state path warm-up: {}", e.toString());
        }
        LOG.debug(
                "state path warm-up: {} rounds of {} nodes and {} open files in {} ms",
                rounds,
                found.nodes() + 1,
                handles,
                (System.nanoTime() - started) / 1_000_000);
        return rounds;
    }

    /**
     * The warm-up's blob handed out a few KiB per read, as a state pipe hands it out, so the
     * parser's refill branches run in the warm-up too: read whole from memory, they never did, and
     * the JIT log showed the first real load deoptimizing the inode reader at its first refill.
     */
    private static final class PipeSizedReads extends java.io.FilterInputStream {
        private static final int MAX_READ = 4096;

        PipeSizedReads(java.io.InputStream in) {
            super(in);
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return super.read(b, off, Math.min(len, MAX_READ));
        }
    }

    private MigratableFileSystem migratable() throws DeviceException {
        if (server.fileSystem() instanceof MigratableFileSystem m) return m;
        throw new DeviceException("this file system keeps no migratable state");
    }
}
