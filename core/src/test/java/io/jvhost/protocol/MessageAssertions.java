package io.jvhost.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.jvhost.nativeio.Fd;
import java.lang.reflect.RecordComponent;
import java.util.List;
import java.util.Optional;

/**
 * Compares records field by field where fds are involved: an {@link Fd} in the expected record
 * (the sender's) must match one in the actual record (the receiver's) by referring to the same
 * eventfd, not by number.
 */
final class MessageAssertions {
    private MessageAssertions() {}

    static void assertSameMessage(Record expected, Record actual) {
        assertSame(expected.getClass(), actual.getClass(), "message type");
        for (RecordComponent c : expected.getClass().getRecordComponents()) {
            assertSameValue(expected.getClass().getSimpleName() + "." + c.getName(), get(c, expected), get(c, actual));
        }
        // Records with array fields override equals; for the others this re-checks the non-fd fields.
        if (!(expected instanceof CarriesFds m) || m.fds().isEmpty()) assertEquals(expected, actual);
    }

    private static Object get(RecordComponent c, Record r) {
        try {
            return c.getAccessor().invoke(r);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertSameValue(String what, Object expected, Object actual) {
        switch (expected) {
            case Fd fd -> TestFds.assertSameEventfd(fd, (Fd) actual);
            case Optional<?> o -> {
                Optional<?> a = (Optional<?>) actual;
                assertEquals(o.isPresent(), a.isPresent(), what + " presence");
                o.ifPresent(v -> assertSameValue(what, v, a.get()));
            }
            case List<?> l -> {
                List<?> a = (List<?>) actual;
                assertEquals(l.size(), a.size(), what + " size");
                for (int i = 0; i < l.size(); i++) assertSameValue(what + "[" + i + "]", l.get(i), a.get(i));
            }
            case byte[] b -> assertArrayEquals(b, (byte[]) actual, what);
            default -> assertEquals(expected, actual, what);
        }
    }
}
