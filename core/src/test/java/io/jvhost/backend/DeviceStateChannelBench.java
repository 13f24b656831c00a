package io.jvhost.backend;

import io.jvhost.frontend.DeviceStateTransfer;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

/**
 * Device-state throughput, plain front-end pipe against the back-end's own channel (a 1 MiB pipe
 * filled with vmsplice when saving), with a large synthetic state written as raw bytes so only
 * the channel is measured. A main-method benchmark, not a test:
 *
 * <pre>
 * mvn -o -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/classes:target/test-classes:$(cat target/cp.txt) io.jvhost.backend.DeviceStateChannelBench [MiB] [rounds]
 * </pre>
 */
public final class DeviceStateChannelBench {
    private DeviceStateChannelBench() {}

    public static void main(String[] args) throws Exception {
        int mib = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        byte[] state = new byte[mib << 20];
        new Random(1).nextBytes(state);
        Path dir = Files.createTempDirectory("jvhost-bench");
        try {
            for (boolean own : new boolean[] {false, true, false, true}) {
                run(dir, state, own, rounds);
            }
        } finally {
            try (var s = Files.list(dir)) {
                s.forEach(p -> p.toFile().delete());
            }
            Files.deleteIfExists(dir);
        }
    }

    private static void run(Path dir, byte[] state, boolean backendChannel, int rounds) throws Exception {
        RawBlobDevice device = new RawBlobDevice(state);
        Path sock = dir.resolve("bench-" + backendChannel + "-" + System.nanoTime() + ".sock");
        try (BackgroundServer s = BackgroundServer.start(
                        sock, device, DeviceStateOptions.defaults().withBackendChannel(backendChannel));
                FrontendClient c = GuestDriver.connectDevice(s.socket(), 1)) {
            DeviceStateTransfer t = new DeviceStateTransfer(c);
            double[] save = new double[rounds];
            double[] load = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                long n = t.save(OutputStream.nullOutputStream());
                save[r] = mibPerSec(n, System.nanoTime() - t0);
                long t1 = System.nanoTime();
                long m = t.load(new ByteArrayInputStream(state));
                load[r] = mibPerSec(m, System.nanoTime() - t1);
            }
            System.out.printf(
                    "%-28s %5d MiB  save median %7.0f MiB/s (best %7.0f)  load median %7.0f MiB/s (best %7.0f)%n",
                    backendChannel ? "back-end pipe (vmsplice)" : "front-end pipe (plain)",
                    state.length >> 20,
                    median(save),
                    Arrays.stream(save).max().orElse(0),
                    median(load),
                    Arrays.stream(load).max().orElse(0));
        }
    }

    private static double mibPerSec(long bytes, long nanos) {
        return bytes / (1024.0 * 1024.0) / (nanos / 1e9);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
