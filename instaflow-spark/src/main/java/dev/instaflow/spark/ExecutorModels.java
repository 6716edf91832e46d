package dev.instaflow.spark;

import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The models of this executor JVM: each (model path, device) is loaded once, on first use by a task, and shared by
 * every later task of the JVM (Spark reuses executor JVMs across tasks and stages). All are closed when the JVM
 * shuts down.
 *
 * <p>Device {@code gpu} means "the GPU Spark gave this task" ({@code spark.task.resource.gpu.amount}): the task's
 * first {@code gpu} address {@code N} becomes {@code cuda:N}, so an executor with several GPUs holds one model per
 * GPU and each task runs on its own.
 */
final class ExecutorModels {
    private static final Map<String, SdkGenerator> MODELS = new ConcurrentHashMap<>();
    private static volatile boolean hooked;

    private ExecutorModels() {
    }

    static SdkGenerator get(String modelPath, String device) {
        String resolved = resolveDevice(device);
        String key = resolved + "|" + modelPath;
        SdkGenerator model = MODELS.get(key);
        if (model != null) {
            return model;
        }
        synchronized (MODELS) {
            installHook();
            return MODELS.computeIfAbsent(key, k -> SdkGenerator.load(Path.of(modelPath), resolved));
        }
    }

    /** How many models this JVM holds (tests). */
    static int loaded() {
        return MODELS.size();
    }

    static String resolveDevice(String device) {
        if (!"gpu".equals(device)) {
            return device;
        }
        TaskContext task = TaskContext.get();
        ResourceInformation gpu = task == null ? null : task.resourcesJMap().get("gpu");
        if (gpu == null || gpu.addresses().length == 0) {
            throw new IllegalStateException("device gpu: this task was given no GPU; set"
                    + " spark.executor.resource.gpu.amount and spark.task.resource.gpu.amount (docs/spark.md)");
        }
        return "cuda:" + gpu.addresses()[0];
    }

    private static void installHook() {
        if (hooked) {
            return;
        }
        hooked = true;
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "instaflow-spark-models"));
    }

    /** Closes every model of this JVM (the shutdown hook; tests). */
    static synchronized void closeAll() {
        for (String key : MODELS.keySet()) {
            SdkGenerator model = MODELS.remove(key);
            if (model != null) {
                model.close();
            }
        }
    }
}
