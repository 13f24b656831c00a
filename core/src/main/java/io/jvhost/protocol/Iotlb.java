package io.jvhost.protocol;

import java.util.Objects;

/**
 * struct vhost_iotlb_msg (spec "An IOTLB message"): used by the front-end's IOTLB_MSG (update,
 * invalidate) and the back-end's IOTLB_MSG (miss, access failure). On the wire: u64 iova,
 * u64 size, u64 user address, u8 permissions, u8 type, 6 bytes padding.
 */
public record Iotlb(long iova, long size, long userAddr, Access access, Type type) {
    public static final int SIZE = 32;

    public Iotlb {
        Objects.requireNonNull(access, "access");
        Objects.requireNonNull(type, "type");
    }

    public enum Access {
        NONE(0),
        READ(1),
        WRITE(2),
        READ_WRITE(3);

        private final int code;

        Access(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        static Access of(int code) {
            for (Access a : values()) if (a.code == code) return a;
            throw new IllegalArgumentException("unknown IOTLB permission " + code + " (expected 0..3)");
        }
    }

    public enum Type {
        MISS(1),
        UPDATE(2),
        INVALIDATE(3),
        ACCESS_FAIL(4);

        private final int code;

        Type(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        static Type of(int code) {
            for (Type t : values()) if (t.code == code) return t;
            throw new IllegalArgumentException("unknown IOTLB message type " + code + " (expected 1..4)");
        }
    }
}
