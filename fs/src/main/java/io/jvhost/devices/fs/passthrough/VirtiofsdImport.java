package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState;
import io.jvhost.nativeio.FileHandle;
import io.jvhost.nativeio.Libc;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * virtiofsd's device state as the {@link SavedFs} jvhost restores from, so that it goes through
 * the very restore its own state does ({@link FsRestorer}: by path, confined, under
 * --migration-on-error, in two phases). The structure is checked here as {@link FsStateCodec}
 * checks jvhost's (ids in range and unique, one root, parents that exist, names that are one
 * path component, handles of existing nodes), so a forged blob fails before any file is opened.
 *
 * <p>A refcount is virtiofsd's: the guest's lookups plus one per child found by path.
 *
 * <p>What virtiofsd does not carry is left for the host to answer: its inodes have no file type
 * (0: the restore takes the type it finds) and its shared directory no identity (dev/ino -1:
 * never the destination's own, so inode numbers are not compared, as virtiofsd's destination
 * does not compare them either). A node virtiofsd lost ({@code Invalid}) or described by its
 * source's file handle ({@code FileHandle}) is reopened by that handle on the destination's
 * shared directory's file system; a node virtiofsd lost gets neither path nor handle, so the
 * restore treats it by the error policy: the load fails, or that node answers EIO.
 */
final class VirtiofsdImport {
    private VirtiofsdImport() {}

    /**
     * {@code s} as jvhost's restore input. {@code shareDev}/{@code shareIno} are the destination's
     * shared directory: a state with nodes by file handle (virtiofsd's
     * {@code --migration-mode=file-handles}, whose users share one file system between source and
     * destination, as its own destination assumes) is restored on that directory's file system.
     */
    static SavedFs toSaved(VirtiofsdState s, long initFlags, long shareDev, long shareIno)
            throws FsStateCodec.StructureException {
        if (s.inodes().size() > FsStateCodec.MAX_NODES || s.handles().size() > FsStateCodec.MAX_NODES)
            throw new FsStateCodec.StructureException("more nodes or handles than a process can hold");
        if (s.nextInode() < 2) throw new FsStateCodec.StructureException("next_inode " + u(s.nextInode()));
        if (s.nextHandle() < 0) throw new FsStateCodec.StructureException("next_handle " + u(s.nextHandle()));
        Map<Long, VirtiofsdState.Inode> byId = new HashMap<>();
        for (VirtiofsdState.Inode n : s.inodes()) {
            if (n.id() < 1 || n.id() >= s.nextInode())
                throw new FsStateCodec.StructureException("inode id " + u(n.id()) + " out of range");
            if (byId.put(n.id(), n) != null) throw new FsStateCodec.StructureException("inode " + n.id() + " twice");
            boolean root = n.location() instanceof VirtiofsdState.Location.RootNode;
            if (root != (n.id() == FileSystem.ROOT_ID))
                throw new FsStateCodec.StructureException(
                        "inode " + n.id() + (root ? " given as the root node" : ", the root, given a location"));
        }
        List<FsSnapshot.InodeState> inodes = new ArrayList<>(s.inodes().size() + 1);
        if (s.inodes().isEmpty() && s.handles().isEmpty()) {
            // virtiofsd before the guest's INIT: not even the root is looked up yet.
            inodes.add(new FsSnapshot.InodeState(FileSystem.ROOT_ID, 0, 0, 0, 0, 0, null, null));
        } else if (!byId.containsKey(FileSystem.ROOT_ID)) {
            throw new FsStateCodec.StructureException("no root node");
        }
        // A virtiofsd refcount also counts one reference per child found by path (the child's
        // migration info holds its parent); its destination drops those once the children are
        // open, so the guest's lookups are what is left.
        Map<Long, Long> children = new HashMap<>();
        for (VirtiofsdState.Inode n : s.inodes()) {
            if (n.location() instanceof VirtiofsdState.Location.Path p) children.merge(p.parent(), 1L, Long::sum);
        }
        for (VirtiofsdState.Inode n : s.inodes()) {
            long lookups = n.refcount() - children.getOrDefault(n.id(), 0L);
            if (n.refcount() < 0 || lookups < 0)
                throw new FsStateCodec.StructureException("inode " + n.id() + " has refcount " + u(n.refcount())
                        + ", fewer than the children that hold it");
            // 0 for dev, ino and type: virtiofsd does not carry them; the restore takes what it finds.
            inodes.add(new FsSnapshot.InodeState(n.id(), lookups, 0, 0, 0, 0, location(n, byId), handle(n)));
        }
        inodes.sort(Comparator.comparingLong(FsSnapshot.InodeState::nodeId));
        Set<Long> fhs = new HashSet<>();
        List<FsSnapshot.HandleState> handles = new ArrayList<>(s.handles().size());
        for (VirtiofsdState.Handle h : s.handles()) {
            if (h.id() < 0 || h.id() >= s.nextHandle() || !fhs.add(h.id()))
                throw new FsStateCodec.StructureException("bad or repeated handle id " + u(h.id()));
            if (!byId.containsKey(h.inode()))
                throw new FsStateCodec.StructureException("handle " + h.id() + " of unknown inode " + u(h.inode()));
            int flags = switch (h.source()) {
                case VirtiofsdState.HandleSource.OpenInode o -> o.flags();
            };
            // OPENDIR's handles are virtiofsd's opens with O_DIRECTORY added.
            handles.add(new FsSnapshot.HandleState(h.id(), h.inode(), flags, (flags & Libc.O_DIRECTORY) != 0));
        }
        handles.sort(Comparator.comparingLong(FsSnapshot.HandleState::fh));
        // jvhost's own state keeps next fh >= 1; an fh no one holds yet is as good as virtiofsd's 0.
        FsSnapshot snap = new FsSnapshot(s.nextInode(), Math.max(1, s.nextHandle()), initFlags, inodes, handles);
        boolean byHandle =
                s.inodes().stream().anyMatch(n -> n.location() instanceof VirtiofsdState.Location.ByFileHandle);
        // --migration-verify-handles: handles beside the paths, to check that a path still names the file.
        boolean verify = s.inodes().stream().anyMatch(n -> n.fileHandle() != null);
        if (byHandle) return new SavedFs(snap, MigrationMode.FILE_HANDLES, shareDev, shareIno);
        // Handles mean something only on the file system they came from: with either, the source's
        // user has said it is this one (as virtiofsd's own destination takes it), so they are used.
        return verify
                ? new SavedFs(snap, MigrationMode.FIND_PATHS, shareDev, shareIno)
                : new SavedFs(snap, MigrationMode.FIND_PATHS, -1, -1);
    }

