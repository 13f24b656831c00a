package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Reply payloads, typed. Which reply belongs to which request is fixed by the codec
 * ({@link MessageCodec#decodeReply(Request, Header, ByteBuffer, List)}); every request
 * may be answered with a {@link U64} ack when NEED_REPLY asks for one and it has no reply of its
 * own.
 */
public sealed interface Reply extends CarriesFds {

    /**
     * A u64: features, protocol features, queue count, max memory slots, device status, the
     * CHECK_DEVICE_STATE result, or a REPLY_ACK ack (0 = success, anything else = failure).
     */
    record U64(long value) implements Reply {
        public static final U64 SUCCESS = new U64(0);
        /** The failure value libvhost-user and rust-vmm send. */
        public static final U64 FAILURE = new U64(1);

        public static U64 ack(boolean ok) {
            return ok ? SUCCESS : FAILURE;
        }

        public boolean isSuccess() {
            return value == 0;
        }
    }

    /** GET_VRING_BASE: the ring's next available index (split) or index pair (packed), raw. */
    record VringState(int index, int num) implements Reply {
        public VringState {
            Checks.vringIndex(index);
        }
    }

    /** GET_CONFIG: the config bytes read; their length must match what was asked. */
    record Config(int offset, int flags, byte[] data) implements Reply {
        public Config {
            data = Checks.copy(data, "data");
            if (data.length > FrontendMessage.MAX_CONFIG_SIZE) {
                throw new IllegalArgumentException(
                        "config data of " + data.length + " bytes, at most " + FrontendMessage.MAX_CONFIG_SIZE);
            }
        }

        @Override
        public byte[] data() {
            return data.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Config other
                    && offset == other.offset
                    && flags == other.flags
                    && Arrays.equals(data, other.data);
        }

        @Override
        public int hashCode() {
            return Objects.hash(offset, flags, Arrays.hashCode(data));
        }

        @Override
        public String toString() {
            return "Config[offset=" + offset + ", flags=" + flags + ", data=" + Checks.hex(data) + "]";
        }
    }

    /** GET_CONFIG refused: an empty payload is the back-end's error signal (spec). */
    record ConfigFailure() implements Reply {}

    /**
     * GET_INFLIGHT_FD: the tracking buffer, {@code mmapSize} bytes at {@code mmapOffset} of
     * {@code fd}. A back-end that cannot provide one answers mmapSize 0 and no fd (libvhost-user;
     * QEMU then looks for no fd), so the fd is present exactly when mmapSize is non-zero.
     */
    record Inflight(long mmapSize, long mmapOffset, int numQueues, int queueSize, Optional<Fd> fd) implements Reply {
        public Inflight {
            Checks.unsignedShort("number of queues", numQueues);
            Checks.unsignedShort("queue size", queueSize);
            Checks.optionalFd(fd);
            if ((mmapSize != 0) != fd.isPresent()) {
                throw new IllegalArgumentException("inflight reply with mmap size " + Long.toUnsignedString(mmapSize)
                        + (fd.isPresent() ? " must not carry an fd" : " needs an fd"));
            }
        }

        public List<Fd> fds() {
            return fd.map(List::of).orElse(List.of());
        }
    }

    /** ADD_MEM_REG in postcopy: the region with the back-end's own mapping address as user address. */
    record MemoryRegion(MemoryRegionDescriptor region) implements Reply {
        public MemoryRegion {
            Objects.requireNonNull(region, "region");
        }
    }

    /** SET_MEM_TABLE in postcopy: the table with the back-end's mapping addresses. */
    record MemoryTable(List<MemoryRegionDescriptor> regions) implements Reply {
        public MemoryTable {
            regions = List.copyOf(regions);
            if (regions.isEmpty() || regions.size() > Header.MAX_FDS) {
                throw new IllegalArgumentException(
                        "memory table reply with " + regions.size() + " regions, expected 1.." + Header.MAX_FDS);
            }
        }
    }

    /**
     * GET_SHMEM_CONFIG: the number of VIRTIO Shared Memory Regions and their sizes, indexed by
     * shmid. The wire always has 256 sizes; shorter lists are padded with zeros.
     */
    record ShmemConfig(int regionCount, List<Long> memorySizes) implements Reply {
        public static final int MAX_REGIONS = 256;
        static final int SIZE = 8 + 8 * MAX_REGIONS;

        public ShmemConfig {
            if (regionCount < 0 || regionCount > MAX_REGIONS) {
                throw new IllegalArgumentException("shared memory region count " + Integer.toUnsignedString(regionCount)
                        + " out of range 0.." + MAX_REGIONS);
            }
            if (memorySizes.size() > MAX_REGIONS) {
                throw new IllegalArgumentException(
                        memorySizes.size() + " shared memory region sizes, at most " + MAX_REGIONS);
            }
            List<Long> padded = new ArrayList<>(memorySizes);
            while (padded.size() < MAX_REGIONS) padded.add(0L);
            memorySizes = List.copyOf(padded);
        }
    }

    /**
     * SET_DEVICE_STATE_FD result: {@code error} 0 on success (bits 0–7 of the u64), and the
     * back-end's own transfer fd if it provides one (else bit 8, "no fd", is set). The spec
     * forbids an error together with an fd.
     */
    record DeviceStateFd(int error, Optional<Fd> fd) implements Reply {
        public static final long ERROR_MASK = 0xff;
        public static final long NO_FD = 0x100;

        public DeviceStateFd {
            Checks.unsignedByte("device state error", error);
            Checks.optionalFd(fd);
            if (error != 0 && fd.isPresent()) {
                throw new IllegalArgumentException("device state reply with error " + error + " must not carry an fd");
            }
        }

        /** Accepted; the front-end keeps using its own fd. */
        public static DeviceStateFd accepted() {
            return new DeviceStateFd(0, Optional.empty());
        }

        /** Accepted; the front-end must switch to {@code backendFd}. */
        public static DeviceStateFd acceptedWith(Fd backendFd) {
            return new DeviceStateFd(0, Optional.of(backendFd));
        }

        /** Refused (rust-vmm uses error 1). */
        public static DeviceStateFd refused(int error) {
            if (error == 0) throw new IllegalArgumentException("a refusal needs a non-zero error");
            return new DeviceStateFd(error, Optional.empty());
        }

        public boolean succeeded() {
            return error == 0;
        }

        /** The u64 on the wire. */
        public long toU64() {
            return error | (fd.isPresent() ? 0 : NO_FD);
        }

        public List<Fd> fds() {
            return fd.map(List::of).orElse(List.of());
        }
    }

    /**
     * An empty payload with at most one fd: GET_SHARED_OBJECT's dma-buf fd and POSTCOPY_ADVISE's
     * userfaultfd; no fd means the back-end failed (rust-vmm's encoding).
     */
    record FdOnly(Optional<Fd> fd) implements Reply {
        public FdOnly {
            Checks.optionalFd(fd);
        }

        public List<Fd> fds() {
            return fd.map(List::of).orElse(List.of());
        }
    }

    /** Back-end request SHARED_OBJECT_LOOKUP: 0 and the dma-buf fd when found, non-zero and no fd otherwise. */
    record SharedObjectLookup(long result, Optional<Fd> fd) implements Reply {
        public SharedObjectLookup {
            Checks.optionalFd(fd);
            if ((result == 0) != fd.isPresent()) {
                throw new IllegalArgumentException("shared object lookup result " + result
                        + (fd.isPresent() ? " must not carry an fd" : " needs an fd"));
            }
        }

        public List<Fd> fds() {
            return fd.map(List::of).orElse(List.of());
        }
    }

    /** CREATE_CRYPTO_SESSION: the session struct back, with the session id (or -1) in its last 8 bytes. */
    record CryptoSession(byte[] session) implements Reply {
        public CryptoSession {
            session = Checks.copy(session, "session");
            if (session.length < 16 || session.length > Header.MAX_PAYLOAD) {
                throw new IllegalArgumentException(
                        "crypto session of " + session.length + " bytes, expected 16.." + Header.MAX_PAYLOAD);
            }
        }

        @Override
        public byte[] session() {
            return session.clone();
        }

        /** The i64 session id at the end of the struct: ≥ 0 on success, negative on failure. */
        public long sessionId() {
            return ByteBuffer.wrap(session).order(ByteOrder.nativeOrder()).getLong(session.length - 8);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof CryptoSession other && Arrays.equals(session, other.session);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(session);
        }

        @Override
        public String toString() {
            return "CryptoSession[" + session.length + " bytes, id=" + sessionId() + "]";
        }
    }
}
