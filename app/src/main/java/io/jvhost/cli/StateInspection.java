package io.jvhost.cli;

import io.jvhost.devices.fs.FsDevice;
import io.jvhost.devices.fs.api.FsException;
import io.jvhost.devices.fs.fuse.InitReply;
import io.jvhost.devices.fs.passthrough.FsSnapshot;
import io.jvhost.devices.fs.passthrough.PassthroughFs;
import io.jvhost.devices.fs.passthrough.SavedFs;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdFormatException;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdState;
import io.jvhost.devices.fs.passthrough.virtiofsd.VirtiofsdStateCodec;
import io.jvhost.state.LoadedState;
import io.jvhost.state.ScopeSummary;
import io.jvhost.state.StateReader;
import io.jvhost.state.StateSummary;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What a device-state blob holds, for {@code jvhost state inspect}: jvhost's format (any device;
 * a virtio-fs one is decoded down to its nodes and handles) or virtiofsd's, possibly inside
 * QEMU's framing of a device-state stream (be32 length, chunk, ..., a zero length). Decoding is
 * the destination's own code, so what inspects cleanly is what a destination would parse.
 */
final class StateInspection {
    /** The blob's content, by format. */
    sealed interface Content {}

    /** jvhost's format, of a device other than virtio-fs: its layout only. */
    record JvhostBlob(StateSummary summary) implements Content {}

    /** jvhost's virtio-fs state. */
    record JvhostFs(StateSummary summary, Optional<InitReply> session, SavedFs fs) implements Content {}

    /** virtiofsd's state. */
    record Virtiofsd(VirtiofsdState state) implements Content {}

    /** A node as a path from the root, for display. */
    record NodePath(long id, String path) {}

    final boolean qemuFramed;
    final int bytes;
    final Content content;

    private StateInspection(boolean qemuFramed, int bytes, Content content) {
        this.qemuFramed = qemuFramed;
        this.bytes = bytes;
        this.content = content;
    }

    static StateInspection of(byte[] input) throws IOException, InspectException {
        byte[] framed = unframe(input);
        byte[] blob = framed != null ? framed : input;
        return new StateInspection(framed != null, blob.length, decode(blob));
    }

    /** The payload of QEMU's chunked framing, or null if {@code in} is not exactly that. */
    static byte[] unframe(byte[] in) {
        ByteBuffer b = ByteBuffer.wrap(in); // big-endian, as QEMU's qemu_put_be32
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (b.remaining() >= 4) {
            int n = b.getInt();
            if (n == 0) return b.hasRemaining() ? null : out.toByteArray();
            if (n < 0 || n > b.remaining()) return null;
            out.write(in, b.position(), n);
            b.position(b.position() + n);
        }
        return null;
    }

    private static Content decode(byte[] blob) throws IOException, InspectException {
        if (StateReader.hasMagic(blob)) {
            StateSummary summary = StateReader.describe(new ByteArrayInputStream(blob));
            if (!summary.deviceType().equals(FsDevice.STATE_TYPE)) return new JvhostBlob(summary);
            LoadedState loaded = FsDevice.stateReader(PassthroughFs::registerStateSections)
                    .build()
                    .readAll(new ByteArrayInputStream(blob));
            try {
                return new JvhostFs(summary, FsDevice.session(loaded), PassthroughFs.savedState(loaded));
            } catch (FsException e) {
                throw new InspectException(e.getMessage());
            }
        }
        try {
            return new Virtiofsd(VirtiofsdStateCodec.decode(blob));
        } catch (VirtiofsdFormatException e) {
            throw new InspectException(
                    "neither jvhost's device state (no magic) nor virtiofsd's (" + e.getMessage() + ")");
        }
    }

    /** The input is no device state: why. */
    static final class InspectException extends Exception {
        InspectException(String message) {
            super(message);
        }
    }

    // ---- paths ----

