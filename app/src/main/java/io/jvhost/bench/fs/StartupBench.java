package io.jvhost.bench.fs;

import java.io.IOException;
import java.io.PrintStream;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * How fast a virtio-fs daemon is ready and how much it holds while idle, jvhost's next to
 * virtiofsd in one run: each round starts each daemon once (alternating who goes first), times
 * exec → its socket at the path (jvhost binds a staging name and links it into place once
 * listening; virtiofsd binds the path and listens right after), lets it settle, reads VmRSS (with
 * its RssAnon and RssFile parts, see {@link ProcStatus}) and Threads from /proc/PID/status, then connects once to check it was listening (not before:
 * virtiofsd serves one front-end and exits when it leaves) and stops it; then starts it again and
 * times exec → the reply to VHOST_USER_GET_FEATURES, since a daemon may listen (jvhost does, see
 * cli/EarlyListener) well before it serves. Not a test: numbers
 * depend on the machine.
 */
public final class StartupBench {
    /**
     * @param rounds    starts of each daemon
     * @param settle    how long a daemon idles after listening before its footprint is read
     * @param virtiofsd "auto", a path to virtiofsd or to its unpacked root, or "none"
     * @param jvmArgs   extra JVM options for jvhost (e.g. one being evaluated)
     */
    public record Options(int rounds, Duration settle, String virtiofsd, List<String> jvmArgs) {
        public Options {
            if (rounds < 1) throw new IllegalArgumentException("rounds must be at least 1: " + rounds);
            jvmArgs = List.copyOf(jvmArgs);
        }
    }

    /**
     * Two starts: exec → listening, and the idle process's resident set and thread count; and
     * exec → the reply to a front-end's first message (a daemon may listen before it serves).
     */
    public record Sample(
            double listeningMillis,
            long rssKib,
            long rssAnonKib,
            long rssFileKib,
            int threads,
            double firstReplyMillis) {}

    /** One daemon's samples, in start order. */
    public record Result(String name, List<Sample> samples) {
        double[] listeningMillis() {
            return samples.stream().mapToDouble(Sample::listeningMillis).toArray();
        }

        double[] firstReplyMillis() {
            return samples.stream().mapToDouble(Sample::firstReplyMillis).toArray();
        }

        double[] rssMib() {
            return samples.stream().mapToDouble(s -> s.rssKib() / 1024.0).toArray();
        }

        double[] rssAnonMib() {
            return samples.stream().mapToDouble(s -> s.rssAnonKib() / 1024.0).toArray();
        }

        double[] rssFileMib() {
            return samples.stream().mapToDouble(s -> s.rssFileKib() / 1024.0).toArray();
        }

        double[] threads() {
            return samples.stream().mapToDouble(Sample::threads).toArray();
        }
    }

    private static final Duration LISTEN_TIMEOUT = Duration.ofSeconds(60);

    private final Options options;
    private final PrintStream out;

