package io.jvhost.cli;

import io.jvhost.backend.BackgroundServer;
import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.FuseServer;
import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.devices.fs.passthrough.MigrationConfig;
import io.jvhost.devices.fs.passthrough.PassthroughConfig;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.migration.MigrationReport;
import io.jvhost.migration.device.DeviceMigration;
import io.jvhost.protocol.ProtocolFeature;
import io.jvhost.protocol.VirtioFeatures;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code jvhost demo} (the default): live migration of a virtio-fs back-end without a VM. Two
 * jvhost fs back-ends, A and B, serve one temp directory; jvhost's guest-driver model opens
 * files on A and writes through them; A's state (FUSE session, inodes, open handles) moves to
 * B over the multi-channel stream; the driver continues on B with the same handles and node
 * ids, and the host's files show that nothing was lost.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        description =
                "Migrate a virtio-fs back-end's state between two jvhost back-ends, with open files (no arguments needed).")
final class DemoCommand implements Callable<Integer> {
    private static final Duration T = Duration.ofSeconds(10);
    private static final int QUEUES = 2;
    private static final int CHUNK = 128 * 1024; // FUSE max_write

    @Option(
            names = "--channels",
            defaultValue = "4",
            description = "State channels for the migration (default: ${DEFAULT-VALUE}).")
    int channels;

    @Option(
            names = "--data-size",
            defaultValue = "4194304",
            description = "Bytes written to data.bin before the migration (default: ${DEFAULT-VALUE}).")
    int dataSize;

    @Spec
    CommandSpec spec;

    private PrintWriter out;
    private int failures;

