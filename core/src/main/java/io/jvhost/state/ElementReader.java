package io.jvhost.state;

import java.io.IOException;

/** Reads one list element; see {@link SectionInput#list}. */
@FunctionalInterface
public interface ElementReader<E> {
    E read(SectionInput in) throws IOException;
}
