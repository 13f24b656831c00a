package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState;
import io.jvhost.nativeio.Libc;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A snapshot as virtiofsd's state (V2, find-paths), for a destination that is virtiofsd: the
 * inverse of {@link VirtiofsdImport}. What virtiofsd cannot be told becomes {@code Invalid}, which
 * its destination treats by its --migration-on-error (abort the load, or EIO for that inode): a
 * node without a name (the guest unlinked it while holding it open; jvhost would reopen it by
 * file handle, virtiofsd's find-paths mode cannot) and a name that is not UTF-8 (virtiofsd's
 * format carries names as Strings).
 */
final class VirtiofsdExport {
    private static final Logger LOG = LoggerFactory.getLogger(VirtiofsdExport.class);
    /** virtiofsd's root starts at refcount 2 ("what libfuse does"); less could let it drop its root. */
    private static final long VIRTIOFSD_ROOT_REFCOUNT = 2;

    private VirtiofsdExport() {}

    static VirtiofsdState toVirtiofsd(FsSnapshot s) {
        Map<Long, VirtiofsdState.Location> locations = new HashMap<>();
        Map<Long, Long> children = new HashMap<>();
        int lost = 0;
        for (FsSnapshot.InodeState n : s.inodes()) {
            VirtiofsdState.Location loc;
            if (n.nodeId() == FileSystem.ROOT_ID) {
                loc = new VirtiofsdState.Location.RootNode();
            } else {
                String name = n.location() == null ? null : utf8(n.location().name());
                if (name == null) {
                    loc = new VirtiofsdState.Location.Invalid();
                    lost++;
                } else {
                    loc = new VirtiofsdState.Location.Path(n.location().parentId(), name);
                    children.merge(n.location().parentId(), 1L, Long::sum);
                }
            }
            locations.put(n.nodeId(), loc);
        }
        if (lost > 0) {
            LOG.warn(
                    "migration to virtiofsd: {} nodes have no name virtiofsd can use (unlinked while open, or not"
                            + " UTF-8); its destination treats them by its --migration-on-error",
                    lost);
        }
        List<VirtiofsdState.Inode> inodes = new ArrayList<>(s.inodes().size());
        for (FsSnapshot.InodeState n : s.inodes()) {
            // virtiofsd's refcount also holds one reference per child found by path, which its
            // destination drops once the child is open.
            long own = n.nodeId() == FileSystem.ROOT_ID ? Math.max(VIRTIOFSD_ROOT_REFCOUNT, n.lookups()) : n.lookups();
            inodes.add(new VirtiofsdState.Inode(
                    n.nodeId(), own + children.getOrDefault(n.nodeId(), 0L), locations.get(n.nodeId()), null));
        }
        List<VirtiofsdState.Handle> handles = new ArrayList<>(s.handles().size());
        for (FsSnapshot.HandleState h : s.handles()) {
            // virtiofsd reopens a directory handle with the flags it records, O_DIRECTORY among them.
            int flags = h.directory() ? h.flags() | Libc.O_DIRECTORY : h.flags();
            handles.add(
                    new VirtiofsdState.Handle(h.fh(), h.nodeId(), new VirtiofsdState.HandleSource.OpenInode(flags)));
        }
        var opts = new VirtiofsdState.NegotiatedOpts(
                (s.initFlags() & PassthroughFs.FUSE_WRITEBACK_CACHE) != 0,
                (s.initFlags() & PassthroughFs.FUSE_SUBMOUNTS) != 0,
                false,
                (s.initFlags() & PassthroughFs.FUSE_CREATE_SUPP_GROUP) != 0);
        return new VirtiofsdState(
                VirtiofsdState.Version.V2, inodes, s.nextNodeId(), handles, s.nextFh(), opts, List.of());
    }

    private static String utf8(byte[] name) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(name))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
