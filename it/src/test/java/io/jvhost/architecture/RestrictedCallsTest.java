package io.jvhost.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import java.lang.foreign.AddressLayout;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.util.Map;
import java.util.Set;

/**
 * FFM's restricted methods (those that can crash the JVM on a wrong length or signature) are
 * called from {@code nativeio.NativeAccess} only, the one class under
 * {@code @SuppressWarnings("restricted")}; a second suppression elsewhere would hide a new call
 * from the compiler, this rule still sees it. JNI-style library loading is restricted as well and
 * jvhost has no use for it.
 */
@AnalyzeClasses(packages = "io.jvhost", importOptions = ProductionCode.class)
class RestrictedCallsTest {
    private static final Map<String, Set<String>> RESTRICTED = Map.of(
            Linker.class.getName(), Set.of("downcallHandle", "upcallStub"),
            MemorySegment.class.getName(), Set.of("reinterpret"),
            SymbolLookup.class.getName(), Set.of("libraryLookup"),
            AddressLayout.class.getName(), Set.of("withTargetLayout"),
            ModuleLayer.Controller.class.getName(), Set.of("enableNativeAccess"),
            System.class.getName(), Set.of("load", "loadLibrary"),
            Runtime.class.getName(), Set.of("load", "loadLibrary"));

    private static final DescribedPredicate<JavaCall<?>> RESTRICTED_CALL = DescribedPredicate.describe(
            "a restricted FFM or library-loading method",
            call -> RESTRICTED
                    .getOrDefault(call.getTargetOwner().getFullName(), Set.of())
                    .contains(call.getTarget().getName()));

    @ArchTest
    static final ArchRule restrictedCallsOnlyInNativeAccess = noClasses()
            .that()
            .doNotHaveFullyQualifiedName("io.jvhost.nativeio.NativeAccess")
            .should()
            .callCodeUnitWhere(RESTRICTED_CALL);
}
