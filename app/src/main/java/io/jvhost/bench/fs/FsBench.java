package io.jvhost.bench.fs;

import io.jvhost.bench.fs.FsBenchResult.Measurement;
import java.io.IOException;
import java.io.PrintStream;
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
 * jvhost's virtio-fs back-end next to virtiofsd in one run: both as child processes, each on
 * its own temp shared directory holding the same {@link Fixtures}, both driven by the same
 * guest-driver model and FUSE client. Per case: an untimed warm-up round on each (the jvhost
 * child's JIT compiles the case's path there, as a long-running daemon's would be), then
 * {@code rounds} timed rounds alternating which back-end goes first; the rate reported is the
 * median round (the machine is shared, single rounds are noisy).
 */
public final class FsBench {
    /**
     * @param perCase   time per case and back-end, split over the rounds
     * @param virtiofsd "auto", a path to virtiofsd or to its unpacked root, or "none"
     * @param poolSize  --thread-pool-size for both back-ends
     * @param depth     requests in flight per case (streams)
     * @param jvmArgs   extra JVM options for the jvhost child (e.g. -XX:StartFlightRecording=...)
     * @param only      run only the cases whose name contains this (case-insensitive); empty: all
     * @param daemonArgs arguments for both back-ends (e.g. --inode-file-handles=never): both do the same work
     * @param sandbox   --sandbox and --seccomp of both back-ends (words they share)
     */
    public record Options(
            Duration perCase,
            String virtiofsd,
            int poolSize,
            int depth,
            int rounds,
            List<String> jvmArgs,
            String only,
            Confinement sandbox,
            List<String> daemonArgs) {
        public Options {
            if (depth < 1 || depth > 64) throw new IllegalArgumentException("depth must be 1..64: " + depth);
            if (rounds < 1) throw new IllegalArgumentException("rounds must be at least 1: " + rounds);
            jvmArgs = List.copyOf(jvmArgs);
            daemonArgs = List.copyOf(daemonArgs);
            only = only == null ? "" : only.toLowerCase(Locale.ROOT);
        }

        /** Both back-ends unconfined, as the benches ran them before the sandbox. */
        public Options(
                Duration perCase,
                String virtiofsd,
                int poolSize,
                int depth,
                int rounds,
                List<String> jvmArgs,
                String only) {
            this(perCase, virtiofsd, poolSize, depth, rounds, jvmArgs, only, Confinement.NONE, List.of());
        }

        List<BenchCase> cases() {
            return BenchCase.all().stream()
                    .filter(c -> c.name().toLowerCase(Locale.ROOT).contains(only))
                    .toList();
        }
    }

    private static final Duration WARM_UP_PER_CASE = Duration.ofMillis(500);

    private final Options options;
    private final PrintStream out;
    private String conditions = "";

    public FsBench(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    /** What the last {@link #run()} measured under (back-ends, pool, depth, rounds, CPUs): the table's caption. */
    public String conditions() {
        return conditions;
    }

    /** Runs every case; prints the table as it goes and returns the results. */
    public List<FsBenchResult> run() throws IOException {
        Path work = Files.createTempDirectory("jvhost-bench-fs");
        List<Target> targets = new ArrayList<>();
        boolean ok = false;
        try {
            targets.add(start(
                    BackendProcess.jvhost(
                            work, options.poolSize(), options.jvmArgs(), options.sandbox(), options.daemonArgs()),
                    work));
            Optional<List<String>> vfsd =
                    "none".equals(options.virtiofsd()) ? Optional.empty() : VirtiofsdLocator.find(options.virtiofsd());
            if (vfsd.isPresent()) {
                targets.add(start(
                        BackendProcess.virtiofsd(
                                work, vfsd.get(), options.poolSize(), options.sandbox(), options.daemonArgs()),
                        work));
            } else {
                out.println("virtiofsd not found (" + options.virtiofsd() + "): measuring jvhost alone");
            }
            conditions = String.format(
                    Locale.ROOT,
                    "jvhost fs and %s as child processes, --thread-pool-size %d, %s %s, %d requests in flight, "
                            + "%d rounds of %d ms per case, median; %d CPUs",
                    targets.size() > 1 ? "virtiofsd" : "no virtiofsd",
                    options.poolSize(),
                    String.join(" ", options.sandbox().args()),
                    String.join(" ", options.daemonArgs()),
                    options.depth(),
                    options.rounds(),
                    perRound().toMillis(),
                    Runtime.getRuntime().availableProcessors());
            out.println(conditions);
            warmUp(targets);
            List<FsBenchResult> results = new ArrayList<>();
            out.println(FsBenchTable.header());
            for (BenchCase c : options.cases()) {
                FsBenchResult r;
                try {
                    r = measure(c, targets);
                } catch (IOException e) {
                    throw new IOException(c.name() + ": " + e.getMessage(), e);
                }
                results.add(r);
                out.println(FsBenchTable.row(r));
            }
            ok = true;
            return results;
        } finally {
            for (Target t : targets) t.close();
            if (ok) deleteTree(work);
            else out.println("bench-fs: back-end logs kept in " + work);
        }
    }

    private Target start(BackendProcess p, Path work) throws IOException {
        try {
            Fixtures.create(p.sharedDir());
            return Target.connect(p, options.depth());
        } catch (IOException | RuntimeException e) {
            p.close();
            throw new IOException("starting " + p.name() + " (log: " + p.log() + "): " + e.getMessage(), e);
        }
    }

    /**
     * Every case once, briefly, on every back-end before anything is timed: the jvhost child's
     * JIT compiles the request path the cases share (decoding, replies, the ring) here rather
     * than during the first case.
     */
    private void warmUp(List<Target> targets) throws IOException {
        long nanos = Math.min(WARM_UP_PER_CASE.toNanos(), perRound().toNanos());
        for (BenchCase c : options.cases()) {
            for (Target t : targets) Pipeline.run(c.factory().create(t, options.depth()), options.depth(), nanos);
        }
    }

    private Duration perRound() {
        return options.perCase().dividedBy(options.rounds());
    }

    private FsBenchResult measure(BenchCase c, List<Target> targets) throws IOException {
        int n = targets.size();
        Workload[] w = new Workload[n];
        long[] units = new long[n];
        double[][] rates = new double[n][options.rounds()];
        long warm = perRound().toNanos();
        for (int i = 0; i < n; i++) {
            w[i] = c.factory().create(targets.get(i), options.depth());
            units[i] += Pipeline.run(w[i], options.depth(), warm).units();
        }
        for (int round = 0; round < options.rounds(); round++) {
            for (int k = 0; k < n; k++) {
                int i = (round + k) % n; // alternate who goes first
                Pipeline.Run r = Pipeline.run(w[i], options.depth(), perRound().toNanos());
                units[i] += r.units();
                rates[i][round] = r.units() / c.unitsPerShown() / (r.nanos() / 1e9);
            }
        }
        Measurement[] m = new Measurement[n];
        for (int i = 0; i < n; i++) {
            w[i].verifyAfter();
            m[i] = new Measurement(
                    median(rates[i]),
                    Arrays.stream(rates[i]).boxed().toList(),
                    units[i],
                    w[i].verifiedUnits(),
                    options.rounds());
        }
        return new FsBenchResult(c.name(), c.unit(), m[0], n > 1 ? Optional.of(m[1]) : Optional.empty());
    }

    static double median(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    static void deleteTree(Path root) {
        try (Stream<Path> all = Files.walk(root)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp directory left behind is harmless
        }
    }
}
