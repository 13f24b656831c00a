package io.jvhost.bench.migration;

import io.jvhost.devices.synthetic.SyntheticContent;
import io.jvhost.migration.DestinationConfig;
import io.jvhost.migration.MigrationDestination;
import io.jvhost.migration.MigrationSource;
import io.jvhost.migration.ReceiveResult;
import io.jvhost.migration.SendResult;
import io.jvhost.migration.SourceConfig;
import io.jvhost.migration.VirtioDeviceState;
import io.jvhost.nativeio.FdStreams;
import io.jvhost.nativeio.Pipe;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Measures the migration stream's throughput for a synthetic state (generated on the fly, discarded
 * by the destination after it was reassembled and checksummed) with several channel counts, next
 * to the raw throughput of a pipe and of one plain TCP socket on the same machine in the same run,
 * so the ratio says what the protocol costs. Loopback only. Not a test: numbers depend on the machine.
 */
public final class StreamBench {
    /** One measured transfer. */
    public record Row(String what, long bytes, Duration elapsed) {
        public double mibPerSecond() {
            return bytes / (1024.0 * 1024.0) / Math.max(1e-9, elapsed.toNanos() / 1e9);
        }
    }

    private static final int BLOCK = 1 << 20;
    private final PrintStream out;
    private final int packetSize;

    public StreamBench(PrintStream out, int packetSize) {
        this.out = out;
        this.packetSize = packetSize;
    }

    public static void main(String[] args) throws Exception {
        long size = args.length > 0 ? parseSize(args[0]) : 1L << 30;
        int[] channels = args.length > 1 ? parseChannels(args[1]) : new int[] {1, 2, 4};
        new StreamBench(System.out, SourceConfig.DEFAULT_PACKET_SIZE).run(size, channels);
    }

    /** Runs the raw baselines and the stream for each channel count, prints a table, returns the rows. */
    public List<Row> run(long size, int... channels) throws Exception {
        out.printf(
                Locale.ROOT,
                "state %s, packets of %s, %d CPUs%n",
                human(size),
                human(packetSize),
                Runtime.getRuntime().availableProcessors());
        // A small warm-up so the first measured row doesn't pay for class loading and JIT.
        stream(Math.min(size, 64L << 20), 2);
        List<Row> rows = new ArrayList<>();
        Row pipe = rawPipe(size);
        Row tcp = rawTcp(size);
        rows.add(pipe);
        rows.add(tcp);
        for (int n : channels) {
            rows.add(stream(size, n));
        }
        out.printf(Locale.ROOT, "%-26s %10s %10s %9s %9s%n", "transfer", "seconds", "MiB/s", "vs TCP", "vs pipe");
        for (Row r : rows) {
            out.printf(
                    Locale.ROOT,
                    "%-26s %10.2f %10.1f %8.2fx %8.2fx%n",
                    r.what(),
                    r.elapsed().toNanos() / 1e9,
                    r.mibPerSecond(),
                    r.mibPerSecond() / tcp.mibPerSecond(),
                    r.mibPerSecond() / pipe.mibPerSecond());
        }
        return rows;
    }

    /** The migration stream: source → N+1 loopback connections → destination → checksummed, discarded. */
    public Row stream(long size, int channels) throws Exception {
        DestinationConfig cfg = DestinationConfig.forDevice("bench", -1L)
                .withLimits(Math.max(8, channels), Math.max(packetSize, 4 << 20), 16, Integer.MAX_VALUE);
        VirtioDeviceState virtio = new VirtioDeviceState(
                VirtioDeviceState.VERSION_1,
                0x0F,
                new byte[64],
                List.of(new VirtioDeviceState.QueueState(1024, 0, true, 0x1000, 0x5000, 0x6000)));
        try (MigrationDestination dest = MigrationDestination.listen(new InetSocketAddress("127.0.0.1", 0), cfg)) {
            CompletableFuture<ReceiveResult> received = new CompletableFuture<>();
            Thread.ofPlatform().name("bench-destination").start(() -> {
                try {
                    received.complete(dest.receive(OutputStream.nullOutputStream()));
                } catch (Throwable t) {
                    received.completeExceptionally(t);
                }
            });
            long t0 = System.nanoTime();
            SendResult sent = new MigrationSource(
                            SourceConfig.defaults().withChannels(channels).withPacketSize(packetSize))
                    .send(dest.address(), "bench", virtio, synthetic(size), size);
            ReceiveResult r = join(received);
            long t1 = System.nanoTime();
            if (r.stateBytes() != size || r.crc32c() != sent.crc32c()) {
                throw new IllegalStateException("benchmark stream arrived wrong: " + r);
            }
            return new Row(
                    "stream, " + channels + " channel" + (channels == 1 ? "" : "s"), size, Duration.ofNanos(t1 - t0));
        }
    }

