package io.jvhost.state;

import java.util.List;
import java.util.Locale;

/**
 * Size and layout of a state blob, for logs and migration reports: which sections and
 * subsections it holds, at which versions, and how many bytes each takes. Produced by
 * {@link StateWriter#finish()}, {@link LoadedState#summary()} and {@link StateReader#describe}.
 */
public record StateSummary(String deviceType, int formatVersion, long totalBytes, List<ScopeSummary> sections) {

    public StateSummary {
        sections = List.copyOf(sections);
    }

    /** Multi-line tree, one scope a line, e.g. {@code   inodes v2 (min 1): 12.4 MiB}. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append(deviceType)
                .append(" state, format ")
                .append(formatVersion)
                .append(": ")
                .append(humanBytes(totalBytes))
                .append(", ")
                .append(sections.size())
                .append(sections.size() == 1 ? " section" : " sections");
        for (ScopeSummary s : sections) {
            render(sb, s, 1);
        }
        return sb.toString();
    }

    private static void render(StringBuilder sb, ScopeSummary s, int depth) {
        sb.append('\n').append("  ".repeat(depth)).append(s.name()).append(" v").append(s.version());
        if (s.minVersion() != s.version()) {
            sb.append(" (min ").append(s.minVersion()).append(')');
        }
        if (s.ifUnknown() == IfUnknown.SKIP) {
            sb.append(" [skippable]");
        }
        sb.append(": ").append(humanBytes(s.bytes()));
        for (ScopeSummary sub : s.subsections()) {
            render(sb, sub, depth + 1);
        }
    }

    /** 1023 B, 1.0 KiB, 12.4 MiB, ... */
    public static String humanBytes(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
