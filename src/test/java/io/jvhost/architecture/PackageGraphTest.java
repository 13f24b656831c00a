package io.jvhost.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The package graph of the production code, as the README's layout table states it: the core
 * layers point down only (nativeio, protocol, memory, virtqueue, then back-end and front-end,
 * devices, the application), the state format and the migration stream sit beside them (used
 * from above, using nothing above the virtqueues), and no two packages depend on each other in a
 * cycle. Test code is not checked: a test may reach across layers to drive what it tests.
 */
@AnalyzeClasses(packages = "io.jvhost", importOptions = ImportOption.DoNotIncludeTests.class)
class PackageGraphTest {
    private static final String NATIVE = "nativeio", PROTOCOL = "protocol", MEMORY = "memory",
            VIRTQUEUE = "virtqueue", BACKEND = "backend", FRONTEND = "frontend", DEVICES = "devices",
            APPLICATION = "application", STATE = "state", MIGRATION = "migration";

    @ArchTest
    static final ArchRule dependenciesPointDown = layeredArchitecture()
            .consideringOnlyDependenciesInLayers()
            .layer(NATIVE).definedBy("io.jvhost.nativeio..")
            .layer(PROTOCOL).definedBy("io.jvhost.protocol..")
            .layer(MEMORY).definedBy("io.jvhost.memory..")
            .layer(VIRTQUEUE).definedBy("io.jvhost.virtqueue..")
            .layer(BACKEND).definedBy("io.jvhost.backend..")
            .layer(FRONTEND).definedBy("io.jvhost.frontend..")
            .layer(DEVICES).definedBy("io.jvhost.devices..")
            .layer(APPLICATION).definedBy("io.jvhost.cli..", "io.jvhost.bench..")
            .layer(STATE).definedBy("io.jvhost.state..")
            .layer(MIGRATION).definedBy("io.jvhost.migration..")
            .whereLayer(APPLICATION).mayNotBeAccessedByAnyLayer()
            .whereLayer(DEVICES).mayOnlyBeAccessedByLayers(APPLICATION)
            .whereLayer(BACKEND).mayOnlyBeAccessedByLayers(DEVICES, APPLICATION)
            .whereLayer(FRONTEND).mayOnlyBeAccessedByLayers(DEVICES, APPLICATION)
            .whereLayer(MIGRATION).mayOnlyBeAccessedByLayers(BACKEND, FRONTEND, DEVICES, APPLICATION)
            .whereLayer(STATE).mayOnlyBeAccessedByLayers(MIGRATION, BACKEND, FRONTEND, DEVICES, APPLICATION)
            .whereLayer(VIRTQUEUE).mayOnlyBeAccessedByLayers(BACKEND, FRONTEND, DEVICES, APPLICATION,
                    STATE, MIGRATION)
            .whereLayer(MEMORY).mayOnlyBeAccessedByLayers(VIRTQUEUE, BACKEND, FRONTEND, DEVICES, APPLICATION,
                    STATE, MIGRATION)
            .whereLayer(PROTOCOL).mayOnlyBeAccessedByLayers(MEMORY, VIRTQUEUE, BACKEND, FRONTEND, DEVICES,
                    APPLICATION, STATE, MIGRATION);

    /** Each package is a slice; a cycle between any two (devices.fs and its FUSE codec were one) fails. */
    @ArchTest
    static final ArchRule noCyclesBetweenPackages = slices().matching("io.jvhost.(**)").should().beFreeOfCycles();

    /**
     * A device serves a guest; the guest's side (the front-end and a driver over it) is driver-side
     * code, kept in the devices' client packages, so a device and its codecs never carry it.
     */
    @ArchTest
    static final ArchRule devicesServeWithoutTheFrontEnd = noClasses()
            .that().resideInAPackage("io.jvhost.devices..")
            .and().resideOutsideOfPackage("io.jvhost.devices.*.client..")
            .should().dependOnClassesThat().resideInAPackage("io.jvhost.frontend..");
}
