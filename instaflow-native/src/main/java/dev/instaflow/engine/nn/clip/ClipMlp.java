package dev.instaflow.engine.nn.clip;

import dev.instaflow.engine.nn.Activation;
import dev.instaflow.engine.nn.Linear;
import dev.instaflow.engine.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** {@code CLIPMLP}: {@code fc2(act(fc1(x)))}, {@code D → intermediate_size → D}. */
final class ClipMlp {
    private final Linear fc1;
    private final Activation activation;
    private final Linear fc2;

    private ClipMlp(Linear fc1, Activation activation, Linear fc2) {
        this.fc1 = fc1;
        this.activation = activation;
        this.fc2 = fc2;
    }

    /** From the view {@code text_model.encoder.layers.{i}.mlp}. */
    static ClipMlp load(Weights w, ClipTextConfig config) {
        return new ClipMlp(Linear.load(w.at("fc1"), config.hiddenSize(), config.intermediateSize(), true),
                config.activation(),
                Linear.load(w.at("fc2"), config.intermediateSize(), config.hiddenSize(), true));
    }

    Tensor forward(Tensor x) {
        return fc2.forward(activation.apply(fc1.forward(x)));
    }
}
