package io.jvhost.nativeio;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * A struct file_handle from name_to_handle_at(2): identifies a file on its file system
 * independently of any path, so that open_by_handle_at(2) can reopen it (even after a rename),
 * together with the mount id the handle belongs to.
 */
public record FileHandle(int mountId, int type, byte[] bytes) {
    public FileHandle {
        bytes = bytes.clone();
    }

    @Override
    public byte[] bytes() {
        return bytes.clone();
    }

    /** The bytes themselves, not a copy: for this package's calls, which only read them. */
    byte[] bytesUncopied() {
        return bytes;
    }

    /**
     * Whether {@code other} names the same file as this handle: the same type and bytes, whatever
     * mount ids they were made with (each process has its own). No copy of either side's bytes.
     */
    public boolean sameTypeAndBytes(FileHandle other) {
        return other.type == type && Arrays.equals(other.bytes, bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FileHandle h && h.mountId == mountId && h.type == type && Arrays.equals(h.bytes, bytes);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * mountId + type) + Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "FileHandle[mount=" + mountId + ", type=" + type + ", "
                + HexFormat.of().formatHex(bytes) + "]";
    }
}
