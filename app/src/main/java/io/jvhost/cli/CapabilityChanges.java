package io.jvhost.cli;

import io.jvhost.nativeio.Capability;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code --modcaps}, as virtiofsd's: {@code +name} adds a capability to the daemon's set,
 * {@code -name} takes one away, changes separated by {@code :} and applied in order
 * ({@code +sys_admin:-chown}); names as in capabilities(7), without {@code CAP_}, any case.
 */
record CapabilityChanges(Set<Capability> added, Set<Capability> removed) {
    static final CapabilityChanges NONE = new CapabilityChanges(Set.of(), Set.of());

    /** {@code base} with these changes. */
    Set<Capability> applyTo(Set<Capability> base) {
        EnumSet<Capability> out = base.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(base);
        out.addAll(added);
        out.removeAll(removed);
        return out;
    }

    static final class Converter implements ITypeConverter<CapabilityChanges> {
        @Override
        public CapabilityChanges convert(String value) {
            EnumSet<Capability> added = EnumSet.noneOf(Capability.class), removed = EnumSet.noneOf(Capability.class);
            for (String change : value.split(":", -1)) {
                if (change.isEmpty())
                    throw new TypeConversionException("empty change in '" + value + "': expected (+|-)capability:...");
                char action = change.charAt(0);
                if (action != '+' && action != '-')
                    throw new TypeConversionException(
                            "'" + change + "': expected '+' or '-' before the capability, found '" + action + "'");
                Capability cap = capability(change.substring(1));
                if (action == '+') {
                    removed.remove(cap);
                    added.add(cap);
                } else {
                    added.remove(cap);
                    removed.add(cap);
                }
            }
            return new CapabilityChanges(Set.copyOf(added), Set.copyOf(removed));
        }

        private static Capability capability(String name) {
            String wanted = name.toUpperCase(Locale.ROOT);
            if (wanted.startsWith("CAP_")) wanted = wanted.substring(4);
            for (Capability c : Capability.values()) if (c.name().equals(wanted)) return c;
            throw new TypeConversionException("invalid capability '" + name + "'");
        }
    }
}
