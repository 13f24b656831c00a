package io.jvhost.state;

import java.io.IOException;

/** Writes one list element's fields; see {@link SectionOutput#list}. */
@FunctionalInterface
public interface ElementWriter<E> {
    void write(SectionOutput out, E element) throws IOException;
}
