package io.jvhost.testing.qemu;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A guest's serial console as QEMU writes it to a file (QEMU's {@code -serial file:}, libvirt's
 * {@code <serial type='file'>}): its lines as they come, and waiting for one that matches.
 */
public final class SerialConsole {
    private final Path file;
    private final List<String> lines = new ArrayList<>();
    private long offset;
    private byte[] partial = new byte[0];

    public SerialConsole(Path file) {
        this.file = file;
    }

    public Path path() {
        return file;
    }

    /** The lines so far; the unfinished last one too if {@code all} (the writer has stopped). */
    public synchronized List<String> lines(boolean all) {
        refresh(all);
        return List.copyOf(lines);
    }

    /**
     * Waits until a line from {@code fromLine} on matches {@code pattern} ({@link Matcher#find()},
     * so anchor with {@code ^} as needed) and returns the match. {@code stopped} says why no line can
     * come any more (the writer exited, a process the guest needs died), checked while waiting;
     * {@code failure} turns that reason, or the timeout, into the error thrown.
     */
    public MatchResult await(
            Pattern pattern,
            Duration timeout,
            int fromLine,
            Supplier<Optional<String>> stopped,
            Function<String, AssertionError> failure) {
        long deadline = System.nanoTime() + timeout.toNanos();
        int scanned = fromLine;
        while (true) {
            Optional<String> why = stopped.get();
            synchronized (this) {
                refresh(why.isPresent());
                for (; scanned < lines.size(); scanned++) {
                    Matcher m = pattern.matcher(lines.get(scanned));
                    if (m.find()) return m.toMatchResult();
                }
            }
            if (why.isPresent())
                throw failure.apply(why.get() + " before the serial console printed /" + pattern + "/");
            if (System.nanoTime() > deadline) {
                throw failure.apply("timed out after " + TestRun.secs(timeout) + " waiting for /" + pattern + "/");
            }
            UnixSockets.sleep(50);
        }
    }

    /** Reads what was appended to the file; complete lines only unless {@code all}. */
    private void refresh(boolean all) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long len = f.length();
            if (len > offset) {
                byte[] chunk = new byte[(int) (len - offset)];
                f.seek(offset);
                f.readFully(chunk);
                offset = len;
                byte[] data = new byte[partial.length + chunk.length];
                System.arraycopy(partial, 0, data, 0, partial.length);
                System.arraycopy(chunk, 0, data, partial.length, chunk.length);
                int start = 0;
                for (int i = 0; i < data.length; i++) {
                    if (data[i] == '\n') {
                        lines.add(line(data, start, i));
                        start = i + 1;
                    }
                }
                partial = Arrays.copyOfRange(data, start, data.length);
            }
        } catch (IOException e) {
            // not created yet
        }
        if (all && partial.length > 0) {
            lines.add(line(partial, 0, partial.length));
            partial = new byte[0];
        }
    }

    private static String line(byte[] data, int from, int to) {
        return new String(data, from, to - from, StandardCharsets.ISO_8859_1).replace("\r", "");
    }
}