    /** Each node's path, parents walked with a bound (a forged blob may loop or dangle). */
    static List<NodePath> paths(Map<Long, Long> parentOf, Map<Long, String> nameOf, List<Long> ids) {
        List<NodePath> out = new ArrayList<>(ids.size());
        for (long id : ids) {
            if (id == 1) {
                out.add(new NodePath(id, "/"));
                continue;
            }
            List<String> parts = new ArrayList<>();
            Long at = id;
            int steps = 0;
            String prefix = "";
            while (at != null && at != 1) {
                String name = nameOf.get(at);
                if (name == null || ++steps > ids.size()) {
                    prefix = name == null ? "(no path)" : "(loop)";
                    break;
                }
                parts.add(name);
                at = parentOf.get(at);
                if (at == null) prefix = "(unknown parent)";
            }
            StringBuilder p = new StringBuilder(prefix);
            for (int i = parts.size() - 1; i >= 0; i--) p.append('/').append(parts.get(i));
            out.add(new NodePath(id, p.isEmpty() ? prefix : p.toString()));
        }
        return out;
    }

    List<NodePath> paths() {
        Map<Long, Long> parentOf = new HashMap<>();
        Map<Long, String> nameOf = new HashMap<>();
        List<Long> ids = new ArrayList<>();
        switch (content) {
            case JvhostBlob b -> {}
            case JvhostFs f -> {
                for (FsSnapshot.InodeState n : f.fs().snapshot().inodes()) {
                    ids.add(n.nodeId());
                    if (n.location() != null) {
                        parentOf.put(n.nodeId(), n.location().parentId());
                        nameOf.put(n.nodeId(), new String(n.location().name(), StandardCharsets.UTF_8));
                    }
                }
            }
            case Virtiofsd v -> {
                for (VirtiofsdState.Inode n : v.state().inodes()) {
                    ids.add(n.id());
                    switch (n.location()) {
                        case VirtiofsdState.Location.Path p -> {
                            parentOf.put(n.id(), p.parent());
                            nameOf.put(n.id(), p.filename());
                        }
                        case VirtiofsdState.Location.FullPath p -> {
                            parentOf.put(n.id(), 1L);
                            nameOf.put(n.id(), p.filename());
                        }
                        case VirtiofsdState.Location.RootNode r -> {}
                        case VirtiofsdState.Location.Invalid i -> {}
                        case VirtiofsdState.Location.ByFileHandle h -> {}
                    }
                }
            }
        }
        return paths(parentOf, nameOf, ids);
    }

    // ---- text ----

    /** The summary: format, version, sections, counts, and the first {@code maxPaths} paths. */
    String text(int maxPaths) {
        StringBuilder sb = new StringBuilder();
        sb.append(qemuFramed ? "QEMU-framed device state, " : "device state, ")
                .append(StateSummary.humanBytes(bytes))
                .append('\n');
        switch (content) {
            case JvhostBlob b ->
                sb.append("format: jvhost\n").append(b.summary().render()).append('\n');
            case JvhostFs f -> {
                sb.append("format: jvhost\n").append(f.summary().render()).append('\n');
                sb.append("FUSE session: ")
                        .append(f.session().map(StateInspection::session).orElse("none (before INIT)"))
                        .append('\n');
                FsSnapshot s = f.fs().snapshot();
                sb.append("source mode: ")
                        .append(f.fs().sourceMode()
                                .name()
                                .toLowerCase(Locale.ROOT)
                                .replace('_', '-'))
                        .append(", shared directory dev ")
                        .append(f.fs().rootDev())
                        .append(" ino ")
                        .append(f.fs().rootIno())
                        .append('\n');
                counts(sb, s.inodes().size(), s.nextNodeId(), s.handles().size(), s.nextFh());
            }
            case Virtiofsd v -> {
                VirtiofsdState s = v.state();
                sb.append("format: virtiofsd (postcard PassthroughFs::")
                        .append(s.version())
                        .append(")\n");
                VirtiofsdState.NegotiatedOpts o = s.negotiatedOpts();
                sb.append(String.format(
                        Locale.ROOT,
                        "negotiated: writeback %s, announce-submounts %s, posix-acl %s, sup-group-extension %s%n",
                        o.writeback(),
                        o.announceSubmounts(),
                        o.posixAcl(),
                        o.supGroupExtension()));
                counts(sb, s.inodes().size(), s.nextInode(), s.handles().size(), s.nextHandle());
                for (VirtiofsdState.MountPath m : s.mountPaths())
                    sb.append("mount ")
                            .append(Long.toUnsignedString(m.mountId()))
                            .append(": ")
                            .append(m.path())
                            .append('\n');
            }
        }
        if (!(content instanceof JvhostBlob)) {
            List<NodePath> paths = paths();
            sb.append("paths:\n");
            for (int i = 0; i < Math.min(maxPaths, paths.size()); i++)
                sb.append("  ")
                        .append(paths.get(i).id())
                        .append("  ")
                        .append(paths.get(i).path())
                        .append('\n');
            if (paths.size() > maxPaths)
                sb.append("  ... ").append(paths.size() - maxPaths).append(" more (--json has all)\n");
        }
        return sb.toString();
    }

