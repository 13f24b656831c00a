package io.jvhost.devices.fs.fuse;

import io.jvhost.devices.fs.api.DirEntry;
import io.jvhost.devices.fs.api.DirSink;
import io.jvhost.devices.fs.api.Entry;
import io.jvhost.virtqueue.ChainWriter;
import io.jvhost.virtqueue.VirtqueueException;
import java.nio.ByteBuffer;

/**
 * READDIR/READDIRPLUS entries written straight into the guest's reply buffers (after the out
 * header) as fuse_dirent / fuse_direntplus records, each padded to 8 bytes. The room is the
 * smaller of what the guest asked for and its writable buffers. After the first entry that does
 * not fit, every later one is refused too: the guest continues from the last entry it got, so
 * a smaller entry slipped in after a refused one would make it skip the refused one.
 */
public final class DirentSink implements DirSink {
    private final ChainWriter out;
    private final long room;
    private final boolean plus;
    private final int minor;
    private long written;
    private boolean full;

    /** @param out positioned just after the out header */
    public DirentSink(ChainWriter out, long room, boolean plus, int minor) {
        this.out = out;
        this.room = Math.min(room, out.remaining());
        this.plus = plus;
        this.minor = minor;
    }

    /** Bytes of records written: the reply's payload length. */
    public long written() {
        return written;
    }

    @Override
    public boolean add(DirEntry entry) {
        if (plus) throw new IllegalStateException("READDIRPLUS entries need their node: use addPlus");
        return put(entry, null);
    }

    @Override
    public boolean addPlus(DirEntry entry, Entry node) {
        if (!plus) throw new IllegalStateException("READDIR entries carry no node: use add");
        return put(entry, node);
    }

    private boolean put(DirEntry e, Entry node) {
        if (full) return false;
        long size = node == null
                ? ReplyEncoder.direntSize(e.name().length)
                : ReplyEncoder.direntplusSize(e.name().length, minor);
        if (size > room - written) {
            full = true;
            return false;
        }
        ByteBuffer b = ReplyEncoder.buffer((int) size);
        if (node != null) ReplyEncoder.putEntry(b, node, minor);
        b.putLong(e.ino())
                .putLong(e.nextOffset())
                .putInt(e.name().length)
                .putInt(e.type())
                .put(e.name());
        try {
            out.write(b.array()); // the tail of the array is the zero padding
        } catch (VirtqueueException ex) {
            throw new IllegalStateException("room was checked", ex);
        }
        written += size;
        return true;
    }
}
