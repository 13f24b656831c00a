package io.jvhost.state;

import java.io.IOException;

/** Writes the fields and then the subsections of one section or subsection. */
@FunctionalInterface
public interface SectionBody {
    void write(SectionOutput out) throws IOException;
}
