package io.jvhost.cli;

import io.jvhost.nativeio.Libc;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.UnixSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * {@code --syslog}: the log lines go to the local syslog daemon (/dev/log, facility user, as
 * virtiofsd's), one datagram per line ({@code <PRI>TAG[PID]: message}), the severity taken from
 * the simple logger's level word. When there is no syslog to talk to, virtiofsd warns and logs
 * to stderr; so does this (see {@link #redirect}).
 */
final class SyslogOutput extends OutputStream {
    static final Path DEV_LOG = Path.of("/dev/log");
    private static final int FACILITY_USER = 1 << 3;

    private static boolean tried;

    private final UnixSocket socket;
    private final String tag;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    private SyslogOutput(UnixSocket socket, String tag) {
        this.socket = socket;
        this.tag = tag;
    }

    /**
     * Sends System.err's lines to syslog from now on; null if that worked (or was tried
     * before), else why not (the caller warns, and stderr stays).
     */
    static synchronized String redirect(String tag) {
        if (tried) return null; // done, or already warned about
        tried = true;
        try {
            UnixSocket socket = UnixSocket.connectDatagram(DEV_LOG);
            System.setErr(new PrintStream(new SyslogOutput(socket, tag), true, StandardCharsets.UTF_8));
            return null;
        } catch (NativeException e) {
            return e.getMessage();
        }
    }

    /** The datagram for one simple-logger line ({@code 12:00:00.000 [main] WARN X - text}). */
    static String message(String tag, long pid, String logLine) {
        return "<" + (FACILITY_USER | severity(logLine)) + ">" + tag + "[" + pid + "]: " + logLine;
    }

    /** syslog(3) severities: err 3, warning 4, info 6, debug 7. */
    static int severity(String logLine) {
        int bracket = logLine.indexOf("] ");
        String rest = bracket < 0 ? logLine : logLine.substring(bracket + 2);
        if (rest.startsWith("ERROR")) return 3;
        if (rest.startsWith("WARN")) return 4;
        if (rest.startsWith("DEBUG") || rest.startsWith("TRACE")) return 7;
        return 6;
    }

    @Override
    public synchronized void write(int b) throws IOException {
        if (b == '\n') flushLine();
        else line.write(b);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) throws IOException {
        for (int i = off; i < off + len; i++) write(b[i]);
    }

    private void flushLine() throws IOException {
        byte[] datagram = message(tag, ProcessHandle.current().pid(), line.toString(StandardCharsets.UTF_8))
                .getBytes(StandardCharsets.UTF_8);
        line.reset();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(datagram.length);
            MemorySegment.copy(datagram, 0, buf, ValueLayout.JAVA_BYTE, 0, datagram.length);
            Libc.write(socket.fd(), buf, datagram.length);
        } catch (NativeException e) {
            throw new IOException("syslog: " + e.getMessage(), e);
        }
    }
}
