package io.jvhost.cli;

import io.jvhost.bench.migration.MigrationBench;
import io.jvhost.bench.migration.MigrationBenchReport;
import io.jvhost.migration.device.DeviceMigration;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code jvhost bench-migration}: device-state throughput through real back-ends against a raw pipe. */
@Command(
        name = "bench-migration",
        mixinStandardHelpOptions = true,
        description = "Measure device-state throughput through in-process vhost-user back-ends (a save alone, and "
                + "a full migration A to B over 1..N state channels) for a synthetic state, next to a raw pipe "
                + "and a raw TCP socket, in one run.")
final class BenchMigrationCommand implements Callable<Integer> {
    @Option(
            names = "--size",
            defaultValue = "1G",
            converter = BenchStreamCommand.SizeConverter.class,
            description = "State size, e.g. 512M or 1G (default: ${DEFAULT-VALUE}).")
    long size;

    @Option(
            names = "--channels",
            split = ",",
            defaultValue = "1,2,4",
            description = "State channel counts to measure, e.g. 1,2,4 (default: ${DEFAULT-VALUE}).")
    List<Integer> channels;

    @Option(
            names = "--packet-size",
            converter = BenchStreamCommand.SizeConverter.class,
            description = "Bytes per stream packet (default: DeviceMigration's, " + DeviceMigration.PACKET_SIZE / 1024
                    + "K).")
    Long packetSize;

    @Option(
            names = "--rounds",
            defaultValue = "3",
            description = "Measurements per row; the median is shown " + "(default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(
            names = "--output",
            paramLabel = "DIR",
            description = "Also write the table (bench-migration.md) and a plot of the throughput against the raw "
                    + "pipe (bench-migration.png) into DIR, e.g. docs/bench.")
    Path output;

    @Override
    public Integer call() throws Exception {
        // Every session logs its handshake and each transfer at INFO: that would bury the table.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        long packet = packetSize == null ? DeviceMigration.PACKET_SIZE : packetSize;
        if (packet < 1 || packet > 4L << 20) throw new IllegalArgumentException("--packet-size must be 1 byte .. 4M");
        if (channels.stream().anyMatch(n -> n < 1 || n > 64))
            throw new IllegalArgumentException("--channels: 1..64 each");
        MigrationBench bench = new MigrationBench(System.out, (int) packet, rounds);
        MigrationBench.Result result =
                bench.run(size, channels.stream().mapToInt(Integer::intValue).toArray());
        if (output != null) {
            for (Path p : MigrationBenchReport.write(output, bench.conditions(), result)) {
                System.out.println("wrote " + p);
            }
        }
        return 0;
    }
}