    /** A kernel pipe through nativeio: the transport the device state uses between front-end and back-end. */
    public Row rawPipe(long size) throws Exception {
        try (Pipe pipe = Pipe.create(BLOCK)) {
            CompletableFuture<Long> read = new CompletableFuture<>();
            Thread.ofPlatform().name("bench-pipe-reader").start(() -> {
                try (InputStream in = FdStreams.input(pipe.readEnd(), false)) {
                    read.complete(drain(in));
                } catch (Throwable t) {
                    read.completeExceptionally(t);
                }
            });
            long t0 = System.nanoTime();
            try (OutputStream o = FdStreams.output(pipe.writeEnd(), true)) {
                pump(size, o);
            }
            check(size, join(read));
            return new Row("raw pipe (nativeio)", size, Duration.ofNanos(System.nanoTime() - t0));
        }
    }

    /** One plain loopback TCP connection, no framing: the ceiling a single channel could reach. */
    public Row rawTcp(long size) throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Long> read = new CompletableFuture<>();
            Thread.ofPlatform().name("bench-tcp-reader").start(() -> {
                try (Socket s = server.accept();
                        InputStream in = s.getInputStream()) {
                    read.complete(drain(in));
                } catch (Throwable t) {
                    read.completeExceptionally(t);
                }
            });
            long t0 = System.nanoTime();
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort())) {
                pump(size, s.getOutputStream());
                s.shutdownOutput();
                check(size, join(read));
            }
            return new Row("raw TCP, 1 socket", size, Duration.ofNanos(System.nanoTime() - t0));
        }
    }

    private static void pump(long size, OutputStream o) throws IOException {
        try (InputStream in = synthetic(size)) {
            byte[] buf = new byte[BLOCK];
            int n;
            while ((n = in.read(buf, 0, buf.length)) > 0) {
                o.write(buf, 0, n);
            }
        }
    }

    private static long drain(InputStream in) throws IOException {
        byte[] buf = new byte[BLOCK];
        long total = 0;
        int n;
        while ((n = in.read(buf, 0, buf.length)) > 0) {
            total += n;
        }
        return total;
    }

    private static void check(long expected, long got) {
        if (expected != got) {
            throw new IllegalStateException("moved " + got + " bytes, expected " + expected);
        }
    }

    /** Incompressible-looking bytes, generated as they are read (the migration bench's synthetic content). */
    private static InputStream synthetic(long size) {
        return new SyntheticContent(2026, size).stream();
    }

    private static <T> T join(CompletableFuture<T> f) throws Exception {
        try {
            return f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception x ? x : e;
        }
    }

    /** "512M", "1G", "64k", "1000": binary units. */
    public static long parseSize(String s) {
        String t = s.trim().toUpperCase(Locale.ROOT).replaceFirst("I?B$", "");
        long unit = switch (t.isEmpty() ? ' ' : t.charAt(t.length() - 1)) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            case 'T' -> 1L << 40;
            default -> 1;
        };
        String digits = unit == 1 ? t : t.substring(0, t.length() - 1);
        try {
            long v = Long.parseLong(digits.trim());
            if (v < 0 || v > Long.MAX_VALUE / unit) {
                throw new IllegalArgumentException("size out of range: " + s);
            }
            return v * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + s + "' (use e.g. 512M, 1G)");
        }
    }

    static int[] parseChannels(String s) {
        return java.util.Arrays.stream(s.split(","))
                .map(String::trim)
                .mapToInt(Integer::parseInt)
                .toArray();
    }

    static String human(long bytes) {
        if (bytes >= 1L << 30 && bytes % (1L << 30) == 0) {
            return (bytes >> 30) + " GiB";
        }
        if (bytes >= 1L << 20 && bytes % (1L << 20) == 0) {
            return (bytes >> 20) + " MiB";
        }
        if (bytes >= 1L << 10 && bytes % (1L << 10) == 0) {
            return (bytes >> 10) + " KiB";
        }
        return bytes + " B";
    }
}
