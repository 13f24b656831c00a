package io.jvhost.state;

import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * The staging values of a blob that loaded completely: end marker, length and CRC32C verified,
 * every required section present. Nothing has touched the device yet; the device applies these
 * values now, in an order that respects dependencies between sections and subsections (QEMU's
 * load-order caveat: whatever depends on a subsection is applied after the whole tree is read,
 * which this two-phase split gives for free).
 */
public final class LoadedState {
    private final StateSummary summary;
    private final Map<String, Object> sections;
    private final List<String> skipped;

    LoadedState(StateSummary summary, Map<String, Object> sections, List<String> skipped) {
        this.summary = summary;
        this.sections = Map.copyOf(sections);
        this.skipped = List.copyOf(skipped);
    }

    public String deviceType() {
        return summary.deviceType();
    }

    public int formatVersion() {
        return summary.formatVersion();
    }

    public boolean has(String section) {
        return sections.containsKey(section);
    }

    /** The staging value the loader of {@code section} returned; the section must have been present. */
    public <T> T get(String section, Class<T> type) {
        return find(section, type)
                .orElseThrow(() -> new NoSuchElementException(
                        "section '" + section + "' was not in the state (it was registered as optional)"));
    }

    /** The staging value of an optional section, or empty if the writer did not emit it. */
    public <T> Optional<T> find(String section, Class<T> type) {
        Object value = sections.get(section);
        if (value != null && !type.isInstance(value)) {
            throw new ClassCastException(
                    "section '" + section + "' loaded as " + value.getClass().getName() + ", not " + type.getName());
        }
        return Optional.ofNullable(type.cast(value));
    }

    /** Unknown skippable sections and subsections that were dropped, as {@code path vN}. */
    public List<String> skipped() {
        return skipped;
    }

    /** Sizes and versions of everything in the blob, loaded or skipped. */
    public StateSummary summary() {
        return summary;
    }
}
