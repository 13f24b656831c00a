package io.jvhost.devices.fs.passthrough;

import io.jvhost.devices.fs.api.FileSystem;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.nativeio.Fd;
import io.jvhost.nativeio.FileCalls;
import io.jvhost.nativeio.NativeException;
import io.jvhost.nativeio.Stat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * --migration-confirm-paths (virtiofsd's): at switch-over, before the state is written, checks
 * that every saved location (parent node + name, as lookups, renames and unlinks by the guest left
 * it) still names that node's inode. Someone on the host may have renamed or removed the file
 * behind the daemon's back; such a location is replaced by where the node's own descriptor says
 * the file is now (its /proc/self/fd link), if that is a name in a directory the guest knows, and
 * dropped otherwise, so the destination finds the node by handle or handles it by
 * --migration-on-error instead of opening another file under the old name. One openat and fstat
 * per node with a location, inside the downtime: the price virtiofsd documents for the flag.
 */
final class PathConfirmation {
    private static final Logger LOG = LoggerFactory.getLogger(PathConfirmation.class);
    private static final String DELETED = " (deleted)";

    private final InodeTable inodes;
    private final String rootPath;
    private int moved, lost;

    private PathConfirmation(InodeTable inodes, String rootPath) {
        this.inodes = inodes;
        this.rootPath = rootPath;
    }

    /** {@code snap} with every location confirmed, corrected or dropped; call with no request in flight. */
    static FsSnapshot confirm(FsSnapshot snap, InodeTable inodes) throws NativeException {
        long t0 = System.nanoTime();
        String root = link(inodes.root().fd());
        PathConfirmation c = new PathConfirmation(inodes, root.endsWith("/") ? root : root + "/");
        List<FsSnapshot.InodeState> out = new ArrayList<>(snap.inodes().size());
        for (FsSnapshot.InodeState n : snap.inodes()) out.add(c.confirmed(n));
        LOG.info(
                "migration: confirmed the paths of {} inodes in {} ms: {} found elsewhere, {} without a path now",
                out.size(),
                PassthroughFs.ms(System.nanoTime() - t0),
                c.moved,
                c.lost);
        return new FsSnapshot(snap.nextNodeId(), snap.nextFh(), snap.initFlags(), out, snap.handles());
    }

    private FsSnapshot.InodeState confirmed(FsSnapshot.InodeState n) {
        if (n.location() == null) return n;
        try (Inode node = inodes.pin(n.nodeId())) {
            if (names(n.location(), node)) return n;
            Location now = located(node);
            if (now == null) {
                lost++;
                LOG.warn(
                        "migration: node {} ({}) is no longer there and has no other path: saved without one",
                        n.nodeId(),
                        n.location());
            } else {
                moved++;
                LOG.info(
                        "migration: node {} moved from {} to {} behind the guest's back",
                        n.nodeId(),
                        n.location(),
                        now);
            }
            return new FsSnapshot.InodeState(
                    n.nodeId(), n.lookups(), n.dev(), n.ino(), n.mountId(), n.fileType(), now, n.fileHandle());
        } catch (FsException | NativeException e) {
            lost++;
            LOG.warn("migration: node {} ({}): {}: saved without a path", n.nodeId(), n.location(), e.getMessage());
            return new FsSnapshot.InodeState(
                    n.nodeId(), n.lookups(), n.dev(), n.ino(), n.mountId(), n.fileType(), null, n.fileHandle());
        }
    }

    /** Whether {@code loc} names {@code node}'s inode now. */
    private boolean names(Location loc, Inode node) throws FsException {
        try (Inode parent = inodes.pin(loc.parentId())) {
            try (Fd fd = FileCalls.openPath(parent.fd(), loc.name())) {
                return InodeKey.of(FileCalls.fstat(fd)).equals(node.key);
            }
        } catch (NativeException e) {
            return false; // gone, or no longer reachable that way
        }
    }

    /** Where {@code node}'s file is now, as a name in a directory node, or null (deleted, outside, or in a directory the guest never looked up). */
    private Location located(Inode node) throws FsException, NativeException {
        String p = link(node.fd());
        if (p.endsWith(DELETED) || !p.startsWith(rootPath)) return null;
        String rel = p.substring(rootPath.length());
        int slash = rel.lastIndexOf('/');
        byte[] name = rel.substring(slash + 1).getBytes(StandardCharsets.UTF_8);
        if (!Names.isValidComponent(name)) return null;
        long parentId = FileSystem.ROOT_ID;
        if (slash >= 0) {
            Stat dir;
            try (Fd fd = FileCalls.openPath(
                    inodes.root().fd(), rel.substring(0, slash).getBytes(StandardCharsets.UTF_8))) {
                dir = FileCalls.fstat(fd);
            } catch (NativeException e) {
                return null;
            }
            Inode parent = inodes.known(InodeKey.of(dir));
            if (parent == null || !parent.isDirectory()) return null;
            parentId = parent.nodeId;
        }
        Location loc = new Location(parentId, name);
        return names(loc, node) ? loc : null; // the link is a hint: what is saved is what was checked
    }

    private static String link(Fd fd) throws NativeException {
        return new String(FileCalls.readlinkat(null, FileCalls.procSelfFd(fd)), StandardCharsets.UTF_8);
    }
}
