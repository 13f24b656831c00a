package io.jvhost.cli;

import io.jvhost.devices.fs.idmap.GuestIds;
import io.jvhost.devices.fs.idmap.IdMapEntry;
import io.jvhost.devices.fs.idmap.IdMapSyntax;
import io.jvhost.devices.fs.idmap.IdTranslation;
import java.util.List;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/** {@code --translate-uid} / {@code --translate-gid}: virtiofsd's syntax ({@link IdMapSyntax}), entries joined per kind. */
final class IdMapOption {
    private IdMapOption() {}

    static final class Converter implements ITypeConverter<IdMapEntry> {
        @Override
        public IdMapEntry convert(String value) {
            try {
                return IdMapSyntax.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** Both translations; a ParameterException naming the option whose entries overlap. */
    static GuestIds guestIds(List<IdMapEntry> uids, List<IdMapEntry> gids, CommandSpec spec) {
        return new GuestIds(translation("--translate-uid", uids, spec), translation("--translate-gid", gids, spec));
    }

    private static IdTranslation translation(String option, List<IdMapEntry> entries, CommandSpec spec) {
        try {
            return IdTranslation.of(entries);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), option + ": " + e.getMessage());
        }
    }
}
