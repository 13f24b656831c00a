package io.jvhost.devices.fs.passthrough;

import io.jvhost.state.StateWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a whole virtio-fs device-state blob (the device's "fuse" section, then the passthrough
 * sections) around a snapshot that a test made up: what a hostile migration source would send
 * through SET_DEVICE_STATE_FD. The encoding is the real one (FsStateCodec), only the content lies.
 */
public final class CraftedDeviceState {
    private CraftedDeviceState() {}

    /** The FUSE session fields as FsDevice saves them: 7.41, 128 KiB readahead, 1 MiB writes. */
    public static byte[] blob(Path share, FsSnapshot snapshot, MigrationMode mode, long initFlags) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        StateWriter w = StateWriter.create(out, "virtio-fs");
        w.section(
                "fuse",
                1,
                1,
                o -> o.bool(true)
                        .u32(7)
                        .u32(41)
                        .u32(41)
                        .u32(128 * 1024)
                        .u64(initFlags)
                        .u32(16)
                        .u32(12)
                        .u32(1 << 20)
                        .u32(1)
                        .u32(256));
        FsStateCodec.write(
                new SavedFs(
                        snapshot,
                        mode,
                        ((Number) Files.getAttribute(share, "unix:dev")).longValue(),
                        ((Number) Files.getAttribute(share, "unix:ino")).longValue()),
                w);
        w.finish();
        return out.toByteArray();
    }
}
