package dev.instaflow.architecture;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import dev.instaflow.engine.EntryPoint;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/**
 * The boundaries of docs/architecture.md, enforced: this module's test classpath holds every module, so the rules see
 * the whole product. A rule that fails names the class and the dependency that crosses the line.
 */
class ArchitectureTest {
    private static JavaClasses product;

    @BeforeAll
    static void importProduct() {
        // Main code only: the native module's test jar (fixtures, benchmarks) is on this classpath too.
        ImportOption mainCodeOnly = location -> !location.contains("/test-classes/")
                && !location.contains("-tests.jar");
        product = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(mainCodeOnly).importPackages("dev.instaflow");
    }

    @Test
    void thePublicApiDependsOnTheJdkOnly() {
        ArchRule rule = noClasses().that().resideInAnyPackage("dev.instaflow", "dev.instaflow.spi")
                .should().dependOnClassesThat().resideOutsideOfPackages("dev.instaflow", "dev.instaflow.spi",
                        "java..", "javax..")
                .because("no native or engine type may leak into what users touch (docs/architecture.md, Modules)");
        rule.check(product);
    }

    /** An engine class the engine keeps to itself: not an {@link EntryPoint}, nor nested in one. */
    private static final DescribedPredicate<JavaClass> INTERNAL_ENGINE = new DescribedPredicate<>(
            "engine classes that are not an @EntryPoint") {
        @Override
        public boolean test(JavaClass c) {
            if (!c.getPackageName().startsWith("dev.instaflow.engine")) {
                return false;
            }
            JavaClass top = c;
            while (top.getEnclosingClass().isPresent()) {
                top = top.getEnclosingClass().get();
            }
            return !top.isAnnotatedWith(EntryPoint.class);
        }
    };

    @Test
    void toolsUseTheEngineThroughItsEntryPointsOnly() {
        ArchRule rule = noClasses().that().resideInAnyPackage("dev.instaflow.samples..", "dev.instaflow.train..",
                        "dev.instaflow.tooling..", "dev.instaflow.defaultmodel..", "dev.instaflow.server..",
                        "dev.instaflow.spark..")
                .should().dependOnClassesThat(INTERNAL_ENGINE)
                .because("the CLI, the recipe, tooling, the server and Spark use the engine's @EntryPoint classes"
                        + " (each says who needs it); the rest may change without notice");
        rule.check(product);
    }

    @Test
    void onlyTheEngineTouchesLibTorch() {
        ArchRule rule = noClasses().that().resideInAnyPackage("dev.instaflow.samples..", "dev.instaflow.server..",
                        "dev.instaflow.defaultmodel..", "dev.instaflow.spark..")
                .should().dependOnClassesThat().resideInAnyPackage("org.bytedeco.pytorch..")
                .because("LibTorch is the engine's business; tools and applications go through the API or the"
                        + " engine's entry points");
        rule.check(product);
    }

    @Test
    void manifestsAndConfigsHoldNoTensors() {
        ArchRule rule = noClasses().that().resideInAPackage("dev.instaflow.engine.bundle..")
                .should().dependOnClassesThat().resideInAnyPackage("org.bytedeco..", "dev.instaflow.engine.runtime..",
                        "dev.instaflow.engine.nn..", "dev.instaflow.engine.sampling..")
                .because("engine.bundle is the manifest format: JSON and files only");
        rule.check(product);
    }

    @Test
    void networksKnowNothingOfThePipeline() {
        ArchRule rule = noClasses().that().resideInAnyPackage("dev.instaflow.engine.nn..",
                        "dev.instaflow.engine.network..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.instaflow.engine.sampling..",
                        "dev.instaflow.engine.text..", "dev.instaflow.engine.decode..", "dev.instaflow.engine.snapshot..",
                        "dev.instaflow.tooling..")
                .because("a network implements a role interface; stages call it, never the other way round");
        rule.check(product);
    }

    @Test
    void theRuntimeLayerIsTheBottom() {
        ArchRule rule = noClasses().that().resideInAPackage("dev.instaflow.engine.runtime..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.instaflow.engine.sampling..",
                        "dev.instaflow.engine.text..", "dev.instaflow.engine.decode..", "dev.instaflow.engine.snapshot..",
                        "dev.instaflow.engine.nn..", "dev.instaflow.tooling..")
                .because("device and native management serve every stage and depend on none");
        rule.check(product);
    }

    @Test
    void theEngineNeverCallsTooling() {
        ArchRule rule = noClasses().that().resideInAPackage("dev.instaflow.engine..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.instaflow.tooling..",
                        "dev.instaflow.samples..", "dev.instaflow.train..", "dev.instaflow.server..")
                .because("tooling ships in its own module (instaflow-tooling), outside the runtime jar");
        rule.check(product);
    }
}
