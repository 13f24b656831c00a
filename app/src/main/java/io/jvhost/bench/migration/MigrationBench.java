package io.jvhost.bench.migration;

import io.jvhost.backend.DeviceStateOptions;
import io.jvhost.devices.synthetic.SyntheticContent;
import io.jvhost.devices.synthetic.SyntheticStateDevice;
import io.jvhost.frontend.DeviceStateTransfer;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.migration.MigrationReport;
import io.jvhost.migration.SourceConfig;
import io.jvhost.migration.device.DeviceMigration;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Device-state throughput through real vhost-user back-ends, next to the raw transports, in one
 * run: a raw pipe and one raw loopback TCP socket moving the same number of bytes, a save alone
 * (back-end A → SET_DEVICE_STATE_FD pipe → front-end, discarded; CHECK), and a full
 * {@link DeviceMigration} from A to B over 1..N state channels. The state is a
 * {@link SyntheticStateDevice} of the given size, generated and verified on the fly, so nothing
 * holds it. Every transfer is verified (byte counts, CHECK, B's content CRC32C, a request served
 * by B afterwards); a failed verification throws. Rounds are interleaved so drift on a shared
 * machine spreads over all rows; the table shows the median. Not a test: numbers depend on the machine.
 */
public final class MigrationBench {
    /**
     * One kind of transfer, measured {@code times.size()} times; {@code cpu} is the CPU time this
     * process used meanwhile (every thread of both sides is in it), {@code verified} what was checked.
     */
    public record Row(
            String what,
            long bytes,
            List<Duration> times,
            List<Duration> cpu,
            Map<String, List<Duration>> parts,
            String verified) {
        public Row {
            times = List.copyOf(times);
            cpu = List.copyOf(cpu);
            Map<String, List<Duration>> p = new LinkedHashMap<>();
            parts.forEach((k, v) -> p.put(k, List.copyOf(v)));
            parts = java.util.Collections.unmodifiableMap(p);
        }

        public Row(String what, long bytes, List<Duration> times, List<Duration> cpu, String verified) {
            this(what, bytes, times, cpu, Map.of(), verified);
        }

        /** Median CPU seconds per GiB moved: steadier than wall time on a machine shared with others. */
        public double cpuSecondsPerGib() {
            return perGib(cpu);
        }

        /**
         * Median CPU seconds per GiB of each part of the transfer (A's save, each front-end, B's
         * load, see {@link ThreadCpu}): what each process of a real deployment would use.
         */
        public Map<String, Double> cpuSecondsPerGibByPart() {
            Map<String, Double> m = new LinkedHashMap<>();
            parts.forEach((k, v) -> m.put(k, perGib(v)));
            return m;
        }

        private double perGib(List<Duration> d) {
            List<Duration> s = d.stream().sorted().toList();
            return s.get(s.size() / 2).toNanos() / 1e9 / (bytes / (double) (1L << 30));
        }

        public Duration median() {
            List<Duration> s = times.stream().sorted().toList();
            return s.get(s.size() / 2);
        }

        public Duration best() {
            return times.stream().min(Duration::compareTo).orElseThrow();
        }

        public double mibPerSecond() {
            return mibPerSecond(median());
        }

        double mibPerSecond(Duration d) {
            return bytes / (1024.0 * 1024.0) / Math.max(1e-9, d.toNanos() / 1e9);
        }
    }

    /** The rows in printed order, and the phase split of the last migration with the most channels. */
    public record Result(List<Row> rows, MigrationReport largest) {}

    private static final long SEED = 2026;
    /**
     * Back-ends that answer SET_DEVICE_STATE_FD with a pipe of their own, which a save fills with
     * vmsplice (the pipe references A's pages; the front-end's read is the only copy).
     */
    private static final DeviceStateOptions OWN_CHANNEL =
            DeviceStateOptions.defaults().withBackendChannel(true);

    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final PrintStream out;
    private final int packetSize;
    private final int rounds;
    private String conditions = "";

    public MigrationBench(PrintStream out, int packetSize, int rounds) {
        if (rounds < 1) throw new IllegalArgumentException("rounds must be at least 1");
        this.out = out;
        this.packetSize = packetSize;
        this.rounds = rounds;
    }

    /** What the last {@link #run} measured under (size, packets, rounds, CPUs): the table's caption. */
    public String conditions() {
        return conditions;
    }

