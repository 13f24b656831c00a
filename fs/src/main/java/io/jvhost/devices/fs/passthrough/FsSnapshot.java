package io.jvhost.devices.fs.passthrough;

import io.jvhost.nativeio.FileHandle;
import java.util.List;

/**
 * A consistent, read-only copy of what a {@link PassthroughFs} knows about the guest's view:
 * everything a migration must carry to rebuild the same node ids and handles elsewhere.
 *
 * @param nextNodeId the node id the next new inode gets
 * @param nextFh     the fh the next open gets
 * @param initFlags  the FUSE_INIT flags negotiated with the guest (0 before INIT)
 * @param inodes     every node, root first, by node id
 * @param handles    every open handle, by fh
 */
public record FsSnapshot(
        long nextNodeId, long nextFh, long initFlags, List<InodeState> inodes, List<HandleState> handles) {

    /**
     * One node.
     *
     * @param lookups    the guest's lookup count
     * @param fileType   the S_IF* bits of its mode
     * @param location   where to find it by name, or null (unlinked, or the root)
     * @param fileHandle where to find it by handle, or null if the file system gives none
     */
    public record InodeState(
            long nodeId,
            long lookups,
            long dev,
            long ino,
            long mountId,
            int fileType,
            Location location,
            FileHandle fileHandle) {}

    /** One open handle: its fh, its node and the open(2) flags it was opened with. */
    public record HandleState(long fh, long nodeId, int flags, boolean directory) {}

    public InodeState inode(long nodeId) {
        return inodes.stream().filter(i -> i.nodeId() == nodeId).findFirst().orElse(null);
    }
}
