package io.jvhost.state;

import java.util.List;

/**
 * One section or subsection as it appears in a blob: its header and how many bytes it takes,
 * counting its header, fields, subsections and end frame.
 */
public record ScopeSummary(
        String name, int version, int minVersion, IfUnknown ifUnknown, long bytes, List<ScopeSummary> subsections) {

    public ScopeSummary {
        subsections = List.copyOf(subsections);
    }

    static ScopeSummary of(ScopeHeader header, long bytes, List<ScopeSummary> subsections) {
        return new ScopeSummary(
                header.name(), header.version(), header.minVersion(), header.ifUnknown(), bytes, subsections);
    }
}
