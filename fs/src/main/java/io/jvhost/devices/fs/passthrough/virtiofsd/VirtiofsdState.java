package io.jvhost.devices.fs.passthrough.virtiofsd;

import java.util.List;
import java.util.Objects;

/**
 * virtiofsd's device state as it travels (virtiofsd 1.11 onwards,
 * {@code src/passthrough/device_state/serialized.rs}): {@code enum PassthroughFs { V1(..), V2(..) }}
 * in postcard. One record per serde type, fields in serde order; nothing here is checked for
 * meaning (that ids exist, names are safe): that is the importer's job, this is only the wire.
 *
 * @param version     which variant of the enum: V1 has no mount paths
 * @param inodes      every looked-up inode, in the source's order
 * @param nextInode   the next free inode id
 * @param handles     every open handle
 * @param nextHandle  the next free handle id (virtiofsd counts from 0)
 * @param mountPaths  V2: the source's mount ids (keys of file handles) as paths in the shared
 *                    directory, in wire order (a serde HashMap: the order is the source's)
 */
public record VirtiofsdState(
        Version version,
        List<Inode> inodes,
        long nextInode,
        List<Handle> handles,
        long nextHandle,
        NegotiatedOpts negotiatedOpts,
        List<MountPath> mountPaths) {

    public VirtiofsdState {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(negotiatedOpts, "negotiatedOpts");
        inodes = List.copyOf(inodes);
        handles = List.copyOf(handles);
        mountPaths = List.copyOf(mountPaths);
        if (version == Version.V1 && !mountPaths.isEmpty())
            throw new IllegalArgumentException("a V1 state has no mount paths");
    }

    /** The variants of {@code serialized::PassthroughFs}, by their postcard index. */
    public enum Version {
        V1,
        V2
    }

    /** {@code NegotiatedOpts}: what INIT enabled that the destination must keep enabled. */
    public record NegotiatedOpts(
            boolean writeback, boolean announceSubmounts, boolean posixAcl, boolean supGroupExtension) {}

    /** {@code Inode}: refcount is virtiofsd's, the guest's lookups plus its own references. */
    public record Inode(long id, long refcount, Location location, FileHandle fileHandle) {
        public Inode {
            Objects.requireNonNull(location, "location");
        }
    }

    /** {@code SerializableFileHandle}: mnt_id is the source's (a key of {@link #mountPaths}). */
    public record FileHandle(long mountId, int handleType, byte[] handle) {
        public FileHandle {
            handle = handle.clone();
        }

        @Override
        public byte[] handle() {
            return handle.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FileHandle f
                    && f.mountId == mountId
                    && f.handleType == handleType
                    && java.util.Arrays.equals(f.handle, handle);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(mountId) * 31 + handleType * 17 + java.util.Arrays.hashCode(handle);
        }

        @Override
        public String toString() {
            return "FileHandle[mnt " + mountId + ", type " + handleType + ", " + handle.length + " bytes]";
        }
    }

    /** {@code InodeLocation}, its variants in postcard index order. */
    public sealed interface Location {
        /** The shared directory itself: the destination finds it on its own. */
        record RootNode() implements Location {}

        /** A name in a parent inode. */
        record Path(long parent, String filename) implements Location {}

        /** The source lost this inode. */
        record Invalid() implements Location {}

        /** A path relative to the shared directory. */
        record FullPath(String filename) implements Location {}

        /** By file handle (virtiofsd's --migration-mode=file-handles). */
        record ByFileHandle(FileHandle handle) implements Location {}
    }

    /** {@code Handle}: an open file of {@code inode}. */
    public record Handle(long id, long inode, HandleSource source) {
        public Handle {
            Objects.requireNonNull(source, "source");
        }
    }

    /** {@code HandleSource}: how to reopen a handle. */
    public sealed interface HandleSource {
        /** Open the inode with these open(2) flags (O_DIRECTORY set for OPENDIR's handles). */
        record OpenInode(int flags) implements HandleSource {}
    }

    /** One entry of {@code mount_paths}. */
    public record MountPath(long mountId, String path) {
        public MountPath {
            Objects.requireNonNull(path, "path");
        }
    }
}
