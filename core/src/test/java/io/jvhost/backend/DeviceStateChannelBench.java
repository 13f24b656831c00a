package io.jvhost.backend;

import io.jvhost.frontend.DeviceStateTransfer;
import io.jvhost.frontend.FrontendClient;
import io.jvhost.frontend.GuestDriver;
import io.jvhost.protocol.VirtioFeatures;
import io.jvhost.virtqueue.DescriptorChain;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
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

    /** A stateful device whose state is one big array, saved and loaded as it is. */
    static final class RawBlobDevice implements StatefulDevice {
        private volatile byte[] blob;

        RawBlobDevice(byte[] blob) {
            this.blob = blob;
        }

        @Override
        public String name() {
            return "rawblob";
        }

        @Override
        public int queueCount() {
            return 1;
        }

        @Override
        public long features() {
            return VirtioFeatures.mask(VirtioFeatures.VERSION_1);
        }

        @Override
        public long handle(int queueIndex, DescriptorChain chain) {
            return 0;
        }

        @Override
        public SavedState captureState() {
            byte[] b = blob;
            return out -> {
                for (int off = 0; off < b.length; off += 1 << 20) out.write(b, off, Math.min(1 << 20, b.length - off));
            };
        }

        @Override
        public PreparedState prepareLoad(InputStream in) throws IOException {
            byte[] b = in.readAllBytes();
            return () -> blob = b;
        }
    }

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
