package io.jvhost.testing.qemu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The machine's libvirt (11.3 from bookworm-backports, see scripts/install-test-deps.sh) for a
 * test: {@link #connect(TestRun)} starts {@code virtlogd} and {@code libvirtd} as daemons if they
 * are not running (there is no systemd here to do it), and {@link #virsh} runs virsh against
 * {@code qemu:///system}, each call logged in the run's {@code virsh.log}. Domains created through
 * {@link #create} are destroyed when the run ends.
 */
public final class Libvirt {
    private static final Path SOCKET = Path.of("/run/libvirt/libvirt-sock");
    private static final Path LOG_SOCKET = Path.of("/run/libvirt/virtlogd-sock");
    private static final Duration START = Duration.ofSeconds(30), CALL = Duration.ofMinutes(3);

    private final TestRun run;
    private final Path log;

    private Libvirt(TestRun run) {
        this.run = run;
        this.log = run.logDir().resolve("virsh.log");
    }

    /** Libvirt for {@code run}, its daemons started if needed; fails (never skips) without them. */
    public static Libvirt connect(TestRun run) {
        for (String tool : List.of("virsh", "libvirtd", "virtlogd")) {
            if (onPath(tool) == null) {
                throw new MissingTestDependencyException(tool + " (libvirt; scripts/install-test-deps.sh installs it)");
            }
        }
        Libvirt l = new Libvirt(run);
        l.ensureDaemon("virtlogd", LOG_SOCKET);
        l.ensureDaemon("libvirtd", SOCKET);
        l.virsh("version");
        return l;
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

    /** {@code virsh -c qemu:///system ARGS}; its output, or an AssertionError with it. */
    public String virsh(String... args) {
        List<String> argv = new ArrayList<>(List.of("virsh", "-c", "qemu:///system"));
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

        /** Whether the domain runs now ({@code virsh list}: a saved transient domain is gone). */
        public boolean isRunning() {
            return virsh("list", "--name").lines().map(String::strip).anyMatch(name::equals);
        }

        /** Stops the domain if it exists (transient domains vanish then). Idempotent. */
        @Override
        public void close() {
            exec(List.of("virsh", "-c", "qemu:///system", "destroy", name), CALL);
        }

        @Override
        public String toString() {
            return "libvirt domain " + name;
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
}
