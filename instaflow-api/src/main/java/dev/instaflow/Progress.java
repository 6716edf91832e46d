package dev.instaflow;

/**
 * Where a generation stands, as given to a {@link ProgressListener}.
 *
 * @param stage      the stage that just finished a unit of work
 * @param step       for {@link Stage#DENOISE}, the number of sampler steps done so far (1-based); otherwise 0
 * @param totalSteps the sampler's number of steps
 */
public record Progress(Stage stage, int step, int totalSteps) {
    @Override
    public String toString() {
        return stage == Stage.DENOISE ? stage.key() + " step " + step + "/" + totalSteps : stage.key();
    }
}
