package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import java.util.List;
import java.util.Optional;

/** Payload pieces several messages share (spec "Payload" section), in both directions. */
final class Wire {
    /** Bits 0–7 of the SET_VRING_KICK/CALL/ERR and host-notifier u64: the ring index. */
    static final long VRING_INDEX_MASK = 0xff;
    /** Bit 8 of that u64: no fd attached ("invalid FD flag"): poll, or remove the notifier. */
    static final long VRING_NO_FD = 0x100;

    private Wire() {}

    static byte[] u64(long v) {
        return new PayloadWriter(8).u64(v).done();
    }

    static byte[] vringState(int index, int num) {
        return new PayloadWriter(8).u32(index).u32(num).done();
    }

    /** Vring state whose num is reserved (GET_VRING_BASE, VRING_KICK, VRING_CALL/ERR): num is ignored. */
    static int stateIndexIgnoringNum(PayloadReader r) throws ProtocolException {
        int index = r.u32();
        r.u32();
        return index;
    }

    static long indexAndFdFlag(int index, boolean hasFd) {
        return index | (hasFd ? 0 : VRING_NO_FD);
    }

    record IndexAndFd(int index, Optional<Fd> fd) {}

    /**
     * Splits the u64 of SET_VRING_KICK/CALL/ERR and VRING_HOST_NOTIFIER_MSG and checks it against
     * the fds received: an fd must come exactly when bit 8 is clear (rust-vmm rejects both
     * mismatches). Bits 9–63 are undefined and refused.
     */
    static IndexAndFd indexAndFd(long value, List<Fd> fds) {
        if ((value & ~(VRING_INDEX_MASK | VRING_NO_FD)) != 0) {
            throw new IllegalArgumentException(
                    "reserved bits set in vring index/flags u64 0x" + Long.toHexString(value));
        }
        boolean noFd = (value & VRING_NO_FD) != 0;
        if (noFd && !fds.isEmpty()) throw new IllegalArgumentException("no-fd flag (bit 8) set but an fd was attached");
        if (!noFd && fds.isEmpty())
            throw new IllegalArgumentException("no fd attached and the no-fd flag (bit 8) is clear");
        return new IndexAndFd((int) (value & VRING_INDEX_MASK), noFd ? Optional.empty() : Optional.of(fds.getFirst()));
    }

    static boolean zeroOrOne(String what, int value) {
        return switch (value) {
            case 0 -> false;
            case 1 -> true;
            default ->
                throw new IllegalArgumentException(
                        what + " value " + Integer.toUnsignedString(value) + ", expected 0 or 1");
        };
    }

    /** A u64 that carries a small number (MTU, status byte). */
    static int boundedU64(String what, long value, int max) {
        if (value < 0 || value > max) {
            throw new IllegalArgumentException(what + " " + Long.toUnsignedString(value) + " out of range 0.." + max);
        }
        return (int) value;
    }

    /** The config header's size field must be ≤ 256 and match the bytes after the 12-byte header. */
    static int configLength(int declared, int payloadSize, Header header) throws ProtocolException {
        if (declared < 0 || declared > FrontendMessage.MAX_CONFIG_SIZE) {
            throw new ProtocolException(
                    "config size " + Integer.toUnsignedString(declared) + " exceeds " + FrontendMessage.MAX_CONFIG_SIZE,
                    header);
        }
        if (declared != payloadSize - 12) {
            throw new ProtocolException(
                    "config size " + declared + " but " + (payloadSize - 12) + " config bytes in the payload", header);
        }
        return declared;
    }

    static byte[] iotlb(Iotlb e) {
        return new PayloadWriter(Iotlb.SIZE)
                .u64(e.iova())
                .u64(e.size())
                .u64(e.userAddr())
                .u8(e.access().code())
                .u8(e.type().code())
                .zeros(6)
                .done();
    }

    static Iotlb iotlb(PayloadReader r) throws ProtocolException {
        long iova = r.u64();
        long size = r.u64();
        long userAddr = r.u64();
        Iotlb.Access access = Iotlb.Access.of(r.u8());
        Iotlb.Type type = Iotlb.Type.of(r.u8());
        r.skip(6);
        return new Iotlb(iova, size, userAddr, access, type);
    }

    /** VhostUserInflight: u64 mmap size, u64 mmap offset, u16 queues, u16 queue size, 4 bytes C padding. */
    static byte[] inflight(long mmapSize, long mmapOffset, int numQueues, int queueSize) {
        return new PayloadWriter(24)
                .u64(mmapSize)
                .u64(mmapOffset)
                .u16(numQueues)
                .u16(queueSize)
                .zeros(4)
                .done();
    }

    /** "Memory regions description": u32 count, u32 padding, count regions (SET_MEM_TABLE and its reply). */
    static byte[] memoryTable(List<MemoryRegionDescriptor> regions) {
        PayloadWriter w = new PayloadWriter(8 + MemoryRegionDescriptor.SIZE * regions.size());
        w.u32(regions.size()).u32(0);
        regions.forEach(w::region);
        return w.done();
    }

    /** "Device config space": u32 offset, u32 size, u32 flags, size bytes (SET_CONFIG and GET_CONFIG's reply). */
    static byte[] config(int offset, int flags, byte[] data) {
        return new PayloadWriter(12 + data.length)
                .u32(offset)
                .u32(data.length)
                .u32(flags)
                .bytes(data)
                .done();
    }

    /** "Single memory region description": 8 bytes padding, then the region. */
    static byte[] singleRegion(MemoryRegionDescriptor region) {
        return new PayloadWriter(8 + MemoryRegionDescriptor.SIZE)
                .u64(0)
                .region(region)
                .done();
    }

    static MemoryRegionDescriptor singleRegion(PayloadReader r) throws ProtocolException {
        r.skip(8);
        return r.region();
    }
}
