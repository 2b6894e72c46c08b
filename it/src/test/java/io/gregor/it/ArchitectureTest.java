package io.gregor.it;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module layering of docs/architecture.md, checked on the compiled classes so that the build fails when a module
 * reaches where it must not: storage knows no network and no broker; protocol knows no files, storage or broker; the
 * coordinator runtime, the group coordinator, the replica manager, the metadata image and the raft log know nothing
 * of the broker;
 * request handlers reach partitions only through the replica manager.
 */
class ArchitectureTest {
    private static JavaClasses gregor;

    @BeforeAll
    static void importClasses() {
        gregor = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("io.gregor");
    }

    @Test
    void storageUsesOnlyTheJdkLoggingAndKafkasRecordClasses() {
        classes().that().resideInAPackage("io.gregor.storage..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "javax..", "org.slf4j..",
                        "io.gregor.storage..", "org.apache.kafka.common.record..", "org.apache.kafka.common.compress..",
                        "org.apache.kafka.common.utils..", "org.apache.kafka.common.header..")
                .because("storage holds files only: no network, no protocol, no broker (STYLE.md, module layout)")
                .check(gregor);
    }

    @Test
    void protocolKnowsNoStorageBrokerOrMetadata() {
        noClasses().that().resideInAPackage("io.gregor.protocol..")
                .should().dependOnClassesThat().resideInAnyPackage("io.gregor.storage..", "io.gregor.broker..",
                        "io.gregor.raft..", "io.gregor.metadata..", "io.gregor.coordinator..", "java.nio.file..")
                .because("protocol is the wire adapter: no files, no state")
                .check(gregor);
    }

    @Test
    void theCoordinatorRuntimeKnowsNoOtherModule() {
        noClasses().that().resideInAPackage("io.gregor.coordinator.runtime..")
                .should().dependOnClassesThat().resideInAnyPackage("io.gregor.storage..", "io.gregor.broker..",
                        "io.gregor.protocol..", "io.gregor.raft..", "io.gregor.metadata..", "io.netty..")
                .because("coordinators reach their partitions only through CoordinatorLog")
                .check(gregor);
    }

    @Test
    void theGroupCoordinatorKnowsOnlyTheRuntime() {
        noClasses().that().resideInAPackage("io.gregor.coordinator.group..")
                .should().dependOnClassesThat().resideInAnyPackage("io.gregor.storage..", "io.gregor.broker..",
                        "io.gregor.protocol..", "io.gregor.raft..", "io.gregor.metadata..", "io.netty..", "java.nio.file..")
                .because("the group coordinator is a state machine over records: its partitions are the runtime's "
                        + "CoordinatorLog, its topics a TopicCatalog")
                .check(gregor);
    }

    @Test
    void theTransactionCoordinatorKnowsOnlyTheRuntime() {
        noClasses().that().resideInAPackage("io.gregor.coordinator.transaction..")
                .should().dependOnClassesThat().resideInAnyPackage("io.gregor.storage..", "io.gregor.broker..",
                        "io.gregor.protocol..", "io.gregor.raft..", "io.gregor.metadata..", "io.gregor.coordinator.group..",
                        "io.netty..", "java.nio.file..")
                .because("the transaction coordinator is a state machine over records: its partitions are the "
                        + "runtime's CoordinatorLog, its markers a TransactionMarkerWriter")
                .check(gregor);
    }

    @Test
    void handlersImportNoStorage() {
        noClasses().that().resideInAPackage("io.gregor.broker.handlers..")
                .should().dependOnClassesThat().resideInAPackage("io.gregor.storage..")
                .because("handlers translate between the wire and the replica manager or the coordinators; every read "
                        + "and append of a partition goes through the replica manager")
                .check(gregor);
    }

    @Test
    void theReplicaManagerKnowsNoBrokerMetadataOrCoordinators() {
        noClasses().that().resideInAPackage("io.gregor.replication..")
                .should().dependOnClassesThat().resideInAnyPackage("io.gregor.broker..", "io.gregor.raft..", "io.gregor.metadata..",
                        "io.gregor.coordinator..")
                .because("which partitions exist is the broker's to say; the replica manager only hosts them")
                .check(gregor);
    }

    @Test
    void theRaftLogKnowsNoOtherModule() {
        noClasses().that().resideInAPackage("io.gregor.raft..")
                .should().dependOnClassesThat().resideInAnyPackage("io.gregor.storage..", "io.gregor.broker..",
                        "io.gregor.protocol..", "io.gregor.metadata..", "io.gregor.replication..", "io.gregor.coordinator..")
                .because("the raft layer replicates opaque records; what they mean is the metadata module's")
                .check(gregor);
    }

    @Test
    void theMetadataImageAndControllerKnowOnlyTheRaftLog() {
        noClasses().that().resideInAPackage("io.gregor.metadata..")
                .should().dependOnClassesThat().resideInAnyPackage("io.gregor.storage..", "io.gregor.broker..",
                        "io.gregor.protocol..", "io.gregor.replication..", "io.gregor.coordinator..", "io.netty..")
                .check(gregor);
    }

    @Test
    void nothingButTheCliDependsOnTheCli() {
        noClasses().that().resideOutsideOfPackage("io.gregor.cli..")
                .should().dependOnClassesThat().resideInAPackage("io.gregor.cli..")
                .check(gregor);
    }
}
