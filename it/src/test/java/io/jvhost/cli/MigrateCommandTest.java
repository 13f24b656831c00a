package io.jvhost.cli;

import static org.junit.jupiter.api.Assertions.*;

import io.jvhost.migration.FsPair;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code jvhost migrate send} and {@code receive} against two jvhost fs back-ends: each opens its
 * own front-end session, A's (fresh) state crosses the stream, B parses it and CHECK passes.
 */
class MigrateCommandTest {
    private static final Pattern LISTENING = Pattern.compile("listening on /?127\\.0\\.0\\.1:(\\d+)");

    @TempDir
    Path dir;

    private FsPair pair;

    @BeforeEach
    void start() throws Exception {
        pair = new FsPair(dir);
    }

    @AfterEach
    void stop() throws Exception {
        pair.close();
    }

    private record Run(CompletableFuture<Integer> exit, StringWriter out, StringWriter err) {
        String text() {
            synchronized (out) {
                return out.toString();
            }
        }
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        CompletableFuture<Integer> exit = new CompletableFuture<>();
        // Own threads: the common pool may have a single worker on a small machine.
        Thread.ofPlatform().daemon().name("jvhost-" + args[1]).start(() -> exit.complete(cl.execute(args)));
        return new Run(exit, out, err);
    }

    private static int portOf(Run receiver) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            Matcher m = LISTENING.matcher(receiver.text());
            if (m.find()) return Integer.parseInt(m.group(1));
            assertFalse(receiver.exit().isDone(), () -> "receiver ended: " + receiver.text() + receiver.err());
            Thread.sleep(20);
        }
        throw new AssertionError("the receiver never listened: " + receiver.text());
    }

    @Test
    void sendAndReceiveMoveAndCheckTheState() throws Exception {
        Run receiver = run("migrate", "receive", "--socket", pair.socketB.toString(), "--listen", "127.0.0.1:0");
        int port = portOf(receiver);
        Run sender = run(
                "migrate", "send", "--socket", pair.socketA.toString(), "--to", "127.0.0.1:" + port, "--channels", "3");
        assertEquals(0, sender.exit().get(20, TimeUnit.SECONDS), () -> sender.text() + sender.err());
        assertEquals(0, receiver.exit().get(20, TimeUnit.SECONDS), () -> receiver.text() + receiver.err());

        Matcher sent =
                Pattern.compile("state\\s+(\\d+) bytes over 3 channel\\(s\\)").matcher(sender.text());
        assertTrue(sent.find(), sender.text());
        assertTrue(sender.text().contains("its CHECK passed"), sender.text());
        Matcher loaded =
                Pattern.compile("loaded (\\d+) bytes of state over 3 channel").matcher(receiver.text());
        assertTrue(loaded.find(), receiver.text());
        assertEquals(sent.group(1), loaded.group(1), "B loaded what A saved");
        assertTrue(Long.parseLong(sent.group(1)) > 0);
        assertTrue(receiver.text().contains("CHECK on B passed"), receiver.text());
    }

    @Test
    void aReceiverForAnotherDeviceTypeRefusesAndTheSenderFails() throws Exception {
        Run receiver = run(
                "migrate",
                "receive",
                "--socket",
                pair.socketB.toString(),
                "--listen",
                "127.0.0.1:0",
                "--device-type",
                "virtio-net");
        int port = portOf(receiver);
        Run sender = run("migrate", "send", "--socket", pair.socketA.toString(), "--to", "127.0.0.1:" + port);
        assertNotEquals(0, sender.exit().get(20, TimeUnit.SECONDS));
        assertNotEquals(0, receiver.exit().get(20, TimeUnit.SECONDS));
        assertTrue(
                sender.err().toString().contains("virtio-net")
                        || sender.err().toString().contains("virtio-fs"),
                sender.err().toString());
    }

    @Test
    void progressLineShowsBytesRateAndEta() {
        var bar = MigrateCommand.ProgressBar.forTerminal(new PrintWriter(new StringWriter()), "sent");
        String known = bar.line(
                new io.jvhost.migration.Progress(3 << 20, 4 << 20, 3, java.time.Duration.ofSeconds(3), 1 << 20, false));
        assertTrue(
                known.contains("75%") && known.contains("sent 3.0 MiB at 1.0 MiB/s") && known.contains("ETA 1.0 s"),
                known);
        String unknown =
                bar.line(new io.jvhost.migration.Progress(512, -1, 1, java.time.Duration.ofSeconds(1), 512, false));
        assertTrue(unknown.startsWith("sent 512 B at 512 B/s, ETA unknown"), unknown);
    }
}
