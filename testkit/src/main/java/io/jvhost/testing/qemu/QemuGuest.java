package io.jvhost.testing.qemu;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A QEMU guest for tests: q35, TCG, one vCPU, shareable memfd RAM (as vhost-user needs), direct
 * kernel boot of the Debian guest kernel with the test initramfs, serial console to a file, QMP on a
 * unix socket. Built with {@link #builder(TestRun, String)}; {@link #close()} stops this QEMU (and
 * only it). Registered with the {@link TestRun}, so it is also stopped when the test ends.
 *
 * <p>Files (in {@link TestRun#logDir()}): {@code serial-<name>.log} (guest console),
 * {@code qemu-<name>.log} (QEMU's stdout/stderr), {@code trace-<name>.log} (with
 * {@link Builder#trace}), {@code qmp-<name>.log} (QMP traffic). The QMP socket is
 * {@code <runDir>/qmp-<name>.sock}.
 */
public final class QemuGuest implements AutoCloseable {
    /** Printed by the guest's /init once its modules are loaded (see testkit/src/main/resources/guest). */
    public static final Pattern READY = Pattern.compile("^GUEST READY up=(\\S+)");

    private final String name;
    private final TestRun run;
    private final ManagedProcess process;
    private final Path serialLog;
    private final Path qmpSocket;
    private final Path traceLog;
    private final List<ManagedProcess> watched;
    private final Path kernel;
    private final SerialConsole console;
    private Qmp qmp;
    private Duration bootToReady;

    private QemuGuest(Builder b, ManagedProcess process) {
        this.name = b.name;
        this.run = b.run;
        this.process = process;
        this.serialLog = b.serialLog;
        this.qmpSocket = b.qmpSocket;
        this.traceLog = b.traceEvents.isEmpty() ? null : b.traceLog;
        this.watched = List.copyOf(b.watched);
        this.kernel = b.resolvedKernel;
        this.console = new SerialConsole(serialLog);
    }

    public static Builder builder(TestRun run, String name) {
        return new Builder(run, name);
    }

    public String name() {
        return name;
    }

    public ManagedProcess process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path serialLogPath() {
        return serialLog;
    }

    /** QEMU's own stdout/stderr. */
    public Path qemuLogPath() {
        return process.log();
    }

    /** The {@code -D} trace file, or null when no trace event was enabled. */
    public Path traceLogPath() {
        return traceLog;
    }

    public Path qmpSocket() {
        return qmpSocket;
    }

    /** The whole serial console so far ({@code \r} removed). */
    public String serialLog() {
        try {
            return Files.readString(serialLog, StandardCharsets.ISO_8859_1).replace("\r", "");
        } catch (IOException e) {
            return "";
        }
    }

    /** QEMU's stdout/stderr so far ("" if none). */
    public String qemuLog() {
        try {
            return Files.readString(process.log(), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * QEMU's warning about a back-end offering PROTOCOL_F_CONFIG to a device model that builds
     * its config space itself (vhost-user-rng-pci, vhost-user-fs-pci).
     */
    public static final String UNWANTED_CONFIG_WARNING = "supports VHOST_USER_PROTOCOL_F_CONFIG but QEMU does not";

    /** The complete lines of the serial console so far. */
    public List<String> serialLines() {
        return console.lines(!process.isAlive());
    }

    /** The trace file's contents ("" if none). */
    public String traceLog() {
        try {
            return traceLog == null ? "" : Files.readString(traceLog, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    /** QMP, connected on first use (the connection is closed with the guest). */
    public synchronized Qmp qmp() {
        if (qmp == null) {
            qmp = Qmp.connect(
                    qmpSocket, Duration.ofSeconds(30), process, run.logDir().resolve("qmp-" + name + ".log"));
        }
        return qmp;
    }

    /** Same as {@link #awaitSerialLine(Pattern, Duration)} with a regex string. */
    public MatchResult awaitSerialLine(String regex, Duration timeout) {
        return awaitSerialLine(Pattern.compile(regex), timeout);
    }

    /**
     * Waits until a line of the serial console matches {@code pattern} ({@link Matcher#find()}, so
     * anchor with {@code ^} as needed), searching from the first line, and returns that match. Fails
     * at once, with the console's tail and QEMU's output, if QEMU exits first or a watched process
     * ({@link Builder#watch}) dies; fails the same way on timeout.
     */
    public MatchResult awaitSerialLine(Pattern pattern, Duration timeout) {
        return awaitSerialLine(pattern, timeout, 0);
    }

    /** As {@link #awaitSerialLine(Pattern, Duration)}, ignoring the first {@code fromLine} lines. */
    public MatchResult awaitSerialLine(Pattern pattern, Duration timeout, int fromLine) {
        long t0 = System.nanoTime();
        return console.await(pattern, timeout, fromLine, this::whyNoMoreLines, what -> failure(what, t0));
    }

    private Optional<String> whyNoMoreLines() {
        if (!process.isAlive())
            return Optional.of("QEMU exited with code " + process.process().exitValue());
        for (ManagedProcess w : watched) {
            if (!w.isAlive()) {
                return Optional.of(w.name() + " (pid " + w.pid() + ") exited with code "
                        + w.process().exitValue() + "; last lines of " + w.log() + ":\n" + w.logTail(20));
            }
        }
        return Optional.empty();
    }

    /**
     * Waits for {@code GUEST READY} and returns the host time from QEMU's start to that line
     * (also recorded in the run's timings.txt).
     */
    public Duration awaitReady(Duration timeout) {
        MatchResult m = awaitSerialLine(READY, timeout);
        synchronized (this) {
            if (bootToReady == null) {
                bootToReady = process.sinceStart();
                run.note(
                        "%s: boot to GUEST READY %s (guest uptime %s s, kernel %s)",
                        name, TestRun.secs(bootToReady), m.group(1), kernel.getFileName());
            }
            return bootToReady;
        }
    }

    /** Waits for QEMU to exit (e.g. after the guest powered off); returns its exit code. */
    public int awaitExit(Duration timeout) {
        if (!process.awaitExit(timeout)) {
            throw failure("QEMU still running after " + TestRun.secs(timeout), System.nanoTime() - timeout.toNanos());
        }
        return process.process().exitValue();
    }

    public OptionalInt exitCode() {
        return process.exitCode();
    }

    private AssertionError failure(String what, long t0) {
        String msg = "guest '" + name + "' (QEMU pid " + process.pid() + "): " + what + " ["
                + TestRun.secs(Duration.ofNanos(System.nanoTime() - t0)) + " waited, "
                + TestRun.secs(process.sinceStart()) + " since QEMU start]\n"
                + "--- last serial lines (" + serialLog + ") ---\n" + ManagedProcess.tail(serialLog, 25) + "\n"
                + "--- QEMU output (" + process.log() + ") ---\n" + process.logTail(25) + "\n"
                + "--- logs: " + run.logDir();
        return new AssertionError(msg);
    }

    /** Closes QMP and stops QEMU: SIGTERM, SIGKILL after 5 s. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (qmp != null) {
                qmp.close();
            }
        }
        process.stop(Duration.ofSeconds(5));
    }

    @Override
    public String toString() {
        return "QemuGuest[" + name + ", " + process + "]";
    }

    /** Options for one QEMU guest; defaults as documented on each method. */
    public static final class Builder {
        private final TestRun run;
        private final String name;
        private String machine = "q35";
        private String accel = "tcg";
        private String cpu = "max";
        private int smp = 1;
        private String memory = "256M";
        private Path kernel;
        private Path initrd;
        private String scenario;
        private final Map<String, String> kernelArgs = new LinkedHashMap<>();
        private final List<String> extraAppend = new ArrayList<>();
        private final List<String> extraArgs = new ArrayList<>();
        private final List<String> traceEvents = new ArrayList<>();
        private final List<ManagedProcess> watched = new ArrayList<>();
        private String incoming;
        private int chardevs;
        private Path serialLog;
        private Path qmpSocket;
        private Path traceLog;
        private Path resolvedKernel;

        private Builder(TestRun run, String name) {
            if (!name.matches("[A-Za-z0-9_-]+"))
                throw new IllegalArgumentException("guest name: [A-Za-z0-9_-]+, not " + name);
            this.run = run;
            this.name = name;
        }

        /** Guest RAM, QEMU syntax (default 256M); also the size of the memfd backend. */
        public Builder memory(String size) {
            this.memory = size;
            return this;
        }

        /** {@code -cpu} (default max). */
        public Builder cpu(String model) {
            this.cpu = model;
            return this;
        }

        /** {@code -smp} (default 1). */
        public Builder smp(int cpus) {
            this.smp = cpus;
            return this;
        }

        /** {@code -machine} (default q35). */
        public Builder machine(String machine) {
            this.machine = machine;
            return this;
        }

        /** {@code -accel} (default tcg). */
        public Builder accel(String accel) {
            this.accel = accel;
            return this;
        }

        /**
         * Kernel image (default {@link KernelImage#forBoot()}: the guest kernel from {@link TestDeps}
         * as an uncompressed PVH vmlinux, or its bzImage).
         */
        public Builder kernel(Path vmlinuz) {
            this.kernel = vmlinuz;
            return this;
        }

        /** Initramfs (default {@link Initramfs#standard()}). */
        public Builder initrd(Path initrd) {
            this.initrd = initrd;
            return this;
        }

        /** The guest scenario: {@code scenario=<name>} on the kernel command line. */
        public Builder scenario(String scenario) {
            this.scenario = scenario;
            return this;
        }

        /** {@code key=value} on the kernel command line (read by the scenario; no spaces). */
        public Builder kernelArg(String key, Object value) {
            String v = String.valueOf(value);
            if (v.contains(" ") || key.contains(" ")) throw new IllegalArgumentException("no spaces: " + key + "=" + v);
            kernelArgs.put(key, v);
            return this;
        }

        /** Raw words appended to the kernel command line. */
        public Builder appendKernelCmdline(String words) {
            extraAppend.add(words);
            return this;
        }

        /** Arbitrary extra QEMU arguments, e.g. {@code "-device", "virtio-rng-pci"}. */
        public Builder args(String... args) {
            extraArgs.addAll(List.of(args));
            return this;
        }

        /** {@code -device <spec>}. */
        public Builder device(String spec) {
            return args("-device", spec);
        }

        /**
         * A vhost-user device on a back-end's socket: {@code -chardev socket,id=cN,path=SOCK
         * -device <driver>,chardev=cN[,props]}, e.g. {@code vhostUser("vhost-user-rng-pci", sock)} or
         * {@code vhostUser("vhost-user-fs-pci", sock, "queue-size=1024", "tag=myfs")}.
         */
        public Builder vhostUser(String driver, Path socket, String... props) {
            String id = "vhu" + chardevs++;
            StringBuilder dev = new StringBuilder(driver).append(",chardev=").append(id);
            for (String p : props) dev.append(',').append(p);
            return args(
                    "-chardev", "socket,id=" + id + ",path=" + qemuOpt(socket.toString()), "-device", dev.toString());
        }

        /** {@code vhost-user-fs-pci} with queue-size=1024 and the given tag on a virtiofsd-like socket. */
        public Builder vhostUserFs(Path socket, String tag) {
            return vhostUser("vhost-user-fs-pci", socket, "queue-size=1024", "tag=" + tag);
        }

        /** {@code -incoming <uri>}: start as a migration destination (e.g. {@code unix:/path}). */
        public Builder incoming(String uri) {
            this.incoming = uri;
            return this;
        }

        /** {@code -trace enable=<event>} for each event, written to {@code trace-<name>.log} (-D). */
        public Builder trace(String... events) {
            traceEvents.addAll(List.of(events));
            return this;
        }

        /**
         * Traces QEMU's migration downtime checkpoints with time stamps ({@code -msg
         * timestamp=on}), from which {@link GuestPause} reads how long the guest stood still.
         */
        public Builder traceDowntime() {
            if (!extraArgs.contains("timestamp=on")) extraArgs.addAll(List.of("-msg", "timestamp=on"));
            return trace("vmstate_downtime_checkpoint");
        }

        /** Traces the vhost-user messages QEMU sends and receives (vhost_user_write/read). */
        public Builder traceVhostUser() {
            return trace("vhost_user_write", "vhost_user_read");
        }

        /**
         * Processes whose death makes {@link #awaitSerialLine} fail at once (e.g. the back-end this
         * guest talks to).
         */
        public Builder watch(ManagedProcess... processes) {
            watched.addAll(List.of(processes));
            return this;
        }

        /** The command line {@link #start()} would run. */
        public List<String> argv() {
            TestDeps deps = run.deps();
            Path k = kernel != null ? kernel : KernelImage.forBoot();
            Path i = initrd != null ? initrd : Initramfs.standard();
            resolvedKernel = k;
            serialLog = run.logDir().resolve("serial-" + name + ".log");
            qmpSocket = run.runDir().resolve("qmp-" + name + ".sock");
            traceLog = run.logDir().resolve("trace-" + name + ".log");
            StringBuilder append = new StringBuilder("console=ttyS0 quiet panic=-1");
            if (scenario != null) append.append(" scenario=").append(scenario);
            kernelArgs.forEach(
                    (key, v) -> append.append(' ').append(key).append('=').append(v));
            extraAppend.forEach(w -> append.append(' ').append(w));
            List<String> a = new ArrayList<>(List.of(
                    deps.qemuBinary().toString(),
                    "-name",
                    name,
                    "-machine",
                    machine,
                    "-accel",
                    accel,
                    "-cpu",
                    cpu,
                    "-smp",
                    Integer.toString(smp),
                    "-m",
                    memory,
                    "-object",
                    "memory-backend-memfd,id=mem,size=" + memory + ",share=on",
                    "-numa",
                    "node,memdev=mem",
                    "-nodefaults",
                    "-display",
                    "none",
                    "-no-reboot",
                    "-kernel",
                    k.toString(),
                    "-initrd",
                    i.toString(),
                    "-append",
                    append.toString(),
                    "-serial",
                    "file:" + serialLog,
                    "-qmp",
                    "unix:" + qemuOpt(qmpSocket.toString()) + ",server=on,wait=off"));
            a.addAll(extraArgs);
            for (String e : traceEvents) a.addAll(List.of("-trace", "enable=" + e));
            if (!traceEvents.isEmpty()) a.addAll(List.of("-D", traceLog.toString()));
            if (incoming != null) a.addAll(List.of("-incoming", incoming));
            return a;
        }

        /** Starts QEMU (does not wait for the guest). */
        public QemuGuest start() {
            List<String> argv = argv();
            if (Files.exists(serialLog))
                throw new IllegalStateException("a guest named '" + name + "' already ran in " + run);
            try {
                Files.createFile(serialLog);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            ManagedProcess p = run.start("qemu-" + name, argv);
            return run.register(new QemuGuest(this, p));
        }
    }

    /** Escapes a value for QEMU's option syntax (a comma is written as two). */
    public static String qemuOpt(String value) {
        return value.replace(",", ",,");
    }
}
