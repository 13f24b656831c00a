package io.jvhost.nativeio;

import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Reads files of /proc whole. They report a size of 0 and some (sysctl files such as
 * /proc/sys/kernel/cap_last_cap) answer a read sized from that with less than they hold, so
 * Files.readString can see "4" of "40": these are read with plain read(2) calls until EOF.
 */
public final class ProcFiles {
    private ProcFiles() {}

    public static byte[] read(Path file) throws IOException {
        try (InputStream in = new FileInputStream(file.toFile())) {
            return in.readAllBytes();
        }
    }

    public static String readString(Path file) throws IOException {
        return new String(read(file), StandardCharsets.ISO_8859_1);
    }
}
