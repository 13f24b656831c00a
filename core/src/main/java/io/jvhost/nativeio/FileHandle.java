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