    private static void counts(StringBuilder sb, int inodes, long nextInode, int handles, long nextHandle) {
        sb.append("inodes: ")
                .append(inodes)
                .append(" (next id ")
                .append(Long.toUnsignedString(nextInode))
                .append(")\nhandles: ")
                .append(handles)
                .append(" (next fh ")
                .append(Long.toUnsignedString(nextHandle))
                .append(")\n");
    }

    private static String session(InitReply r) {
        return String.format(
                Locale.ROOT,
                "%d.%d (session minor %d), flags 0x%x, max_write %d, max_pages %d",
                r.major(),
                r.minor(),
                r.sessionMinor(),
                r.flags(),
                Integer.toUnsignedLong(r.maxWrite()),
                r.maxPages());
    }

    // ---- JSON ----

    /** Everything the blob holds. */
    String json() {
        Json j = new Json().object();
        j.member("qemuFramed", qemuFramed).member("bytes", bytes);
        switch (content) {
            case JvhostBlob b -> summary(j.member("format", "jvhost"), b.summary());
            case JvhostFs f -> jvhostFs(summary(j.member("format", "jvhost"), f.summary()), f);
            case Virtiofsd v -> virtiofsd(j.member("format", "virtiofsd"), v.state());
        }
        if (!(content instanceof JvhostBlob)) {
            j.key("paths").object();
            for (NodePath p : paths()) j.member(Long.toUnsignedString(p.id()), p.path());
            j.endObject();
        }
        return j.endObject().toString();
    }

    private static Json summary(Json j, StateSummary s) {
        j.member("deviceType", s.deviceType()).member("formatVersion", s.formatVersion());
        j.key("sections").array();
        for (ScopeSummary sc : s.sections()) scope(j, sc);
        return j.endArray();
    }

    private static void scope(Json j, ScopeSummary s) {
        // Nesting is bounded by the state format (at most 32 levels), not by this blob.
        j.object()
                .member("name", s.name())
                .member("version", s.version())
                .member("minVersion", s.minVersion())
                .member("bytes", s.bytes());
        j.key("subsections").array();
        for (ScopeSummary sub : s.subsections()) scope(j, sub);
        j.endArray().endObject();
    }

