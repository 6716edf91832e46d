package dev.instaflow.samples.cli;

import dev.instaflow.tooling.demo.DemoBundle;

import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The model used when no {@code --model} is given, kept in a cache folder under the InstaFlow home
 * ({@code -Dinstaflow.home}, else {@code $INSTAFLOW_HOME}, else {@code ~/.cache/instaflow}):
 * <ul>
 *   <li>If the classpath has the resource folder {@value #RESOURCE_FOLDER} with an index {@value #INDEX} (the
 *       {@code instaflow-default-model} jar), that bundle is extracted once by
 *       {@link dev.instaflow.defaultmodel.DefaultModel#extract} (the same folder Java code gets from
 *       {@code DefaultModel.path()}).</li>
 *   <li>Otherwise the demo bundle ({@link DemoBundle}, random weights) is built once into
 *       {@code models/demo-v<DemoBundle.VERSION>}.</li>
 * </ul>
 * Either way the folder is made under a temporary name and renamed into place, so it is complete or absent; when two
 * processes race, the loser deletes its copy and uses the winner's.
 */
final class DefaultModel {
    /** Classpath folder of a built-in trained bundle (see docs/cli.md, "Default model"). */
    static final String RESOURCE_FOLDER = dev.instaflow.defaultmodel.DefaultModel.RESOURCE_FOLDER;
    /** The index in {@link #RESOURCE_FOLDER}: the bundle's relative file paths, one per line. */
    static final String INDEX = dev.instaflow.defaultmodel.DefaultModel.INDEX;
    static final String HOME_PROPERTY = dev.instaflow.defaultmodel.DefaultModel.HOME_PROPERTY;
    static final String HOME_VARIABLE = dev.instaflow.defaultmodel.DefaultModel.HOME_VARIABLE;
    static final String DEMO_NOTE = "note: no --model given; using the built-in demo model (random weights, images are"
            + " not meaningful; see docs/models.md)";

    /**
     * Where a default model lives.
     *
     * @param directory the bundle folder
     * @param demo      whether it is the demo bundle (random weights)
     */
    record Location(Path directory, boolean demo) {
    }

    private final Path home;
    private final ClassLoader resources;

    DefaultModel(Path home, ClassLoader resources) {
        this.home = home;
        this.resources = resources;
    }

    /** The default model as this installation defines it (the home from the environment, this jar's resources). */
    static DefaultModel installed() {
        return new DefaultModel(home(), DefaultModel.class.getClassLoader());
    }

    /** The InstaFlow home: {@code -Dinstaflow.home}, else {@code $INSTAFLOW_HOME}, else {@code ~/.cache/instaflow}. */
    static Path home() {
        return dev.instaflow.defaultmodel.DefaultModel.home();
    }

    /** The default model's folder, extracted or built on first use. */
    Location locate() {
        return dev.instaflow.defaultmodel.DefaultModel.extract(home, resources)
                .map(directory -> new Location(directory, false))
                .orElseGet(() -> new Location(buildDemo(), true));
    }

    private Path buildDemo() {
        Path target = home.resolve("models").resolve("demo-v" + DemoBundle.VERSION);
        if (dev.instaflow.defaultmodel.DefaultModel.isReady(target)) {
            return target;
        }
        try {
            return DemoBundle.write(target);
        } catch (UncheckedIOException e) {
            if (dev.instaflow.defaultmodel.DefaultModel.isReady(target)) {
                return target; // another process built it first; its copy is as good as ours
            }
            throw e;
        }
    }

    /** The index's paths: relative, '/'-separated, inside the folder; blank lines and {@code #} comments skipped. */
    static List<String> parseIndex(String index) {
        return dev.instaflow.defaultmodel.DefaultModel.parseIndex(index);
    }
}
