package io.jvhost.testing.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A small QMP client over QEMU's unix socket ({@code -qmp unix:PATH,server=on,wait=off}).
 *
 * <p>{@link #connect} reads the greeting and negotiates {@code qmp_capabilities}. A reader thread
 * collects replies (matched by {@code id}) and asynchronous events ({@link #events()},
 * {@link #awaitEvent}). Every message in both directions is appended to an optional log file.
 * Error replies throw {@link QmpException}.
 */
public final class Qmp implements AutoCloseable {
    /** An error reply ({@code {"error": {"class": ..., "desc": ...}}}) or a lost connection. */
    public static final class QmpException extends RuntimeException {
        private final String errorClass;

        QmpException(String message, String errorClass) {
            super(message);
            this.errorClass = errorClass;
        }

        /** QMP's error class, e.g. "GenericError"; null if the connection failed. */
        public String errorClass() {
            return errorClass;
        }
    }

    /** The outcome of {@link #migrate}: the last {@code query-migrate} reply. */
    public record MigrationResult(String status, JsonNode info, Duration wallTime) {
        public boolean completed() {
            return "completed".equals(status);
        }

        /** {@code error-desc} of a failed migration, or null. */
        public String errorDesc() {
            return info.hasNonNull("error-desc") ? info.get("error-desc").asText() : null;
        }

        public long totalTimeMs() {
            return info.path("total-time").asLong(-1);
        }

        public long downtimeMs() {
            return info.path("downtime").asLong(-1);
        }

        public long setupTimeMs() {
            return info.path("setup-time").asLong(-1);
        }

        public long ramTransferredBytes() {
            return info.path("ram").path("transferred").asLong(-1);
        }

        /** Throws AssertionError unless the migration completed. */
        public MigrationResult requireCompleted() {
            if (!completed()) throw new AssertionError("migration " + status + ": " + errorDesc() + " " + info);
            return this;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final Set<String> MIGRATION_DONE = Set.of("completed", "failed", "cancelled");

    private final SocketChannel channel;
    private final Path log;
    private final JsonNode greeting;
    private final Thread reader;
    private final Object lock = new Object();
    private final Map<String, JsonNode> replies = new HashMap<>();
    private final Set<String> quietIds = new HashSet<>();
    private final List<JsonNode> events = new ArrayList<>();
    private final BufferedReader in;
    private volatile String readerFailure;
    private long nextId = 1;

    private Qmp(SocketChannel channel, Path log) throws IOException {
        this.channel = channel;
        this.log = log;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        String first = in.readLine();
        if (first == null) throw new IOException("QMP socket closed before the greeting");
        logLine("<-", first);
        greeting = JSON.readTree(first);
        if (!greeting.has("QMP")) throw new IOException("not a QMP greeting: " + first);
        reader = Thread.ofPlatform().daemon().name("qmp-reader " + channel).start(this::readLoop);
    }

    /**
     * Connects to {@code socket}, retrying until it accepts or {@code timeout} passes (QEMU creates
     * it early in start-up); fails fast if {@code qemu} (may be null) has exited. QMP traffic is
     * appended to {@code log} if not null.
     */
    public static Qmp connect(Path socket, Duration timeout, ManagedProcess qemu, Path log) {
        long deadline = System.nanoTime() + timeout.toNanos();
        IOException last = null;
        while (true) {
            if (qemu != null && !qemu.isAlive()) {
                throw new AssertionError("QEMU " + qemu.name() + " exited with code "
                        + qemu.process().exitValue() + " before QMP was reachable at " + socket + "; its output:\n"
                        + qemu.logTail(30));
            }
            if (UnixSockets.isSocket(socket)) {
                SocketChannel ch = null;
                try {
                    ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
                    Qmp qmp = new Qmp(ch, log);
                    qmp.execute("qmp_capabilities");
                    return qmp;
                } catch (IOException e) {
                    last = e;
                    if (ch != null) {
                        try {
                            ch.close();
                        } catch (IOException ignored) {
                            // retry
                        }
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("cannot connect to QMP at " + socket + " within " + TestRun.secs(timeout)
                        + (last == null ? "" : ": " + last));
            }
            UnixSockets.sleep(20);
        }
    }

    public static Qmp connect(Path socket, Duration timeout) {
        return connect(socket, timeout, null, null);
    }

    /** The greeting ({@code {"QMP": {"version": ..., "capabilities": [...]}}}). */
    public JsonNode greeting() {
        return greeting;
    }

    /** Runs {@code command} without arguments; returns its "return" value. */
    public JsonNode execute(String command) {
        return execute(command, (JsonNode) null, DEFAULT_TIMEOUT);
    }

    /** Runs {@code command} with {@code arguments} (converted by Jackson); returns "return". */
    public JsonNode execute(String command, Map<String, ?> arguments) {
        return execute(command, arguments == null ? null : JSON.valueToTree(arguments), DEFAULT_TIMEOUT);
    }

    /**
     * Sends {@code {"execute": command, "arguments": arguments, "id": ...}} and waits for its reply.
     * Events that arrive meanwhile are collected. Throws {@link QmpException} on an error reply, a
     * lost connection or a timeout.
     */
    public JsonNode execute(String command, JsonNode arguments, Duration timeout) {
        return execute(command, arguments, timeout, true);
    }

    private JsonNode execute(String command, JsonNode arguments, Duration timeout, boolean logIt) {
        String id;
        synchronized (lock) {
            id = "jvq-" + nextId++;
        }
        ObjectNode msg = JSON.createObjectNode();
        msg.put("execute", command);
        if (arguments != null && !arguments.isEmpty()) msg.set("arguments", arguments);
        msg.put("id", id);
        if (!logIt) {
            synchronized (lock) {
                quietIds.add(id);
            }
        }
        send(msg, logIt);
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (!replies.containsKey(id)) {
                if (readerFailure != null) throw new QmpException(command + ": " + readerFailure, null);
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new QmpException(command + ": no reply within " + TestRun.secs(timeout), null);
                waitNanos(left);
            }
            JsonNode reply = replies.remove(id);
            if (reply.has("error")) {
                JsonNode err = reply.get("error");
                throw new QmpException(
                        command + ": " + err.path("desc").asText(err.toString()),
                        err.path("class").asText(null));
            }
            return reply.get("return");
        }
    }

    /** Every event received so far (oldest first). */
    public List<JsonNode> events() {
        synchronized (lock) {
            return List.copyOf(events);
        }
    }

    /** Waits for an event named {@code name} (received at any time on this connection). */
    public JsonNode awaitEvent(String name, Duration timeout) {
        return awaitEvent(e -> name.equals(e.path("event").asText()), name, timeout);
    }

    public JsonNode awaitEvent(Predicate<JsonNode> match, String what, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lock) {
            while (true) {
                for (JsonNode e : events) {
                    if (match.test(e)) return e;
                }
                if (readerFailure != null)
                    throw new QmpException("waiting for event " + what + ": " + readerFailure, null);
                long left = deadline - System.nanoTime();
                if (left <= 0) throw new QmpException("no event " + what + " within " + TestRun.secs(timeout), null);
                waitNanos(left);
            }
        }
    }

    /** {@code query-status}'s "status": running, paused, inmigrate, postmigrate, shutdown, ... */
    public String queryStatus() {
        return execute("query-status").path("status").asText();
    }

    /** Polls {@code query-status} every 50 ms until it reports {@code status}. */
    public void awaitStatus(String status, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String now;
        while (!(now = execute("query-status", null, DEFAULT_TIMEOUT, false)
                        .path("status")
                        .asText())
                .equals(status)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(
                        "QEMU status is still '" + now + "', not '" + status + "', after " + TestRun.secs(timeout));
            }
            UnixSockets.sleep(50);
        }
        logLine("##", "status " + status);
    }

    public JsonNode queryMigrate() {
        return execute("query-migrate");
    }

    /** {@code migrate-set-capabilities} for the given capabilities. */
    public void setMigrationCapabilities(Map<String, Boolean> capabilities) {
        List<Map<String, Object>> caps = new ArrayList<>();
        capabilities.forEach((k, v) -> caps.add(Map.of("capability", k, "state", v)));
        execute("migrate-set-capabilities", Map.of("capabilities", caps));
    }

    /** {@code migrate-set-parameters}, e.g. {@code Map.of("downtime-limit", 300)}. */
    public void setMigrationParameters(Map<String, ?> parameters) {
        execute("migrate-set-parameters", parameters);
    }

    /**
     * Starts {@code migrate} to {@code uri} (e.g. {@code unix:/path} or {@code tcp:127.0.0.1:PORT})
     * and polls {@code query-migrate} every 50 ms until completed, failed or cancelled. On timeout it
     * sends {@code migrate_cancel} and throws. The result is returned whatever the final status;
     * use {@link MigrationResult#requireCompleted()}.
     */
    public MigrationResult migrate(String uri, Duration timeout) {
        long t0 = System.nanoTime();
        execute("migrate", Map.of("uri", uri));
        String last = null;
        while (true) {
            // Polls are not logged (20 a second); status changes and the final reply are.
            JsonNode info = execute("query-migrate", null, DEFAULT_TIMEOUT, false);
            String status = info.path("status").asText();
            if (!status.equals(last)) {
                logLine("##", String.format("%.3fs migration status=%s", (System.nanoTime() - t0) / 1e9, status));
                last = status;
            }
            if (MIGRATION_DONE.contains(status)) {
                logLine("##", "final query-migrate: " + info);
                return new MigrationResult(status, info, Duration.ofNanos(System.nanoTime() - t0));
            }
            if (System.nanoTime() - t0 > timeout.toNanos()) {
                try {
                    execute("migrate_cancel");
                } catch (QmpException ignored) {
                    // report the timeout
                }
                throw new AssertionError("migration to " + uri + " not finished after " + TestRun.secs(timeout)
                        + "; last query-migrate: " + info);
            }
            UnixSockets.sleep(50);
        }
    }

    /** Sends {@code quit}; a connection that closes before the reply counts as success. */
    public void quit() {
        try {
            execute("quit", (JsonNode) null, Duration.ofSeconds(10));
        } catch (QmpException e) {
            if (e.errorClass() != null) throw e;
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing
        }
        reader.interrupt();
    }

    private void send(JsonNode msg, boolean logIt) {
        String line;
        try {
            line = JSON.writeValueAsString(msg);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (logIt) logLine("->", line);
        ByteBuffer buf = ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8));
        try {
            synchronized (channel) {
                while (buf.hasRemaining()) channel.write(buf);
            }
        } catch (IOException e) {
            throw new QmpException("cannot send " + line + ": " + e, null);
        }
    }

    private void readLoop() {
        String why = "QMP connection closed";
        try {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.isBlank()) continue;
                JsonNode msg = JSON.readTree(line);
                synchronized (lock) {
                    if (!msg.has("id") || !quietIds.remove(msg.get("id").asText())) logLine("<-", line);
                    if (msg.has("event")) {
                        events.add(msg);
                    } else if (msg.has("id")) {
                        replies.put(msg.get("id").asText(), msg);
                    }
                    lock.notifyAll();
                }
            }
        } catch (IOException e) {
            why = "QMP connection lost: " + e;
        } finally {
            synchronized (lock) {
                readerFailure = why;
                lock.notifyAll();
            }
        }
    }

    private void waitNanos(long nanos) {
        try {
            lock.wait(Math.max(1, nanos / 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new QmpException("interrupted", null);
        }
    }

    private void logLine(String dir, String line) {
        if (log == null) return;
        try (Writer w = Files.newBufferedWriter(
                log, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            w.write(LocalTime.now() + " " + dir + " " + line + "\n");
        } catch (IOException ignored) {
            // best effort
        }
    }
}
