package dev.instaflow.engine.snapshot;

import dev.instaflow.engine.EntryPoint;
import dev.instaflow.engine.nn.clip.ClipTextConfig;
import dev.instaflow.engine.nn.unet.UNetConfig;
import dev.instaflow.engine.nn.vae.VaeConfig;

import java.nio.file.Path;

/**
 * The component configs of a snapshot, each read and checked by the network it describes, so a setting the built-in
 * networks do not implement fails when the snapshot is opened, before any weight is read.
 */
@EntryPoint("a snapshot's configs: the CLI's inspect")
public record SnapshotConfigs(ClipTextConfig textEncoder, UNetConfig unet, VaeConfig vae) {
    static SnapshotConfigs read(Path snapshot) {
        return new SnapshotConfigs(
                ClipTextConfig.read(snapshot.resolve(Snapshot.TEXT_ENCODER).resolve(Snapshot.CONFIG_FILE)),
                UNetConfig.read(snapshot.resolve(Snapshot.UNET).resolve(Snapshot.CONFIG_FILE)),
                VaeConfig.read(snapshot.resolve(Snapshot.VAE).resolve(Snapshot.CONFIG_FILE)));
    }
}
