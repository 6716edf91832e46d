package dev.instaflow;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The public surface stays small (docs/architecture.md, "The public API"): at most 20 public top-level types in
 * this module, the SPI and the serving front included, and the exception base cannot be thrown by itself.
 */
class ApiSurfaceTest {
    static final int BUDGET = 20;

    static List<Class<?>> publicTopLevelTypes() throws IOException, URISyntaxException {
        Path classes = Path.of(InstaFlow.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        try (Stream<Path> files = Files.walk(classes)) {
            return files.map(classes::relativize).map(Path::toString)
                    .filter(f -> f.endsWith(".class") && !f.contains("$") && !f.endsWith("module-info.class"))
                    .map(f -> f.substring(0, f.length() - ".class".length()).replace('/', '.'))
                    .map(ApiSurfaceTest::load).filter(c -> Modifier.isPublic(c.getModifiers())).toList();
        }
    }

    private static Class<?> load(String name) {
        try {
            return Class.forName(name, false, ApiSurfaceTest.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void atMostTwentyPublicTopLevelTypes() throws Exception {
        List<Class<?>> types = publicTopLevelTypes();
        assertTrue(types.size() <= BUDGET, types.size() + " public top-level types, over the budget of " + BUDGET
                + ": " + types.stream().map(Class::getSimpleName).sorted().toList());
        assertTrue(types.contains(InstaFlow.class) && types.contains(dev.instaflow.spi.Engine.class));
    }

    @Test
    void theExceptionBaseIsAbstractAndSealed() {
        assertTrue(Modifier.isAbstract(InstaFlowException.class.getModifiers()));
        assertTrue(InstaFlowException.class.isSealed());
        assertEquals(4, InstaFlowException.class.getPermittedSubclasses().length);
    }
}