    public Result run(long size, int... channels) throws Exception {
        if (channels.length == 0) throw new IllegalArgumentException("no channel counts");
        conditions = String.format(
                Locale.ROOT,
                "state %s (synthetic), packets of %s, %d round(s), median shown, %d CPUs",
                StreamBench.human(size),
                StreamBench.human(packetSize),
                rounds,
                Runtime.getRuntime().availableProcessors());
        out.println(conditions);
        int expectedCrc = new SyntheticContent(SEED, size).crc32c();
        warmUp(Math.min(size, 256L << 20), channels);
        StreamBench raw = new StreamBench(new PrintStream(OutputStream.nullOutputStream()), packetSize);
        Measurements m = new Measurements();
        MigrationReport largest = null;
        try (LocalBackends backends = new LocalBackends(size, SEED);
                LocalBackends own = new LocalBackends(size, SEED, OWN_CHANNEL);
                ThreadCpu threads = new ThreadCpu()) {
            for (int r = 0; r < rounds; r++) {
                Mark c = Mark.now(threads);
                Duration pipe = raw.rawPipe(size).elapsed();
                c = m.add("raw pipe (nativeio)", pipe, c, threads, size + " B");
                Duration tcp = raw.rawTcp(size).elapsed();
                c = m.add("raw TCP, 1 socket", tcp, c, threads, size + " B");
                Timed<String> save = saveAlone(backends, expectedCrc);
                c = m.add("vhost-user save A→pipe", save.elapsed(), c, threads, save.value());
                Timed<String> spliced = saveAlone(own, expectedCrc);
                c = m.add("save A→A's pipe (vmsplice)", spliced.elapsed(), c, threads, spliced.value());
                for (int n : channels) {
                    Timed<MigrationReport> t = migrate(backends, n, size, expectedCrc);
                    c = m.add("migration A→B, " + n + " ch", t.elapsed(), c, threads, "B loaded, CRC, ring");
                    if (n == channels[channels.length - 1] || largest == null) largest = t.value();
                }
                Timed<MigrationReport> t = migrate(own, channels[0], size, expectedCrc);
                c = m.add(
                        "migration A→B, " + channels[0] + " ch, own pipes",
                        t.elapsed(),
                        c,
                        threads,
                        "B loaded, CRC, ring");
            }
        }
        List<Row> rows = new ArrayList<>();
        m.times.forEach((what, t) ->
                rows.add(new Row(what, size, t, m.cpu.get(what), m.parts.get(what), m.verified.get(what))));
        print(rows, largest);
        return new Result(rows, largest);
    }

    private record Timed<T>(T value, Duration elapsed) {}

    /** The process's CPU clock and each part's (see {@link ThreadCpu}) at one moment. */
    private record Mark(long process, Map<String, Long> parts) {
        static Mark now(ThreadCpu threads) {
            return new Mark(cpuNanos(), threads.sample());
        }
    }

    /** Each row's rounds, in the order the rows were first measured. */
    private static final class Measurements {
        final Map<String, List<Duration>> times = new LinkedHashMap<>();
        final Map<String, List<Duration>> cpu = new LinkedHashMap<>();
        final Map<String, Map<String, List<Duration>>> parts = new LinkedHashMap<>();
        final Map<String, String> verified = new LinkedHashMap<>();

        /** Records one measurement; returns the clocks now, the start of the next one. */
        Mark add(String what, Duration d, Mark start, ThreadCpu threads, String check) {
            Mark now = Mark.now(threads);
            times.computeIfAbsent(what, k -> new ArrayList<>()).add(d);
            cpu.computeIfAbsent(what, k -> new ArrayList<>()).add(Duration.ofNanos(now.process() - start.process()));
            Map<String, List<Duration>> byPart = parts.computeIfAbsent(what, k -> new LinkedHashMap<>());
            ThreadCpu.between(start.parts(), now.parts())
                    .forEach((part, ns) ->
                            byPart.computeIfAbsent(part, k -> new ArrayList<>()).add(Duration.ofNanos(ns)));
            verified.put(what, check);
            return now;
        }
    }

    /** CPU time of the whole process (all threads, user and system); includes the rows' set-up and checks. */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /**
     * Class loading, JIT and the first sessions, every transfer once on a state large enough that
     * the JIT has compiled the per-packet paths (C2 compiling during a measured row took a core).
     */
    private void warmUp(long size, int... channels) throws Exception {
        int crc = new SyntheticContent(SEED, size).crc32c();
        StreamBench raw = new StreamBench(new PrintStream(OutputStream.nullOutputStream()), packetSize);
        raw.rawPipe(size);
        raw.rawTcp(size);
        try (LocalBackends warm = new LocalBackends(size, SEED);
                LocalBackends own = new LocalBackends(size, SEED, OWN_CHANNEL)) {
            saveAlone(warm, crc);
            saveAlone(own, crc);
            for (int n : channels) migrate(warm, n, size, crc);
            migrate(own, channels[0], size, crc);
        }
    }

