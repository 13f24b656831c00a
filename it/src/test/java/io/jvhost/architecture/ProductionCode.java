package io.jvhost.architecture;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;

/**
 * What the architecture tests look at: every module's main classes. Test classes are left out,
 * this module's own and the other modules' (they reach this module as {@code *-tests.jar}s).
 */
final class ProductionCode implements ImportOption {
    private static final ImportOption TESTS_EXCLUDED = new ImportOption.DoNotIncludeTests();

    @Override
    public boolean includes(Location location) {
        return TESTS_EXCLUDED.includes(location) && !location.contains("-tests.jar");
    }
}
