package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * Field checks shared by the message records. They throw IllegalArgumentException; the decoder
 * turns that into a ProtocolException, so each rule is written once, in the record.
 */
final class Checks {
    private Checks() {}

    /**
     * Vring indices that travel as u32 are limited to 0x8000 rings (rust-vmm's
     * VHOST_USER_MAX_VRINGS), which keeps them non-negative as Java ints; whether the device has
     * that many queues is for the handler to check.
     */
    static int vringIndex(int index) {
        if (index < 0 || index >= FrontendMessage.MAX_VRINGS) {
            throw new IllegalArgumentException("vring index " + Integer.toUnsignedString(index) + " out of range 0.."
                    + (FrontendMessage.MAX_VRINGS - 1));
        }
        return index;
    }

    static int unsignedByte(String what, int value) {
        if (value < 0 || value > 0xff) throw new IllegalArgumentException(what + " " + value + " out of range 0..255");
        return value;
    }

    static int unsignedShort(String what, int value) {
        if (value < 0 || value > 0xffff)
            throw new IllegalArgumentException(what + " " + value + " out of range 0..65535");
        return value;
    }

    static Fd fd(Fd fd) {
        return Objects.requireNonNull(fd, "fd");
    }

    static Optional<Fd> optionalFd(Optional<Fd> fd) {
        Objects.requireNonNull(fd, "fd (use Optional.empty())");
        return fd;
    }

    static byte[] copy(byte[] bytes, String what) {
        return Objects.requireNonNull(bytes, what).clone();
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
