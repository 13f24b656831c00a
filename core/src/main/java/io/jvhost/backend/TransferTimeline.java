package io.jvhost.backend;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where a device-state transfer's time went, phase by phase, for the info line logged at
 * CHECK_DEVICE_STATE: each mark is the time since the one before (the downtime a migration
 * costs is spent here). Marks come from the session thread and the transfer thread, one after
 * the other (the transfer thread starts after the first, CHECK joins it before the last).
 */
final class TransferTimeline {
    private record Mark(String phase, long nanos, String detail) {}

    private final List<Mark> marks = new ArrayList<>();

    /** Starts at {@code startNanos} (System.nanoTime) with phase {@code first}. */
    TransferTimeline(String first, long startNanos) {
        marks.add(new Mark(first, startNanos, ""));
    }

    synchronized void mark(String phase) {
        mark(phase, "");
    }

    synchronized void mark(String phase, String detail) {
        marks.add(new Mark(phase, System.nanoTime(), detail));
    }

    /** "rings stopped → capture 0.41 ms → bytes written 12.02 ms (10486 bytes) → ...; 13.9 ms in all". */
    @Override
    public String toString() {
        return describe();
    }

    synchronized String describe() {
        StringBuilder b = new StringBuilder(marks.getFirst().phase());
        for (int i = 1; i < marks.size(); i++) {
            Mark m = marks.get(i);
            b.append(" → ")
                    .append(m.phase())
                    .append(' ')
                    .append(ms(m.nanos() - marks.get(i - 1).nanos()));
            if (!m.detail().isEmpty()) b.append(" (").append(m.detail()).append(')');
        }
        return b.append("; ")
                .append(ms(marks.getLast().nanos() - marks.getFirst().nanos()))
                .append(" in all")
                .toString();
    }

    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }
}
