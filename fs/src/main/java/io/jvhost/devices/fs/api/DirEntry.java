package io.jvhost.devices.fs.api;

/**
 * One directory entry for READDIR/READDIRPLUS: host inode number, the offset of the
 * <em>next</em> entry (what the guest passes back to continue), the DT_* type and the name's
 * raw bytes (not necessarily UTF-8).
 */
public record DirEntry(long ino, long nextOffset, int type, byte[] name) {}