    @Override
    public Integer call() throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        out = spec.commandLine().getOut();
        Path dir = Files.createTempDirectory("jvhost-demo");
        List<AutoCloseable> open = new ArrayList<>();
        try {
            Path shared = Files.createDirectory(dir.resolve("shared"));
            Files.writeString(shared.resolve("readme.txt"), "this file was on the host before the guest came\n");
            Path a = serve(dir.resolve("a.sock"), shared, open);
            Path b = serve(dir.resolve("b.sock"), shared, open);
            out.printf("jvhost demo: two virtio-fs back-ends sharing %s%n  A on %s%n  B on %s%n", shared, a, b);
            run(a, b, shared);
        } finally {
            for (int i = open.size() - 1; i >= 0; i--) open.get(i).close();
            deleteTree(dir);
            out.printf("temp directory %s removed%n", dir);
            out.flush();
        }
        out.println(
                failures == 0
                        ? "demo done: the guest's files and handles survived the migration"
                        : "demo FAILED: " + failures + " check(s) did not hold");
        out.flush();
        return failures == 0 ? 0 : 1;
    }

    private void run(Path socketA, Path socketB, Path shared) throws Exception {
        byte[] data = new byte[dataSize];
        new Random(42).nextBytes(data);
        try (GuestDriver driver = GuestDriver.connect(socketA, GuestDriver.Options.defaults(QUEUES))) {
            out.println("\nguest on A");
            out.println("  virtio features:   " + VirtioFeatures.describe(driver.features()));
            out.println("  protocol features: " + ProtocolFeature.describe(driver.protocolFeatures()));
            FuseClient fuse = new FuseClient(driver, T);
            out.printf("  FUSE INIT: protocol 7.%d%n", fuse.init());
            FuseClient.OpenFile journal = fuse.create(FuseClient.ROOT_ID, "journal.txt");
            FuseClient.OpenFile bin = fuse.create(FuseClient.ROOT_ID, "data.bin");
            long readmeNode = fuse.lookup(FuseClient.ROOT_ID, "readme.txt");
            FuseClient.OpenFile readme = fuse.open(readmeNode);
            String before = "line 1, written on A\n";
            fuse.write(journal, 0, bytes(before));
            long t0 = System.nanoTime();
            for (int at = 0; at < data.length; at += CHUNK) {
                fuse.write(bin, at, Arrays.copyOfRange(data, at, Math.min(data.length, at + CHUNK)));
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            out.printf(
                    "  open: journal.txt (node %d, fh %d), data.bin (node %d, fh %d), readme.txt (node %d, fh %d)%n",
                    journal.nodeId(), journal.fh(), bin.nodeId(), bin.fh(), readme.nodeId(), readme.fh());
            out.printf(
                    "  wrote %d bytes to data.bin through FUSE WRITE (%.1f MiB/s) and a line to journal.txt%n",
                    data.length, data.length / secs / (1 << 20));

            out.printf("%nmigrating A -> B over %d channel(s)%n", channels);
            FrontendClient toB = FrontendClient.connect(socketB);
            GuestDriver.connectDevice(toB, QUEUES);
            MigrationReport report = DeviceMigration.migrate(
                    driver,
                    toB,
                    FsDevice.STATE_TYPE,
                    DeviceMigration.sourceConfig(channels),
                    DeviceMigration.StateFilter.NONE);
            report.format().lines().forEach(l -> out.println("  " + l));
            out.println(
                    "  (file contents stay in the shared directory: the state is the FUSE session, inodes and handles)");

            out.println("\nguest continues on B with the handles A gave it");
            check(driver.client() == toB, "the driver's front-end session is now B's; A's was closed");
            check(
                    Arrays.equals(bytes(before), fuse.read(journal, 0, 4096)),
                    "journal.txt reads back through A's fh on B");
            check(
                    Arrays.equals(digest(data), digest(readAll(fuse, bin, data.length))),
                    "data.bin reads back through A's fh on B, SHA-256 " + hex(digest(data)));
            check(
                    new String(fuse.read(readme, 0, 4096), StandardCharsets.UTF_8)
                            .startsWith("this file was on the host"),
                    "readme.txt reads through A's fh on B");
            String after = "line 2, written on B\n";
            fuse.write(journal, before.length(), bytes(after));
            fuse.write(bin, data.length, bytes("tail written on B"));
            check(
                    fuse.lookup(FuseClient.ROOT_ID, "journal.txt") == journal.nodeId()
                            && fuse.lookup(FuseClient.ROOT_ID, "data.bin") == bin.nodeId()
                            && fuse.lookup(FuseClient.ROOT_ID, "readme.txt") == readmeNode,
                    "LOOKUP on B returns A's node ids");
            for (FuseClient.OpenFile f : List.of(journal, bin, readme)) fuse.release(f);

            out.println("\non the host");
            check(
                    Files.readString(shared.resolve("journal.txt")).equals(before + after),
                    "journal.txt holds the line written on A and the line written on B");
            byte[] host = Files.readAllBytes(shared.resolve("data.bin"));
            check(
                    host.length == data.length + "tail written on B".length()
                            && Arrays.equals(digest(data), digest(Arrays.copyOf(host, data.length))),
                    "data.bin holds every byte written on A, then B's tail");
        }
    }

    private static byte[] readAll(FuseClient fuse, FuseClient.OpenFile f, int size) throws IOException {
        byte[] all = new byte[size];
        int at = 0;
        while (at < size) {
            byte[] part = fuse.read(f, at, Math.min(CHUNK, size - at));
            if (part.length == 0) break;
            System.arraycopy(part, 0, all, at, part.length);
            at += part.length;
        }
        return at == size ? all : Arrays.copyOf(all, at);
    }

    private void check(boolean ok, String what) {
        out.println((ok ? "  ok    " : "  FAIL  ") + what);
        if (!ok) failures++;
    }

    private Path serve(Path socket, Path shared, List<AutoCloseable> open) throws IOException {
        PassthroughFs fs = PassthroughFs.open(shared, PassthroughConfig.defaults(), MigrationConfig.defaults());
        open.add(fs);
        // Closed in reverse: the server stops and its thread is joined before the file system closes.
        open.add(BackgroundServer.start(socket, new FsDevice("demo", 1, new FuseServer(fs))));
        return socket;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] digest(byte[] b) throws Exception {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b, 0, 8) + "...";
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
