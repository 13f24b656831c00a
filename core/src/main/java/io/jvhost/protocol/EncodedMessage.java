package io.jvhost.protocol;

import io.jvhost.nativeio.Fd;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A message ready for the socket: header, payload bytes, and the fds to attach as SCM_RIGHTS to
 * its first byte. The fds are the message's own (not duplicates): sending does not close them.
 */
public record EncodedMessage(Header header, byte[] payload, List<Fd> fds) {
    public EncodedMessage {
        Objects.requireNonNull(header, "header");
        payload = payload.clone();
        fds = List.copyOf(fds);
        if (header.size() != payload.length) {
            throw new IllegalArgumentException(
                    "header size " + header.size() + " but " + payload.length + " payload bytes");
        }
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }

    /** Header and payload in one fresh buffer, positioned at 0. */
    public ByteBuffer frame() {
        ByteBuffer b = ByteBuffer.allocate(Header.SIZE + payload.length);
        header.write(b);
        b.put(payload);
        return b.flip();
    }

    /** The payload alone, as a read-only buffer. */
    public ByteBuffer payloadBuffer() {
        return ByteBuffer.wrap(payload).asReadOnlyBuffer();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EncodedMessage other
                && header.equals(other.header)
                && Arrays.equals(payload, other.payload)
                && fds.equals(other.fds);
    }

    @Override
    public int hashCode() {
        return Objects.hash(header, Arrays.hashCode(payload), fds);
    }

    @Override
    public String toString() {
        return "EncodedMessage[" + header + ", payload=" + Checks.hex(payload) + ", fds=" + fds + "]";
    }
}
