package dev.instaflow.train.training;

/**
 * The two trained networks of a model: the text encoder and the velocity network (the decoder has no weights).
 */
public record NetworkPair(TrainableModule textEncoder, TrainableModule denoiser) implements AutoCloseable {
    @Override
    public void close() {
        textEncoder.close();
        denoiser.close();
    }
}