    public StartupBench(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    /** Runs every round, prints the table, returns jvhost's result and virtiofsd's if found. */
    public List<Result> run() throws IOException {
        Path work = Files.createTempDirectory("jvhost-bench-startup");
        List<Daemon> daemons = new ArrayList<>();
        BackendProcess.Command jvhost = BackendProcess.jvhostCommand(options.jvmArgs());
        daemons.add(new Daemon("jvhost", jvhost.withArgs(List.of("fs", "--log-level", "warn")), work));
        Optional<List<String>> vfsd =
                "none".equals(options.virtiofsd()) ? Optional.empty() : VirtiofsdLocator.find(options.virtiofsd());
        if (vfsd.isPresent()) {
            List<String> argv = BackendProcess.virtiofsdArgv(vfsd.get(), 0);
            daemons.add(new Daemon("virtiofsd", new BackendProcess.Command(argv), work));
        }
        out.printf(
                Locale.ROOT,
                "%d rounds, alternating; exec -> socket listening, then VmRSS and Threads after %d ms idle; "
                        + "%d CPUs%n  jvhost: %s%n",
                options.rounds(),
                options.settle().toMillis(),
                Runtime.getRuntime().availableProcessors(),
                String.join(" ", jvhost.argv()));
        if (vfsd.isEmpty()) out.println("virtiofsd not found (" + options.virtiofsd() + "): measuring jvhost alone");
        List<List<Sample>> samples = new ArrayList<>();
        for (int i = 0; i < daemons.size(); i++) samples.add(new ArrayList<>());
        for (int round = 0; round < options.rounds(); round++) {
            for (int k = 0; k < daemons.size(); k++) {
                int i = (round + k) % daemons.size();
                samples.get(i).add(daemons.get(i).measure(options.settle()));
            }
        }
        List<Result> results = new ArrayList<>();
        for (int i = 0; i < daemons.size(); i++) results.add(new Result(daemons.get(i).name, samples.get(i)));
        print(results);
        FsBench.deleteTree(work);
        return results;
    }

    private void print(List<Result> results) {
        out.printf(
                Locale.ROOT,
                "%-18s %-26s %-26s %-24s %-24s %-24s %s%n",
                "",
                "listening ms",
                "first reply ms",
                "idle RSS MiB",
                "RssAnon MiB",
                "RssFile MiB",
                "threads");
        for (Result r : results) {
            out.printf(
                    Locale.ROOT,
                    "%-18s %-26s %-26s %-24s %-24s %-24s %s%n",
                    r.name(),
                    spread(r.listeningMillis()),
                    spread(r.firstReplyMillis()),
                    spread(r.rssMib()),
                    spread(r.rssAnonMib()),
                    spread(r.rssFileMib()),
                    spread(r.threads()));
        }
        if (results.size() == 2) {
            Result j = results.get(0), v = results.get(1);
            out.printf(
                    Locale.ROOT,
                    "%-18s %-26s %-26s %-24s %-24s %-24s %s%n",
                    "jvhost/virtiofsd",
                    ratio(j.listeningMillis(), v.listeningMillis()),
                    ratio(j.firstReplyMillis(), v.firstReplyMillis()),
                    ratio(j.rssMib(), v.rssMib()),
                    ratio(j.rssAnonMib(), v.rssAnonMib()),
                    ratio(j.rssFileMib(), v.rssFileMib()),
                    ratio(j.threads(), v.threads()));
        }
    }

    /** "median (min-max)". */
    static String spread(double[] v) {
        double min = Double.MAX_VALUE, max = -Double.MAX_VALUE;
        for (double x : v) {
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        return String.format(Locale.ROOT, "%.1f (%.1f-%.1f)", FsBench.median(v), min, max);
    }

    private static String ratio(double[] a, double[] b) {
        return String.format(Locale.ROOT, "%.1fx", FsBench.median(a) / FsBench.median(b));
    }

    /** A daemon started afresh for each sample, on its own socket and shared directory. */
    private static final class Daemon {
        final String name;
        final BackendProcess.Command command;
        final Path socket;
        final Path shared;
        final Path log;

        Daemon(String name, BackendProcess.Command command, Path work) throws IOException {
            this.name = name;
            this.command = command;
            this.socket = work.resolve(name + ".sock");
            this.shared = Files.createDirectories(work.resolve(name + "-shared"));
            this.log = work.resolve(name + ".log");
        }

        Sample measure(Duration settle) throws IOException {
            long start = System.nanoTime();
            Process p = start();
            double listening;
            ProcStatus s;
            try {
                awaitListening(p, start);
                listening = (System.nanoTime() - start) / 1e6;
                sleep(settle);
                s = ProcStatus.of(p.pid());
                SocketChannel.open(UnixDomainSocketAddress.of(socket)).close(); // connected: it was listening
            } finally {
                stop(p);
            }
            // A start of its own: a front-end connected from the start would change the idle footprint.
            start = System.nanoTime();
            p = start();
            try {
                awaitListening(p, start);
                firstReply(p, start);
                return new Sample(
                        listening,
                        s.rssKib(),
                        s.rssAnonKib(),
                        s.rssFileKib(),
                        s.threads(),
                        (System.nanoTime() - start) / 1e6);
            } finally {
                stop(p);
            }
        }

        private Process start() throws IOException {
            Files.deleteIfExists(socket);
            BackendProcess.Command c =
                    command.withArgs(List.of("--socket-path", socket.toString(), "--shared-dir", shared.toString()));
            return c.processBuilder()
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
        }

        /**
         * Connects (virtiofsd binds before it listens: a refused connect is tried again) and waits
         * for the reply to VHOST_USER_GET_FEATURES, a front-end's first message.
         */
        private void firstReply(Process p, long start) throws IOException {
            SocketChannel ch = null;
            while (ch == null) {
                try {
                    ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                } catch (java.net.ConnectException refused) {
                    if (!p.isAlive()) throw new IOException(name + " exited with " + p.exitValue() + "; see " + log);
                    if (System.nanoTime() - start > LISTEN_TIMEOUT.toNanos()) throw refused;
                    sleep(Duration.ofNanos(500_000));
                }
            }
            try (SocketChannel c = ch) {
                // Header: request 1 (GET_FEATURES), flags 1 (version), size 0; little-endian.
                java.nio.ByteBuffer request = java.nio.ByteBuffer.allocate(12).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                request.putInt(1).putInt(1).putInt(0).flip();
                while (request.hasRemaining()) c.write(request);
                java.nio.ByteBuffer reply = java.nio.ByteBuffer.allocate(20).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                while (reply.hasRemaining()) {
                    if (c.read(reply) < 0) throw new IOException(name + ": closed before replying to GET_FEATURES");
                }
                if (reply.getInt(0) != 1 || (reply.getInt(4) & 0x4) == 0 || reply.getInt(8) != 8)
                    throw new IOException(name + ": not a GET_FEATURES reply");
            }
        }

        private static void stop(Process p) {
            p.destroy();
            try {
                if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void awaitListening(Process p, long start) throws IOException {
            while (!Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                if (!p.isAlive()) throw new IOException(name + " exited with " + p.exitValue() + "; see " + log);
                if (System.nanoTime() - start > LISTEN_TIMEOUT.toNanos())
                    throw new IOException(name + ": not listening after " + LISTEN_TIMEOUT + "; see " + log);
                sleep(Duration.ofNanos(500_000));
            }
        }

        private static void sleep(Duration d) throws IOException {
            try {
                Thread.sleep(d);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
    }
}
