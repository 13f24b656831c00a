package io.jvhost.testing.qemu;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * A child process started by a {@link ProcessGroup}: its stdout and stderr go to one log file
 * ({@link #log()}). {@link #stop(Duration)} / {@link #close()} end this process and its descendants,
 * found through {@link ProcessHandle} by PID, and nothing else.
 */
public final class ManagedProcess implements AutoCloseable {
    private final String name;
    private final List<String> argv;
    private final Process process;
    private final Path log;
    private final long startNanos;

    ManagedProcess(String name, List<String> argv, Process process, Path log, long startNanos) {
        this.name = name;
        this.argv = List.copyOf(argv);
        this.process = process;
        this.log = log;
        this.startNanos = startNanos;
    }

    public String name() {
        return name;
    }

    public List<String> argv() {
        return argv;
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    public ProcessHandle handle() {
        return process.toHandle();
    }

    /** The file that receives the process's stdout and stderr. */
    public Path log() {
        return log;
    }

    /** {@link System#nanoTime()} when the process was started. */
    public long startNanos() {
        return startNanos;
    }

    public Duration sinceStart() {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The exit code, if the process has ended. */
    public OptionalInt exitCode() {
        return process.isAlive() ? OptionalInt.empty() : OptionalInt.of(process.exitValue());
    }

    /** Waits up to {@code timeout} for the process to end; true if it has. */
    public boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /**
     * Fails (AssertionError with the log tail) if the process has ended; for checking that a
     * back-end is still there.
     */
    public void assertAlive() {
        if (!process.isAlive()) {
            throw new AssertionError(name + " (pid " + pid() + ") exited with code " + process.exitValue()
                    + "; last lines of " + log + ":\n" + logTail(30));
        }
    }

    /**
     * Waits until a line of this process's log matches {@code pattern} ({@link java.util.regex.Matcher#find()});
     * fails with the log tail if the process exits first or on timeout.
     */
    public java.util.regex.MatchResult awaitLogLine(java.util.regex.Pattern pattern, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean exited = !process.isAlive();
            try {
                for (String line : java.nio.file.Files.readAllLines(log, StandardCharsets.ISO_8859_1)) {
                    java.util.regex.Matcher m = pattern.matcher(line);
                    if (m.find()) return m.toMatchResult();
                }
            } catch (IOException e) {
                // not there yet
            }
            if (exited || System.nanoTime() > deadline) {
                throw new AssertionError(name + " (pid " + pid() + ") "
                        + (exited
                                ? "exited with code " + process.exitValue()
                                : "still running after " + TestRun.secs(timeout))
                        + " without logging /" + pattern + "/; last lines of " + log + ":\n" + logTail(30));
            }
            UnixSockets.sleep(50);
        }
    }

    /** The last {@code lines} lines of the log (at most 64 KiB are read). */
    public String logTail(int lines) {
        return tail(log, lines);
    }

    /** Sends SIGKILL to the process only (e.g. to simulate a back-end crash). */
    public void kill() {
        process.destroyForcibly();
    }

    /**
     * SIGTERM to the process and its descendants, SIGKILL to whatever is left after {@code grace}.
     * Returns the exit code, or -1 if it could not be reaped.
     */
    public int stop(Duration grace) {
        List<ProcessHandle> all = new ArrayList<>();
        if (process.isAlive()) {
            process.toHandle().descendants().forEach(all::add);
        }
        all.addFirst(process.toHandle());
        for (ProcessHandle h : all) {
            if (h.isAlive()) h.destroy();
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (ProcessHandle h : all) {
            long left = deadline - System.nanoTime();
            try {
                if (left > 0) h.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (Exception ignored) {
                // timed out or interrupted: killed below
            }
        }
        for (ProcessHandle h : all) {
            if (h.isAlive()) h.destroyForcibly();
        }
        ProcessLauncher.forget(this);
        try {
            return process.waitFor(5, TimeUnit.SECONDS) ? process.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** {@link #stop(Duration)} with 5 s of grace. */
    @Override
    public void close() {
        stop(Duration.ofSeconds(5));
    }

    @Override
    public String toString() {
        return name + "[pid " + pid() + (isAlive() ? ", running" : ", exited " + process.exitValue()) + "]";
    }

    /** The last {@code lines} lines of a text file (at most its last 64 KiB); "" if unreadable. */
    static String tail(Path file, int lines) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            long from = Math.max(0, len - 65536);
            byte[] buf = new byte[(int) (len - from)];
            f.seek(from);
            f.readFully(buf);
            String text = new String(buf, StandardCharsets.UTF_8).replace("\r", "");
            String[] all = text.split("\n", -1);
            int end = all.length;
            if (end > 0 && all[end - 1].isEmpty()) end--;
            int start = Math.max(0, end - lines);
            return String.join("\n", java.util.Arrays.asList(all).subList(start, end));
        } catch (IOException e) {
            return "(cannot read " + file + ": " + e.getMessage() + ")";
        }
    }
}
