package io.jvhost.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The package graph of the production code of every module (the test kit's included), as the
 * README's layout table states it: the core layers point down only (nativeio, protocol, memory,
 * virtqueue, then back-end and front-end, devices, device migration, the application, the test
 * kit), the state format and the migration stream sit beside them (used from above, using no
 * other layer), and no two packages depend on each other in a cycle. Tests are not checked: a
 * test may reach across layers to drive what it tests. The modules (docs/modules.md) follow the
 * same lines; javac checks their exports.
 */
@AnalyzeClasses(packages = "io.jvhost", importOptions = ProductionCode.class)
class PackageGraphTest {

    private static final String NATIVE = "nativeio",
            PROTOCOL = "protocol",
            MEMORY = "memory",
            VIRTQUEUE = "virtqueue",
            BACKEND = "backend",
            FRONTEND = "frontend",
            DEVICES = "devices",
            APPLICATION = "application",
            STATE = "state",
            MIGRATION = "migration",
            DEVICE_MIGRATION = "device migration",
            TEST_KIT = "test kit";

    @ArchTest
    static final ArchRule dependenciesPointDown = layeredArchitecture()
            .consideringOnlyDependenciesInLayers()
            .layer(NATIVE)
            .definedBy("io.jvhost.nativeio..")
            .layer(PROTOCOL)
            .definedBy("io.jvhost.protocol..")
            .layer(MEMORY)
            .definedBy("io.jvhost.memory..")
            .layer(VIRTQUEUE)
            .definedBy("io.jvhost.virtqueue..")
            .layer(BACKEND)
            .definedBy("io.jvhost.backend..")
            .layer(FRONTEND)
            .definedBy("io.jvhost.frontend..")
            .layer(DEVICES)
            .definedBy("io.jvhost.devices..")
            .layer(APPLICATION)
            .definedBy("io.jvhost.cli..", "io.jvhost.bench..")
            .layer(STATE)
            .definedBy("io.jvhost.state..")
            .layer(MIGRATION)
            .definedBy("io.jvhost.migration")
            .layer(DEVICE_MIGRATION)
            .definedBy("io.jvhost.migration.device..")
            .layer(TEST_KIT)
            .definedBy("io.jvhost.testing..")
            .whereLayer(TEST_KIT)
            .mayNotBeAccessedByAnyLayer()
            .whereLayer(APPLICATION)
            .mayOnlyBeAccessedByLayers(TEST_KIT)
            .whereLayer(DEVICES)
            .mayOnlyBeAccessedByLayers(APPLICATION, TEST_KIT)
            .whereLayer(DEVICE_MIGRATION)
            .mayOnlyBeAccessedByLayers(APPLICATION, TEST_KIT)
            .whereLayer(BACKEND)
            .mayOnlyBeAccessedByLayers(DEVICES, APPLICATION, TEST_KIT)
            .whereLayer(FRONTEND)
            .mayOnlyBeAccessedByLayers(DEVICES, DEVICE_MIGRATION, APPLICATION, TEST_KIT)
            .whereLayer(MIGRATION)
            .mayOnlyBeAccessedByLayers(DEVICE_MIGRATION, APPLICATION, TEST_KIT)
            .whereLayer(STATE)
            .mayOnlyBeAccessedByLayers(MIGRATION, DEVICE_MIGRATION, BACKEND, FRONTEND, DEVICES, APPLICATION, TEST_KIT)
            .whereLayer(VIRTQUEUE)
            .mayOnlyBeAccessedByLayers(BACKEND, FRONTEND, DEVICES, DEVICE_MIGRATION, APPLICATION, TEST_KIT)
            .whereLayer(MEMORY)
            .mayOnlyBeAccessedByLayers(VIRTQUEUE, BACKEND, FRONTEND, DEVICES, APPLICATION, TEST_KIT)
            .whereLayer(PROTOCOL)
            .mayOnlyBeAccessedByLayers(
                    MEMORY, VIRTQUEUE, BACKEND, FRONTEND, DEVICES, DEVICE_MIGRATION, APPLICATION, TEST_KIT);

    /** Each package is a slice; a cycle between any two (devices.fs and its FUSE codec were one) fails. */
    @ArchTest
    static final ArchRule noCyclesBetweenPackages =
            slices().matching("io.jvhost.(**)").should().beFreeOfCycles();

    /**
     * A device serves a guest; the guest's side (the front-end and a driver over it) is driver-side
     * code, kept in the devices' client packages, so a device and its codecs never carry it.
     */
    @ArchTest
    static final ArchRule devicesServeWithoutTheFrontEnd = noClasses()
            .that()
            .resideInAPackage("io.jvhost.devices..")
            .and()
            .resideOutsideOfPackage("io.jvhost.devices.*.client..")
            .should()
            .dependOnClassesThat()
            .resideInAPackage("io.jvhost.frontend..");
}
