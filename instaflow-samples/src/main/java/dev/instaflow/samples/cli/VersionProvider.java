package dev.instaflow.samples.cli;

import picocli.CommandLine.IVersionProvider;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** {@code instaflow --version}: the SDK version and the LibTorch build it runs on (from the Maven build). */
final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() throws IOException {
        Properties p = new Properties();
        try (InputStream in = VersionProvider.class.getResourceAsStream("version.properties")) {
            if (in != null) {
                p.load(in);
            }
        }
        return new String[] {
            "instaflow " + p.getProperty("version", "(unknown version)"),
            "LibTorch " + p.getProperty("pytorch", "(unknown)") + " (JavaCPP presets), Java "
                    + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"};
    }
}