    private static void jvhostFs(Json j, JvhostFs f) {
        j.key("session");
        if (f.session().isEmpty()) j.value((String) null);
        else {
            InitReply r = f.session().get();
            j.object()
                    .member("major", r.major())
                    .member("minor", r.minor())
                    .member("sessionMinor", r.sessionMinor())
                    .member("maxReadahead", Integer.toUnsignedLong(r.maxReadahead()))
                    .member("flags", r.flags())
                    .member("maxBackground", r.maxBackground())
                    .member("congestionThreshold", r.congestionThreshold())
                    .member("maxWrite", Integer.toUnsignedLong(r.maxWrite()))
                    .member("timeGran", Integer.toUnsignedLong(r.timeGran()))
                    .member("maxPages", r.maxPages())
                    .endObject();
        }
        SavedFs fs = f.fs();
        FsSnapshot s = fs.snapshot();
        j.member("sourceMode", fs.sourceMode().name())
                .member("rootDev", fs.rootDev())
                .member("rootIno", fs.rootIno())
                .member("nextNodeId", s.nextNodeId())
                .member("nextFh", s.nextFh())
                .member("initFlags", s.initFlags());
        j.key("inodes").array();
        for (FsSnapshot.InodeState n : s.inodes()) {
            j.object()
                    .member("id", n.nodeId())
                    .member("lookups", n.lookups())
                    .member("fileType", Integer.toOctalString(n.fileType()))
                    .member("dev", n.dev())
                    .member("ino", n.ino())
                    .member("mountId", n.mountId());
            if (n.location() != null) {
                j.member("parent", n.location().parentId())
                        .member("name", new String(n.location().name(), StandardCharsets.UTF_8));
            }
            if (n.fileHandle() != null) {
                j.key("fileHandle")
                        .object()
                        .member("mountId", n.fileHandle().mountId())
                        .member("type", n.fileHandle().type())
                        .member("bytes", hex(n.fileHandle().bytes()))
                        .endObject();
            }
            j.endObject();
        }
        j.endArray().key("handles").array();
        for (FsSnapshot.HandleState h : s.handles()) {
            j.object()
                    .member("fh", h.fh())
                    .member("node", h.nodeId())
                    .member("flags", h.flags())
                    .member("directory", h.directory())
                    .endObject();
        }
        j.endArray();
    }

    private static void virtiofsd(Json j, VirtiofsdState s) {
        j.member("version", s.version().name());
        VirtiofsdState.NegotiatedOpts o = s.negotiatedOpts();
        j.key("negotiatedOpts")
                .object()
                .member("writeback", o.writeback())
                .member("announceSubmounts", o.announceSubmounts())
                .member("posixAcl", o.posixAcl())
                .member("supGroupExtension", o.supGroupExtension())
                .endObject();
        j.key("nextInode").unsigned(s.nextInode()).key("nextHandle").unsigned(s.nextHandle());
        j.key("inodes").array();
        for (VirtiofsdState.Inode n : s.inodes()) {
            j.object().key("id").unsigned(n.id()).key("refcount").unsigned(n.refcount());
            j.key("location").object();
            switch (n.location()) {
                case VirtiofsdState.Location.RootNode r -> j.member("kind", "RootNode");
                case VirtiofsdState.Location.Invalid i -> j.member("kind", "Invalid");
                case VirtiofsdState.Location.Path p ->
                    j.member("kind", "Path").key("parent").unsigned(p.parent()).member("filename", p.filename());
                case VirtiofsdState.Location.FullPath p ->
                    j.member("kind", "FullPath").member("filename", p.filename());
                case VirtiofsdState.Location.ByFileHandle h ->
                    fileHandle(j.member("kind", "FileHandle").key("handle"), h.handle());
            }
            j.endObject();
            if (n.fileHandle() != null) fileHandle(j.key("fileHandle"), n.fileHandle());
            j.endObject();
        }
        j.endArray().key("handles").array();
        for (VirtiofsdState.Handle h : s.handles()) {
            int flags = switch (h.source()) {
                case VirtiofsdState.HandleSource.OpenInode oi -> oi.flags();
            };
            j.object()
                    .key("id")
                    .unsigned(h.id())
                    .key("inode")
                    .unsigned(h.inode())
                    .member("source", "OpenInode")
                    .member("flags", flags)
                    .endObject();
        }
        j.endArray().key("mountPaths").object();
        for (VirtiofsdState.MountPath m : s.mountPaths()) j.member(Long.toUnsignedString(m.mountId()), m.path());
        j.endObject();
    }

    private static void fileHandle(Json j, VirtiofsdState.FileHandle h) {
        j.object()
                .key("mntId")
                .unsigned(h.mountId())
                .member("handleType", h.handleType())
                .member("handle", hex(h.handle()))
                .endObject();
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) sb.append(String.format("%02x", x & 0xFF));
        return sb.toString();
    }
}
