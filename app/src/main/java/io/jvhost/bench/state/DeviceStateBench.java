package io.jvhost.bench.state;

import io.jvhost.bench.fs.BackendProcess;
import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.migration.MigrationReport;
import io.jvhost.migration.device.DeviceMigration;
import io.jvhost.protocol.VirtioFeatures;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A virtio-fs back-end's device state at a given size, moved through real back-ends: for each
 * size, jvhost's and virtiofsd's daemons (child processes, A and B on one shared directory) get the
 * same guest-driver model looking up N files and opening M of them on A; then
 * {@link DeviceMigration} moves A's state to B over one channel, and the driver reads through one of
 * A's handles on B. The back-ends take turns round by round; the table shows medians of the
 * downtime and its phases, the spread of the downtime, and jvhost's downtime over virtiofsd's.
 * Not a test: numbers depend on the machine.
 */
public final class DeviceStateBench {
    /**
     * What to measure: sizes (files looked up), handles opened per size, rounds, the virtiofsd
     * command (or none); {@code announce}: how long before the save the source learns of the
     * migration (dirty log and LOG_ALL, as QEMU sets them when its RAM copy starts; zero: not at all);
     * {@code sourceUptime}: how long A has run, at least, when the migration is announced (a
     * source's VM has run a while); {@code destinationLead}: how long before the announce B starts
     * (libvirt starts a destination's back-end and QEMU, then the source's RAM copy begins: 0.6-1.1
     * s between them in LibvirtLiveMigrationTest's logs, and 0.8-1.8 s of RAM copy followed);
     * {@code keepLogs}: keep the daemons' logs after a run that succeeded too (they hold each
     * migration's timeline when the daemons log at info).
     */
    public record Options(
            List<Integer> files,
            double handlesPerFile,
            int rounds,
            Optional<List<String>> virtiofsd,
            List<String> jvhostArgs,
            List<String> virtiofsdArgs,
            Duration announce,
            Duration sourceUptime,
            Duration destinationLead,
            boolean keepLogs) {
        public Options {
            if (announce.isNegative()) throw new IllegalArgumentException("--announce: not negative");
            if (sourceUptime.isNegative()) throw new IllegalArgumentException("--source-uptime: not negative");
            if (destinationLead.isNegative()) throw new IllegalArgumentException("--destination-lead: not negative");
            files = List.copyOf(files);
            if (files.isEmpty() || files.stream().anyMatch(n -> n < 1)) throw new IllegalArgumentException("--files");
            if (handlesPerFile < 0 || handlesPerFile > 1) throw new IllegalArgumentException("--handles: 0..1");
            if (rounds < 1) throw new IllegalArgumentException("--rounds: at least 1");
            jvhostArgs = List.copyOf(jvhostArgs);
            virtiofsdArgs = List.copyOf(virtiofsdArgs);
        }
    }

    /** One back-end at one size: each round's report, in order. */
    public record Row(String backend, int files, int handles, List<MigrationReport> rounds) {
        public Row {
            rounds = List.copyOf(rounds);
        }

        public Duration median(java.util.function.Function<MigrationReport, Duration> phase) {
            List<Duration> s = rounds.stream().map(phase).sorted().toList();
            return s.get(s.size() / 2);
        }

        public Duration min() {
            return rounds.stream()
                    .map(MigrationReport::downtime)
                    .min(Comparator.naturalOrder())
                    .orElseThrow();
        }

        public Duration max() {
            return rounds.stream()
                    .map(MigrationReport::downtime)
                    .max(Comparator.naturalOrder())
                    .orElseThrow();
        }

        public long stateBytes() {
            return rounds.getLast().stateBytes();
        }
    }

    private static final Duration T = Duration.ofSeconds(60);
    private static final int FILES_PER_DIRECTORY = 1000;
    private static final byte[] CONTENT = "state bench\n".getBytes(StandardCharsets.UTF_8);

    private final Options options;
    private final PrintStream out;

