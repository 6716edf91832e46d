package dev.instaflow.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * SparkSessions as this module's commands and tests make them. Under spark-submit the master and everything else
 * come from spark-submit; otherwise {@code master} (default {@code local[*]}). Local masters bind the driver to
 * the loopback address only and the web UI is off unless configured: nothing listens beyond what local mode needs.
 */
public final class Sessions {
    private Sessions() {
    }

    public static SparkSession create(String master, String appName) {
        SparkConf conf = new SparkConf();
        if (master != null) {
            conf.setMaster(master);
        } else if (!conf.contains("spark.master")) {
            conf.setMaster("local[*]");
        }
        if (conf.get("spark.master").startsWith("local")) {
            conf.set("spark.driver.host", "127.0.0.1");
            conf.set("spark.driver.bindAddress", "127.0.0.1");
            // one machine: a few shuffle partitions, not 200 near-empty tasks per shuffle
            conf.setIfMissing("spark.sql.shuffle.partitions", "8");
        }
        conf.setIfMissing("spark.ui.enabled", "false");
        conf.setIfMissing("spark.app.name", appName);
        return SparkSession.builder().config(conf).getOrCreate();
    }
}
