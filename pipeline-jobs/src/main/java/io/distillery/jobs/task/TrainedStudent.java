package io.distillery.jobs.task;

import io.distillery.settings.Settings;
import java.io.Serializable;
import org.apache.spark.broadcast.Broadcast;

/**
 * A trained student as the evaluate stage hands it out: its name ({@link #MAIN} or an ablation's), its bytes
 * (broadcast), their sha256, and the train settings it was trained with.
 */
public record TrainedStudent(String name, Broadcast<byte[]> model, String sha256, Settings.Train train)
    implements Serializable {
  public static final String MAIN = "student";

  public boolean main() {
    return MAIN.equals(name);
  }
}
