package dev.instaflow.engine.snapshot;

import dev.instaflow.engine.network.DenoiserNetwork;
import dev.instaflow.engine.network.TextEncoderNetwork;
import dev.instaflow.engine.network.VaeDecoderNetwork;
import dev.instaflow.engine.network.VaeEncoderNetwork;
import dev.instaflow.engine.nn.StateDict;
import dev.instaflow.engine.nn.clip.ClipTextModel;
import dev.instaflow.engine.nn.unet.UNet2DConditionModel;
import dev.instaflow.engine.nn.vae.VaeDecoder;
import dev.instaflow.engine.nn.vae.VaeEncoder;
import dev.instaflow.engine.runtime.DeviceContext;

import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The networks of a diffusers snapshot, built in Java on LibTorch ops from its component configs and safetensors
 * weights: transformers' {@code CLIPTextModel}, diffusers' {@code UNet2DConditionModel} and {@code AutoencoderKL}
 * (decoder and encoder). Each component's weights are read straight onto the device in the model's dtype, every key
 * taken by a layer of the configured network, and any key left over refused, so a checkpoint that does not match its
 * config fails here naming the file and key. The weights are handed to the caller ({@code owner}) as they are read,
 * so a failure halfway frees what was read before it.
 *
 * @param vaeEncoder the VAE encoder (image to latent), for image-to-image
 */
public record SnapshotNetworks(TextEncoderNetwork textEncoder, DenoiserNetwork denoiser,
                               VaeDecoderNetwork vaeDecoder, VaeEncoderNetwork vaeEncoder) {
    /** transformers' file name stem for weights ({@code model.safetensors}). */
    static final String TRANSFORMERS_WEIGHTS = "model";
    /** diffusers' file name stem for weights ({@code diffusion_pytorch_model.safetensors}). */
    static final String DIFFUSERS_WEIGHTS = "diffusion_pytorch_model";

    /**
     * @param variant the weight variant to read ({@link dev.instaflow.LoadOptions#variant()})
     * @param owner   receives every weight set (a {@link StateDict}) and network as it is made; closing them frees
     *                the model
     */
    public static SnapshotNetworks load(Snapshot snapshot, Optional<String> variant, DeviceContext device,
                                        Consumer<AutoCloseable> owner) {
        SnapshotConfigs configs = snapshot.configs();

        Path textDir = snapshot.component(Snapshot.TEXT_ENCODER);
        StateDict textWeights = own(owner, ComponentWeights.load("text encoder", textDir, TRANSFORMERS_WEIGHTS,
                variant, device::prepareWeight));
        ClipTextModel text = own(owner, ClipTextModel.build(configs.textEncoder(), textWeights, textDir));
        textWeights.requireAllTaken();

        Path unetDir = snapshot.component(Snapshot.UNET);
        StateDict unetWeights = own(owner, ComponentWeights.load("unet", unetDir, DIFFUSERS_WEIGHTS, variant,
                device::prepareWeight));
        UNet2DConditionModel unet = own(owner, UNet2DConditionModel.build(configs.unet(), unetWeights, unetDir));
        unetWeights.requireAllTaken();

        Path vaeDir = snapshot.component(Snapshot.VAE);
        StateDict vaeWeights = own(owner, ComponentWeights.load("vae", vaeDir, DIFFUSERS_WEIGHTS, variant,
                device::prepareWeight));
        VaeDecoder decoder = own(owner, VaeDecoder.build(configs.vae(), vaeWeights, vaeDir));
        VaeEncoder encoder = own(owner, VaeEncoder.build(configs.vae(), vaeWeights, vaeDir));
        vaeWeights.requireAllTaken();

        return new SnapshotNetworks(text, unet, decoder, encoder);
    }

    private static <T extends AutoCloseable> T own(Consumer<AutoCloseable> owner, T resource) {
        owner.accept(resource);
        return resource;
    }
}