    /** SET_DEVICE_STATE_FD(save) on A, every byte read by the front-end and dropped, then CHECK. */
    private static Timed<String> saveAlone(LocalBackends backends, int expectedCrc) throws IOException {
        try (FrontendClient client = backends.connectA()) {
            DeviceMigration.openStateSession(client, LocalBackends.QUEUES);
            DeviceStateTransfer transfer = new DeviceStateTransfer(client, DeviceMigration.STATE_IDLE_TIMEOUT);
            long t0 = System.nanoTime();
            long bytes;
            try (InputStream in = transfer.openSave()) {
                bytes = drain(in);
            }
            transfer.check();
            Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
            SyntheticStateDevice.Saved saved = backends.a.lastSave().orElseThrow();
            if (saved.blobBytes() != bytes || saved.crc32c() != expectedCrc) {
                throw new IllegalStateException("save read " + bytes + " bytes, A wrote " + saved.blobBytes()
                        + " with content CRC " + Integer.toHexString(saved.crc32c()) + ", expected "
                        + Integer.toHexString(expectedCrc));
            }
            return new Timed<>("CHECK, " + bytes + " B", elapsed);
        }
    }

    /**
     * A with running rings → B over {@code channels} state channels; then B must hold A's content
     * (its CRC32C computed while loading equals the generator's), and serve the driver's next request.
     */
    private Timed<MigrationReport> migrate(LocalBackends backends, int channels, long size, int expectedCrc)
            throws Exception {
        int commits = backends.b.commits();
        try (GuestDriver driver = backends.driverOnA()) {
            FrontendClient b = backends.destinationOnB();
            SourceConfig config = DeviceMigration.sourceConfig(channels).withPacketSize(packetSize);
            long t0 = System.nanoTime();
            MigrationReport report = DeviceMigration.migrate(
                    driver, b, SyntheticStateDevice.STATE_TYPE, config, DeviceMigration.StateFilter.NONE);
            Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
            SyntheticStateDevice.Held held = backends.b.held();
            if (backends.b.commits() != commits + 1
                    || held.size() != size
                    || held.seed() != SEED
                    || !held.crc32c().equals(Optional.of(expectedCrc))) {
                throw new IllegalStateException("B holds " + held + " after " + (backends.b.commits() - commits)
                        + " commit(s), expected " + size + " bytes with CRC " + Integer.toHexString(expectedCrc));
            }
            long reported = ByteBuffer.wrap(driver.request(0, List.of(), 16, REQUEST_TIMEOUT))
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .getLong(8);
            if (reported != size) throw new IllegalStateException("B answered a request with size " + reported);
            return new Timed<>(report, elapsed);
        }
    }

    private static long drain(InputStream in) throws IOException {
        byte[] buf = new byte[1 << 20];
        long total = 0;
        int n;
        while ((n = in.read(buf, 0, buf.length)) > 0) total += n;
        return total;
    }

    private void print(List<Row> rows, MigrationReport largest) {
        double pipe = rows.getFirst().mibPerSecond();
        out.printf(
                Locale.ROOT,
                "%-26s %8s %8s %8s %8s %10s  %s%n",
                "transfer",
                "seconds",
                "MiB/s",
                "best",
                "vs pipe",
                "CPU s/GiB",
                "verified");
        for (Row r : rows) {
            out.printf(
                    Locale.ROOT,
                    "%-26s %8.2f %8.1f %8.1f %7.2fx %10.2f  %s%n",
                    r.what(),
                    r.median().toNanos() / 1e9,
                    r.mibPerSecond(),
                    r.mibPerSecond(r.best()),
                    r.mibPerSecond() / pipe,
                    r.cpuSecondsPerGib(),
                    r.verified());
        }
        out.println("CPU seconds per GiB by part (median of the rounds):");
        out.print(MigrationBenchReport.partsTable(rows));
        out.printf(Locale.ROOT, "phase split of the last migration over %d channel(s):%n", largest.channels());
        largest.format().lines().forEach(l -> out.println("  " + l));
    }
}
