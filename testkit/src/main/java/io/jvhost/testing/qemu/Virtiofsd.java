package io.jvhost.testing.qemu;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The reference virtiofsd (unpacked by scripts/install-test-deps.sh, run through its own loader) on
 * a unix socket and a shared directory. Output goes to {@code <logDir>/<name>.log}. virtiofsd serves
 * one front-end and exits when it disconnects.
 *
 * <pre>{@code
 * Virtiofsd fsd = Virtiofsd.builder(run, "vfsd").sharedDir(run.dir("shared")).start();
 * QemuGuest vm = QemuGuest.builder(run, "vm").vhostUserFs(fsd.socket(), "myfs").watch(fsd.process())...
 * }</pre>
 */
public final class Virtiofsd implements AutoCloseable {
    private final ManagedProcess process;
    private final Path socket;
    private final Path sharedDir;

    private Virtiofsd(ManagedProcess process, Path socket, Path sharedDir) {
        this.process = process;
        this.socket = socket;
        this.sharedDir = sharedDir;
    }

    public static Builder builder(TestRun run, String name) {
        return new Builder(run, name);
    }

    public Path socket() {
        return socket;
    }

    public Path sharedDir() {
        return sharedDir;
    }

    public ManagedProcess process() {
        return process;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGTERM (SIGKILL after 5 s); returns the exit code. */
    public int stop() {
        return process.stop(Duration.ofSeconds(5));
    }

    @Override
    public void close() {
        stop();
    }

    @Override
    public String toString() {
        return "Virtiofsd[" + process + ", " + socket + "]";
    }

    public static final class Builder {
        private final TestRun run;
        private final String name;
        private Path socket;
        private Path sharedDir;
        private String logLevel = "info";
        private String sandbox = "none";
        private String migrationMode;
        private final List<String> extra = new ArrayList<>();
        private Duration startTimeout = Duration.ofSeconds(20);

        private Builder(TestRun run, String name) {
            this.run = run;
            this.name = name;
        }

        /** Socket path (default {@code <runDir>/<name>.sock}). */
        public Builder socket(Path socket) {
            this.socket = socket;
            return this;
        }

        /** The shared directory (default {@code <logDir>/shared}, kept after the test). */
        public Builder sharedDir(Path dir) {
            this.sharedDir = dir;
            return this;
        }

        /** {@code --log-level} (default info; error, warn, info, debug, trace, off). */
        public Builder logLevel(String level) {
            this.logLevel = level;
            return this;
        }

        /** {@code --sandbox} (default none, which needs no privileges; namespace needs root). */
        public Builder sandbox(String sandbox) {
            this.sandbox = sandbox;
            return this;
        }

        /** {@code --migration-mode} (find-paths or file-handles; default: virtiofsd's, find-paths). */
        public Builder migrationMode(String mode) {
            this.migrationMode = mode;
            return this;
        }

        /** More virtiofsd arguments, e.g. {@code "--migration-verify-handles"}. */
        public Builder args(String... args) {
            extra.addAll(List.of(args));
            return this;
        }

        /** How long {@link #start()} waits for the socket (default 20 s). */
        public Builder startTimeout(Duration timeout) {
            this.startTimeout = timeout;
            return this;
        }

        /** Starts virtiofsd and waits until its socket exists (without connecting to it). */
        public Virtiofsd start() {
            Path sock = socket != null ? socket : run.socket(name);
            Path shared = sharedDir != null ? sharedDir : run.dir("shared");
            List<String> argv = new ArrayList<>(run.deps().virtiofsdArgv());
            argv.addAll(List.of(
                    "--socket-path",
                    sock.toString(),
                    "--shared-dir",
                    shared.toString(),
                    "--log-level",
                    logLevel,
                    "--sandbox",
                    sandbox));
            if (migrationMode != null) argv.addAll(List.of("--migration-mode", migrationMode));
            argv.addAll(extra);
            ManagedProcess p = run.start(name, argv);
            Virtiofsd v = run.register(new Virtiofsd(p, sock, shared));
            UnixSockets.awaitSocketFile(sock, startTimeout, p);
            return v;
        }
    }
}
