package dev.instaflow.train.training;

import com.google.gson.GsonBuilder;
import dev.instaflow.engine.bundle.StagedDirectory;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.bytedeco.pytorch.Adam;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OutputArchive;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A stage's resumable state in {@code <stage>/checkpoint/}: the trained and the averaged networks (TorchScript
 * archives), Adam's moments, and {@code state.json} (steps done, wall time). Written as a whole into
 * {@code checkpoint.next/} and then swapped in, so a crash never leaves a half-written checkpoint: if it strikes
 * between the two renames, the complete {@code checkpoint.next/} is picked up on resume.
 */
public final class Checkpoint {
    static final String DIRECTORY = "checkpoint";
    static final String NEXT = "checkpoint.next";
    private static final String STATE = "state.json";

    /**
     * @param step    optimizer steps done
     * @param seconds training wall time so far
     */
    public record State(long step, double seconds) {
    }

    private Checkpoint() {
    }

    /** The newest complete checkpoint folder of a stage, if any. */
    static Optional<Path> find(Path stageDir) {
        for (String name : new String[] {DIRECTORY, NEXT}) {
            Path dir = stageDir.resolve(name);
            if (Files.isRegularFile(dir.resolve(STATE))) {
                return Optional.of(dir);
            }
        }
        return Optional.empty();
    }

    /** The saved state of a stage, if it has a checkpoint. */
    public static Optional<State> state(Path stageDir) {
        return find(stageDir).map(Checkpoint::readState);
    }

    static void save(Path stageDir, State state, NetworkPair trained, NetworkPair average, Adam adam) {
        Path next = stageDir.resolve(NEXT);
        Path current = stageDir.resolve(DIRECTORY);
        try {
            StagedDirectory.deleteTree(next);
            Files.createDirectories(next);
            trained.textEncoder().save(next.resolve("text_encoder.pt"));
            trained.denoiser().save(next.resolve("denoiser.pt"));
            average.textEncoder().save(next.resolve("ema_text_encoder.pt"));
            average.denoiser().save(next.resolve("ema_denoiser.pt"));
            OutputArchive archive = new OutputArchive();
            adam.save(archive);
            archive.save_to(next.resolve("optimizer.pt").toString());
            JsonObject json = new JsonObject();
            json.addProperty("step", state.step());
            json.addProperty("seconds", state.seconds());
            // state.json last: its presence marks the folder complete.
            Files.writeString(next.resolve(STATE), new GsonBuilder().setPrettyPrinting().create().toJson(json) + "\n",
                    StandardCharsets.UTF_8);
            StagedDirectory.deleteTree(current);
            Files.move(next, current);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the checkpoint in " + stageDir, e);
        }
    }

    static NetworkPair loadTrained(Path dir) {
        return new NetworkPair(TrainableModule.load(dir.resolve("text_encoder.pt")),
                TrainableModule.load(dir.resolve("denoiser.pt")));
    }

    static NetworkPair loadAverage(Path dir) {
        return new NetworkPair(TrainableModule.loadAverage(dir.resolve("ema_text_encoder.pt")),
                TrainableModule.loadAverage(dir.resolve("ema_denoiser.pt")));
    }

    static void loadOptimizer(Path dir, Adam adam) {
        InputArchive archive = new InputArchive();
        archive.load_from(dir.resolve("optimizer.pt").toString());
        adam.load(archive);
    }

    static State readState(Path dir) {
        try {
            JsonObject o = JsonParser.parseString(Files.readString(dir.resolve(STATE), StandardCharsets.UTF_8))
                    .getAsJsonObject();
            return new State(o.get("step").getAsLong(), o.get("seconds").getAsDouble());
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("unreadable checkpoint state " + dir.resolve(STATE) + ": " + e, e);
        }
    }
}
