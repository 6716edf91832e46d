package dev.instaflow.server;

import dev.instaflow.Generation;
import dev.instaflow.GenerationRequest;
import dev.instaflow.GenerationService;
import dev.instaflow.InstaFlow;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The web page in headless Chromium (Debian's {@code chromium} and {@code chromium-driver}; no driver download):
 * type a prompt and a seed, click Generate, see the image the seed gives. Skipped where the browser is absent
 * ({@code -Dinstaflow.chromium=PATH -Dinstaflow.chromedriver=PATH} point elsewhere).
 */
@Timeout(180)
class WebPageTest {
    @TempDir
    Path profile;

    static Path executable(String property, String fallback) {
        Path path = Path.of(System.getProperty(property, fallback));
        Assumptions.assumeTrue(Files.isExecutable(path), path + " not found: install Debian's chromium and"
                + " chromium-driver (apt-get install -y chromium chromium-driver) or set -D" + property
                + "=PATH; skipping the web page test");
        return path;
    }

    @Test
    void typingAPromptAndClickingGenerateShowsTheImage() throws Exception {
        Path chromium = executable("instaflow.chromium", "/usr/bin/chromium");
        Path driverPath = executable("instaflow.chromedriver", "/usr/bin/chromedriver");
        try (InstaFlow model = TinyModel.load();
             GenerationService service = GenerationService.builder(model).build();
             Server server = new Server(model, service, Server.Options.defaults().withPort(0)).start()) {
            ChromeOptions options = new ChromeOptions();
            options.setBinary(chromium.toFile());
            // No network: no sandbox (containers), GPU, QUIC, first-run, background or component traffic.
            options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--user-data-dir=" + profile.toAbsolutePath());
            // The driver is given explicitly, so Selenium Manager (which would download one) never runs.
            ChromeDriverService driverService = new ChromeDriverService.Builder()
                    .usingDriverExecutable(driverPath.toFile()).usingAnyFreePort().build();
            WebDriver driver = new ChromeDriver(driverService, options);
            try {
                driver.get("http://127.0.0.1:" + server.port() + "/");
                assertEquals("InstaFlow", driver.getTitle());
                WebElement prompt = driver.findElement(By.id("prompt"));
                prompt.clear();
                prompt.sendKeys("a red fox");
                driver.findElement(By.id("seed")).sendKeys("7");
                driver.findElement(By.id("size")).sendKeys("32x32");
                driver.findElement(By.id("steps")).sendKeys("2");
                driver.findElement(By.id("generate")).click();
                WebElement status = driver.findElement(By.id("status"));
                long until = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (!status.getText().startsWith("Done") && !status.getAttribute("class").equals("error")
                        && System.nanoTime() < until) {
                    Thread.sleep(100);
                }
                assertTrue(status.getText().startsWith("Done"), "page status: " + status.getText());
                assertTrue(status.getText().contains("seed 7"), status.getText());
                String src = driver.findElement(By.id("result")).getAttribute("src");
                assertTrue(src.startsWith("data:image/png;base64,"), src.substring(0, Math.min(40, src.length())));
                Object width = ((JavascriptExecutor) driver).executeScript(
                        "return document.getElementById('result').naturalWidth;");
                assertEquals(32L, ((Number) width).longValue(), "the browser decoded the image");
                BufferedImage shown = ImageIO.read(new ByteArrayInputStream(
                        Base64.getDecoder().decode(src.substring(src.indexOf(',') + 1))));
                Generation alone = model.generate(GenerationRequest.builder().prompt("a red fox").seed(7)
                        .size(32, 32).steps(2).build());
                assertEquals(0, TinyModel.maxDifference(alone.image(), shown), "the page shows the seed's image");
            } finally {
                driver.quit();
            }
        }
    }
}
