package io.jvhost.testing;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * A fault a {@link FaultInjectingDevice} puts into its own device-state transfer on purpose, so
 * that tests can prove a broken migration fails cleanly with real peers (QEMU cannot be asked to
 * damage the state it carries). Chosen per transfer (by the content of a file, or by the test
 * in-process), so one long-running back-end can be told to fail one migration and not the next.
 */
public enum StateFault {
    /** No fault. */
    NONE,
    /** Save: one byte in the middle of the blob flipped. */
    CORRUPT,
    /** Save: only the first half of the blob written. */
    TRUNCATE,
    /**
     * Save: the first section (virtio-fs: the FUSE session) claims a version one above what was
     * written, needing a reader of that version, as a newer jvhost's would; the checksum is made
     * to match, so only the version refuses it.
     */
    FUTURE_VERSION,
    /** Load: wait (a minute) before reading, so a test can kill the back-end mid-load. */
    STALL_LOAD,
    /** Save: the device refuses to save at all (a DeviceException before any byte). */
    REFUSE_SAVE,
    /** Load: the device reads the whole, well-formed state and then refuses it, as one that finds it unacceptable. */
    REFUSE_LOAD;

    /** docs/state-format.md: magic, le16 format version, u8 length and the device type. */
    private static final int MAGIC_AND_FORMAT = 8 + 2;

    /** The fault named in {@code file} (NONE if the file is null, missing or empty). */
    public static StateFault readFrom(Path file) {
        if (file == null) return NONE;
        try {
            String s = Files.readString(file).trim();
            return s.isEmpty() ? NONE : valueOf(s.toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IOException e) {
            return NONE;
        }
    }

    /** {@code blob} (a whole saved state) as this fault sends it. */
    public byte[] damage(byte[] blob) {
        return switch (this) {
            case NONE, STALL_LOAD, REFUSE_SAVE, REFUSE_LOAD -> blob;
            case CORRUPT -> {
                byte[] b = blob.clone();
                b[b.length / 2] ^= 0x10;
                yield b;
            }
            case TRUNCATE -> Arrays.copyOf(blob, blob.length / 2);
            case FUTURE_VERSION -> withFirstSectionFromTheFuture(blob);
        };
    }

    /**
     * Rewrites the first section header's version and minimum version (one-byte varints after the
     * 'S' tag and the name) to the version plus one, then the trailing CRC32C over all before it.
     */
    private static byte[] withFirstSectionFromTheFuture(byte[] blob) {
        byte[] b = blob.clone();
        int section = MAGIC_AND_FORMAT + 1 + (b[MAGIC_AND_FORMAT] & 0xFF);
        if (b[section] != 'S') throw new IllegalArgumentException("no section after the header");
        int version = section + 2 + (b[section + 1] & 0xFF);
        int newer = b[version] + 1;
        if (b[version] < 1 || newer > 0x7F || (b[version + 1] & 0x80) != 0) {
            throw new IllegalArgumentException("the first section's versions are not one-byte varints: "
                    + new String(b, section + 2, b[section + 1], StandardCharsets.US_ASCII));
        }
        b[version] = (byte) newer;
        b[version + 1] = (byte) newer;
        CRC32C crc = new CRC32C();
        crc.update(b, 0, b.length - 4);
        ByteBuffer.wrap(b, b.length - 4, 4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) crc.getValue());
        return b;
    }
}
