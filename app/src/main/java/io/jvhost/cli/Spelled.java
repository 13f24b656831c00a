package io.jvhost.cli;

import io.jvhost.devices.fs.StateFormat;
import io.jvhost.devices.fs.passthrough.CachePolicy;
import io.jvhost.devices.fs.passthrough.InodeFileHandles;
import io.jvhost.devices.fs.passthrough.MigrationMode;
import io.jvhost.devices.fs.passthrough.MigrationOnError;
import java.util.Arrays;
import java.util.Iterator;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * An enum option's words as virtiofsd spells them: lowercase, {@code -} between words
 * ({@code find-paths} for {@code FIND_PATHS}); any case, and {@code _} for {@code -}, are
 * accepted as well. One subclass per enum, because picocli instantiates its converter and its
 * completion candidates from a class: the help lists the words ({@code ${COMPLETION-CANDIDATES}})
 * and a wrong one fails with picocli's "Invalid value for option" naming the option.
 */
abstract class Spelled<E extends Enum<E>> implements ITypeConverter<E>, Iterable<String> {
    private final Class<E> type;

    Spelled(Class<E> type) {
        this.type = type;
    }

    static String spelling(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    @Override
    public E convert(String word) {
        String wanted = word.trim().toLowerCase(Locale.ROOT).replace('_', '-');
        for (E value : type.getEnumConstants()) {
            if (spelling(value).equals(wanted)) return value;
        }
        throw new TypeConversionException("expected one of " + String.join(", ", this) + " but was '" + word + "'");
    }

    @Override
    public Iterator<String> iterator() {
        return Arrays.stream(type.getEnumConstants()).map(Spelled::spelling).iterator();
    }

    static final class Cache extends Spelled<CachePolicy> {
        Cache() {
            super(CachePolicy.class);
        }
    }

    static final class InodeHandles extends Spelled<InodeFileHandles> {
        InodeHandles() {
            super(InodeFileHandles.class);
        }
    }

    static final class Mode extends Spelled<MigrationMode> {
        Mode() {
            super(MigrationMode.class);
        }
    }

    static final class OnError extends Spelled<MigrationOnError> {
        OnError() {
            super(MigrationOnError.class);
        }
    }

    static final class Format extends Spelled<StateFormat> {
        Format() {
            super(StateFormat.class);
        }
    }

    static final class Level extends Spelled<DaemonOptions.LogLevel> {
        Level() {
            super(DaemonOptions.LogLevel.class);
        }
    }

    static final class SandboxMode extends Spelled<Sandbox.Mode> {
        SandboxMode() {
            super(Sandbox.Mode.class);
        }
    }

    static final class SeccompAction extends Spelled<SyscallFilter.Action> {
        SeccompAction() {
            super(SyscallFilter.Action.class);
        }
    }
}
