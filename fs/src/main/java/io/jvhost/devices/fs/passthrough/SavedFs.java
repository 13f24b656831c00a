package io.jvhost.devices.fs.passthrough;

/**
 * What a {@link PassthroughFs} migrates: its snapshot, the mode the source chose, and the
 * identity of the source's shared directory (so the destination can tell whether it serves the
 * very same directory, where inode numbers must match).
 */
public record SavedFs(FsSnapshot snapshot, MigrationMode sourceMode, long rootDev, long rootIno) {}
