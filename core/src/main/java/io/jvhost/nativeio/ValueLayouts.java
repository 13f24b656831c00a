package io.jvhost.nativeio;

import java.lang.foreign.ValueLayout;

/** Unaligned native-endian layouts for packed kernel structs (epoll_event, pollfd, msghdr). */
final class ValueLayouts {
    static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    private ValueLayouts() {}
}
