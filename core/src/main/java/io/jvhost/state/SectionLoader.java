package io.jvhost.state;

import java.io.IOException;

/**
 * Parses one section into a staging value of the device's own (not into the live device: the
 * rest of the blob may still turn out to be corrupt). Register subsection loaders on {@code in}
 * before returning; they run after this method returns, once the section's fields are read.
 *
 * <p>Reads throw {@link StateFormatException} on malformed data; a plain {@link IOException} only
 * comes from the underlying stream failing, so loaders just declare it and let both propagate.
 *
 * @param <T> the staging value, handed back by {@link LoadedState#get} after the whole blob checked out
 */
@FunctionalInterface
public interface SectionLoader<T> {
    /**
     * @param version the layout to parse: the written version, or this reader's newest version when
     *                the writer declared a newer layout compatible with it (its extra fields are ignored)
     */
    T load(int version, SectionInput in) throws IOException;
}