    public DeviceStateBench(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    public List<Row> run() throws IOException {
        Path work = Files.createTempDirectory("jvhost-bench-state");
        boolean ok = false;
        try {
            out.printf(
                    Locale.ROOT,
                    "device state of a virtio-fs back-end (A -> B, 1 channel, through jvhost's front-end), "
                            + "%d round(s), median shown, %d CPUs, A up %d ms or more, B started %d ms before the announce, %s%n",
                    options.rounds(),
                    Runtime.getRuntime().availableProcessors(),
                    options.sourceUptime().toMillis(),
                    options.destinationLead().toMillis(),
                    options.announce().isPositive()
                            ? "LOG_ALL set " + options.announce().toMillis() + " ms before the save"
                            : "no LOG_ALL (the save unannounced)");
            out.println(header());
            List<Row> rows = new ArrayList<>();
            for (int n : options.files()) {
                Path shared = populate(work.resolve("shared-" + n), n);
                int handles = (int) Math.round(n * options.handlesPerFile());
                List<List<MigrationReport>> reports = new ArrayList<>(List.of(new ArrayList<>(), new ArrayList<>()));
                List<String> names =
                        options.virtiofsd().isPresent() ? List.of("jvhost", "virtiofsd") : List.of("jvhost");
                for (int round = 0; round < options.rounds(); round++) {
                    for (int k = 0; k < names.size(); k++) {
                        int i = (round + k) % names.size(); // alternate who goes first
                        reports.get(i).add(once(work, names.get(i), shared, n, handles, round));
                    }
                }
                Row j = new Row("jvhost", n, handles, reports.get(0));
                rows.add(j);
                Optional<Row> v = names.size() > 1
                        ? Optional.of(new Row("virtiofsd", n, handles, reports.get(1)))
                        : Optional.empty();
                v.ifPresent(rows::add);
                out.println(row(j, v));
                v.ifPresent(x -> out.println(row(x, Optional.empty())));
            }
            ok = true;
            return rows;
        } finally {
            if (ok && !options.keepLogs()) deleteTree(work);
            else out.println("bench-device-state: logs kept in " + work);
        }
    }

    /** The table of {@code rows} as {@link #run()} prints it: each jvhost row against the virtiofsd row after it. */
    public static String table(List<Row> rows) {
        StringBuilder t = new StringBuilder(header()).append('\n');
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            Optional<Row> next = i + 1 < rows.size()
                            && rows.get(i + 1).files() == r.files()
                            && r.backend().equals("jvhost")
                    ? Optional.of(rows.get(i + 1))
                    : Optional.empty();
            t.append(row(r, next)).append('\n');
        }
        return t.toString();
    }

    static String header() {
        return "| files | handles | back-end | downtime ms (min–max) | suspend ms | save ms | load ms | CHECK on B ms"
                + " | resume ms | state bytes | jvhost/virtiofsd |\n"
                + "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|";
    }

    static String row(Row r, Optional<Row> reference) {
        return String.format(
                Locale.ROOT,
                "| %d | %d | %s | %s (%s–%s) | %s | %s | %s | %s | %s | %d | %s |",
                r.files(),
                r.handles(),
                r.backend(),
                ms(r.median(MigrationReport::downtime)),
                ms(r.min()),
                ms(r.max()),
                ms(r.median(MigrationReport::suspend)),
                ms(r.median(MigrationReport::save)),
                ms(r.median(m -> m.load().orElse(Duration.ZERO))),
                ms(r.median(m -> m.checkDestination().orElse(Duration.ZERO))),
                ms(r.median(MigrationReport::resume)),
                r.stateBytes(),
                reference
                        .map(v -> String.format(
                                Locale.ROOT,
                                "%.2f",
                                r.median(MigrationReport::downtime).toNanos()
                                        / (double) Math.max(
                                                1,
                                                v.median(MigrationReport::downtime)
                                                        .toNanos())))
                        .orElse("-"));
    }

    private static String ms(Duration d) {
        return String.format(Locale.ROOT, "%.1f", d.toNanos() / 1e6);
    }

