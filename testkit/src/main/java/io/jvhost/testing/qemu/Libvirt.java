package io.jvhost.testing.qemu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The machine's libvirt (11.3 from bookworm-backports, see scripts/install-test-deps.sh) for a
 * test: {@link #connect(TestRun)} starts {@code virtlogd} and {@code libvirtd} as daemons if they
 * are not running (there is no systemd here to do it), and {@link #virsh} runs virsh against
 * {@code qemu:///system}, each call logged in the run's {@code virsh.log}. Domains created through
 * {@link #create} are destroyed when the run ends. {@link #startPeer} starts a second libvirt on
 * the same machine, a destination for {@code virsh migrate}.
 */
public final class Libvirt {
    private static final Path SOCKET = Path.of("/run/libvirt/libvirt-sock");
    private static final Path LOG_SOCKET = Path.of("/run/libvirt/virtlogd-sock");
    private static final Duration START = Duration.ofSeconds(30), CALL = Duration.ofMinutes(3);

    private static final String SYSTEM = "qemu:///system";

    private final TestRun run;
    private final Path log;
    private final String uri;

    private Libvirt(TestRun run, String uri) {
        this.run = run;
        this.log = run.logDir().resolve("virsh.log");
        this.uri = uri;
    }

    /** Libvirt for {@code run}, its daemons started if needed; fails (never skips) without them. */
    public static Libvirt connect(TestRun run) {
        requireTools();
        Libvirt l = new Libvirt(run, SYSTEM);
        l.ensureDaemon("virtlogd", LOG_SOCKET);
        l.ensureDaemon("libvirtd", SOCKET);
        l.virsh("version");
        return l;
    }

    private static void requireTools() {
        for (String tool : List.of("virsh", "libvirtd", "virtlogd", "unshare")) {
            if (onPath(tool) == null) {
                throw new MissingTestDependencyException(tool + " (libvirt; scripts/install-test-deps.sh installs it)");
            }
        }
    }

    /**
     * A second libvirt on this machine, as another host would run it: its own {@code libvirtd}
     * and {@code virtlogd} in a mount namespace where libvirt's state directories ({@code
     * /run/libvirt}, {@code /var/lib/libvirt}, {@code /var/cache/libvirt}, {@code
     * /var/log/libvirt}) are directories of the run, with a host UUID of its own (libvirt refuses
     * to migrate to the host a domain runs on) and listening on TCP on loopback, without
     * authentication, at a free port. Both daemons are stopped when the run ends, after its
     * domains.
     */
    public static Libvirt startPeer(TestRun run, String name) {
        requireTools();
        Path dir = run.dir("libvirt-" + name);
        int port = freePort();
        try {
            for (String d : List.of("run", "lib", "cache", "log")) Files.createDirectories(dir.resolve(d));
            Files.writeString(dir.resolve("libvirtd.conf"), """
                    listen_tls = 0
                    listen_tcp = 1
                    listen_addr = "127.0.0.1"
                    tcp_port = "%d"
                    auth_tcp = "none"
                    host_uuid = "%s"
                    """.formatted(port, java.util.UUID.randomUUID()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Libvirt peer = new Libvirt(run, "qemu+tcp://127.0.0.1:" + port + "/system");
        String script = String.join(
                " && ",
                "mkdir -p /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt",
                "mount --bind " + dir.resolve("run") + " /run/libvirt",
                "mount --bind " + dir.resolve("lib") + " /var/lib/libvirt",
                "mount --bind " + dir.resolve("cache") + " /var/cache/libvirt",
                "mount --bind " + dir.resolve("log") + " /var/log/libvirt",
                "virtlogd -d -p " + dir.resolve("virtlogd.pid"),
                "libvirtd -d -l -f " + dir.resolve("libvirtd.conf") + " -p " + dir.resolve("libvirtd.pid"));
        Result r =
                peer.exec(List.of("unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script), START);
        if (!r.ok()) throw new AssertionError("second libvirt: " + r.output);
        run.register(new AutoCloseable() {
            @Override
            public void close() throws IOException {
                for (String daemon : List.of("libvirtd", "virtlogd")) {
                    Path pid = dir.resolve(daemon + ".pid");
                    if (!Files.exists(pid)) continue;
                    ProcessHandle.of(Long.parseLong(Files.readString(pid).strip()))
                            .ifPresent(ProcessHandle::destroy);
                }
            }

            @Override
            public String toString() {
                return "libvirt " + name;
            }
        });
        long deadline = System.nanoTime() + START.toNanos();
        while (true) {
            Result version = peer.exec(List.of("virsh", "-c", peer.uri, "version"), CALL);
            if (version.ok()) break;
            if (System.nanoTime() > deadline)
                throw new AssertionError("second libvirt: no answer at " + peer.uri + ": " + version.output);
            UnixSockets.sleep(200);
        }
        run.note("started a second libvirt at %s (a mount namespace of its own)", peer.uri);
        return peer;
    }

    private static int freePort() {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The URI virsh connects to this libvirt with. */
    public String uri() {
        return uri;
    }

    private void ensureDaemon(String daemon, Path socket) {
        if (running(daemon) && Files.exists(socket)) return;
        Result r = exec(List.of(onPath(daemon).toString(), "-d"), START); // forks into the background
        if (!r.ok()) throw new AssertionError(daemon + " -d failed (" + r.exitCode + "): " + r.output);
        long deadline = System.nanoTime() + START.toNanos();
        while (!Files.exists(socket)) {
            if (System.nanoTime() > deadline) throw new AssertionError(daemon + ": no " + socket + " after " + START);
            UnixSockets.sleep(50);
        }
        run.note("started %s (no systemd here)", daemon);
    }

    private static boolean running(String daemon) {
        return ProcessHandle.allProcesses()
                .anyMatch(h ->
                        h.info().command().map(c -> c.endsWith("/" + daemon)).orElse(false));
    }

    /** {@code virsh -c URI ARGS}; its output, or an AssertionError with it. */
    public String virsh(String... args) {
        List<String> argv = new ArrayList<>(List.of("virsh", "-c", uri));
        argv.addAll(List.of(args));
        Result r = exec(argv, CALL);
        if (!r.ok()) throw new AssertionError(String.join(" ", argv) + " failed (" + r.exitCode + "): " + r.output);
        return r.output;
    }

    /**
     * Creates and starts a transient domain from {@code xml} (written to the run's directory as
     * {@code <name>.xml}); it is destroyed when the run ends, whatever state it is in then.
     */
    public Domain create(String name, String xml) {
        Path file = run.runDir().resolve(name + ".xml");
        try {
            Files.writeString(file, xml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        virsh("create", file.toString());
        Domain d = new Domain(name);
        run.register(d);
        return d;
    }

    /** A domain of this libvirt, by name. */
    public final class Domain implements AutoCloseable {
        private final String name;

        private Domain(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        /** {@code virsh save}: the guest's memory and devices (a virtio-fs back-end's state too) into {@code file}. */
        public void save(Path file) {
            virsh("save", name, file.toString());
        }

        /** {@code virsh restore}: the domain again from what {@link #save} wrote. */
        public void restore(Path file) {
            virsh("restore", file.toString());
        }

        /**
         * {@code virsh migrate --live} to {@code destination}: the domain goes on there (registered
         * to be destroyed when the run ends) and is gone here.
         */
        public Domain migrateLive(Libvirt destination) {
            Domain there = destination.new Domain(name);
            run.register(there);
            virsh("migrate", "--live", "--verbose", name, destination.uri);
            return there;
        }

        /**
         * The last completed migration or save's statistics ({@code virsh domjobinfo --completed},
         * which libvirt hands out once: read them once).
         */
        public CompletedJob completedJob() {
            Map<String, String> fields = new LinkedHashMap<>();
            for (String line : virsh("domjobinfo", "--completed", name).lines().toList()) {
                String[] kv = line.split(":", 2);
                if (kv.length == 2) fields.put(kv[0].strip(), kv[1].strip().replaceAll("\\s+", " "));
            }
            return new CompletedJob(name, fields);
        }

        /** Whether the domain runs now ({@code virsh list}: a saved transient domain is gone). */
        public boolean isRunning() {
            return virsh("list", "--name").lines().map(String::strip).anyMatch(name::equals);
        }

        /** Stops the domain if it exists (transient domains vanish then). Idempotent. */
        @Override
        public void close() {
            exec(List.of("virsh", "-c", uri, "destroy", name), CALL);
        }

        @Override
        public String toString() {
            return "libvirt domain " + name + " at " + uri;
        }
    }

    private record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    private Result exec(List<String> argv, Duration timeout) {
        try {
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes(); // virsh ends its output when it exits
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return record(argv, new Result(-1, "timed out after " + TestRun.secs(timeout)));
            }
            return record(argv, new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            return record(argv, new Result(-1, e.toString()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return record(argv, new Result(-1, "interrupted"));
        }
    }

    private Result record(List<String> argv, Result r) {
        try {
            Files.writeString(
                    log,
                    "$ " + String.join(" ", argv) + "\n" + r.output + (r.output.endsWith("\n") ? "" : "\n") + "[exit "
                            + r.exitCode + "]\n",
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            // the log is a convenience; the result still goes to the caller
        }
        return r;
    }

    private static Path onPath(String tool) {
        for (String dir : List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    /**
     * A completed job's statistics by name as virsh prints them ("Total downtime" → "34 ms",
     * "Memory bandwidth" → "119.727 MiB/s", "Iteration" → "3"): the RAM copy's rate says how much
     * CPU the back-ends left QEMU, which the downtime alone hides.
     */
    public record CompletedJob(String domain, Map<String, String> fields) {
        public CompletedJob {
            fields = Map.copyOf(fields);
        }

        /** The guest's pause ("Total downtime", which libvirt has from QEMU), in milliseconds. */
        public long downtimeMs() {
            String downtime = fields.get("Total downtime");
            if (downtime == null)
                throw new AssertionError("no downtime in domjobinfo --completed of " + domain + ": " + fields);
            return Long.parseLong(downtime.split("\\s+")[0]);
        }

        /** A statistic as printed, or "?" if this libvirt does not print it. */
        public String get(String name) {
            return fields.getOrDefault(name, "?");
        }
    }
}
