package io.jvhost.cli;

import io.jvhost.bench.fs.Confinement;
import io.jvhost.bench.fs.FsBench;
import io.jvhost.bench.fs.FsBenchReport;
import io.jvhost.bench.fs.FsBenchResult;
import io.jvhost.devices.fs.passthrough.InodeFileHandles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jvhost bench-fs}: jvhost's virtio-fs back-end next to virtiofsd, same workload, one run. */
@Command(
        name = "bench-fs",
        mixinStandardHelpOptions = true,
        description = "Measure jvhost's virtio-fs back-end next to virtiofsd (GETATTR, LOOKUP, CREATE, "
                + "sequential READ/WRITE, READDIRPLUS), both driven without a VM; prints rates and ratios.")
final class BenchFsCommand implements Callable<Integer> {
    @Option(
            names = "--seconds-per-case",
            paramLabel = "S",
            defaultValue = "3",
            description = "Timed seconds per case and back-end, split over the rounds (default: ${DEFAULT-VALUE}).")
    double secondsPerCase;

    @Option(
            names = "--virtiofsd",
            paramLabel = "PATH",
            defaultValue = "auto",
            description = "virtiofsd binary or unpacked root; auto finds the test dependencies' one; none skips it "
                    + "(default: ${DEFAULT-VALUE}).")
    String virtiofsd;

    @Option(
            names = "--thread-pool-size",
            paramLabel = "N",
            defaultValue = "0",
            description = "--thread-pool-size of both back-ends (default: ${DEFAULT-VALUE}, both daemons' default).")
    int threadPoolSize;

    @Option(
            names = "--inode-file-handles",
            paramLabel = "MODE",
            defaultValue = "prefer",
            converter = Spelled.InodeHandles.class,
            completionCandidates = Spelled.InodeHandles.class,
            description = "How both back-ends keep inodes, so both do the same work: ${COMPLETION-CANDIDATES} "
                    + "(default: ${DEFAULT-VALUE}, jvhost's default and virtiofsd's from 1.13.3; "
                    + "virtiofsd 1.13.2 defaults to never).")
    InodeFileHandles inodeFileHandles;

    @Option(
            names = "--depth",
            paramLabel = "N",
            defaultValue = "16",
            description = "Requests in flight (default: ${DEFAULT-VALUE}).")
    int depth;

    @Option(
            names = "--rounds",
            paramLabel = "N",
            defaultValue = "3",
            description =
                    "Timed rounds per case, alternating the back-ends; the median is shown (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(
            names = "--only",
            paramLabel = "TEXT",
            defaultValue = "",
            description = "Run only the cases whose name contains TEXT, e.g. READ or CREATE (default: all).")
    String only;

    @Option(
            names = "--jvhost-jvm-arg",
            paramLabel = "ARG",
            description =
                    "Extra JVM option for the jvhost child, repeatable (e.g. -XX:StartFlightRecording=filename=fs.jfr).")
    List<String> jvmArgs = new ArrayList<>();

    @Option(
            names = "--sandbox",
            paramLabel = "MODE",
            defaultValue = "none",
            description = "--sandbox of both back-ends: namespace, chroot, none (default: ${DEFAULT-VALUE}).")
    String sandbox;

    @Option(
            names = "--seccomp",
            paramLabel = "ACTION",
            defaultValue = "none",
            description = "--seccomp of both back-ends: kill, log, trap, none (default: ${DEFAULT-VALUE}).")
    String seccomp;

    @Option(
            names = "--output",
            paramLabel = "DIR",
            description = "Also write the table (bench-fs-pool<N>.md) and a plot of the ratios (bench-fs-pool<N>.png) "
                    + "into DIR, e.g. docs/bench.")
    Path output;

    @Override
    public Integer call() throws Exception {
        if (secondsPerCase <= 0) throw new IllegalArgumentException("--seconds-per-case must be positive");
        Duration perCase = Duration.ofNanos((long) (secondsPerCase * 1e9));
        FsBench bench = new FsBench(
                new FsBench.Options(
                        perCase,
                        virtiofsd,
                        threadPoolSize,
                        depth,
                        rounds,
                        jvmArgs,
                        only,
                        new Confinement(sandbox, seccomp),
                        List.of("--inode-file-handles=" + Spelled.spelling(inodeFileHandles))),
                System.out);
        List<FsBenchResult> results = bench.run();
        if (output != null) {
            for (Path p : FsBenchReport.write(output, threadPoolSize, bench.conditions(), results)) {
                System.out.println("wrote " + p);
            }
        }
        return 0;
    }
}