    /** Where a node is by file handle: its location's, or with verify-handles the one beside its path. */
    private static FileHandle handle(VirtiofsdState.Inode n) {
        VirtiofsdState.FileHandle h =
                n.location() instanceof VirtiofsdState.Location.ByFileHandle b ? b.handle() : n.fileHandle();
        // The source's mount id names a mount there; the restore decodes on the share's own mount.
        return h == null ? null : new FileHandle(0, h.handleType(), h.handle());
    }

    private static Location location(VirtiofsdState.Inode n, Map<Long, VirtiofsdState.Inode> byId)
            throws FsStateCodec.StructureException {
        return switch (n.location()) {
            case VirtiofsdState.Location.RootNode r -> null;
            case VirtiofsdState.Location.Invalid i -> null;
            case VirtiofsdState.Location.ByFileHandle h -> null;
            case VirtiofsdState.Location.Path p -> {
                if (!byId.containsKey(p.parent()))
                    throw new FsStateCodec.StructureException(
                            "inode " + n.id() + " lies in unknown inode " + u(p.parent()));
                yield new Location(p.parent(), component(n, p.filename()));
            }
            // virtiofsd 1.13 writes no full paths; one component is a name in the root, more would
            // need nodes the source never named, so they are refused rather than guessed.
            case VirtiofsdState.Location.FullPath p -> new Location(FileSystem.ROOT_ID, component(n, p.filename()));
        };
    }

    private static byte[] component(VirtiofsdState.Inode n, String name) throws FsStateCodec.StructureException {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        if (!Names.isValidComponent(b))
            throw new FsStateCodec.StructureException(
                    "inode " + n.id() + " has an invalid name (not one path component)");
        return b;
    }

    private static String u(long v) {
        return Long.toUnsignedString(v);
    }
}
