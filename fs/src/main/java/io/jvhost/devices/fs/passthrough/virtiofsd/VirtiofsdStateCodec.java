package io.jvhost.devices.fs.passthrough.virtiofsd;

import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState.FileHandle;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState.Handle;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState.HandleSource;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState.Inode;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState.Location;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState.MountPath;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState.NegotiatedOpts;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * virtiofsd's device state to and from bytes, as {@code postcard::to_stdvec} / {@code
 * from_bytes} of {@code serialized::PassthroughFs} do. Decoding is flat (no recursion: the types
 * nest a fixed three levels deep), refuses bytes after the state (virtiofsd never writes any) and
 * duplicate mount ids (serde would keep the last one silently).
 */
public final class VirtiofsdStateCodec {
    /**
     * The most a state may take: a source has at most fs.nr_open (2^20 by default) descriptors,
     * so about a million inodes and handles; at a few hundred bytes each (a 255-byte name, a
     * 128-byte file handle) that is under 512 MiB.
     */
    public static final int MAX_BYTES = 512 << 20;

    // The smallest encodings, to bound sequence lengths by what the rest of the blob can hold.
    private static final int MIN_INODE_BYTES = 4; // id, refcount, location variant, Option tag
    private static final int MIN_HANDLE_BYTES = 4; // id, inode, source variant, flags
    private static final int MIN_MOUNT_PATH_BYTES = 2; // key, empty string

    private VirtiofsdStateCodec() {}

    /** Reads the whole stream (at most {@link #MAX_BYTES}) and decodes it. */
    public static VirtiofsdState read(InputStream in) throws IOException, VirtiofsdFormatException {
        return decode(readBounded(in));
    }

    /** The stream's bytes, refused past {@link #MAX_BYTES}. */
    public static byte[] readBounded(InputStream in) throws IOException, VirtiofsdFormatException {
        return readBounded(in, MAX_BYTES);
    }

    static byte[] readBounded(InputStream in, int max) throws IOException, VirtiofsdFormatException {
        byte[] b = in.readNBytes(max);
        if (b.length == max && in.read() >= 0)
            throw new VirtiofsdFormatException("more than " + max + " bytes: not a virtiofsd state");
        return b;
    }

    public static VirtiofsdState decode(byte[] blob) throws VirtiofsdFormatException {
        if (blob.length == 0) throw new VirtiofsdFormatException("empty: no virtiofsd state");
        PostcardReader r = new PostcardReader(blob);
        VirtiofsdState.Version version = VirtiofsdState.Version.values()[r.variant("PassthroughFs", 2)];
        int inodeCount = r.count("inodes", MIN_INODE_BYTES);
        List<Inode> inodes = new ArrayList<>(inodeCount);
        for (int i = 0; i < inodeCount; i++) inodes.add(inode(r));
        long nextInode = r.u64("next_inode");
        int handleCount = r.count("handles", MIN_HANDLE_BYTES);
        List<Handle> handles = new ArrayList<>(handleCount);
        for (int i = 0; i < handleCount; i++) {
            long id = r.u64("handle id"), inode = r.u64("handle inode");
            r.variant("HandleSource", 1);
            handles.add(new Handle(id, inode, new HandleSource.OpenInode(r.i32("handle flags"))));
        }
        long nextHandle = r.u64("next_handle");
        NegotiatedOpts opts = new NegotiatedOpts(
                r.bool("writeback"), r.bool("announce_submounts"), r.bool("posix_acl"), r.bool("sup_group_extension"));
        List<MountPath> mountPaths = new ArrayList<>();
        if (version == VirtiofsdState.Version.V2) {
            int n = r.count("mount_paths", MIN_MOUNT_PATH_BYTES);
            Set<Long> ids = new HashSet<>();
            for (int i = 0; i < n; i++) {
                long id = r.u64("mount id");
                if (!ids.add(id)) throw r.malformed("mount id " + Long.toUnsignedString(id) + " twice");
                mountPaths.add(new MountPath(id, r.string("mount path")));
            }
        }
        if (r.remaining() != 0) throw r.malformed(r.remaining() + " bytes after the state");
        return new VirtiofsdState(version, inodes, nextInode, handles, nextHandle, opts, mountPaths);
    }

    private static Inode inode(PostcardReader r) throws VirtiofsdFormatException {
        long id = r.u64("inode id"), refcount = r.u64("refcount");
        Location location = switch (r.variant("InodeLocation", 5)) {
            case 0 -> new Location.RootNode();
            case 1 -> new Location.Path(r.u64("parent"), r.string("filename"));
            case 2 -> new Location.Invalid();
            case 3 -> new Location.FullPath(r.string("full path"));
            default -> new Location.ByFileHandle(fileHandle(r));
        };
        FileHandle fh = r.option("file_handle") ? fileHandle(r) : null;
        return new Inode(id, refcount, location, fh);
    }

    private static FileHandle fileHandle(PostcardReader r) throws VirtiofsdFormatException {
        long mnt = r.u64("mnt_id");
        int type = r.i32("handle_type");
        return new FileHandle(mnt, type, r.bytes("handle"));
    }

    public static byte[] encode(VirtiofsdState s) {
        PostcardWriter w = new PostcardWriter();
        w.u32(s.version().ordinal());
        w.u64(s.inodes().size());
        for (Inode n : s.inodes()) {
            w.u64(n.id()).u64(n.refcount());
            switch (n.location()) {
                case Location.RootNode x -> w.u32(0);
                case Location.Path p -> w.u32(1).u64(p.parent()).string(p.filename());
                case Location.Invalid x -> w.u32(2);
                case Location.FullPath p -> w.u32(3).string(p.filename());
                case Location.ByFileHandle h -> fileHandle(w.u32(4), h.handle());
            }
            w.bool(n.fileHandle() != null);
            if (n.fileHandle() != null) fileHandle(w, n.fileHandle());
        }
        w.u64(s.nextInode());
        w.u64(s.handles().size());
        for (Handle h : s.handles()) {
            w.u64(h.id()).u64(h.inode());
            switch (h.source()) {
                case HandleSource.OpenInode o -> w.u32(0).i32(o.flags());
            }
        }
        w.u64(s.nextHandle());
        NegotiatedOpts o = s.negotiatedOpts();
        w.bool(o.writeback()).bool(o.announceSubmounts()).bool(o.posixAcl()).bool(o.supGroupExtension());
        if (s.version() == VirtiofsdState.Version.V2) {
            w.u64(s.mountPaths().size());
            for (MountPath m : s.mountPaths()) w.u64(m.mountId()).string(m.path());
        }
        return w.toByteArray();
    }

    private static void fileHandle(PostcardWriter w, FileHandle h) {
        w.u64(h.mountId()).i32(h.handleType()).bytes(h.handle());
    }
}
