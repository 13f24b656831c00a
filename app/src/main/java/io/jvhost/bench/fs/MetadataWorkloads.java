package io.jvhost.bench.fs;

import io.jvhost.devices.fs.client.FuseClient;
import io.jvhost.devices.fs.client.FuseClient.OpenFile;
import io.jvhost.devices.fs.client.FuseClient.Reply;
import io.jvhost.devices.fs.fuse.Opcode;
import java.io.IOException;
import java.util.List;

/** The small-request cases: GETATTR, LOOKUP, CREATE + RELEASE. One unit = one op (a pair for create). */
final class MetadataWorkloads {
    private MetadataWorkloads() {}

    /** GETATTR of the read file: st_size must be the file's. */
    static final class Getattr extends Workload {
        private final List<byte[]> args = List.of(FuseClient.getattrArgs());

        Getattr(Target t) {
            super(t);
        }

        @Override
        void start(int slot) {
            target.fuse.submit(Opcode.GETATTR, target.readFileNode, args, FuseClient.ATTR_OUT_SIZE, slot);
        }

        @Override
        long complete(Reply r, boolean stopping) throws IOException {
            long size = r.orThrow().i64(24); // fuse_attr_out: valid, valid_nsec, dummy, then fuse_attr {ino, size}
            if (size != Fixtures.FILE_SIZE) throw wrong(target, "GETATTR size " + size);
            verified++;
            if (!stopping) start(slot(r));
            return 1;
        }
    }

    /** LOOKUP of the read file's name: the node id must be the one the set-up got. */
    static final class Lookup extends Workload {
        private final List<byte[]> args = List.of(FuseClient.cString(Fixtures.READ_FILE));

        Lookup(Target t) {
            super(t);
        }

        @Override
        void start(int slot) {
            target.fuse.submit(Opcode.LOOKUP, FuseClient.ROOT_ID, args, FuseClient.ENTRY_OUT_SIZE, slot);
        }

        @Override
        long complete(Reply r, boolean stopping) throws IOException {
            long node = r.orThrow().i64(0);
            if (node != target.readFileNode)
                throw wrong(target, "LOOKUP gave node " + node + ", not " + target.readFileNode);
            verified++;
            if (!stopping) start(slot(r));
            return 1;
        }
    }

    /**
     * CREATE of a new empty file, then RELEASE of its handle and FORGET of its lookup (as the
     * guest's inode cache would, eventually; else every back-end holds a descriptor per file
     * until it runs out). The three are one unit.
     */
    static final class CreateRelease extends Workload {
        private long next;

        CreateRelease(Target t) {
            super(t);
        }

        @Override
        void start(int slot) {
            String name = "c" + next++;
            target.fuse.submit(
                    Opcode.CREATE,
                    target.createDir,
                    List.of(FuseClient.createArgs(name)),
                    FuseClient.ENTRY_OUT_SIZE + FuseClient.OPEN_OUT_SIZE,
                    slot);
        }

        @Override
        long complete(Reply r, boolean stopping) throws IOException {
            r.orThrow();
            int slot = slot(r);
            if (r.request().op() == Opcode.CREATE) {
                OpenFile f = new OpenFile(r.i64(0), r.i64(FuseClient.ENTRY_OUT_SIZE));
                if (f.nodeId() == 0) throw wrong(target, "CREATE gave node 0");
                target.fuse.submit(Opcode.RELEASE, f.nodeId(), List.of(FuseClient.releaseArgs(f)), 0, slot);
                return 0;
            }
            target.fuse.forget(r.request().nodeId(), 1);
            verified++;
            if (!stopping) start(slot);
            return 1;
        }
    }
}
