package io.jvhost.cli;

import io.jvhost.bench.fs.StartupBench;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jvhost bench-startup}: jvhost's fs daemon next to virtiofsd, exec to listening and idle footprint. */
@Command(
        name = "bench-startup",
        mixinStandardHelpOptions = true,
        description = "Start jvhost's virtio-fs daemon and virtiofsd N times each, alternating: time from exec "
                + "to a listening socket, then resident memory and threads when idle; medians, spread, ratios.")
final class BenchStartupCommand implements Callable<Integer> {
    @Option(
            names = "--rounds",
            paramLabel = "N",
            defaultValue = "10",
            description = "Starts of each daemon (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(
            names = "--settle-ms",
            paramLabel = "MS",
            defaultValue = "2000",
            description = "Idle time after listening before the footprint is read (default: ${DEFAULT-VALUE}).")
    long settleMillis;

    @Option(
            names = "--virtiofsd",
            paramLabel = "PATH",
            defaultValue = "auto",
            description = "virtiofsd binary or unpacked root; auto finds the test dependencies' one; none skips it "
                    + "(default: ${DEFAULT-VALUE}).")
    String virtiofsd;

    @Option(
            names = "--jvhost-jvm-arg",
            paramLabel = "ARG",
            description = "Extra JVM option for jvhost, repeatable (e.g. one being evaluated).")
    List<String> jvmArgs = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
        if (settleMillis < 0) throw new IllegalArgumentException("--settle-ms must not be negative");
        new StartupBench(
                        new StartupBench.Options(rounds, Duration.ofMillis(settleMillis), virtiofsd, jvmArgs),
                        System.out)
                .run();
        return 0;
    }
}
