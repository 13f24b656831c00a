package io.jvhost.migration.bench;

import io.jvhost.devices.synthetic.SyntheticContent;
import io.jvhost.devices.synthetic.SyntheticStateDevice;
import io.jvhost.frontend.DeviceStateTransfer;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.migration.DeviceMigration;
import io.jvhost.migration.MigrationReport;
import io.jvhost.migration.SourceConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
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
    /** One kind of transfer, measured {@code times.size()} times; {@code verified} says what was checked. */
    public record Row(String what, long bytes, List<Duration> times, String verified) {
        public Row {
            times = List.copyOf(times);
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
    public record Result(List<Row> rows, MigrationReport largest) {
    }

    private static final long SEED = 2026;
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final PrintStream out;
    private final int packetSize;
    private final int rounds;

    public MigrationBench(PrintStream out, int packetSize, int rounds) {
        if (rounds < 1) throw new IllegalArgumentException("rounds must be at least 1");
        this.out = out;
        this.packetSize = packetSize;
        this.rounds = rounds;
    }

    public Result run(long size, int... channels) throws Exception {
        if (channels.length == 0) throw new IllegalArgumentException("no channel counts");
        out.printf(Locale.ROOT, "state %s (synthetic), packets of %s, %d round(s), median shown, %d CPUs%n",
                StreamBench.human(size), StreamBench.human(packetSize), rounds, Runtime.getRuntime().availableProcessors());
        int expectedCrc = new SyntheticContent(SEED, size).crc32c();
        warmUp(Math.min(size, 32L << 20));
        StreamBench raw = new StreamBench(new PrintStream(OutputStream.nullOutputStream()), packetSize);
        Map<String, List<Duration>> times = new LinkedHashMap<>();
        Map<String, String> verified = new LinkedHashMap<>();
        MigrationReport largest = null;
        try (LocalBackends backends = new LocalBackends(size, SEED)) {
            for (int r = 0; r < rounds; r++) {
                add(times, verified, "raw pipe (nativeio)", raw.rawPipe(size).elapsed(), size + " B");
                add(times, verified, "raw TCP, 1 socket", raw.rawTcp(size).elapsed(), size + " B");
                Timed<String> save = saveAlone(backends, expectedCrc);
                add(times, verified, "vhost-user save A→pipe", save.elapsed(), save.value());
                for (int n : channels) {
                    Timed<MigrationReport> m = migrate(backends, n, size, expectedCrc);
                    add(times, verified, "migration A→B, " + n + " ch", m.elapsed(), "B loaded, CRC, ring");
                    if (n == channels[channels.length - 1] || largest == null) largest = m.value();
                }
            }
        }
        List<Row> rows = new ArrayList<>();
        times.forEach((what, t) -> rows.add(new Row(what, size, t, verified.get(what))));
        print(rows, largest);
        return new Result(rows, largest);
    }

    private record Timed<T>(T value, Duration elapsed) {
    }

    private static void add(Map<String, List<Duration>> times, Map<String, String> verified, String what, Duration d,
            String check) {
        times.computeIfAbsent(what, k -> new ArrayList<>()).add(d);
        verified.put(what, check);
    }

    /** Class loading, JIT and the first sessions on a small state, so the first measured row doesn't pay for them. */
    private void warmUp(long size) throws Exception {
        int crc = new SyntheticContent(SEED, size).crc32c();
        try (LocalBackends warm = new LocalBackends(size, SEED)) {
            saveAlone(warm, crc);
            migrate(warm, 2, size, crc);
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
            MigrationReport report = DeviceMigration.migrate(driver, b, SyntheticStateDevice.STATE_TYPE, config,
                    DeviceMigration.StateFilter.NONE);
            Duration elapsed = Duration.ofNanos(System.nanoTime() - t0);
            SyntheticStateDevice.Held held = backends.b.held();
            if (backends.b.commits() != commits + 1 || held.size() != size || held.seed() != SEED
                    || !held.crc32c().equals(Optional.of(expectedCrc))) {
                throw new IllegalStateException("B holds " + held + " after " + (backends.b.commits() - commits)
                        + " commit(s), expected " + size + " bytes with CRC " + Integer.toHexString(expectedCrc));
            }
            long reported = ByteBuffer.wrap(driver.request(0, List.of(), 16, REQUEST_TIMEOUT))
                    .order(ByteOrder.LITTLE_ENDIAN).getLong(8);
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
        out.printf(Locale.ROOT, "%-26s %9s %9s %9s %8s  %s%n", "transfer", "seconds", "MiB/s", "best", "vs pipe",
                "verified");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%-26s %9.2f %9.1f %9.1f %7.2fx  %s%n", r.what(), r.median().toNanos() / 1e9,
                    r.mibPerSecond(), r.mibPerSecond(r.best()), r.mibPerSecond() / pipe, r.verified());
        }
        out.printf(Locale.ROOT, "phase split of the last migration over %d channel(s):%n", largest.channels());
        largest.format().lines().forEach(l -> out.println("  " + l));
    }
}
