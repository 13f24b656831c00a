package io.jvhost.state;

import java.io.IOException;

/**
 * Parses one subsection, usually into the staging value its parent's loader returned (captured by
 * the lambda). Runs after the parent's fields are read, so it may refine them; anything that
 * depends on several subsections belongs in the device's apply step, after the whole blob loaded.
 */
@FunctionalInterface
public interface SubsectionLoader {
    void load(int version, SectionInput in) throws IOException;
}
