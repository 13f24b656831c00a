package io.jvhost.cli;

import io.jvhost.devices.fs.passthrough.XattrMap;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** --xattrmap's rules, or the one line saying which rule is wrong and how. */
final class XattrMapConverter implements ITypeConverter<XattrMap> {
    @Override
    public XattrMap convert(String value) {
        try {
            return XattrMap.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
