package io.jvhost.cli;

import io.jvhost.bench.migration.StreamBench;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;

/** {@code jvhost bench-stream}: throughput of the migration stream against a raw pipe and a raw TCP socket. */
@Command(
        name = "bench-stream",
        mixinStandardHelpOptions = true,
        description = "Measure migration-stream throughput over loopback for a synthetic state, "
                + "next to a raw pipe and a raw TCP socket.")
final class BenchStreamCommand implements Callable<Integer> {
    static final class SizeConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return StreamBench.parseSize(value);
        }
    }

    @Option(
            names = "--size",
            defaultValue = "1G",
            converter = SizeConverter.class,
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
            defaultValue = "1M",
            converter = SizeConverter.class,
            description = "Bytes per packet (default: ${DEFAULT-VALUE}).")
    long packetSize;

    @Override
    public Integer call() throws Exception {
        if (packetSize < 1 || packetSize > 64L << 20) {
            throw new IllegalArgumentException("--packet-size must be 1 byte .. 64M");
        }
        new StreamBench(System.out, (int) packetSize)
                .run(size, channels.stream().mapToInt(Integer::intValue).toArray());
        return 0;
    }
}