    /** One migration: fresh A and B of {@code backend}, N lookups and M opens on A, A's state to B, a read on B. */
    private MigrationReport once(Path work, String backend, Path shared, int files, int handles, int round)
            throws IOException {
        Path dir = Files.createDirectories(work.resolve(backend + "-" + files + "-" + round));
        long aStarted = System.nanoTime();
        try (BackendProcess a = start(dir, backend, "a", shared)) {
            BackendProcess b = null;
            try (GuestDriver d = GuestDriver.connect(a.socket(), GuestDriver.Options.defaults(2))) {
                FuseClient fuse = new FuseClient(d, T);
                fuse.init();
                List<FuseClient.OpenFile> open = new ArrayList<>();
                int dirs = (files + FILES_PER_DIRECTORY - 1) / FILES_PER_DIRECTORY;
                for (int k = 0, seen = 0; k < dirs; k++) {
                    long dirNode = fuse.lookup(FuseClient.ROOT_ID, "d" + k);
                    for (int f = 0; f < FILES_PER_DIRECTORY && seen < files; f++, seen++) {
                        long node = fuse.lookup(dirNode, "f" + f);
                        if (open.size() < handles) open.add(fuse.open(node));
                    }
                }
                sleep(options.sourceUptime().minus(options.destinationLead()).minusNanos(System.nanoTime() - aStarted));
                long bStarted = System.nanoTime();
                b = start(dir, backend, "b", shared);
                sleep(options.destinationLead().minusNanos(System.nanoTime() - bStarted));
                if (options.announce().isPositive()) announce(d);
                FrontendClient toB = FrontendClient.connect(b.socket());
                GuestDriver.connectDevice(toB, 2);
                MigrationReport report = DeviceMigration.migrate(
                        d, toB, "virtio-fs", DeviceMigration.sourceConfig(1), DeviceMigration.StateFilter.NONE);
                if (!open.isEmpty()) {
                    byte[] read = fuse.read(open.getLast(), 0, CONTENT.length);
                    if (!Arrays.equals(CONTENT, read)) {
                        throw new IOException(backend + ": a handle opened on A reads wrong on B");
                    }
                }
                return report;
            } catch (IOException | RuntimeException e) {
                throw new IOException(
                        backend + " (logs " + a.log() + (b == null ? "" : ", " + b.log()) + "): " + e.getMessage(), e);
            } finally {
                if (b != null) b.close();
            }
        }
    }

    /** Bytes of dirty log QEMU would map for 8 GiB of guest RAM (one bit per 4 KiB page), as GuestDriver's RAM lies below. */
    private static final long LOG_SIZE = 256 << 10;

    /**
     * As QEMU when a live migration starts: a dirty log and LOG_ALL (back-ends that prepare their
     * state start here, virtiofsd and jvhost alike), then the time its RAM copy would take.
     */
    private void announce(GuestDriver d) throws IOException {
        try (io.jvhost.nativeio.Fd log =
                io.jvhost.nativeio.Libc.memfdCreate("jvhost-bench-dirty-log", io.jvhost.nativeio.Libc.MFD_CLOEXEC)) {
            io.jvhost.nativeio.Libc.ftruncate(log, LOG_SIZE);
            d.client().setLogBase(LOG_SIZE, 0, log); // the back-end maps its own copy
        }
        d.client().setFeatures(d.features() | VirtioFeatures.mask(VirtioFeatures.LOG_ALL));
        sleep(options.announce());
    }

    private static void sleep(Duration d) throws IOException {
        if (!d.isPositive()) return;
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private BackendProcess start(Path dir, String backend, String side, Path shared) throws IOException {
        return switch (backend) {
            case "jvhost" -> BackendProcess.jvhostOn(dir, side, shared, options.jvhostArgs());
            case "virtiofsd" ->
                BackendProcess.virtiofsdOn(
                        dir, side, shared, options.virtiofsd().orElseThrow(), options.virtiofsdArgs());
            default -> throw new IllegalArgumentException(backend);
        };
    }

    /** N small files in directories of a thousand. */
    private static Path populate(Path shared, int files) throws IOException {
        Files.createDirectories(shared);
        for (int i = 0; i < files; i++) {
            Path d = Files.createDirectories(shared.resolve("d" + i / FILES_PER_DIRECTORY));
            Files.write(d.resolve("f" + i % FILES_PER_DIRECTORY), CONTENT);
        }
        return shared;
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> all = Files.walk(root)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp directory left behind is harmless
        }
    }
}
